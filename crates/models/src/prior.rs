//! Scalar priors P_w of the teacher weights, written once for GAMP and for the theory.
//!
//! Every prior exposes the log-partition of the scalar posterior in natural parameters
//! (A ≥ 0 precision, B field):
//!
//! ```text
//!   ln Z_w(A, B) = ln E_{w~P_w} exp(B w − A w²/2)
//!   f_a(A, B) = ∂_B ln Z_w      (posterior mean)
//!   f_v(A, B) = ∂²_B ln Z_w     (posterior variance)
//! ```
//!
//! GAMP's (Σ, R) are A = 1/Σ, B = R/Σ: then f_a(Σ, R) = ∫ x P_w(x) e^{−(x−R)²/2Σ} / ∫ P_w e^{…}
//! as on the slide, and f_v = Σ ∂_R f_a. The replica potential is
//! Φ_w(m̂) = E_{w0~P_w, ξ~N(0,1)} ln Z_w(m̂, m̂ w0 + √m̂ ξ).

use crate::error::{self, Error};
use crate::special::{log_cosh, logaddexp};
use rand::RngExt;
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// A scalar prior P_w.
pub trait Prior: Send + Sync + std::fmt::Debug {
    /// ρ = E w².
    fn rho(&self) -> f64;
    /// E w (the uninformative GAMP estimate).
    fn mean(&self) -> f64;
    /// Draw one w ~ P_w.
    fn sample(&self, rng: &mut Xoshiro256PlusPlus) -> f64;
    /// ln Z_w(A, B) = ln E_w exp(B w − A w²/2).
    fn log_z(&self, a: f64, b: f64) -> f64;
    /// (f_a, f_v) = (∂_B, ∂²_B) ln Z_w(A, B): posterior mean and variance.
    fn moments(&self, a: f64, b: f64) -> (f64, f64);
    /// Rényi information dimension d_w of P_w: 1 for a density, s for a mixture of a point
    /// mass and a density of weight s, 0 for a discrete law. (In the replica potential,
    /// Φ_w(m̂) − m m̂/2 ≈ −(d_w/2) ln m̂ as m̂ → ∞.)
    fn info_dimension(&self) -> f64;
    /// Shannon entropy H(P_w) = −Σ_w P_w(w) ln P_w(w) of a discrete prior; `None` otherwise.
    fn entropy(&self) -> Option<f64>;
    /// Whether P_w(w) = P_w(−w), i.e. ln Z_w(A, B) = ln Z_w(A, −B). Declared by the model
    /// (default `false`, the safe answer); with a sign-invariant channel the global sign of w*
    /// cannot be learnt.
    fn sign_invariant(&self) -> bool {
        false
    }
}

/// Gaussian prior N(0, ρ).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "GaussianSpec")]
pub struct Gaussian {
    rho: f64,
}

/// Unvalidated fields of [`Gaussian`]: deserialisation goes through [`Gaussian::new`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GaussianSpec {
    rho: f64,
}

impl TryFrom<GaussianSpec> for Gaussian {
    type Error = Error;
    fn try_from(s: GaussianSpec) -> Result<Self, Error> {
        Self::new(s.rho)
    }
}

impl Gaussian {
    /// N(0, ρ), ρ > 0.
    pub fn new(rho: f64) -> Result<Self, Error> {
        Ok(Self {
            rho: error::positive("rho", rho)?,
        })
    }
}

impl Prior for Gaussian {
    fn info_dimension(&self) -> f64 {
        1.0
    }
    fn entropy(&self) -> Option<f64> {
        None
    }
    fn sign_invariant(&self) -> bool {
        true
    }
    fn rho(&self) -> f64 {
        self.rho
    }
    fn mean(&self) -> f64 {
        0.0
    }
    fn sample(&self, rng: &mut Xoshiro256PlusPlus) -> f64 {
        self.rho.sqrt() * rng.sample::<f64, _>(StandardNormal)
    }
    /// ln Z = −½ ln(1 + Aρ) + B²ρ / (2(1 + Aρ)).
    fn log_z(&self, a: f64, b: f64) -> f64 {
        let s = 1.0 + a * self.rho;
        -0.5 * s.ln() + 0.5 * b * b * self.rho / s
    }
    /// f_a = Bρ/(1 + Aρ), f_v = ρ/(1 + Aρ).
    fn moments(&self, a: f64, b: f64) -> (f64, f64) {
        let v = self.rho / (1.0 + a * self.rho);
        (b * v, v)
    }
}

