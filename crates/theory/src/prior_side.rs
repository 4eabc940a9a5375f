//! The prior side of the replica potential and of state evolution.
//!
//! With B = m̂ w0 + √m̂ ξ (w0 ~ P_w, ξ ~ N(0,1)) and ln Z_w(A, B) of [`Prior`]:
//!
//! ```text
//!   Φ_w(m̂)  = E_{w0,ξ} ln Z_w(m̂, B)                           (prior free entropy)
//!   m(m̂)    = 2 ∂_m̂ Φ_w = E[f_a w0] = E[f_a²]   (Nishimori)     (SE prior map)
//!   V(m̂)    = ρ − m(m̂) = E[f_v]                                 (MSE, computed directly)
//! ```
//!
//! The map is returned as the pair (m, V), each computed without cancellation, so that
//! m → ρ (V → 0) keeps its relative accuracy.
//!
//! Closed forms / reductions used:
//! - Gaussian(ρ): m = ρ²m̂/(1+ρm̂), V = ρ/(1+ρm̂), Φ_w = ½(ρm̂ − ln(1+ρm̂)).
//! - Rademacher: with c = m̂ + √m̂ ξ ~ N(m̂, m̂) and N(c; m̂, m̂) = N(c; 0, m̂) e^{c − m̂/2},
//!   for even F: E F(c) = e^{−m̂/2} E_{c~N(0,m̂)}\[cosh(c) F(c)\]. Hence
//!   V = E sech²(c) = e^{−m̂/2} E_{N(0,m̂)} sech(c) = e^{−m̂/2} ∫_0^∞ sech(πk/2) e^{−m̂k²/2} dk
//!   (Fourier transform of sech), a smooth 1-D integral for all m̂ (trapezoid rule).
//!   Φ_w = E ln cosh c − m̂/2 with E|c| in closed form and E ln(1+e^{−2|c|}) by checked quadrature.
//! - Gauss–Bernoulli: checked tanh–sinh quadrature over the two mixture components, split where
//!   the slab weight crosses ½. Tested up to m̂ ≈ 1e6; beyond ~1e8 the spike/slab transition is
//!   too narrow for the rule, which then returns an integration error (so perfect recovery with
//!   a noiseless channel, m̂ → ∞, is not reachable for this prior — an error, never a wrong
//!   number).

use crate::error::Error;
use crate::quad::{trapezoid_even, trapezoid_line};
use crate::reference;
use gardner_models::gauss::expect_normal_split;
use gardner_models::special::{LN_SQRT_2PI, h, npdf};
use gardner_models::{AnyPrior, GaussBernoulli, Gaussian, Prior, Rademacher};
use std::f64::consts::{FRAC_PI_2, LN_2};

/// Tolerance of the checked quadratures on the prior side.
const TOL: f64 = 1e-11;

/// A prior whose replica potential and SE map the theory can evaluate.
///
/// Every method has a generic default computed from the model's ln Z_w ([`crate::reference`])
/// and its declarations ([`Prior::info_dimension`], [`Prior::entropy`]), so a new prior needs
/// only `impl PriorSide for NewPrior {}`; the closed forms and reductions of this module are
/// overrides, tested against the defaults.
pub trait PriorSide: Prior {
    /// (m, V) = (E\[f_a w0\], E\[f_v\]) at m̂ ≥ 0: the SE prior map, m + V = ρ.
    fn overlap(&self, m_hat: f64) -> Result<(f64, f64), Error> {
        reference::overlap(self, m_hat)
    }
    /// Φ_w(m̂) = E_{w0,ξ} ln Z_w(m̂, m̂ w0 + √m̂ ξ).
    fn phi_w(&self, m_hat: f64) -> Result<f64, Error> {
        reference::phi_w(self, m_hat)
    }
    /// lim_{m̂→∞} \[Φ_w(m̂) − m(m̂) m̂/2\] when finite: −H(P_w) for a discrete prior
    /// ([`Prior::entropy`]), `None` otherwise. (Φ_w − m m̂/2 ≈ −(d_w/2) ln m̂ with d_w =
    /// [`Prior::info_dimension`].)
    fn perfect_limit(&self) -> Option<f64> {
        self.entropy().map(|h| -h)
    }
    /// The m̂ with V(m̂) = v (inverse prior map; m̂ = argmin of Φ_w(m̂) − m m̂/2), 0 < v ≤ ρ.
    fn m_hat_for(&self, v: f64) -> Result<f64, Error> {
        invert_overlap(self, v)
    }
}

