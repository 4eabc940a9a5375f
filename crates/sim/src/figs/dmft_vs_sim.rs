//! DMFT of GD, SGD and persistent SGD beside microscopic simulation, on phase retrieval with
//! a spherical student (Mignacco, Urbani, Zdeborová, MLST 2021, arXiv:2103.04902): the shared
//! experiment of fig6 (informed start) and fig7 (random start).
//!
//! Model and algorithms: [`super::psgd`].
//!
//! Batch convention ([`Batch`], required in the spec): `mean` divides the mini-batch gradient
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

use super::psgd::with_stepper;
pub use super::psgd::{ALGORITHMS, Algorithm};
use crate::experiment::{
    Experiment, Headline, Mode, Plan, PointSims, Report, Sims, SimulationSummary, check_positive,
    merge_status,
};
use crate::kit::trajectory::{TimeAgreement, log_grid, multiple_of, runs_status, stat_over};
use gardner_algorithms::psgd::{self, Batch, Start};
use gardner_models::rng::Rng;
use gardner_models::run::{Step as _, Termination};
use gardner_theory::dmft;
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// Recovery threshold on the oriented m.
pub const RECOVERY_OVERLAP: f64 = 0.99;
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
    /// First positive grid time (≥ η).
    pub t_min: f64,
    /// Points per decade of the logarithmic time grid (≥ 1).
    pub points_per_decade: usize,
    /// End of the simulated window (the last grid time).
    pub t_max: f64,
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
    /// Learning rate η (= the DMFT time step; t = k η).
    pub eta: f64,
    /// Batch fraction b of SGD and p-SGD.
    pub b: f64,
    /// Persistence time τ of p-SGD.
    pub tau: f64,
    /// Batch convention of SGD and p-SGD (required: `mean`, the talk's, or `sum`).
    pub batch: Batch,
    pub start: StartSpec,
    pub quick: SizeSpec,
    pub default: SizeSpec,
    pub full: SizeSpec,
}

/// One task: a simulation or a DMFT run of one algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub algorithm: Algorithm,
    pub side: Side,
    /// The time grid and the end of the window (they fix the observation's length).
    pub t_min: f64,
    pub points_per_decade: usize,
    pub t_max: f64,
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
    pub m_sim_mean: f64,
    pub m_sim_stderr: f64,
    pub train_loss_sim_mean: f64,
    pub train_loss_sim_stderr: f64,
    /// Monte-Carlo standard error of the DMFT means over the replicas.
    pub m_dmft_stderr: Option<f64>,
    pub train_loss_dmft_stderr: Option<f64>,
    pub status: String,
}

/// `[[dmft]]`: how the theory side was computed.
#[derive(Debug, Clone, Serialize)]
pub struct DmftSummary {
    pub algorithm: Algorithm,
    /// Particles per run, runs, and their product.
    pub particles: usize,
    pub replicas: usize,
    pub particles_total: usize,
    /// Time step of the DMFT (= η) and the number of steps T.
    pub dt: f64,
    pub steps: usize,
    /// Last time computed.
    pub t_max: f64,
    pub m0: f64,
    /// `ok`, or the runs that diverged or failed.
    pub status: String,
    /// Largest se_dmft/se_sim of m over the compared times: below 1, the DMFT's Monte-Carlo
    /// error is below the simulation's standard error everywhere in the window.
    pub mc_error_ratio_max_m: f64,
}

/// `[[agreement]]`: DMFT vs simulation for one algorithm and observable, in units of the
/// combined standard error √(se_sim² + se_dmft²).
#[derive(Debug, Clone, Serialize)]
pub struct AlgorithmAgreement {
    pub algorithm: Algorithm,
    #[serde(flatten)]
    pub over_time: TimeAgreement,
}

