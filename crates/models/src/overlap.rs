//! Observables of a student ŵ against the teacher w*: the one definition of the
//! classification error that theory and simulation share.

use std::f64::consts::PI;

/// 0–1 test error of sign(x·ŵ) against sign(x·w*) for a student with overlaps
/// m = ŵ·w*/d, q = ŵ·ŵ/d and teacher norm ρ = w*·w*/d (x Gaussian):
///
/// ```text
///   ε = arccos(m / √(ρ q)) / π .
/// ```
///
/// A zero student (q = 0) or a zero teacher (ρ = 0) carries no direction: ε = ½ (chance).
/// The cosine is clamped to [−1, 1] against rounding; non-finite inputs give NaN, which the
/// caller must report, never hide.
pub fn class_error(m: f64, q: f64, rho: f64) -> f64 {
    if !(m.is_finite() && q.is_finite() && rho.is_finite()) {
        return f64::NAN;
    }
    if q <= 0.0 || rho <= 0.0 {
        return 0.5;
    }
    (m / (rho * q).sqrt()).clamp(-1.0, 1.0).acos() / PI
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_error_limits() {
        assert_eq!(class_error(1.0, 1.0, 1.0), 0.0);
        assert_eq!(class_error(-2.0, 4.0, 1.0), 1.0);
        assert_eq!(class_error(0.0, 1.0, 1.0), 0.5);
        assert_eq!(class_error(0.0, 0.0, 1.0), 0.5);
        assert!((class_error(0.5, 1.0, 1.0) - 1.0 / 3.0).abs() < 1e-15);
        assert!(class_error(f64::NAN, 1.0, 1.0).is_nan());
    }
}
