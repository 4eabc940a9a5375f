//! The vocabulary of the gradient dynamics (GD, SGD, persistent SGD) shared by the microscopic
//! simulation (`gardner_algorithms::psgd`) and the DMFT (`gardner_theory::dmft`): the sample
//! [`Selection`] with its [`Batch`] convention, the [`Confinement`], the [`Start`], the
//! [`Teacher`] labels and the [`ExpectedLoss`] on a fresh sample.
//!
//! # The update
//! With X_{μi} ~ N(0, 1/d), fields h_μ = X_μ·w, selection s_μ(k) ∈ {0, 1} and weight ω:
//!
//! ```text
//!   w(k+1) = w(k) − η [ ν̂(k) w(k) + ω Σ_μ s_μ(k) ℓ'(y_μ, h_μ(k)) X_μ ],   t = k η
//!   ω = 1/b  (Batch::Mean: the mini-batch gradient divided by b; mean drift = GD's)
//!   ω = 1    (Batch::Sum:  the plain sum over the batch; mean drift = b × GD's)
//! ```
//!
//! In the DMFT the weighted selection S = ω s ∈ {0, ω} enters as f = S ℓ', c = S ℓ'', so the
//! noise kernel α⟨f f⟩ carries α/b² and the curvature α⟨c⟩ carries α/b in the mean
//! convention (the kernels of the talk's DMFT slide). At b = 1 both conventions are the same
//! computation (ω = 1 exactly).
//!
//! # The selection process
//! Each s_μ is an independent two-state Markov chain, s_μ(0) ~ Bernoulli(b),
//!
//! ```text
//!   P(s = 0 → 1) = η/τ,     P(s = 1 → 0) = (1 − b) η/(b τ)
//! ```
//!
//! (stationary fraction b, mean time τ out of the batch, b τ/(1 − b) in it; both ≤ 1 needs
//! τ ≥ η max(1, 1/b − 1)). GD is b = 1 (s ≡ 1); plain SGD draws a fresh Bernoulli(b) batch
//! every step (P(0 → 1) = b, P(1 → 0) = 1 − b for any η, i.e. τ = η/b); persistent SGD is any
//! other τ (τ = ∞ freezes the initial batch).

use crate::error::Error;
use crate::gauss::{expect_normal, expect_normal_split};
use crate::loss::{Loss, PhaseRetrieval, SampleLoss};
use serde::{Deserialize, Serialize};

/// How the mini-batch gradient is normalised (module docs). There is no default: a
/// configuration must say which it means, since the two differ by a factor b in the drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Batch {
    /// The mini-batch gradient divided by b: weight ω = 1/b (the talk's convention).
    Mean,
    /// The plain sum over the selected samples: weight ω = 1.
    Sum,
}

impl Batch {
    /// `mean` or `sum`.
    pub fn name(&self) -> &'static str {
        match self {
            Batch::Mean => "mean",
            Batch::Sum => "sum",
        }
    }
}

/// The sample selection (module docs): batch fraction b, persistence time τ, and the batch
/// convention.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    b: f64,
    tau: f64,
    /// Plain SGD: a fresh batch every step, P(0 → 1) = b and P(1 → 0) = 1 − b at any η.
    #[serde(default)]
    fresh: bool,
    batch: Batch,
}

impl Selection {
    /// Gradient descent: b = 1, s ≡ 1 (τ is irrelevant and reported as 1; the weight is 1 in
    /// both conventions).
    pub fn gd() -> Self {
        Self {
            b: 1.0,
            tau: 1.0,
            fresh: false,
            batch: Batch::Mean,
        }
    }

    /// Plain SGD with batch fraction b ∈ (0, 1]: a fresh Bernoulli(b) batch every step, so
    /// P(0 → 1) = b and P(1 → 0) = 1 − b whatever the step; [`Selection::tau`] reports the
    /// equivalent τ = η/b at the learning rate `eta` given here.
    pub fn sgd(b: f64, eta: f64, batch: Batch) -> Result<Self, Error> {
        check_b(b)?;
        crate::error::positive("eta", eta)?;
        Ok(Self {
            b,
            tau: eta / b,
            fresh: true,
            batch,
        })
    }

