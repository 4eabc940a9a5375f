//! [`solve`]: a [`Config`] → rows (time, m, q, train_loss, gen_error, status) at the
//! requested times.
//!
//! Dispatch: `method = "exact"` uses [`LinearRidge`] (GD at η, or the flow); `method = "dmft"`
//! uses, for the square loss with b = 1 (exact moments, no Monte Carlo), the TTI solver
//! [`RidgeFlow`] for the gradient flow with ridge (Richardson-extrapolated trapezoid levels
//! dt, dt/2: error O(dt⁴), [`Solution::error_estimate`]) and the step-by-step [`GaussianDmft`]
//! for discrete GD and the spherical flow (the latter first order in dt), and the particle
//! solver [`Dmft`] otherwise. The DMFT runs are driven by the
//! shared [`Driver`], one time step per `advance`, with divergence rules on m, q and the
//! training loss (non-finite or |·| > 1e12): a divergence ends the run with
//! [`Termination::Diverged`] naming the step and the quantity, and the requested times after it
//! have no row.

use super::checkpoint::{self, Checkpointer};
use super::coarse::CoarseDmft;
use super::config::{Algorithm, Config, LossKind, Method, SolverKind};
use super::exact::{ExactPoint, LinearRidge};
use super::gaussian::GaussianDmft;
use super::gen_error::GenError;
use super::params::{Observation, Regularisation, Teacher, TimeGrid};
use super::ridge_flow::{self, RidgeFlow};
use super::solver::{Dmft, ResponseEss, Setup};
use crate::error::Error;
use gardner_models::run::{Driver, Step, Termination, stop};
use gardner_models::{Loss, PhaseRetrieval, Stat};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// One output row, fields in CSV column order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SolutionRow {
    pub time: f64,
    pub m: f64,
    pub q: f64,
    pub train_loss: f64,
    pub gen_error: f64,
    /// Monte-Carlo standard errors over `replicas` independent particle runs (empty for one
    /// run and for the deterministic solvers).
    pub m_stderr: Option<f64>,
    pub q_stderr: Option<f64>,
    pub train_loss_stderr: Option<f64>,
    /// `ok`, or the [`Termination::status`] of a failed run (the last column).
    pub status: String,
}

impl SolutionRow {
    /// The CSV columns, in field order (also the header of a table without rows).
    pub const COLUMNS: [&'static str; 9] = [
        "time",
        "m",
        "q",
        "train_loss",
        "gen_error",
        "m_stderr",
        "q_stderr",
        "train_loss_stderr",
        "status",
    ];
}

/// Rows at the requested times and how the run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    pub rows: Vec<SolutionRow>,
    pub termination: Termination,
    /// `ok`, or the failure with its time: `failed: q diverged at iteration 12 (t = 6)`.
    pub status: String,
    /// The TTI gradient-flow solver of ridge regression ([`RidgeFlow`]): its Richardson error
    /// estimate, the largest change of m, q or e_tr over the run's grid when one more (coarser)
    /// level enters the extrapolation ([`FlowRun::error_estimate`](super::ridge_flow::FlowRun::error_estimate)). `None` for the other
    /// solvers.
    pub error_estimate: Option<f64>,
    /// The particle solvers: the smallest effective number of particles (Kish's (Σw)²/Σw²,
    /// w_a = particle a's share of the row) of any M_R row of any replica, with that
    /// replica's first row as the reference ([`ResponseEss`]). Far below the reference where
    /// rare particles carry the memory kernel: the Monte-Carlo estimate is then heavy-tailed
    /// and biased at any practical N. `None` for the other solvers.
    pub response_ess: Option<ResponseEss>,
}

/// Bound on |m|, |q|, e_tr beyond which a run is declared diverged.
const DIVERGENCE_BOUND: f64 = 1e12;

/// Run a DMFT [`Step`] for `steps` steps (a fixed horizon: `Converged` at step `steps`) with
/// divergence rules; all observations.
pub fn run_steps<S>(step: &mut S, steps: usize) -> Result<(Vec<Observation>, Termination), Error>
where
    S: Step<Obs = Observation, Error = Error>,
{
    run_steps_with(step, steps, Driver::new())
}

