//! Dynamical mean-field theory (DMFT) of gradient descent, SGD and persistent SGD (p-SGD)
//! for teacher–student generalised linear models, and the exact learning curves of ridge
//! regression that test it.
//!
//! ## Conventions
//! X_{μi} ~ N(0, 1/d), n = α d samples, loss summed over samples Σ_μ ℓ(y_μ, X_μ·w), ridge
//! (λ/2)‖w‖² (so ν = λ), |w*|²/d = 1, teacher field h0 = X_μ·w* ~ N(0, 1),
//! w(0) = m0 w* + (a part orthogonal to w* of squared norm (q0 − m0²) d); labels y = h0
//! (square loss ℓ = ½(y − h)², linear teacher) or y = |h0| (phase retrieval ℓ = (h² − y²)²/4).
//! The discrete algorithm is w_{k+1} = w_k − η [ν_k w_k + Σ_μ s_μ(k) ℓ'(y_μ, X_μ·w_k) X_μ],
//! t = kη, with the weighted selection s_μ(k) ∈ {0, ω} ([`Selection::weight`]): ω = 1/b in
//! the `mean` [`Batch`] convention (the mini-batch gradient divided by b, the talk's: kernels
//! α/b² in M_C and α/b in Γ), ω = 1 in the `sum` convention; b = 1 is the same in both.
//! Selection: a two-state Markov chain, P(0→1) = η/τ, P(1→0) = (1 − b)η/(bτ), selected at
//! t = 0 with probability b ([`Selection`]); GD is b = 1, plain SGD τ = η/b, the flow limit
//! η → 0 a telegraph process.
//! Regularisation: ridge ν ≡ λ, or spherical (q ≡ 1, ν a Lagrange multiplier).
//! Observables: m(t), q(t), training loss (1/n) Σ_μ ℓ over the whole training set,
//! generalisation error E ℓ on a fresh sample ((3 + 3q² − 2q − 4m²)/4 for phase retrieval,
//! (1 − 2m + q)/2 for the square loss with a linear teacher).
//!
//! ## Modules
//! - [`exact`]: closed-form GD / gradient-flow curves of ridge regression (Marchenko–Pastur),
//!   by checked quadrature and independently by ODE integration;
//! - [`solver`]: the causal single-pass particle DMFT solver ([`Dmft`], any loss/selection);
//! - [`gaussian`]: the deterministic DMFT of the Gaussian case (square loss, b = 1), step by
//!   step for discrete GD (exact) and the spherical flow (O(dt));
//! - [`ridge_flow`]: the gradient flow of ridge regression in its time-translation-invariant
//!   form (1-D Volterra equations for Z, R, m, A, the Neumann series of M_C by FFT,
//!   Richardson-extrapolated trapezoid levels): O(T²/4) time, O(T) memory, t = 200 in < 1 CPU-s;
//! - [`params`]: [`TimeGrid`], [`Observation`], and the shared [`Selection`], [`Batch`],
//!   [`Regularisation`], [`Teacher`];
//! - [`config`]: the TOML [`Config`]; [`solve`](mod@solve): [`solve()`] → [`Solution`] rows.
//!
//! ## Effective process (continuous time; the solvers use its exact discrete-time form)
//! ```text
//!   h̃ = m h0 + h,   ḣ = −ν̃ h − s ℓ'(h̃) + ∫ M_R(t,t') h(t') dt' + ξ,   ⟨ξξ⟩ = M_C
//!   ṁ = −ν m − μ,   ν̃ = ν + Γ,   Γ = α⟨s ℓ''⟩,   μ = α⟨s h0 ℓ'⟩,   M_C = α⟨sℓ'(t) sℓ'(t')⟩
//!   M_R(t,t') = α⟨s(t)ℓ''(t) Z(t,t') s(t')ℓ''(t')⟩,  ∂_t Z = −(ν̃ + sℓ'') Z + ∫_{t'}^{t} M_R Z,  Z(t'⁺,t') = 1
//! ```
//!
//! ## Glossary (symbol → name)
//! | symbol | meaning | name |
//! |---|---|---|
//! | α | n/d | `alpha` |
//! | m, q | w·w*/d, \|w\|²/d | `m`, `q` |
//! | h0, h, h̃ | teacher field, orthogonal field, student field m h0 + h | `h0`, `h` |
//! | s | weighted selection ∈ {0, ω}, ω = 1/b (mean) or 1 (sum) | `s` |
//! | b, τ | batch fraction, persistence time | `b`, `tau` |
//! | η, dt | learning rate = time step | `eta`, `dt` |
//! | ν | ridge λ or spherical multiplier | `nu` |
//! | Γ | α⟨s ℓ''⟩, instantaneous curvature term | `gamma` |
//! | ν̃ | ν + Γ | `nu_tilde` |
//! | μ | α⟨s h0 ℓ'⟩, force on m | `mu` |
//! | M_C | noise covariance kernel α⟨f f⟩ | `m_c` |
//! | M_R | memory (response) kernel α⟨c Z c⟩ | `m_r` |
//! | Z | per-particle response of h | `z` |
//! | R, R0 | weight-side responses (kick, initial condition) | `r`, `r0` |
//! | f, c | s ℓ', s ℓ'' of one particle | `f`, `c` |

pub mod checkpoint;
pub mod coarse;
pub mod config;
pub mod exact;
pub mod gaussian;
pub mod gen_error;
pub mod history;
mod kernels;
pub mod params;
pub mod ridge_flow;
pub mod solve;
pub mod solver;
#[cfg(test)]
mod tests;

pub use coarse::CoarseDmft;
pub use config::{Algorithm, Config, LossKind, Method, RegularisationConfig, SolverKind};
pub use exact::{ExactPoint, LinearRidge};
pub use gaussian::GaussianDmft;
pub use gen_error::GenError;
pub use params::{Batch, Observation, Regularisation, Selection, Teacher, TimeGrid};
pub use solve::{Estimate, Solution, SolutionRow, estimate, solve, solve_with_progress};
pub use solver::{Dmft, ResponseEss, Setup};

use crate::error::Error;

/// Shared checks: α > 0, λ ≥ 0, q0 ≥ m0² (spherical: q0 = 1).
pub(crate) fn validate_physics(
    alpha: f64,
    reg: Regularisation,
    m0: f64,
    q0: f64,
) -> Result<(), Error> {
    crate::error::positive("alpha", alpha)?;
    crate::error::finite("m0", m0)?;
    if let Regularisation::Ridge(l) = reg
        && !(l.is_finite() && l >= 0.0)
    {
        return Err(Error::InvalidParameter {
            name: "ridge",
            value: l,
            bound: ">= 0 and finite",
        });
    }
    if !(q0.is_finite() && q0 >= m0 * m0) {
        return Err(Error::InvalidParameter {
            name: "q0",
            value: q0,
            bound: ">= m0^2 and finite",
        });
    }
    if reg == Regularisation::Spherical && (q0 - 1.0).abs() > 1e-12 {
        return Err(Error::InvalidParameter {
            name: "q0",
            value: q0,
            bound: "= 1 with the spherical constraint",
        });
    }
    Ok(())
}
