//! fig5 — gradient descent on an over-parametrised two-layer network with quadratic
//! activation for phase retrieval (talk, "GD for over-parametrised phase retrieval"; Sarao
//! Mannelli, Vanden-Eijnden, Zdeborová, NeurIPS 2020, arXiv:2006.15459).
//!
//! `gardner_algorithms::overparam` from W(0) ~ N(0, 1) on fresh teacher data for every
//! (α, d, m, seed); success = gen_error = ‖A − A*‖²_F/‖A*‖²_F < 1e-3 within the time budget
//! t_max(d) = c d^p ([`TimeBudget`]: convergence is algebraic in time, so success is relative
//! to it). Early stops are only the provable unreachability bound and a stationary gradient
//! (`overparam` docs); runs stopped by the budget (still improving) are counted apart from runs
//! stopped as failures. Per (d, m): success rate with Wilson intervals, gen_error
//! mean ± s.e.; α_½ with a bootstrap interval; per width rule the finite-size fits
//! α_½(d) = a + b/d and a + b ln d; the typed answers to "does α_½ approach the theorem's 2 for
//! m ≥ d" and "does m = 1 need more samples than m ≥ d at the largest d" ([`Conclusions`]).

use crate::experiment::{
    Mode, Plan, PointSims, Report, Sims, SimulationSummary, Sizes, check_positive,
};
use crate::kit::success_curve::{
    BootstrapSpec, CrossingSummary, Curve, Extrapolation, FiniteSizeFits, Grid, Rate, finished,
};
use crate::{Error, Experiment, Stat, Status};
use gardner_algorithms::gd::{Problem, spherical_teacher};
use gardner_algorithms::overparam;
use gardner_models::rng::Rng;
use gardner_models::run::Termination;
use serde::{Deserialize, Serialize};

/// A run size: the grid (seeds per (α, d, m)) and the width rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeSpec {
    #[serde(flatten)]
    pub grid: Grid,
    /// Width rules: "1", an integer, "d", "2d", "d/4", "0.5d".
    pub widths: Vec<String>,
}

/// The time budget t_max(d) = `coefficient` · d^`exponent` (time of H = (m/4) L).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeBudget {
    pub coefficient: f64,
    pub exponent: f64,
}

impl TimeBudget {
    /// t_max(d).
    pub fn t_max(&self, d: usize) -> f64 {
        self.coefficient * (d as f64).powf(self.exponent)
    }
    /// `Ok` when the coefficient is > 0 and the exponent ≥ 0, both finite.
    pub fn validate(&self) -> Result<(), Error> {
        check_positive("gd.budget.coefficient", self.coefficient)?;
        if !(self.exponent >= 0.0 && self.exponent.is_finite()) {
            return Err(Error::Spec(format!(
                "invalid parameter `gd.budget.exponent` = {}: must be >= 0 and finite",
                self.exponent
            )));
        }
        Ok(())
    }
}

/// GD settings of the spec (m_hidden comes from the width rules, the step budget from
/// `budget`; the step-halving guard and the unreachability stop are on).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GdSpec {
    pub step: f64,
    pub budget: TimeBudget,
    pub loss_tol: f64,
    pub grad_tol: f64,
    pub record_every: usize,
}

impl GdSpec {
    /// The step budget at d: ⌈t_max(d)/η⌉.
    pub fn max_steps(&self, d: usize) -> usize {
        (self.budget.t_max(d) / self.step).ceil() as usize
    }
}

/// `[cost]`: the calibration of the core-hours estimate printed before a `--full` run.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostSpec {
    /// Measured task-seconds of the default run per 1e9 "budget flops" Σ 4 n d m · max_steps(d)
    /// (absorbs the flop rate and the mean fraction of the budget a run uses).
    pub seconds_per_budget_gflop: f64,
}

/// `papers/fig5.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fig5 {
    /// Base seed of the simulation streams.
    pub seed: u64,
    /// The theorem's threshold for m ≥ d (Theorem 3.1 of 2006.15459).
    pub theorem_alpha: f64,
    pub gd: GdSpec,
    pub cost: CostSpec,
    pub bootstrap: BootstrapSpec,
    #[serde(flatten)]
    pub sizes: Sizes<SizeSpec>,
}

/// One run: fresh teacher data at (α, d), a student of m_hidden units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub alpha: f64,
    pub d: usize,
    pub m_hidden: usize,
}

