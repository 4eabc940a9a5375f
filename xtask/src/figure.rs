//! The figure registry: every [`Experiment`] of `gardner_sim::figs` behind one object-safe
//! trait, and the type-erased output the front end writes.

use gardner_sim::experiment::Headline;
use gardner_sim::figs::{
    fig1::Fig1, fig2::Fig2, fig3::Fig3, fig4::Fig4, fig5::Fig5, fig6::Fig6, fig7::Fig7, fig8::Fig8,
};
use gardner_sim::{
    CacheOptions, Experiment, Findings, Local, Mode, Plot, Run, Shard, ShardRun, View,
};
use serde::de::DeserializeOwned;
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// One-line error of the xtask (printed as `error: …`, exit code 1).
#[derive(Debug)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// Build an [`Error`] from anything displayable.
pub fn err(msg: impl fmt::Display) -> Error {
    Error(msg.to_string())
}

macro_rules! from_display {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self { Error(e.to_string()) }
        }
    )*};
}
from_display!(
    std::io::Error,
    csv::Error,
    toml::ser::Error,
    gardner_sim::Error,
    String
);

/// Result of the xtask.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything a run may use.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub mode: Mode,
    /// Worker threads (results do not depend on it).
    pub threads: usize,
    /// Show progress.
    pub progress: bool,
    /// `papers/<id>.toml` and its text.
    pub spec_path: PathBuf,
    pub spec_text: String,
    /// Result cache directory (`data/.cache/<id>-<mode>`); `None`: recompute everything.
    pub cache_dir: Option<PathBuf>,
}

/// A table as text cells (what the CSV holds).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// What a figure's run returns, type-erased.
#[derive(Debug, Clone)]
pub struct Output {
    pub table: Table,
    /// The figure's summary tables (TOML body without provenance).
    pub summary: toml::Table,
    pub headline: Vec<Headline>,
    pub check_rel_tol: f64,
    /// Tasks planned / computed now / read from the cache / failed.
    pub tasks: usize,
    pub computed: usize,
    pub cached: usize,
    pub failed: usize,
    /// Sum of the tasks' wall times, cached ones included.
    pub task_seconds: f64,
}

/// A reproducible figure.
pub trait Figure: Sync {
    fn id(&self) -> &'static str;
    fn title(&self) -> &'static str;
    fn paper(&self) -> &'static str;
    /// The talk's claim the figure tests, in one line.
    fn claim(&self) -> &'static str;
    /// Parse the spec, run, and erase the types.
    fn compute(&self, ctx: &Ctx) -> Result<Output>;
    /// Run only `shard`, appending its records under `dir`.
    fn shard(&self, ctx: &Ctx, shard: Shard, dir: &Path) -> Result<ShardRun>;
    /// Build the output from the shard records under `dir` (nothing is computed).
    fn merge(&self, ctx: &Ctx, dir: &Path) -> Result<Output>;
    /// The plot from a table (CSV text) and its summary (TOML text), as written by
    /// `reproduce`: nothing is recomputed.
    fn plot(&self, ctx: &Ctx, csv: &str, summary: &str) -> Result<Plot>;
    /// The findings (numbers, agreement, verdict) from the same files.
    fn findings(&self, ctx: &Ctx, csv: &str, summary: &str) -> Result<Findings>;
}

/// Typed rows of a table (CSV text with the header of `E::Row`).
fn read_rows<E: Experiment>(csv_text: &str) -> Result<Vec<E::Row>> {
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    rd.deserialize()
        .enumerate()
        .map(|(i, r)| r.map_err(|e| err(format!("{} table row {}: {e}", E::ID, i + 1))))
        .collect()
}

/// The digest of a summary (TOML text).
fn read_digest<E: View>(summary: &str) -> Result<E::Digest> {
    toml::from_str(summary).map_err(|e| {
        err(format!(
            "{} summary: {}",
            E::ID,
            e.message().replace('\n', " ")
        ))
    })
}

