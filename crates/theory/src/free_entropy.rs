//! The replica-symmetric free entropy (talk, "Bayes-optimal performance", Theorem 1):
//!
//! ```text
//!   f_RS(m, m̂) = Φ_w(m̂) + α Φ_out(m; ρ) − m m̂ / 2
//!   f_RS(m)    = inf_m̂ f_RS(m, m̂) = f_RS(m, m̂_w(m))      ("potential", Corollary slide)
//! ```
//!
//! Φ_w is convex in m̂ with 2Φ_w' = m(m̂), so the infimum over m̂ at fixed m is attained at the
//! m̂_w(m) that solves m(m̂) = m — the *inverse prior map* (closed form m̂ = m/(ρ(ρ − m)) for the
//! Gaussian prior, Brent's method otherwise). [`f_rs_potential`] computes exactly this. Its
//! derivative is ∂_m f_RS(m) = (α E\[g²\](m) − m̂_w(m))/2, so its stationary points are the SE
//! fixed points, where m̂_w(m) = α E\[g²\](m) and f_RS(m) = f_RS(m, m̂).
//!
//! **Perfect recovery** (m = ρ, reached by noiseless channels): f_RS(ρ − V) behaves like
//! ½(α κ − d_w) ln(1/V) + O(1), with d_w = [`Prior::info_dimension`](gardner_models::Prior::info_dimension) and κ =
//! [`ChannelSide::output_dimension`]. [`f_rs_perfect`] returns +∞ / −∞ when this coefficient is
//! positive / negative, and the finite limit [`PriorSide::perfect_limit`] + α
//! [`ChannelSide::noiseless_limit`] when both dimensions vanish (e.g. −ln 2 for the binary
//! perceptron). These infinities are the only non-finite free entropies the crate returns.

use crate::channel_side::ChannelSide;
use crate::error::{Error, positive};
use crate::prior_side::PriorSide;

/// Validate α and the overlap m ∈ [0, ρ); returns V = ρ − m.
pub(crate) fn check_state(alpha: f64, m: f64, rho: f64) -> Result<f64, Error> {
    positive("alpha", alpha)?;
    if !(m >= 0.0 && m < rho) {
        return Err(Error::InvalidParameter {
            name: "m",
            value: m,
            bound: "in [0, rho)",
        });
    }
    Ok(rho - m)
}

/// Validate m̂ ≥ 0.
pub(crate) fn check_m_hat(m_hat: f64) -> Result<f64, Error> {
    if m_hat >= 0.0 && m_hat.is_finite() {
        Ok(m_hat)
    } else {
        Err(Error::InvalidParameter {
            name: "m_hat",
            value: m_hat,
            bound: ">= 0 and finite",
        })
    }
}

/// Φ_w(m̂) = E_{w0,ξ} ln Z_w(m̂, m̂ w0 + √m̂ ξ).
pub fn phi_w<P: PriorSide>(prior: &P, m_hat: f64) -> Result<f64, Error> {
    prior.phi_w(check_m_hat(m_hat)?)
}

/// Φ_out(m; ρ) = E_{ω~N(0,m)} E_{y|ω} ln Z_out(y, ω, ρ − m), ρ = prior ρ, m ∈ [0, ρ).
pub fn phi_out<P: PriorSide, C: ChannelSide>(prior: &P, channel: &C, m: f64) -> Result<f64, Error> {
    let v = check_state(1.0, m, prior.rho())?;
    channel.phi_out(m, v)
}

/// SE output map m̂(m) = 2α ∂_m Φ_out = α E\[g_out²\] at overlap m (V = ρ − m).
pub fn m_hat_of_m<P: PriorSide, C: ChannelSide>(
    prior: &P,
    channel: &C,
    alpha: f64,
    m: f64,
) -> Result<f64, Error> {
    let v = check_state(alpha, m, prior.rho())?;
    Ok(alpha * channel.e_gout2(m, v)?)
}

/// SE prior map m(m̂) = 2 ∂_m̂ Φ_w = E\[f_a²\].
pub fn m_of_m_hat<P: PriorSide>(prior: &P, m_hat: f64) -> Result<f64, Error> {
    Ok(prior.overlap(check_m_hat(m_hat)?)?.0)
}

/// f_RS(m, m̂) = Φ_w(m̂) + α Φ_out(m; ρ) − m m̂/2, for m ∈ [0, ρ), m̂ ≥ 0.
pub fn f_rs<P: PriorSide, C: ChannelSide>(
    prior: &P,
    channel: &C,
    alpha: f64,
    m: f64,
    m_hat: f64,
) -> Result<f64, Error> {
    let v = check_state(alpha, m, prior.rho())?;
    check_m_hat(m_hat)?;
    crate::error::finite(
        "f_RS",
        prior.phi_w(m_hat)? + alpha * channel.phi_out(m, v)? - 0.5 * m * m_hat,
    )
}

/// The potential f_RS(m) = inf_m̂ f_RS(m, m̂): returns (f_RS(m), m̂_w(m)) with m̂_w(m) the
/// inverse prior map (see module docs).
pub fn f_rs_potential<P: PriorSide, C: ChannelSide>(
    prior: &P,
    channel: &C,
    alpha: f64,
    m: f64,
) -> Result<(f64, f64), Error> {
    let v = check_state(alpha, m, prior.rho())?;
    let m_hat = prior.m_hat_for(v)?;
    Ok((f_rs(prior, channel, alpha, m, m_hat)?, m_hat))
}

/// lim_{m→ρ} f_RS(m) at perfect recovery: ±∞ or a finite limit (see module docs).
pub fn f_rs_perfect<P: PriorSide, C: ChannelSide>(
    prior: &P,
    channel: &C,
    alpha: f64,
) -> Result<f64, Error> {
    positive("alpha", alpha)?;
    let coef = alpha * channel.output_dimension() - prior.info_dimension();
    if coef > 0.0 {
        return Ok(f64::INFINITY);
    }
    if coef < 0.0 {
        return Ok(f64::NEG_INFINITY);
    }
    match (prior.perfect_limit(), channel.noiseless_limit()) {
        (Some(p), Some(c)) => Ok(p + alpha * c),
        _ => Err(Error::Undetermined {
            context: "free entropy at perfect recovery (alpha at the divergence boundary)",
        }),
    }
}