/// The state of one run where it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Obs {
    pub success: bool,
    pub gen_error: f64,
    pub train_loss: f64,
    pub time: f64,
    pub stop: Stop,
    pub halvings: u32,
}

/// One row of `data/fig5.csv`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub alpha: f64,
    pub d: usize,
    pub m_hidden: usize,
    pub success: Rate,
    #[serde(with = "crate::table::stat")]
    pub gen_error: Stat,
    /// Runs ended by the time budget while still improving.
    pub runs_out_of_budget: usize,
    /// Runs stopped early as failures (unreachability bound, stationary point, zero loss).
    pub runs_stopped_failing: usize,
    /// `ok` when every run is decided (a success, or a failure stopped by a rule that only
    /// stops certain failures), `out_of_budget: k/n seeds` when k runs were still improving at
    /// t_max, `failed: …` when tasks failed.
    pub status: Status,
}

mod report;
mod run;
mod summary;

pub use run::{Stop, width};
pub use summary::*;

impl Experiment for Fig5 {
    type Point = Point;
    type Obs = Obs;
    type Row = Row;
    type Summary = Summary;

    fn plan(&self, mode: Mode) -> Result<Plan<Point>, Error> {
        let size = self.sizes.pick(mode);
        size.grid.check(mode.name())?;
        self.bootstrap.validate()?;
        if size.widths.is_empty() {
            let name = mode.name();
            return Err(
                format!("invalid parameter `{name}.widths` = []: must be non-empty").into(),
            );
        }
        self.gd.budget.validate()?;
        let seconds = self.cost.seconds_per_budget_gflop;
        check_positive("cost.seconds_per_budget_gflop", seconds)?;
        for &d in &size.grid.dims {
            self.config(1, d).validate()?;
        }
        let mut points = Vec::new();
        for (d, m_hidden, _) in self.groups(size)? {
            points.extend(
                size.grid
                    .alphas
                    .iter()
                    .map(|&alpha| Point { alpha, d, m_hidden }),
            );
        }
        // every run's settings are config(m_hidden, d): the spec's [gd] and constants of this file
        Plan::new(points, size.grid.seeds, &(&self.gd, self.seed))
    }
    fn task_bytes(&self, p: &Point) -> u64 {
        // X (n × d), y, z, r (n), W, W0, ∇H (d × m), P (n × m), WᵀW (m × m), the recorded steps
        let (n, d, m) = (
            (p.alpha * p.d as f64).round() as u64,
            p.d as u64,
            p.m_hidden as u64,
        );
        let steps = (self.gd.max_steps(p.d) / self.gd.record_every.max(1) + 2) as u64;
        8 * (n * d + n * m + 3 * d * m + m * m + 3 * n + 2 * d + m) + 48 * steps
    }
    fn task_cost(&self, p: &Point) -> f64 {
        self.budget_flops(p)
    }
    fn task_seconds_estimate(&self, p: &Point) -> Option<f64> {
        Some(self.cost.seconds_per_budget_gflop * self.budget_flops(p) / 1e9)
    }
    fn run(&self, p: &Point, rng: &mut Rng) -> Result<(Obs, Termination), Error> {
        let data = spherical_teacher(p.d, p.alpha, rng)?;
        let problem = Problem::from_dataset(&data)?;
        let config = self.config(p.m_hidden, p.d);
        let out = overparam::run(&problem, &config, rng)?;
        let last = out.trace.last().ok_or("no step recorded")?;
        let success = overparam::succeeded(&out.trace);
        let stop = match &out.trace.termination {
            _ if success => Stop::Success,
            Termination::Stalled => Stop::Unreachable,
            Termination::Converged if last.train_loss < config.loss_tol => Stop::ZeroLoss,
            Termination::Converged => Stop::Stationary,
            _ => Stop::OutOfBudget,
        };
        let obs = Obs {
            success,
            gen_error: last.gen_error,
            train_loss: last.train_loss,
            time: last.time,
            stop,
            halvings: last.halvings,
        };
        Ok((
            obs,
            finished(&out.trace.termination, "over-parametrised GD")?,
        ))
    }
    fn report(&self, mode: Mode, sims: &Sims<Self>) -> Result<Report<Self>, Error> {
        self.tables(mode, sims)
    }
}
