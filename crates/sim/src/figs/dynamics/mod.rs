//! DMFT of GD, SGD and persistent SGD beside microscopic simulation, on phase retrieval with
//! a spherical student (Mignacco, Urbani, Zdeborová, MLST 2021, arXiv:2103.04902): the shared
//! experiment of fig6 (informed start) and fig7 (random start).
//!
//! Model and algorithms: [`crate::kit::psgd`].
//!
//! Batch convention ([`Schedule::batch`], required in the spec): `mean` divides the mini-batch gradient
//! by b (the talk's; SGD and p-SGD then have GD's mean drift), `sum` is the plain sum.
//!
//! Time grid: t = 0 and a logarithmic grid from `t_min` to `t_max` with `points_per_decade`
//! points per decade, each rounded to a multiple of η (duplicates dropped).
//!
//! Simulation: one task = one seed of one algorithm at dimension d; its observation is the
//! trajectory m(t) and the whole-set training loss (1/n) Σ_μ ℓ at the grid times.
//! m is *oriented*: sign(m(0)) · w·w*/d (phase retrieval is symmetric under w → −w; with an
//! informed start m(0) = m0 > 0 and nothing changes).
//!
//! Theory: the particle DMFT of `gardner_theory::dmft` (time step η, the same discrete
//! algorithm) at the grid times t ≤ `dmft_t_max`. A DMFT run with N particles carries a
//! Monte-Carlo error O(N^{-1/2}), so the theory side is `dmft_replicas` independent runs
//! (tasks like the simulations: cached, sharded, run in parallel); the table gives their mean
//! and standard error, and the agreement is measured in combined standard errors
//! √(se_sim² + se_dmft²), with the ratio se_dmft/se_sim reported. The solver is the
//! compressed-history one (`dmft::CoarseDmft`, cost linear in T = t/η); rows beyond the DMFT
//! window `dmft_t_max` have empty DMFT cells.
//!
//! Start: `informed` — w(0) = m0 w* + √(1 − m0²) u (u ⊥ w*), the DMFT from the same m0;
//! `random` — w(0) uniform on the sphere, so m(0) ~ N(0, 1/d) and the oriented overlap
//! |m(0)| has mean √(2/(π d)); the DMFT (where m ≡ 0 is invariant) starts from that mean.
//! While m is small its growth is linear in m0, so the DMFT from E|m(0)| tracks the seed mean
//! of the oriented m until the escape times (which spread as ln(1/|m(0)|)) matter.

use crate::experiment::{
    Experiment, Headline, Mode, Plan, PointSims, Report, Sims, SimulationSummary, Sizes,
    check_counts, check_positive,
};
pub use crate::kit::psgd::{ALGORITHMS, Algorithm, Q_MAX, RECOVERY_OVERLAP, Schedule};
use crate::kit::psgd::{on_grid, with_stepper};
use crate::kit::trajectory::{TimeAgreement, Window, multiple_of, runs_status, stat_over};
use crate::{Error, Stat, Status};
use gardner_algorithms::psgd::{self, Start};
use gardner_models::rng::Rng;
use gardner_models::run::Termination;
use gardner_theory::dmft;
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// Agreement threshold, in combined standard errors.
pub const AGREEMENT_STDERRS: f64 = 3.0;
/// Smallest difference resolved (m(0) of the informed start is m0 up to rounding on both sides).
const RESOLUTION: f64 = 1e-12;

/// The initial condition of both sides.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StartSpec {
    /// w(0) = m0 w* + √(1 − m0²) u, u ⊥ w*; the DMFT from m0.
    Informed { m0: f64 },
    /// w(0) uniform on the sphere; the DMFT from m0 = E|m(0)| = √(2/(π d)).
    Random,
}

/// A size section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeSpec {
    /// Dimension of the simulation.
    pub d: usize,
    /// Seeds per algorithm.
    pub seeds: usize,
    /// The simulated window.
    #[serde(flatten)]
    pub window: Window,
    /// End of the DMFT window (≤ `t_max`; the DMFT is computed at the grid times ≤ it).
    pub dmft_t_max: f64,
    /// DMFT particles N per run.
    pub particles: usize,
    /// Independent DMFT runs per algorithm (a multiple of `seeds`).
    pub dmft_replicas: usize,
}

/// `papers/fig6.toml`, `papers/fig7.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Base seed of the simulations and DMFT runs.
    pub seed: u64,
    /// α = n/d.
    pub alpha: f64,
    /// η is also the DMFT time step.
    #[serde(flatten)]
    pub schedule: Schedule,
    pub start: StartSpec,
    #[serde(flatten)]
    pub sizes: Sizes<SizeSpec>,
}

/// One task: a simulation or a DMFT run of one algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub algorithm: Algorithm,
    pub side: Side,
    /// The time grid and the end of the window (they fix the observation's length).
    #[serde(flatten)]
    pub window: Window,
}