/// [`run_steps`] on a driver that may already carry observers (and a first step, for a resumed
/// run: `steps` is then the horizon of the whole run).
fn run_steps_with<'a, S>(
    step: &mut S,
    steps: usize,
    driver: Driver<'a, S>,
) -> Result<(Vec<Observation>, Termination), Error>
where
    S: Step<Obs = Observation, Error = Error>,
{
    let trace = driver
        .stop(stop::divergence(
            "m",
            |o: &Observation| o.m,
            DIVERGENCE_BOUND,
        ))
        .stop(stop::divergence(
            "q",
            |o: &Observation| o.q,
            DIVERGENCE_BOUND,
        ))
        .stop(stop::divergence(
            "train_loss",
            |o: &Observation| o.train_loss,
            DIVERGENCE_BOUND,
        ))
        .stop(stop::horizon(steps))
        .run(step)?;
    Ok((trace.steps, trace.termination))
}

/// Default of `budget_hours`.
pub const DEFAULT_BUDGET_HOURS: f64 = 24.0;

/// Cost of one multiply-add of the compressed solver's cost model on one core, in seconds:
/// a p-SGD run of phase retrieval (N = 2000, t = 8, 1.7e9 multiply-adds) took 3.2 CPU-s on a
/// machine loaded by other builds; `benches/dmft.rs` times one step idle.
pub const SECONDS_PER_MULTIPLY_ADD: f64 = 2.0e-9;

/// The same for the uniform solver's N T³/3 (dense, vectorised loops): 8 runs of N = 2000 to
/// t = 4 (T = 400) took 152 CPU-s under the same load.
pub const SECONDS_PER_MULTIPLY_ADD_UNIFORM: f64 = 0.5e-9;

/// A solve's estimated peak memory and CPU time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Peak bytes of one run (replicas run one after another).
    pub bytes: usize,
    /// CPU seconds of all replicas.
    pub cpu_seconds: f64,
}

/// Estimate `cfg` before running it: the particle solvers from their cost models (compressed:
/// [`super::CoarseDmft::cost`]; uniform: N T³/3 multiply-adds, N T²/2 doubles of responses),
/// the gradient flow of ridge regression from [`RidgeFlow::cost`] (O(T²/4) for Z,
/// O(T log² T) for R, m, A and O(T log T) per Neumann term), the other deterministic ones
/// (discrete GD, spherical flow) from T² kernels and T³ work.
pub fn estimate(cfg: &Config) -> Result<Estimate, Error> {
    let step = cfg.step();
    let steps = (cfg.times.last().copied().unwrap_or(0.0) / step).round();
    let n = cfg.particles.unwrap_or(super::config::DEFAULT_PARTICLES) as f64;
    let runs = cfg.replicas.unwrap_or(1) as f64;
    let deterministic = cfg.method == Method::Exact
        || (cfg.loss == LossKind::Square && cfg.selection()?.is_full_batch());
    let ridge_flow = match (cfg.loss, cfg.algorithm, cfg.regularisation()) {
        (LossKind::Square, Algorithm::Flow, Regularisation::Ridge(l)) => Some(l),
        _ => None,
    };
    let (bytes, ops) = if cfg.method == Method::Exact {
        (1e6, 1e6 * cfg.times.len() as f64) // a quadrature per requested time
    } else if let Some(lambda) = ridge_flow {
        let c = RidgeFlow::new(cfg.alpha, lambda, cfg.m0, cfg.q0)?.cost(
            step,
            steps as usize,
            ridge_flow::DEFAULT_LEVELS,
        );
        (c.bytes, c.seconds / SECONDS_PER_MULTIPLY_ADD)
    } else if deterministic {
        (3.0 * 8.0 * steps * steps / 2.0, steps.powi(3))
    } else {
        match cfg.solver() {
            SolverKind::Uniform => (
                n * 8.0 * (steps * steps / 2.0 + 5.0 * steps) + 3.0 * 8.0 * steps * steps / 2.0,
                n * steps.powi(3) / 3.0 * SECONDS_PER_MULTIPLY_ADD_UNIFORM
                    / SECONDS_PER_MULTIPLY_ADD,
            ),
            SolverKind::Compressed => {
                if steps > 1e9 {
                    // the cost model walks the steps: beyond 1e9 the answer is "too long" anyway
                    (0.0, f64::INFINITY)
                } else {
                    let c = super::CoarseDmft::<PhaseRetrieval>::cost(
                        n as usize,
                        cfg.history.unwrap_or(super::coarse::DEFAULT_HISTORY),
                        cfg.partners.unwrap_or(super::coarse::DEFAULT_PARTNERS),
                        steps as usize,
                    );
                    (c.bytes as f64, c.multiply_adds)
                }
            }
        }
    };
    Ok(Estimate {
        bytes: bytes.min(usize::MAX as f64) as usize,
        cpu_seconds: runs * ops * SECONDS_PER_MULTIPLY_ADD,
    })
}

