//! The classification-optimal penalty λ: a warm-started log-spaced scan, then Brent's
//! minimisation in ln λ.

use super::problem::{ErmConfig, ErmPoint, ErmProblem, Overlaps, solve_from};
use super::{ErmError, check};
use gardner_models::Channel;
use gardner_models::run::Termination;
use serde::{Deserialize, Serialize};

/// Golden-section fraction (3 − √5)/2 of Brent's minimiser.
const CGOLD: f64 = 0.381_966_011_250_105_1;
/// Iteration cap of the Brent minimisation (each golden step shrinks the bracket by 0.618:
/// 100 steps reach any `log_tol` from any bracket).
const MINIMISE_MAX_ITER: usize = 100;

/// Bracket and tolerance of the optimal-λ search.
///
/// The default bracket is the issue's [1e-4, 1e2]. The classification-optimal logistic λ of
/// the noiseless perceptron falls below 1e-4 at large α (≈ 4.5e-5 at α = 50), where the
/// result reports `at_bound = true`; fig2 searches down to 1e-6.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LambdaSearch {
    /// Smallest λ searched.
    pub lambda_min: f64,
    /// Largest λ searched.
    pub lambda_max: f64,
    /// Points of the coarse log-spaced scan that brackets the minimum.
    pub grid: usize,
    /// Absolute tolerance on ln λ of the Brent minimisation.
    pub log_tol: f64,
}

impl Default for LambdaSearch {
    fn default() -> Self {
        Self {
            lambda_min: 1e-4,
            lambda_max: 1e2,
            grid: 9,
            log_tol: 2e-3,
        }
    }
}

/// Result of the optimal-λ search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimalLambda {
    /// argmin_λ of the test classification error.
    pub lambda: f64,
    /// The fixed point at that λ.
    pub point: ErmPoint,
    /// Fixed points solved.
    pub evaluations: usize,
    /// The minimum sits at an end of [λ_min, λ_max]: the optimum may lie outside.
    pub at_bound: bool,
    /// `Converged` if every fixed point used converged, else the worst termination met (a
    /// divergence over a non-convergence; the first of each kind).
    pub status: Termination,
}

/// The λ minimising the test classification error: a coarse log-spaced scan from λ_max down
/// (warm-started) finds the bracketing triple, then Brent's parabolic/golden-section
/// minimisation in ln λ refines it to `log_tol`. A non-converged fixed point anywhere marks
/// the result's status.
pub fn optimal_lambda<C: Channel + Clone>(
    p: &ErmProblem<C>,
    config: &ErmConfig,
    search: &LambdaSearch,
) -> Result<OptimalLambda, ErmError> {
    check(
        "lambda_min",
        search.lambda_min,
        search.lambda_min > 0.0,
        "> 0 and finite",
    )?;
    check(
        "lambda_max",
        search.lambda_max,
        search.lambda_max > search.lambda_min,
        "> lambda_min and finite",
    )?;
    if search.grid < 3 {
        return Err(ErmError::InvalidParameter {
            name: "grid",
            value: search.grid as f64,
            bound: ">= 3",
        });
    }
    let (l0, l1) = (search.lambda_min.ln(), search.lambda_max.ln());
    let n = search.grid;
    let mut evals = 0usize;
    let mut worst = Termination::Converged;
    let mut note = |s: &Termination| {
        let diverged = |t: &Termination| matches!(t, Termination::Diverged { .. });
        if !s.converged() && worst.converged() || diverged(s) && !diverged(&worst) {
            worst = s.clone();
        }
    };
    let mut pts: Vec<(f64, ErmPoint)> = Vec::with_capacity(n);
    let mut warm: Option<Overlaps> = None;
    for i in (0..n).rev() {
        let t = l0 + (l1 - l0) * i as f64 / (n - 1) as f64;
        let pt = solve_from(&p.at_lambda(t.exp())?, config, warm)?;
        evals += 1;
        note(&pt.status);
        if !matches!(pt.status, Termination::Diverged { .. }) {
            warm = Some(pt.overlaps);
        }
        pts.push((t, pt));
    }
    pts.reverse();
    let err = |pt: &ErmPoint| {
        if pt.test_error.is_finite() {
            pt.test_error
        } else {
            f64::INFINITY
        }
    };
    let ibest = (0..n)
        .min_by(|&a, &b| err(&pts[a].1).total_cmp(&err(&pts[b].1)))
        .unwrap();
    if ibest == 0 || ibest == n - 1 {
        let (t, pt) = pts.swap_remove(ibest);
        return Ok(OptimalLambda {
            lambda: t.exp(),
            point: pt,
            evaluations: evals,
            at_bound: true,
            status: worst,
        });
    }
    // Brent minimisation on [t_{i−1}, t_{i+1}] starting from the grid minimum.
    let (mut a, mut b) = (pts[ibest - 1].0, pts[ibest + 1].0);
    let mut best = pts.swap_remove(ibest);
    let mut warm = best.1.overlaps;
    let eval = |t: f64, warm: &mut Overlaps| -> Result<(f64, ErmPoint), ErmError> {
        let pt = solve_from(&p.at_lambda(t.exp())?, config, Some(*warm))?;
        if !matches!(pt.status, Termination::Diverged { .. }) {
            *warm = pt.overlaps;
        }
        Ok((err(&pt), pt))
    };
    let (mut x, mut w, mut v) = (best.0, best.0, best.0);
    let (mut fx, mut fw, mut fv) = (err(&best.1), err(&best.1), err(&best.1));
    let (mut d, mut e) = (0.0f64, 0.0f64);
    for _ in 0..MINIMISE_MAX_ITER {
        let xm = 0.5 * (a + b);
        let tol1 = search.log_tol / 2.0;
        let tol2 = 2.0 * tol1;
        if (x - xm).abs() <= tol2 - 0.5 * (b - a) {
            break;
        }
        let mut golden = true;
        if e.abs() > tol1 {
            let r = (x - w) * (fx - fv);
            let mut qq = (x - v) * (fx - fw);
            let mut pp = (x - v) * qq - (x - w) * r;
            qq = 2.0 * (qq - r);
            if qq > 0.0 {
                pp = -pp;
            }
            qq = qq.abs();
            let etemp = e;
            if pp.abs() < (0.5 * qq * etemp).abs() && pp > qq * (a - x) && pp < qq * (b - x) {
                e = d;
                d = pp / qq;
                let u = x + d;
                if u - a < tol2 || b - u < tol2 {
                    d = tol1.copysign(xm - x);
                }
                golden = false;
            }
        }
        if golden {
            e = if x >= xm { a - x } else { b - x };
            d = CGOLD * e;
        }
        let u = if d.abs() >= tol1 {
            x + d
        } else {
            x + tol1.copysign(d)
        };
        let (fu, pu) = eval(u, &mut warm)?;
        evals += 1;
        note(&pu.status);
        if fu <= fx {
            if u >= x {
                a = x;
            } else {
                b = x;
            }
            (v, fv) = (w, fw);
            (w, fw) = (x, fx);
            (x, fx) = (u, fu);
            best = (u, pu);
        } else {
            if u < x {
                a = u;
            } else {
                b = u;
            }
            if fu <= fw || w == x {
                (v, fv) = (w, fw);
                (w, fw) = (u, fu);
            } else if fu <= fv || v == x || v == w {
                (v, fv) = (u, fu);
            }
        }
    }
    Ok(OptimalLambda {
        lambda: best.0.exp(),
        point: best.1,
        evaluations: evals,
        at_bound: false,
        status: worst,
    })
}
