//! One DMFT case against the microscopic simulation of the same discrete algorithm.
//!
//! A [`Config`] of `gardner_theory::dmft` (loss, α, confinement, (m0, q0), algorithm, times)
//! is run at finite d on `seeds` independent teacher–student instances with
//! `gardner_algorithms::psgd`:
//! X_{μi} ~ N(0, 1/d), n = round(α d), |w*|²/d = 1, labels y = z (square loss) or |z| (phase
//! retrieval), w(0) = m0 w* + w⊥ with |w⊥|²/d = q0 − m0², then the update of
//! `gardner_models::dynamics` at t = kη. Each row is the mean over seeds with its standard
//! error, in the columns of the DMFT's CSV, so `cargo xtask simulate` and `cargo xtask dmft`
//! of one config can be read side by side. Seed s uses the stream (`seed`, s): the table is
//! the same for any thread count.

use crate::Error;
use crate::stats::Stat;
use gardner_algorithms::gd::{self, spherical_teacher};
use gardner_algorithms::psgd::{self, Dynamics, ExpectedLoss, PsgdStep, Start, Teacher};
use gardner_models::rng::stream;
use gardner_models::{Loss, PhaseRetrieval};
use gardner_theory::dmft::{Algorithm, Config, LossKind, SolutionRow};
use rayon::prelude::*;

/// The finite-d instance: dimension d, number of seeds, base seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instances {
    d: usize,
    seeds: usize,
    seed: u64,
}

impl Instances {
    /// d ≥ 2, seeds ≥ 2 (a standard error needs two).
    pub fn new(d: usize, seeds: usize, seed: u64) -> Result<Self, Error> {
        if d < 2 {
            return Err(invalid("d", d as f64, ">= 2"));
        }
        if seeds < 2 {
            return Err(invalid("seeds", seeds as f64, ">= 2"));
        }
        Ok(Self { d, seeds, seed })
    }
}

fn invalid(name: &'static str, value: f64, bound: &'static str) -> Error {
    Error::InvalidParameter { name, value, bound }
}

/// The steps k = round(t/η) of the config's times, and η. The flow has no step to simulate.
fn steps(cfg: &Config) -> Result<(Vec<usize>, f64), Error> {
    if cfg.algorithm == Algorithm::Flow {
        return Err(Error::Spec(
            "algorithm: the flow cannot be simulated; simulate { kind = \"gd\" } with a small eta"
                .into(),
        ));
    }
    let eta = cfg.step();
    Ok((
        cfg.times
            .iter()
            .map(|t| (t / eta).round() as usize)
            .collect(),
        eta,
    ))
}

