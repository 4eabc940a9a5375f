//! Bayes-optimal outputs (talk, "Corollary" and Theorem 2).
//!
//! At sample ratio α:
//! - `m_amp`: the fixed point reached by state evolution from the uninformed start (what AMP
//!   achieves); `mse_amp = ρ − m_amp`.
//! - `m_informed`: the fixed point reached from the informed start (the branch of the planted
//!   solution).
//! - `m_mmse`: of these two, the one with the larger free entropy f_RS (ties → the uninformed
//!   one); `mmse = ρ − m_mmse`. (A third stable fixed point reached from neither start would be
//!   missed; none occurs for the models of this crate.)
//! - Generalisation errors at an overlap m (q = m by Nishimori), named so they cannot be confused:
//!   * `gen_error_sq`: the squared-loss error of the Bayes-optimal predictor ŷ = E\[y | ω\],
//!     Theorem 2 of the talk: E\[y²\] − E_ω\[E(y|ω)²\] = E_ω Var(y | ω, V), ω ~ N(0, m), V = ρ − m
//!     (from [`LabelLaw`](gardner_models::LabelLaw) mean and second moment);
//!   * `class_error`: the 0–1 error of the classifier sign(x·ŵ) against the labels sign(x·w*),
//!     arccos(m/√(ρq))/π with q = m, i.e. arccos(√(m/ρ))/π (meaningful for sign/probit teachers;
//!     ≈ 0.4417/α at large α for the spherical perceptron).

use crate::channel_side::ChannelSide;
use crate::error::Error;
use crate::free_entropy::{f_rs, f_rs_perfect};
use crate::prior_side::PriorSide;
use crate::se::{FixedPointKind, SeConfig, SeMap, SeResult, Start};
use gardner_models::gauss::expect_normal_split;
use gardner_models::run::Termination;
use serde::{Deserialize, Serialize};

/// Bayes-optimal quantities at one α (see module docs for definitions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BayesPoint {
    /// Sample ratio α = n/d.
    pub alpha: f64,
    /// ρ = E w².
    pub rho: f64,
    /// Overlap of the fixed point reached from the uninformed start (AMP).
    pub m_amp: f64,
    /// Overlap of the fixed point reached from the informed start.
    pub m_informed: f64,
    /// Overlap at the global maximum of f_RS among the two.
    pub m_mmse: f64,
    /// MMSE = ρ − m_mmse.
    pub mmse: f64,
    /// MSE of AMP = ρ − m_amp.
    pub mse_amp: f64,
    /// m̂ at the AMP fixed point (+∞ at perfect recovery).
    pub m_hat_amp: f64,
    /// m̂ at the MMSE fixed point (+∞ at perfect recovery).
    pub m_hat_mmse: f64,
    /// f_RS at the AMP fixed point (±∞ only at perfect recovery).
    pub f_amp: f64,
    /// f_RS at the informed fixed point (±∞ only at perfect recovery).
    pub f_informed: f64,
    /// Kind of the AMP fixed point.
    pub kind_amp: FixedPointKind,
    /// Kind of the informed fixed point.
    pub kind_informed: FixedPointKind,
    /// Squared-loss generalisation error of the Bayes predictor at m_mmse (Theorem 2).
    pub gen_error_sq_bayes: f64,
    /// Squared-loss generalisation error at m_amp.
    pub gen_error_sq_amp: f64,
    /// 0–1 classification error arccos(√(m/ρ))/π at m_mmse.
    pub class_error_bayes: f64,
    /// 0–1 classification error at m_amp.
    pub class_error_amp: f64,
    /// Termination of the state evolution: `Converged` unless a branch's iteration stopped
    /// otherwise (then that branch's termination, the uninformed one first).
    pub status: Termination,
}

/// Squared-loss generalisation error E_ω Var(y | ω, ρ − m), ω ~ N(0, m) (Theorem 2 form).
pub fn gen_error_sq<C: ChannelSide>(channel: &C, m: f64, rho: f64) -> Result<f64, Error> {
    if !(m >= 0.0 && m <= rho) {
        return Err(Error::InvalidParameter {
            name: "m",
            value: m,
            bound: "in [0, rho]",
        });
    }
    let (sm, v) = (m.sqrt(), (rho - m).max(0.0));
    let f = |t: f64| {
        let law = channel.label_law(sm * t, v);
        let mu = law.mean();
        (law.second_moment() - mu * mu).max(0.0)
    };
    expect_normal_split(f, &[0.0], 1e-11).map_err(Error::integration("generalisation error"))
}