    /// Persistent SGD with batch fraction b ∈ (0, 1] and persistence time τ > 0 (τ = ∞
    /// freezes the initial batch). The step-size condition τ ≥ η max(1, 1/b − 1) is checked
    /// by [`Selection::probabilities`].
    pub fn persistent(b: f64, tau: f64, batch: Batch) -> Result<Self, Error> {
        check_b(b)?;
        if tau.is_nan() || tau <= 0.0 {
            return Err(Error::InvalidParameter {
                name: "tau",
                value: tau,
                bound: "> 0",
            });
        }
        Ok(Self {
            b,
            tau,
            fresh: false,
            batch,
        })
    }

    /// Batch fraction b.
    pub fn b(&self) -> f64 {
        self.b
    }
    /// Persistence time τ (η/b for plain SGD, 1 for GD).
    pub fn tau(&self) -> f64 {
        self.tau
    }
    /// `true` when s ≡ 1 (b = 1).
    pub fn is_full_batch(&self) -> bool {
        self.b == 1.0
    }
    /// The batch convention.
    pub fn batch(&self) -> Batch {
        self.batch
    }
    /// The value ω of s when a sample is selected: 1 (sum) or 1/b (mean); so the force and
    /// curvature of a sample are f = S ℓ', c = S ℓ'' with S ∈ {0, ω}.
    pub fn weight(&self) -> f64 {
        match self.batch {
            Batch::Sum => 1.0,
            Batch::Mean => 1.0 / self.b,
        }
    }

    /// (P(0 → 1), P(1 → 0)) per step of length η (module docs): (1, 0) for GD, (b, 1 − b)
    /// for plain SGD, (η/τ, (1 − b)η/(bτ)) otherwise, each required to be ≤ 1.
    pub fn probabilities(&self, eta: f64) -> Result<(f64, f64), Error> {
        crate::error::positive("eta", eta)?;
        if self.is_full_batch() {
            return Ok((1.0, 0.0));
        }
        if self.fresh {
            return Ok((self.b, 1.0 - self.b));
        }
        let p01 = eta / self.tau;
        let p10 = (1.0 - self.b) * eta / (self.b * self.tau);
        if p01 > 1.0 + 1e-12 || p10 > 1.0 + 1e-12 {
            return Err(Error::InvalidParameter {
                name: "tau",
                value: self.tau,
                bound: ">= eta max(1, 1/b - 1), so that P(0->1) = eta/tau and P(1->0) = (1-b) eta/(b tau) are <= 1",
            });
        }
        Ok((p01.min(1.0), p10.min(1.0)))
    }
}

fn check_b(b: f64) -> Result<(), Error> {
    crate::error::unit_interval("b", b).map(|_| ())
}

/// The confinement ν̂ acting as −ν̂ w.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confinement {
    /// Ridge (λ/2)‖w‖²: ν̂ ≡ λ ≥ 0.
    Ridge(f64),
    /// Spherical constraint ‖w‖² = d (q ≡ 1): ν̂ is the Lagrange multiplier.
    Spherical,
}

/// The initial condition.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    /// w(0) = √q0 × a uniform direction on the sphere ‖·‖² = d (m(0) ~ N(0, q0/d)).
    Random { q0: f64 },
    /// w(0) = m0 w* + √(q0 − m0²) u, u ⊥ w*, ‖u‖²/d = 1.
    Informed { m0: f64, q0: f64 },
}

impl Start {
    /// q0 = ‖w(0)‖²/d.
    pub fn q0(&self) -> f64 {
        match *self {
            Start::Random { q0 } | Start::Informed { q0, .. } => q0,
        }
    }
}