/// Simulate `cfg` on `inst` with `threads` threads (default: rayon's global pool);
/// `progress(done, seeds)` after each finished seed. Rows stop at the first time some seed did
/// not reach (a divergence), whose status is the row's status.
pub fn simulate(
    cfg: &Config,
    inst: &Instances,
    threads: Option<usize>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<SolutionRow>, Error> {
    match threads {
        None => rows(cfg, inst, progress),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map_err(|e| Error::ThreadPool {
                threads: n,
                reason: e.to_string(),
            })?
            .install(|| rows(cfg, inst, progress)),
    }
}

fn rows(
    cfg: &Config,
    inst: &Instances,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<SolutionRow>, Error> {
    cfg.validate().map_err(|e| Error::Spec(e.to_string()))?;
    let (ks, eta) = steps(cfg)?;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let runs = (0..inst.seeds)
        .into_par_iter()
        .map(|s| {
            let r = match cfg.loss {
                LossKind::Square => one(cfg, inst, s, Loss::Square, Teacher::Linear, &ks, eta),
                LossKind::PhaseRetrieval => {
                    one(cfg, inst, s, PhaseRetrieval, Teacher::Abs, &ks, eta)
                }
            };
            let k = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            progress(k, inst.seeds);
            r
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let mut rows: Vec<SolutionRow> = Vec::new();
    for (j, &t) in cfg.times.iter().enumerate() {
        let at: Vec<&PsgdStep> = runs.iter().filter_map(|(r, _)| r.get(j)).collect();
        if let Some((_, status)) = runs.iter().find(|(r, _)| r.len() <= j) {
            // a seed stopped (diverged) before t: the last complete row carries its status
            if let Some(last) = rows.last_mut() {
                last.status = status.clone();
            }
            break;
        }
        let stat = |f: fn(&PsgdStep) -> f64| Stat::of(&at.iter().map(|o| f(o)).collect::<Vec<_>>());
        let (m, q, e, g) = (
            stat(|o| o.m),
            stat(|o| o.q),
            stat(|o| o.train_loss),
            stat(|o| o.gen_error),
        );
        rows.push(SolutionRow {
            time: t,
            m: m.mean,
            q: q.mean,
            train_loss: e.mean,
            gen_error: g.mean,
            m_stderr: Some(m.stderr),
            q_stderr: Some(q.stderr),
            train_loss_stderr: Some(e.stderr),
            status: "ok".into(),
        });
    }
    Ok(rows)
}

/// Seed s: the observables at the steps `ks` it reached, and its termination status.
fn one<L: ExpectedLoss>(
    cfg: &Config,
    inst: &Instances,
    s: usize,
    loss: L,
    teacher: Teacher,
    ks: &[usize],
    eta: f64,
) -> Result<(Vec<PsgdStep>, String), Error> {
    let spec = |e: gardner_algorithms::Error| Error::Spec(e.to_string());
    let mut rng = stream(inst.seed, s as u64);
    let data = spherical_teacher(inst.d, cfg.alpha, &mut rng).map_err(spec)?;
    let y = match teacher {
        Teacher::Abs => &data.y,
        Teacher::Linear => &data.z,
    };
    let problem = psgd::Problem {
        data: gd::Problem::new(&data.x, y, &data.w_star).map_err(spec)?,
        dynamics: Dynamics {
            loss,
            teacher,
            selection: cfg.selection().map_err(|e| Error::Spec(e.to_string()))?,
            confinement: cfg.regularisation(),
        },
        start: Start::Informed {
            m0: cfg.m0,
            q0: cfg.q0,
        },
    };
    let every = ks.iter().filter(|&&k| k > 0).fold(0, |g, &k| gcd(g, k));
    let config = psgd::Config {
        max_steps: *ks.last().unwrap_or(&0),
        record_every: every.max(1),
        ..psgd::Config::new(eta).map_err(spec)?
    };
    let out = psgd::run(&problem, &config, &mut rng).map_err(spec)?;
    let status = out.trace.termination.status();
    let at: Vec<PsgdStep> = ks
        .iter()
        .map_while(|&k| out.trace.steps.iter().find(|o| o.iteration == k).copied())
        .collect();
    Ok((at, status))
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gardner_theory::dmft::LinearRidge;

    fn config(algorithm: &str) -> Config {
        Config::from_toml(&format!(
            "loss = \"square\"\nalpha = 2.0\nregularisation = {{ ridge = 0.1 }}\nm0 = 0.3\nq0 = 1.0\n\
             algorithm = {algorithm}\ntimes = [0.5, 2.0]\nmethod = \"dmft\"\nseed = 7"
        ))
        .unwrap()
    }

    /// GD on ridge regression at d = 400 × 6 seeds against the exact Marchenko–Pastur curve:
    /// m and the training loss within 4 standard errors plus an O(1/d) allowance of 0.01; the
    /// same table for 1 and 2 threads.
    #[test]
    fn gd_on_ridge_matches_the_exact_curve_and_threads_do_not_matter() {
        let cfg = config("{ kind = \"gd\", eta = 0.05 }");
        let inst = Instances::new(400, 6, 7).unwrap();
        let one = simulate(&cfg, &inst, Some(1), &|_, _| {}).unwrap();
        let two = simulate(&cfg, &inst, Some(2), &|_, _| {}).unwrap();
        assert_eq!(format!("{one:?}"), format!("{two:?}"));
        let exact = LinearRidge::new(2.0, 0.1, 0.3, 1.0).unwrap();
        for (row, k) in one.iter().zip([10, 40]) {
            let ex = exact.gd(0.05, k).unwrap();
            let (m_se, e_se) = (row.m_stderr.unwrap(), row.train_loss_stderr.unwrap());
            assert!(
                (row.m - ex.m).abs() < 4.0 * m_se + 0.01,
                "{row:?} vs {ex:?}"
            );
            assert!(
                (row.train_loss - ex.train_loss).abs() < 4.0 * e_se + 0.01,
                "{row:?} vs {ex:?}"
            );
            assert_eq!(row.status, "ok");
        }
    }

    #[test]
    fn the_flow_and_too_few_seeds_are_refused() {
        let inst = Instances::new(100, 2, 0).unwrap();
        let err = simulate(&config("{ kind = \"flow\" }"), &inst, None, &|_, _| {}).unwrap_err();
        assert!(err.to_string().contains("flow"), "{err}");
        assert!(
            Instances::new(100, 1, 0)
                .unwrap_err()
                .to_string()
                .contains("seeds")
        );
        assert!(
            Instances::new(1, 4, 0)
                .unwrap_err()
                .to_string()
                .contains("`d`")
        );
    }
}
