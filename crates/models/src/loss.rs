//! Losses of empirical risk minimisation, their proximal operators and Moreau envelopes.
//!
//! ERM in this workspace minimises
//!
//! ```text
//!   J(w) = Σ_μ ℓ(y_μ, X_μ·w) + (λ/2) ‖w‖²
//! ```
//!
//! with the losses (natural logarithm, no factor ½ on the hinge):
//!
//! | [`Loss`]   | ℓ(y, z)            |
//! |------------|--------------------|
//! | `Square`   | ½ (y − z)²         |
//! | `Logistic` | ln(1 + e^{−y z})   |
//! | `Hinge`    | max(0, 1 − y z)    |
//!
//! The talk writes min Σ ℓ_t + λ_t ‖w‖² with ℓ_t = (y − z)² or log₂(1 + e^{−yz}). Dividing its
//! objective by the constant in front of our ℓ gives the same minimiser with
//! λ = λ_t for the square loss (ℓ_t = 2ℓ) and λ = 2 λ_t ln 2 for the logistic loss
//! (ℓ_t = ℓ/ln 2).
//!
//! The proximal operator of V ℓ(y, ·) at ω and the Moreau envelope are
//!
//! ```text
//!   prox(y, ω, V) = argmin_x [ ℓ(y, x) + (x − ω)²/(2V) ],
//!   M(y, ω, V)    = min_x    [ ℓ(y, x) + (x − ω)²/(2V) ],   ∂_ω M = (ω − prox)/V,
//! ```
//!
//! and by the implicit-function theorem applied to x − ω + V ℓ'(y, x) = 0,
//! ∂_ω prox = 1/(1 + V ℓ''(y, prox)) wherever ℓ is twice differentiable at the prox.
//! Square and hinge have closed forms; the logistic prox is a bracketed Brent root
//! (`roots::find_root_brent`) polished by safeguarded Newton steps, and a failure to bracket
//! or converge is a [`LossError`], never a silent fallback.

use crate::brent::XTol;
use crate::special::{log1pexp, sigmoid};
use roots::{SearchError, find_root_brent};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A loss function ℓ(y, z) of a label y and a pre-activation z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// ℓ = ½ (y − z)² (ridge regression when combined with the ℓ2 penalty).
    Square,
    /// ℓ = ln(1 + e^{−y z}).
    Logistic,
    /// ℓ = max(0, 1 − y z) (support-vector machine).
    Hinge,
}

/// Errors of the loss layer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LossError {
    /// A loss name that is not one of `square`, `logistic`, `hinge`.
    #[error("unknown loss `{name}`: must be one of `square`, `logistic`, `hinge`")]
    Unknown { name: String },
    /// The proximal operator could not be computed (bad bracket, no convergence, bad input).
    #[error("prox of the {loss:?} loss failed at y = {y}, omega = {omega}, V = {v}: {reason}")]
    Prox {
        loss: Loss,
        y: f64,
        omega: f64,
        v: f64,
        reason: String,
    },
}

impl FromStr for Loss {
    type Err = LossError;
    fn from_str(s: &str) -> Result<Self, LossError> {
        match s {
            "square" => Ok(Loss::Square),
            "logistic" => Ok(Loss::Logistic),
            "hinge" => Ok(Loss::Hinge),
            _ => Err(LossError::Unknown {
                name: s.to_string(),
            }),
        }
    }
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Loss {
    /// All losses, in a fixed order.
    pub const ALL: [Loss; 3] = [Loss::Square, Loss::Logistic, Loss::Hinge];

    /// `square`, `logistic` or `hinge`.
    pub fn name(&self) -> &'static str {
        match self {
            Loss::Square => "square",
            Loss::Logistic => "logistic",
            Loss::Hinge => "hinge",
        }
    }

    /// ℓ(y, z).
    #[inline]
    pub fn value(&self, y: f64, z: f64) -> f64 {
        match self {
            Loss::Square => 0.5 * (y - z) * (y - z),
            Loss::Logistic => log1pexp(-y * z),
            Loss::Hinge => (1.0 - y * z).max(0.0),
        }
    }

