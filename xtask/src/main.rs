//! `cargo xtask`: see the crate documentation of `xtask` (lib.rs).

use clap::{Args, Parser, Subcommand};
use std::process::ExitCode;
use xtask::{Mode, Shard};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Reproduce the figures of the talk: theory vs simulation"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// `--quick` / `--full` (default: the paper-quality default run).
#[derive(Args)]
struct Size {
    /// Small run (~1 min, what CI and the snapshot tests use); writes under data/quick/.
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// The papers' sizes; writes under data/full/.
    #[arg(long)]
    full: bool,
}

impl Size {
    fn mode(&self) -> Mode {
        if self.quick {
            Mode::Quick
        } else if self.full {
            Mode::Full
        } else {
            Mode::Default
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// List every figure with its title and source paper.
    List,
    /// Compute a figure and write data/<fig>.{csv,toml,svg,png}.
    Reproduce {
        /// Figure id (`cargo xtask list`).
        fig: String,
        #[command(flatten)]
        size: Size,
        /// Regenerate and compare with the committed table and headline numbers instead of
        /// writing them.
        #[arg(long, conflicts_with = "shard")]
        check: bool,
        /// Run only shard K of N (1 <= K <= N) into data/.shards/; then `merge`.
        #[arg(long, value_name = "K/N")]
        shard: Option<Shard>,
        /// Worker threads (results do not depend on it).
        #[arg(long, default_value_t = default_threads(), value_parser = clap::value_parser!(u32).range(1..))]
        threads: u32,
        /// Hide progress bars.
        #[arg(long)]
        no_progress: bool,
        /// Recompute every task instead of reusing data/.cache/ (results of other code or
        /// another spec are never reused anyway).
        #[arg(long)]
        no_cache: bool,
    },
    /// Solve one DMFT case (a TOML config) and print or write the CSV
    /// `time,m,q,train_loss,gen_error,m_stderr,q_stderr,train_loss_stderr,status`; a run that
    /// diverges prints its rows, then the failure as the error, and exits non-zero.
    Dmft {
        /// The config (keys: loss, alpha, regularisation, m0, q0, algorithm, times, method;
        /// optional dt, particles, seed, replicas, checkpoint, checkpoint_every; see the README).
        config: std::path::PathBuf,
        /// Write the CSV here instead of printing it.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Simulate one DMFT case (the same TOML config) at finite d: the config's algorithm on
    /// `seeds` teacher–student instances, the mean and standard error over seeds at each time,
    /// in the columns of `dmft` (theory and simulation of one case side by side).
    Simulate {
        /// The config of `cargo xtask dmft` (numerics keys such as particles are ignored).
        config: std::path::PathBuf,
        /// Dimension d.
        #[arg(long, default_value_t = 1000)]
        d: usize,
        /// Independent instances (seeds seed, seed + 1, … of the config's `seed`, default 0).
        #[arg(long, default_value_t = 8)]
        seeds: usize,
        /// Threads (the table is the same for any count; default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Write the CSV here instead of printing it.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Rebuild data/<fig>.{svg,png} from the committed CSV and TOML (nothing is computed);
    /// without a figure id, every figure with committed files in that mode.
    Render {
        /// Figure id (`cargo xtask list`); all when absent.
        fig: Option<String>,
        #[command(flatten)]
        size: Size,
    },
    /// Write data/README.md, the results page (claim, numbers, agreement, verdict and
    /// provenance of every figure), from the committed data/<fig>.{csv,toml}.
    Report {
        /// Verify that data/README.md is what the committed data give; write nothing.
        #[arg(long)]
        check: bool,
    },
    /// Build data/<fig>.{csv,toml,svg,png} from the shards' results (nothing is computed).
    Merge {
        fig: String,
        #[command(flatten)]
        size: Size,
    },
    /// Write an sbatch job array over N shards and a dependent merge job (target/slurm/).
    Slurm {
        fig: String,
        #[command(flatten)]
        size: Size,
        /// Number of shards (array tasks).
        #[arg(long)]
        array: usize,
        #[arg(long)]
        partition: Option<String>,
        /// Wall-time limit per array task, e.g. 02:00:00.
        #[arg(long)]
        time: Option<String>,
        #[arg(long, default_value_t = 1)]
        cpus_per_task: usize,
        /// Memory per array task, e.g. 4G.
        #[arg(long)]
        mem: Option<String>,
        /// Submit both jobs with sbatch.
        #[arg(long)]
        submit: bool,
    },
}

fn default_threads() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
}

fn run(cmd: Cmd) -> xtask::figure::Result<String> {
    let root = xtask::workspace_root();
    match cmd {
        Cmd::List => Ok(xtask::figure::all()
            .iter()
            .map(|f| {
                format!(
                    "{:<6} {}\n       {}",
                    f.id(),
                    f.identity().title,
                    f.identity().paper
                )
            })
            .collect::<Vec<_>>()
            .join("\n")),
        Cmd::Reproduce {
            fig,
            size,
            check,
            shard,
            threads,
            no_progress,
            no_cache,
        } => match shard {
            Some(s) => {
                xtask::reproduce_shard(&root, &fig, size.mode(), s, threads as usize, !no_progress)
            }
            None => xtask::reproduce(
                &root,
                &fig,
                size.mode(),
                check,
                threads as usize,
                !no_progress,
                !no_cache,
            ),
        },
        Cmd::Merge { fig, size } => xtask::merge(&root, &fig, size.mode()),
        Cmd::Render { fig, size } => xtask::render(&root, fig.as_deref(), size.mode()),
        Cmd::Report { check } => xtask::report::report(&root, check),
        Cmd::Simulate {
            config,
            d,
            seeds,
            threads,
            out,
        } => {
            let csv = xtask::simulate(&config, d, seeds, threads)?;
            match &out {
                Some(p) => {
                    std::fs::write(p, &csv)
                        .map_err(|e| xtask::figure::err(format!("{}: {e}", p.display())))?;
                    Ok(format!("wrote {}", p.display()))
                }
                None => Ok(csv.trim_end().to_string()),
            }
        }
        Cmd::Dmft { config, out } => {
            let (csv, failure) = xtask::dmft(&config)?;
            let msg = match &out {
                Some(p) => {
                    std::fs::write(p, &csv)
                        .map_err(|e| xtask::figure::err(format!("{}: {e}", p.display())))?;
                    format!("wrote {}", p.display())
                }
                None => csv.trim_end().to_string(),
            };
            match failure {
                // the rows (or "wrote …") on stdout, then the failure alone as the error
                Some(f) => {
                    println!("{msg}");
                    Err(xtask::figure::err(f))
                }
                None => Ok(msg),
            }
        }
        Cmd::Slurm {
            fig,
            size,
            array,
            partition,
            time,
            cpus_per_task,
            mem,
            submit,
        } => {
            xtask::find(&fig)?;
            let o = xtask::slurm::Options {
                array,
                partition,
                time,
                cpus_per_task,
                mem,
            };
            let (a, m) = xtask::slurm::write(&root, &fig, size.mode(), &o)?;
            if submit {
                let (ja, jm) = xtask::slurm::submit(&a, &m)?;
                Ok(format!(
                    "submitted array job {ja} and merge job {jm} (afterok:{ja})"
                ))
            } else {
                Ok(format!(
                    "wrote {} and {}\nsubmit with:\n  jid=$(sbatch --parsable {})\n  sbatch --dependency=afterok:$jid {}",
                    a.display(),
                    m.display(),
                    a.display(),
                    m.display()
                ))
            }
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse().cmd) {
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
