//! The one error type of gardner-theory.
//!
//! Non-convergence of an iteration is *not* an error: it is reported as
//! [`Termination::MaxIterations`](gardner_models::run::Termination) in the result.

use gardner_models::gauss::IntegrationError;

/// Failure of a theory computation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A physics or tuning parameter outside its domain: names it, its value and the bound.
    #[error("invalid parameter `{name}` = {value}: must be {bound}")]
    InvalidParameter {
        name: &'static str,
        value: f64,
        bound: &'static str,
    },
    /// A categorical parameter (e.g. `method`) whose value is not allowed with the others:
    /// names it and what it must be.
    #[error("invalid parameter `{name}`: must be {bound}")]
    InvalidChoice {
        name: &'static str,
        bound: &'static str,
    },
    /// A checked quadrature failed (non-finite integrand or error estimate above tolerance).
    #[error("integration failed in {context}: {source}")]
    Integration {
        context: &'static str,
        #[source]
        source: IntegrationError,
    },
    /// A fixed-step rule failed its self-check |T_h − T_2h| ≤ tol.
    #[error(
        "fixed-step quadrature in {context} failed its check: |T_h - T_2h| = {difference:.3e} > {tolerance:.3e}"
    )]
    QuadratureCheck {
        context: &'static str,
        difference: f64,
        tolerance: f64,
    },
    /// A computed quantity was NaN or infinite where a finite value is required.
    #[error("non-finite value {value} in {context}")]
    NonFinite { context: &'static str, value: f64 },
    /// Bracketed root finding or minimisation failed.
    #[error("root finding failed in {context}: {reason}")]
    RootFinding {
        context: &'static str,
        reason: String,
    },
    /// A limit that the theory cannot determine (a boundary case).
    #[error("undetermined: {context}")]
    Undetermined { context: &'static str },
    /// A DMFT checkpoint could not be written or read, or belongs to another configuration.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint { path: String, reason: String },
    /// A solve refused before it starts: its estimated memory or time does not fit.
    #[error("{0}")]
    TooCostly(String),
    /// Invalid model parameters (from gardner-models).
    #[error(transparent)]
    Model(#[from] gardner_models::Error),
}

impl Error {
    pub(crate) fn integration(context: &'static str) -> impl FnOnce(IntegrationError) -> Error {
        move |source| Error::Integration { context, source }
    }
}

/// Check that a physics parameter is finite and strictly positive.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64, Error> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(Error::InvalidParameter {
            name,
            value,
            bound: "> 0 and finite",
        })
    }
}

/// Check that `value` lies in [lo, hi).
pub(crate) fn in_range(
    name: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    bound: &'static str,
) -> Result<f64, Error> {
    if value.is_finite() && value >= lo && value < hi {
        Ok(value)
    } else {
        Err(Error::InvalidParameter { name, value, bound })
    }
}

/// Turn a NaN or ±∞ into an error.
pub(crate) fn finite(context: &'static str, value: f64) -> Result<f64, Error> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::NonFinite { context, value })
    }
}
