//! Output channels P_out(y | z), written once for GAMP and for the theory.
//!
//! Every channel exposes the log-partition of the scalar output posterior
//!
//! ```text
//!   Z_out(y, ω, V) = ∫ dz P_out(y | z) N(z; ω, V)
//!   g_out(y, ω, V) = ∂_ω ln Z_out,   ∂_ω g_out
//! ```
//!
//! (g_out = E[z − ω | y]/V as on the GAMP slide), and the law of y given (ω, V), which the
//! theory integrates against: Φ_out(m; ρ) = E_{ω~N(0,m)} E_{y~Z_out(·,ω,ρ−m)} ln Z_out(y, ω, ρ−m).

use crate::error::{self, Error};
use crate::special::{LN_SQRT_2PI, h, inverse_mills_ratio, log_cosh, log_h, npdf};
use rand::RngExt;
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};
use std::f64::consts::LN_2;

/// Law of the label y given the Gaussian field z ~ N(ω, V) and the channel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LabelLaw {
    /// y ∈ {−1, +1} with P(y = +1) = `p_plus`.
    Binary { p_plus: f64 },
    /// y ~ N(mean, var).
    Gaussian { mean: f64, var: f64 },
    /// y = |u|, u ~ N(mean, var) (folded normal).
    Folded { mean: f64, var: f64 },
}

impl LabelLaw {
    /// E\[y\].
    pub fn mean(&self) -> f64 {
        match *self {
            LabelLaw::Binary { p_plus } => 2.0 * p_plus - 1.0,
            LabelLaw::Gaussian { mean, .. } => mean,
            LabelLaw::Folded { mean, var } => {
                if var == 0.0 {
                    return mean.abs();
                }
                let s = var.sqrt();
                // E|u| = σ √(2/π) e^{−μ²/2σ²} + μ (1 − 2 H(μ/σ))
                2.0 * s * npdf(mean / s) + mean * (1.0 - 2.0 * h(mean / s))
            }
        }
    }
    /// E\[y²\].
    pub fn second_moment(&self) -> f64 {
        match *self {
            LabelLaw::Binary { .. } => 1.0,
            LabelLaw::Gaussian { mean, var } | LabelLaw::Folded { mean, var } => mean * mean + var,
        }
    }
}

/// An output channel P_out(y | z).
pub trait Channel: Send + Sync + std::fmt::Debug {
    /// Draw y ~ P_out(· | z).
    fn sample(&self, z: f64, rng: &mut Xoshiro256PlusPlus) -> f64;
    /// ln Z_out(y, ω, V) (a log-probability for discrete y, a log-density for continuous y).
    fn log_z(&self, y: f64, omega: f64, v: f64) -> f64;
    /// (g_out, ∂_ω g_out) at (y, ω, V).
    fn g_out(&self, y: f64, omega: f64, v: f64) -> (f64, f64);
    /// Law of y when z ~ N(ω, V).
    fn label_law(&self, omega: f64, v: f64) -> LabelLaw;
    /// Whether P_out(y | z) = P_out(y | −z), i.e. ln Z_out(y, ω, V) = ln Z_out(y, −ω, V) (e.g.
    /// y = |z|). Declared by the model (default `false`, the safe answer); with a sign-invariant
    /// prior the global sign of w* cannot be learnt.
    fn sign_invariant(&self) -> bool {
        false
    }
}

/// Unvalidated fields of [`Probit`] and [`Linear`]: deserialisation goes through their
/// validating constructors (`delta = -1` is an error naming `delta`, its value and the bound).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeltaSpec {
    delta: f64,
}

/// Sign channel with Gaussian pre-activation noise (probit): y = sign(z + √Δ ξ).
/// Δ = 0 is the noiseless perceptron teacher.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DeltaSpec")]
pub struct Probit {
    delta: f64,
}

impl TryFrom<DeltaSpec> for Probit {
    type Error = Error;
    fn try_from(s: DeltaSpec) -> Result<Self, Error> {
        Self::new(s.delta)
    }
}

impl Probit {
    /// Noise variance Δ ≥ 0.
    pub fn new(delta: f64) -> Result<Self, Error> {
        Ok(Self {
            delta: error::non_negative("delta", delta)?,
        })
    }
    /// The noiseless sign channel y = sign(z).
    pub fn sign() -> Self {
        Self { delta: 0.0 }
    }
    /// Δ.
    pub fn delta(&self) -> f64 {
        self.delta
    }
}

