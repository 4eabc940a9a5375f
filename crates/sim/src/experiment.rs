//! What an experiment is: a typed, validated spec that plans tasks (point × seed), runs one
//! task on its random stream, and turns the theory and the aggregated simulations into typed
//! rows, a typed summary and, from those alone, a plot and its findings.
//!
//! The spec *is* the experiment: `papers/<id>.toml` deserialises (with
//! `deny_unknown_fields`, through the models' validating constructors) into a type that
//! implements [`Experiment`]. Rows are structs deriving `Serialize`: the CSV header comes
//! from the field names, so a misspelt column does not compile; plots read fields through
//! closures over rows ([`crate::plot::Series`]). The plot and the findings are functions of
//! the rows and a typed subset of the summary (the [`View::Digest`]), so both can be
//! rebuilt from the committed `data/<id>.csv` and `data/<id>.toml` without recomputing.

use crate::Error;
use crate::findings::Findings;
use crate::plot::Plot;
use crate::stats::Stat;
use crate::table::Status;
use gardner_models::rng::Rng;
use gardner_models::run::Termination;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;

/// Size of a run: `Quick` (about a minute, CI and snapshots), `Default` (paper quality in
/// minutes), `Full` (the papers' sizes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Quick,
    Default,
    Full,
}

impl Mode {
    /// `quick`, `default` or `full` (the spec section and the output sub-directory).
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Quick => "quick",
            Mode::Default => "default",
            Mode::Full => "full",
        }
    }
}

/// One value per run size: the spec's `[quick]`, `[default]` and `[full]` sections
/// (`#[serde(flatten)]` in a spec, so the sections keep their names).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sizes<T> {
    pub quick: T,
    pub default: T,
    pub full: T,
}

impl<T> Sizes<T> {
    /// The section of `mode`.
    pub fn pick(&self, mode: Mode) -> &T {
        match mode {
            Mode::Quick => &self.quick,
            Mode::Default => &self.default,
            Mode::Full => &self.full,
        }
    }
}

/// The simulation tasks of a run: every point × `seeds` seed indices. `context` is what every
/// task's computation depends on besides its point (model, algorithm settings, base seed):
/// it enters each task's key, and must not contain the list of points.
#[derive(Debug, Clone)]
pub struct Plan<P> {
    pub points: Vec<P>,
    pub seeds: usize,
    pub context: serde_json::Value,
}

impl<P> Plan<P> {
    /// A plan; `context` is serialised to JSON.
    pub fn new(points: Vec<P>, seeds: usize, context: &impl Serialize) -> Result<Self, Error> {
        let context = serde_json::to_value(context).map_err(|e| Error::Spec(e.to_string()))?;
        Ok(Self {
            points,
            seeds,
            context,
        })
    }
    /// No simulation (a theory-only figure).
    pub fn none() -> Self {
        Self {
            points: Vec::new(),
            seeds: 0,
            context: serde_json::Value::Null,
        }
    }
}

/// A reproducible figure: theory beside simulation.
pub trait Experiment: Serialize + DeserializeOwned + Sync {
    /// A simulation point (everything a task needs besides its seed).
    type Point: Serialize + Clone + Debug + Send + Sync;
    /// One task's observation.
    type Obs: Serialize + DeserializeOwned + Send;
    /// One CSV row (field names are the header, in order; read back from the CSV to plot).
    type Row: Serialize + DeserializeOwned;
    /// Figure-specific summary tables (the TOML's body besides provenance).
    type Summary: Serialize;

    /// The tasks of `mode`.
    fn plan(&self, mode: Mode) -> Result<Plan<Self::Point>, Error>;
    /// Peak memory of one task at `point`, in bytes (an estimate, checked before running).
    fn task_bytes(&self, point: &Self::Point) -> u64;
    /// Relative cost of a task at `point`, to balance shards (default: its memory, ∝ n·d).
    fn task_cost(&self, point: &Self::Point) -> f64 {
        self.task_bytes(point) as f64
    }
    /// Calibrated wall seconds of one task on one core at `point`, if the experiment has a cost
    /// model (the core-hours estimate printed before a `--full` run).
    fn task_seconds_estimate(&self, _point: &Self::Point) -> Option<f64> {
        None
    }
    /// Run one task on its stream (an error is the task's `failed: …` reason).
    fn run(&self, point: &Self::Point, rng: &mut Rng) -> Result<(Self::Obs, Termination), Error>;
    /// Theory and aggregated simulations → rows, summary, headline numbers.
    fn report(&self, mode: Mode, sims: &Sims<Self>) -> Result<Report<Self>, Error>;
}