/// 0–1 classification error ε = arccos(m/√(ρ q))/π of sign(x·ŵ) against sign(x·w*): the one
/// definition [`gardner_models::class_error`] (½ for q = 0 or ρ = 0), with a non-finite
/// input an error instead of NaN.
pub fn class_error(m: f64, q: f64, rho: f64) -> Result<f64, Error> {
    crate::error::finite("class_error", gardner_models::class_error(m, q, rho))
}

/// f_RS at a fixed point (its limit at perfect recovery).
pub fn free_entropy_at<P: PriorSide, C: ChannelSide>(
    prior: &P,
    channel: &C,
    fp: &SeResult,
) -> Result<f64, Error> {
    match fp.kind {
        FixedPointKind::PerfectRecovery => f_rs_perfect(prior, channel, fp.alpha),
        _ => f_rs(prior, channel, fp.alpha, fp.m, fp.m_hat),
    }
}

/// Both branches at α: (uninformed, informed) fixed points.
pub(crate) fn branches<P: PriorSide, C: ChannelSide>(
    prior: &P,
    channel: &C,
    alpha: f64,
    cfg: &SeConfig,
) -> Result<(SeResult, SeResult), Error> {
    cfg.validate()?;
    let map = SeMap::new(prior, channel, alpha)?;
    let a = map.solve(Start::Uninformed, cfg)?;
    let b = map.solve(Start::Informed, cfg)?;
    Ok((a, b))
}

/// Assemble a [`BayesPoint`] from the two branches.
pub(crate) fn assemble<P: PriorSide, C: ChannelSide>(
    prior: &P,
    channel: &C,
    amp: SeResult,
    inf: SeResult,
) -> Result<BayesPoint, Error> {
    let rho = prior.rho();
    let f_amp = free_entropy_at(prior, channel, &amp)?;
    let f_inf = if (inf.m - amp.m).abs() <= 1e-12 * rho && inf.kind == amp.kind {
        f_amp
    } else {
        free_entropy_at(prior, channel, &inf)?
    };
    let status = [&amp.status, &inf.status]
        .into_iter()
        .find(|s| !s.converged())
        .cloned()
        .unwrap_or(Termination::Converged);
    let best = if f_inf > f_amp { &inf } else { &amp };
    Ok(BayesPoint {
        alpha: amp.alpha,
        rho,
        m_amp: amp.m,
        m_informed: inf.m,
        m_mmse: best.m,
        mmse: best.mse,
        mse_amp: amp.mse,
        m_hat_amp: amp.m_hat,
        m_hat_mmse: best.m_hat,
        f_amp,
        f_informed: f_inf,
        kind_amp: amp.kind,
        kind_informed: inf.kind,
        gen_error_sq_bayes: gen_error_sq(channel, best.m, rho)?,
        gen_error_sq_amp: gen_error_sq(channel, amp.m, rho)?,
        class_error_bayes: class_error(best.m, best.m, rho)?,
        class_error_amp: class_error(amp.m, amp.m, rho)?,
        status,
    })
}

/// Bayes-optimal point at sample ratio `alpha`: MMSE, AMP error, free entropies,
/// generalisation errors (see module docs).
pub fn bayes_point<P: PriorSide, C: ChannelSide>(
    prior: &P,
    channel: &C,
    alpha: f64,
    cfg: &SeConfig,
) -> Result<BayesPoint, Error> {
    let (amp, inf) = branches(prior, channel, alpha, cfg)?;
    assemble(prior, channel, amp, inf)
}

/// [`bayes_point`] along a list of α, both branches followed by continuation
/// ([`crate::se::se_curve`]); results in the order of `alphas`, failures kept per point.
pub fn bayes_curve<P: PriorSide, C: ChannelSide>(
    prior: &P,
    channel: &C,
    alphas: &[f64],
    cfg: &SeConfig,
) -> Vec<Result<BayesPoint, Error>> {
    let amp = crate::se::se_curve(prior, channel, alphas, Start::Uninformed, cfg);
    let inf = crate::se::se_curve(prior, channel, alphas, Start::Informed, cfg);
    amp.into_iter()
        .zip(inf)
        .map(|(a, b)| assemble(prior, channel, a?, b?))
        .collect()
}