impl Channel for Probit {
    fn sample(&self, z: f64, rng: &mut Xoshiro256PlusPlus) -> f64 {
        let noise = if self.delta > 0.0 {
            self.delta.sqrt() * rng.sample::<f64, _>(StandardNormal)
        } else {
            0.0
        };
        if z + noise >= 0.0 { 1.0 } else { -1.0 }
    }
    /// Z_out = H(−y ω/√(V+Δ)).
    fn log_z(&self, y: f64, omega: f64, v: f64) -> f64 {
        log_h(-y * omega / (v + self.delta).sqrt())
    }
    /// g = (y/s) φ(u)/H(u), u = −yω/s, s = √(V+Δ); ∂_ω g = −g (g + ω/s²).
    fn g_out(&self, y: f64, omega: f64, v: f64) -> (f64, f64) {
        let s2 = v + self.delta;
        let s = s2.sqrt();
        let g = y / s * inverse_mills_ratio(-y * omega / s);
        (g, -g * (g + omega / s2))
    }
    fn label_law(&self, omega: f64, v: f64) -> LabelLaw {
        LabelLaw::Binary {
            p_plus: h(-omega / (v + self.delta).sqrt()),
        }
    }
}

/// Absolute-value channel of real phase retrieval: y = |z|.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Abs;

impl Channel for Abs {
    fn sign_invariant(&self) -> bool {
        true
    }
    fn sample(&self, z: f64, _rng: &mut Xoshiro256PlusPlus) -> f64 {
        z.abs()
    }
    /// Z_out = N(y; ω, V) + N(−y; ω, V) = (2πV)^{-1/2} e^{−(y²+ω²)/2V} 2 cosh(yω/V), y ≥ 0.
    fn log_z(&self, y: f64, omega: f64, v: f64) -> f64 {
        -0.5 * v.ln() - LN_SQRT_2PI - (y * y + omega * omega) / (2.0 * v)
            + log_cosh(y * omega / v)
            + LN_2
    }
    /// g = (−ω + y tanh(yω/V))/V; ∂_ω g = (−1 + (y²/V)(1 − tanh²(yω/V)))/V.
    fn g_out(&self, y: f64, omega: f64, v: f64) -> (f64, f64) {
        let t = (y * omega / v).tanh();
        ((-omega + y * t) / v, (-1.0 + y * y / v * (1.0 - t * t)) / v)
    }
    fn label_law(&self, omega: f64, v: f64) -> LabelLaw {
        LabelLaw::Folded {
            mean: omega,
            var: v,
        }
    }
}

/// Linear channel with additive Gaussian noise: y = z + √Δ ξ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DeltaSpec")]
pub struct Linear {
    delta: f64,
}

impl TryFrom<DeltaSpec> for Linear {
    type Error = Error;
    fn try_from(s: DeltaSpec) -> Result<Self, Error> {
        Self::new(s.delta)
    }
}

impl Linear {
    /// Noise variance Δ ≥ 0.
    pub fn new(delta: f64) -> Result<Self, Error> {
        Ok(Self {
            delta: error::non_negative("delta", delta)?,
        })
    }
    /// Δ.
    pub fn delta(&self) -> f64 {
        self.delta
    }
}

impl Channel for Linear {
    fn sample(&self, z: f64, rng: &mut Xoshiro256PlusPlus) -> f64 {
        if self.delta > 0.0 {
            z + self.delta.sqrt() * rng.sample::<f64, _>(StandardNormal)
        } else {
            z
        }
    }
    /// Z_out = N(y; ω, V + Δ).
    fn log_z(&self, y: f64, omega: f64, v: f64) -> f64 {
        let s2 = v + self.delta;
        -0.5 * s2.ln() - LN_SQRT_2PI - (y - omega).powi(2) / (2.0 * s2)
    }
    /// g = (y − ω)/(V + Δ), ∂_ω g = −1/(V + Δ).
    fn g_out(&self, y: f64, omega: f64, v: f64) -> (f64, f64) {
        let s2 = v + self.delta;
        ((y - omega) / s2, -1.0 / s2)
    }
    fn label_law(&self, omega: f64, v: f64) -> LabelLaw {
        LabelLaw::Gaussian {
            mean: omega,
            var: v + self.delta,
        }
    }
}

/// Any channel above, selected by name in a TOML spec: `channel = { kind = "sign" }`,
/// `{ kind = "probit", delta = 0.1 }`, `{ kind = "abs" }`, `{ kind = "linear", delta = 0.0 }`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChannelSpec {
    Sign,
    Probit { delta: f64 },
    Abs,
    Linear { delta: f64 },
}

/// A validated channel of any kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AnyChannel {
    Probit(Probit),
    Abs(Abs),
    Linear(Linear),
}