/// How a figure is shown (the modules of [`crate::views`]): a plot and findings from its
/// committed rows and summary alone, so both can be rebuilt without recomputing.
pub trait View: Experiment {
    /// What the plot and the findings read from the summary document (`data/<id>.toml`:
    /// `[headline]` and the summary tables); a subset, unknown keys ignored.
    type Digest: DeserializeOwned;

    /// The figure, from the rows and the digest of the summary (nothing is recomputed).
    fn plot(&self, mode: Mode, rows: &[Self::Row], digest: &Self::Digest) -> Result<Plot, Error>;
    /// Headline numbers, agreement and the verdict against the figure's claim ([`crate::registry::Identity::claim`]), by the
    /// figure's rule, from the rows and the digest.
    fn findings(
        &self,
        mode: Mode,
        rows: &[Self::Row],
        digest: &Self::Digest,
    ) -> Result<Findings, Error>;
}

/// The simulations of one point: one result per seed, in seed order.
pub struct PointSims<E: Experiment> {
    pub point: E::Point,
    pub tasks: Vec<Result<(E::Obs, Termination), String>>,
}

impl<E: Experiment> PointSims<E> {
    /// Observations of the tasks that did not fail, with their termination.
    pub fn done(&self) -> impl Iterator<Item = (&E::Obs, &Termination)> {
        self.tasks
            .iter()
            .filter_map(|t| t.as_ref().ok().map(|(o, s)| (o, s)))
    }
    /// Mean and standard error of `f` over the seeds that did not fail.
    pub fn stat(&self, f: impl Fn(&E::Obs) -> f64) -> Stat {
        Stat::of(&self.done().map(|(o, _)| f(o)).collect::<Vec<_>>())
    }
    /// `ok`, `not_converged: k/n seeds`, or `failed: k/n seeds: first reason` (failures first).
    pub fn status(&self) -> Status {
        let n = self.tasks.len();
        let failed: Vec<&String> = self.tasks.iter().filter_map(|t| t.as_ref().err()).collect();
        if let Some(first) = failed.first() {
            return Status::failed(format!("{}/{n} seeds: {first}", failed.len()));
        }
        match self.done().filter(|(_, t)| !t.converged()).count() {
            0 => Status::OK,
            nc => Status::note(format!("not_converged: {nc}/{n} seeds")),
        }
    }
}

/// Every point's simulations, in plan order, and what the run cost.
pub struct Sims<E: Experiment> {
    pub points: Vec<PointSims<E>>,
    /// Tasks computed in this run / read from the cache.
    pub computed: usize,
    pub cached: usize,
    /// Sum of the tasks' wall times (cached ones included): the compute cost of the table.
    pub task_seconds: f64,
}

impl<E: Experiment> Sims<E> {
    /// The first point satisfying `pred`.
    pub fn find(&self, pred: impl Fn(&E::Point) -> bool) -> Option<&PointSims<E>> {
        self.points.iter().find(|p| pred(&p.point))
    }
    /// Number of failed tasks.
    pub fn failed(&self) -> usize {
        self.points
            .iter()
            .flat_map(|p| &p.tasks)
            .filter(|t| t.is_err())
            .count()
    }
}

/// A headline number of the summary, compared by `--check` within `abs_tol`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Headline {
    pub name: String,
    pub value: f64,
    pub abs_tol: f64,
}

impl Headline {
    /// A headline number.
    pub fn new(name: impl Into<String>, value: f64, abs_tol: f64) -> Self {
        Self {
            name: name.into(),
            value,
            abs_tol,
        }
    }
}

