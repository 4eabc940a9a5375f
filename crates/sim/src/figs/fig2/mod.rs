//! fig2 — Bayes-optimal error vs optimally regularised ERM (logistic, ridge, hinge) and the
//! max-margin classifier for the spherical perceptron (talk, "Bayes vs logistic regression";
//! Aubin, Krzakala, Lu, Zdeborová, NeurIPS 2020). Teacher w* ~ N(0, ρ I), y = sign(X w*).
//!
//! Theory: the Bayes-optimal classification error (state evolution) and, per loss, the ERM
//! fixed point at the λ minimising the test error (Brent in ln λ), plus the max-margin limit
//! of the hinge. Simulation: the exact ERM minimiser at the theory's optimal λ on fresh
//! teacher data; test error arccos(ŵ·w*/‖ŵ‖‖w*‖)/π. λ multiplies (λ/2)‖w‖², natural-log
//! logistic loss. All `gen_error_*` are 0–1 classification errors against the teacher's sign.

use crate::experiment::check_counts;
use crate::experiment::{Agreement, Headline, Mode, Plan, Report, Sims, SimulationSummary, Sizes};
use crate::kit::grid::{check_alphas, same};
use crate::kit::note;
use crate::{Error, Experiment, Stat, Status};
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
    #[serde(flatten)]
    pub sizes: Sizes<RunSpec>,
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

mod report;
mod theory;

pub use report::*;
use theory::Theory;

/// One row of `data/fig2.csv`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub alpha: f64,
    pub gen_error_bayes: f64,
    pub lambda_opt_logistic: f64,
    pub gen_error_logistic_opt: f64,
    #[serde(with = "crate::table::stat")]
    pub gen_error_logistic_sim: Stat,
    pub gen_error_ridge_opt: f64,
    pub gen_error_hinge_opt: f64,
    pub gen_error_max_margin: f64,
    pub lambda_opt_ridge: f64,
    #[serde(with = "crate::table::stat")]
    pub gen_error_ridge_sim: Stat,
    pub lambda_opt_hinge: f64,
    #[serde(with = "crate::table::stat")]
    pub gen_error_hinge_sim: Stat,
    pub status: Status,
}

impl Experiment for Fig2 {
    type Point = ErmTask;
    type Obs = ErmObs;
    type Row = Row;
    type Summary = Summary;

    fn plan(&self, mode: Mode) -> Result<Plan<ErmTask>, Error> {
        let run = self.sizes.pick(mode);
        check_alphas(mode.name(), &run.alphas)?;
        check_counts(mode.name(), &[("d", run.d), ("seeds", run.seeds)], 1)?;
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

    fn run(&self, p: &ErmTask, rng: &mut Rng) -> Result<(ErmObs, Termination), Error> {
        let (prior, channel) = self.model()?;
        let data = teacher_data(&prior, &channel, p.d, p.alpha, rng)?;
        let problem = Problem::from_dataset(&data, p.loss, p.lambda)?;
        let max_iter = match p.loss {
            Loss::Hinge => self.solver.hinge_max_epochs,
            _ => self.solver.max_iter,
        };
        let config = SolverConfig {
            max_iter,
            ..SolverConfig::default()
        };
        let sol = erm::run(&problem, &config, rng)?;
        let obs = ErmObs {
            metrics: erm::metrics(&data, p.loss, &sol.w),
            grad_norm: sol.trace.last().map_or(f64::NAN, |s| s.grad_norm),
            iterations: sol.trace.iterations,
        };
        Ok((obs, sol.trace.termination))
    }
    fn report(&self, mode: Mode, sims: &Sims<Self>) -> Result<Report<Self>, Error> {
        self.tables(mode, sims)
    }
}
