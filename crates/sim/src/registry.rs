//! The figure registry: every figure of the talk is a spec file `papers/<id>.toml` read by an
//! experiment type; its identity ([`Identity`]: id, title, source, claim) is data of this
//! table, so one type serves several figures (fig6 and fig7 are two specs of
//! [`Dynamics`]). [`Figure`] erases the types for the front ends (xtask, python), which
//! hold only files, arguments and rendering.

use crate::experiment::{Experiment, Headline, Mode, View};
use crate::figs::{
    dynamics::Spec as Dynamics, fig1::Fig1, fig2::Fig2, fig3::Fig3, fig4::Fig4, fig5::Fig5,
    fig8::Fig8,
};
use crate::{CacheOptions, Error, Findings, Local, Plot, Run, Shard, ShardRun};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// Who a figure is: its id (the name of its spec, `papers/<id>.toml`, and of its outputs
/// `data/<id>.*`; it also enters every task key), a one-line title, the source paper(s) and
/// the talk's claim it tests, in one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub id: &'static str,
    pub title: &'static str,
    pub paper: &'static str,
    pub claim: &'static str,
}

/// Every figure, in talk order.
static FIGURES: [&dyn Figure; 8] = [
    &Fig::<Fig1>::new(Identity {
        id: "fig1",
        title: "Spherical perceptron: Bayes-optimal classification error vs alpha, GAMP",
        paper: "Barbier, Krzakala, Macris, Miolane, Zdeborová, PNAS 2019 (arXiv:1708.03395); Gardner, Derrida 1989",
        claim: "The Bayes-optimal classification error of the spherical perceptron decays as ≈ 0.4417/α at large α, and GAMP attains it at finite d.",
    }),
    &Fig::<Fig2>::new(Identity {
        id: "fig2",
        title: "Spherical perceptron: Bayes-optimal vs optimally regularised logistic, ridge and hinge ERM, and max-margin",
        paper: "[AKLZ20] Aubin, Krzakala, Lu, Zdeborova, NeurIPS 2020, arXiv:2006.06560",
        claim: "Optimally regularised logistic regression is within a hair (~10⁻⁴) of the Bayes-optimal error; ridge and hinge do worse, and max-margin decays as ≈ 0.50/α.",
    }),
    &Fig::<Fig3>::new(Identity {
        id: "fig3",
        title: "Optimal phase retrieval: MMSE and AMP error vs alpha, alpha_IT and alpha_AMP",
        paper: "Barbier, Krzakala, Macris, Miolane, Zdeborová, PNAS 2019 (arXiv:1708.03395)",
        claim: "Phase retrieval with a Gaussian prior is information-theoretically possible from α_IT = 1, but AMP (the best known polynomial algorithm) needs α_AMP ≈ 1.13: a hard phase in between.",
    }),
    &Fig::<Fig4>::new(Identity {
        id: "fig4",
        title: "Gradient descent on phase retrieval: success probability vs alpha for several d",
        paper: "Sarao Mannelli, Biroli, Cammarota, Krzakala, Urbani, Zdeborová, NeurIPS 2020 (arXiv:2006.06997)",
        claim: "Gradient descent from a random start recovers the phase only at α ≈ 7, far above the AMP threshold α_AMP ≈ 1.13.",
    }),
    &Fig::<Fig5>::new(Identity {
        id: "fig5",
        title: "Over-parametrised two-layer GD on phase retrieval: success vs alpha for several widths m",
        paper: "Sarao Mannelli, Vanden-Eijnden, Zdeborová, NeurIPS 2020 (arXiv:2006.15459)",
        claim: "Over-parametrised (m ≥ d) two-layer networks trained by GD recover the signal from α = 2 samples per dimension (theorem, d → ∞), where a single unit (m = 1) needs more.",
    }),
    &Fig::<Dynamics>::new(Identity {
        id: "fig6",
        title: "Phase retrieval, informed start: DMFT vs simulation of GD, SGD and persistent SGD",
        paper: "Mignacco, Urbani, Zdeborová, MLST 2021 (arXiv:2103.04902)",
        claim: "From an informed start, DMFT predicts m(t) of GD, SGD and persistent SGD at finite d, and persistent SGD gets closer to the signal than GD or SGD.",
    }),
    &Fig::<Dynamics>::new(Identity {
        id: "fig7",
        title: "Phase retrieval, random start: DMFT vs simulation of GD, SGD and persistent SGD",
        paper: "Mignacco, Urbani, Zdeborová, MLST 2021 (arXiv:2103.04902)",
        claim: "From a random start, persistent SGD escapes m ≈ 0 and recovers the signal where GD and SGD stay stuck; DMFT describes the dynamics.",
    }),
    &Fig::<Fig8>::new(Identity {
        id: "fig8",
        title: "Phase retrieval from a random start: success of GD, SGD and persistent SGD vs alpha",
        paper: "Mignacco, Urbani, Zdeborová, MLST 2021 (arXiv:2103.04902); Mignacco, Krzakala, Urbani, Zdeborová, NeurIPS 2020 (arXiv:2006.06098)",
        claim: "From a random start, persistent SGD recovers the phase from fewer samples than GD and SGD: its success curve lies to the left.",
    }),
];