impl ChannelSpec {
    /// Validate the parameters.
    pub fn build(&self) -> Result<AnyChannel, Error> {
        Ok(match *self {
            ChannelSpec::Sign => AnyChannel::Probit(Probit::sign()),
            ChannelSpec::Probit { delta } => AnyChannel::Probit(Probit::new(delta)?),
            ChannelSpec::Abs => AnyChannel::Abs(Abs),
            ChannelSpec::Linear { delta } => AnyChannel::Linear(Linear::new(delta)?),
        })
    }
}

macro_rules! delegate_channel {
    ($self:ident, $c:ident => $e:expr) => {
        match $self {
            AnyChannel::Probit($c) => $e,
            AnyChannel::Abs($c) => $e,
            AnyChannel::Linear($c) => $e,
        }
    };
}

impl Channel for AnyChannel {
    fn sample(&self, z: f64, rng: &mut Xoshiro256PlusPlus) -> f64 {
        delegate_channel!(self, c => c.sample(z, rng))
    }
    fn log_z(&self, y: f64, omega: f64, v: f64) -> f64 {
        delegate_channel!(self, c => c.log_z(y, omega, v))
    }
    fn g_out(&self, y: f64, omega: f64, v: f64) -> (f64, f64) {
        delegate_channel!(self, c => c.g_out(y, omega, v))
    }
    fn label_law(&self, omega: f64, v: f64) -> LabelLaw {
        delegate_channel!(self, c => c.label_law(omega, v))
    }
    fn sign_invariant(&self) -> bool {
        delegate_channel!(self, c => c.sign_invariant())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gauss::expect_normal_split;
    use crate::testing::{expect_normal_err, fd1};

    fn all() -> Vec<AnyChannel> {
        [
            ChannelSpec::Sign,
            ChannelSpec::Probit { delta: 0.3 },
            ChannelSpec::Abs,
            ChannelSpec::Linear { delta: 0.0 },
            ChannelSpec::Linear { delta: 0.5 },
        ]
        .iter()
        .map(|s| s.build().unwrap())
        .collect()
    }

    fn labels(c: &AnyChannel) -> Vec<f64> {
        match c {
            AnyChannel::Probit(_) => vec![-1.0, 1.0],
            AnyChannel::Abs(_) => vec![0.1, 0.9, 2.5],
            AnyChannel::Linear(_) => vec![-1.3, 0.2, 2.0],
        }
    }

    const POINTS: [(f64, f64); 5] = [(0.3, 0.5), (-1.2, 0.1), (2.0, 1.5), (0.0, 0.8), (4.0, 0.05)];

    /// g_out = ∂_ω ln Z_out and ∂_ω g_out = ∂_ω g_out by central differences.
    #[test]
    fn g_out_is_derivative_of_log_z() {
        for c in all() {
            for y in labels(&c) {
                for &(w, v) in &POINTS {
                    let (g, dg) = c.g_out(y, w, v);
                    let d1 = fd1(|x| c.log_z(y, x, v), w);
                    let d2 = fd1(|x| c.g_out(y, x, v).0, w);
                    assert!(
                        (g - d1).abs() < 1e-6 * (1.0 + g.abs()),
                        "{c:?} y={y} ω={w} V={v}: {g} vs {d1}"
                    );
                    assert!(
                        (dg - d2).abs() < 1e-5 * (1.0 + dg.abs()),
                        "{c:?} y={y} ω={w} V={v}: {dg} vs {d2}"
                    );
                }
            }
        }
    }

    /// Z_out and g_out against the defining integrals over z ~ N(ω, V).
    #[test]
    fn log_z_and_g_out_match_direct_integration() {
        for c in all() {
            for y in labels(&c) {
                for &(w, v) in &POINTS[..4] {
                    let s = v.sqrt();
                    // P_out(y|z) as a density/probability.
                    let p = |z: f64| -> f64 {
                        match c {
                            AnyChannel::Probit(p) => crate::special::h(-y * z / p.delta().sqrt()),
                            AnyChannel::Linear(l) => {
                                let s2 = l.delta().max(1e-300);
                                (-(y - z).powi(2) / (2.0 * s2)).exp()
                                    / (2.0 * std::f64::consts::PI * s2).sqrt()
                            }
                            AnyChannel::Abs(_) => unreachable!(),
                        }
                    };
                    let (z0, z1) = match c {
                        // deterministic channels: Z is the density of y / probability of the sign
                        AnyChannel::Probit(p) if p.delta() == 0.0 => {
                            let k = [-w / s];
                            let z0 = expect_normal_split(
                                |u| if y * (w + s * u) > 0.0 { 1.0 } else { 0.0 },
                                &k,
                                1e-12,
                            )
                            .unwrap();
                            let z1 = expect_normal_split(
                                |u| if y * (w + s * u) > 0.0 { s * u } else { 0.0 },
                                &k,
                                1e-12,
                            )
                            .unwrap();
                            (z0, z1)
                        }
                        AnyChannel::Linear(l) if l.delta() == 0.0 => {
                            let dens = |z: f64| {
                                (-(z - w).powi(2) / (2.0 * v)).exp()
                                    / (2.0 * std::f64::consts::PI * v).sqrt()
                            };
                            (dens(y), dens(y) * (y - w))
                        }
                        AnyChannel::Abs(_) => {
                            let dens = |z: f64| {
                                (-(z - w).powi(2) / (2.0 * v)).exp()
                                    / (2.0 * std::f64::consts::PI * v).sqrt()
                            };
                            (dens(y) + dens(-y), dens(y) * (y - w) + dens(-y) * (-y - w))
                        }
                        _ => (
                            expect_normal_err(|u| p(w + s * u)),
                            expect_normal_err(|u| s * u * p(w + s * u)),
                        ),
                    };
                    let lz = c.log_z(y, w, v);
                    assert!(
                        (lz - z0.ln()).abs() < 1e-9,
                        "{c:?} y={y} ω={w} V={v}: {lz} vs {}",
                        z0.ln()
                    );
                    let g = c.g_out(y, w, v).0;
                    // the reference quadrature is accurate to 1e-10 absolute in z0 and z1
                    let ref_err = 1e-9 * (1.0 + g.abs()) / (z0 * v);
                    assert!(
                        (g - z1 / z0 / v).abs() < ref_err.max(1e-8),
                        "{c:?}: {g} vs {}",
                        z1 / z0 / v
                    );
                }
            }
        }
    }

    /// Far tails of the sign channel: g_out stays finite (ω/√V = ∓40).
    #[test]
    fn sign_channel_tails() {
        let c = Probit::sign();
        let (g, dg) = c.g_out(1.0, -40.0, 1.0);
        assert!((g - 40.024_968_847_207_26).abs() < 1e-12 * 40.0, "{g}");
        assert!(dg.is_finite() && dg < 0.0);
        let (g, _) = c.g_out(1.0, 40.0, 1.0);
        assert!((0.0..1e-300).contains(&g));
        assert!((c.log_z(1.0, -40.0, 1.0) + 804.608_442_013_753_8).abs() < 1e-10);
    }

    #[test]
    fn label_law_moments() {
        let mut rng = <Xoshiro256PlusPlus as rand::SeedableRng>::seed_from_u64(3);
        for c in all() {
            let (w, v) = (0.7, 0.4);
            let law = c.label_law(w, v);
            let n = 400_000;
            let ys: Vec<f64> = (0..n)
                .map(|_| {
                    c.sample(
                        w + v.sqrt() * rng.sample::<f64, _>(StandardNormal),
                        &mut rng,
                    )
                })
                .collect();
            let m1 = ys.iter().sum::<f64>() / n as f64;
            let m2 = ys.iter().map(|y| y * y).sum::<f64>() / n as f64;
            assert!(
                (m1 - law.mean()).abs() < 0.01,
                "{c:?} {m1} vs {}",
                law.mean()
            );
            assert!(
                (m2 - law.second_moment()).abs() < 0.02,
                "{c:?} {m2} vs {}",
                law.second_moment()
            );
        }
    }

    /// The declared sign invariance agrees with ln Z_out(y, ω, V) = ln Z_out(y, −ω, V).
    #[test]
    fn sign_invariance_declaration() {
        for c in all() {
            let even = labels(&c).iter().all(|&y| {
                POINTS
                    .iter()
                    .all(|&(w, v)| (c.log_z(y, w, v) - c.log_z(y, -w, v)).abs() <= 1e-12)
            });
            assert_eq!(c.sign_invariant(), even, "{c:?}");
        }
    }

    /// Deserialisation validates: `delta = -1` in TOML is the constructor's one-line error.
    #[test]
    fn deserialisation_validates() {
        let e = toml::from_str::<Linear>("delta = -1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`delta` = -1: must be >= 0 and finite"), "{e}");
        let e = toml::from_str::<Probit>("delta = -1.0")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`delta` = -1: must be >= 0 and finite"), "{e}");
        assert_eq!(
            toml::from_str::<Probit>("delta = 0.5").unwrap(),
            Probit::new(0.5).unwrap()
        );
        assert!(toml::from_str::<Linear>("delta = 0.5\nsigma = 1").is_err());
        let l = Linear::new(0.25).unwrap();
        assert_eq!(
            toml::from_str::<Linear>(&toml::to_string(&l).unwrap()).unwrap(),
            l
        );
    }

    #[test]
    fn bad_delta_is_named() {
        let e = ChannelSpec::Linear { delta: -0.1 }
            .build()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("delta") && e.contains("-0.1") && e.contains(">= 0"),
            "{e}"
        );
    }
}