/// Teacher labels y = φ(z), z = X_μ·w* ~ N(0, 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Teacher {
    /// y = z.
    Linear,
    /// y = |z| (phase retrieval).
    Abs,
}

impl Teacher {
    /// y = φ(z).
    pub fn label(&self, z: f64) -> f64 {
        match self {
            Teacher::Linear => z,
            Teacher::Abs => z.abs(),
        }
    }
}

/// Relative slack on q ≥ m² (Cauchy–Schwarz holds for a simulated w only up to rounding).
const COVARIANCE_SLACK: f64 = 1e-12;

/// Whether (m, q) is a covariance (Var z = 1, Var h = q, Cov = m), up to rounding.
fn is_covariance(m: f64, q: f64) -> bool {
    m.is_finite() && q.is_finite() && q >= m * m - COVARIANCE_SLACK * q.abs().max(1.0)
}

/// A per-sample loss whose expected value on a fresh sample is known as a function of the
/// overlaps m = w·w*/d, q = w·w/d: (z, h) Gaussian with variances 1 and q and covariance m.
pub trait ExpectedLoss: SampleLoss {
    /// E ℓ(φ(z), h) (the generalisation error); NaN when (m, q) is not a covariance. The
    /// default is [`expected_loss_by_quadrature`]; closed forms override it.
    fn gen_error(&self, teacher: Teacher, m: f64, q: f64) -> Result<f64, Error> {
        expected_loss_by_quadrature(self, teacher, m, q)
    }
}

