//! `cargo xtask`: see the crate documentation of `xtask` (lib.rs).

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use xtask::Mode;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Reproduce the figures of the talk: theory vs simulation"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// List every figure with its title and source paper.
    List,
    /// Compute a figure and write data/<fig>.{csv,toml,svg}.
    Reproduce {
        /// Figure id (`cargo xtask list`).
        fig: String,
        /// Small run (~1 min, what CI and the snapshot tests use); writes under data/quick/.
        #[arg(long, conflicts_with = "full")]
        quick: bool,
        /// The papers' sizes; writes under data/full/.
        #[arg(long)]
        full: bool,
        /// Regenerate and compare with the committed table instead of writing it.
        #[arg(long)]
        check: bool,
        /// Worker threads (results do not depend on it).
        #[arg(long, default_value_t = default_threads(), value_parser = clap::value_parser!(u32).range(1..))]
        threads: u32,
        /// Hide progress bars.
        #[arg(long)]
        no_progress: bool,
        /// Recompute every task instead of resuming from data/.cache/ (the cache is keyed by
        /// the spec, not by the code: use this after changing an algorithm).
        #[arg(long)]
        no_cache: bool,
    },
}

fn default_threads() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = xtask::workspace_root();
    let result = match cli.cmd {
        Cmd::List => {
            for f in xtask::figure::all() {
                println!("{:<6} {}\n       {}", f.id(), f.title(), f.paper());
            }
            Ok(String::new())
        }
        Cmd::Reproduce {
            fig,
            quick,
            full,
            check,
            threads,
            no_progress,
            no_cache,
        } => {
            let mode = if quick {
                Mode::Quick
            } else if full {
                Mode::Full
            } else {
                Mode::Default
            };
            xtask::reproduce(
                &root,
                &fig,
                mode,
                check,
                threads as usize,
                !no_progress,
                !no_cache,
            )
        }
    };
    match result {
        Ok(msg) => {
            if !msg.is_empty() {
                println!("{msg}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
