//! Generic implementations straight from the definitions, by checked tanh–sinh quadrature of
//! the models' log-partitions. They are the default methods of [`ChannelSide`] and
//! [`PriorSide`] (so a new channel or prior needs no theory code) and the oracle the fast
//! reductions of [`crate::channel_side`] and [`crate::prior_side`] are tested against. The
//! output side is slow (nested integrals, 10⁵–10⁶ evaluations per call).
//!
//! Output side, ω = √m t, t ~ N(0, 1), y ~ label_law(ω, V):
//! ```text
//!   E[g²]  = E_t E_y g_out(y, ω, V)²,     Φ_out = E_t E_y ln Z_out(y, ω, V)
//! ```
//! The outer integral is split at t = 0 (and truncated at |t| = 10) and the inner one at the
//! kink of y (|u| = 0).
//!
//! Prior side: B = m̂ w0 + √m̂ ξ has the density N(B; 0, m̂) Z_w(m̂, B) (since
//! N(B; m̂ w0, m̂) = N(B; 0, m̂) e^{B w0 − m̂ w0²/2}), so with f_a, f_v = ∂_B, ∂²_B ln Z_w:
//! ```text
//!   Φ_w = E_B ln Z_w(m̂, B),   m = E_B f_a²,   V = E_B f_v      (m + V = ρ by Nishimori)
//! ```
//! integrated in u = B/s, s² = m̂(1 + m̂ρ) (the variance of B for a centred prior), where the
//! density relative to N(0, 1) is exp(½ ln(1 + m̂ρ) − m̂ρ u²/2 + ln Z_w(m̂, s u)) (identically 1
//! for the Gaussian prior), split at u = 0 and u = ±√(m̂ρ/(1 + m̂ρ)) (B = ±m̂√ρ, where the mass
//! of a prior with |w| = √ρ concentrates). Accurate for moderate m̂; at large m̂ a discrete
//! prior's narrow peaks defeat the rule, which then fails its error check (an error, never a
//! wrong number).

use crate::error::Error;
#[cfg(doc)]
use crate::{ChannelSide, PriorSide};
use gardner_models::gauss::expect_normal_split;
use gardner_models::special::npdf;
use gardner_models::{Channel, LabelLaw, Prior};

const TOL: f64 = 1e-11;

fn nested<C: Channel + ?Sized>(
    c: &C,
    m: f64,
    v: f64,
    f: impl Fn(f64, f64) -> f64,
) -> Result<f64, Error> {
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
pub fn e_gout2<C: Channel + ?Sized>(c: &C, m: f64, v: f64) -> Result<f64, Error> {
    nested(c, m, v, |y, w| c.g_out(y, w, v).0.powi(2))
}

/// Φ_out(m; ρ) by nested quadrature of the definition.
pub fn phi_out<C: Channel + ?Sized>(c: &C, m: f64, v: f64) -> Result<f64, Error> {
    nested(c, m, v, |y, w| c.log_z(y, w, v))
}

/// E\[∂_ω g_out\] by nested quadrature (= −E\[g_out²\] for Bayes-optimal channels).
pub fn e_dgout<C: Channel + ?Sized>(c: &C, m: f64, v: f64) -> Result<f64, Error> {
    nested(c, m, v, |y, w| c.g_out(y, w, v).1)
}

/// E_B\[g(B)\] over the law of B = m̂ w0 + √m̂ ξ (module docs).
fn prior_expect<P: Prior + ?Sized>(
    p: &P,
    m_hat: f64,
    context: &'static str,
    g: impl Fn(f64) -> f64,
) -> Result<f64, Error> {
    if !(m_hat >= 0.0 && m_hat.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "m_hat",
            value: m_hat,
            bound: ">= 0 and finite",
        });
    }
    let x = m_hat * p.rho();
    let s = (m_hat * (1.0 + x)).sqrt();
    let (half_log, c) = (0.5 * x.ln_1p(), (x / (1.0 + x)).sqrt());
    let kinks: &[f64] = if c > 0.0 { &[-c, 0.0, c] } else { &[0.0] };
    expect_normal_split(
        |u| {
            let b = s * u;
            (half_log - 0.5 * x * u * u + p.log_z(m_hat, b)).exp() * g(b)
        },
        kinks,
        TOL,
    )
    .map_err(Error::integration(context))
}

/// (m, V) = (E_B f_a², E_B f_v) at m̂ ≥ 0 by quadrature of the definition.
pub fn overlap<P: Prior + ?Sized>(p: &P, m_hat: f64) -> Result<(f64, f64), Error> {
    let m = prior_expect(p, m_hat, "reference prior map m", |b| {
        p.moments(m_hat, b).0.powi(2)
    })?;
    let v = prior_expect(p, m_hat, "reference prior map V", |b| p.moments(m_hat, b).1)?;
    Ok((m, v))
}

/// Φ_w(m̂) = E_B ln Z_w(m̂, B) by quadrature of the definition.
pub fn phi_w<P: Prior + ?Sized>(p: &P, m_hat: f64) -> Result<f64, Error> {
    prior_expect(p, m_hat, "reference Phi_w", |b| p.log_z(m_hat, b))
}

/// κ of Φ_out(ρ − V; ρ) ≈ (κ/2) ln(1/V) as V → 0, read from the label law at V = 0: 1 when y
/// given z is a point mass on a continuum (noiseless Gaussian or folded output), else 0.
pub fn output_dimension<C: Channel + ?Sized>(c: &C) -> f64 {
    let point_mass = |w: f64| match c.label_law(w, 0.0) {
        LabelLaw::Gaussian { var, .. } | LabelLaw::Folded { var, .. } => var == 0.0,
        LabelLaw::Binary { .. } => false,
    };
    if PROBE_FIELDS.iter().all(|&w| point_mass(w)) {
        1.0
    } else {
        0.0
    }
}

/// lim_{V→0} Φ_out = −H(y | z) = 0 for a noiseless discrete output (y a function of z: the
/// binary label law at V = 0 is 0 or 1); `None` otherwise.
pub fn noiseless_limit<C: Channel + ?Sized>(c: &C) -> Option<f64> {
    let deterministic = |w: f64| matches!(c.label_law(w, 0.0), LabelLaw::Binary { p_plus } if p_plus == 0.0 || p_plus == 1.0);
    PROBE_FIELDS
        .iter()
        .all(|&w| deterministic(w))
        .then_some(0.0)
}

/// Fields z at which the label law at V = 0 is read (both signs, away from z = 0 where a sign
/// channel's law is a convention).
const PROBE_FIELDS: [f64; 4] = [-1.3, -0.2, 0.5, 2.0];
