//! Gaussian expectations by tanh–sinh quadrature on a mapped domain, with a checked error.
//!
//! `quadrature::integrate` works on finite intervals only (it returns NaN on infinite
//! limits), stops after ~385 evaluations without failing, and silently replaces non-finite
//! integrand values by 0. This module maps the real line or a half-line to a finite interval,
//! records any non-finite integrand value, and turns a large error estimate or a NaN into an
//! [`IntegrationError`] instead of a wrong number.
//!
//! `E_z[f(z)] = ∫ φ(z) f(z) dz` with `z = t/(1 − t²)` on (−1, 1) and `z = a ± t/(1 − t)` on
//! half-lines. Split at kinks of f (e.g. |z|, sign(z)) with [`expect_normal_split`].

use crate::special::npdf;
use std::cell::Cell;

/// Failure of a checked quadrature.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum IntegrationError {
    /// The integrand returned NaN or ±∞ at some node.
    #[error("integrand not finite at z = {at}")]
    NonFinite { at: f64 },
    /// The error estimate exceeded the requested tolerance.
    #[error(
        "quadrature error estimate {estimate:.3e} exceeds tolerance {tolerance:.3e} (value {value})"
    )]
    Inaccurate {
        value: f64,
        estimate: f64,
        tolerance: f64,
    },
}

/// Absolute tolerance used by default for O(1) integrands.
pub const DEFAULT_TOL: f64 = 1e-11;

/// Target passed to the tanh–sinh rule. Its stopping test compares successive levels and can
/// stop early on a chance agreement (seen: a claimed 1e-11 for an actual 3e-9 error), so it is
/// always driven to its finest level; `tol` is then checked against the final estimate.
const TARGET: f64 = 1e-300;

/// Accept an estimate when its error is below `tol · max(1, |value|)`.
fn accept(value: f64, estimate: f64, tol: f64) -> Result<f64, IntegrationError> {
    let tolerance = tol * value.abs().max(1.0);
    if estimate.is_finite() && estimate <= tolerance {
        Ok(value)
    } else {
        Err(IntegrationError::Inaccurate {
            value,
            estimate,
            tolerance,
        })
    }
}

/// ∫_{lo}^{hi} g(t) dt on a finite interval with non-finite detection.
fn integrate_checked(
    g: impl Fn(f64) -> (f64, f64),
    lo: f64,
    hi: f64,
    tol: f64,
) -> Result<f64, IntegrationError> {
    let bad = Cell::new(None::<f64>);
    let out = quadrature::integrate(
        |t| {
            let (z, v) = g(t);
            if !v.is_finite() && bad.get().is_none() {
                bad.set(Some(z));
            }
            v
        },
        lo,
        hi,
        TARGET,
    );
    if let Some(at) = bad.get() {
        return Err(IntegrationError::NonFinite { at });
    }
    accept(out.integral, out.error_estimate, tol)
}

/// ∫_a^b g(t) dt on a finite interval, with the same NaN detection and error check
/// (absolute `tol · max(1, |value|)`) as the Gaussian expectations.
pub fn integrate_interval(
    g: impl Fn(f64) -> f64,
    a: f64,
    b: f64,
    tol: f64,
) -> Result<f64, IntegrationError> {
    integrate_checked(|t| (t, g(t)), a, b, tol)
}

/// E_{z~N(0,1)} f(z) over the whole line (f smooth).
pub fn expect_normal(f: impl Fn(f64) -> f64, tol: f64) -> Result<f64, IntegrationError> {
    integrate_checked(
        |t| {
            let s = 1.0 - t * t;
            if s <= 0.0 {
                return (t.signum() * f64::INFINITY, 0.0);
            }
            let z = t / s;
            let w = npdf(z) * (1.0 + t * t) / (s * s);
            if w == 0.0 { (z, 0.0) } else { (z, w * f(z)) }
        },
        -1.0,
        1.0,
        tol,
    )
}

/// ∫_{a}^{∞} φ(z) f(z) dz (upper = true) or ∫_{−∞}^{a} φ(z) f(z) dz (upper = false).
pub fn expect_normal_half(
    f: impl Fn(f64) -> f64,
    a: f64,
    upper: bool,
    tol: f64,
) -> Result<f64, IntegrationError> {
    half_line(&f, a, upper, tol)
}

