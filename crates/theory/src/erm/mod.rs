//! Replica / Gordon fixed point of ridge-regularised empirical risk minimisation on the GLM.
//!
//! # Setting
//! X_{μi} ~ N(0, 1/d) i.i.d., n = round(α d), teacher w* ~ N(0, ρ) i.i.d., z = X w*,
//! y_μ ~ P_out(· | z_μ) with binary labels y = ±1 (sign, probit, any [`Channel`] whose
//! [`LabelLaw`] is binary). The student minimises
//!
//! ```text
//!   J(w) = Σ_μ ℓ(y_μ, X_μ·w) + (λ/2) ‖w‖²,       λ ≥ 0,
//! ```
//!
//! with ℓ one of the [`Loss`](gardner_models::Loss)es of `gardner_models::loss` (square ½(y−z)², logistic
//! ln(1+e^{−yz}), hinge max(0, 1−yz)). The talk writes λ_t ‖w‖² with ℓ_t = (y−z)² or
//! log₂(1+e^{−yz}); the same minimiser has λ = λ_t (square) and λ = 2 λ_t ln 2 (logistic).
//!
//! # Equations (Aubin, Maillard, Barbier, Krzakala, Macris, Zdeborová 2020, arXiv:2006.06560;
//! Loureiro et al. 2021; Thrampoulidis et al. for the Gordon form)
//! Order parameters m = ŵ·w*/d, q = ŵ·ŵ/d and the response V (the trace of the inverse
//! Hessian per dimension), conjugates m̂, q̂, V̂. The student field of a fresh sample is
//! ω = √q ξ, ξ ~ N(0, 1); given ω the teacher field is z | ω ~ N(ω₀, V₀) with
//! ω₀ = (m/√q) ξ, V₀ = ρ − m²/q, so the label has law Z₀(y, ω₀, V₀) = P(y | ω₀, V₀)
//! (the channel's Z_out). With the proximal operator of V ℓ(y, ·),
//! f(y, ω, V) = (prox(y, ω, V) − ω)/V = −ℓ'(y, prox) and ∂_ω f = (∂_ω prox − 1)/V:
//!
//! ```text
//!   m̂ = α E_ξ Σ_y ∂_ω Z₀(y, ω₀, V₀) f(y, ω, V)
//!   q̂ = α E_ξ Σ_y Z₀(y, ω₀, V₀) f(y, ω, V)²
//!   V̂ = α E_ξ Σ_y Z₀(y, ω₀, V₀) (1 − ∂_ω prox(y, ω, V))/V
//!   m = ρ m̂/(λ + V̂),   q = (ρ m̂² + q̂)/(λ + V̂)²,   V = 1/(λ + V̂)
//! ```
//!
//! (the prior side is the Moreau envelope of the ℓ2 penalty with a Gaussian teacher of
//! variance ρ). At the fixed point the stationarity conditions of J hold in the form
//! λ q = α E[f · prox] and λ m = α E[f · z] (checked in the tests).
//!
//! # Outputs
//! - test classification error against the teacher's noiseless sign: arccos(m/√(ρ q))/π;
//! - test label error P(y_new ≠ sign(X_new·ŵ)) (equal to the former for the sign channel);
//! - training loss (1/n) Σ ℓ(y_μ, X_μ·ŵ) = E[ℓ(y, prox)] (without the penalty);
//! - training error (1/n) #{y_μ X_μ·ŵ < 0} = P(y prox < 0) = P(y ω < y V ℓ'(y, 0));
//! - objective J/d = α E[ℓ(y, prox)] + λ q/2.
//!
//! # Numerics
//! Every expectation is a checked tanh–sinh integral over ξ ([`gardner_models::gauss`]) split
//! at the kinks of the integrand: ξ = 0 (where Z₀ becomes a step as V₀ → 0) and, for the hinge,
//! at y ω = 1 and y ω = 1 − V. No fixed grid: a fixed grid in ξ gives a wrong but
//! converged-looking fixed point at small λ (the kinks move with V). The iteration is an
//! Anderson-accelerated damped iteration ([`anderson`]) run by the shared
//! [`Driver`](gardner_models::run::Driver); it ends in a
//! [`Termination`](gardner_models::run::Termination): non-convergence is a status, invalid
//! input an [`ErmError`].
//!
//! # Limits λ → 0⁺
//! - square loss: the least-norm interpolator for α < 1 (V → ∞) and least squares for α > 1,
//!   in closed form ([`ridge_closed_form`]);
//! - hinge loss on separable data: the max-margin classifier ([`max_margin()`]). With V = ν/λ,
//!   m̂ = M/V, q̂ = Q/V², V̂ = W/V and F = y (1 − y ω)₊ the equations become
//!   m = ρ M, q = ρ M² + Q, with M = α E Σ_y ∂Z₀ F, Q = α E Σ_y Z₀ F², and W = α P(y ω < 1)
//!   (the fraction of support vectors times α) must be ≤ 1 (it equals 1 − λV → 1).
//!
//! # Modules
//! - [`problem`]: the problem, its fixed-point equations and [`solve`] / [`solve_from`];
//! - [`anderson`]: Anderson acceleration of a damped fixed-point iteration;
//! - [`ridge`]: the square loss in closed form ([`ridge_closed_form`], [`label_slope`]);
//! - [`max_margin`](mod@max_margin): the max-margin limit of the hinge loss;
//! - [`lambda`]: the classification-optimal λ ([`optimal_lambda`]).
//!
//! Every public item is re-exported here: `gardner_theory::erm::X`.

