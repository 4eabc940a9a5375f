//! The max-margin classifier: the hinge-loss minimiser as λ → 0⁺ on separable data.
//!
//! With V = ν/λ → ∞ the hinge equations reduce (module docs of [`crate::erm`]) to m = ρ M,
//! q = ρ M² + Q. In the cosine c = m/√(ρ q) and the margin κ = 1/√q of the unit-norm student,
//! with ω₀ = c √ρ ξ, V₀ = ρ (1 − c²),
//!
//! ```text
//!   A(c, κ) = E_ξ Σ_y ∂_ω Z₀(y, ω₀, V₀) y (κ − y ξ)₊,   B(c, κ) = E_ξ Σ_y Z₀(y, ω₀, V₀) (κ − y ξ)₊²
//!   c = √ρ α A(c, κ),   1 − c² = α B(c, κ).
//! ```
//!
//! B increases with κ, so κ(c) is the root of the second equation; c is then the root of
//! c − √ρ α A(c, κ(c)) in (0, 1): two nested bracketed Brent solves (exact methods, no
//! iteration). The data are separable at this α iff κ > 0 and W = α P(y ξ < κ) ≤ 1 (W is
//! α times the fraction of support vectors).

use super::problem::{ErmConfig, ErmPoint, ErmProblem, Overlaps, diverged, test_label_error};
use super::{ErmError, KINK_RANGE, classification_error};
use gardner_models::Channel;
use gardner_models::brent::XTol;
use gardner_models::gauss::expect_normal_split;
use gardner_models::run::Termination;

/// Bracket of the cosine c: an interior point at each end (c = 0 leaves no alignment to
/// measure and c = 1 makes V₀ = 0, a step in the integrand).
const C_BRACKET: (f64, f64) = (1e-9, 1.0 - 1e-12);
/// Brent x-tolerance on c (c ∈ (0, 1); the test error moves by O(1e-13) at most).
const C_XTOL: f64 = 1e-13;
/// Brent x-tolerance on κ, relative to the upper end of its bracket (κ is O(1) to O(10)).
const KAPPA_XTOL: f64 = 1e-14;
/// Lowest κ tried when bracketing B(c, κ) = (1 − c²)/α from below: B vanishes as κ → −∞, so
/// a lower end exists unless the target is 0; beyond this there is no separating student.
const KAPPA_MIN: f64 = -1e3;
/// Highest κ tried from above: B grows as κ², so the upper end is reached long before.
const KAPPA_MAX: f64 = 1e6;
/// Brent iteration cap (each step halves the bracket at worst: 200 steps reach any xtol).
const BRENT_MAX_ITER: usize = 200;
/// Slack on the separability condition W ≤ 1 (W is a checked integral, accurate to ~1e-11).
const W_SLACK: f64 = 1e-9;

/// Root of `f` on [lo, hi] (opposite signs) by Brent's method to `xtol` in x. `Ok(None)`
/// when no root is found: the iteration cap was reached or `f` was undefined (NaN) inside.
/// An error of `f` aborts the search and is returned.
fn brent_root(
    mut f: impl FnMut(f64) -> Result<Option<f64>, ErmError>,
    lo: f64,
    hi: f64,
    xtol: f64,
) -> Result<Option<f64>, ErmError> {
    let mut err: Option<ErmError> = None;
    let mut undefined = false;
    let r = roots::find_root_brent(
        lo,
        hi,
        |x| match f(x) {
            Ok(Some(v)) if !v.is_nan() => v,
            Ok(_) => {
                undefined = true;
                0.0 // stops the search at once; the result is discarded below
            }
            Err(e) => {
                err.get_or_insert(e);
                0.0
            }
        },
        &mut XTol {
            xtol,
            max_iter: BRENT_MAX_ITER,
        },
    );
    if let Some(e) = err {
        return Err(e);
    }
    Ok(if undefined { None } else { r.ok() })
}

