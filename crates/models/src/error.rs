//! Errors of the models crate.

/// Invalid input to a model constructor or data generator, or a failed quadrature.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A physics parameter outside its domain: names the parameter, its value and the bound.
    #[error("invalid parameter `{name}` = {value}: must be {bound}")]
    InvalidParameter {
        name: &'static str,
        value: f64,
        bound: &'static str,
    },
    /// A checked quadrature failed (non-finite integrand or error estimate above tolerance).
    #[error("integration failed in {context}: {source}")]
    Integration {
        context: &'static str,
        #[source]
        source: crate::gauss::IntegrationError,
    },
}

/// Check `value` is finite and strictly positive.
pub fn positive(name: &'static str, value: f64) -> Result<f64, Error> {
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

/// Check `value` is finite and non-negative.
pub fn non_negative(name: &'static str, value: f64) -> Result<f64, Error> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(Error::InvalidParameter {
            name,
            value,
            bound: ">= 0 and finite",
        })
    }
}

/// Check `value` lies in (0, 1].
pub fn unit_interval(name: &'static str, value: f64) -> Result<f64, Error> {
    if value > 0.0 && value <= 1.0 {
        Ok(value)
    } else {
        Err(Error::InvalidParameter {
            name,
            value,
            bound: "in (0, 1]",
        })
    }
}
