//! fig8 — sample complexity of GD, SGD and persistent SGD on phase retrieval from a random
//! start (talk, "Performance of SGD in phase retrieval"; Mignacco, Urbani, Zdeborová, MLST
//! 2021). Spherical student ‖w‖² = d, loss Σ_μ (h_μ² − y_μ²)²/4, X_{μi} ~ N(0, 1/d),
//! y = |X w*|. Success: |m| ≥ 0.99 within the physical time budget T (t = k η); a run that
//! reaches T without it is a failure (the budget rule, stated in the summary).

use super::{check_alphas, note, same};
use crate::experiment::{Headline, Mode, Plan, PointSims, Report, Sims, SimulationSummary};
use crate::findings::{Findings, Verdict, sig};
use crate::plot::{Axis, Panel, Plot, Role, Series};
use crate::success::{BootstrapCrossing, SuccessPoint, bootstrap_crossing};
use crate::{Experiment, Stat};
use gardner_algorithms::gd::{Problem, spherical_teacher};
use gardner_algorithms::psgd::{
    self, Batch, Confinement, Dynamics, Observation, Selection, Start, Teacher,
};
use gardner_models::PhaseRetrieval;
use gardner_models::rng::Rng;
use gardner_models::run::{Termination, stop};
use serde::{Deserialize, Serialize};

/// Success threshold on the final |m|.
pub const SUCCESS_OVERLAP: f64 = 0.99;

/// The three algorithms (one dynamics, three selection processes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    Gd,
    Sgd,
    Psgd,
}

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

/// What the plot and the findings read back from `data/fig8.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Digest {
    pub alpha_half: Vec<AlphaHalf>,
    pub eta_check: Vec<EtaCheckRead>,
}

/// One `[[eta_check]]` as read back.
#[derive(Debug, Clone, Deserialize)]
pub struct EtaCheckRead {
    pub algorithm: Algorithm,
    pub alpha: f64,
    pub difference_in_stderr: f64,
}

impl Algorithm {
    /// The plot role (colour) of the algorithm.
    pub fn role(&self) -> Role {
        match self {
            Algorithm::Gd => Role::Gd,
            Algorithm::Sgd => Role::Sgd,
            Algorithm::Psgd => Role::Psgd,
        }
    }
}

/// `a [lo, hi]` of a bootstrap crossing, or where it lies.
fn crossing_text(c: &BootstrapCrossing) -> String {
    match c.estimate {
        crate::success::Crossing::At(a) => {
            format!("{} [{}, {}]", sig(a, 3), sig(c.lo, 3), sig(c.hi, 3))
        }
        crate::success::Crossing::BelowGrid => "below the α grid".into(),
        crate::success::Crossing::AboveGrid => "above the α grid".into(),
    }
}