/// The type-erased output of a run.
fn erase<E: Experiment>(run: Run<E>) -> Result<Output> {
    let r = run.report;
    Ok(Output {
        table: crate::output::table(&r.rows)?,
        summary: toml::Table::try_from(&r.summary)?,
        headline: r.headline,
        check_rel_tol: r.check_rel_tol,
        tasks: run.tasks,
        computed: run.computed,
        cached: run.cached,
        failed: run.failed,
        task_seconds: run.task_seconds,
    })
}

impl Ctx {
    /// Before a `--full` run: one line on stderr with the estimated core-hours, if the
    /// figure has a cost model.
    fn announce_cost<E: Experiment>(&self, exp: &E) -> Result<()> {
        if self.mode == Mode::Full
            && let Some(h) = gardner_sim::estimated_core_hours(exp, self.mode)?
        {
            eprintln!("{}: --full: estimated {h:.1} core-hours", E::ID);
        }
        Ok(())
    }
    fn executor(&self) -> Local {
        gardner_sim::figs::set_verbose(self.progress);
        Local {
            threads: self.threads,
            progress: self.progress,
        }
    }
}

struct Fig<E>(PhantomData<fn() -> E>);

impl<E: View> Figure for Fig<E> {
    fn id(&self) -> &'static str {
        E::ID
    }
    fn title(&self) -> &'static str {
        E::TITLE
    }
    fn paper(&self) -> &'static str {
        E::PAPER
    }
    fn claim(&self) -> &'static str {
        E::CLAIM
    }
    fn compute(&self, ctx: &Ctx) -> Result<Output> {
        let exp: E = parse_toml(&ctx.spec_path, &ctx.spec_text)?;
        let cache = CacheOptions {
            dir: ctx.cache_dir.clone(),
        };
        ctx.announce_cost(&exp)?;
        erase(gardner_sim::run(&exp, ctx.mode, &ctx.executor(), &cache)?)
    }
    fn shard(&self, ctx: &Ctx, shard: Shard, dir: &Path) -> Result<ShardRun> {
        let exp: E = parse_toml(&ctx.spec_path, &ctx.spec_text)?;
        ctx.announce_cost(&exp)?;
        Ok(gardner_sim::run_shard(
            &exp,
            ctx.mode,
            &ctx.executor(),
            dir,
            shard,
        )?)
    }
    fn merge(&self, ctx: &Ctx, dir: &Path) -> Result<Output> {
        let exp: E = parse_toml(&ctx.spec_path, &ctx.spec_text)?;
        erase(gardner_sim::merge(&exp, ctx.mode, dir)?)
    }
    fn plot(&self, ctx: &Ctx, csv: &str, summary: &str) -> Result<Plot> {
        let exp: E = parse_toml(&ctx.spec_path, &ctx.spec_text)?;
        let rows = read_rows::<E>(csv)?;
        let digest = read_digest::<E>(summary)?;
        exp.plot(ctx.mode, &rows, &digest)
            .map_err(|e| err(format!("{} plot: {e}", E::ID)))
    }
    fn findings(&self, ctx: &Ctx, csv: &str, summary: &str) -> Result<Findings> {
        let exp: E = parse_toml(&ctx.spec_path, &ctx.spec_text)?;
        let rows = read_rows::<E>(csv)?;
        let digest = read_digest::<E>(summary)?;
        exp.findings(ctx.mode, &rows, &digest)
            .map_err(|e| err(format!("{} findings: {e}", E::ID)))
    }
}

/// Every figure, in talk order.
pub fn all() -> Vec<&'static dyn Figure> {
    vec![
        &Fig::<Fig1>(PhantomData),
        &Fig::<Fig2>(PhantomData),
        &Fig::<Fig3>(PhantomData),
        &Fig::<Fig4>(PhantomData),
        &Fig::<Fig5>(PhantomData),
        &Fig::<Fig6>(PhantomData),
        &Fig::<Fig7>(PhantomData),
        &Fig::<Fig8>(PhantomData),
    ]
}

/// Parse TOML text with a one-line error `path:line: message`.
pub fn parse_toml<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        let msg = e.message().replace('\n', " ");
        match line {
            Some(l) => err(format!("{}:{l}: {msg}", path.display())),
            None => err(format!("{}: {msg}", path.display())),
        }
    })
}