/// The default of [`ExpectedLoss::gen_error`]: E_z E_ξ ℓ(φ(z), m z + √(q − m²) ξ) by nested
/// checked quadrature to 1e-10, the outer integral split at z = 0 (where φ may have a kink).
pub fn expected_loss_by_quadrature<L: SampleLoss>(
    loss: &L,
    teacher: Teacher,
    m: f64,
    q: f64,
) -> Result<f64, Error> {
    if !is_covariance(m, q) {
        return Ok(f64::NAN);
    }
    let sd = (q - m * m).max(0.0).sqrt();
    let fail = std::cell::Cell::new(None);
    let outer = expect_normal_split(
        |z| {
            let y = teacher.label(z);
            match expect_normal(|x| loss.value(y, m * z + sd * x), 1e-10) {
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
    if let Some(source) = fail.take() {
        return Err(Error::Integration {
            context: "expected loss (inner)",
            source,
        });
    }
    outer.map_err(|source| Error::Integration {
        context: "expected loss",
        source,
    })
}

/// (h² − y²)²/4 with y = |z|: E = (3 + 3q² − 2q − 4m²)/4 (Gaussian moments E h⁴ = 3q²,
/// E z⁴ = 3, E h²z² = q + 2m²); = 1 − m² on the sphere.
impl ExpectedLoss for PhaseRetrieval {
    fn gen_error(&self, teacher: Teacher, m: f64, q: f64) -> Result<f64, Error> {
        match teacher {
            Teacher::Abs if is_covariance(m, q) => {
                Ok((3.0 + 3.0 * q * q - 2.0 * q - 4.0 * m * m) / 4.0)
            }
            _ => expected_loss_by_quadrature(self, teacher, m, q),
        }
    }
}

/// ½(y − h)² with y = z: E = (1 − 2m + q)/2.
impl ExpectedLoss for Loss {
    fn gen_error(&self, teacher: Teacher, m: f64, q: f64) -> Result<f64, Error> {
        match (self, teacher) {
            (Loss::Square, Teacher::Linear) if is_covariance(m, q) => Ok((1.0 - 2.0 * m + q) / 2.0),
            _ => expected_loss_by_quadrature(self, teacher, m, q),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_and_probabilities() {
        let p = Selection::persistent(0.25, 2.0, Batch::Mean).unwrap();
        assert_eq!(p.weight(), 4.0);
        assert_eq!(
            Selection::persistent(0.25, 2.0, Batch::Sum)
                .unwrap()
                .weight(),
            1.0
        );
        let (p01, p10) = p.probabilities(0.1).unwrap();
        assert!((p01 - 0.05).abs() < 1e-15 && (p10 - 0.15).abs() < 1e-15);
        // b = 1: the same weight in both conventions, bit for bit
        for batch in [Batch::Mean, Batch::Sum] {
            let s = Selection::sgd(1.0, 0.1, batch).unwrap();
            assert_eq!(s.weight().to_bits(), 1.0f64.to_bits());
            assert_eq!(s.probabilities(0.1).unwrap(), (1.0, 0.0));
        }
        assert_eq!(Selection::gd().weight(), 1.0);
        // plain SGD: exactly (b, 1 − b) at any step
        let s = Selection::sgd(0.3, 0.01, Batch::Sum).unwrap();
        assert_eq!(s.probabilities(0.7).unwrap(), (0.3, 0.7));
        assert!((s.tau() - 0.01 / 0.3).abs() < 1e-15);
    }

    #[test]
    fn invalid_selection_names_the_parameter() {
        let msg = |r: Result<Selection, Error>| r.unwrap_err().to_string();
        let e = msg(Selection::sgd(0.0, 0.1, Batch::Mean));
        assert!(e.contains("`b`") && e.contains("(0, 1]"), "{e}");
        assert!(msg(Selection::sgd(1.5, 0.1, Batch::Mean)).contains("`b` = 1.5"));
        assert!(msg(Selection::sgd(f64::NAN, 0.1, Batch::Sum)).contains("`b`"));
        assert!(msg(Selection::sgd(0.5, 0.0, Batch::Sum)).contains("`eta`"));
        let e = msg(Selection::persistent(0.5, -1.0, Batch::Mean));
        assert!(e.contains("`tau` = -1") && e.contains("> 0"), "{e}");
        // b = 0.1: P(1 → 0) = 9 η/τ > 1 for τ = 2η
        let s = Selection::persistent(0.1, 0.2, Batch::Sum).unwrap();
        let e = s.probabilities(0.1).unwrap_err().to_string();
        assert!(e.contains("`tau` = 0.2") && e.contains("<= 1"), "{e}");
        let e = s.probabilities(0.0).unwrap_err().to_string();
        assert!(e.contains("`eta`"), "{e}");
        let frozen = Selection::persistent(0.5, f64::INFINITY, Batch::Mean).unwrap();
        assert_eq!(frozen.probabilities(0.1).unwrap(), (0.0, 0.0));
    }

    /// The closed forms (phase retrieval y = |z|, square loss y = z) equal the quadrature
    /// default to 1e-9; both are NaN off the covariance domain.
    #[test]
    fn closed_forms_match_quadrature() {
        for (m, q) in [(0.3, 1.0), (0.8, 0.9), (-0.2, 2.0), (1.0, 1.0)] {
            let pr = PhaseRetrieval.gen_error(Teacher::Abs, m, q).unwrap();
            let pr_q = expected_loss_by_quadrature(&PhaseRetrieval, Teacher::Abs, m, q).unwrap();
            assert!((pr - pr_q).abs() < 1e-9, "m {m} q {q}: {pr} vs {pr_q}");
            let sq = Loss::Square.gen_error(Teacher::Linear, m, q).unwrap();
            let sq_q = expected_loss_by_quadrature(&Loss::Square, Teacher::Linear, m, q).unwrap();
            assert!((sq - sq_q).abs() < 1e-9, "m {m} q {q}: {sq} vs {sq_q}");
        }
        assert!(
            PhaseRetrieval
                .gen_error(Teacher::Abs, 1.0, 0.5)
                .unwrap()
                .is_nan()
        );
        // rounding: q a few ulps below m² still counts as a covariance
        let m = 1.0 + 1e-15;
        assert!((PhaseRetrieval.gen_error(Teacher::Abs, m, 1.0).unwrap()).abs() < 1e-12);
    }
}
