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
//! - **hinge**: dual coordinate ascent (Hsieh et al. 2008) on the SVM dual
//!   max_{0 ≤ a ≤ 1/λ} Σ a_μ − ½ ‖Σ a_μ y_μ X_μ‖², w = Σ a_μ y_μ X_μ, in random order, with
//!   the duality gap checked after every epoch on w recomputed from a (no drift). Once the
//!   gap is below 0.1, every few epochs the free multipliers (0 < a < 1/λ) are solved for
//!   exactly from the margin conditions y_μ X_μ·w = 1 (an active-set polish, kept only if it
//!   lowers the gap), which takes the gap to round-off once the partition is right. Stops when
//!   the relative gap (P − D)/P ≤ `gap_tol` (P, D: primal and dual of the SVM form J/λ).
//!   Known limitation: at small λ and large α (d = 1000, α = 10, λ = 0.0077) the ascent is
//!   slow (relative gap ≈ 1e-3 after 3000 epochs, i.e. `MaxIterations`); a smoothed-hinge
//!   Newton continuation was tried and was not faster.
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
    /// Newton iterations (logistic; the hinge continuation shares this budget).
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
    /// ‖∇J(w)‖₂ (square, logistic; for the hinge, of the smoothed objective during the
    /// continuation and, in the final step, the largest KKT violation of the margins).
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
        Loss::Hinge => Ok(hinge_dca(problem, config, rng)),
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

/// Relative duality gap below which the hinge solver starts active-set polishing.
const POLISH_GAP: f64 = 0.1;
/// Epochs between two polishing attempts.
const POLISH_EVERY: usize = 3;

/// Dual coordinate ascent for the hinge loss (SVM with C = 1/λ).
fn hinge_dca(p: &Problem<'_>, config: &Config, rng: &mut Rng) -> Solution {
    let par = config.par();
    let (n, d) = (p.n(), p.d());
    let c = 1.0 / p.lambda;
    // rows of X as contiguous columns of Xᵀ
    let xt: Mat<f64> = p.x.transpose().to_owned();
    let qii: Vec<f64> = (0..n)
        .map(|i| xt.col_as_slice(i).iter().map(|v| v * v).sum())
        .collect();
    let mut a = vec![0.0; n];
    let mut w = vec![0.0; d];
    let mut z = vec![0.0; n];
    let mut ay = vec![0.0; n];
    let mut order: Vec<usize> = (0..n).collect();
    let mut steps: Vec<ErmStep> = Vec::new();
    let mut last_polish = 0usize;
    for epoch in 1..=config.max_iter {
        // Fisher–Yates shuffle
        for i in (1..n).rev() {
            let j = rng.random_range(0..=i);
            order.swap(i, j);
        }
        let mut pg_max = 0.0f64;
        // Active-set polish once DCA is roughly there: solve exactly for the free multipliers.
        if let Some(last) = steps.last().and_then(|s: &ErmStep| s.duality_gap)
            && last <= POLISH_GAP
            && epoch >= last_polish + POLISH_EVERY
        {
            last_polish = epoch;
            if let Some(a2) = polish(p, &xt, &a, c, par) {
                let (g2, _) = gap_of(p, &a2, c, par);
                if g2 < last {
                    a = a2;
                    for i in 0..n {
                        ay[i] = a[i] * p.y[i];
                    }
                    matvec_t(p.x, &ay, &mut w, par);
                }
            }
        }
        for &i in &order {
            if qii[i] == 0.0 {
                continue;
            }
            let xi = xt.col_as_slice(i);
            let y = p.y[i];
            let g = y * dot(&w, xi) - 1.0;
            let pg = if a[i] <= 0.0 {
                g.min(0.0)
            } else if a[i] >= c {
                g.max(0.0)
            } else {
                g
            };
            pg_max = pg_max.max(pg.abs());
            if pg != 0.0 {
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
        // exact w from a, then primal and dual of the SVM form
        for i in 0..n {
            ay[i] = a[i] * p.y[i];
        }
        matvec_t(p.x, &ay, &mut w, par);
        matvec(p.x, &w, &mut z, par);
        let ww = dot(&w, &w);
        let hinge: f64 =
            p.y.iter()
                .zip(&z)
                .map(|(&y, &z)| (1.0 - y * z).max(0.0))
                .sum();
        let primal = 0.5 * ww + c * hinge;
        let dual = a.iter().sum::<f64>() - 0.5 * ww;
        let gap = (primal - dual) / primal.abs().max(f64::MIN_POSITIVE);
        let objective = hinge + 0.5 * p.lambda * ww;
        steps.push(ErmStep {
            iteration: epoch,
            objective,
            grad_norm: pg_max,
            duality_gap: Some(gap),
        });
        if !gap.is_finite() {
            return Solution {
                w,
                trace: trace(steps, Termination::diverged(epoch, "duality_gap")),
            };
        }
        if gap <= config.gap_tol {
            return Solution {
                w,
                trace: trace(steps, Termination::Converged),
            };
        }
    }
    Solution {
        w,
        trace: trace(steps, Termination::MaxIterations),
    }
}

/// Relative duality gap (P − D)/P of the SVM form at dual point `a`, and P.
fn gap_of(p: &Problem<'_>, a: &[f64], c: f64, par: Par) -> (f64, f64) {
    let (n, d) = (p.n(), p.d());
    let ay: Vec<f64> = (0..n).map(|i| a[i] * p.y[i]).collect();
    let mut w = vec![0.0; d];
    matvec_t(p.x, &ay, &mut w, par);
    let mut z = vec![0.0; n];
    matvec(p.x, &w, &mut z, par);
    let ww = dot(&w, &w);
    let hinge: f64 =
        p.y.iter()
            .zip(&z)
            .map(|(&y, &z)| (1.0 - y * z).max(0.0))
            .sum();
    let primal = 0.5 * ww + c * hinge;
    let dual = a.iter().sum::<f64>() - 0.5 * ww;
    (
        (primal - dual) / primal.abs().max(f64::MIN_POSITIVE),
        primal,
    )
}

/// Given the partition of the current dual point into free (0 < a < C), bound (a = C) and
/// inactive (a = 0) samples, solve exactly for the free multipliers from y_i X_i·w = 1 on the
/// free set: (Z_F Z_Fᵀ) a_F = 1 − C Z_F Z_Bᵀ 1 with Z = diag(y) X. Returns the clipped dual
/// point (always feasible) or None if the system is singular.
fn polish(p: &Problem<'_>, xt: &Mat<f64>, a: &[f64], c: f64, par: Par) -> Option<Vec<f64>> {
    let (n, d) = (p.n(), p.d());
    let free: Vec<usize> = (0..n).filter(|&i| a[i] > 0.0 && a[i] < c).collect();
    let bound: Vec<usize> = (0..n).filter(|&i| a[i] >= c).collect();
    let k = free.len();
    if k == 0 || k > d {
        return None;
    }
    let zf = Mat::from_fn(k, d, |r, j| p.y[free[r]] * xt[(j, free[r])]);
    let mut wb = vec![0.0; d];
    for &i in &bound {
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
    let llt = gram.llt(Side::Lower).ok()?;
    let af = llt.solve(faer::ColRef::from_slice(&rhs));
    let mut out = a.to_vec();
    for (r, &i) in free.iter().enumerate() {
        let v = af[r];
        if !v.is_finite() {
            return None;
        }
        out[i] = v.clamp(0.0, c);
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
