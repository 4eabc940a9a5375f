//! Small numerical kernels: self-checked trapezoid sums for analytic integrands, a checked
//! tanh–sinh rule on finite intervals, bracketed roots (Brent, via `roots`) and golden-section
//! minimisation.
//!
//! The trapezoid rule on the whole line is exponentially accurate for integrands analytic in a
//! strip |Im x| < a that decay fast: error ≈ e^{−2πa/h}. Every sum here also forms the sum with
//! step 2h from the even nodes (free) and fails when |T_h − T_2h| exceeds a loose bound, so a
//! gross misuse cannot return a silent wrong number.

use crate::error::Error;
use gardner_models::brent::XTol;
use gardner_models::gauss::integrate_interval;
use roots::find_root_brent;

/// Relative bound on |T_h − T_2h| accepted by [`trapezoid_even`] / [`trapezoid_line`].
pub(crate) const TRAPEZOID_CHECK: f64 = 1e-6;

/// ∫_{−∞}^{∞} f(x) dx for an **even** f: h \[f(0) + 2 Σ_{k=1}^{n} f(kh)\], checked against step 2h.
pub(crate) fn trapezoid_even(
    context: &'static str,
    f: impl Fn(f64) -> f64,
    h: f64,
    n: usize,
) -> Result<f64, Error> {
    let f0 = f(0.0);
    let (mut odd, mut even) = (0.0, 0.0);
    for k in 1..=n {
        let v = f(k as f64 * h);
        if k % 2 == 0 { even += v } else { odd += v }
    }
    let fine = h * (f0 + 2.0 * (odd + even));
    let coarse = 2.0 * h * (f0 + 2.0 * even);
    check(context, fine, coarse)
}

/// ∫_{lo}^{hi} f(x) dx ≈ h Σ_k f(kh), k h ∈ \[lo, hi\] (f negligible at both ends), checked.
pub(crate) fn trapezoid_line(
    context: &'static str,
    f: impl Fn(f64) -> f64,
    h: f64,
    lo: f64,
    hi: f64,
) -> Result<f64, Error> {
    let (k0, k1) = ((lo / h).floor() as i64, (hi / h).ceil() as i64);
    let (mut odd, mut even) = (0.0, 0.0);
    for k in k0..=k1 {
        let v = f(k as f64 * h);
        if k.rem_euclid(2) == 0 {
            even += v
        } else {
            odd += v
        }
    }
    check(context, h * (odd + even), 2.0 * h * even)
}

fn check(context: &'static str, fine: f64, coarse: f64) -> Result<f64, Error> {
    let difference = (fine - coarse).abs();
    let tolerance = TRAPEZOID_CHECK * fine.abs().max(1e-300);
    if !fine.is_finite() {
        return Err(Error::NonFinite {
            context,
            value: fine,
        });
    }
    if difference > tolerance && difference > 1e-300 {
        return Err(Error::QuadratureCheck {
            context,
            difference,
            tolerance,
        });
    }
    Ok(fine)
}

/// ∫_a^b g(t) dt by the checked tanh–sinh rule of `gardner_models::gauss`, errors tagged
/// with `context`.
pub(crate) fn integrate(
    context: &'static str,
    g: impl Fn(f64) -> f64,
    a: f64,
    b: f64,
    tol: f64,
) -> Result<f64, Error> {
    integrate_interval(g, a, b, tol).map_err(Error::integration(context))
}

/// Root of f in \[a, b\] (f(a), f(b) of opposite signs) by Brent's method, to `xtol` in x.
/// Errors raised inside f abort the search and are returned.
pub(crate) fn brent(
    context: &'static str,
    mut f: impl FnMut(f64) -> Result<f64, Error>,
    a: f64,
    b: f64,
    xtol: f64,
) -> Result<f64, Error> {
    let mut err: Option<Error> = None;
    let mut conv = XTol {
        xtol,
        max_iter: 200,
    };
    let r = find_root_brent(
        a,
        b,
        |x| match f(x) {
            Ok(v) if v.is_finite() || v.is_infinite() => v,
            Ok(v) => {
                err.get_or_insert(Error::NonFinite { context, value: v });
                0.0
            }
            Err(e) => {
                err.get_or_insert(e);
                0.0
            }
        },
        &mut conv,
    );
    if let Some(e) = err {
        return Err(e);
    }
    r.map_err(|e| Error::RootFinding {
        context,
        reason: format!("{e:?} on [{a}, {b}]"),
    })
}

/// Minimum of f on \[a, b\] by golden-section search to `xtol`: returns (x_min, f(x_min)).
pub(crate) fn golden_min(
    mut f: impl FnMut(f64) -> Result<f64, Error>,
    mut a: f64,
    mut b: f64,
    xtol: f64,
) -> Result<(f64, f64), Error> {
    const R: f64 = 0.618_033_988_749_894_9;
    let mut c = b - R * (b - a);
    let mut d = a + R * (b - a);
    let (mut fc, mut fd) = (f(c)?, f(d)?);
    while (b - a).abs() > xtol {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - R * (b - a);
            fc = f(c)?;
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + R * (b - a);
            fd = f(d)?;
        }
    }
    Ok(if fc < fd { (c, fc) } else { (d, fd) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trapezoid_is_exponentially_accurate() {
        // ∫ sech(πk/2) dk = 2, ∫ e^{-x²/2} dx = √(2π)
        let v = trapezoid_even(
            "t",
            |k| 1.0 / (std::f64::consts::FRAC_PI_2 * k).cosh(),
            1.0 / 6.0,
            160,
        )
        .unwrap();
        assert!((v - 2.0).abs() < 1e-14, "{v}");
        let v = trapezoid_line("t", |x| (-0.5 * x * x).exp(), 0.25, -10.0, 10.0).unwrap();
        assert!(
            (v - (2.0 * std::f64::consts::PI).sqrt()).abs() < 1e-14,
            "{v}"
        );
        // too coarse a step is caught
        assert!(trapezoid_line("t", |x| (-50.0 * x * x).exp(), 0.5, -10.0, 10.0).is_err());
    }

    #[test]
    fn brent_and_golden() {
        let r = brent("t", |x| Ok(x * x - 2.0), 0.0, 2.0, 1e-14).unwrap();
        assert!((r - 2f64.sqrt()).abs() < 1e-13);
        let (x, v) = golden_min(|x| Ok((x - 0.3).powi(2) + 1.0), -1.0, 2.0, 1e-9).unwrap();
        // golden section resolves x only to ~√ε where the values become equal
        assert!((x - 0.3).abs() < 1e-7 && (v - 1.0).abs() < 1e-14, "{x} {v}");
    }
}
