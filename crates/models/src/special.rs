//! Stable special functions of the Gaussian measure, accurate in the tails.
//!
//! Notation: φ(x) = e^{-x²/2}/√(2π) (standard normal density), H(x) = P(Z > x) = ½ erfc(x/√2)
//! (Gaussian tail, Gardner's H). Every function here is tested against 30-digit references
//! at |x| up to 40 and beyond; naive `ln(erfc(..))` underflows for x ≳ 37.5.

use std::f64::consts::{FRAC_1_SQRT_2, LN_2, PI};

/// ln √(2π).
pub const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Below this argument t of erfc(t) the library erfc is used; above it the asymptotic series
/// (converged to one ulp for t ≥ 26; also avoids libm's slow subnormal range).
const T_ASYMPTOTIC: f64 = 26.0;

/// φ(x) = e^{-x²/2}/√(2π).
#[inline]
pub fn npdf(x: f64) -> f64 {
    (-0.5 * x * x - LN_SQRT_2PI).exp()
}

/// ln φ(x).
#[inline]
pub fn log_npdf(x: f64) -> f64 {
    -0.5 * x * x - LN_SQRT_2PI
}

/// H(x) = P(Z > x) = ½ erfc(x/√2) (underflows to 0 for x ≳ 38.5; use [`log_h`] there).
#[inline]
pub fn h(x: f64) -> f64 {
    0.5 * libm::erfc(x * FRAC_1_SQRT_2)
}

/// Asymptotic sum Σ_k (−1)^k (2k−1)!!/(2t²)^k of erfcx(t)·t√π, for t ≥ 26.
#[inline]
fn erfc_asymptotic_sum(t: f64) -> f64 {
    let y = 1.0 / (2.0 * t * t);
    let (mut term, mut sum) = (1.0f64, 1.0f64);
    for k in 1..12 {
        term *= -((2 * k - 1) as f64) * y;
        sum += term;
    }
    sum
}

/// Scaled complementary error function erfcx(t) = e^{t²} erfc(t), for all real t
/// (overflows only where e^{t²} does, t < −26.6).
pub fn erfcx(t: f64) -> f64 {
    if t < 0.0 {
        // erfc(t) = 2 − erfc(−t)
        return 2.0 * (t * t).exp() - erfcx(-t);
    }
    if t < T_ASYMPTOTIC {
        (t * t).exp() * libm::erfc(t)
    } else {
        erfc_asymptotic_sum(t) / (t * PI.sqrt())
    }
}

/// ln H(x), accurate to ~1e-15 relative for all x (ln H(40) = −804.608…, ln H(−10) = −7.6e-24).
pub fn log_h(x: f64) -> f64 {
    if x < 0.0 {
        // H(x) = 1 − H(−x): ln1p keeps the tiny correction.
        return (-h(-x)).ln_1p();
    }
    let t = x * FRAC_1_SQRT_2;
    if t < T_ASYMPTOTIC {
        (0.5 * libm::erfc(t)).ln()
    } else {
        -0.5 * x * x - (t * PI.sqrt()).ln() + erfc_asymptotic_sum(t).ln() - LN_2
    }
}

/// Mills ratio R(x) = H(x)/φ(x) (classic definition; R(40) ≈ 0.0249844, overflows for x < −37.6).
pub fn mills_ratio(x: f64) -> f64 {
    // H(x)/φ(x) = √(π/2) erfcx(x/√2)
    (PI / 2.0).sqrt() * erfcx(x * FRAC_1_SQRT_2)
}

/// Inverse Mills ratio (Gaussian hazard) φ(x)/H(x) = 1/R(x), the ratio in g_out of the sign
/// channel. ≈ x + 1/x for large x, ≈ φ(x) for very negative x (underflows below x ≈ −38.5).
pub fn inverse_mills_ratio(x: f64) -> f64 {
    if x >= -5.0 {
        1.0 / mills_ratio(x)
    } else {
        // H(x) ≈ 1 here: direct form avoids the overflow of erfcx at negative arguments.
        npdf(x) / h(x)
    }
}

