//! Square loss: ridge regression, least squares and the least-norm interpolator.
//!
//! The normal equations by Cholesky (faer `llt`), in the primal form (XᵀX + λ I_d) w = Xᵀ y
//! for n ≥ d and the dual form w = Xᵀ (X Xᵀ + λ I_n)⁻¹ y for n < d (which also gives the
//! least-norm interpolator at λ = 0 when n < d). The matrix is factored once; each iteration
//! of the [`Ridge`] step is a Newton step w ← w − H⁻¹ ∇J with that factor, so the first
//! (from w = 0) is the exact solve and the next ones are iterative refinement. At most three
//! solves; stops on ‖∇J‖₂ ≤ `grad_tol`.

use super::{Config, ErmStep, Halting, Problem, Solution, at_most, drive, norm};
use crate::Termination;
use crate::error::Error;
use faer::linalg::matmul::matmul;
use faer::linalg::solvers::Llt;
use faer::prelude::Solve;
use faer::{Accum, Mat, Par, Side};
use gardner_models::data::{matvec, matvec_t};
use gardner_models::run::Step;

/// Solves of the ridge normal equations: the exact solve and two refinements.
const MAX_SOLVES: usize = 3;

/// Minimise J for the square loss on the shared run loop.
pub(super) fn solve(problem: &Problem<'_>, config: &Config) -> Result<Solution, Error> {
    config.validate()?;
    let step = Ridge::new(problem, config);
    drive(step, at_most(|o| o.grad_norm, config.grad_tol), MAX_SOLVES)
}

/// A Cholesky factor of the weighted normal matrix XᵀDX + λI (D = diag(s²), or I), in the
/// primal (d × d) form when n ≥ d, else the dual (n × n) form applied by Woodbury.
pub(crate) struct NormalSolver<'a> {
    x: &'a Mat<f64>,
    /// diag(s) X, if weighted.
    scaled: Option<Mat<f64>>,
    llt: Llt<f64>,
    lambda: f64,
    primal: bool,
}

impl<'a> NormalSolver<'a> {
    /// Factor (XᵀDX + λI) (primal) or (λI + Xs Xsᵀ) (dual); `None` if Cholesky fails.
    pub(crate) fn new(p: &Problem<'a>, s: Option<&[f64]>, lambda: f64, par: Par) -> Option<Self> {
        let (n, d) = (p.n(), p.d());
        let scaled = s.map(|s| Mat::from_fn(n, d, |i, j| s[i] * p.x[(i, j)]));
        let xs = scaled.as_ref().unwrap_or(p.x);
        let primal = n >= d;
        let m = if primal { d } else { n };
        let mut h = Mat::<f64>::zeros(m, m);
        if primal {
            matmul(
                h.as_mut(),
                Accum::Replace,
                xs.transpose(),
                xs.as_ref(),
                1.0,
                par,
            );
        } else {
            matmul(
                h.as_mut(),
                Accum::Replace,
                xs.as_ref(),
                xs.transpose(),
                1.0,
                par,
            );
        }
        for i in 0..m {
            h[(i, i)] += lambda;
        }
        let llt = h.llt(Side::Lower).ok()?;
        Some(Self {
            x: p.x,
            scaled,
            llt,
            lambda,
            primal,
        })
    }

    /// Xs = diag(s) X, or X.
    fn xs(&self) -> &Mat<f64> {
        self.scaled.as_ref().unwrap_or(self.x)
    }

    fn llt_solve(&self, r: &[f64]) -> Vec<f64> {
        self.llt
            .solve(faer::ColRef::from_slice(r))
            .iter()
            .copied()
            .collect()
    }