/// Solve V(m̂) = v for m̂ by Brent's method on ln(1 + m̂) (V decreases with m̂).
fn invert_overlap<P: PriorSide + ?Sized>(p: &P, v: f64) -> Result<f64, Error> {
    let rho = p.rho();
    if !(v > 0.0 && v <= rho) {
        return Err(Error::InvalidParameter {
            name: "mse",
            value: v,
            bound: "in (0, rho]",
        });
    }
    if v == rho {
        return Ok(0.0);
    }
    let g = |l: f64| -> Result<f64, Error> { Ok((p.overlap(l.exp_m1())?.1 / v).ln()) };
    let mut hi = 1.0;
    while g(hi)? > 0.0 {
        hi *= 2.0;
        if hi > 1e3 {
            return Err(Error::RootFinding {
                context: "inverse prior map",
                reason: format!("V = {v} not reached"),
            });
        }
    }
    let l = crate::quad::brent("inverse prior map", g, 0.0, hi, 1e-14)?;
    Ok(l.exp_m1())
}

impl PriorSide for Gaussian {
    fn overlap(&self, m_hat: f64) -> Result<(f64, f64), Error> {
        let rho = self.rho();
        let d = 1.0 + rho * m_hat;
        Ok((rho * rho * m_hat / d, rho / d))
    }
    fn phi_w(&self, m_hat: f64) -> Result<f64, Error> {
        let x = self.rho() * m_hat;
        Ok(0.5 * (x - x.ln_1p()))
    }
    /// m̂ = m / (ρ V) (closed form).
    fn m_hat_for(&self, v: f64) -> Result<f64, Error> {
        let rho = self.rho();
        if !(v > 0.0 && v <= rho) {
            return Err(Error::InvalidParameter {
                name: "mse",
                value: v,
                bound: "in (0, rho]",
            });
        }
        Ok((rho - v) / (rho * v))
    }
}

/// Trapezoid step and node count in the Fourier variable k (sech(πk/2) < 1e-17 beyond k = 26).
const K_STEP: f64 = 1.0 / 6.0;
const K_NODES: usize = 160;

/// E_{c~N(0,s2)} sech(c) = ∫_0^∞ sech(πk/2) e^{−s2 k²/2} dk, smooth for every s2 ≥ 0.
pub(crate) fn gauss_sech(s2: f64) -> Result<f64, Error> {
    if s2 <= 4.0 {
        Ok(0.5
            * trapezoid_even(
                "E sech (k form)",
                |k| (-0.5 * s2 * k * k).exp() / (FRAC_PI_2 * k).cosh(),
                K_STEP,
                K_NODES,
            )?)
    } else {
        // c form: (1/√s2) ∫ φ(c/√s2) sech(c) dc, sech poles at ±iπ/2, Gaussian width ≥ 2.
        let ls = 0.5 * s2.ln();
        trapezoid_even(
            "E sech (c form)",
            |c| (-0.5 * c * c / s2 - LN_SQRT_2PI - ls).exp() / c.cosh(),
            0.25,
            160,
        )
    }
}

impl PriorSide for Rademacher {
    /// V = e^{−m̂/2} E_{N(0,m̂)} sech c; m = E tanh(m̂ + √m̂ ξ) directly when m̂ < 1/2.
    fn overlap(&self, m_hat: f64) -> Result<(f64, f64), Error> {
        if m_hat < 0.5 {
            let s = m_hat.sqrt();
            let m = trapezoid_line(
                "Rademacher m",
                |x| npdf(x) * (m_hat + s * x).tanh(),
                0.25,
                -9.0,
                9.0,
            )?;
            return Ok((m, 1.0 - m));
        }
        let v = (-0.5 * m_hat).exp() * gauss_sech(m_hat)?;
        Ok((1.0 - v, v))
    }
    /// Φ_w = E ln cosh(c) − m̂/2, E ln cosh c = E|c| − ln 2 + E ln(1 + e^{−2|c|}).
    fn phi_w(&self, m_hat: f64) -> Result<f64, Error> {
        if m_hat == 0.0 {
            return Ok(0.0);
        }
        let s = m_hat.sqrt();
        let abs_c = m_hat * (1.0 - 2.0 * h(s)) + 2.0 * s * npdf(s);
        let r = expect_normal_split(|x| (-2.0 * (m_hat + s * x).abs()).exp().ln_1p(), &[-s], TOL)
            .map_err(Error::integration("Rademacher Phi_w"))?;
        Ok(abs_c - LN_2 + r - 0.5 * m_hat)
    }
}