/// Every figure, in talk order.
pub fn all() -> &'static [&'static dyn Figure] {
    &FIGURES
}

/// Look a figure up by id; the error lists the valid ids.
pub fn find(id: &str) -> Result<&'static dyn Figure, Error> {
    all().iter().find(|f| f.id() == id).copied().ok_or_else(|| {
        let ids: Vec<&str> = all().iter().map(|f| f.id()).collect();
        Error::Spec(format!(
            "unknown figure `{id}`: expected one of {}",
            ids.join(", ")
        ))
    })
}

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

impl Ctx {
    /// The context of a run of `id` under the repository `root`: reads `papers/<id>.toml`;
    /// `cache` enables `data/.cache/<id>-<mode>`.
    pub fn new(
        root: &Path,
        id: &str,
        mode: Mode,
        threads: usize,
        progress: bool,
        cache: bool,
    ) -> Result<Self, Error> {
        let spec_path = root.join("papers").join(format!("{id}.toml"));
        let spec_text = std::fs::read_to_string(&spec_path).map_err(|source| Error::Io {
            path: spec_path.clone(),
            source,
        })?;
        Ok(Self {
            mode,
            threads,
            progress,
            spec_path,
            spec_text,
            cache_dir: cache.then(|| {
                root.join("data")
                    .join(".cache")
                    .join(format!("{id}-{}", mode.name()))
            }),
        })
    }
    /// Before a `--full` run: one line on stderr with the estimated core-hours, if the
    /// figure has a cost model.
    fn announce_cost<E: Experiment>(&self, id: &str, exp: &E) -> Result<(), Error> {
        if self.mode == Mode::Full
            && let Some(h) = crate::estimated_core_hours(exp, self.mode)?
        {
            eprintln!("{id}: --full: estimated {h:.1} core-hours");
        }
        Ok(())
    }
    fn executor(&self) -> Local {
        crate::kit::set_verbose(self.progress);
        Local {
            threads: self.threads,
            progress: self.progress,
        }
    }
}

/// Output directory for a mode: `data/` for the default run, `data/quick/`, `data/full/`.
pub fn data_dir(root: &Path, mode: Mode) -> PathBuf {
    match mode {
        Mode::Default => root.join("data"),
        m => root.join("data").join(m.name()),
    }
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

/// A reproducible figure, type-erased.
pub trait Figure: Sync {
    /// Who the figure is.
    fn identity(&self) -> &Identity;
    /// Its id (`fig1`, …).
    fn id(&self) -> &'static str {
        self.identity().id
    }
    /// Parse the spec, run, and erase the types.
    fn compute(&self, ctx: &Ctx) -> Result<Output, Error>;
    /// Run only `shard`, appending its records under `dir`.
    fn shard(&self, ctx: &Ctx, shard: Shard, dir: &Path) -> Result<ShardRun, Error>;
    /// Build the output from the shard records under `dir` (nothing is computed).
    fn merge(&self, ctx: &Ctx, dir: &Path) -> Result<Output, Error>;
    /// The plot (title `<id> · …`) from a table (CSV text) and its summary (TOML text), as
    /// written by `reproduce`: nothing is recomputed.
    fn plot(&self, ctx: &Ctx, csv: &str, summary: &str) -> Result<Plot, Error>;
    /// The findings (numbers, agreement, verdict) from the same files.
    fn findings(&self, ctx: &Ctx, csv: &str, summary: &str) -> Result<Findings, Error>;
}