/// `[[recovery]]`: whether m > 0.99 is reached.
#[derive(Debug, Clone, Serialize)]
pub struct Recovery {
    pub algorithm: Algorithm,
    /// Seeds whose oriented m exceeds 0.99 at some grid time ≤ t_max, and the seeds run.
    pub sim_seeds_recovered: usize,
    pub sim_seeds: usize,
    /// The seed mean of m exceeds 0.99 at some grid time (first such time).
    pub sim_mean_reaches: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sim_mean_first_time: Option<f64>,
    pub sim_final_m_mean: f64,
    pub sim_final_m_stderr: f64,
    /// The DMFT m exceeds 0.99 within its window (first such time).
    pub dmft_reaches_within_window: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dmft_first_time: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dmft_final_m: Option<f64>,
}

/// The body of `data/fig6.toml` / `data/fig7.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The initial condition of both sides and their mapping.
    pub start: String,
    /// The windows and what the empty cells mean.
    pub windows: String,
    /// How the mini-batch gradient is normalised, and what it means for comparing at equal t.
    pub batch_convention: String,
    pub d: usize,
    pub seeds: usize,
    pub t_max_sim: f64,
    pub t_max_dmft: f64,
    pub dmft: Vec<DmftSummary>,
    pub agreement_m: Vec<AlgorithmAgreement>,
    pub agreement_train_loss: Vec<AlgorithmAgreement>,
    pub recovery: Vec<Recovery>,
    /// The talk's claims answered from the simulations ([`super::claims`]).
    pub claims: super::claims::Claims,
    pub simulation: SimulationSummary,
}

impl Spec {
    /// The section of `mode`.
    pub fn section(&self, mode: Mode) -> &SizeSpec {
        mode.pick(&self.quick, &self.default, &self.full)
    }

    /// The DMFT initial overlap of `mode` (see the module docs).
    pub fn dmft_m0(&self, mode: Mode) -> f64 {
        match self.start {
            StartSpec::Informed { m0 } => m0,
            StartSpec::Random => {
                (2.0 / (std::f64::consts::PI * self.section(mode).d as f64)).sqrt()
            }
        }
    }

    fn dmft_algorithm(&self, a: Algorithm) -> dmft::Algorithm {
        match a {
            Algorithm::Gd => dmft::Algorithm::Gd { eta: self.eta },
            Algorithm::Sgd => dmft::Algorithm::Sgd {
                eta: self.eta,
                b: self.b,
                batch: self.batch,
            },
            Algorithm::Psgd => dmft::Algorithm::Psgd {
                eta: self.eta,
                b: self.b,
                tau: self.tau,
                batch: self.batch,
            },
        }
    }

    fn validate(&self, mode: Mode) -> Result<(), String> {
        let s = self.section(mode);
        check_positive("alpha", self.alpha)?;
        check_positive("eta", self.eta)?;
        check_positive("tau", self.tau)?;
        if !(self.b > 0.0 && self.b <= 1.0) {
            return Err(format!(
                "invalid parameter `b` = {}: must be in (0, 1]",
                self.b
            ));
        }
        if let StartSpec::Informed { m0 } = self.start
            && !(m0.is_finite() && m0.abs() <= 1.0)
        {
            return Err(format!(
                "invalid parameter `start.m0` = {m0}: must be in [-1, 1]"
            ));
        }
        let name = mode.name();
        check_positive(&format!("{name}.t_min"), s.t_min)?;
        check_positive(&format!("{name}.t_max"), s.t_max)?;
        check_positive(&format!("{name}.dmft_t_max"), s.dmft_t_max)?;
        if s.t_min < self.eta || s.t_min > s.t_max {
            return Err(format!(
                "invalid parameter `{name}.t_min` = {}: must be in [eta, t_max] = [{}, {}]",
                s.t_min, self.eta, s.t_max
            ));
        }
        if s.points_per_decade == 0 {
            return Err(format!(
                "invalid parameter `{name}.points_per_decade` = 0: must be >= 1"
            ));
        }
        if !multiple_of(s.t_max, self.eta)
            || !multiple_of(s.dmft_t_max, self.eta)
            || s.dmft_t_max > s.t_max
        {
            return Err(format!(
                "invalid parameter `{name}.t_max`/`dmft_t_max` = {}/{}: both must be multiples of eta = {} and dmft_t_max <= t_max",
                s.t_max, s.dmft_t_max, self.eta
            ));
        }
        if s.d < 2 || s.seeds < 2 || s.particles < 2 {
            return Err(format!(
                "invalid parameter `{name}.d`/`seeds`/`particles` = {}/{}/{}: need each >= 2",
                s.d, s.seeds, s.particles
            ));
        }
        if s.dmft_replicas < 2 || !s.dmft_replicas.is_multiple_of(s.seeds) {
            return Err(format!(
                "invalid parameter `{name}.dmft_replicas` = {}: must be a positive multiple of seeds = {} (at least 2)",
                s.dmft_replicas, s.seeds
            ));
        }
        for a in ALGORITHMS {
            a.selection(self.b, self.tau, self.batch, self.eta)?;
        }
        Ok(())
    }

