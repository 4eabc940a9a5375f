//! fig2 — Bayes-optimal error vs optimally regularised ERM (logistic, ridge, hinge) and the
//! max-margin classifier for the spherical perceptron (talk, "Bayes vs logistic regression";
//! Aubin, Krzakala, Lu, Zdeborová, NeurIPS 2020). Teacher w* ~ N(0, ρ I), y = sign(X w*).
//!
//! Theory: the Bayes-optimal classification error (state evolution) and, per loss, the ERM
//! fixed point at the λ minimising the test error (Brent in ln λ), plus the max-margin limit
//! of the hinge. Simulation: the exact ERM minimiser at the theory's optimal λ on fresh
//! teacher data; test error arccos(ŵ·w*/‖ŵ‖‖w*‖)/π. λ multiplies (λ/2)‖w‖², natural-log
//! logistic loss. All `gen_error_*` are 0–1 classification errors against the teacher's sign.

use super::{check_alphas, note, same};
use crate::experiment::{Agreement, Headline, Mode, Plan, Report, Sims, SimulationSummary};
use crate::{Experiment, Stat};
use gardner_algorithms::erm::{self, Config as SolverConfig, Problem};
use gardner_models::rng::Rng;
use gardner_models::run::Termination;
use gardner_models::{Gaussian, Loss, Probit, teacher_data};
use gardner_theory::erm::{self as erm_theory, ErmConfig, ErmProblem, LambdaSearch};
use gardner_theory::{SeConfig, bayes_point};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// `papers/fig2.toml`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fig2 {
    pub model: Model,
    pub theory: TheorySpec,
    pub solver: SolverSpec,
    pub quick: RunSpec,
    pub default: RunSpec,
    pub full: RunSpec,
    /// Theory by α, computed once for `plan` (optimal λ) and reused by `report`.
    #[serde(skip)]
    memo: Mutex<Vec<(f64, Theory)>>,
}

/// `[model]`: w* ~ N(0, rho), y = sign(X w* + sqrt(probit_delta) ξ).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub rho: f64,
    pub probit_delta: f64,
}

/// `[theory]`: the optimal-λ search bracket and the α of the large-α constants.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TheorySpec {
    pub lambda_min: f64,
    pub lambda_max: f64,
    pub lambda_grid: usize,
    pub log_tol: f64,
    pub large_alpha: f64,
}

/// `[solver]`: Newton iterations (logistic) / coordinate epochs plus projected Newton steps
/// (hinge) before `not_converged`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolverSpec {
    pub max_iter: usize,
    pub hinge_max_epochs: usize,
}

/// `[quick]`, `[default]`, `[full]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    pub alphas: Vec<f64>,
    pub d: usize,
    pub seeds: usize,
    pub base_seed: u64,
}

/// The losses, in table order.
const LOSSES: [Loss; 3] = [Loss::Logistic, Loss::Square, Loss::Hinge];

/// One task: exact ERM with `loss` at the theory's optimal `lambda` on fresh data at (α, d).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ErmTask {
    pub loss: Loss,
    pub alpha: f64,
    pub d: usize,
    pub lambda: f64,
}

/// The minimiser's metrics on its data set (test error, m, q, train error and loss), the
/// optimality measure at stop (‖∇J‖, or the hinge's largest KKT violation), the iterations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ErmObs {
    #[serde(flatten)]
    pub metrics: erm::Metrics,
    pub grad_norm: f64,
    pub iterations: usize,
}

/// Theory at one α: per loss (in [`LOSSES`] order) the optimal λ and its error, the notes.
#[derive(Debug, Clone)]
struct Theory {
    bayes: f64,
    lambda: [f64; 3],
    error: [f64; 3],
    max_margin: f64,
    /// Problems of the theory, as status notes (empty: all fine).
    notes: Vec<String>,
}

fn status(notes: Vec<String>) -> String {
    if notes.is_empty() {
        "ok".into()
    } else {
        notes.join("; ")
    }
}

/// One row of `data/fig2.csv`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub alpha: f64,
    pub gen_error_bayes: f64,
    pub lambda_opt_logistic: f64,
    pub gen_error_logistic_opt: f64,
    pub gen_error_logistic_sim_mean: Option<f64>,
    pub gen_error_logistic_sim_stderr: Option<f64>,
    pub gen_error_ridge_opt: f64,
    pub gen_error_hinge_opt: f64,
    pub gen_error_max_margin: f64,
    pub lambda_opt_ridge: f64,
    pub gen_error_ridge_sim_mean: Option<f64>,
    pub gen_error_ridge_sim_stderr: Option<f64>,
    pub lambda_opt_hinge: f64,
    pub gen_error_hinge_sim_mean: Option<f64>,
    pub gen_error_hinge_sim_stderr: Option<f64>,
    pub status: String,
}