/// Compute figure `id` in memory from `papers/<id>.toml` under `root`; returns the context,
/// the output and the wall seconds.
pub fn compute(
    root: &Path,
    id: &str,
    mode: Mode,
    threads: usize,
    progress: bool,
    cache: bool,
) -> Result<(Ctx, Output, f64), Error> {
    let fig = find(id)?;
    let ctx = Ctx::new(root, id, mode, threads, progress, cache)?;
    let t0 = std::time::Instant::now();
    let out = fig.compute(&ctx)?;
    Ok((ctx, out, t0.elapsed().as_secs_f64()))
}

/// An experiment type under one identity.
struct Fig<E> {
    who: Identity,
    kind: PhantomData<fn() -> E>,
}

impl<E> Fig<E> {
    const fn new(who: Identity) -> Self {
        Self {
            who,
            kind: PhantomData,
        }
    }
    fn spec(&self, ctx: &Ctx) -> Result<E, Error>
    where
        E: DeserializeOwned,
    {
        parse_toml(&ctx.spec_path, &ctx.spec_text)
    }
    /// The typed rows of a table and the digest of a summary.
    fn read(&self, csv_text: &str, summary: &str) -> Result<(Vec<E::Row>, E::Digest), Error>
    where
        E: View,
    {
        let id = self.who.id;
        let rows = crate::table::read(csv_text).map_err(|e| Error::Spec(format!("{id} {e}")))?;
        let digest = toml::from_str(summary).map_err(|e| {
            Error::Spec(format!("{id} summary: {}", e.message().replace('\n', " ")))
        })?;
        Ok((rows, digest))
    }
}

/// The type-erased output of a run.
fn erase<E: Experiment>(run: Run<E>) -> Result<Output, Error> {
    let r = run.report;
    Ok(Output {
        table: crate::check::table(&r.rows)?,
        summary: toml::Table::try_from(&r.summary).map_err(|e| Error::Spec(e.to_string()))?,
        headline: r.headline,
        check_rel_tol: r.check_rel_tol,
        tasks: run.tasks,
        computed: run.computed,
        cached: run.cached,
        failed: run.failed,
        task_seconds: run.task_seconds,
    })
}

impl<E: View> Figure for Fig<E> {
    fn identity(&self) -> &Identity {
        &self.who
    }
    fn compute(&self, ctx: &Ctx) -> Result<Output, Error> {
        let exp = self.spec(ctx)?;
        let cache = CacheOptions {
            dir: ctx.cache_dir.clone(),
        };
        ctx.announce_cost(self.who.id, &exp)?;
        erase(crate::run(
            self.who.id,
            &exp,
            ctx.mode,
            &ctx.executor(),
            &cache,
        )?)
    }
    fn shard(&self, ctx: &Ctx, shard: Shard, dir: &Path) -> Result<ShardRun, Error> {
        let exp = self.spec(ctx)?;
        ctx.announce_cost(self.who.id, &exp)?;
        crate::run_shard(self.who.id, &exp, ctx.mode, &ctx.executor(), dir, shard)
    }
    fn merge(&self, ctx: &Ctx, dir: &Path) -> Result<Output, Error> {
        erase(crate::merge(self.who.id, &self.spec(ctx)?, ctx.mode, dir)?)
    }
    fn plot(&self, ctx: &Ctx, csv: &str, summary: &str) -> Result<Plot, Error> {
        let (rows, digest) = self.read(csv, summary)?;
        let mut plot = self
            .spec(ctx)?
            .plot(ctx.mode, &rows, &digest)
            .map_err(|e| Error::Spec(format!("{} plot: {e}", self.who.id)))?;
        plot.title = format!("{} · {}", self.who.id, plot.title);
        Ok(plot)
    }
    fn findings(&self, ctx: &Ctx, csv: &str, summary: &str) -> Result<Findings, Error> {
        let (rows, digest) = self.read(csv, summary)?;
        self.spec(ctx)?
            .findings(ctx.mode, &rows, &digest)
            .map_err(|e| Error::Spec(format!("{} findings: {e}", self.who.id)))
    }
}

/// Parse TOML text with a one-line error `path:line: message`.
pub fn parse_toml<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, Error> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        let msg = e.message().replace('\n', " ");
        Error::Spec(match line {
            Some(l) => format!("{}:{l}: {msg}", path.display()),
            None => format!("{}: {msg}", path.display()),
        })
    })
}
