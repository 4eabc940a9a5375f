//! # gardner-theory: the large-d theory
//!
//! Replica-symmetric free entropy, state evolution (SE) and Bayes-optimal errors of the
//! generalised linear model y_μ ~ P_out(· | X_μ·w*), w*_i ~ P_w, X_{μi} ~ N(0, 1/d),
//! n = round(α d) (Barbier, Krzakala, Macris, Miolane, Zdeborová, PNAS 2019; talk slides
//! "Bayes-optimal performance", "State evolution", "Corollary", "Optimal phase retrieval"),
//! and the ERM fixed points ([`erm`]).
//!
//! One concept per module:
//! - [`prior_side`]: Φ_w(m̂) and the prior map m(m̂) ([`PriorSide`], closed forms and reductions);
//! - [`channel_side`]: Φ_out(m; ρ) and the output map m̂(m) ([`ChannelSide`]);
//! - [`free_entropy`]: f_RS(m, m̂), the potential f_RS(m), perfect-recovery limits;
//! - [`se`]: state evolution (damped iteration or exact bracketed fixed points, continuation);
//! - [`bayes`]: MMSE, AMP error, generalisation errors ([`bayes_point`], [`bayes_curve`]);
//! - [`thresholds`](mod@thresholds): α_IT and α_AMP;
//! - [`reference`](mod@reference): slow brute-force definitions used to test the fast reductions;
//! - [`dmft`]: DMFT of GD / SGD / persistent SGD, exact ridge-regression learning curves;
//! - [`error`]: the crate's error type.
//!
//! ## Glossary (symbol → field / argument name)
//! | symbol | meaning | name |
//! |---|---|---|
//! | α | sample ratio n/d | `alpha` |
//! | ρ | E w², teacher norm per dimension | `rho` |
//! | m | overlap ŵ·w*/d (Bayes: = q by Nishimori) | `m`, `m_amp`, `m_mmse` |
//! | q | self-overlap ŵ·ŵ/d | `q` |
//! | V | ρ − m: variance of z given ω, = Bayes MSE | `v`, `mse`, `mmse`, `mse_amp` |
//! | m̂ | conjugate overlap, α E\[g_out²\] | `m_hat` |
//! | A, B | natural parameters of ln Z_w(A, B) = ln E_w e^{Bw − Aw²/2}; GAMP's Σ = 1/A, R = B/A | — |
//! | f_a, f_v | posterior mean / variance ∂_B, ∂²_B ln Z_w | `Prior::moments` |
//! | ω | student field, N(0, m) in the theory | `omega` |
//! | g_out | ∂_ω ln Z_out(y, ω, V) | `Channel::g_out` |
//! | Φ_w, Φ_out | prior / output free entropies | [`phi_w`], [`phi_out`] |
//! | f_RS | replica free entropy | [`f_rs`], [`f_rs_potential`] |
//! | α_IT, α_AMP | information-theoretic / algorithmic thresholds | [`Thresholds`] |
//!
//! Conventions: MSE = ρ − m; sign-teacher classification error arccos(m/√(ρq))/π; the
//! squared-loss generalisation error is E_ω Var(y | ω, V) (Theorem 2). Non-convergence is a
//! status ([`Termination`](gardner_models::run::Termination), shared with every iterative
//! computation), never an error; NaN never leaves the crate (it becomes an [`Error`]);
//! the only non-finite outputs are m̂ = +∞ and f_RS = ±∞ at perfect recovery (documented).

pub mod bayes;
pub mod channel_side;
pub mod dmft;
pub mod erm;
pub mod error;
pub mod free_entropy;
pub mod prior_side;
mod quad;
pub mod reference;
pub mod se;
#[cfg(test)]
mod tests;
pub mod thresholds;

pub use bayes::{BayesPoint, bayes_curve, bayes_point, class_error, gen_error_sq};
pub use channel_side::ChannelSide;
pub use error::Error;
pub use free_entropy::{
    f_rs, f_rs_perfect, f_rs_potential, m_hat_of_m, m_of_m_hat, phi_out, phi_w,
};
pub use prior_side::PriorSide;
pub use se::{FixedPointKind, Method, SeConfig, SeResult, Start, se_curve, se_fixed_point};
pub use thresholds::{ItKind, ThresholdConfig, Thresholds, thresholds};
