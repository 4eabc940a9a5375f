//! Exact solvers of ridge-regularised empirical risk minimisation on teacher data.
//!
//! Each solver minimises
//!
//! ```text
//!   J(w) = Σ_μ ℓ(y_μ, X_μ·w) + (λ/2) ‖w‖²
//! ```
//!
//! for a [`Loss`] of `gardner_models::loss` (square ½(y−z)², logistic ln(1+e^{−yz}), hinge
//! max(0, 1−yz)); the talk's λ_t ‖w‖² with (y−z)² or log₂(1+e^{−yz}) corresponds to λ = λ_t
//! (square) and λ = 2 λ_t ln 2 (logistic). Conventions: X_{μi} ~ N(0, 1/d), n = round(α d).
//! (scikit-learn's `LogisticRegression(C, fit_intercept=False)` minimises C Σ ℓ + ½‖w‖² =
//! J/λ: the same minimiser at C = 1/λ.)
//!
//! One module per loss, each solver a [`gardner_models::run::Step`] driven by the shared
//! [`gardner_models::run::Driver`]:
//!
//! - [`ridge`] (square): the normal equations by Cholesky, factored once, plus iterative
//!   refinement. Stops on ‖∇J‖₂ ≤ `grad_tol`.
//! - [`logistic`]: inexact Newton–CG: conjugate gradients on the Newton system with
//!   Hessian-vector products, one pass over a single-precision copy of X each, and an
//!   Armijo line search (exact gradient and margins, in f64). Stops on
//!   ‖∇J‖₂ ≤ `grad_tol`.
//! - [`hinge`]: the SVM dual by coordinate ascent, then projected Newton steps. Stops on the
//!   relative duality gap ≤ `gap_tol`.
//! - [`metrics`](mod@metrics): what an estimate achieves (m, q, test error, training loss and error).
//!
//! [`run`] is the one entry point (it dispatches on the loss). Each run returns the estimate
//! and a [`Trace`](crate::Trace) of [`ErmStep`]s, one per iterate from the
//! start w = 0 (iteration 0) on; the last holds the gradient norm (or duality gap) at stop.
//! Non-convergence is a [`Termination`]: `MaxIterations` at the cap, `Stalled` when the
//! logistic line search finds no decrease at machine precision, `Diverged` for a non-finite
//! objective, gradient or gap, or a failed Cholesky factorisation (quantity `Cholesky factor`).

pub mod hinge;
pub mod logistic;
pub mod metrics;
pub mod ridge;

pub use hinge::Hinge;
pub use logistic::Logistic;
pub use metrics::{Metrics, metrics};
pub use ridge::Ridge;

use crate::Termination;
use crate::error::Error;
use faer::{Mat, Par};
use gardner_models::data::{matvec, matvec_t};
use gardner_models::run::{Driver, Guard, Step, StopRule, stop};
use gardner_models::{Dataset, Loss, Rng};
use serde::{Deserialize, Serialize};

/// An ERM problem: inputs X (n × d), labels y, loss and penalty λ.
#[derive(Debug, Clone, Copy)]
pub struct Problem<'a> {
    x: &'a Mat<f64>,
    y: &'a [f64],
    loss: Loss,
    lambda: f64,
    start: Option<&'a [f64]>,
}