/// Which side of the comparison a task computes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Side {
    /// Microscopic simulation at dimension d (one seed per task).
    Simulation { d: usize },
    /// One particle DMFT run (N particles, from m0); `block` numbers the groups of `seeds`
    /// runs that make up the `dmft_replicas`.
    Dmft {
        particles: usize,
        m0: f64,
        block: usize,
    },
}

/// One run's trajectory at the grid times t = jΔ (shorter when the run diverged).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Obs {
    /// Simulation: sign(m(0)) · w·w*/d; DMFT: m(t).
    pub m: Vec<f64>,
    /// (1/n) Σ_μ ℓ(y_μ, X_μ·w) over the whole training set.
    pub train_loss: Vec<f64>,
    /// DMFT only (empty for a simulation): E ℓ on a fresh sample.
    pub gen_error: Vec<f64>,
    /// m(0) before orientation.
    pub m_initial: f64,
}

/// One row of `data/fig6.csv` / `data/fig7.csv` (long format: one per time and algorithm).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub time: f64,
    pub algorithm: Algorithm,
    /// DMFT mean over the replicas (empty beyond the DMFT window or when no run got there).
    pub m_dmft: Option<f64>,
    pub train_loss_dmft: Option<f64>,
    pub gen_error_dmft: Option<f64>,
    #[serde(with = "crate::table::stat")]
    pub m_sim: Stat,
    #[serde(with = "crate::table::stat")]
    pub train_loss_sim: Stat,
    /// Monte-Carlo standard error of the DMFT means over the replicas.
    pub m_dmft_stderr: Option<f64>,
    pub train_loss_dmft_stderr: Option<f64>,
    pub status: Status,
}

pub mod claims;
mod report;
mod run;
mod summary;

pub use summary::{AlgorithmAgreement, DmftSummary, Recovery, Summary};

impl Spec {
    /// The DMFT initial overlap of `mode` (see the module docs).
    pub fn dmft_m0(&self, mode: Mode) -> f64 {
        match self.start {
            StartSpec::Informed { m0 } => m0,
            StartSpec::Random => {
                (2.0 / (std::f64::consts::PI * self.sizes.pick(mode).d as f64)).sqrt()
            }
        }
    }
}

impl Experiment for Spec {
    type Point = Point;
    type Obs = Obs;
    type Row = Row;
    type Summary = Summary;

    /// Per algorithm one simulation point and `dmft_replicas/seeds`
    /// DMFT blocks, `seeds` tasks each.
    fn plan(&self, mode: Mode) -> Result<Plan<Point>, Error> {
        self.validate(mode)?;
        let s = self.sizes.pick(mode);
        let mut pts = Vec::new();
        for &algorithm in &ALGORITHMS {
            pts.push(Point {
                algorithm,
                side: Side::Simulation { d: s.d },
                window: s.window,
            });
            for block in 0..s.dmft_replicas / s.seeds {
                pts.push(Point {
                    algorithm,
                    side: Side::Dmft {
                        particles: s.particles,
                        m0: self.dmft_m0(mode),
                        block,
                    },
                    window: Window {
                        t_max: s.dmft_t_max,
                        ..s.window
                    },
                });
            }
        }
        let sc = &self.schedule;
        Plan::new(
            pts,
            s.seeds,
            &(
                self.seed, self.alpha, sc.eta, sc.b, sc.tau, sc.batch, self.start,
            ),
        )
    }
    /// Simulation: X and its transposed copy plus O(n + d) vectors; DMFT: the compressed
    /// solver's cost model (O(N P²) per-particle responses on P ≈ 1.5 L log₂(T/L) blocks).
    fn task_bytes(&self, p: &Point) -> u64 {
        match p.side {
            Side::Simulation { d } => crate::kit::psgd::task_bytes(self.alpha, d),
            Side::Dmft { particles, .. } => {
                let c = self.dmft_cost(particles, p.window.t_max);
                c.bytes as u64
            }
        }
    }
    /// ∝ multiply-adds (simulation: rows touched; DMFT: the compressed cost model).
    fn task_cost(&self, p: &Point) -> f64 {
        match p.side {
            Side::Simulation { d } => {
                let sc = &self.schedule;
                self.alpha * (d * d) as f64 * sc.batch_fraction(p.algorithm) * p.window.t_max
                    / sc.eta
            }
            Side::Dmft { particles, .. } => self.dmft_cost(particles, p.window.t_max).multiply_adds,
        }
    }
    fn run(&self, p: &Point, rng: &mut Rng) -> Result<(Obs, Termination), Error> {
        match p.side {
            Side::Simulation { d } => self.simulate(p, d, rng),
            Side::Dmft { particles, m0, .. } => self.dmft(p, particles, m0, rng),
        }
    }
    fn report(&self, mode: Mode, sims: &Sims<Self>) -> Result<Report<Self>, Error> {
        self.tables(mode, sims)
    }
}