    /// ∂_z ℓ(y, z) (for the hinge: the subgradient −y for y z < 1 and 0 for y z ≥ 1).
    #[inline]
    pub fn derivative(&self, y: f64, z: f64) -> f64 {
        match self {
            Loss::Square => z - y,
            Loss::Logistic => -y * sigmoid(-y * z),
            Loss::Hinge => {
                if y * z < 1.0 {
                    -y
                } else {
                    0.0
                }
            }
        }
    }

    /// ∂²_z ℓ(y, z) (0 for the hinge away from its kink y z = 1).
    #[inline]
    pub fn second_derivative(&self, y: f64, z: f64) -> f64 {
        match self {
            Loss::Square => 1.0,
            Loss::Logistic => {
                let s = sigmoid(y * z);
                y * y * s * (1.0 - s)
            }
            Loss::Hinge => 0.0,
        }
    }

    /// prox(y, ω, V) = argmin_x [ℓ(y, x) + (x − ω)²/(2V)], V > 0.
    ///
    /// Closed forms: square (ω + V y)/(1 + V); hinge (labels y = ±1, u = y ω):
    /// ω if u ≥ 1, 1/y if 1 − V ≤ u < 1, ω + V y if u < 1 − V. Logistic: the root of
    /// x − ω − V y σ(−y x), which lies between ω and ω + V y, by Brent then Newton.
    pub fn prox(&self, y: f64, omega: f64, v: f64) -> Result<f64, LossError> {
        let fail = |reason: &str| LossError::Prox {
            loss: *self,
            y,
            omega,
            v,
            reason: reason.to_string(),
        };
        if !(v > 0.0 && v.is_finite() && omega.is_finite() && y.is_finite()) {
            return Err(fail("need V > 0 and finite y, omega, V"));
        }
        match self {
            Loss::Square => Ok((omega + v * y) / (1.0 + v)),
            Loss::Hinge => {
                if y == 0.0 {
                    return Ok(omega);
                }
                let u = y * omega;
                if u >= 1.0 {
                    Ok(omega)
                } else if u >= 1.0 - v * y * y {
                    Ok(1.0 / y)
                } else {
                    Ok(omega + v * y)
                }
            }
            Loss::Logistic => {
                if y == 0.0 {
                    return Ok(omega);
                }
                // g(x) = x − ω + V ℓ'(x) is strictly increasing; since |ℓ'| ≤ |y|, and ℓ' has
                // the sign of −y, the root lies between ω and ω + V y.
                let g = |x: f64| x - omega - v * y * sigmoid(-y * x);
                let (mut lo, mut hi) = if y > 0.0 {
                    (omega, omega + v * y)
                } else {
                    (omega + v * y, omega)
                };
                let scale = 1.0 + omega.abs() + v * y.abs();
                // g is exactly ≤ 0 at ω (y > 0) or ≥ 0 at ω (y < 0); at the other end,
                // ω + V y, rounding of x − ω can flip the sign of the tiny true value
                // V |y| σ(|y x|): widen that end by a few ulps of the scale until it brackets.
                for k in 0..4 {
                    let widen = 8.0 * f64::EPSILON * scale * (1 << (4 * k)) as f64;
                    if y > 0.0 && g(hi) <= 0.0 {
                        hi = omega + v * y + widen;
                    } else if y < 0.0 && g(lo) >= 0.0 {
                        lo = omega + v * y - widen;
                    } else {
                        break;
                    }
                }
                let (glo, ghi) = (g(lo), g(hi));
                if glo == 0.0 {
                    return Ok(lo);
                }
                if ghi == 0.0 {
                    return Ok(hi);
                }
                if !(glo < 0.0 && ghi > 0.0) {
                    return Err(fail(&format!(
                        "no bracketing: g({lo}) = {glo}, g({hi}) = {ghi}"
                    )));
                }
                let mut conv = XTol {
                    xtol: 1e-9 * scale,
                    max_iter: 200,
                };
                let mut x = find_root_brent(lo, hi, g, &mut conv).map_err(|e| match e {
                    SearchError::NoBracketing => fail("no bracketing"),
                    e => fail(&e.to_string()),
                })?;
                // Safeguarded Newton polish to machine precision: g' = 1 + V ℓ'' ≥ 1.
                for _ in 0..6 {
                    let gx = g(x);
                    if gx == 0.0 {
                        break;
                    }
                    if gx < 0.0 {
                        lo = lo.max(x);
                    } else {
                        hi = hi.min(x);
                    }
                    let step = gx / (1.0 + v * self.second_derivative(y, x));
                    if step.abs() <= 4.0 * f64::EPSILON * scale {
                        x -= step;
                        break;
                    }
                    let mut xn = x - step;
                    if !(xn > lo && xn < hi) {
                        xn = 0.5 * (lo + hi);
                    }
                    x = xn;
                }
                if !x.is_finite() {
                    return Err(fail("non-finite root"));
                }
                Ok(x)
            }
        }
    }

