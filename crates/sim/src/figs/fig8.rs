//! fig8 — sample complexity of GD, SGD and persistent SGD on phase retrieval from a random
//! start (talk, "Performance of SGD in phase retrieval"; Mignacco, Urbani, Zdeborová, MLST
//! 2021). Spherical student ‖w‖² = d, loss Σ_μ (h_μ² − y_μ²)²/4, X_{μi} ~ N(0, 1/d),
//! y = |X w*|. Success: |m| ≥ 0.99 within the physical time budget T (t = k η); a run that
//! reaches T without it is a failure (the budget rule, stated in the summary).

use super::psgd::with_stepper;
pub use super::psgd::{ALGORITHMS, Algorithm};
use super::{check_alphas, note, same};
use crate::experiment::{Headline, Mode, Plan, PointSims, Report, Sims, SimulationSummary};
use crate::kit::success_curve::Curve;
use crate::success::{BootstrapCrossing, SuccessPoint, bootstrap_crossing};
use crate::{Experiment, Stat};
use gardner_algorithms::psgd::{self, Batch, Observation, Start};
use gardner_models::rng::Rng;
use gardner_models::run::{Termination, stop};
use serde::{Deserialize, Serialize};

/// Success threshold on the final |m|.
pub const SUCCESS_OVERLAP: f64 = 0.99;

/// A size section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeSpec {
    pub dims: Vec<usize>,
    pub alphas: Vec<f64>,
    pub seeds: usize,
    /// α values re-run at η/2 at the smallest d (the step-size check).
    pub eta_check_alphas: Vec<f64>,
}

/// `papers/fig8.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fig8 {
    pub seed: u64,
    /// Learning rate η (physical time t = k η).
    pub eta: f64,
    /// Batch fraction b of SGD and p-SGD.
    pub b: f64,
    /// Persistence time τ of p-SGD.
    pub tau: f64,
    /// Batch convention of SGD and p-SGD (required: `mean`, the talk's, or `sum`).
    pub batch: Batch,
    /// Physical time budget T: at most T/η steps.
    pub time_budget: f64,
    /// Bootstrap of α½: replicates and seed.
    pub bootstrap_replicates: usize,
    pub bootstrap_seed: u64,
    pub quick: SizeSpec,
    pub default: SizeSpec,
    pub full: SizeSpec,
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
    pub final_overlap_mean: f64,
    pub final_overlap_stderr: f64,
    /// Runs that reached the time budget without success (failures by the budget rule).
    pub runs_at_budget: usize,
    /// Mean physical time to success over the successful runs.
    pub success_time_mean: f64,
    pub status: String,
}

/// α½ of one (algorithm, d).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlphaHalf {
    pub algorithm: Algorithm,
    pub d: usize,
    pub alpha_half: BootstrapCrossing,
}

/// The step-size check: success at η and at η/2 at one (algorithm, α, d).
#[derive(Debug, Clone, Serialize)]
pub struct EtaCheck {
    pub algorithm: Algorithm,
    pub alpha: f64,
    pub d: usize,
    pub success_rate_eta: f64,
    pub success_rate_half_eta: f64,
    /// |difference| in units of its binomial standard error (√(p(1−p)(2/n)), p pooled).
    pub difference_in_stderr: f64,
}

/// The body of `data/fig8.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub budget_rule: String,
    /// How the mini-batch gradient is normalised.
    pub batch_convention: String,
    pub eta_check: Vec<EtaCheck>,
    pub alpha_half: Vec<AlphaHalf>,
    /// Algorithms by increasing α½ at the largest d (`above_grid` last).
    pub ordering_at_largest_d: Vec<Algorithm>,
    pub simulation: SimulationSummary,
}