    /// (XᵀDX + λI)⁻¹ r; in the dual form (r − Xsᵀ (λI + Xs Xsᵀ)⁻¹ Xs r)/λ, and at λ = 0 (least
    /// norm, r in the row space) Xsᵀ (Xs Xsᵀ)⁻² Xs r.
    pub(crate) fn solve(&self, r: &[f64], par: Par) -> Vec<f64> {
        if self.primal {
            return self.llt_solve(r);
        }
        let xs = self.xs();
        let (n, d) = (xs.nrows(), xs.ncols());
        let mut xr = vec![0.0; n];
        matvec(xs, r, &mut xr, par);
        let t = self.llt_solve(&xr);
        let mut back = vec![0.0; d];
        if self.lambda > 0.0 {
            matvec_t(xs, &t, &mut back, par);
            r.iter()
                .zip(&back)
                .map(|(a, b)| (a - b) / self.lambda)
                .collect()
        } else {
            matvec_t(xs, &self.llt_solve(&t), &mut back, par);
            back
        }
    }

    /// The least-norm interpolator Xᵀ (X Xᵀ)⁻¹ y (dual form at λ = 0, D = I).
    fn least_norm(&self, y: &[f64], par: Par) -> Vec<f64> {
        let mut w = vec![0.0; self.x.ncols()];
        matvec_t(self.xs(), &self.llt_solve(y), &mut w, par);
        w
    }
}

/// Ridge / least squares / least-norm interpolation as a [`Step`]: each iteration is one
/// solve with the (once-factored) normal matrix.
pub struct Ridge<'a> {
    p: Problem<'a>,
    par: Par,
    w: Vec<f64>,
    solver: Option<NormalSolver<'a>>,
    iteration: usize,
    passes: usize,
    halt: Option<Termination>,
}

impl<'a> Ridge<'a> {
    /// The step at w = 0 (nothing is factored until the first iteration).
    pub fn new(problem: &Problem<'a>, config: &Config) -> Self {
        Self {
            p: *problem,
            par: config.par(),
            w: vec![0.0; problem.d()],
            solver: None,
            iteration: 0,
            passes: 0,
            halt: None,
        }
    }
    /// The current estimate.
    pub fn w(&self) -> &[f64] {
        &self.w
    }
}

impl Step for Ridge<'_> {
    type Obs = ErmStep;
    type Error = Error;
    fn observe(&mut self) -> Result<ErmStep, Error> {
        let mut z = vec![0.0; self.p.n()];
        matvec(self.p.x, &self.w, &mut z, self.par);
        let g = self.p.gradient(&self.w, &z, self.par);
        self.passes += 2;
        Ok(ErmStep {
            iteration: self.iteration,
            objective: self.p.objective(&self.w, &z),
            grad_norm: norm(&g),
            duality_gap: None,
            passes: self.passes,
        })
    }
    fn advance(&mut self) -> Result<(), Error> {
        let (p, par) = (&self.p, self.par);
        let least_norm = p.lambda == 0.0 && p.n() < p.d();
        if self.solver.is_none() {
            self.solver = NormalSolver::new(p, None, p.lambda, par);
        }
        let Some(solver) = &self.solver else {
            self.halt = Some(Termination::diverged(self.iteration + 1, "Cholesky factor"));
            return Ok(());
        };
        if least_norm && self.iteration == 0 {
            // w = Xᵀ (X Xᵀ)⁻¹ y directly: better conditioned than the Newton step from 0
            self.w = solver.least_norm(p.y, par);
            self.passes += 1;
        } else {
            let mut z = vec![0.0; p.n()];
            matvec(p.x, &self.w, &mut z, par);
            let g = p.gradient(&self.w, &z, par);
            let dw = solver.solve(&g, par);
            self.passes += if solver.primal { 2 } else { 4 };
            for (wi, di) in self.w.iter_mut().zip(&dw) {
                *wi -= di;
            }
        }
        self.iteration += 1;
        Ok(())
    }
}

impl Halting for Ridge<'_> {
    fn halted(&self) -> Option<Termination> {
        self.halt.clone()
    }
    fn into_w(self) -> Vec<f64> {
        self.w
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::data;
    use super::super::{metrics, run};
    use super::*;
    use gardner_models::{Loss, stream};

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
}