/// ln(1 + eˣ) without overflow or loss of precision.
#[inline]
pub fn log1pexp(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// Logistic sigmoid σ(x) = 1/(1 + e^{−x}), stable for both signs.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// ln cosh(x) = |x| + ln(1 + e^{−2|x|}) − ln 2.
#[inline]
pub fn log_cosh(x: f64) -> f64 {
    let a = x.abs();
    a + (-2.0 * a).exp().ln_1p() - LN_2
}

/// ln(eᵃ + eᵇ).
#[inline]
pub fn logaddexp(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// ln Σ exp(xᵢ), stable; −∞ for an empty slice.
pub fn logsumexp(xs: &[f64]) -> f64 {
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY || m.is_nan() {
        return m;
    }
    m + xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// Inverse of the standard normal CDF Φ⁻¹(p), 0 < p < 1: Acklam's rational approximation
/// (relative error 1.2e-9) refined by one Halley step on Φ(x) − p (full double precision).
pub fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383_577_518_672_69e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    if !(p > 0.0 && p < 1.0) {
        return f64::NAN;
    }
    let tail = |q: f64| {
        let r = (-2.0 * q.ln()).sqrt();
        (((((C[0] * r + C[1]) * r + C[2]) * r + C[3]) * r + C[4]) * r + C[5])
            / ((((D[0] * r + D[1]) * r + D[2]) * r + D[3]) * r + 1.0)
    };
    let x = if p < 0.02425 {
        tail(p)
    } else if p > 1.0 - 0.02425 {
        -tail(1.0 - p)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    // Halley step on Φ(x) − p, Φ(x) = H(−x); the error e enters as e·√(2π)e^{x²/2}.
    let e = h(-x) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (0.5 * x * x).exp();
    x - u / (1.0 + 0.5 * x * u)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    /// Φ(Φ⁻¹(p)) = p from the far tails to the centre, a reference quantile, and NaN outside
    /// (0, 1).
    #[test]
    fn inverse_normal_cdf_inverts() {
        for &p in &[
            1e-300, 1e-30, 1e-8, 0.001, 0.02, 0.024, 0.3, 0.5, 0.7, 0.976, 0.999,
        ] {
            let x = inverse_normal_cdf(p);
            assert!(rel(h(-x), p) < 1e-13, "p = {p}: Φ(x) = {}", h(-x));
        }
        // mpmath: Φ⁻¹(0.975) = 1.959963984540054
        assert!(rel(inverse_normal_cdf(0.975), 1.959_963_984_540_054) < 1e-14);
        assert!(inverse_normal_cdf(0.0).is_nan() && inverse_normal_cdf(1.0).is_nan());
    }

    // References: mpmath at 40 digits (ln H(x) = ln(erfc(x/sqrt 2)/2)).
    #[test]
    fn log_h_tails() {
        assert!(rel(log_h(40.0), -804.608_442_013_754_1) < 1e-14);
        assert!(rel(log_h(-10.0), -7.619_853_024_160_526e-24) < 1e-14);
        assert!(rel(log_h(1.0), -1.841_021_645_009_263_5) < 1e-14);
        assert!(rel(log_h(38.0), -726.557_216_018_820_1) < 1e-13);
        assert!(rel(log_h(1000.0), -500_007.826_694_812_2) < 1e-14);
        assert_eq!(log_h(0.0), -LN_2);
        // continuity across the switch to the asymptotic series (t = 26 ⇔ x = 36.77)
        let x0 = T_ASYMPTOTIC * std::f64::consts::SQRT_2;
        // a relative step of 1e-12 in x moves ln H ≈ −x²/2 by 2e-12 relative
        assert!(rel(log_h(x0 * (1.0 - 1e-12)), log_h(x0 * (1.0 + 1e-12))) < 4e-12);
    }

    #[test]
    fn mills_ratios_tails() {
        // R(40) = H(40)/φ(40); R(−5) = H(−5)/φ(−5)
        assert!(rel(mills_ratio(40.0), 0.024_984_404_205_720_57) < 1e-14);
        assert!(rel(mills_ratio(-5.0), 672_621.636_722_879_3) < 1e-13);
        assert!(rel(inverse_mills_ratio(40.0), 40.024_968_847_207_26) < 1e-14);
        assert!(rel(inverse_mills_ratio(0.0), (2.0 / PI).sqrt()) < 1e-15);
        // φ(−30)/H(−30) = φ(−30)(1 + tiny)
        assert!(rel(inverse_mills_ratio(-30.0), npdf(-30.0)) < 1e-14);
        assert!(rel(inverse_mills_ratio(-6.0), 6.075_882_855_817_676e-9) < 1e-14);
    }

    #[test]
    fn small_helpers() {
        assert!(rel(log1pexp(800.0), 800.0) < 1e-16);
        assert!(rel(log1pexp(-700.0), (-700.0f64).exp()) < 1e-15);
        assert!(rel(log1pexp(-30.0), 9.357_622_968_839_737e-14) < 1e-14);
        assert!(rel(log_cosh(1000.0), 1000.0 - LN_2) < 1e-15);
        assert!(rel(log_cosh(0.5), 0.120_114_506_958_277_5) < 1e-14);
        assert!(rel(logsumexp(&[1000.0, 1000.0]), 1000.0 + LN_2) < 1e-15);
        assert!(rel(sigmoid(-700.0), (-700.0f64).exp()) < 1e-15);
        assert!(rel(erfcx(30.0), 0.018_795_888_861_416_75) < 1e-14);
        assert!(rel(erfcx(-1.0), 5.008_980_080_762_283) < 1e-14);
    }
}
