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
//!
//! - **square**: the normal equations by Cholesky (faer `llt`), in the primal form
//!   (XᵀX + λ I_d) w = Xᵀ y for n ≥ d and the dual form w = Xᵀ (X Xᵀ + λ I_n)⁻¹ y for n < d
//!   (which also gives the least-norm interpolator at λ = 0 when n < d), plus one step of
//!   iterative refinement. Stops on ‖∇J‖₂ ≤ `grad_tol`.
//! - **logistic**: Newton's method with Armijo backtracking; the Hessian Xᵀ D X + λ I is
//!   factored by Cholesky (d × d), or by Woodbury through the n × n matrix
//!   λ I + D^{1/2} X Xᵀ D^{1/2} when n < d. Stops on ‖∇J‖₂ ≤ `grad_tol`.
//! - **hinge**: the SVM dual max_{0 ≤ a ≤ C} Σ a_μ − ½ ‖Σ a_μ y_μ X_μ‖², C = 1/λ,
//!   w = Σ a_μ y_μ X_μ. Dual coordinate ascent (Hsieh et al. 2008, random order) until the
//!   relative duality gap is below 0.3, then projected Newton steps on the box-constrained dual:
//!   samples at a bound whose gradient points outward are held there, the free multipliers
//!   are solved for exactly from the margin conditions y_μ X_μ·w = 1 (Cholesky of the free-set
//!   Gram matrix, with a 1e-10 relative ridge only while the free set is larger than d), and a
//!   backtracking search along the projected path keeps the step only if it raises the dual;
//!   a coordinate epoch follows any step that does not. Once the partition is right a step
//!   lands on the exact optimum (gap at round-off, ≈ 1e-13). Every iteration recomputes w from
//!   a and the gap; stops when the relative gap (P − D)/P ≤ `gap_tol` (P, D: primal and dual
//!   of the SVM form J/λ). Measured at d = 1000 on fig2's default grid (λ at the theory's
//!   optimum, α = 0.2 … 10): converged in 4 … 321 iterations, 0.01 … 49 s on one thread.
//!
//! Each run returns the estimate and a [`Trace`] of [`ErmStep`]s whose last entry holds the
//! gradient norm (or duality gap) at stop.

use crate::error::Error;
use crate::{Termination, Trace};
use faer::linalg::matmul::matmul;
use faer::prelude::Solve;
use faer::{Accum, Mat, Par, Side};
use gardner_models::data::{matvec, matvec_t};
use gardner_models::{Dataset, Loss, Rng, class_error};
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// An ERM problem: inputs X (n × d), labels y, loss and penalty λ.
#[derive(Debug, Clone, Copy)]
pub struct Problem<'a> {
    x: &'a Mat<f64>,
    y: &'a [f64],
    loss: Loss,
    lambda: f64,
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
        Ok(Self { x, y, loss, lambda })
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
    /// Threads of the mat-vecs and the Hessian products (≥ 1; 1 = `Par::Seq`).
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

/// Observables after one solver iteration (a Newton step, a hinge epoch, a linear solve).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ErmStep {
    /// 1-based iteration (epoch for the hinge).
    pub iteration: usize,
    /// J(w).
    pub objective: f64,
    /// ‖∇J(w)‖₂ (square, logistic); for the hinge, the largest KKT violation of the dual
    /// (max_μ of the projected gradient of the margins, |y_μ X_μ·w − 1| on the free set).
    pub grad_norm: f64,
    /// Hinge: relative duality gap (P − D)/P; `None` for the smooth losses.
    pub duality_gap: Option<f64>,
}

/// The estimate and the trace of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// The minimiser ŵ (length d).
    pub w: Vec<f64>,
    /// Per-iteration record; the last step holds the optimality measure at stop.
    pub trace: Trace<ErmStep>,
}

/// Minimise J for the problem's loss. The rng orders the hinge's coordinate sweeps; the
/// smooth losses are deterministic.
pub fn run(problem: &Problem<'_>, config: &Config, rng: &mut Rng) -> Result<Solution, Error> {
    config.validate()?;
    match problem.loss {
        Loss::Square => Ok(ridge(problem, config)),
        Loss::Logistic => Ok(newton(problem, config)),
        Loss::Hinge => Ok(hinge_svm(problem, config, rng)),
    }
}

