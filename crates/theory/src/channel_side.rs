//! The output side of the replica potential and of state evolution.
//!
//! With ω = √m t (t ~ N(0,1)), V = ρ − m and y ~ Z_out(·, ω, V):
//!
//! ```text
//!   Φ_out(m; ρ) = E_{ω,y} ln Z_out(y, ω, V)                       (output free entropy)
//!   m̂(m)/α     = 2 ∂_m Φ_out = E_{ω,y}[g_out(y, ω, V)²]            (SE output map)
//! ```
//!
//! Every method takes both m and V = ρ − m, so that V → 0 keeps its relative accuracy.
//!
//! Fast reductions, overriding the generic defaults (each checked against the default, nested
//! quadrature of the definition, in the crate's tests):
//! - **Probit(Δ)** (sign for Δ = 0), s² = V + Δ, κ² = m/s², β² = m/(s² + 2m):
//!   E\[g²\] = 2 E_ω φ(ω/s)²/(s² H(−ω/s)) = ∫ φ(x)/H(−βx) dx / (π √(s²(s² + 2m))), a smooth
//!   1-D integral for every m (trapezoid rule); Φ_out = 2 E_t\[H(−κt) ln H(−κt)\] (checked rule,
//!   split at t = 0 where it sharpens as V → 0).
//! - **Abs** (phase retrieval): E_{y|ω}\[y tanh(yω/V)\] = ω exactly, so
//!   V² E\[g²\] = V − E\[y² sech²(yω/V)\]; with z = √ρ a, ω = (m/ρ)z + √(mV/ρ) b the remainder is
//!   ρ E\[a² sech²(s a (s a + b))\], s² = m/V; completing the square in b and the Fourier
//!   transform of sech (∫ sech(x) e^{−ikx} dx = π sech(πk/2)) reduce it exactly to
//!   ```text
//!   E[y² sech²(yω/V)] = ρ Q(s²),   Q(x) = ∫_0^∞ sech(πk/2) (1 + x(1 + k²))^{−3/2} dk,
//!   ```
//!   analytic in |Im k| < 1 uniformly in x: the trapezoid rule with h = 1/6 is accurate to
//!   ~1e-15 for every m ∈ (0, ρ), including m → ρ where the original integrand sharpens.
//!   For x ≤ 1 the form V²E\[g²\] = −m + ρ(1 − Q) avoids cancellation.
//!   Φ_out(m) = Φ_out(0) + ½ ∫_0^m E\[g²\] dm' with Φ_out(0) = ln 2 − ½ ln(2πρ) − ½, integrated in
//!   ℓ = ln(ρ/V) where the integrand V E\[g²\] is smooth and bounded.
//! - **Linear(Δ)**: E\[g²\] = 1/(V + Δ), Φ_out = −½ ln(2πe(V + Δ)).

use crate::error::Error;
use crate::quad::{integrate, trapezoid_even, trapezoid_line};
use crate::reference;
use gardner_models::gauss::expect_normal_split;
use gardner_models::special::{LN_SQRT_2PI, h, log_h, log_npdf, npdf};
use gardner_models::{Abs, AnyChannel, Channel, Linear, Probit};
use std::f64::consts::{FRAC_PI_2, LN_2, PI};

/// Tolerance of the checked quadratures on the output side.
const TOL: f64 = 1e-12;

/// A channel whose replica potential and SE map the theory can evaluate.
///
/// Every method has a generic default computed from the model's ln Z_out and label law
/// ([`crate::reference`]), so a new channel needs only `impl ChannelSide for NewChannel {}`;
/// the fast 1-D reductions of this module are overrides, tested against the defaults.
pub trait ChannelSide: Channel {
    /// E_{ω,y}\[g_out²\] at overlap m and V = ρ − m (V > 0).
    fn e_gout2(&self, m: f64, v: f64) -> Result<f64, Error> {
        check_v(m, v)?;
        reference::e_gout2(self, m, v)
    }
    /// Φ_out(m; ρ) = E_{ω,y} ln Z_out(y, ω, V) at overlap m and V = ρ − m (V > 0).
    fn phi_out(&self, m: f64, v: f64) -> Result<f64, Error> {
        check_v(m, v)?;
        reference::phi_out(self, m, v)
    }
    /// κ: Φ_out(ρ − V; ρ) ≈ (κ/2) ln(1/V) as V → 0 (1 for noiseless channels with a continuous
    /// output, 0 for discrete or noisy outputs), read from the label law at V = 0.
    fn output_dimension(&self) -> f64 {
        reference::output_dimension(self)
    }
    /// lim_{V→0} Φ_out(ρ − V; ρ) when finite and perfect recovery is possible (noiseless
    /// discrete output: −H(y|z) = 0); `None` otherwise.
    fn noiseless_limit(&self) -> Option<f64> {
        reference::noiseless_limit(self)
    }
}

fn check_v(m: f64, v: f64) -> Result<(), Error> {
    if !(m >= 0.0 && m.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "m",
            value: m,
            bound: ">= 0 and finite",
        });
    }
    if !(v > 0.0 && v.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "V",
            value: v,
            bound: "> 0 and finite (m < rho)",
        });
    }
    Ok(())
}

