//! Slow reference implementations straight from the definitions, by nested checked
//! tanh–sinh quadrature (each call costs 10⁵–10⁶ integrand evaluations). They exist to test the
//! fast reductions of [`crate::channel_side`] and [`crate::prior_side`]; do not use them in loops.
//!
//! ```text
//!   E[g²]  = E_t E_{y ~ label_law(√m t, V)} g_out(y, √m t, V)²
//!   Φ_out  = E_t E_{y ~ label_law(√m t, V)} ln Z_out(y, √m t, V)
//! ```
//! The outer integral is split at t = 0 (and truncated at |t| = 10) and the inner one at the
//! kink of y (|u| = 0).

use crate::error::Error;
use gardner_models::gauss::expect_normal_split;
use gardner_models::special::npdf;
use gardner_models::{Channel, LabelLaw};

const TOL: f64 = 1e-11;

fn nested<C: Channel>(c: &C, m: f64, v: f64, f: impl Fn(f64, f64) -> f64) -> Result<f64, Error> {
    let sm = m.sqrt();
    let outer = |t: f64| -> f64 {
        // |t| > 10 carries Gaussian weight < 1e-22 (the integrands grow at most polynomially);
        // there the inner rule meets cancellations of O(ω²/V) terms, so it is skipped.
        if t.abs() > 10.0 {
            return 0.0;
        }
        let w = sm * t;
        // the inner error enters the outer integral with weight φ(t): scale its tolerance
        let tol = (1e-13 / npdf(t)).clamp(TOL, 1e-3);
        match c.label_law(w, v) {
            LabelLaw::Binary { p_plus } => {
                let a = if p_plus > 0.0 {
                    p_plus * f(1.0, w)
                } else {
                    0.0
                };
                let b = if p_plus < 1.0 {
                    (1.0 - p_plus) * f(-1.0, w)
                } else {
                    0.0
                };
                a + b
            }
            LabelLaw::Gaussian { mean, var } => {
                let s = var.sqrt();
                expect_normal_split(|x| f(mean + s * x, w), &[0.0], tol).unwrap_or(f64::NAN)
            }
            LabelLaw::Folded { mean, var } => {
                let s = var.sqrt();
                // split at the kink u = 0 of y = |u| when it lies in the bulk of the measure
                let k = -mean / s;
                let kinks: &[f64] = if k.abs() < 30.0 { &[k] } else { &[] };
                expect_normal_split(|x| f((mean + s * x).abs(), w), kinks, tol).unwrap_or(f64::NAN)
            }
        }
    };
    expect_normal_split(outer, &[0.0], TOL).map_err(Error::integration("reference nested integral"))
}

/// E\[g_out²\] by nested quadrature of the definition.
pub fn e_gout2<C: Channel>(c: &C, m: f64, v: f64) -> Result<f64, Error> {
    nested(c, m, v, |y, w| c.g_out(y, w, v).0.powi(2))
}

/// Φ_out(m; ρ) by nested quadrature of the definition.
pub fn phi_out<C: Channel>(c: &C, m: f64, v: f64) -> Result<f64, Error> {
    nested(c, m, v, |y, w| c.log_z(y, w, v))
}

/// E\[∂_ω g_out\] by nested quadrature (= −E\[g_out²\] for Bayes-optimal channels).
pub fn e_dgout<C: Channel>(c: &C, m: f64, v: f64) -> Result<f64, Error> {
    nested(c, m, v, |y, w| c.g_out(y, w, v).1)
}
