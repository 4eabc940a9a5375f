//! The generalisation error E ℓ(φ(h0), h̃) of the DMFT observables: (h0, h̃) Gaussian with
//! variances 1 and q and covariance m. The default is a checked nested quadrature (any loss);
//! phase retrieval with y = |h0| and the square loss with y = h0 override it by their closed
//! forms (checked against the default in the tests).

use super::params::Teacher;
use crate::error::Error;
use gardner_models::gauss::{expect_normal, expect_normal_split};
use gardner_models::{Loss, PhaseRetrieval, SampleLoss};

/// A per-sample loss whose Gaussian risk the DMFT reports.
pub trait GenError: SampleLoss {
    /// E_{h0, z} ℓ(φ(h0), m h0 + √(q − m²) z); NaN when (m, q) is not a covariance.
    fn gen_error(&self, teacher: Teacher, m: f64, q: f64) -> Result<f64, Error> {
        by_quadrature(self, teacher, m, q)
    }
}

/// The default of [`GenError::gen_error`]: nested quadrature to 1e-10, the outer integral
/// split at h0 = 0 (where labels y = φ(h0) may have a kink).
pub fn by_quadrature<L: SampleLoss>(
    loss: &L,
    teacher: Teacher,
    m: f64,
    q: f64,
) -> Result<f64, Error> {
    if !(m.is_finite() && q.is_finite() && q >= m * m) {
        return Ok(f64::NAN);
    }
    let sd = (q - m * m).sqrt();
    let fail = std::cell::Cell::new(None);
    let outer = expect_normal_split(
        |h0| {
            let y = teacher.label(h0);
            match expect_normal(|z| loss.value(y, m * h0 + sd * z), 1e-10) {
                Ok(v) => v,
                Err(e) => {
                    fail.set(Some(e));
                    f64::NAN
                }
            }
        },
        &[0.0],
        1e-10,
    );
    if let Some(e) = fail.take() {
        return Err(Error::integration("dmft gen_error (inner)")(e));
    }
    outer.map_err(Error::integration("dmft gen_error"))
}

/// (h̃² − y²)²/4 with y = |h0|: E = (3 + 3q² − 2q − 4m²)/4 (Gaussian moments
/// E h̃⁴ = 3q², E h0⁴ = 3, E h̃²h0² = q + 2m²).
impl GenError for PhaseRetrieval {
    fn gen_error(&self, teacher: Teacher, m: f64, q: f64) -> Result<f64, Error> {
        match teacher {
            Teacher::Abs if m.is_finite() && q.is_finite() && q >= m * m => {
                Ok((3.0 + 3.0 * q * q - 2.0 * q - 4.0 * m * m) / 4.0)
            }
            _ => by_quadrature(self, teacher, m, q),
        }
    }
}

/// ½(y − h̃)² with y = h0: E = (1 − 2m + q)/2.
impl GenError for Loss {
    fn gen_error(&self, teacher: Teacher, m: f64, q: f64) -> Result<f64, Error> {
        match (self, teacher) {
            (Loss::Square, Teacher::Linear) if m.is_finite() && q.is_finite() && q >= m * m => {
                Ok((1.0 - 2.0 * m + q) / 2.0)
            }
            _ => by_quadrature(self, teacher, m, q),
        }
    }
}