/// The max-margin classifier: the hinge-loss minimiser as λ → 0⁺ on separable data (module
/// docs). The overlaps reported have V = ∞ (`v = f64::INFINITY`) and rescaled conjugates
/// (m̂, q̂, V̂) := (M, Q, W). Not separable (κ ≤ 0, no bracket, or W > 1) is
/// `Diverged` naming `margin` or `W` (iteration 0: the method is exact); a Brent search
/// that finds no root is `MaxIterations`.
pub fn max_margin<C: Channel>(p: &ErmProblem<C>, config: &ErmConfig) -> Result<ErmPoint, ErmError> {
    let (alpha, rho) = (p.alpha, p.rho);
    let tol = config.quad_tol;
    // E_ξ Σ_y g(y, Z₀, ∂Z₀, ξ) at (c, κ), split at ξ = 0, ±κ.
    let expect_ck = |quantity: &'static str,
                     c: f64,
                     kappa: f64,
                     g: &dyn Fn(f64, f64, f64, f64) -> f64|
     -> Result<f64, ErmError> {
        let (w0s, v0) = (c * rho.sqrt(), rho * (1.0 - c * c));
        expect_normal_split(
            |xi| {
                let w0 = w0s * xi;
                [-1.0, 1.0]
                    .iter()
                    .map(|&y| {
                        let z0 = p.channel.log_z(y, w0, v0).exp();
                        let dz = if z0 > 0.0 {
                            z0 * p.channel.g_out(y, w0, v0).0
                        } else {
                            0.0
                        };
                        g(y, z0, dz, xi)
                    })
                    .sum()
            },
            &if kappa.abs() < KINK_RANGE {
                vec![-kappa.abs(), 0.0, kappa.abs()]
            } else {
                vec![0.0]
            },
            tol,
        )
        .map_err(|source| ErmError::Integration {
            quantity,
            m: c,
            q: kappa,
            v: f64::INFINITY,
            source,
        })
    };
    let b_of = |c: f64, kappa: f64| {
        expect_ck("B", c, kappa, &|y, z0, _, xi| {
            z0 * (kappa - y * xi).max(0.0).powi(2)
        })
    };
    let a_of = |c: f64, kappa: f64| {
        expect_ck("A", c, kappa, &|y, _, dz, xi| {
            dz * y * (kappa - y * xi).max(0.0)
        })
    };
    // κ(c): root of B(c, κ) = (1 − c²)/α; None when it cannot be bracketed or found (no
    // separating student with this cosine). κ may come out negative for c above the solution:
    // bracket on the whole line; separability is checked at the end.
    let kappa_of = |c: f64| -> Result<Option<f64>, ErmError> {
        let target = (1.0 - c * c) / alpha;
        let h = |k: f64| b_of(c, k).map(|b| b - target);
        let (mut lo, mut hi) = (0.0, 1.0);
        while h(lo)? >= 0.0 {
            lo = 2.0 * lo - 1.0;
            if lo < KAPPA_MIN {
                return Ok(None);
            }
        }
        while h(hi)? < 0.0 {
            hi *= 2.0;
            if hi > KAPPA_MAX {
                return Ok(None);
            }
        }
        brent_root(|k| h(k).map(Some), lo, hi, KAPPA_XTOL * hi)
    };
    // c − √ρ α A(c, κ(c)); None when κ(c) does not exist.
    let outer = |c: f64| -> Result<Option<f64>, ErmError> {
        Ok(match kappa_of(c)? {
            Some(k) => Some(c - rho.sqrt() * alpha * a_of(c, k)?),
            None => None,
        })
    };
    let (c_lo, c_hi) = C_BRACKET;
    let bracketed = matches!(
        (outer(c_lo)?, outer(c_hi)?),
        (Some(g_lo), Some(g_hi)) if g_lo < 0.0 && g_hi > 0.0
    );
    let not_separable = Termination::diverged(0, "margin");
    let (c, mut status) = if bracketed {
        match brent_root(outer, c_lo, c_hi, C_XTOL)? {
            Some(c) => (c, Termination::Converged),
            None => (f64::NAN, Termination::MaxIterations),
        }
    } else {
        (f64::NAN, not_separable.clone())
    };
    let (m, q, hats) = match (c.is_finite(), status.converged()) {
        (true, true) => match kappa_of(c)? {
            Some(kappa) if kappa > 0.0 => {
                let q = 1.0 / (kappa * kappa);
                let m = c * (rho * q).sqrt();
                let big_m = m / rho;
                let w = expect_ck("W", c, kappa, &|y, z0, _, xi| {
                    if y * xi < kappa { z0 } else { 0.0 }
                })?;
                if (alpha * w).is_nan() || alpha * w > 1.0 + W_SLACK {
                    status = Termination::diverged(0, "W");
                }
                (m, q, (big_m, q - rho * big_m * big_m, alpha * w))
            }
            _ => {
                status = not_separable;
                (f64::NAN, f64::NAN, (f64::NAN, f64::NAN, f64::NAN))
            }
        },
        _ => (f64::NAN, f64::NAN, (f64::NAN, f64::NAN, f64::NAN)),
    };
    let ov = Overlaps {
        m,
        q,
        v: f64::INFINITY,
        m_hat: hats.0,
        q_hat: hats.1,
        v_hat: hats.2,
    };
    if !status.converged() {
        return Ok(diverged(p, ov, 0, status));
    }
    let label_err = test_label_error(&p.channel, m, q, f64::INFINITY, rho, tol)?;
    Ok(ErmPoint {
        alpha,
        lambda: 0.0,
        overlaps: ov,
        test_error: classification_error(m, q, rho),
        test_label_error: label_err,
        train_loss: 0.0,
        train_error: 0.0,
        objective_per_d: 0.0,
        iterations: 0,
        status,
    })
}