/// A trace of 1-based solver iterations: the last record is of iteration `steps.len()`.
fn trace(steps: Vec<ErmStep>, termination: Termination) -> Trace<ErmStep> {
    let iterations = steps.len();
    Trace {
        steps,
        termination,
        iterations,
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// Solve (XᵀDX + λI) p = r with D = diag(s²) given as `s` (None: D = I).
/// Primal Cholesky when n ≥ d, Woodbury through the n × n system otherwise.
fn solve_normal(
    p: &Problem<'_>,
    s: Option<&[f64]>,
    lambda: f64,
    r: &[f64],
    par: Par,
) -> Option<Vec<f64>> {
    let (n, d) = (p.n(), p.d());
    let xs: Mat<f64> = match s {
        None => p.x.to_owned(),
        Some(s) => Mat::from_fn(n, d, |i, j| s[i] * p.x[(i, j)]),
    };
    if n >= d {
        let mut h = Mat::<f64>::zeros(d, d);
        matmul(
            h.as_mut(),
            Accum::Replace,
            xs.transpose(),
            xs.as_ref(),
            1.0,
            par,
        );
        for i in 0..d {
            h[(i, i)] += lambda;
        }
        let llt = h.llt(Side::Lower).ok()?;
        let rhs = faer::ColRef::from_slice(r);
        let sol = llt.solve(rhs);
        Some(sol.iter().copied().collect())
    } else {
        // (XsᵀXs + λI)⁻¹ r = (r − Xsᵀ (λI + Xs Xsᵀ)⁻¹ Xs r)/λ; at λ = 0 (least norm, r ∈ row
        // space) use Xsᵀ (Xs Xsᵀ)⁻² Xs r.
        let mut k = Mat::<f64>::zeros(n, n);
        matmul(
            k.as_mut(),
            Accum::Replace,
            xs.as_ref(),
            xs.transpose(),
            1.0,
            par,
        );
        for i in 0..n {
            k[(i, i)] += lambda;
        }
        let llt = k.llt(Side::Lower).ok()?;
        let mut xr = vec![0.0; n];
        matvec(&xs, r, &mut xr, par);
        let t: Vec<f64> = llt
            .solve(faer::ColRef::from_slice(&xr))
            .iter()
            .copied()
            .collect();
        let mut back = vec![0.0; d];
        if lambda > 0.0 {
            matvec_t(&xs, &t, &mut back, par);
            Some(r.iter().zip(&back).map(|(a, b)| (a - b) / lambda).collect())
        } else {
            let t2: Vec<f64> = llt
                .solve(faer::ColRef::from_slice(&t))
                .iter()
                .copied()
                .collect();
            matvec_t(&xs, &t2, &mut back, par);
            Some(back)
        }
    }
}

/// Ridge / least squares / least-norm interpolation.
fn ridge(p: &Problem<'_>, config: &Config) -> Solution {
    let par = config.par();
    let (n, d) = (p.n(), p.d());
    let mut steps = Vec::new();
    let mut w = vec![0.0; d];
    let mut z = vec![0.0; n];
    let fail = |it| Solution {
        w: vec![f64::NAN; d],
        trace: Trace {
            steps: vec![],
            termination: Termination::diverged(it, "Cholesky factor"),
            iterations: 0,
        },
    };
    if p.lambda == 0.0 && n < d {
        // least-norm interpolator w = Xᵀ (X Xᵀ)⁻¹ y
        let mut k = Mat::<f64>::zeros(n, n);
        matmul(
            k.as_mut(),
            Accum::Replace,
            p.x.as_ref(),
            p.x.transpose(),
            1.0,
            par,
        );
        let Ok(llt) = k.llt(Side::Lower) else {
            return fail(1);
        };
        let t: Vec<f64> = llt
            .solve(faer::ColRef::from_slice(p.y))
            .iter()
            .copied()
            .collect();
        matvec_t(p.x, &t, &mut w, par);
        matvec(p.x, &w, &mut z, par);
        let g = p.gradient(&w, &z, par);
        steps.push(ErmStep {
            iteration: 1,
            objective: p.objective(&w, &z),
            grad_norm: norm(&g),
            duality_gap: None,
        });
        let termination = if norm(&g) <= config.grad_tol {
            Termination::Converged
        } else {
            Termination::MaxIterations
        };
        return Solution {
            w,
            trace: trace(steps, termination),
        };
    }
    // w ← w − H⁻¹ ∇J, starting from 0: the first step is the exact solve, further steps refine.
    let mut termination = Termination::MaxIterations;
    for it in 1..=3 {
        matvec(p.x, &w, &mut z, par);
        let g = p.gradient(&w, &z, par);
        let gn = norm(&g);
        if it > 1 {
            steps.push(ErmStep {
                iteration: it - 1,
                objective: p.objective(&w, &z),
                grad_norm: gn,
                duality_gap: None,
            });
            if gn <= config.grad_tol {
                termination = Termination::Converged;
                break;
            }
        }
        let Some(dw) = solve_normal(p, None, p.lambda, &g, par) else {
            return fail(it);
        };
        for (wi, di) in w.iter_mut().zip(&dw) {
            *wi -= di;
        }
        if it == 3 {
            matvec(p.x, &w, &mut z, par);
            let g = p.gradient(&w, &z, par);
            let gn = norm(&g);
            steps.push(ErmStep {
                iteration: it,
                objective: p.objective(&w, &z),
                grad_norm: gn,
                duality_gap: None,
            });
            if gn <= config.grad_tol {
                termination = Termination::Converged;
            }
        }
    }
    Solution {
        w,
        trace: trace(steps, termination),
    }
}

/// Newton's method with Armijo backtracking for the logistic loss.
fn newton(p: &Problem<'_>, config: &Config) -> Solution {
    let loss = p.loss;
    let f = move |y: f64, z: f64| {
        (
            loss.value(y, z),
            loss.derivative(y, z),
            loss.second_derivative(y, z),
        )
    };
    let mut steps = Vec::new();
    let (w, termination) = newton_core(
        p,
        &f,
        vec![0.0; p.d()],
        config.grad_tol,
        config.max_iter,
        config.par(),
        &mut steps,
    );
    Solution {
        w,
        trace: trace(steps, termination),
    }
}

/// Newton with Armijo backtracking on Σ f(y, X w) + (λ/2)‖w‖² for a twice-differentiable
/// (piecewise) loss f returning (value, ∂_z, ∂²_z), from `w`, until ‖∇‖₂ ≤ tol.
fn newton_core(
    p: &Problem<'_>,
    f: &dyn Fn(f64, f64) -> (f64, f64, f64),
    mut w: Vec<f64>,
    tol: f64,
    max_iter: usize,
    par: Par,
    steps: &mut Vec<ErmStep>,
) -> (Vec<f64>, Termination) {
    let (n, d) = (p.n(), p.d());
    let mut z = vec![0.0; n];
    matvec(p.x, &w, &mut z, par);
    let objective = |w: &[f64], z: &[f64]| -> f64 {
        p.y.iter().zip(z).map(|(&y, &z)| f(y, z).0).sum::<f64>() + 0.5 * p.lambda * dot(w, w)
    };
    let mut xp = vec![0.0; n];
    let mut obj = objective(&w, &z);
    let first = steps.len();
    for it in 1..=max_iter {
        let u: Vec<f64> = p.y.iter().zip(&z).map(|(&y, &z)| f(y, z).1).collect();
        let mut g = vec![0.0; d];
        matvec_t(p.x, &u, &mut g, par);
        for (gi, wi) in g.iter_mut().zip(&w) {
            *gi += p.lambda * wi;
        }
        let gn = norm(&g);
        let record = ErmStep {
            iteration: first + it,
            objective: obj,
            grad_norm: gn,
            duality_gap: None,
        };
        if !gn.is_finite() || !obj.is_finite() {
            steps.push(record);
            let quantity = if gn.is_finite() {
                "objective"
            } else {
                "grad_norm"
            };
            return (w, Termination::diverged(first + it, quantity));
        }
        if gn <= tol {
            steps.push(record);
            return (w, Termination::Converged);
        }
        let s: Vec<f64> =
            p.y.iter()
                .zip(&z)
                .map(|(&y, &z)| f(y, z).2.sqrt())
                .collect();
        let Some(dir) = solve_normal(p, Some(&s), p.lambda, &g, par) else {
            steps.push(record);
            return (
                w,
                Termination::diverged(first + it, "Newton system (Cholesky)"),
            );
        };
        // step −t H⁻¹ g, Armijo on t ∈ {1, ½, ¼, …}
        let slope = -dot(&g, &dir);
        matvec(p.x, &dir, &mut xp, par);
        let mut t = 1.0;
        let mut accepted = false;
        let (mut wn, mut zn) = (vec![0.0; d], vec![0.0; n]);
        let flat = |on: f64, obj: f64| (on - obj).abs() <= 4.0 * f64::EPSILON * obj.abs();
        for _ in 0..60 {
            for i in 0..d {
                wn[i] = w[i] - t * dir[i];
            }
            for i in 0..n {
                zn[i] = z[i] - t * xp[i];
            }
            let on = objective(&wn, &zn);
            if on <= obj + 1e-4 * t * slope || flat(on, obj) {
                accepted = on <= obj || flat(on, obj);
                obj = on;
                break;
            }
            t *= 0.5;
        }
        steps.push(record);
        if !accepted {
            // no decrease at machine precision: report where we are
            return (w, Termination::MaxIterations);
        }
        std::mem::swap(&mut w, &mut wn);
        std::mem::swap(&mut z, &mut zn);
    }
    (w, Termination::MaxIterations)
}

/// Relative duality gap below which the hinge solver switches from coordinate ascent to
/// projected Newton steps on the dual.
const NEWTON_GAP: f64 = 0.3;

/// A sample's place in the partition of the box-constrained dual.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side3 {
    /// a = 0 (margin ≥ 1).
    Zero,
    /// 0 < a < C (margin = 1).
    Free,
    /// a = C (margin ≤ 1).
    Upper,
}

/// The SVM-form primal, dual and KKT measures at a feasible dual point.
struct HingeEval {
    w: Vec<f64>,
    /// J(w) = Σ hinge + (λ/2)‖w‖² (= λ P).
    objective: f64,
    /// (P − D)/|P|.
    gap: f64,
    /// max_μ |projected gradient of the dual| (KKT violation of the margins).
    kkt: f64,
    /// g_μ = y_μ X_μ·w − 1.
    g: Vec<f64>,
    /// D = Σ a − ½‖w‖².
    dual: f64,
}

fn hinge_eval(p: &Problem<'_>, a: &[f64], c: f64, par: Par) -> HingeEval {
    let (n, d) = (p.n(), p.d());
    let ay: Vec<f64> = (0..n).map(|i| a[i] * p.y[i]).collect();
    let mut w = vec![0.0; d];
    matvec_t(p.x, &ay, &mut w, par);
    let mut z = vec![0.0; n];
    matvec(p.x, &w, &mut z, par);
    let g: Vec<f64> = (0..n).map(|i| p.y[i] * z[i] - 1.0).collect();
    let ww = dot(&w, &w);
    let hinge: f64 = g.iter().map(|&g| (-g).max(0.0)).sum();
    let primal = 0.5 * ww + c * hinge;
    let dual = a.iter().sum::<f64>() - 0.5 * ww;
    let gap = (primal - dual) / primal.abs().max(f64::MIN_POSITIVE);
    let kkt = (0..n)
        .map(|i| projected(a[i], g[i], c).abs())
        .fold(0.0, f64::max);
    HingeEval {
        w,
        objective: hinge + 0.5 * p.lambda * ww,
        gap,
        kkt,
        g,
        dual,
    }
}

/// Projected gradient of the (minimised, negated) dual at a_i ∈ [0, C] with gradient g_i.
fn projected(a: f64, g: f64, c: f64) -> f64 {
    if a <= 0.0 {
        g.min(0.0)
    } else if a >= c {
        g.max(0.0)
    } else {
        g
    }
}

/// Hinge loss (SVM with C = 1/λ): dual coordinate ascent until the relative gap is below
/// [`NEWTON_GAP`], then projected Newton steps on the box-constrained dual (a coordinate
/// epoch after any Newton step that does not raise the dual).
fn hinge_svm(p: &Problem<'_>, config: &Config, rng: &mut Rng) -> Solution {
    let par = config.par();
    let n = p.n();
    let c = 1.0 / p.lambda;
    // rows of X as contiguous columns of Xᵀ
    let xt: Mat<f64> = p.x.transpose().to_owned();
    let qii: Vec<f64> = (0..n)
        .map(|i| xt.col_as_slice(i).iter().map(|v| v * v).sum())
        .collect();
    let mut a = vec![0.0; n];
    let mut ev = hinge_eval(p, &a, c, par);
    let mut order: Vec<usize> = (0..n).collect();
    let mut steps: Vec<ErmStep> = Vec::new();
    // false after a Newton step that failed to raise the dual: one coordinate epoch follows
    let mut newton_ok = true;
    for it in 1..=config.max_iter {
        if newton_ok && ev.gap <= NEWTON_GAP {
            // Projected Newton step on the dual (Bertsekas): samples at a bound whose gradient
            // pushes outward are held there, the others are solved for from the margin
            // conditions; then a backtracking search along the projected path, kept only if
            // it raises the dual objective.
            let eps = (ev.kkt * c).min(1e-3 * c);
            let part: Vec<Side3> = (0..n)
                .map(|i| {
                    if a[i] <= eps && ev.g[i] > 0.0 {
                        Side3::Zero
                    } else if a[i] >= c - eps && ev.g[i] < 0.0 {
                        Side3::Upper
                    } else {
                        Side3::Free
                    }
                })
                .collect();
            newton_ok = false;
            if let Some(raw) = solve_partition(p, &xt, &part, c, par) {
                let d0 = ev.dual;
                let mut t = 1.0;
                for _ in 0..30 {
                    let trial: Vec<f64> = a
                        .iter()
                        .zip(&raw)
                        .map(|(&a0, &r)| (a0 + t * (r - a0)).clamp(0.0, c))
                        .collect();
                    if dual_of(p, &trial, par) > d0 {
                        a = trial;
                        ev = hinge_eval(p, &a, c, par);
                        newton_ok = true;
                        break;
                    }
                    t *= 0.5;
                }
            }
        } else {
            for i in (1..n).rev() {
                let j = rng.random_range(0..=i);
                order.swap(i, j);
            }
            let mut w = ev.w;
            for &i in &order {
                if qii[i] == 0.0 {
                    continue;
                }
                let xi = xt.col_as_slice(i);
                let y = p.y[i];
                let g = y * dot(&w, xi) - 1.0;
                if projected(a[i], g, c) != 0.0 {
                    let old = a[i];
                    a[i] = (old - g / qii[i]).clamp(0.0, c);
                    let delta = (a[i] - old) * y;
                    if delta != 0.0 {
                        for (wj, xj) in w.iter_mut().zip(xi) {
                            *wj += delta * xj;
                        }
                    }
                }
            }
            // exact w from a (no drift)
            ev = hinge_eval(p, &a, c, par);
            newton_ok = true;
        }
        steps.push(ErmStep {
            iteration: it,
            objective: ev.objective,
            grad_norm: ev.kkt,
            duality_gap: Some(ev.gap),
        });
        if !ev.gap.is_finite() {
            return Solution {
                w: ev.w,
                trace: trace(steps, Termination::diverged(it, "duality_gap")),
            };
        }
        if ev.gap <= config.gap_tol {
            return Solution {
                w: ev.w,
                trace: trace(steps, Termination::Converged),
            };
        }
    }
    Solution {
        w: ev.w,
        trace: trace(steps, Termination::MaxIterations),
    }
}

/// The dual objective Σ a − ½ ‖Zᵀ a‖² (Z = diag(y) X) at a.
fn dual_of(p: &Problem<'_>, a: &[f64], par: Par) -> f64 {
    let ay: Vec<f64> = (0..p.n()).map(|i| a[i] * p.y[i]).collect();
    let mut w = vec![0.0; p.d()];
    matvec_t(p.x, &ay, &mut w, par);
    a.iter().sum::<f64>() - 0.5 * dot(&w, &w)
}

/// For a partition into free (F), upper (a = C) and zero samples, solve for the free
/// multipliers from y_i X_i·w = 1 on F: (Z_F Z_Fᵀ) a_F = 1 − C Z_F Z_Uᵀ 1 with Z = diag(y) X
/// (Cholesky of the |F| × |F| Gram matrix, one step of iterative refinement). Returns the
/// unclipped dual point, or None if |F| > 2d or the factorisation fails.
fn solve_partition(
    p: &Problem<'_>,
    xt: &Mat<f64>,
    part: &[Side3],
    c: f64,
    par: Par,
) -> Option<Vec<f64>> {
    let (n, d) = (p.n(), p.d());
    let free: Vec<usize> = (0..n).filter(|&i| part[i] == Side3::Free).collect();
    let k = free.len();
    let mut out: Vec<f64> = part
        .iter()
        .map(|s| if *s == Side3::Upper { c } else { 0.0 })
        .collect();
    if k == 0 {
        return Some(out);
    }
    // bounded memory (|F| ≤ 2d: the free-set rows and Gram matrix); larger free sets only
    // occur far from the optimum, where coordinate ascent takes over
    if k > 2 * d {
        return None;
    }
    let zf = Mat::from_fn(k, d, |r, j| p.y[free[r]] * xt[(j, free[r])]);
    let mut wb = vec![0.0; d];
    for i in (0..n).filter(|&i| part[i] == Side3::Upper) {
        let yi = p.y[i] * c;
        for (wj, xj) in wb.iter_mut().zip(xt.col_as_slice(i)) {
            *wj += yi * xj;
        }
    }
    let mut gram = Mat::<f64>::zeros(k, k);
    matmul(
        gram.as_mut(),
        Accum::Replace,
        zf.as_ref(),
        zf.transpose(),
        1.0,
        par,
    );
    let mut rhs = vec![0.0; k];
    matvec(&zf, &wb, &mut rhs, par);
    for r in rhs.iter_mut() {
        *r = 1.0 - *r;
    }
    // |F| > d (or a numerically singular Gram matrix) happens before the partition is right:
    // then a tiny ridge ε I (a proximal term) keeps the step defined; the final partition has
    // |F| ≤ d and is solved without it.
    let llt = match (k <= d).then(|| gram.llt(Side::Lower).ok()).flatten() {
        Some(l) => l,
        None => {
            let eps = 1e-10 * (0..k).map(|r| gram[(r, r)]).sum::<f64>() / k as f64;
            for r in 0..k {
                gram[(r, r)] += eps;
            }
            gram.llt(Side::Lower).ok()?
        }
    };
    let mut af: Vec<f64> = {
        let s = llt.solve(faer::ColRef::from_slice(&rhs));
        (0..k).map(|r| s[r]).collect()
    };
    // one step of iterative refinement: r = rhs − G a_F
    let mut res = vec![0.0; k];
    let gm = &gram;
    for (r, rr) in res.iter_mut().enumerate() {
        *rr = rhs[r] - (0..k).map(|s| gm[(r, s)] * af[s]).sum::<f64>();
    }
    let corr = llt.solve(faer::ColRef::from_slice(&res));
    for (r, v) in af.iter_mut().enumerate() {
        *v += corr[r];
    }
    for (r, &i) in free.iter().enumerate() {
        if !af[r].is_finite() {
            return None;
        }
        out[i] = af[r];
    }
    Some(out)
}

/// What an estimate achieves on its data set and on fresh inputs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// m = ŵ·w*/d.
    pub m: f64,
    /// q = ŵ·ŵ/d.
    pub q: f64,
    /// arccos(ŵ·w*/(‖ŵ‖ ‖w*‖))/π: the exact probability that sign(x·ŵ) ≠ sign(x·w*) for a
    /// fresh Gaussian input x ([`class_error`] with the instance's own ‖w*‖²/d; ½ for ŵ = 0).
    pub test_error: f64,
    /// (1/n) Σ ℓ(y_μ, X_μ·ŵ).
    pub train_loss: f64,
    /// (1/n) #{μ: y_μ X_μ·ŵ < 0}.
    pub train_error: f64,
}