/// `[parameters]` of `data/fig2.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Parameters {
    #[serde(flatten)]
    pub model: Model,
    #[serde(flatten)]
    pub run: RunSpec,
    pub lambda_convention: &'static str,
    pub lambda_search: LambdaSearch,
    pub solver: SolverSpec,
    #[serde(flatten)]
    pub cost: SimulationSummary,
}

/// `[large_alpha]`: the constants α·ε at `theory.large_alpha`.
#[derive(Debug, Clone, Serialize)]
pub struct LargeAlpha {
    pub alpha: f64,
    pub alpha_eps_bayes: f64,
    pub alpha_eps_logistic_opt: f64,
    pub lambda_opt_logistic: f64,
    pub logistic_over_bayes: f64,
    pub alpha_eps_ridge_opt: f64,
    pub lambda_opt_ridge: f64,
    pub alpha_eps_hinge_opt: f64,
    pub lambda_opt_hinge: f64,
    pub alpha_eps_max_margin: f64,
    pub status: String,
    pub literature: &'static str,
}

/// `[agreement]` over all losses, and per loss.
#[derive(Debug, Clone, Serialize)]
pub struct Agreements {
    #[serde(flatten)]
    pub all: Agreement,
    pub logistic: Agreement,
    pub square: Agreement,
    pub hinge: Agreement,
}

/// The body of `data/fig2.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub parameters: Parameters,
    pub large_alpha: LargeAlpha,
    pub agreement: Agreements,
}

impl TheorySpec {
    fn search(&self) -> LambdaSearch {
        let (lambda_min, lambda_max) = (self.lambda_min, self.lambda_max);
        let (grid, log_tol) = (self.lambda_grid, self.log_tol);
        LambdaSearch {
            lambda_min,
            lambda_max,
            grid,
            log_tol,
        }
    }
}

impl Fig2 {
    pub(crate) fn section(&self, mode: Mode) -> &RunSpec {
        mode.pick(&self.quick, &self.default, &self.full)
    }
    fn model(&self) -> Result<(Gaussian, Probit), String> {
        let prior = Gaussian::new(self.model.rho).map_err(|e| e.to_string())?;
        Ok((
            prior,
            Probit::new(self.model.probit_delta).map_err(|e| e.to_string())?,
        ))
    }
    fn theory_at(&self, alpha: f64) -> Result<Theory, String> {
        let (prior, channel) = self.model()?;
        let bp = bayes_point(&prior, &channel, alpha, &SeConfig::default())
            .map_err(|e| format!("bayes alpha = {alpha}: {e}"))?;
        let mut notes = Vec::new();
        if !bp.status.converged() {
            notes.push("bayes: not_converged".to_string());
        }
        let (cfg, rho) = (ErmConfig::default(), self.model.rho);
        let (mut lambda, mut error) = ([f64::NAN; 3], [f64::NAN; 3]);
        for (k, &loss) in LOSSES.iter().enumerate() {
            match ErmProblem::new(alpha, 1.0, rho, loss, channel)
                .and_then(|p| erm_theory::optimal_lambda(&p, &cfg, &self.theory.search()))
            {
                Err(e) => notes.push(format!("failed: {loss} theory: {e}")),
                Ok(o) => {
                    (lambda[k], error[k]) = (o.lambda, o.point.test_error);
                    if !o.status.converged() {
                        notes.push(format!("{loss} theory: {}", o.status.status()));
                    }
                    if o.at_bound {
                        notes.push(format!("{loss} lambda_opt at search bound {:e}", o.lambda));
                    }
                }
            }
        }
        let max_margin = match ErmProblem::new(alpha, 0.0, rho, Loss::Hinge, channel)
            .and_then(|p| erm_theory::max_margin(&p, &cfg))
        {
            Err(e) => {
                notes.push(format!("failed: max_margin: {e}"));
                f64::NAN
            }
            Ok(pt) => {
                if !pt.status.converged() {
                    notes.push(format!("max_margin: {}", pt.status.status()));
                }
                pt.test_error
            }
        };
        let bayes = bp.class_error_bayes;
        Ok(Theory {
            bayes,
            lambda,
            error,
            max_margin,
            notes,
        })
    }
    /// Theory at every α of `alphas`, computing (in parallel) only the α not seen before.
    fn theory(&self, alphas: &[f64]) -> Result<Vec<Theory>, String> {
        check_alphas("theory", alphas)?;
        let memo = || self.memo.lock().map_err(|e| e.to_string());
        let todo: Vec<f64> = (alphas.iter().copied())
            .filter(|&a| !memo().is_ok_and(|m| m.iter().any(|(b, _)| *b == a)))
            .collect();
        if !todo.is_empty() {
            note(format!(
                "fig2: Bayes and optimal-lambda ERM theory at {} alphas…",
                todo.len()
            ));
        }
        let new: Vec<(f64, Theory)> = (todo.par_iter())
            .map(|&a| self.theory_at(a).map(|t| (a, t)))
            .collect::<Result<_, _>>()?;
        let mut memo = memo()?;
        memo.extend(new);
        let get = |a: f64| memo.iter().find(|(b, _)| *b == a).map(|p| p.1.clone());
        (alphas.iter())
            .map(|&a| get(a).ok_or_else(|| format!("no theory at alpha = {a}")))
            .collect()
    }
}

