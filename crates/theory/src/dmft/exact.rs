//! Exact learning curves of ridge regression with a linear teacher (square loss, b = 1), over
//! the Marchenko–Pastur spectrum of XᵀX.
//!
//! With X_{μi} ~ N(0, 1/d), n = α d, the spectral measure of S = XᵀX is
//!
//! ```text
//!   ρ(s) = sqrt((s₊ − s)(s − s₋)) / (2π s)  on [s₋, s₊] = [(√α − 1)², (√α + 1)²],
//!   plus an atom (1 − α)⁺ at s = 0.
//! ```
//!
//! J(w) = ½‖y − Xw‖² + (λ/2)‖w‖², y = X w*, w(0) = m0 w* + w⊥, |w⊥|²/d = σ² = q0 − m0².
//! Per eigen-direction the iterate relaxes to a(s) = s/(λ + s) with the decay factor
//! E = e^{−(λ+s)t} (gradient flow) or E = (1 − η(λ + s))^k (GD, t = kη):
//!
//! ```text
//!   m(t)    = ∫ρ [a + E (m0 − a)]
//!   q(t)    = ∫ρ [a + E (m0 − a)]² + σ² ∫ρ E²
//!   e_tr(t) = (1/2α) { ∫ρ s [−λ/(λ+s) + E (m0 − a)]² + σ² ∫ρ s E² }
//!   m(∞)    = 1 − λ G,  G = ∫ρ/(λ+s) = [sqrt((λ+α+1)² − 4α) − (α − 1 + λ)] / (2λ)
//! ```
//!
//! Two independent routes: [`LinearRidge::flow`] / [`LinearRidge::gd`] integrate the closed
//! forms with a checked tanh–sinh rule (`quadrature` crate) after the map
//! s = c − w cos θ, θ ∈ [0, π] (c, w the centre and half-width of the bulk), which turns
//! ρ ds = w² sin²θ/(2π s) dθ into a smooth integrand (the √ edges disappear); a failed
//! error estimate is an [`Error::Integration`]. [`LinearRidge::flow_ode`] integrates the linear
//! ODEs u̇_s = −(λ + s) u_s + s, v̇_s = −2(λ + s) v_s at the nodes of a trapezoid rule in θ
//! (spectrally accurate: the θ-integrand is even and 2π-periodic; at α = 1 it is w/π, not 0,
//! at θ = 0, so the end nodes keep their half weights) with `ode_solvers`' Dopri5. The
//! eigenvalue s(θ) is evaluated without cancellation near the lower edge (s₋ = 0 at α = 1).

use crate::error::{Error, finite};
use gardner_models::gauss::integrate_interval;
use ode_solvers::{DVector, Dopri5, OutputType, System};
use serde::Serialize;

/// Observables at one time (m, q, training loss, generalisation error (1 − 2m + q)/2).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ExactPoint {
    /// Physical time t (= kη for GD).
    pub t: f64,
    /// Overlap m = w·w*/d.
    pub m: f64,
    /// Squared norm q = |w|²/d.
    pub q: f64,
    /// (1/n) Σ_μ ℓ over the training set.
    pub train_loss: f64,
    /// E ℓ on a fresh sample: (1 − 2m + q)/2.
    pub gen_error: f64,
}

/// Ridge regression on a linear teacher: α, λ ≥ 0 and the initial condition (m0, q0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearRidge {
    alpha: f64,
    lambda: f64,
    m0: f64,
    sigma2: f64,
}

/// Relative tolerance of the spectral integrals.
const TOL: f64 = 1e-11;
/// Trapezoid nodes in θ for the ODE route.
const ODE_NODES: usize = 256;