impl<'a> Problem<'a> {
    /// λ ≥ 0 and finite; λ > 0 for logistic and hinge (their minimisers diverge or are not
    /// unique at λ = 0 on separable data); y of length n.
    pub fn new(x: &'a Mat<f64>, y: &'a [f64], loss: Loss, lambda: f64) -> Result<Self, Error> {
        if !(lambda.is_finite() && lambda >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "lambda",
                value: lambda,
                bound: ">= 0 and finite",
            });
        }
        if lambda == 0.0 && loss != Loss::Square {
            return Err(Error::InvalidParameter {
                name: "lambda",
                value: lambda,
                bound: "> 0 for the logistic and hinge losses",
            });
        }
        if y.len() != x.nrows() {
            return Err(Error::Dimension(format!(
                "y has length {} but X has {} rows",
                y.len(),
                x.nrows()
            )));
        }
        if x.nrows() == 0 || x.ncols() == 0 {
            return Err(Error::Dimension("empty X".into()));
        }
        if lambda == 0.0 && x.nrows() == x.ncols() {
            return Err(Error::InvalidParameter {
                name: "lambda",
                value: 0.0,
                bound: "> 0 when n = d (square loss)",
            });
        }
        Ok(Self {
            x,
            y,
            loss,
            lambda,
            start: None,
        })
    }
    /// The same problem solved from `w0` (a warm start, e.g. the solution at a nearby λ)
    /// instead of w = 0: the logistic solver only ([`run`] refuses it for the square loss,
    /// solved directly, and the hinge, solved in the dual).
    pub fn starting_at(self, w0: &'a [f64]) -> Self {
        Self {
            start: Some(w0),
            ..self
        }
    }
    /// The problem on a teacher data set.
    pub fn from_dataset(data: &'a Dataset, loss: Loss, lambda: f64) -> Result<Self, Error> {
        Self::new(&data.x, &data.y, loss, lambda)
    }
    pub fn n(&self) -> usize {
        self.x.nrows()
    }
    pub fn d(&self) -> usize {
        self.x.ncols()
    }
    pub fn loss(&self) -> Loss {
        self.loss
    }
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// J(w), by two mat-vecs of its own (a check, not a solver's path).
    pub fn objective_at(&self, w: &[f64]) -> f64 {
        let mut z = vec![0.0; self.n()];
        matvec(self.x, w, &mut z, Par::Seq);
        self.objective(w, &z)
    }

    /// ‖∇J(w)‖₂ (the hinge's subgradient at the kinks), by mat-vecs of its own: a check of a
    /// solver's result, independent of its path. ‖∇J(0)‖₂ scales a relative gradient norm.
    pub fn grad_norm_at(&self, w: &[f64]) -> f64 {
        let mut z = vec![0.0; self.n()];
        matvec(self.x, w, &mut z, Par::Seq);
        norm(&self.gradient(w, &z, Par::Seq))
    }

    /// J(w) given the margins z = X w.
    fn objective(&self, w: &[f64], z: &[f64]) -> f64 {
        let l: f64 = self
            .y
            .iter()
            .zip(z)
            .map(|(&y, &z)| self.loss.value(y, z))
            .sum();
        l + 0.5 * self.lambda * dot(w, w)
    }

    /// ∇J(w) = Xᵀ ℓ'(y, z) + λ w given z = X w.
    fn gradient(&self, w: &[f64], z: &[f64], par: Par) -> Vec<f64> {
        let u: Vec<f64> = self
            .y
            .iter()
            .zip(z)
            .map(|(&y, &z)| self.loss.derivative(y, z))
            .collect();
        let mut g = vec![0.0; self.d()];
        matvec_t(self.x, &u, &mut g, par);
        for (gi, wi) in g.iter_mut().zip(w) {
            *gi += self.lambda * wi;
        }
        g
    }
}

/// Tuning parameters of the solvers (all have defaults; unknown keys are rejected).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Square and logistic: stop when ‖∇J‖₂ ≤ grad_tol.
    pub grad_tol: f64,
    /// Hinge: stop when the relative duality gap (P − D)/P ≤ gap_tol.
    pub gap_tol: f64,
    /// Newton iterations (logistic); coordinate epochs plus projected Newton steps (hinge).
    pub max_iter: usize,
    /// Threads of the mat-vecs and the Hessian products (≥ 1; 1 = sequential).
    pub threads: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            grad_tol: 1e-8,
            gap_tol: 1e-10,
            max_iter: 100_000,
            threads: 1,
        }
    }
}

impl Config {
    /// Check every field; the error names the field, its value and the bound.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |name, value, bound| Err(Error::InvalidParameter { name, value, bound });
        if !(self.grad_tol > 0.0 && self.grad_tol.is_finite()) {
            return bad("grad_tol", self.grad_tol, "> 0 and finite");
        }
        if !(self.gap_tol > 0.0 && self.gap_tol.is_finite()) {
            return bad("gap_tol", self.gap_tol, "> 0 and finite");
        }
        if self.max_iter == 0 {
            return bad("max_iter", 0.0, ">= 1");
        }
        if self.threads == 0 {
            return bad("threads", 0.0, ">= 1");
        }
        Ok(())
    }
    /// The faer parallelism.
    pub fn par(&self) -> Par {
        crate::par(self.threads)
    }
}

/// Observables of one iterate (after `iteration` Newton steps, refinements or hinge epochs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ErmStep {
    /// Solver iterations so far (0: the start w = 0).
    pub iteration: usize,
    /// J(w).
    pub objective: f64,
    /// ‖∇J(w)‖₂ (square, logistic); for the hinge, the largest KKT violation of the dual
    /// (max_μ of the projected gradient of the margins, |y_μ X_μ·w − 1| on the free set).
    pub grad_norm: f64,
    /// Hinge: relative duality gap (P − D)/P; `None` for the smooth losses.
    pub duality_gap: Option<f64>,
    /// Passes over X (or a copy of it) so far: copies, mat-vecs X v or Xᵀ u, the logistic
    /// Hessian-vector products (one fused pass each, over a single-precision row-major
    /// copy) and the hinge's coordinate epochs. The Gram products of the dense
    /// factorisations (ridge, the hinge's free set) are not counted.
    pub passes: usize,
}

/// The minimiser ŵ (length d) and the trace of a run: one record per iterate, the last holding
/// the optimality measure at stop.
pub type Solution = crate::Outcome<ErmStep>;