impl Experiment for Fig2 {
    type Point = ErmTask;
    type Obs = ErmObs;
    type Row = Row;
    type Summary = Summary;

    fn plan(&self, mode: Mode) -> Result<Plan<ErmTask>, String> {
        let run = self.section(mode);
        check_alphas(mode.name(), &run.alphas)?;
        if run.d == 0 || run.seeds == 0 {
            return Err(format!(
                "invalid parameter `{}.d`/`seeds`: must be >= 1",
                mode.name()
            ));
        }
        let mut alphas = run.alphas.clone();
        alphas.push(self.theory.large_alpha);
        let theory = self.theory(&alphas)?;
        let mut points = Vec::new();
        for (k, &loss) in LOSSES.iter().enumerate() {
            for (&alpha, t) in run.alphas.iter().zip(&theory) {
                // no optimal λ, no simulation (the theory's failure is in the status column)
                if t.lambda[k].is_finite() {
                    points.push(ErmTask {
                        loss,
                        alpha,
                        d: run.d,
                        lambda: t.lambda[k],
                    });
                }
            }
        }
        Plan::new(
            points,
            run.seeds,
            &(&self.model, &self.solver, run.base_seed),
        )
    }

    /// X (n × d) and its scaled copy (Newton, Cholesky) or transpose (hinge), the Gram matrix
    /// and its factor (min(n, d)², plus the hinge's free-set rows), O(n + d) vectors.
    fn task_bytes(&self, p: &ErmTask) -> u64 {
        let (n, d) = (((p.alpha * p.d as f64).round() as u64).max(1), p.d as u64);
        let m = n.min(d);
        // hinge: the free-set rows (k × d) and Gram matrix (k × k), k ≤ min(n, 2d) ≤ 2m
        let extra = if p.loss == Loss::Hinge {
            2 * m * d + 4 * m * m
        } else {
            0
        };
        8 * (2 * n * d + 2 * m * m + extra + 16 * (n + d))
    }

    fn run(&self, p: &ErmTask, rng: &mut Rng) -> Result<(ErmObs, Termination), String> {
        let (prior, channel) = self.model()?;
        let data = teacher_data(&prior, &channel, p.d, p.alpha, rng).map_err(|e| e.to_string())?;
        let problem = Problem::from_dataset(&data, p.loss, p.lambda).map_err(|e| e.to_string())?;
        let max_iter = match p.loss {
            Loss::Hinge => self.solver.hinge_max_epochs,
            _ => self.solver.max_iter,
        };
        let config = SolverConfig {
            max_iter,
            ..SolverConfig::default()
        };
        let sol = erm::run(&problem, &config, rng).map_err(|e| e.to_string())?;
        let obs = ErmObs {
            metrics: erm::metrics(&data, p.loss, &sol.w),
            grad_norm: sol.trace.last().map_or(f64::NAN, |s| s.grad_norm),
            iterations: sol.trace.iterations,
        };
        Ok((obs, sol.trace.termination))
    }