    /// ∂_ω prox(y, ω, V) = 1/(1 + V ℓ''(y, prox)); for the hinge 1 outside and 0 inside the
    /// flat piece 1 − V ≤ y ω < 1 (labels ±1).
    pub fn prox_derivative(&self, y: f64, omega: f64, v: f64) -> Result<f64, LossError> {
        match self {
            Loss::Square => Ok(1.0 / (1.0 + v)),
            Loss::Hinge => {
                let _ = self.prox(y, omega, v)?;
                let u = y * omega;
                if y != 0.0 && u < 1.0 && u >= 1.0 - v * y * y {
                    Ok(0.0)
                } else {
                    Ok(1.0)
                }
            }
            Loss::Logistic => {
                let x = self.prox(y, omega, v)?;
                Ok(1.0 / (1.0 + v * self.second_derivative(y, x)))
            }
        }
    }

    /// The proximal point and ∂_ω prox together (one root solve for the logistic loss).
    pub fn prox_and_derivative(&self, y: f64, omega: f64, v: f64) -> Result<(f64, f64), LossError> {
        let x = self.prox(y, omega, v)?;
        let dx = match self {
            Loss::Square => 1.0 / (1.0 + v),
            Loss::Logistic => 1.0 / (1.0 + v * self.second_derivative(y, x)),
            Loss::Hinge => {
                let u = y * omega;
                if y != 0.0 && u < 1.0 && u >= 1.0 - v * y * y {
                    0.0
                } else {
                    1.0
                }
            }
        };
        Ok((x, dx))
    }

    /// Moreau envelope M(y, ω, V) = ℓ(y, prox) + (prox − ω)²/(2V).
    pub fn moreau(&self, y: f64, omega: f64, v: f64) -> Result<f64, LossError> {
        let x = self.prox(y, omega, v)?;
        Ok(self.value(y, x) + (x - omega) * (x - omega) / (2.0 * v))
    }

    /// The field ω at which prox(y, ω, V) = 0, i.e. ω₀ = V ℓ'(y, 0): since the prox is
    /// non-decreasing in ω, the training point y·prox is misclassified iff y ω < y ω₀.
    pub fn prox_zero_crossing(&self, y: f64, v: f64) -> f64 {
        v * self.derivative(y, 0.0)
    }

    /// Points in ω where prox(y, ·, V) is not smooth (the hinge's two kinks; none otherwise).
    pub fn prox_kinks(&self, y: f64, v: f64) -> Vec<f64> {
        match self {
            Loss::Hinge if y != 0.0 => {
                let mut k = vec![1.0 / y, (1.0 - v * y * y) / y];
                k.sort_by(f64::total_cmp);
                k
            }
            _ => Vec::new(),
        }
    }
}

/// A per-sample loss ℓ(y, h) of a label y and a student field h, with ℓ' = ∂_h ℓ and
/// ℓ'' = ∂²_h ℓ: what gradient methods (GD, SGD, p-SGD) and the DMFT need. The objective is
/// the plain **sum** Σ_μ ℓ(y_μ, X_μ·w) (+ a regulariser), never the mean.
pub trait SampleLoss: Copy + Send + Sync + std::fmt::Debug {
    /// ℓ(y, h).
    fn value(&self, y: f64, h: f64) -> f64;
    /// ℓ'(y, h) = ∂_h ℓ.
    fn derivative(&self, y: f64, h: f64) -> f64;
    /// ℓ''(y, h) = ∂²_h ℓ.
    fn second_derivative(&self, y: f64, h: f64) -> f64;
}