/// Minimise J for the problem's loss, from w = 0 or the problem's warm start
/// ([`Problem::starting_at`], logistic only). The rng orders the hinge's coordinate sweeps; the
/// smooth losses are deterministic and leave it untouched.
pub fn run(problem: &Problem<'_>, config: &Config, rng: &mut Rng) -> Result<Solution, Error> {
    config.validate()?;
    if problem.start.is_some() && problem.loss != Loss::Logistic {
        return Err(Error::InvalidParameter {
            name: "warm start",
            value: f64::NAN,
            bound: "only for the logistic loss (Newton-CG)",
        });
    }
    match problem.loss {
        Loss::Square => ridge::solve(problem, config),
        Loss::Logistic => logistic::solve(problem, config),
        Loss::Hinge => hinge::solve(problem, config, rng),
    }
}

/// A solver step that can report a failure the driver's stop rules cannot see (a failed
/// factorisation, a line search without decrease): the [`Halt`] guard stops the run on it.
trait Halting: Step<Obs = ErmStep, Error = Error> {
    /// `Some` once the solver cannot go on; the iterate is the last good one.
    fn halted(&self) -> Option<Termination>;
    /// The current estimate.
    fn into_w(self) -> Vec<f64>;
}

/// Guard: stop with the step's own termination once it has halted.
struct Halt;

impl<S: Halting> Guard<S> for Halt {
    fn check(&mut self, step: &mut S, _k: usize, _o: &ErmStep) -> Option<Termination> {
        step.halted()
    }
    fn name(&self) -> &'static str {
        "halt"
    }
}

/// Run `step` on the shared loop: divergence of the gradient (or KKT) norm, the objective
/// and the duality gap first, then `converged`, then the cap of `max_iter` iterations, then
/// the step's own halt.
fn drive<S: Halting>(
    mut step: S,
    converged: impl StopRule<ErmStep>,
    max_iter: usize,
) -> Result<Solution, Error> {
    let trace = Driver::new()
        .stop(stop::divergence(
            "grad_norm",
            |o: &ErmStep| o.grad_norm,
            f64::INFINITY,
        ))
        .stop(stop::divergence(
            "objective",
            |o: &ErmStep| o.objective,
            f64::INFINITY,
        ))
        .stop(stop::divergence(
            "duality_gap",
            |o: &ErmStep| o.duality_gap.unwrap_or(0.0),
            f64::INFINITY,
        ))
        .stop(converged)
        .stop(stop::max_iterations(max_iter))
        .guard(Halt)
        .run(&mut step)?;
    Ok(Solution {
        w: step.into_w(),
        trace,
    })
}

/// `Converged` when `metric(o) ≤ tol`.
fn at_most(metric: fn(&ErmStep) -> f64, tol: f64) -> impl StopRule<ErmStep> {
    stop::named("tolerance", move |_: usize, o: &ErmStep| {
        (metric(o) <= tol).then_some(Termination::Converged)
    })
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use gardner_models::{Gaussian, Probit, stream, teacher_data};

    pub(crate) fn data(d: usize, alpha: f64, seed: u64) -> Dataset {
        teacher_data(
            &Gaussian::new(1.0).unwrap(),
            &Probit::sign(),
            d,
            alpha,
            &mut stream(seed, 0),
        )
        .unwrap()
    }

    #[test]
    fn gradient_norm_at_stop() {
        for &(alpha, lambda) in &[(0.5, 0.1), (3.0, 1e-3), (3.0, 1.0), (1.5, 1e-4)] {
            let ds = data(200, alpha, 1);
            for loss in [Loss::Square, Loss::Logistic] {
                let p = Problem::from_dataset(&ds, loss, lambda).unwrap();
                let s = run(&p, &Config::default(), &mut stream(9, 0)).unwrap();
                assert_eq!(
                    s.trace.termination,
                    Termination::Converged,
                    "{loss} α={alpha} λ={lambda}"
                );
                // recompute the gradient independently
                let gn = p.grad_norm_at(&s.w);
                assert!(gn <= 1e-8, "{loss} α={alpha} λ={lambda}: ‖∇J‖ = {gn}");
                let last = s.trace.last().unwrap();
                assert!(last.grad_norm <= 1e-8);
                assert_eq!(last.iteration, s.trace.iterations);
                assert_eq!(s.trace.steps.len(), s.trace.iterations + 1);
            }
        }
    }

    #[test]
    fn bad_input_is_named() {
        let ds = data(50, 2.0, 1);
        let e = Problem::from_dataset(&ds, Loss::Square, -1.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("lambda") && e.contains("-1"), "{e}");
        let e = Problem::from_dataset(&ds, Loss::Logistic, 0.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("lambda"), "{e}");
        let e = Problem::new(&ds.x, &ds.y[1..], Loss::Hinge, 1.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("length"), "{e}");
        let cfg = Config {
            grad_tol: 0.0,
            ..Default::default()
        };
        let p = Problem::from_dataset(&ds, Loss::Square, 1.0).unwrap();
        assert!(
            run(&p, &cfg, &mut stream(0, 0))
                .unwrap_err()
                .to_string()
                .contains("grad_tol")
        );
    }
}