/// Rademacher prior: w = ±1 with probability ½ (ρ = 1), the binary perceptron.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rademacher;

impl Prior for Rademacher {
    fn info_dimension(&self) -> f64 {
        0.0
    }
    fn entropy(&self) -> Option<f64> {
        Some(std::f64::consts::LN_2)
    }
    fn sign_invariant(&self) -> bool {
        true
    }
    fn rho(&self) -> f64 {
        1.0
    }
    fn mean(&self) -> f64 {
        0.0
    }
    fn sample(&self, rng: &mut Xoshiro256PlusPlus) -> f64 {
        if rng.random::<bool>() { 1.0 } else { -1.0 }
    }
    /// ln Z = ln cosh B − A/2.
    fn log_z(&self, a: f64, b: f64) -> f64 {
        log_cosh(b) - 0.5 * a
    }
    /// f_a = tanh B, f_v = 1 − tanh² B.
    fn moments(&self, _a: f64, b: f64) -> (f64, f64) {
        let t = b.tanh();
        (t, 1.0 - t * t)
    }
}

/// Gauss–Bernoulli prior: w = 0 with probability 1 − s, else N(0, σ²) (ρ = s σ²).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "GaussBernoulliSpec")]
pub struct GaussBernoulli {
    sparsity: f64,
    variance: f64,
}

/// Unvalidated fields of [`GaussBernoulli`]: deserialisation goes through
/// [`GaussBernoulli::new`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GaussBernoulliSpec {
    sparsity: f64,
    variance: f64,
}

impl TryFrom<GaussBernoulliSpec> for GaussBernoulli {
    type Error = Error;
    fn try_from(s: GaussBernoulliSpec) -> Result<Self, Error> {
        Self::new(s.sparsity, s.variance)
    }
}

impl GaussBernoulli {
    /// Sparsity s ∈ (0, 1] (fraction of non-zeros), variance σ² > 0 of the non-zeros.
    pub fn new(sparsity: f64, variance: f64) -> Result<Self, Error> {
        Ok(Self {
            sparsity: error::unit_interval("sparsity", sparsity)?,
            variance: error::positive("variance", variance)?,
        })
    }
    /// Sparsity s: the fraction of non-zero weights.
    pub fn sparsity(&self) -> f64 {
        self.sparsity
    }
    /// Variance σ² of the non-zero weights.
    pub fn variance(&self) -> f64 {
        self.variance
    }
    /// (ln Z, posterior probability π of the Gaussian component, Gaussian-component moments).
    fn parts(&self, a: f64, b: f64) -> (f64, f64, f64, f64) {
        let s2 = self.variance;
        let d = 1.0 + a * s2;
        let log_slab = self.sparsity.ln() - 0.5 * d.ln() + 0.5 * b * b * s2 / d;
        let log_spike = (1.0 - self.sparsity).ln(); // −∞ when s = 1
        let lz = logaddexp(log_spike, log_slab);
        let pi = (log_slab - lz).exp();
        let (mean, var) = (b * s2 / d, s2 / d);
        (lz, pi, mean, var)
    }
}

impl Prior for GaussBernoulli {
    fn info_dimension(&self) -> f64 {
        self.sparsity
    }
    fn entropy(&self) -> Option<f64> {
        None
    }
    fn sign_invariant(&self) -> bool {
        true
    }
    fn rho(&self) -> f64 {
        self.sparsity * self.variance
    }
    fn mean(&self) -> f64 {
        0.0
    }
    fn sample(&self, rng: &mut Xoshiro256PlusPlus) -> f64 {
        let u: f64 = rng.random();
        let z: f64 = rng.sample(StandardNormal);
        if u < self.sparsity {
            self.variance.sqrt() * z
        } else {
            0.0
        }
    }
    /// ln Z = ln[(1 − s) + s (1 + Aσ²)^{-1/2} exp(B²σ²/(2(1 + Aσ²)))].
    fn log_z(&self, a: f64, b: f64) -> f64 {
        self.parts(a, b).0
    }
    /// Mixture moments: f_a = π μ, f_v = π(v + μ²) − (π μ)².
    fn moments(&self, a: f64, b: f64) -> (f64, f64) {
        let (_, pi, mu, v) = self.parts(a, b);
        let fa = pi * mu;
        (fa, pi * (v + mu * mu) - fa * fa)
    }
}