impl SampleLoss for Loss {
    fn value(&self, y: f64, h: f64) -> f64 {
        Loss::value(self, y, h)
    }
    fn derivative(&self, y: f64, h: f64) -> f64 {
        Loss::derivative(self, y, h)
    }
    fn second_derivative(&self, y: f64, h: f64) -> f64 {
        Loss::second_derivative(self, y, h)
    }
}

/// The real phase-retrieval loss ℓ(y, h) = (h² − y²)²/4 (labels y = |z|):
/// ℓ' = h (h² − y²), ℓ'' = 3h² − y². Non-convex (ℓ'' < 0 for 3h² < y²), so it has no prox.
/// The talk's L = Σ_μ (y_μ² − h_μ²)² is 4 Σ_μ ℓ: gradient flow of L is the flow of Σ ℓ at
/// time 4t.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct PhaseRetrieval;

impl SampleLoss for PhaseRetrieval {
    #[inline]
    fn value(&self, y: f64, h: f64) -> f64 {
        let r = h * h - y * y;
        0.25 * r * r
    }
    #[inline]
    fn derivative(&self, y: f64, h: f64) -> f64 {
        h * (h * h - y * y)
    }
    #[inline]
    fn second_derivative(&self, y: f64, h: f64) -> f64 {
        3.0 * h * h - y * y
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fd1;

    const POINTS: [(f64, f64, f64); 9] = [
        (1.0, 0.3, 0.5),
        (-1.0, 0.3, 0.5),
        (1.0, -2.0, 3.0),
        (-1.0, 4.0, 0.1),
        (1.0, 0.0, 20.0),
        (1.0, 30.0, 5.0),
        (-1.0, -40.0, 100.0),
        (1.0, -3.0, 1e-3),
        (0.7, 1.1, 2.0),
    ];

    /// The prox satisfies its optimality condition x − ω + V ∂ℓ ∋ 0, and is the minimiser of
    /// the prox objective against a dense scan.
    #[test]
    fn prox_optimality() {
        for loss in Loss::ALL {
            for &(y, w, v) in &POINTS {
                let x = loss.prox(y, w, v).unwrap();
                let obj = |t: f64| loss.value(y, t) + (t - w) * (t - w) / (2.0 * v);
                match loss {
                    Loss::Hinge => {
                        // subdifferential at the kink y x = 1 is [−y, 0]·(sign): check by a scan
                        for k in -200..=200 {
                            let t = x + k as f64 * 1e-3 * (1.0 + v);
                            assert!(
                                obj(t) >= obj(x) - 1e-12,
                                "{loss} y={y} ω={w} V={v}: obj({t}) < obj({x})"
                            );
                        }
                    }
                    _ => {
                        let r = x - w + v * loss.derivative(y, x);
                        assert!(
                            r.abs() < 1e-12 * (1.0 + w.abs() + v),
                            "{loss} y={y} ω={w} V={v}: residual {r}"
                        );
                        for k in [-1e-3, 1e-3, -1.0, 1.0] {
                            assert!(obj(x + k) > obj(x), "{loss}: not a minimum");
                        }
                    }
                }
                // Moreau envelope: ∂_ω M = (ω − prox)/V
                let dm = fd1(|t| loss.moreau(y, t, v).unwrap(), w);
                let want = (w - x) / v;
                assert!(
                    (dm - want).abs() < 1e-6 * (1.0 + want.abs()),
                    "{loss} y={y} ω={w} V={v}: dM {dm} vs {want}"
                );
            }
        }
    }

    /// ∂_ω prox by central differences (away from the hinge kinks).
    #[test]
    fn prox_derivative_by_finite_differences() {
        for loss in Loss::ALL {
            for &(y, w, v) in &POINTS {
                if loss == Loss::Hinge
                    && loss
                        .prox_kinks(y, v)
                        .iter()
                        .any(|k| (k - w).abs() < 1e-3 * (1.0 + w.abs()))
                {
                    continue;
                }
                let d = loss.prox_derivative(y, w, v).unwrap();
                let f = fd1(|t| loss.prox(y, t, v).unwrap(), w);
                assert!(
                    (d - f).abs() < 1e-6,
                    "{loss} y={y} ω={w} V={v}: {d} vs fd {f}"
                );
                let (x2, d2) = loss.prox_and_derivative(y, w, v).unwrap();
                assert_eq!((x2, d2), (loss.prox(y, w, v).unwrap(), d));
            }
        }
    }

    #[test]
    fn derivatives_by_finite_differences() {
        for loss in [Loss::Square, Loss::Logistic] {
            for &(y, z) in &[(1.0, 0.3), (-1.0, 2.0), (1.0, -5.0), (0.7, 1.1)] {
                let d = fd1(|t| loss.value(y, t), z);
                assert!((d - loss.derivative(y, z)).abs() < 1e-7, "{loss}");
                let d2 = fd1(|t| loss.derivative(y, t), z);
                assert!((d2 - loss.second_derivative(y, z)).abs() < 1e-7, "{loss}");
            }
        }
        assert_eq!(Loss::Hinge.derivative(1.0, 0.5), -1.0);
        assert_eq!(Loss::Hinge.derivative(-1.0, -2.0), 0.0);
    }

    #[test]
    fn logistic_prox_extremes_and_errors() {
        // far tails: the prox stays inside its bracket and finite
        let x = Loss::Logistic.prox(1.0, -500.0, 1e4).unwrap();
        assert!(x > -500.0 && x < 9500.0 && x.is_finite());
        // the far end of the bracket is rounding-sensitive (seen in the ERM fixed point)
        for (y, w, v) in [
            (1.0, -50.52035234522201, 6.332434221261481),
            (-1.0, 50.52035234522201, 6.332434221261481),
        ] {
            let x = Loss::Logistic.prox(y, w, v).unwrap();
            assert!((x - (w + v * y)).abs() < 1e-12, "{x}");
        }
        let x = Loss::Logistic.prox(1.0, 800.0, 1e-8).unwrap();
        assert!((x - 800.0).abs() < 1e-12);
        // bad V is an error, not a silent value
        assert!(Loss::Logistic.prox(1.0, 0.0, 0.0).is_err());
        assert!(Loss::Logistic.prox(1.0, f64::NAN, 1.0).is_err());
        let e = Loss::Square.prox(1.0, 0.0, -1.0).unwrap_err().to_string();
        assert!(e.contains("V"), "{e}");
    }

    #[test]
    fn names_and_unknown_loss() {
        for l in Loss::ALL {
            assert_eq!(l.name().parse::<Loss>().unwrap(), l);
        }
        let e = "exponential".parse::<Loss>().unwrap_err().to_string();
        assert!(e.contains("exponential") && e.contains("logistic"), "{e}");
    }

    #[test]
    fn zero_crossing() {
        for loss in Loss::ALL {
            for y in [-1.0, 1.0] {
                for v in [0.1, 1.0, 7.0] {
                    let w0 = loss.prox_zero_crossing(y, v);
                    let x = loss.prox(y, w0, v).unwrap();
                    assert!(x.abs() < 1e-12, "{loss} y={y} V={v}: prox({w0}) = {x}");
                }
            }
        }
    }

    #[test]
    fn sample_loss_derivatives_match_finite_differences() {
        fn check(l: impl SampleLoss, y: f64, h: f64) {
            let d1 = fd1(|x| l.value(y, x), h);
            let d2 = fd1(|x| l.derivative(y, x), h);
            assert!(
                (d1 - l.derivative(y, h)).abs() < 1e-6 * (1.0 + d1.abs()),
                "{l:?} {y} {h}"
            );
            assert!(
                (d2 - l.second_derivative(y, h)).abs() < 1e-6 * (1.0 + d2.abs()),
                "{l:?}"
            );
        }
        for (y, h) in [(0.3, 1.2), (1.5, -0.4), (0.0, 2.0), (2.0, 2.0)] {
            check(PhaseRetrieval, y, h);
            check(Loss::Square, y, h);
            check(Loss::Logistic, y.signum(), h);
        }
        assert_eq!(PhaseRetrieval.value(2.0, -2.0), 0.0);
    }
}