/// Breakpoints of the Gauss–Bernoulli integrands in x = B/sd: 0 and ±B_t/sd, where the
/// posterior weight of the slab crosses ½ (B_t² = 2(1 + Aσ²)/σ² · (½ ln(1 + Aσ²) − ln(s/(1 − s)))).
fn gb_kinks(s: f64, var: f64, a: f64, sd: f64) -> Vec<f64> {
    let d = 1.0 + a * var;
    let b2 = 2.0 * d / var * (0.5 * d.ln() - (s / (1.0 - s)).ln());
    if s < 1.0 && b2 > 0.0 && sd > 0.0 {
        let xt = b2.sqrt() / sd;
        if xt < 30.0 {
            return vec![-xt, 0.0, xt];
        }
    }
    vec![0.0]
}

impl PriorSide for GaussBernoulli {
    /// Mixture over w0: w0 = 0 (B ~ N(0, m̂)) or w0 ~ N(0, σ²) (B ~ N(0, m̂ + m̂²σ²)); the
    /// integrals are split where the slab weight crosses ½, and V is integrated as
    /// f_v (1 + m̂σ²)/σ² (an O(1) quantity) so that it keeps its relative accuracy as V → 0.
    fn overlap(&self, m_hat: f64) -> Result<(f64, f64), Error> {
        let (s, rho) = (self.sparsity(), self.rho());
        let var = rho / s;
        let scale = (1.0 + m_hat * var) / var;
        let (b0, b1) = (m_hat.sqrt(), (m_hat + m_hat * m_hat * var).sqrt());
        let e = |sd: f64, k: usize| {
            expect_normal_split(
                |x| {
                    let (fa, fv) = self.moments(m_hat, sd * x);
                    if k == 0 { fa * fa } else { fv * scale }
                },
                &gb_kinks(s, var, m_hat, sd),
                TOL,
            )
            .map_err(Error::integration("Gauss-Bernoulli overlap"))
        };
        let m = (1.0 - s) * e(b0, 0)? + s * e(b1, 0)?;
        let v = ((1.0 - s) * e(b0, 1)? + s * e(b1, 1)?) / scale;
        Ok((m, v))
    }
    fn phi_w(&self, m_hat: f64) -> Result<f64, Error> {
        let (s, rho) = (self.sparsity(), self.rho());
        let var = rho / s;
        let (b0, b1) = (m_hat.sqrt(), (m_hat + m_hat * m_hat * var).sqrt());
        let e = |sd: f64| {
            expect_normal_split(
                |x| self.log_z(m_hat, sd * x),
                &gb_kinks(s, var, m_hat, sd),
                TOL,
            )
            .map_err(Error::integration("Gauss-Bernoulli Phi_w"))
        };
        Ok((1.0 - s) * e(b0)? + s * e(b1)?)
    }
}

impl PriorSide for AnyPrior {
    fn overlap(&self, m_hat: f64) -> Result<(f64, f64), Error> {
        match self {
            AnyPrior::Gaussian(p) => p.overlap(m_hat),
            AnyPrior::Rademacher(p) => p.overlap(m_hat),
            AnyPrior::GaussBernoulli(p) => p.overlap(m_hat),
        }
    }
    fn phi_w(&self, m_hat: f64) -> Result<f64, Error> {
        match self {
            AnyPrior::Gaussian(p) => p.phi_w(m_hat),
            AnyPrior::Rademacher(p) => p.phi_w(m_hat),
            AnyPrior::GaussBernoulli(p) => p.phi_w(m_hat),
        }
    }
    fn perfect_limit(&self) -> Option<f64> {
        match self {
            AnyPrior::Gaussian(p) => p.perfect_limit(),
            AnyPrior::Rademacher(p) => p.perfect_limit(),
            AnyPrior::GaussBernoulli(p) => p.perfect_limit(),
        }
    }
    fn m_hat_for(&self, v: f64) -> Result<f64, Error> {
        match self {
            AnyPrior::Gaussian(p) => p.m_hat_for(v),
            AnyPrior::Rademacher(p) => p.m_hat_for(v),
            AnyPrior::GaussBernoulli(p) => p.m_hat_for(v),
        }
    }
}
