//! fig8 — sample complexity of GD, SGD and persistent SGD on phase retrieval from a random
//! start (talk, "Performance of SGD in phase retrieval"; Mignacco, Urbani, Zdeborová, MLST
//! 2021). Spherical student ‖w‖² = d, loss Σ_μ (h_μ² − y_μ²)²/4, X_{μi} ~ N(0, 1/d),
//! y = |X w*|. Success: |m| ≥ 0.99 within the physical time budget T (t = k η); a run that
//! reaches T without it is a failure (the budget rule, stated in the summary).

use crate::experiment::check_positive;
use crate::experiment::{Headline, Mode, Plan, PointSims, Report, Sims, SimulationSummary, Sizes};
use crate::kit::grid::{check_alphas, same};
use crate::kit::note;
use crate::kit::psgd::with_stepper;
pub use crate::kit::psgd::{ALGORITHMS, Algorithm, Q_MAX, RECOVERY_OVERLAP, Schedule};
use crate::kit::success_curve::{Curve, Grid};
use crate::success::{BootstrapCrossing, SuccessPoint, bootstrap_crossing};
use crate::{Error, Experiment, Stat, Status};
use gardner_algorithms::psgd::{self, Observation, Start};
use gardner_models::rng::Rng;
use gardner_models::run::{Termination, stop};
use serde::{Deserialize, Serialize};

/// A size section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeSpec {
    #[serde(flatten)]
    pub grid: Grid,
    /// α values re-run at η/2 at the smallest d (the step-size check).
    pub eta_check_alphas: Vec<f64>,
}

/// `papers/fig8.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fig8 {
    pub seed: u64,
    #[serde(flatten)]
    pub schedule: Schedule,
    /// Physical time budget T: at most T/η steps.
    pub time_budget: f64,
    /// Bootstrap of α½: replicates and seed.
    pub bootstrap_replicates: usize,
    pub bootstrap_seed: u64,
    #[serde(flatten)]
    pub sizes: Sizes<SizeSpec>,
}

/// One task: an algorithm at (α, d) with learning rate η.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub alpha: f64,
    pub d: usize,
    pub algorithm: Algorithm,
    pub eta: f64,
}

/// The end of one run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Obs {
    /// Final |m| = |w·w*|/d.
    pub overlap: f64,
    pub success: bool,
    /// Physical time at the end (success or budget).
    pub time: f64,
}

/// One row of `data/fig8.csv`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub alpha: f64,
    pub d: usize,
    pub algorithm: Algorithm,
    pub b: f64,
    /// Persistence time (p-SGD τ; plain SGD τ = η/b; empty for GD, where it plays no role).
    pub tau: Option<f64>,
    pub eta: f64,
    pub success_rate: f64,
    pub success_lo: f64,
    pub success_hi: f64,
    #[serde(with = "crate::table::stat")]
    pub final_overlap: Stat,
    /// Runs that reached the time budget without success (failures by the budget rule).
    pub runs_at_budget: usize,
    /// Mean physical time to success over the successful runs.
    pub success_time_mean: f64,
    pub status: Status,
}

mod report;

pub use report::*;

impl Fig8 {
    /// (d, α grid, η) of the curves of each algorithm, in plan order: every d at η, then the
    /// step-size check at the smallest d at η/2.
    fn curves<'a>(&self, s: &'a SizeSpec) -> Vec<(usize, &'a [f64], f64)> {
        let (g, eta) = (&s.grid, self.schedule.eta);
        let d0 = *g.dims.iter().min().expect("checked");
        let main = g.dims.iter().map(|&d| (d, g.alphas.as_slice(), eta));
        let check = (d0, s.eta_check_alphas.as_slice(), eta / 2.0);
        main.chain([check]).collect()
    }
}

impl Experiment for Fig8 {
    type Point = Point;
    type Obs = Obs;
    type Row = Row;
    type Summary = Summary;

    fn plan(&self, mode: Mode) -> Result<Plan<Point>, Error> {
        let s = self.sizes.pick(mode);
        s.grid.check(mode.name())?;
        check_alphas(mode.name(), &s.eta_check_alphas)?;
        let eta = self.schedule.eta;
        self.schedule.validate(&[eta, eta / 2.0])?;
        check_positive("time_budget", self.time_budget)?;
        let mut pts = Vec::new();
        for (d, alphas, eta) in self.curves(s) {
            for algorithm in ALGORITHMS {
                let point = |&alpha| Point {
                    alpha,
                    d,
                    algorithm,
                    eta,
                };
                pts.extend(alphas.iter().map(point));
            }
        }
        let sc = &self.schedule;
        Plan::new(
            pts,
            s.grid.seeds,
            &(self.seed, sc.b, sc.tau, sc.batch, self.time_budget),
        )
    }
    fn task_bytes(&self, p: &Point) -> u64 {
        crate::kit::psgd::task_bytes(p.alpha, p.d)
    }
    fn task_cost(&self, p: &Point) -> f64 {
        p.alpha * (p.d * p.d) as f64 * self.schedule.batch_fraction(p.algorithm) / p.eta
    }
    fn run(&self, p: &Point, rng: &mut Rng) -> Result<(Obs, Termination), Error> {
        let steps = (self.time_budget / p.eta).ceil() as usize;
        let config = psgd::Config {
            eta: p.eta,
            max_steps: steps,
            record_every: steps.max(1),
            q_max: Q_MAX,
        };
        let selection = self.schedule.selection(p.algorithm, p.eta)?;
        let start = Start::Random { q0: 1.0 };
        let trace = with_stepper((p.d, p.alpha), selection, &config, &start, rng, |st| {
            psgd::driver(config.q_max)
                .stop(stop::tolerance(
                    |o: &Observation| RECOVERY_OVERLAP - o.step.m.abs(),
                    0.0,
                ))
                .stop(stop::budget(
                    |o: &Observation| o.step.time,
                    self.time_budget - 0.5 * p.eta,
                ))
                .record_every(config.record_every)
                .run(st)
                .map_err(Error::from)
        })?;
        let last = trace.last().ok_or("no observation")?.step;
        let success = last.m.abs() >= RECOVERY_OVERLAP;
        Ok((
            Obs {
                overlap: last.m.abs(),
                success,
                time: last.time,
            },
            trace.termination,
        ))
    }
    fn report(&self, mode: Mode, sims: &Sims<Self>) -> Result<Report<Self>, Error> {
        self.tables(mode, sims)
    }
}