/// What an experiment's report returns.
pub struct Report<E: Experiment> {
    /// `data/<id>.csv`, one row per point, theory and simulation side by side.
    pub rows: Vec<E::Row>,
    /// Figure-specific tables of `data/<id>.toml`.
    pub summary: E::Summary,
    /// `[headline]` of `data/<id>.toml`, compared by `--check`.
    pub headline: Vec<Headline>,
    /// Relative tolerance of `--check` on numeric cells (absolute floor 1e-12).
    pub check_rel_tol: f64,
}

/// `[agreement]`: deviation of simulation from theory in units of σ = max(standard error,
/// `resolution`), over points with a finite theory value and mean and a positive standard
/// error. `resolution` is the smallest difference the simulation resolves (e.g. set by its
/// convergence tolerance): at perfect recovery seeds agree to 1e-10 and a residual of 1e-9
/// would otherwise count as "20 standard errors".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    pub compared: String,
    pub points: usize,
    pub max_dev_in_stderr: f64,
    pub mean_dev_in_stderr: f64,
    pub max_abs_dev: f64,
    pub resolution: f64,
}

impl Agreement {
    /// Agreement of (theory, simulation stat) pairs.
    pub fn of(
        compared: &str,
        pairs: impl IntoIterator<Item = (f64, Stat)>,
        resolution: f64,
    ) -> Self {
        let (mut devs, mut max_abs) = (Vec::new(), 0.0f64);
        for (theory, s) in pairs {
            if let Some(dev) = Self::deviation(theory, s, resolution) {
                devs.push(dev);
                max_abs = max_abs.max((theory - s.mean).abs());
            }
        }
        Self {
            compared: compared.into(),
            points: devs.len(),
            max_dev_in_stderr: devs.iter().copied().fold(0.0, f64::max),
            mean_dev_in_stderr: if devs.is_empty() {
                f64::NAN
            } else {
                devs.iter().sum::<f64>() / devs.len() as f64
            },
            max_abs_dev: max_abs,
            resolution,
        }
    }
}

impl Agreement {
    /// |theory − mean|/max(standard error, `resolution`), when comparable (finite theory and
    /// mean, positive standard error).
    pub fn deviation(theory: f64, s: Stat, resolution: f64) -> Option<f64> {
        (theory.is_finite() && s.mean.is_finite() && s.stderr.is_finite() && s.stderr > 0.0)
            .then(|| (theory - s.mean).abs() / s.stderr.max(resolution))
    }
    /// One line: `what: mean x σ, max y σ over n points (max |Δ| = z)`.
    pub fn line(&self, what: &str) -> String {
        format!(
            "{what}: mean deviation {:.2} σ, max {:.2} σ over {} points (largest |theory − simulation| = {})",
            self.mean_dev_in_stderr,
            self.max_dev_in_stderr,
            self.points,
            crate::findings::sig(self.max_abs_dev, 2)
        )
    }
}

/// `[simulation]` table common to every figure with simulations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationSummary {
    pub tasks_computed: usize,
    pub tasks_cached: usize,
    pub task_seconds: f64,
}

impl SimulationSummary {
    /// From a run's simulations.
    pub fn of<E: Experiment>(sims: &Sims<E>) -> Self {
        Self {
            tasks_computed: sims.computed,
            tasks_cached: sims.cached,
            task_seconds: (sims.task_seconds * 10.0).round() / 10.0,
        }
    }
}

/// `Ok` when `v` is positive and finite, else the one-line error naming `name`.
pub fn check_positive(name: &str, v: f64) -> Result<(), Error> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(Error::Spec(format!(
            "invalid parameter `{name}` = {v}: must be > 0 and finite"
        )))
    }
}

/// Check the counts of a size section (d, seeds, …): each ≥ `min` (the error names them all:
/// ``invalid parameter `quick.d`/`seeds` = 0/4: must be >= 1``).
pub fn check_counts(section: &str, counts: &[(&str, usize)], min: usize) -> Result<(), Error> {
    if counts.iter().all(|&(_, v)| v >= min) {
        return Ok(());
    }
    let names: Vec<&str> = counts.iter().map(|c| c.0).collect();
    let values: Vec<String> = counts.iter().map(|c| c.1.to_string()).collect();
    Err(Error::Spec(format!(
        "invalid parameter `{section}.{}` = {}: must be >= {min}",
        names.join("`/`"),
        values.join("/")
    )))
}