impl LinearRidge {
    /// α > 0, λ ≥ 0, q0 ≥ m0² (σ² = q0 − m0²).
    pub fn new(alpha: f64, lambda: f64, m0: f64, q0: f64) -> Result<Self, Error> {
        crate::error::positive("alpha", alpha)?;
        if !(lambda.is_finite() && lambda >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "lambda",
                value: lambda,
                bound: ">= 0 and finite",
            });
        }
        finite("m0", m0)?;
        if !(q0.is_finite() && q0 >= m0 * m0) {
            return Err(Error::InvalidParameter {
                name: "q0",
                value: q0,
                bound: ">= m0^2 and finite",
            });
        }
        Ok(Self {
            alpha,
            lambda,
            m0,
            sigma2: q0 - m0 * m0,
        })
    }

    /// Bulk centre c = 1 + α and half-width w = 2√α of the Marchenko–Pastur law.
    fn bulk(&self) -> (f64, f64) {
        (1.0 + self.alpha, 2.0 * self.alpha.sqrt())
    }

    /// s(θ) = c − w cos θ, written (√α − 1)² + 2w sin²(θ/2) so that it has full relative
    /// accuracy near the lower edge (at α = 1 the edge is s = 0, where c − w cos θ cancels to
    /// exactly 0 for θ < 1e-8 and the Jacobian w² sin²θ/(2π s) would be 0/0).
    fn eigenvalue(&self, th: f64) -> f64 {
        let (_, w) = self.bulk();
        let half = (th / 2.0).sin();
        (self.alpha.sqrt() - 1.0).powi(2) + 2.0 * w * half * half
    }

    /// ρ(s) ds/dθ = w² sin²θ/(2π s), with its limit w/π at s = 0 (θ = 0, α = 1).
    fn jacobian(&self, th: f64) -> f64 {
        let (_, w) = self.bulk();
        let s = self.eigenvalue(th);
        if s > 0.0 {
            w * w * th.sin().powi(2) / (2.0 * std::f64::consts::PI * s)
        } else {
            w / std::f64::consts::PI
        }
    }

    /// Atom (1 − α)⁺ at s = 0.
    fn atom(&self) -> f64 {
        (1.0 - self.alpha).max(0.0)
    }

    /// a(s) = s/(λ + s) (0 at s = 0).
    fn a(&self, s: f64) -> f64 {
        if s == 0.0 { 0.0 } else { s / (self.lambda + s) }
    }

    /// The integrands [m, q, e_tr] at eigenvalue s with decay factor e.
    fn integrands(&self, s: f64, e: f64) -> [f64; 3] {
        let a = self.a(s);
        let u = a + e * (self.m0 - a);
        let r = u - 1.0; // = −λ/(λ+s) + E(m0 − a) for s > 0
        [
            u,
            u * u + self.sigma2 * e * e,
            s * (r * r + self.sigma2 * e * e) / (2.0 * self.alpha),
        ]
    }

    /// ∫ρ g + (1 − α)⁺ g(0) for the three observables, by checked tanh–sinh in θ.
    fn spectral(&self, decay: impl Fn(f64) -> f64) -> Result<[f64; 3], Error> {
        let mut out = [0.0; 3];
        for (i, o) in out.iter_mut().enumerate() {
            let g = |th: f64| {
                let s = self.eigenvalue(th);
                let jac = self.jacobian(th);
                if jac == 0.0 {
                    0.0
                } else {
                    jac * self.integrands(s, decay(s))[i]
                }
            };
            *o = integrate_interval(g, 0.0, std::f64::consts::PI, TOL)
                .map_err(Error::integration("dmft::exact spectral integral"))?;
        }
        let at = self.atom();
        if at > 0.0 {
            let v = self.integrands(0.0, decay(0.0));
            for i in 0..3 {
                out[i] += at * v[i];
            }
        }
        Ok(out)
    }

    fn point(&self, t: f64, v: [f64; 3]) -> Result<ExactPoint, Error> {
        let (m, q, train_loss) = (
            finite("dmft::exact m", v[0])?,
            finite("dmft::exact q", v[1])?,
            finite("dmft::exact train_loss", v[2])?,
        );
        Ok(ExactPoint {
            t,
            m,
            q,
            train_loss,
            gen_error: (1.0 - 2.0 * m + q) / 2.0,
        })
    }

    /// Gradient flow at time t ≥ 0: E = e^{−(λ+s)t}.
    pub fn flow(&self, t: f64) -> Result<ExactPoint, Error> {
        crate::error::in_range("t", t, 0.0, f64::INFINITY, ">= 0 and finite")?;
        let v = self.spectral(|s| (-(self.lambda + s) * t).exp())?;
        self.point(t, v)
    }

    /// Gradient descent with learning rate η after k steps: E = (1 − η(λ + s))^k, t = kη.
    pub fn gd(&self, eta: f64, k: usize) -> Result<ExactPoint, Error> {
        crate::error::positive("eta", eta)?;
        let v = self.spectral(|s| (1.0 - eta * (self.lambda + s)).powi(k as i32))?;
        self.point(k as f64 * eta, v)
    }

    /// m(∞) = 1 − λ G with the Stieltjes transform G = ∫ρ/(λ + s) in closed form (λ > 0).
    pub fn m_infinity(&self) -> Result<f64, Error> {
        let l = crate::error::positive("lambda", self.lambda)?;
        let a = self.alpha;
        let g = (((l + a + 1.0).powi(2) - 4.0 * a).sqrt() - (a - 1.0 + l)) / (2.0 * l);
        Ok(1.0 - l * g)
    }

    /// Gradient flow at increasing `times` by Dopri5 on the per-node linear ODEs
    /// u̇ = −(λ + s) u + s (u(0) = m0), v̇ = −2(λ + s) v (v(0) = σ²); rtol = atol = 1e-12.
    pub fn flow_ode(&self, times: &[f64]) -> Result<Vec<ExactPoint>, Error> {
        let k = ODE_NODES;
        // trapezoid rule in θ on [0, π], half weights at the ends; the end nodes carry zero
        // weight (sin² θ = 0) except θ = 0 at α = 1, where the density ~ 1/√s makes the
        // θ-integrand w/π there
        let mut nodes = Vec::with_capacity(k + 2);
        for j in 0..=k {
            let th = std::f64::consts::PI * j as f64 / k as f64;
            let end = if j == 0 || j == k { 0.5 } else { 1.0 };
            let weight = end * (std::f64::consts::PI / k as f64) * self.jacobian(th);
            if weight > 0.0 {
                nodes.push((self.eigenvalue(th), weight));
            }
        }
        if self.atom() > 0.0 {
            nodes.push((0.0, self.atom()));
        }
        let n = nodes.len();
        let sys = SpectralOde {
            lambda: self.lambda,
            s: nodes.iter().map(|p| p.0).collect(),
        };
        let mut y = DVector::from_fn(2 * n, |i, _| if i < n { self.m0 } else { self.sigma2 });
        let mut t0 = 0.0;
        let mut out = Vec::with_capacity(times.len());
        for &t in times {
            if !(t.is_finite() && t >= t0) {
                return Err(Error::InvalidParameter {
                    name: "times",
                    value: t,
                    bound: "finite, >= 0 and increasing",
                });
            }
            if t > t0 {
                let mut solver = Dopri5::new(sys.clone(), t0, t, t - t0, y.clone(), 1e-12, 1e-12);
                solver.set_output(OutputType::Sparse);
                solver.integrate().map_err(|e| Error::RootFinding {
                    context: "dmft::exact flow_ode (Dopri5)",
                    reason: e.to_string(),
                })?;
                y = solver.y_out().last().cloned().ok_or(Error::Undetermined {
                    context: "dmft::exact flow_ode: no output",
                })?;
                t0 = t;
            }
            let mut v = [0.0; 3];
            for (i, &(s, wt)) in nodes.iter().enumerate() {
                let (u, var) = (y[i], y[n + i]);
                v[0] += wt * u;
                v[1] += wt * (u * u + var);
                v[2] += wt * s * ((u - 1.0).powi(2) + var) / (2.0 * self.alpha);
            }
            out.push(self.point(t, v)?);
        }
        Ok(out)
    }
}

/// u̇_i = −(λ + s_i) u_i + s_i, v̇_i = −2(λ + s_i) v_i.
#[derive(Clone)]
struct SpectralOde {
    lambda: f64,
    s: Vec<f64>,
}

impl System<f64, DVector<f64>> for SpectralOde {
    fn system(&self, _t: f64, y: &DVector<f64>, dy: &mut DVector<f64>) {
        let n = self.s.len();
        for (i, &s) in self.s.iter().enumerate() {
            let r = self.lambda + s;
            dy[i] = -r * y[i] + s;
            dy[n + i] = -2.0 * r * y[n + i];
        }
    }
}