    /// DMFT time steps T of a window.
    fn steps(&self, t_max: f64) -> usize {
        (t_max / self.eta).round() as usize
    }

    /// The compressed DMFT solver's cost model at its defaults.
    fn dmft_cost(&self, particles: usize, t_max: f64) -> dmft::coarse::Cost {
        dmft::CoarseDmft::<gardner_models::PhaseRetrieval>::cost(
            particles,
            dmft::coarse::DEFAULT_HISTORY,
            dmft::coarse::DEFAULT_PARTNERS,
            self.steps(t_max),
        )
    }

    /// The grid times of a task's window.
    fn times(&self, p: &Point) -> Vec<f64> {
        log_grid(self.eta, p.t_min, p.points_per_decade, p.t_max)
    }

    /// One microscopic run, observed at the grid times (the whole-set training loss is a full
    /// pass over X, so it is measured only there).
    fn simulate(&self, p: &Point, d: usize, rng: &mut Rng) -> Result<(Obs, Termination), String> {
        let q_max = 1e6;
        let config = psgd::Config {
            eta: self.eta,
            max_steps: (p.t_max / self.eta).round() as usize,
            record_every: usize::MAX,
            q_max,
        };
        let start = match self.start {
            StartSpec::Informed { m0 } => Start::Informed { m0, q0: 1.0 },
            StartSpec::Random => Start::Random { q0: 1.0 },
        };
        let selection = p
            .algorithm
            .selection(self.b, self.tau, self.batch, self.eta)?;
        with_stepper((d, self.alpha), selection, &config, &start, rng, |st| {
            let (mut m, mut train_loss) = (Vec::new(), Vec::new());
            let mut termination = Termination::Converged;
            let mut k = 0usize;
            for t in self.times(p) {
                let target = (t / self.eta).round() as usize;
                while k < target {
                    st.advance().map_err(|e| e.to_string())?;
                    k += 1;
                }
                let o = st.observe().map_err(|e| e.to_string())?.step;
                let e = st.train_loss();
                let bad = [("q", o.q), ("m", o.m), ("train_loss", e)]
                    .into_iter()
                    .find(|&(name, v)| !v.is_finite() || (name == "q" && v > q_max));
                if let Some((quantity, _)) = bad {
                    termination = Termination::diverged(k, quantity);
                    break;
                }
                m.push(o.m);
                train_loss.push(e);
            }
            let m_initial = *m.first().ok_or("no observation")?;
            let sign = if m_initial < 0.0 { -1.0 } else { 1.0 };
            Ok((
                Obs {
                    m: m.iter().map(|x| sign * x).collect(),
                    train_loss,
                    gen_error: Vec::new(),
                    m_initial,
                },
                termination,
            ))
        })
    }