/// Any of the priors above, selected by name in a TOML spec:
/// `prior = { kind = "gaussian", rho = 1.0 }`, `{ kind = "rademacher" }`,
/// `{ kind = "gauss_bernoulli", sparsity = 0.3, variance = 1.0 }`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PriorSpec {
    Gaussian { rho: f64 },
    Rademacher,
    GaussBernoulli { sparsity: f64, variance: f64 },
}

/// A validated prior of any kind (static dispatch by match).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AnyPrior {
    Gaussian(Gaussian),
    Rademacher(Rademacher),
    GaussBernoulli(GaussBernoulli),
}

impl PriorSpec {
    /// Validate the parameters.
    pub fn build(&self) -> Result<AnyPrior, Error> {
        Ok(match *self {
            PriorSpec::Gaussian { rho } => AnyPrior::Gaussian(Gaussian::new(rho)?),
            PriorSpec::Rademacher => AnyPrior::Rademacher(Rademacher),
            PriorSpec::GaussBernoulli { sparsity, variance } => {
                AnyPrior::GaussBernoulli(GaussBernoulli::new(sparsity, variance)?)
            }
        })
    }
}

macro_rules! delegate_prior {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            AnyPrior::Gaussian($p) => $e,
            AnyPrior::Rademacher($p) => $e,
            AnyPrior::GaussBernoulli($p) => $e,
        }
    };
}