    fn report(&self, mode: Mode, sims: &Sims<Self>) -> Result<Report<Self>, String> {
        let run = self.section(mode);
        let theory = self.theory(&run.alphas)?;
        let mut pairs: [Vec<(f64, Stat)>; 3] = Default::default();
        let rows: Vec<Row> = (run.alphas.iter().zip(&theory))
            .map(|(&alpha, t)| {
                let mut notes = t.notes.clone();
                let [lo, sq, hi] = [0, 1, 2].map(|k| {
                    let s = sims.find(|p| p.loss == LOSSES[k] && same(p.alpha, alpha))?;
                    if s.status() != "ok" {
                        notes.push(format!("{} sim: {}", LOSSES[k], s.status()));
                    }
                    pairs[k].push((t.error[k], s.stat(|o| o.metrics.test_error)));
                    Some(s.stat(|o| o.metrics.test_error))
                });
                Row {
                    alpha,
                    gen_error_bayes: t.bayes,
                    lambda_opt_logistic: t.lambda[0],
                    gen_error_logistic_opt: t.error[0],
                    gen_error_logistic_sim_mean: lo.map(|s| s.mean),
                    gen_error_logistic_sim_stderr: lo.map(|s| s.stderr),
                    gen_error_ridge_opt: t.error[1],
                    gen_error_hinge_opt: t.error[2],
                    gen_error_max_margin: t.max_margin,
                    lambda_opt_ridge: t.lambda[1],
                    gen_error_ridge_sim_mean: sq.map(|s| s.mean),
                    gen_error_ridge_sim_stderr: sq.map(|s| s.stderr),
                    lambda_opt_hinge: t.lambda[2],
                    gen_error_hinge_sim_mean: hi.map(|s| s.mean),
                    gen_error_hinge_sim_stderr: hi.map(|s| s.stderr),
                    status: status(notes),
                }
            })
            .collect();
        let a = self.theory.large_alpha;
        let l = self.theory(&[a])?.remove(0);
        let large_alpha = LargeAlpha {
            alpha: a,
            alpha_eps_bayes: a * l.bayes,
            alpha_eps_logistic_opt: a * l.error[0],
            lambda_opt_logistic: l.lambda[0],
            logistic_over_bayes: l.error[0] / l.bayes,
            alpha_eps_ridge_opt: a * l.error[1],
            lambda_opt_ridge: l.lambda[1],
            alpha_eps_hinge_opt: a * l.error[2],
            lambda_opt_hinge: l.lambda[2],
            alpha_eps_max_margin: a * l.max_margin,
            status: status(l.notes),
            literature: "Bayes ~ 0.4417/alpha; max-margin ~ 0.50/alpha; optimal logistic close to Bayes (see papers/README.md)",
        };
        // Theory only, deterministic: Bayes from state evolution (as fig1), max-margin from a
        // fixed point at relative tolerance 1e-10; the optimal-λ errors at a λ located to 2e-3
        // in ln λ (an error flat to ~1e-7 there).
        let la = &large_alpha;
        let headline = [
            ("bayes", la.alpha_eps_bayes, 1e-9),
            ("logistic_opt", la.alpha_eps_logistic_opt, 1e-6),
            ("ridge_opt", la.alpha_eps_ridge_opt, 1e-6),
            ("hinge_opt", la.alpha_eps_hinge_opt, 1e-6),
            ("max_margin", la.alpha_eps_max_margin, 1e-8),
        ]
        .map(|(name, v, tol)| Headline::new(format!("alpha_eps_{name}_at_large_alpha"), v, tol));
        let agree = |what: &str, p: &[(f64, Stat)]| Agreement::of(what, p.iter().copied(), 0.0);
        let all: Vec<(f64, Stat)> = pairs.concat();
        let summary = Summary {
            parameters: Parameters {
                model: self.model,
                run: run.clone(),
                lambda_convention: "J = sum loss + (lambda/2)|w|^2, natural-log logistic loss",
                lambda_search: self.theory.search(),
                solver: self.solver,
                cost: SimulationSummary::of(sims),
            },
            large_alpha,
            agreement: Agreements {
                all: agree(
                    "gen_error_<loss>_opt vs exact ERM at the theory's lambda",
                    &all,
                ),
                logistic: agree("logistic", &pairs[0]),
                square: agree("square (ridge)", &pairs[1]),
                hinge: agree("hinge", &pairs[2]),
            },
        };
        let headline = headline.to_vec();
        Ok(Report {
            rows,
            summary,
            headline,
            check_rel_tol: 1e-6,
        })
    }
}
