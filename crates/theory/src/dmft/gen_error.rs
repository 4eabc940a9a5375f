//! The generalisation error E ℓ(φ(h0), h̃) of the DMFT observables: (h0, h̃) Gaussian with
//! variances 1 and q and covariance m. The trait and its closed-form overrides (phase
//! retrieval with y = |h0|, the square loss with y = h0; quadrature default) are the shared
//! [`gardner_models::dynamics::ExpectedLoss`], named [`GenError`] here.

pub use gardner_models::dynamics::{
    ExpectedLoss as GenError, expected_loss_by_quadrature as by_quadrature,
};