impl Fig8 {
    pub(crate) fn section(&self, mode: Mode) -> &SizeSpec {
        mode.pick(&self.quick, &self.default, &self.full)
    }
    fn row(&self, p: &PointSims<Self>) -> Row {
        let pt = p.point;
        let n = p.done().count();
        let k = p.done().filter(|(o, _)| o.success).count();
        let sp = SuccessPoint {
            alpha: pt.alpha,
            successes: k,
            trials: n,
        };
        let (lo, hi) = sp.interval();
        let ov = p.stat(|o| o.overlap);
        let t = Stat::of(
            &p.done()
                .filter(|(o, _)| o.success)
                .map(|(o, _)| o.time)
                .collect::<Vec<_>>(),
        );
        let diverged = p
            .done()
            .filter(|(_, t)| matches!(t, Termination::Diverged { .. }))
            .count();
        let status = match (p.status(), diverged) {
            (s, _) if s.starts_with("failed") => s,
            (_, 0) => "ok".into(),
            (_, k) => format!("failed: {k}/{} seeds diverged", p.tasks.len()),
        };
        Row {
            alpha: pt.alpha,
            d: pt.d,
            algorithm: pt.algorithm,
            b: pt.algorithm.batch_fraction(self.b),
            tau: match pt.algorithm {
                Algorithm::Gd => None,
                Algorithm::Sgd => Some(pt.eta / self.b),
                Algorithm::Psgd => Some(self.tau),
            },
            eta: pt.eta,
            success_rate: sp.rate(),
            success_lo: lo,
            success_hi: hi,
            final_overlap_mean: ov.mean,
            final_overlap_stderr: ov.stderr,
            runs_at_budget: p
                .done()
                .filter(|(o, t)| !o.success && **t == Termination::Budget)
                .count(),
            success_time_mean: t.mean,
            status,
        }
    }
}

impl Experiment for Fig8 {
    type Point = Point;
    type Obs = Obs;
    type Row = Row;
    type Summary = Summary;

