//! fig4 — gradient descent on phase retrieval (talk, "Performance of gradient descent";
//! Sarao Mannelli, Biroli, Cammarota, Krzakala, Urbani, Zdeborová, arXiv:2006.06997).
//!
//! Spherical GD (`gardner_algorithms::gd`) from a random start on fresh teacher data for every
//! (α, d, seed); success = final |m| ≥ 0.99. Per (α, d): success rate with a 95 % Wilson
//! interval, the final |m| (mean, standard error). Per d: α_½ where the isotonic success curve
//! crosses ½, with a seeded percentile-bootstrap interval; with ≥ 3 sizes a weighted fit
//! α_½(d) = a + b/d (`[extrapolation]`), and both a + b/d and a + b ln d with χ²/dof and the
//! better of the two (`[finite_size_fits]`). Compared with α_IT and α_AMP of the theory crate and the talk's ≈ 7.

use crate::experiment::{Mode, Plan, Report, Sims, SimulationSummary, Sizes};
use crate::kit::bayes::Thresholds;
use crate::kit::success_curve::{
    AlphaHalf, BootstrapSpec, CrossingSummary, Curve, Extrapolation, FiniteSizeFits, Grid, Rate,
    finished,
};
use crate::{Error, Experiment, Stat, Status};
use gardner_algorithms::gd::{self, Problem, spherical_teacher};
use gardner_models::rng::Rng;
use gardner_models::run::Termination;
use gardner_models::{Abs, Gaussian};
use gardner_theory::ThresholdConfig;
use serde::{Deserialize, Serialize};

/// `papers/fig4.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fig4 {
    /// Base seed of the simulation streams.
    pub seed: u64,
    /// The talk's measured GD threshold (finite-size numerics), shown for comparison only.
    pub talk_alpha_gd: f64,
    pub gd: gd::Config,
    pub bootstrap: BootstrapSpec,
    #[serde(default)]
    pub thresholds: ThresholdConfig,
    #[serde(flatten)]
    pub sizes: Sizes<Grid>,
}

/// One GD run: fresh teacher data at (α, d).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub alpha: f64,
    pub d: usize,
}

/// The final state of one GD run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Obs {
    pub success: bool,
    pub overlap_abs: f64,
    pub train_loss: f64,
    pub time: f64,
    pub halvings: u32,
}

/// One row of `data/fig4.csv`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub alpha: f64,
    pub d: usize,
    pub success: Rate,
    #[serde(with = "crate::table::stat")]
    pub final_overlap: Stat,
    pub status: Status,
}

mod report;

pub use report::*;

impl Fig4 {
    /// The GD settings of every run (sequential: runs are parallel).
    fn config(&self) -> gd::Config {
        gd::Config {
            threads: 1,
            ..self.gd.clone()
        }
    }
}

impl Experiment for Fig4 {
    type Point = Point;
    type Obs = Obs;
    type Row = Row;
    type Summary = Summary;

    fn plan(&self, mode: Mode) -> Result<Plan<Point>, Error> {
        let size = self.sizes.pick(mode);
        size.check(mode.name())?;
        self.bootstrap.validate()?;
        self.gd.validate()?;
        let points = size
            .dims
            .iter()
            .flat_map(|&d| size.alphas.iter().map(move |&alpha| Point { alpha, d }))
            .collect();
        Plan::new(points, size.seeds, &(self.config(), self.seed))
    }
    fn task_bytes(&self, p: &Point) -> u64 {
        // X (n × d), y, z, h, u (n), w*, w, g (d), the recorded steps
        let (n, d) = ((p.alpha * p.d as f64).round() as u64, p.d as u64);
        let steps = (self.gd.max_steps / self.gd.record_every.max(1) + 2) as u64;
        8 * n * d + 32 * n + 24 * d + 64 * steps
    }
    fn run(&self, p: &Point, rng: &mut Rng) -> Result<(Obs, Termination), Error> {
        let data = spherical_teacher(p.d, p.alpha, rng)?;
        let problem = Problem::from_dataset(&data)?;
        let trace = gd::run(&problem, &self.config(), rng)?.trace;
        let last = trace.last().ok_or("GD recorded no step")?;
        let obs = Obs {
            success: gd::succeeded(&trace),
            overlap_abs: last.overlap_abs,
            train_loss: last.train_loss,
            time: last.time,
            halvings: last.halvings,
        };
        Ok((obs, finished(&trace.termination, "GD")?))
    }
    fn report(&self, mode: Mode, sims: &Sims<Self>) -> Result<Report<Self>, Error> {
        self.tables(mode, sims)
    }
}