impl Fig8 {
    fn section(&self, mode: Mode) -> &SizeSpec {
        mode.pick(&self.quick, &self.default, &self.full)
    }
    fn selection(&self, a: Algorithm, eta: f64) -> Result<Selection, String> {
        let s = match a {
            Algorithm::Gd => Ok(Selection::gd()),
            Algorithm::Sgd => Selection::sgd(self.b, eta, self.batch),
            Algorithm::Psgd => Selection::persistent(self.b, self.tau, self.batch),
        };
        let s = s.map_err(|e| e.to_string())?;
        s.probabilities(eta).map_err(|e| e.to_string())?;
        Ok(s)
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
            b: if pt.algorithm == Algorithm::Gd {
                1.0
            } else {
                self.b
            },
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

const ALGORITHMS: [Algorithm; 3] = [Algorithm::Gd, Algorithm::Sgd, Algorithm::Psgd];

impl Experiment for Fig8 {
    const ID: &'static str = "fig8";
    const TITLE: &'static str =
        "Phase retrieval from a random start: success of GD, SGD and persistent SGD vs alpha";
    const PAPER: &'static str = "Mignacco, Urbani, Zdeborová, MLST 2021 (arXiv:2103.04902); Mignacco, Krzakala, Urbani, Zdeborová, NeurIPS 2020 (arXiv:2006.06098)";
    type Point = Point;
    type Obs = Obs;
    type Row = Row;
    type Summary = Summary;
    type Digest = Digest;
    const CLAIM: &'static str = "From a random start, persistent SGD recovers the phase from fewer samples than GD and SGD: its success curve lies to the left.";

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
            self.selection(a, self.eta)?;
            self.selection(a, self.eta / 2.0)?;
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
        let n = (p.alpha * p.d as f64).round() as u64;
        // X (n × d) and its row-major copy, plus O(n + d) vectors
        16 * n * p.d as u64 + 64 * (n + p.d as u64)
    }
    fn task_cost(&self, p: &Point) -> f64 {
        let b = if p.algorithm == Algorithm::Gd {
            1.0
        } else {
            self.b
        };
        p.alpha * (p.d * p.d) as f64 * b / p.eta
    }
    fn run(&self, p: &Point, rng: &mut Rng) -> Result<(Obs, Termination), String> {
        let data = spherical_teacher(p.d, p.alpha, rng).map_err(|e| e.to_string())?;
        let problem = Problem::from_dataset(&data).map_err(|e| e.to_string())?;
        let dynamics = Dynamics {
            loss: PhaseRetrieval,
            teacher: Teacher::Abs,
            selection: self.selection(p.algorithm, p.eta)?,
            confinement: Confinement::Spherical,
        };
        let steps = (self.time_budget / p.eta).ceil() as usize;
        let config = psgd::Config {
            eta: p.eta,
            max_steps: steps,
            record_every: steps.max(1),
            q_max: 1e6,
        };
        let w0 = psgd::draw(&Start::Random { q0: 1.0 }, problem.w_star(), rng)
            .map_err(|e| e.to_string())?;
        let mut st = psgd::Stepper::new(&problem, &dynamics, w0, &config, rng.clone())
            .map_err(|e| e.to_string())?;
        let trace = psgd::driver(config.q_max)
            .stop(stop::tolerance(
                |o: &Observation| SUCCESS_OVERLAP - o.step.m.abs(),
                0.0,
            ))
            .stop(stop::budget(
                |o: &Observation| o.step.time,
                self.time_budget - 0.5 * p.eta,
            ))
            .record_every(config.record_every)
            .run(&mut st)
            .map_err(|e| e.to_string())?;
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
                let pts: Vec<SuccessPoint> = sims
                    .points
                    .iter()
                    .filter(|p| same(p.point.eta, self.eta))
                    .filter(|p| p.point.d == d && p.point.algorithm == algorithm)
                    .map(|p| SuccessPoint {
                        alpha: p.point.alpha,
                        successes: p.done().filter(|(o, _)| o.success).count(),
                        trials: p.done().count(),
                    })
                    .collect();
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
            batch_convention: super::dmft_vs_sim::batch_convention(self.batch, self.b),
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

    fn plot(&self, mode: Mode, rows: &[Row], g: &Digest) -> Result<Plot, String> {
        let s = self.section(mode);
        let main: Vec<&Row> = rows.iter().filter(|r| same(r.eta, self.eta)).collect();
        let mut panels = Vec::new();
        for (k, &d) in s.dims.iter().enumerate() {
            let mut p = Panel::new(
                format!("d = {d}"),
                Axis::linear("α = n/d (samples per dimension)").shared(),
                Axis::linear("P(success): |m| ≥ 0.99 by t = T").range(-0.03, 1.03),
            );
            if k == 0 {
                p.notes = vec![format!(
                    "{} runs per point, T = {}, η = {}, b = {}, τ = {}; bars: 95 % Wilson",
                    s.seeds, self.time_budget, self.eta, self.b, self.tau
                )];
            }
            for a in ALGORITHMS {
                let sel: Vec<&Row> = main
                    .iter()
                    .copied()
                    .filter(|r| r.d == d && r.algorithm == a)
                    .collect();
                p.series
                    .push(Series::interval(a.role(), a.role().name(), &sel, |r| {
                        Some((r.alpha, r.success_rate, r.success_lo, r.success_hi))
                    }));
            }
            panels.push(p);
        }
        let mut half = Panel::new(
            "α at 50 % success vs d",
            Axis::log("d (dimension)"),
            Axis::linear("α_{1/2}: 50 % success crossing"),
        );
        if let Some(&dmax) = s.dims.iter().max() {
            let v: Vec<String> = ALGORITHMS
                .iter()
                .rev()
                .filter_map(|&a| {
                    let x = g
                        .alpha_half
                        .iter()
                        .find(|x| x.algorithm == a && x.d == dmax)?;
                    Some(format!(
                        "{} ({})",
                        sig(x.alpha_half.estimate.value()?, 3),
                        a.role().name()
                    ))
                })
                .collect();
            half.notes = vec![
                format!("d = {dmax}: α_{{1/2}} = {}", v.join(", ")),
                "bars: 95 % bootstrap intervals".into(),
            ];
        }
        for a in ALGORITHMS {
            let sel: Vec<&AlphaHalf> = g.alpha_half.iter().filter(|x| x.algorithm == a).collect();
            if sel.iter().any(|x| x.alpha_half.estimate.value().is_some()) {
                half.series
                    .push(Series::interval(a.role(), a.role().name(), &sel, |x| {
                        let c = &x.alpha_half;
                        Some((x.d as f64, c.estimate.value()?, c.lo, c.hi))
                    }));
            }
        }
        if !half.series.is_empty() {
            panels.push(half);
        }
        Ok(Plot::new(
            "fig8 · Phase retrieval from a random start: success of GD, SGD and persistent SGD within a fixed time",
            2,
            panels,
        ))
    }

    fn findings(&self, mode: Mode, _: &[Row], g: &Digest) -> Result<Findings, String> {
        let s = self.section(mode);
        let mut numbers = Vec::new();
        let at =
            |a: Algorithm, d: usize| g.alpha_half.iter().find(|x| x.algorithm == a && x.d == d);
        for a in ALGORITHMS {
            let v: Vec<String> = s
                .dims
                .iter()
                .filter_map(|&d| {
                    at(a, d).map(|x| format!("{} (d = {d})", crossing_text(&x.alpha_half)))
                })
                .collect();
            numbers.push(format!("α_½, {}: {}", a.role().name(), v.join(", ")));
        }
        let worst = g
            .eta_check
            .iter()
            .max_by(|a, b| a.difference_in_stderr.total_cmp(&b.difference_in_stderr));
        let agreement = worst
            .map(|w| {
                vec![format!(
                    "step size η vs η/2 at d = {}: success rates differ by at most {} binomial s.e. ({} at α = {})",
                    s.dims.iter().min().copied().unwrap_or(0),
                    sig(w.difference_in_stderr, 2),
                    w.algorithm.role().name(),
                    w.alpha
                )]
            })
            .unwrap_or_default();
        // per d: p-SGD's interval lies below GD's and SGD's estimates
        let (mut below, mut first, mut sizes) = (0, 0, 0);
        for &d in &s.dims {
            let (Some(p), Some(gd), Some(sgd)) = (
                at(Algorithm::Psgd, d),
                at(Algorithm::Gd, d),
                at(Algorithm::Sgd, d),
            ) else {
                continue;
            };
            sizes += 1;
            let value = |x: &AlphaHalf| x.alpha_half.estimate.value().unwrap_or(f64::INFINITY);
            let pv = p.alpha_half.estimate.value();
            if pv.is_some_and(|v| v < value(gd) && v < value(sgd)) {
                first += 1;
            }
            if pv.is_some() && p.alpha_half.hi < value(gd).min(value(sgd)) {
                below += 1;
            }
        }
        let verdict = if sizes == 0 {
            Verdict::Open
        } else if below == sizes {
            Verdict::Reproduced
        } else if first == sizes {
            Verdict::Open
        } else {
            Verdict::NotReproducedAtTheseSizes
        };
        Ok(Findings {
            numbers,
            agreement,
            verdict,
            reason: format!(
                "Rule: at every d, p-SGD's 95 % bootstrap interval of α_½ lies below the GD and SGD estimates ({below} of {sizes} sizes; p-SGD has the smallest α_½ at {first} of {sizes})."
            ),
        })
    }
}