    /// One DMFT run (its seed drawn from the task's stream) at the grid times of the window.
    fn dmft(
        &self,
        p: &Point,
        particles: usize,
        m0: f64,
        rng: &mut Rng,
    ) -> Result<(Obs, Termination), String> {
        let cfg = dmft::Config {
            loss: dmft::LossKind::PhaseRetrieval,
            alpha: self.alpha,
            regularisation: dmft::RegularisationConfig::Spherical(true),
            m0,
            q0: 1.0,
            algorithm: self.dmft_algorithm(p.algorithm),
            times: self.times(p),
            method: dmft::Method::Dmft,
            dt: None,
            particles: Some(particles),
            seed: Some(rng.random()),
            replicas: None,
            checkpoint: None,
            checkpoint_every: None,
            solver: None,
            history: None,
            partners: None,
            budget_hours: None,
        };
        let sol = dmft::solve(&cfg).map_err(|e| e.to_string())?;
        let obs = Obs {
            m: sol.rows.iter().map(|r| r.m).collect(),
            train_loss: sol.rows.iter().map(|r| r.train_loss).collect(),
            gen_error: sol.rows.iter().map(|r| r.gen_error).collect(),
            m_initial: m0,
        };
        Ok((obs, sol.termination))
    }
}

impl Experiment for Spec {
    type Point = Point;
    type Obs = Obs;
    type Row = Row;
    type Summary = Summary;