impl Prior for AnyPrior {
    fn rho(&self) -> f64 {
        delegate_prior!(self, p => p.rho())
    }
    fn mean(&self) -> f64 {
        delegate_prior!(self, p => p.mean())
    }
    fn sample(&self, rng: &mut Xoshiro256PlusPlus) -> f64 {
        delegate_prior!(self, p => p.sample(rng))
    }
    fn log_z(&self, a: f64, b: f64) -> f64 {
        delegate_prior!(self, p => p.log_z(a, b))
    }
    fn moments(&self, a: f64, b: f64) -> (f64, f64) {
        delegate_prior!(self, p => p.moments(a, b))
    }
    fn sign_invariant(&self) -> bool {
        delegate_prior!(self, p => p.sign_invariant())
    }
    fn info_dimension(&self) -> f64 {
        delegate_prior!(self, p => p.info_dimension())
    }
    fn entropy(&self) -> Option<f64> {
        delegate_prior!(self, p => p.entropy())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{expect_normal_err, fd1, fd2};

    fn all() -> Vec<AnyPrior> {
        vec![
            PriorSpec::Gaussian { rho: 1.7 }.build().unwrap(),
            PriorSpec::Rademacher.build().unwrap(),
            PriorSpec::GaussBernoulli {
                sparsity: 0.3,
                variance: 2.0,
            }
            .build()
            .unwrap(),
            PriorSpec::GaussBernoulli {
                sparsity: 1.0,
                variance: 0.5,
            }
            .build()
            .unwrap(),
        ]
    }

    /// f_a = ∂_B ln Z and f_v = ∂²_B ln Z by central differences.
    #[test]
    fn moments_are_derivatives_of_log_z() {
        for p in all() {
            for &(a, b) in &[(0.5, 0.3), (3.0, -2.0), (10.0, 7.0), (0.01, 0.05)] {
                let (fa, fv) = p.moments(a, b);
                let d1 = fd1(|x| p.log_z(a, x), b);
                let d2 = fd2(|x| p.log_z(a, x), b);
                assert!(
                    (fa - d1).abs() < 1e-7 * (1.0 + fa.abs()),
                    "{p:?} f_a {fa} vs {d1}"
                );
                assert!(
                    (fv - d2).abs() < 1e-5 * (1.0 + fv.abs()),
                    "{p:?} f_v {fv} vs {d2}"
                );
                assert!(fv >= 0.0);
            }
        }
    }

    /// f_a and f_v against direct integration over P_w (Gaussian parts by quadrature).
    #[test]
    fn moments_match_direct_integration() {
        let gauss = Gaussian::new(1.7).unwrap();
        let gb = GaussBernoulli::new(0.3, 2.0).unwrap();
        for &(a, b) in &[(0.5, 0.3), (3.0, -2.0), (10.0, 7.0)] {
            // Gaussian: E_w[w^k e^{Bw − Aw²/2}] with w ~ N(0, ρ)
            let s = 1.7f64.sqrt();
            let m = |k: i32| {
                expect_normal_err(|z| (s * z).powi(k) * (b * s * z - a * s * s * z * z / 2.0).exp())
            };
            let (z0, z1, z2) = (m(0), m(1), m(2));
            let (fa, fv) = gauss.moments(a, b);
            assert!((fa - z1 / z0).abs() < 1e-9 * (1.0 + fa.abs()));
            assert!((fv - (z2 / z0 - (z1 / z0).powi(2))).abs() < 1e-9);
            assert!((gauss.log_z(a, b) - z0.ln()).abs() < 1e-10);
            // Gauss–Bernoulli: spike contributes (1−s)·[k = 0]
            let sv = 2.0f64.sqrt();
            let g = |k: i32| {
                0.3 * expect_normal_err(|z| {
                    (sv * z).powi(k) * (b * sv * z - a * 2.0 * z * z / 2.0).exp()
                })
            };
            let (z0, z1, z2) = (0.7 + g(0), g(1), g(2));
            let (fa, fv) = gb.moments(a, b);
            assert!((fa - z1 / z0).abs() < 1e-9 * (1.0 + fa.abs()));
            assert!((fv - (z2 / z0 - (z1 / z0).powi(2))).abs() < 1e-9);
        }
    }

    #[test]
    fn bad_parameters_name_the_field() {
        let e = Gaussian::new(0.0).unwrap_err().to_string();
        assert!(e.contains("rho") && e.contains("> 0"), "{e}");
        let e = GaussBernoulli::new(1.5, 1.0).unwrap_err().to_string();
        assert!(e.contains("sparsity") && e.contains("(0, 1]"), "{e}");
        assert!(GaussBernoulli::new(0.0, 1.0).is_err());
        assert!(GaussBernoulli::new(0.5, -1.0).is_err());
        assert!(Gaussian::new(f64::NAN).is_err());
    }

    /// The declared sign invariance agrees with ln Z_w(A, B) = ln Z_w(A, −B).
    #[test]
    fn sign_invariance_declaration() {
        for p in all() {
            let even = [(0.5, 0.7), (2.0, -1.3), (0.1, 3.0)]
                .iter()
                .all(|&(a, b)| (p.log_z(a, b) - p.log_z(a, -b)).abs() <= 1e-14);
            assert_eq!(p.sign_invariant(), even, "{p:?}");
        }
    }

    /// Deserialisation validates: a bad field is the constructor's one-line error.
    #[test]
    fn deserialisation_validates() {
        let g: Gaussian = toml::from_str("rho = 2.0").unwrap();
        assert_eq!(g, Gaussian::new(2.0).unwrap());
        let e = toml::from_str::<Gaussian>("rho = -1.0")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`rho` = -1: must be > 0"), "{e}");
        let e = toml::from_str::<GaussBernoulli>("sparsity = 1.5\nvariance = 1.0")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`sparsity` = 1.5: must be in (0, 1]"), "{e}");
        assert!(toml::from_str::<Gaussian>("rho = 1.0\nextra = 1").is_err());
        // round trip through the validated path
        let gb = GaussBernoulli::new(0.3, 2.0).unwrap();
        let back: GaussBernoulli = toml::from_str(&toml::to_string(&gb).unwrap()).unwrap();
        assert_eq!(back, gb);
    }

    #[test]
    fn sample_second_moment_is_rho() {
        use rand::SeedableRng;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        for p in all() {
            let n = 200_000;
            let m2 = (0..n).map(|_| p.sample(&mut rng).powi(2)).sum::<f64>() / n as f64;
            assert!(
                (m2 - p.rho()).abs() < 5.0 * p.rho() * (2.0f64 / n as f64).sqrt() * 2.0,
                "{p:?} {m2}"
            );
        }
    }
}