use gardner_models::gauss::IntegrationError;
use gardner_models::{Channel, LabelLaw, LossError};

pub mod anderson;
pub mod lambda;
pub mod max_margin;
pub mod problem;
pub mod ridge;
#[cfg(test)]
mod tests;

pub use lambda::{LambdaSearch, OptimalLambda, optimal_lambda};
pub use max_margin::max_margin;
pub use problem::{ErmConfig, ErmPoint, ErmProblem, Overlaps, solve, solve_from};
pub use ridge::{label_slope, ridge_closed_form};

/// Errors of the ERM theory: invalid input, or a numerical failure inside an iteration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErmError {
    /// A physics parameter outside its domain: names it, its value and the bound.
    #[error("invalid parameter `{name}` = {value}: must be {bound}")]
    InvalidParameter {
        name: &'static str,
        value: f64,
        bound: &'static str,
    },
    /// The channel does not produce binary labels ±1.
    #[error("the ERM theory needs a channel with binary labels y = ±1 (sign, probit); got {0}")]
    NonBinaryChannel(String),
    /// A loss error (unknown loss name, failed proximal operator).
    #[error(transparent)]
    Loss(#[from] LossError),
    /// A Gaussian expectation failed its accuracy check.
    #[error("integral of {quantity} at (m, q, V) = ({m}, {q}, {v}): {source}")]
    Integration {
        quantity: &'static str,
        m: f64,
        q: f64,
        v: f64,
        source: IntegrationError,
    },
}

/// 0–1 test error arccos(m/√(ρ q))/π of a student with overlaps (m, q): delegates to the one
/// definition, [`gardner_models::class_error`] (½ for q = 0; NaN for non-finite input, which
/// callers report as a failed point, never as a number).
pub fn classification_error(m: f64, q: f64, rho: f64) -> f64 {
    gardner_models::class_error(m, q, rho)
}

/// Breakpoints of the ξ integrals farther out than this are ignored: beyond |ξ| = 10 the
/// Gaussian weight is < 1e-22, and a far breakpoint only creates a long finite interval that
/// tanh–sinh resolves badly.
pub(crate) const KINK_RANGE: f64 = 10.0;

/// `value` if `ok` and finite, else the one-line error naming it.
pub(crate) fn check(
    name: &'static str,
    value: f64,
    ok: bool,
    bound: &'static str,
) -> Result<f64, ErmError> {
    if ok && value.is_finite() {
        Ok(value)
    } else {
        Err(ErmError::InvalidParameter { name, value, bound })
    }
}

/// Check that `channel` emits binary labels.
pub(crate) fn check_binary<C: Channel>(channel: &C) -> Result<(), ErmError> {
    match channel.label_law(0.3, 0.5) {
        LabelLaw::Binary { .. } => Ok(()),
        other => Err(ErmError::NonBinaryChannel(format!(
            "{channel:?} with label law {other:?}"
        ))),
    }
}