impl ChannelSide for Probit {
    fn e_gout2(&self, m: f64, v: f64) -> Result<f64, Error> {
        check_v(m, v)?;
        let s2 = v + self.delta();
        let beta = (m / (s2 + 2.0 * m)).sqrt();
        let i = trapezoid_line(
            "probit E g^2",
            |x| (log_npdf(x) - log_h(-beta * x)).exp(),
            0.25,
            -13.0,
            10.0,
        )?;
        Ok(i / (PI * (s2 * (s2 + 2.0 * m)).sqrt()))
    }
    fn phi_out(&self, m: f64, v: f64) -> Result<f64, Error> {
        check_v(m, v)?;
        let kappa = (m / (v + self.delta())).sqrt();
        // G(u) = 2 H(−u) ln H(−u), Φ_out = E_t G(κt)
        let g = |u: f64| {
            let hh = h(-u);
            if hh == 0.0 { 0.0 } else { 2.0 * hh * log_h(-u) }
        };
        if kappa <= 1.0 {
            return expect_normal_split(|t| g(kappa * t), &[0.0], TOL)
                .map_err(Error::integration("probit Phi_out"));
        }
        // κ > 1: Φ_out = (1/κ) ∫ φ(u/κ) G(u) du with an O(1) integral (absolute tolerance is
        // then relative), folded onto u > 0 and mapped by u = τ/(1 − τ).
        let i = integrate(
            "probit Phi_out",
            |tau| {
                let s = 1.0 - tau;
                if s <= 0.0 {
                    return 0.0;
                }
                let u = tau / s;
                npdf(u / kappa) * (g(u) + g(-u)) / (s * s)
            },
            0.0,
            1.0,
            TOL,
        )?;
        Ok(i / kappa)
    }
}

/// Trapezoid step and nodes for Q (sech(πk/2) < 1e-17 beyond k = 26).
const K_STEP: f64 = 1.0 / 6.0;
const K_NODES: usize = 160;

/// V·E\[g_out²\] of the abs channel, computed without cancellation (see module docs).
pub(crate) fn abs_v_e_gout2(m: f64, v: f64) -> Result<f64, Error> {
    let rho = m + v;
    let x = m / v;
    if x <= 1.0 {
        // V E g² = (−m + ρ(1 − Q))/V, 1 − y^{−3/2} = −expm1(−1.5 ln1p(ε))
        let one_minus_q = 0.5
            * trapezoid_even(
                "abs 1 - Q",
                |k| -(-1.5 * (x * (1.0 + k * k)).ln_1p()).exp_m1() / (FRAC_PI_2 * k).cosh(),
                K_STEP,
                K_NODES,
            )?;
        Ok((-m + rho * one_minus_q) / v)
    } else {
        let q = 0.5
            * trapezoid_even(
                "abs Q",
                |k| {
                    let y = 1.0 + x * (1.0 + k * k);
                    1.0 / (y * y.sqrt() * (FRAC_PI_2 * k).cosh())
                },
                K_STEP,
                K_NODES,
            )?;
        Ok(1.0 - rho * q / v)
    }
}

impl ChannelSide for Abs {
    fn e_gout2(&self, m: f64, v: f64) -> Result<f64, Error> {
        check_v(m, v)?;
        Ok(abs_v_e_gout2(m, v)? / v)
    }
    fn phi_out(&self, m: f64, v: f64) -> Result<f64, Error> {
        check_v(m, v)?;
        let rho = m + v;
        let phi0 = LN_2 - 0.5 * (2.0 * PI * rho).ln() - 0.5;
        if m == 0.0 {
            return Ok(phi0);
        }
        let l_end = (m / v).ln_1p(); // ln(ρ/V)
        let integral = integrate(
            "abs Phi_out",
            |l| {
                let vl = rho * (-l).exp();
                let ml = -rho * (-l).exp_m1();
                if ml <= 0.0 {
                    0.0
                } else {
                    abs_v_e_gout2(ml, vl).unwrap_or(f64::NAN)
                }
            },
            0.0,
            l_end,
            TOL,
        )?;
        Ok(phi0 + 0.5 * integral)
    }
}

impl ChannelSide for Linear {
    fn e_gout2(&self, m: f64, v: f64) -> Result<f64, Error> {
        check_v(m, v)?;
        Ok(1.0 / (v + self.delta()))
    }
    fn phi_out(&self, m: f64, v: f64) -> Result<f64, Error> {
        check_v(m, v)?;
        Ok(-0.5 * (v + self.delta()).ln() - LN_SQRT_2PI - 0.5)
    }
}

impl ChannelSide for AnyChannel {
    fn e_gout2(&self, m: f64, v: f64) -> Result<f64, Error> {
        match self {
            AnyChannel::Probit(c) => c.e_gout2(m, v),
            AnyChannel::Abs(c) => c.e_gout2(m, v),
            AnyChannel::Linear(c) => c.e_gout2(m, v),
        }
    }
    fn phi_out(&self, m: f64, v: f64) -> Result<f64, Error> {
        match self {
            AnyChannel::Probit(c) => c.phi_out(m, v),
            AnyChannel::Abs(c) => c.phi_out(m, v),
            AnyChannel::Linear(c) => c.phi_out(m, v),
        }
    }
    fn output_dimension(&self) -> f64 {
        match self {
            AnyChannel::Probit(c) => c.output_dimension(),
            AnyChannel::Abs(c) => c.output_dimension(),
            AnyChannel::Linear(c) => c.output_dimension(),
        }
    }
    fn noiseless_limit(&self) -> Option<f64> {
        match self {
            AnyChannel::Probit(c) => c.noiseless_limit(),
            AnyChannel::Abs(c) => c.noiseless_limit(),
            AnyChannel::Linear(c) => c.noiseless_limit(),
        }
    }
}