    fn plan(&self, mode: Mode) -> Result<Plan<Point>, String> {
        let s = self.section(mode);
        check_alphas(mode.name(), &s.alphas)?;
        check_alphas(mode.name(), &s.eta_check_alphas)?;
        if !(self.time_budget > 0.0 && self.eta > 0.0) || s.dims.is_empty() || s.seeds == 0 {
            return Err(format!(
                "invalid parameter `eta`/`time_budget`/`{}.dims`/`seeds` = {}/{}/{:?}/{}: need eta, time_budget > 0, dims non-empty, seeds >= 1",
                mode.name(),
                self.eta,
                self.time_budget,
                s.dims,
                s.seeds
            ));
        }
        for a in ALGORITHMS {
            a.selection(self.b, self.tau, self.batch, self.eta)?;
            a.selection(self.b, self.tau, self.batch, self.eta / 2.0)?;
        }
        let mut pts = Vec::new();
        for &d in &s.dims {
            for algorithm in ALGORITHMS {
                for &alpha in &s.alphas {
                    pts.push(Point {
                        alpha,
                        d,
                        algorithm,
                        eta: self.eta,
                    });
                }
            }
        }
        let d0 = *s.dims.iter().min().expect("non-empty");
        for algorithm in ALGORITHMS {
            for &alpha in &s.eta_check_alphas {
                pts.push(Point {
                    alpha,
                    d: d0,
                    algorithm,
                    eta: self.eta / 2.0,
                });
            }
        }
        Plan::new(
            pts,
            s.seeds,
            &(self.seed, self.b, self.tau, self.batch, self.time_budget),
        )
    }
    fn task_bytes(&self, p: &Point) -> u64 {
        super::psgd::task_bytes(p.alpha, p.d)
    }
    fn task_cost(&self, p: &Point) -> f64 {
        p.alpha * (p.d * p.d) as f64 * p.algorithm.batch_fraction(self.b) / p.eta
    }
    fn run(&self, p: &Point, rng: &mut Rng) -> Result<(Obs, Termination), String> {
        let steps = (self.time_budget / p.eta).ceil() as usize;
        let config = psgd::Config {
            eta: p.eta,
            max_steps: steps,
            record_every: steps.max(1),
            q_max: 1e6,
        };
        let selection = p.algorithm.selection(self.b, self.tau, self.batch, p.eta)?;
        let start = Start::Random { q0: 1.0 };
        let trace = with_stepper((p.d, p.alpha), selection, &config, &start, rng, |st| {
            psgd::driver(config.q_max)
                .stop(stop::tolerance(
                    |o: &Observation| SUCCESS_OVERLAP - o.step.m.abs(),
                    0.0,
                ))
                .stop(stop::budget(
                    |o: &Observation| o.step.time,
                    self.time_budget - 0.5 * p.eta,
                ))
                .record_every(usize::MAX)
                .run(st)
                .map_err(|e| e.to_string())
        })?;
        let last = trace.last().ok_or("no observation")?.step;
        let success = last.m.abs() >= SUCCESS_OVERLAP;
        Ok((
            Obs {
                overlap: last.m.abs(),
                success,
                time: last.time,
            },
            trace.termination,
        ))
    }
    fn report(&self, mode: Mode, sims: &Sims<Self>) -> Result<Report<Self>, String> {
        let s = self.section(mode);
        note("fig8: success curves and bootstrap…");
        let rows: Vec<Row> = sims.points.iter().map(|p| self.row(p)).collect();
        let mut alpha_half = Vec::new();
        for &d in &s.dims {
            for algorithm in ALGORITHMS {
                let member =
                    |p: &Point| same(p.eta, self.eta) && p.d == d && p.algorithm == algorithm;
                let pts = Curve::of(sims, member, |p| p.alpha, |o| o.success).points;
                let seed = self.bootstrap_seed ^ (d as u64) << 8 ^ algorithm as u64;
                let bc = bootstrap_crossing(&pts, 0.5, self.bootstrap_replicates, 0.95, seed);
                alpha_half.push(AlphaHalf {
                    algorithm,
                    d,
                    alpha_half: bc,
                });
            }
        }
        let dmax = *s.dims.iter().max().expect("validated");
        let mut order: Vec<(f64, Algorithm)> = alpha_half
            .iter()
            .filter(|a| a.d == dmax)
            .map(|a| {
                (
                    a.alpha_half.estimate.value().unwrap_or(f64::INFINITY),
                    a.algorithm,
                )
            })
            .collect();
        order.sort_by(|a, b| a.0.total_cmp(&b.0));
        let headline = alpha_half
            .iter()
            .filter_map(|a| {
                let v = a.alpha_half.estimate.value()?;
                Some(Headline::new(
                    format!("alpha_half_{:?}_d{}", a.algorithm, a.d).to_lowercase(),
                    v,
                    1e-9,
                ))
            })
            .collect();
        let rate = |a: Algorithm, alpha: f64, d: usize, eta: f64| {
            rows.iter()
                .find(|r| r.algorithm == a && same(r.alpha, alpha) && r.d == d && same(r.eta, eta))
                .map_or(f64::NAN, |r| r.success_rate)
        };
        let d0 = *s.dims.iter().min().expect("validated");
        let eta_check = ALGORITHMS
            .iter()
            .flat_map(|&a| s.eta_check_alphas.iter().map(move |&alpha| (a, alpha)))
            .map(|(a, alpha)| {
                let (p1, p2) = (
                    rate(a, alpha, d0, self.eta),
                    rate(a, alpha, d0, self.eta / 2.0),
                );
                let p = 0.5 * (p1 + p2);
                let se = (p * (1.0 - p) * 2.0 / s.seeds as f64).sqrt();
                EtaCheck {
                    algorithm: a,
                    alpha,
                    d: d0,
                    success_rate_eta: p1,
                    success_rate_half_eta: p2,
                    difference_in_stderr: if se > 0.0 { (p1 - p2).abs() / se } else { 0.0 },
                }
            })
            .collect();
        let summary = Summary {
            eta_check,
            budget_rule: format!(
                "success = |m| >= {SUCCESS_OVERLAP} within physical time T = {} (at most T/eta steps, the same T for every algorithm and d); a run reaching T without it is a failure",
                self.time_budget
            ),
            batch_convention: super::psgd::batch_convention(self.batch, self.b),
            alpha_half,
            ordering_at_largest_d: order.into_iter().map(|(_, a)| a).collect(),
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