    fn plan(&self, mode: Mode) -> Result<Plan<Point>, String> {
        self.validate(mode)?;
        let s = self.section(mode);
        let mut pts = Vec::new();
        for &algorithm in &ALGORITHMS {
            pts.push(Point {
                algorithm,
                side: Side::Simulation { d: s.d },
                t_min: s.t_min,
                points_per_decade: s.points_per_decade,
                t_max: s.t_max,
            });
            for block in 0..s.dmft_replicas / s.seeds {
                pts.push(Point {
                    algorithm,
                    side: Side::Dmft {
                        particles: s.particles,
                        m0: self.dmft_m0(mode),
                        block,
                    },
                    t_min: s.t_min,
                    points_per_decade: s.points_per_decade,
                    t_max: s.dmft_t_max,
                });
            }
        }
        Plan::new(
            pts,
            s.seeds,
            &(
                self.seed, self.alpha, self.eta, self.b, self.tau, self.batch, self.start,
            ),
        )
    }
    /// vectors; DMFT, the responses N T²/2 plus O(N T) histories.
    fn task_bytes(&self, p: &Point) -> u64 {
        match p.side {
            Side::Simulation { d } => super::psgd::task_bytes(self.alpha, d),
            Side::Dmft { particles, .. } => {
                let c = self.dmft_cost(particles, p.t_max);
                c.bytes as u64
            }
        }
    }
    fn task_cost(&self, p: &Point) -> f64 {
        match p.side {
            Side::Simulation { d } => {
                self.alpha * (d * d) as f64 * p.algorithm.batch_fraction(self.b) * p.t_max
                    / self.eta
            }
            Side::Dmft { particles, .. } => self.dmft_cost(particles, p.t_max).multiply_adds,
        }
    }
    fn run(&self, p: &Point, rng: &mut Rng) -> Result<(Obs, Termination), String> {
        match p.side {
            Side::Simulation { d } => self.simulate(p, d, rng),
            Side::Dmft { particles, m0, .. } => self.dmft(p, particles, m0, rng),
        }
    }
    fn report(&self, mode: Mode, sims: &Sims<Self>) -> Result<Report<Self>, String> {
        self.validate(mode)?;
        let s = self.section(mode);
        let times = log_grid(self.eta, s.t_min, s.points_per_decade, s.t_max);
        let n_dmft = times.iter().filter(|&&t| t <= s.dmft_t_max + 1e-12).count();
        let mut rows = Vec::new();
        let mut dmft_summaries = Vec::new();
        let mut agreement_m = Vec::new();
        let mut agreement_train_loss = Vec::new();
        let mut recovery = Vec::new();
        let mut headline = Vec::new();
        for a in ALGORITHMS {
            let p: &PointSims<Self> = sims
                .find(|p| p.algorithm == a && matches!(p.side, Side::Simulation { .. }))
                .ok_or_else(|| format!("no simulations of {}", a.name()))?;
            let theory: Vec<&PointSims<Self>> = sims
                .points
                .iter()
                .filter(|p| p.point.algorithm == a && matches!(p.point.side, Side::Dmft { .. }))
                .collect();
            let dmft_status = runs_status(&theory);
            let sim_status = p.status();
            let n_seeds = p.tasks.len();
            let (mut m_pairs, mut e_pairs, mut ratio) = (Vec::new(), Vec::new(), 0.0f64);
            let first_row = rows.len();
            for (j, &t) in times.iter().enumerate() {
                let m = stat_over(&[p], |o| o.m.get(j).copied());
                let e = stat_over(&[p], |o| o.train_loss.get(j).copied());
                let th = (j < n_dmft).then(|| {
                    (
                        stat_over(&theory, |o| o.m.get(j).copied()),
                        stat_over(&theory, |o| o.train_loss.get(j).copied()),
                        stat_over(&theory, |o| o.gen_error.get(j).copied()),
                    )
                });
                let th = th.filter(|(tm, _, _)| tm.count > 0);
                if let Some((tm, te, _)) = th {
                    m_pairs.push((t, tm, m));
                    e_pairs.push((t, te, e));
                    if m.stderr > 0.0 {
                        ratio = ratio.max(tm.stderr / m.stderr);
                    }
                }
                let theory_status = match (th, j < n_dmft) {
                    (Some((tm, _, _)), _) if tm.count < s.dmft_replicas => format!(
                        "dmft {dmft_status} ({}/{} runs at this time)",
                        tm.count, s.dmft_replicas
                    ),
                    (None, true) => format!("dmft {dmft_status}"),
                    _ => "ok".into(),
                };
                let sim_status = if m.count < n_seeds {
                    format!("{sim_status} ({}/{n_seeds} seeds at this time)", m.count)
                } else {
                    sim_status.clone()
                };
                rows.push(Row {
                    time: t,
                    algorithm: a,
                    m_dmft: th.map(|(tm, _, _)| tm.mean),
                    train_loss_dmft: th.map(|(_, te, _)| te.mean),
                    gen_error_dmft: th.map(|(_, _, tg)| tg.mean),
                    m_sim_mean: m.mean,
                    m_sim_stderr: m.stderr,
                    train_loss_sim_mean: e.mean,
                    train_loss_sim_stderr: e.stderr,
                    m_dmft_stderr: th.map(|(tm, _, _)| tm.stderr),
                    train_loss_dmft_stderr: th.map(|(_, te, _)| te.stderr),
                    status: merge_status(&theory_status, Some(&sim_status)),
                });
            }
            let (particles, m0) = match theory.first().map(|p| p.point.side) {
                Some(Side::Dmft { particles, m0, .. }) => (particles, m0),
                _ => (s.particles, self.dmft_m0(mode)),
            };
            dmft_summaries.push(DmftSummary {
                algorithm: a,
                particles,
                replicas: s.dmft_replicas,
                particles_total: particles * s.dmft_replicas,
                dt: self.eta,
                steps: self.steps(s.dmft_t_max),
                t_max: s.dmft_t_max,
                m0,
                status: dmft_status,
                mc_error_ratio_max_m: ratio,
            });
            let agreement = |what: &str, triples| AlgorithmAgreement {
                algorithm: a,
                over_time: TimeAgreement::of(what, triples, RESOLUTION, AGREEMENT_STDERRS),
            };
            agreement_m.push(agreement("m (DMFT vs simulation mean)", &m_pairs));
            agreement_train_loss.push(agreement("train_loss (DMFT vs simulation mean)", &e_pairs));
            // recovery
            let recovered = p
                .done()
                .filter(|(o, _)| o.m.iter().any(|&m| m > RECOVERY_OVERLAP))
                .count();
            let arows = &rows[first_row..];
            let sim_first = arows
                .iter()
                .find(|r| r.m_sim_mean > RECOVERY_OVERLAP)
                .map(|r| r.time);
            let dmft_first = arows
                .iter()
                .find(|r| r.m_dmft.is_some_and(|m| m > RECOVERY_OVERLAP))
                .map(|r| r.time);
            let last = arows.last().ok_or("empty time grid")?;
            let dmft_final = arows
                .iter()
                .rev()
                .find_map(|r| r.m_dmft.map(|m| (r.time, m)));
            recovery.push(Recovery {
                algorithm: a,
                sim_seeds_recovered: recovered,
                sim_seeds: p.done().count(),
                sim_mean_reaches: sim_first.is_some(),
                sim_mean_first_time: sim_first,
                sim_final_m_mean: last.m_sim_mean,
                sim_final_m_stderr: last.m_sim_stderr,
                dmft_reaches_within_window: dmft_first.is_some(),
                dmft_first_time: dmft_first,
                dmft_final_m: dmft_final.map(|(_, m)| m),
            });
            headline.push(Headline::new(
                format!("m_sim_final_{}", a.name()),
                last.m_sim_mean,
                1e-9,
            ));
            if let Some((t, m)) = dmft_final {
                headline.push(Headline::new(format!("m_dmft_t{t}_{}", a.name()), m, 1e-9));
            }
        }
        let trajectories: Vec<super::claims::Trajectories> = ALGORITHMS
            .iter()
            .map(|&a| super::claims::Trajectories {
                algorithm: a,
                m: sims
                    .points
                    .iter()
                    .filter(|p| {
                        p.point.algorithm == a && matches!(p.point.side, Side::Simulation { .. })
                    })
                    .flat_map(|p| p.done())
                    .filter(|(o, _)| o.m.len() == times.len())
                    .map(|(o, _)| o.m.as_slice())
                    .collect(),
            })
            .collect();
        let claims = super::claims::claims(&times, &trajectories);
        let start = match self.start {
            StartSpec::Informed { m0 } => format!(
                "informed: simulation w(0) = m0 w* + sqrt(1 - m0^2) u (u orthogonal to w*), m0 = {m0}; DMFT from the same m0"
            ),
            StartSpec::Random => format!(
                "random: simulation w(0) uniform on the sphere, so m(0) ~ N(0, 1/d); m is oriented, sign(m(0)) w.w*/d, with mean |m(0)| = sqrt(2/(pi d)); the DMFT (m = 0 is invariant at d = infinity) starts from that mean, m0 = {:.6} (d = {})",
                self.dmft_m0(mode),
                s.d
            ),
        };
        let summary = Summary {
            start,
            windows: format!(
                "simulation at t = 0 and {} points per decade from t = {} to {} (log grid, multiples of eta); DMFT (time step eta = {}, {} runs of {} particles, mean and Monte-Carlo standard error over the runs) at t <= {}: rows beyond it have empty DMFT cells; deviations in units of the combined standard error sqrt(se_sim^2 + se_dmft^2)",
                s.points_per_decade,
                s.t_min,
                s.t_max,
                self.eta,
                s.dmft_replicas,
                s.particles,
                s.dmft_t_max
            ),
            batch_convention: super::psgd::batch_convention(self.batch, self.b),
            d: s.d,
            seeds: s.seeds,
            t_max_sim: s.t_max,
            t_max_dmft: s.dmft_t_max,
            dmft: dmft_summaries,
            agreement_m,
            agreement_train_loss,
            recovery,
            claims,
            simulation: SimulationSummary::of(sims),
        };
        Ok(Report {
            rows,
            summary,
            headline,
            check_rel_tol: 1e-9,
        })
    }
}