/// [`Metrics`] of `w` on `data` for `loss`.
pub fn metrics(data: &Dataset, loss: Loss, w: &[f64]) -> Metrics {
    let d = data.d() as f64;
    let n = data.n();
    let mut z = vec![0.0; n];
    matvec(&data.x, w, &mut z, Par::Seq);
    let ws = dot(w, &data.w_star);
    let (ww, ss) = (dot(w, w), dot(&data.w_star, &data.w_star));
    let train_loss = data
        .y
        .iter()
        .zip(&z)
        .map(|(&y, &z)| loss.value(y, z))
        .sum::<f64>()
        / n as f64;
    let train_error =
        data.y.iter().zip(&z).filter(|(y, z)| *y * *z < 0.0).count() as f64 / n as f64;
    Metrics {
        m: ws / d,
        q: ww / d,
        test_error: class_error(ws / d, ww / d, ss / d),
        train_loss,
        train_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gardner_models::{Gaussian, Probit, stream, teacher_data};

    fn data(d: usize, alpha: f64, seed: u64) -> Dataset {
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
                let mut z = vec![0.0; ds.n()];
                matvec(&ds.x, &s.w, &mut z, Par::Seq);
                let g = p.gradient(&s.w, &z, Par::Seq);
                assert!(
                    norm(&g) <= 1e-8,
                    "{loss} α={alpha} λ={lambda}: ‖∇J‖ = {}",
                    norm(&g)
                );
                assert!(s.trace.last().unwrap().grad_norm <= 1e-8);
            }
        }
    }

    /// Least-norm interpolator (n < d, λ = 0) and least squares (n > d, λ = 0).
    #[test]
    fn ridge_lambda_zero() {
        let ds = data(300, 0.5, 2);
        let p = Problem::from_dataset(&ds, Loss::Square, 0.0).unwrap();
        let s = run(&p, &Config::default(), &mut stream(0, 0)).unwrap();
        assert_eq!(s.trace.termination, Termination::Converged);
        let m = metrics(&ds, Loss::Square, &s.w);
        assert!(m.train_loss < 1e-20, "{m:?}");
        // it is the λ → 0 limit of ridge
        let p1 = Problem::from_dataset(&ds, Loss::Square, 1e-8).unwrap();
        let s1 = run(&p1, &Config::default(), &mut stream(0, 0)).unwrap();
        let diff =
            s.w.iter()
                .zip(&s1.w)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
        assert!(diff < 1e-5, "{diff}");
        let ds = data(100, 3.0, 2);
        let p = Problem::from_dataset(&ds, Loss::Square, 0.0).unwrap();
        assert_eq!(
            run(&p, &Config::default(), &mut stream(0, 0))
                .unwrap()
                .trace
                .termination,
            Termination::Converged
        );
    }

    /// The hinge solution has a small duality gap and satisfies the KKT conditions of the SVM.
    #[test]
    fn hinge_duality_gap_and_kkt() {
        for &(alpha, lambda) in &[(0.5, 0.1), (3.0, 0.05), (3.0, 1.0)] {
            let ds = data(200, alpha, 3);
            let p = Problem::from_dataset(&ds, Loss::Hinge, lambda).unwrap();
            let s = run(&p, &Config::default(), &mut stream(4, 0)).unwrap();
            assert_eq!(
                s.trace.termination,
                Termination::Converged,
                "α={alpha} λ={lambda}"
            );
            let gap = s.trace.last().unwrap().duality_gap.unwrap();
            assert!((-1e-12..=1e-10).contains(&gap), "{gap}");
            // J is (numerically) minimal along random directions
            let mut z = vec![0.0; ds.n()];
            matvec(&ds.x, &s.w, &mut z, Par::Seq);
            let j0 = p.objective(&s.w, &z);
            let mut r = stream(5, 0);
            for _ in 0..20 {
                let dir: Vec<f64> = (0..ds.d()).map(|_| r.random::<f64>() - 0.5).collect();
                for t in [1e-3, -1e-3] {
                    let w2: Vec<f64> = s.w.iter().zip(&dir).map(|(a, b)| a + t * b).collect();
                    matvec(&ds.x, &w2, &mut z, Par::Seq);
                    assert!(p.objective(&w2, &z) >= j0 - 1e-9 * j0, "not a minimum");
                }
            }
        }
    }

    /// Plain dual coordinate ascent (the previous solver without its polish), run to a
    /// relative gap of 1e-11: the reference where it converges.
    fn dca_reference(p: &Problem<'_>, epochs: usize) -> (Vec<f64>, f64) {
        let c = 1.0 / p.lambda;
        let xt: Mat<f64> = p.x.transpose().to_owned();
        let mut a = vec![0.0; p.n()];
        let mut w = vec![0.0; p.d()];
        let mut gap = f64::INFINITY;
        for _ in 0..epochs {
            for (i, ai) in a.iter_mut().enumerate() {
                let xi = xt.col_as_slice(i);
                let q: f64 = xi.iter().map(|v| v * v).sum();
                let g = p.y[i] * dot(&w, xi) - 1.0;
                let old = *ai;
                *ai = (old - g / q).clamp(0.0, c);
                let delta = (*ai - old) * p.y[i];
                for (wj, xj) in w.iter_mut().zip(xi) {
                    *wj += delta * xj;
                }
            }
            let e = hinge_eval(p, &a, c, Par::Seq);
            w = e.w;
            gap = e.gap;
            if gap <= 1e-11 {
                break;
            }
        }
        (w, gap)
    }

    /// Gap ≤ 1e-8 and KKT (largest projected dual gradient, i.e. margin violation) ≤ 1e-8,
    /// including small λ at α = 5–10, at d = 200.
    #[test]
    fn hinge_small_lambda_large_alpha() {
        let cases = [
            (5.0, 0.0294),
            (6.0, 0.0208),
            (8.0, 0.0119),
            (10.0, 0.0077),
            (10.0, 1e-3),
        ];
        for (k, &(alpha, lambda)) in cases.iter().enumerate() {
            let ds = data(200, alpha, 10 + k as u64);
            let p = Problem::from_dataset(&ds, Loss::Hinge, lambda).unwrap();
            let cfg = Config {
                gap_tol: 1e-10,
                max_iter: 1000,
                ..Config::default()
            };
            let s = run(&p, &cfg, &mut stream(4, 0)).unwrap();
            eprintln!("α={alpha} λ={lambda}: {} iterations", s.trace.iterations);
            assert_eq!(
                s.trace.termination,
                Termination::Converged,
                "α={alpha} λ={lambda}"
            );
            let last = s.trace.last().unwrap();
            let gap = last.duality_gap.unwrap();
            assert!(
                (-1e-12..=1e-8).contains(&gap),
                "α={alpha} λ={lambda}: {gap}"
            );
            assert!(last.grad_norm <= 1e-8, "KKT {}", last.grad_norm);
        }
    }

    /// Same minimiser as plain coordinate ascent where that converges.
    #[test]
    fn hinge_agrees_with_coordinate_ascent() {
        for &(alpha, lambda) in &[(0.5, 0.1), (2.0, 0.3), (3.0, 1.0)] {
            let ds = data(100, alpha, 7);
            let p = Problem::from_dataset(&ds, Loss::Hinge, lambda).unwrap();
            let s = run(&p, &Config::default(), &mut stream(4, 0)).unwrap();
            assert_eq!(s.trace.termination, Termination::Converged);
            let (w_ref, gap_ref) = dca_reference(&p, 20_000);
            assert!(gap_ref <= 1e-11, "reference gap {gap_ref}");
            let diff: f64 =
                s.w.iter()
                    .zip(&w_ref)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max);
            assert!(diff <= 1e-5 * norm(&w_ref), "α={alpha} λ={lambda}: {diff}");
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
