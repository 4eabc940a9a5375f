//! Errors of the algorithms crate: invalid input only (non-convergence is a [`crate::Termination`]).

/// Invalid input to an algorithm.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter outside its domain: names it, its value and the bound.
    #[error("invalid parameter `{name}` = {value}: must be {bound}")]
    InvalidParameter {
        name: &'static str,
        value: f64,
        bound: &'static str,
    },
    /// Inconsistent dimensions of the inputs.
    #[error("dimension mismatch: {0}")]
    Dimension(String),
    /// Error from the model layer.
    #[error(transparent)]
    Model(#[from] gardner_models::Error),
}
