//! Hinge loss: the support vector machine with C = 1/λ.
//!
//! The SVM dual max_{0 ≤ a ≤ C} Σ a_μ − ½ ‖Σ a_μ y_μ X_μ‖², w = Σ a_μ y_μ X_μ. Dual
//! coordinate ascent (Hsieh et al. 2008, random order) until the relative duality gap is
//! below 0.3, then projected Newton steps on the box-constrained dual: samples at a bound
//! whose gradient points outward are held there, the free multipliers are solved for exactly
//! from the margin conditions y_μ X_μ·w = 1 (Cholesky of the free-set Gram matrix, with a
//! 1e-10 relative ridge only while the free set is larger than d), and a backtracking search
//! along the projected path keeps the step only if it raises the dual; a coordinate epoch
//! follows any step that does not. Once the partition is right a step lands on the exact
//! optimum (gap at round-off, ≈ 1e-13). Every iteration (a [`Hinge`] step: an epoch or a
//! Newton step) recomputes w from a and the gap; stops when the relative gap (P − D)/P ≤
//! `gap_tol` (P, D: primal and dual of the SVM form J/λ). Measured at d = 1000 on fig2's
//! default grid (λ at the theory's optimum, α = 0.2 … 10): converged in 4 … 321 iterations,
//! 0.01 … 49 s on one thread.

use super::{Config, ErmStep, Halting, Problem, Solution, at_most, dot, drive};
use crate::Termination;
use crate::error::Error;
use faer::linalg::matmul::matmul;
use faer::prelude::Solve;
use faer::{Accum, Mat, Par, Side};
use gardner_models::Rng;
use gardner_models::data::{matvec, matvec_t};
use gardner_models::run::Step;
use rand::RngExt;

/// Minimise J for the hinge loss on the shared run loop; the rng orders the coordinate
/// sweeps.
pub(super) fn solve(
    problem: &Problem<'_>,
    config: &Config,
    rng: &mut Rng,
) -> Result<Solution, Error> {
    config.validate()?;
    let step = Hinge::new(problem, config, rng);
    let gap = |o: &ErmStep| o.duality_gap.unwrap_or(f64::INFINITY);
    drive(step, at_most(gap, config.gap_tol), config.max_iter)
}

/// The dual solver as a [`Step`]: one iteration is a projected Newton step on the dual, or a
/// coordinate epoch (before the gap is below `NEWTON_GAP` and after a Newton step that did
/// not raise the dual).
pub struct Hinge<'a, 'r> {
    p: Problem<'a>,
    par: Par,
    rng: &'r mut Rng,
    c: f64,
    /// Rows of X as contiguous columns of Xᵀ.
    xt: Mat<f64>,
    /// ‖X_μ‖².
    qii: Vec<f64>,
    /// The dual point.
    a: Vec<f64>,
    ev: HingeEval,
    order: Vec<usize>,
    /// false after a Newton step that failed to raise the dual: one coordinate epoch follows.
    newton_ok: bool,
    iteration: usize,
    passes: usize,
}

impl<'a, 'r> Hinge<'a, 'r> {
    /// The step at a = 0 (w = 0).
    pub fn new(problem: &Problem<'a>, config: &Config, rng: &'r mut Rng) -> Self {
        let (p, par) = (*problem, config.par());
        let n = p.n();
        let c = 1.0 / p.lambda;
        let xt: Mat<f64> = p.x.transpose().to_owned();
        let qii: Vec<f64> = (0..n)
            .map(|i| xt.col_as_slice(i).iter().map(|v| v * v).sum())
            .collect();
        let a = vec![0.0; n];
        let ev = hinge_eval(&p, &a, c, par);
        Self {
            p,
            par,
            rng,
            c,
            xt,
            qii,
            a,
            ev,
            order: (0..n).collect(),
            newton_ok: true,
            iteration: 0,
            // the transposed copy, and w and the margins from a
            passes: 3,
        }
    }
    /// The current estimate w = Σ a_μ y_μ X_μ.
    pub fn w(&self) -> &[f64] {
        &self.ev.w
    }

    /// Projected Newton step on the dual (Bertsekas): samples at a bound whose gradient
    /// pushes outward are held there, the others are solved for from the margin conditions;
    /// then a backtracking search along the projected path, kept only if it raises the dual
    /// objective.
    fn newton(&mut self) {
        let (p, par, c, n) = (&self.p, self.par, self.c, self.p.n());
        let (a, ev) = (&self.a, &self.ev);
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
        self.newton_ok = false;
        self.passes += 2;
        if let Some(raw) = solve_partition(p, &self.xt, &part, c, par) {
            let d0 = ev.dual;
            let mut t = 1.0;
            for _ in 0..30 {
                let trial: Vec<f64> = (self.a.iter())
                    .zip(&raw)
                    .map(|(&a0, &r)| (a0 + t * (r - a0)).clamp(0.0, c))
                    .collect();
                self.passes += 1;
                if dual_of(p, &trial, par) > d0 {
                    self.a = trial;
                    self.ev = hinge_eval(p, &self.a, c, par);
                    self.passes += 2;
                    self.newton_ok = true;
                    break;
                }
                t *= 0.5;
            }
        }
    }

    /// One epoch of dual coordinate ascent in a fresh random order, then w exactly from a.
    fn epoch(&mut self) {
        let (p, c, n) = (&self.p, self.c, self.p.n());
        let order = &mut self.order;
        for i in (1..n).rev() {
            let j = self.rng.random_range(0..=i);
            order.swap(i, j);
        }
        let mut w = std::mem::take(&mut self.ev.w);
        let a = &mut self.a;
        for &i in order.iter() {
            if self.qii[i] == 0.0 {
                continue;
            }
            let xi = self.xt.col_as_slice(i);
            let y = p.y[i];
            let g = y * dot(&w, xi) - 1.0;
            if projected(a[i], g, c) != 0.0 {
                let old = a[i];
                a[i] = (old - g / self.qii[i]).clamp(0.0, c);
                let delta = (a[i] - old) * y;
                if delta != 0.0 {
                    for (wj, xj) in w.iter_mut().zip(xi) {
                        *wj += delta * xj;
                    }
                }
            }
        }
        // exact w from a (no drift)
        self.ev = hinge_eval(p, &self.a, c, self.par);
        self.passes += 3;
        self.newton_ok = true;
    }
}

impl Step for Hinge<'_, '_> {
    type Obs = ErmStep;
    type Error = Error;
    fn observe(&mut self) -> Result<ErmStep, Error> {
        Ok(ErmStep {
            iteration: self.iteration,
            objective: self.ev.objective,
            grad_norm: self.ev.kkt,
            duality_gap: Some(self.ev.gap),
            passes: self.passes,
        })
    }
    fn advance(&mut self) -> Result<(), Error> {
        if self.newton_ok && self.ev.gap <= NEWTON_GAP {
            self.newton();
        } else {
            self.epoch();
        }
        self.iteration += 1;
        Ok(())
    }
}

impl Halting for Hinge<'_, '_> {
    fn halted(&self) -> Option<Termination> {
        None
    }
    fn into_w(self) -> Vec<f64> {
        self.ev.w
    }
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

#[cfg(test)]
mod tests {
    use super::super::tests::data;
    use super::super::{norm, run};
    use super::*;
    use gardner_models::{Loss, stream};

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
}