fn half_line(
    f: &dyn Fn(f64) -> f64,
    a: f64,
    upper: bool,
    tol: f64,
) -> Result<f64, IntegrationError> {
    // Keep the bulk of φ near the clustered end of the map: split at 0 when the
    // half-line contains the origin far from its end point.
    if upper && a < -1.0 {
        return Ok(expect_normal_interval(f, a, 0.0, tol)? + half_line(f, 0.0, true, tol)?);
    }
    if !upper && a > 1.0 {
        return Ok(half_line(f, 0.0, false, tol)? + expect_normal_interval(f, 0.0, a, tol)?);
    }
    let sgn = if upper { 1.0 } else { -1.0 };
    integrate_checked(
        |t| {
            let s = 1.0 - t;
            if s <= 0.0 {
                return (sgn * f64::INFINITY, 0.0);
            }
            let z = a + sgn * t / s;
            let w = npdf(z) / (s * s);
            if w == 0.0 { (z, 0.0) } else { (z, w * f(z)) }
        },
        0.0,
        1.0,
        tol,
    )
}

/// ∫_{lo}^{hi} φ(z) f(z) dz on a finite interval.
pub fn expect_normal_interval(
    f: impl Fn(f64) -> f64,
    lo: f64,
    hi: f64,
    tol: f64,
) -> Result<f64, IntegrationError> {
    integrate_checked(|z| (z, npdf(z) * f(z)), lo, hi, tol)
}

/// E_z f(z) with f smooth on each piece between the sorted breakpoints `kinks`.
pub fn expect_normal_split(
    f: impl Fn(f64) -> f64,
    kinks: &[f64],
    tol: f64,
) -> Result<f64, IntegrationError> {
    if kinks.is_empty() {
        return expect_normal(f, tol);
    }
    debug_assert!(
        kinks.windows(2).all(|w| w[0] <= w[1]),
        "kinks must be sorted"
    );
    let mut total = expect_normal_half(&f, kinks[0], false, tol)?;
    for w in kinks.windows(2) {
        if w[1] > w[0] {
            total += expect_normal_interval(&f, w[0], w[1], tol)?;
        }
    }
    total += expect_normal_half(&f, *kinks.last().unwrap(), true, tol)?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::special::log_h;

    #[test]
    fn reference_integrals() {
        // E[log H(a z)] references computed with mpmath; a = 1 is exact (H(z) is
        // uniform on (0, 1) for z ~ N(0, 1), so E log H(z) = E ln U = −1).
        for &(a, r) in &[
            (0.5, -0.771_877_623_464_393_7),
            (1.0, -1.0),
            (3.0, -3.202_049_430_114_320_8),
            (10.0, -26.380_328_165_808_25),
        ] {
            let v = expect_normal(|z| log_h(a * z), 1e-12).unwrap();
            assert!((v - r).abs() < 1e-12 * r.abs(), "a={a}: {v} vs {r}");
            let v = expect_normal_split(|z| log_h(a * z), &[0.0], 1e-12).unwrap();
            assert!((v - r).abs() < 1e-12 * r.abs(), "split a={a}: {v} vs {r}");
        }
        // E|z| = √(2/π), split at the kink
        let v = expect_normal_split(f64::abs, &[0.0], 1e-13).unwrap();
        assert!((v - (2.0 / std::f64::consts::PI).sqrt()).abs() < 1e-14);
        let v = expect_normal_split(|z| z * z, &[-1.0, 0.5], 1e-13).unwrap();
        assert!((v - 1.0).abs() < 1e-13);
    }

    #[test]
    fn nan_is_an_error_not_a_zero() {
        let e = expect_normal(|z| if z > 1.0 { f64::NAN } else { 1.0 }, 1e-10).unwrap_err();
        assert!(matches!(e, IntegrationError::NonFinite { .. }), "{e}");
    }

    #[test]
    fn inaccurate_is_an_error() {
        // A discontinuity far from the mapped nodes' clustering is not resolved to 1e-15.
        let r = expect_normal(|z| if z > 0.3 { 1.0 } else { 0.0 }, 1e-15);
        assert!(
            matches!(r, Err(IntegrationError::Inaccurate { .. })),
            "{r:?}"
        );
    }
}