/// MemAvailable of /proc/meminfo in bytes (None where it cannot be read).
pub fn available_memory() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = s.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Solve `cfg` (see the module docs).
pub fn solve(cfg: &Config) -> Result<Solution, Error> {
    solve_with_progress(cfg, &mut |_, _| {})
}

/// [`solve`], calling `progress(k, steps)` after each time step of a DMFT solver. With
/// `replicas = K > 1` the particle solver runs K times (seeds seed, seed + 1, …) and each row
/// is the mean over the runs with its standard error; a failed run fails the solve at the
/// time it failed (earlier rows are kept).
pub fn solve_with_progress(
    cfg: &Config,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Solution, Error> {
    cfg.validate()?;
    let est = estimate(cfg)?;
    let budget = cfg.budget_hours.unwrap_or(DEFAULT_BUDGET_HOURS);
    let t = cfg.times.last().copied().unwrap_or(0.0);
    let n = cfg.particles.unwrap_or(super::config::DEFAULT_PARTICLES);
    if let Some(avail) = available_memory()
        && est.bytes as f64 > avail as f64
    {
        return Err(Error::TooCostly(format!(
            "refused: t = {t} with N = {n} particles needs an estimated {:.2} GB, {:.2} GB available",
            est.bytes as f64 / 1e9,
            avail as f64 / 1e9
        )));
    }
    if est.cpu_seconds > budget * 3600.0 {
        return Err(Error::TooCostly(format!(
            "refused: t = {t} with N = {n} particles needs an estimated {:.3} CPU hours, above budget_hours = {budget} (raise it to run)",
            est.cpu_seconds / 3600.0
        )));
    }
    let replicas = cfg.replicas.unwrap_or(1);
    if replicas == 1 {
        return solve_once(cfg, progress);
    }
    let seed = cfg.seed.unwrap_or(0);
    let steps = (cfg.times.last().copied().unwrap_or(0.0) / cfg.step()).round() as usize;
    let runs = (0..replicas)
        .map(|r| {
            let one = Config {
                seed: Some(seed.wrapping_add(r as u64)),
                replicas: None,
                ..cfg.clone()
            };
            solve_once(&one, &mut |k, _| progress(r * steps + k, replicas * steps))
        })
        .collect::<Result<Vec<Solution>, Error>>()?;
    Ok(replica_mean(runs))
}

/// Rows averaged over runs, up to the first time some run did not reach; the first failed run
/// gives the termination.
fn replica_mean(runs: Vec<Solution>) -> Solution {
    let reached = runs.iter().map(|s| s.rows.len()).min().unwrap_or(0);
    let failed = runs.iter().find(|s| !s.termination.converged());
    let (termination, status) = match failed {
        Some(s) => (s.termination.clone(), s.status.clone()),
        None => (Termination::Converged, "ok".to_string()),
    };
    let stat = |j: usize, f: fn(&SolutionRow) -> f64| {
        let s = Stat::of(&runs.iter().map(|s| f(&s.rows[j])).collect::<Vec<f64>>());
        (s.mean, s.stderr)
    };
    let mut rows: Vec<SolutionRow> = (0..reached)
        .map(|j| {
            let (m, m_se) = stat(j, |r| r.m);
            let (q, q_se) = stat(j, |r| r.q);
            let (e, e_se) = stat(j, |r| r.train_loss);
            let (g, _) = stat(j, |r| r.gen_error);
            SolutionRow {
                time: runs[0].rows[j].time,
                m,
                q,
                train_loss: e,
                gen_error: g,
                status: "ok".into(),
                m_stderr: Some(m_se),
                q_stderr: Some(q_se),
                train_loss_stderr: Some(e_se),
            }
        })
        .collect();
    if failed.is_some()
        && let Some(r) = rows.last_mut()
    {
        r.status = status.clone();
    }
    Solution {
        rows,
        termination,
        status,
        error_estimate: None,
        response_ess: runs
            .iter()
            .filter_map(|s| s.response_ess)
            .reduce(|a, b| if b.particles < a.particles { b } else { a }),
    }
}

/// One run of the solver `cfg` selects.
fn solve_once(cfg: &Config, progress: &mut dyn FnMut(usize, usize)) -> Result<Solution, Error> {
    let step = cfg.step();
    let ks: Vec<usize> = cfg
        .times
        .iter()
        .map(|t| (t / step).round() as usize)
        .collect();
    let steps = *ks.last().expect("validated non-empty");
    let row = |t: f64, m: f64, q: f64, e: f64, g: f64| SolutionRow {
        time: t,
        m,
        q,
        train_loss: e,
        gen_error: g,
        status: "ok".into(),
        m_stderr: None,
        q_stderr: None,
        train_loss_stderr: None,
    };
    if cfg.method == Method::Exact {
        let lambda = match cfg.regularisation() {
            super::Regularisation::Ridge(l) => l,
            super::Regularisation::Spherical => unreachable!("validated"),
        };
        let ex = LinearRidge::new(cfg.alpha, lambda, cfg.m0, cfg.q0)?;
        let pts: Vec<ExactPoint> = match cfg.algorithm {
            // the quadrature route: Dopri5 on the spectral ODEs turns stiff near t ≈ 480
            super::Algorithm::Flow => cfg
                .times
                .iter()
                .map(|&t| ex.flow(t))
                .collect::<Result<_, _>>()?,
            _ => ks
                .iter()
                .map(|&k| ex.gd(step, k))
                .collect::<Result<_, _>>()?,
        };
        return Ok(Solution {
            rows: pts
                .iter()
                .zip(&cfg.times)
                .map(|(p, &t)| row(t, p.m, p.q, p.train_loss, p.gen_error))
                .collect(),
            termination: Termination::Converged,
            status: "ok".into(),
            error_estimate: None,
            response_ess: None,
        });
    }
    let sel = cfg.selection()?;
    if let (LossKind::Square, Algorithm::Flow, Regularisation::Ridge(lambda)) =
        (cfg.loss, cfg.algorithm, cfg.regularisation())
    {
        progress(0, steps);
        let rf = RidgeFlow::new(cfg.alpha, lambda, cfg.m0, cfg.q0)?;
        let run = rf.solve(step, ridge_flow::DEFAULT_LEVELS, &ks)?;
        progress(steps, steps);
        let (termination, status) = if run.converged {
            (Termination::Converged, "ok".to_string())
        } else {
            (
                Termination::MaxIterations,
                format!(
                    "not_converged (the Neumann series of M_C did not meet its tolerance in {} terms)",
                    ridge_flow::MAX_TERMS
                ),
            )
        };
        let rows = run
            .points
            .iter()
            .zip(&cfg.times)
            .map(|(o, &t)| SolutionRow {
                status: termination.status(),
                ..row(t, o.m, o.q, o.train_loss, o.gen_error)
            })
            .collect();
        return Ok(Solution {
            rows,
            termination,
            status,
            error_estimate: Some(run.error_estimate),
            response_ess: None,
        });
    }
    let grid = TimeGrid::new(step, steps.max(1))?;
    let (obs, termination, response_ess) = if cfg.loss == LossKind::Square && sel.is_full_batch() {
        let mut g = GaussianDmft::new(cfg.alpha, cfg.regularisation(), cfg.m0, cfg.q0, grid)?;
        let driver = Driver::new().observer(|k: usize, _: &Observation| progress(k, steps));
        let (obs, termination) = run_steps_with(&mut g, steps, driver)?;
        (obs, termination, None)
    } else {
        match cfg.loss {
            LossKind::Square => {
                particles(cfg, Loss::Square, Teacher::Linear, grid, steps, progress)?
            }
            LossKind::PhaseRetrieval => {
                particles(cfg, PhaseRetrieval, Teacher::Abs, grid, steps, progress)?
            }
        }
    };
    let mut rows = Vec::new();
    for (&k, &t) in ks.iter().zip(&cfg.times) {
        match obs.get(k) {
            Some(o)
                if o.m.is_finite()
                    && o.q.is_finite()
                    && o.train_loss.is_finite()
                    && o.gen_error.is_finite() =>
            {
                rows.push(row(t, o.m, o.q, o.train_loss, o.gen_error))
            }
            _ => break,
        }
    }
    let status = match &termination {
        Termination::Diverged { iteration, .. } => {
            format!(
                "{} (t = {})",
                termination.status(),
                *iteration as f64 * step
            )
        }
        t => t.status(),
    };
    if !termination.converged()
        && let Some(r) = rows.last_mut()
    {
        r.status = status.clone();
    }
    Ok(Solution {
        rows,
        termination,
        status,
        error_estimate: None,
        response_ess,
    })
}

/// The particle solver over the whole grid, with checkpoints when `cfg.checkpoint` is set;
/// its observations, termination and smallest M_R effective sample size.
fn particles<L>(
    cfg: &Config,
    loss: L,
    teacher: Teacher,
    grid: TimeGrid,
    steps: usize,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(Vec<Observation>, Termination, Option<ResponseEss>), Error>
where
    L: GenError + PartialEq + Serialize + DeserializeOwned,
{
    let setup = Setup {
        loss,
        teacher,
        alpha: cfg.alpha,
        regularisation: cfg.regularisation(),
        m0: cfg.m0,
        q0: cfg.q0,
        selection: cfg.selection()?,
        grid,
        particles: cfg.particles.unwrap_or(super::config::DEFAULT_PARTICLES),
        seed: cfg.seed.unwrap_or(0),
    };
    if cfg.solver() == SolverKind::Compressed {
        let mut d = CoarseDmft::new(
            setup,
            cfg.history.unwrap_or(super::coarse::DEFAULT_HISTORY),
            cfg.partners.unwrap_or(super::coarse::DEFAULT_PARTNERS),
        )?;
        let driver = Driver::new().observer(|k: usize, _: &Observation| progress(k, steps));
        let (obs, termination) = run_steps_with(&mut d, steps, driver)?;
        return Ok((obs, termination, d.response_ess()));
    }
    let Some(path) = &cfg.checkpoint else {
        let mut d = Dmft::new(setup)?;
        let driver = Driver::new().observer(|k: usize, _: &Observation| progress(k, steps));
        let (obs, termination) = run_steps_with(&mut d, steps, driver)?;
        return Ok((obs, termination, d.response_ess()));
    };
    let (mut d, history) = match checkpoint::load(path, &setup)? {
        Some(resumed) => resumed,
        None => (Dmft::new(setup)?, Vec::new()),
    };
    let offset = d.step_index();
    if offset > steps {
        return Err(Error::Checkpoint {
            path: path.display().to_string(),
            reason: format!("it is at step {offset}, beyond the last requested step {steps}"),
        });
    }
    let saver = Checkpointer::new(
        path,
        cfg.checkpoint_every.unwrap_or(checkpoint::DEFAULT_EVERY),
        history.clone(),
    );
    let driver = Driver::new()
        .observer(saver)
        .observer(|k: usize, _: &Observation| progress(k, steps))
        .start_at(offset);
    let (obs, termination) = run_steps_with(&mut d, steps, driver)?;
    Ok(([history, obs].concat(), termination, d.response_ess()))
}
