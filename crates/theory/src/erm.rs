//! Replica / Gordon fixed point of ridge-regularised empirical risk minimisation on the GLM.
//!
//! # Setting
//! X_{μi} ~ N(0, 1/d) i.i.d., n = round(α d), teacher w* ~ N(0, ρ) i.i.d., z = X w*,
//! y_μ ~ P_out(· | z_μ) with binary labels y = ±1 (sign, probit, any [`Channel`] whose
//! [`LabelLaw`] is binary). The student minimises
//!
//! ```text
//!   J(w) = Σ_μ ℓ(y_μ, X_μ·w) + (λ/2) ‖w‖²,       λ ≥ 0,
//! ```
//!
//! with ℓ one of the [`Loss`]es of `gardner_models::loss` (square ½(y−z)², logistic
//! ln(1+e^{−yz}), hinge max(0, 1−yz)). The talk writes λ_t ‖w‖² with ℓ_t = (y−z)² or
//! log₂(1+e^{−yz}); the same minimiser has λ = λ_t (square) and λ = 2 λ_t ln 2 (logistic).
//!
//! # Equations (Aubin, Maillard, Barbier, Krzakala, Macris, Zdeborová 2020, arXiv:2006.06560;
//! Loureiro et al. 2021; Thrampoulidis et al. for the Gordon form)
//! Order parameters m = ŵ·w*/d, q = ŵ·ŵ/d and the response V (the trace of the inverse
//! Hessian per dimension), conjugates m̂, q̂, V̂. The student field of a fresh sample is
//! ω = √q ξ, ξ ~ N(0, 1); given ω the teacher field is z | ω ~ N(ω₀, V₀) with
//! ω₀ = (m/√q) ξ, V₀ = ρ − m²/q, so the label has law Z₀(y, ω₀, V₀) = P(y | ω₀, V₀)
//! (the channel's Z_out). With the proximal operator of V ℓ(y, ·),
//! f(y, ω, V) = (prox(y, ω, V) − ω)/V = −ℓ'(y, prox) and ∂_ω f = (∂_ω prox − 1)/V:
//!
//! ```text
//!   m̂ = α E_ξ Σ_y ∂_ω Z₀(y, ω₀, V₀) f(y, ω, V)
//!   q̂ = α E_ξ Σ_y Z₀(y, ω₀, V₀) f(y, ω, V)²
//!   V̂ = α E_ξ Σ_y Z₀(y, ω₀, V₀) (1 − ∂_ω prox(y, ω, V))/V
//!   m = ρ m̂/(λ + V̂),   q = (ρ m̂² + q̂)/(λ + V̂)²,   V = 1/(λ + V̂)
//! ```
//!
//! (the prior side is the Moreau envelope of the ℓ2 penalty with a Gaussian teacher of
//! variance ρ). At the fixed point the stationarity conditions of J hold in the form
//! λ q = α E[f · prox] and λ m = α E[f · z] (checked in the tests).
//!
//! # Outputs
//! - test classification error against the teacher's noiseless sign: arccos(m/√(ρ q))/π;
//! - test label error P(y_new ≠ sign(X_new·ŵ)) (equal to the former for the sign channel);
//! - training loss (1/n) Σ ℓ(y_μ, X_μ·ŵ) = E[ℓ(y, prox)] (without the penalty);
//! - training error (1/n) #{y_μ X_μ·ŵ < 0} = P(y prox < 0) = P(y ω < y V ℓ'(y, 0));
//! - objective J/d = α E[ℓ(y, prox)] + λ q/2.
//!
//! # Numerics
//! Every expectation is a checked tanh–sinh integral over ξ ([`gardner_models::gauss`]) split
//! at the kinks of the integrand: ξ = 0 (where Z₀ becomes a step as V₀ → 0) and, for the hinge,
//! at y ω = 1 and y ω = 1 − V. No fixed grid: literature.md records that a fixed grid gives a
//! wrong but converged-looking fixed point at small λ. The iteration is damped adaptively and
//! ends in a [`FixedPointStatus`]; non-convergence is a status, invalid input an [`ErmError`].
//!
//! # Limits λ → 0⁺
//! - square loss: the least-norm interpolator for α < 1 (V → ∞) and least squares for α > 1,
//!   in closed form ([`ridge_closed_form`]);
//! - hinge loss on separable data: the max-margin classifier ([`max_margin`]). With V = ν/λ,
//!   m̂ = M/V, q̂ = Q/V², V̂ = W/V and F = y (1 − y ω)₊ the equations become
//!   m = ρ M, q = ρ M² + Q, with M = α E Σ_y ∂Z₀ F, Q = α E Σ_y Z₀ F², and W = α P(y ω < 1)
//!   (the fraction of support vectors times α) must be ≤ 1 (it equals 1 − λV → 1).

use gardner_models::gauss::{IntegrationError, expect_normal_split};
use gardner_models::{Channel, LabelLaw, Loss, LossError};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Errors of the ERM theory: invalid input, or a numerical failure inside an iteration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErmError {
    /// A physics parameter outside its domain: names it, its value and the bound.
    #[error("invalid parameter `{name}` = {value}: must be {bound}")]
    InvalidParameter {
        name: &'static str,
        value: f64,
        bound: &'static str,
    },
    /// The channel does not produce binary labels ±1.
    #[error("the ERM theory needs a channel with binary labels y = ±1 (sign, probit); got {0}")]
    NonBinaryChannel(String),
    /// A loss error (unknown loss name, failed proximal operator).
    #[error(transparent)]
    Loss(#[from] LossError),
    /// A Gaussian expectation failed its accuracy check.
    #[error("integral of {quantity} at (m, q, V) = ({m}, {q}, {v}): {source}")]
    Integration {
        quantity: &'static str,
        m: f64,
        q: f64,
        v: f64,
        source: IntegrationError,
    },
}

/// Convergence status of a fixed-point iteration or a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixedPointStatus {
    /// Relative change below the tolerance.
    Converged,
    /// Iteration budget exhausted.
    MaxIterations,
    /// The iterate left the domain (q ≤ 0, m² ≥ ρ q, V ≤ 0 or non-finite).
    Diverged,
}

impl FixedPointStatus {
    /// `ok`, `not_converged` or `failed: diverged` (the `status` column convention).
    pub fn status(&self) -> &'static str {
        match self {
            FixedPointStatus::Converged => "ok",
            FixedPointStatus::MaxIterations => "not_converged",
            FixedPointStatus::Diverged => "failed: diverged",
        }
    }
}

/// Tuning parameters of the fixed-point iteration (defaults are the production values).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ErmConfig {
    /// Initial damping η of x ← (1 − η) x + η F(x); adapted within [min_damping, 1].
    pub damping: f64,
    /// Smallest damping before the iteration gives up as not converged.
    pub min_damping: f64,
    /// Stop when the largest relative change of (m, q, V) is below this.
    pub tol: f64,
    /// Iteration budget.
    pub max_iter: usize,
    /// Tolerance of each Gaussian expectation (relative to max(1, |value|)).
    pub quad_tol: f64,
}

impl Default for ErmConfig {
    fn default() -> Self {
        Self {
            damping: 0.8,
            min_damping: 1e-3,
            tol: 1e-10,
            max_iter: 5000,
            quad_tol: 1e-11,
        }
    }
}

/// Order parameters and their conjugates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Overlaps {
    pub m: f64,
    pub q: f64,
    pub v: f64,
    pub m_hat: f64,
    pub q_hat: f64,
    pub v_hat: f64,
}

/// A validated ERM problem: sample ratio α, penalty λ, teacher variance ρ, loss, channel.
#[derive(Debug, Clone)]
pub struct ErmProblem<C: Channel> {
    alpha: f64,
    lambda: f64,
    rho: f64,
    loss: Loss,
    channel: C,
}

fn check(name: &'static str, value: f64, ok: bool, bound: &'static str) -> Result<f64, ErmError> {
    if ok && value.is_finite() {
        Ok(value)
    } else {
        Err(ErmError::InvalidParameter { name, value, bound })
    }
}

/// Check that `channel` emits binary labels.
fn check_binary<C: Channel>(channel: &C) -> Result<(), ErmError> {
    match channel.label_law(0.3, 0.5) {
        LabelLaw::Binary { .. } => Ok(()),
        other => Err(ErmError::NonBinaryChannel(format!(
            "{channel:?} with label law {other:?}"
        ))),
    }
}

impl<C: Channel> ErmProblem<C> {
    /// α > 0, λ ≥ 0, ρ > 0 (all finite), channel with binary labels. λ = 0 is accepted for the
    /// square loss (least squares / least-norm interpolation) and the hinge (max margin) only.
    pub fn new(
        alpha: f64,
        lambda: f64,
        rho: f64,
        loss: Loss,
        channel: C,
    ) -> Result<Self, ErmError> {
        check("alpha", alpha, alpha > 0.0, "> 0 and finite")?;
        check("lambda", lambda, lambda >= 0.0, ">= 0 and finite")?;
        check("rho", rho, rho > 0.0, "> 0 and finite")?;
        if lambda == 0.0 && loss == Loss::Logistic {
            return Err(ErmError::InvalidParameter {
                name: "lambda",
                value: lambda,
                bound: "> 0 for the logistic loss (its minimiser diverges on separable data)",
            });
        }
        check_binary(&channel)?;
        Ok(Self {
            alpha,
            lambda,
            rho,
            loss,
            channel,
        })
    }
    /// Same problem with the loss given by name (`square`, `logistic`, `hinge`).
    pub fn with_loss_name(
        alpha: f64,
        lambda: f64,
        rho: f64,
        loss: &str,
        channel: C,
    ) -> Result<Self, ErmError> {
        Self::new(alpha, lambda, rho, loss.parse()?, channel)
    }
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    pub fn lambda(&self) -> f64 {
        self.lambda
    }
    pub fn rho(&self) -> f64 {
        self.rho
    }
    pub fn loss(&self) -> Loss {
        self.loss
    }
    pub fn channel(&self) -> &C {
        &self.channel
    }
    /// The same problem at another λ (validated).
    pub fn at_lambda(&self, lambda: f64) -> Result<Self, ErmError>
    where
        C: Clone,
    {
        Self::new(
            self.alpha,
            lambda,
            self.rho,
            self.loss,
            self.channel.clone(),
        )
    }
}

/// The fixed point and what it predicts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ErmPoint {
    pub alpha: f64,
    pub lambda: f64,
    pub overlaps: Overlaps,
    /// arccos(m/√(ρ q))/π: disagreement with the teacher's noiseless sign on a fresh input.
    pub test_error: f64,
    /// P(y_new ≠ sign(X_new·ŵ)) with y_new drawn from the channel.
    pub test_label_error: f64,
    /// (1/n) Σ_μ ℓ(y_μ, X_μ·ŵ), without the penalty.
    pub train_loss: f64,
    /// Fraction of misclassified training samples.
    pub train_error: f64,
    /// J/d = α · train_loss + λ q/2.
    pub objective_per_d: f64,
    /// Iterations used.
    pub iterations: usize,
    /// Convergence status.
    pub status: FixedPointStatus,
}

/// arccos(m/√(ρ q))/π, the classification error of a student with overlaps (m, q).
pub fn classification_error(m: f64, q: f64, rho: f64) -> f64 {
    (m / (rho * q).sqrt()).clamp(-1.0, 1.0).acos() / PI
}

/// Breakpoints of the ξ integrals farther out than this are ignored (see `kinks`).
const KINK_RANGE: f64 = 10.0;

/// Internal: the teacher-side weights at one ξ for both labels.
struct Teacher {
    /// (y, Z₀(y), ∂_ω Z₀(y), E[z | ω, y]) for y = −1, +1.
    rows: [(f64, f64, f64, f64); 2],
}

impl<C: Channel> ErmProblem<C> {
    fn teacher(&self, xi: f64, m: f64, q: f64) -> Teacher {
        let w0 = m / q.sqrt() * xi;
        let v0 = (self.rho - m * m / q).max(0.0);
        let row = |y: f64| {
            let z0 = self.channel.log_z(y, w0, v0).exp();
            let (g, _) = self.channel.g_out(y, w0, v0);
            let dz = if z0 > 0.0 { z0 * g } else { 0.0 };
            (y, z0, dz, w0 + v0 * g)
        };
        Teacher {
            rows: [row(-1.0), row(1.0)],
        }
    }

    /// Sorted integration breakpoints in ξ for the current (q, V): 0 and the loss's kinks
    /// (plus any `extra` fields ω).
    fn kinks(&self, q: f64, v: f64, extra: &[f64]) -> Vec<f64> {
        let s = q.sqrt();
        let mut k = vec![0.0];
        for y in [-1.0, 1.0] {
            k.extend(self.loss.prox_kinks(y, v).into_iter().map(|w| w / s));
        }
        k.extend(extra.iter().map(|w| w / s));
        // A breakpoint beyond |ξ| = KINK_RANGE carries Gaussian weight < 1e-22 and would only
        // create a long finite interval, which tanh–sinh resolves badly: drop it.
        k.retain(|x| x.is_finite() && x.abs() < KINK_RANGE);
        k.sort_by(f64::total_cmp);
        k.dedup();
        k
    }

    /// E_ξ Σ_y [weight(y) · g(y, ω, prox, ∂prox)] where weight is chosen by `which`.
    fn expect(
        &self,
        quantity: &'static str,
        (m, q, v): (f64, f64, f64),
        kinks: &[f64],
        tol: f64,
        g: impl Fn(&(f64, f64, f64, f64), f64, f64, f64) -> Result<f64, LossError>,
    ) -> Result<f64, ErmError> {
        let s = q.sqrt();
        let err = std::cell::RefCell::new(None::<LossError>);
        let r = expect_normal_split(
            |xi| {
                let t = self.teacher(xi, m, q);
                let w = s * xi;
                let mut acc = 0.0;
                for row in &t.rows {
                    match g(row, w, m, v) {
                        Ok(x) => acc += x,
                        Err(e) => {
                            err.borrow_mut().get_or_insert(e);
                            return f64::NAN;
                        }
                    }
                }
                acc
            },
            kinks,
            tol,
        );
        if let Some(e) = err.into_inner() {
            return Err(e.into());
        }
        r.map_err(|source| ErmError::Integration {
            quantity,
            m,
            q,
            v,
            source,
        })
    }

    /// (m̂, q̂, V̂) at (m, q, V).
    pub fn conjugates(
        &self,
        m: f64,
        q: f64,
        v: f64,
        tol: f64,
    ) -> Result<(f64, f64, f64), ErmError> {
        let loss = self.loss;
        let k = self.kinks(q, v, &[]);
        let mq = (m, q, v);
        let f = |y: f64, w: f64| -> Result<(f64, f64), LossError> {
            let (x, dx) = loss.prox_and_derivative(y, w, v)?;
            Ok(((x - w) / v, dx))
        };
        let mh = self.expect("m_hat", mq, &k, tol, |&(y, _, dz, _), w, _, _| {
            Ok(dz * f(y, w)?.0)
        })?;
        let qh = self.expect("q_hat", mq, &k, tol, |&(y, z0, _, _), w, _, _| {
            let a = f(y, w)?.0;
            Ok(z0 * a * a)
        })?;
        let vh = self.expect("v_hat", mq, &k, tol, |&(y, z0, _, _), w, _, _| {
            Ok(z0 * (1.0 - f(y, w)?.1) / v)
        })?;
        Ok((self.alpha * mh, self.alpha * qh, self.alpha * vh))
    }

    /// Observables at a fixed point (m, q, V).
    fn observables(
        &self,
        ov: Overlaps,
        iterations: usize,
        status: FixedPointStatus,
        tol: f64,
    ) -> Result<ErmPoint, ErmError> {
        let (m, q, v) = (ov.m, ov.q, ov.v);
        let loss = self.loss;
        let zero = [
            loss.prox_zero_crossing(-1.0, v),
            loss.prox_zero_crossing(1.0, v),
        ];
        let k = self.kinks(q, v, &zero);
        let train_loss = self.expect(
            "train_loss",
            (m, q, v),
            &k,
            tol,
            |&(y, z0, _, _), w, _, _| {
                Ok(if z0 > 0.0 {
                    z0 * loss.value(y, loss.prox(y, w, v)?)
                } else {
                    0.0
                })
            },
        )?;
        let train_error = self.expect(
            "train_error",
            (m, q, v),
            &k,
            tol,
            |&(y, z0, _, _), w, _, _| {
                Ok(if y * w < y * loss.prox_zero_crossing(y, v) {
                    z0
                } else {
                    0.0
                })
            },
        )?;
        let label_err = self.expect(
            "test_label_error",
            (m, q, v),
            &[0.0],
            tol,
            |&(y, z0, _, _), w, _, _| Ok(if y * w < 0.0 { z0 } else { 0.0 }),
        )?;
        Ok(ErmPoint {
            alpha: self.alpha,
            lambda: self.lambda,
            overlaps: ov,
            test_error: classification_error(m, q, self.rho),
            test_label_error: label_err,
            train_loss,
            train_error,
            objective_per_d: self.alpha * train_loss + 0.5 * self.lambda * q,
            iterations,
            status,
        })
    }

    /// Stationarity residuals (λ q − α E[f·prox], λ m − α E[f·z]) at (m, q, V); both vanish
    /// at the fixed point. Exposed for tests and diagnostics.
    pub fn stationarity_residuals(&self, ov: &Overlaps, tol: f64) -> Result<(f64, f64), ErmError> {
        let (m, q, v) = (ov.m, ov.q, ov.v);
        let loss = self.loss;
        let k = self.kinks(q, v, &[]);
        let fp = self.expect(
            "E[f prox]",
            (m, q, v),
            &k,
            tol,
            |&(y, z0, _, _), w, _, _| {
                let x = loss.prox(y, w, v)?;
                Ok(z0 * (x - w) / v * x)
            },
        )?;
        let fz = self.expect("E[f z]", (m, q, v), &k, tol, |&(y, z0, _, ez), w, _, _| {
            let x = loss.prox(y, w, v)?;
            Ok(z0 * (x - w) / v * ez)
        })?;
        Ok((
            self.lambda * q - self.alpha * fp,
            self.lambda * m - self.alpha * fz,
        ))
    }
}

/// Solve the fixed point from a default start (m, q, V) = (0.1, 0.5, 1/(λ + 1)).
pub fn solve<C: Channel>(p: &ErmProblem<C>, config: &ErmConfig) -> Result<ErmPoint, ErmError> {
    solve_from(p, config, None)
}

/// Solve the fixed point from `init` (warm start) or the default start.
///
/// λ = 0 is routed to the closed-form least-squares / least-norm solution (square loss) or
/// to [`max_margin`] (hinge).
pub fn solve_from<C: Channel>(
    p: &ErmProblem<C>,
    config: &ErmConfig,
    init: Option<Overlaps>,
) -> Result<ErmPoint, ErmError> {
    if p.lambda == 0.0 {
        return match p.loss {
            Loss::Square => ridge_closed_form(p, config),
            Loss::Hinge => max_margin(p, config),
            Loss::Logistic => unreachable!("rejected by ErmProblem::new"),
        };
    }
    let (m0, q0, v0) = match init {
        Some(o) if o.q > 0.0 && o.v > 0.0 && o.v.is_finite() && o.m * o.m < p.rho * o.q => {
            (o.m, o.q, o.v)
        }
        _ => (0.1 * p.rho.sqrt(), 0.5, 1.0 / (p.lambda + 1.0)),
    };
    let (lam, rho) = (p.lambda, p.rho);
    // Variables x = (c, ln q, ln V), c = m/√(ρ q) ∈ (−1, 1): scale-free across the
    // decades that q and V span between λ = 1e-4 and 1e2.
    let to_ov = |x: &[f64; 3]| {
        let q = x[1].exp();
        (x[0] * (rho * q).sqrt(), q, x[2].exp())
    };
    let hats = std::cell::Cell::new((f64::NAN, f64::NAN, f64::NAN));
    let map = |x: &[f64; 3]| -> Result<[f64; 3], ErmError> {
        let (m, q, v) = to_ov(x);
        let h = p.conjugates(m, q, v, config.quad_tol)?;
        hats.set(h);
        let (mh, qh, vh) = h;
        let den = lam + vh;
        let (mn, qn, vn) = (
            rho * mh / den,
            (rho * mh * mh + qh) / (den * den),
            1.0 / den,
        );
        Ok([mn / (rho * qn).sqrt(), qn.ln(), vn.ln()])
    };
    let x0 = [m0 / (rho * q0).sqrt(), q0.ln(), v0.ln()];
    let (x, iterations, status) = anderson(
        x0,
        map,
        |x| x[0].abs() < 1.0 && x.iter().all(|v| v.is_finite()),
        config,
    )?;
    let (m, q, v) = to_ov(&x);
    let (mh, qh, vh) = hats.get();
    let ov = Overlaps {
        m,
        q,
        v,
        m_hat: mh,
        q_hat: qh,
        v_hat: vh,
    };
    match status {
        FixedPointStatus::Diverged => Ok(diverged(p, ov, iterations)),
        s => p.observables(ov, iterations, s, config.quad_tol),
    }
}

/// Anderson-accelerated fixed-point iteration x = F(x) (memory 3, mixing β = damping).
///
/// Converged when ‖F(x) − x‖_∞ < tol; returns F(x) at that point. A candidate outside the
/// domain (`valid` false) falls back to a damped step with a smaller β and a fresh history;
/// a β below `min_damping`, a non-finite F or an invalid F(x) is `Diverged`.
fn anderson<const K: usize>(
    x0: [f64; K],
    mut f: impl FnMut(&[f64; K]) -> Result<[f64; K], ErmError>,
    valid: impl Fn(&[f64; K]) -> bool,
    config: &ErmConfig,
) -> Result<([f64; K], usize, FixedPointStatus), ErmError> {
    const MEM: usize = 3;
    const STEP_MAX: f64 = 0.5;
    let mut x = x0;
    let mut beta = config.damping;
    let mut hist: Vec<([f64; K], [f64; K])> = Vec::new(); // (x_k, r_k)
    let mut best = f64::INFINITY;
    for it in 1..=config.max_iter {
        let fx = f(&x)?;
        if !valid(&fx) {
            return Ok((x, it, FixedPointStatus::Diverged));
        }
        let r: [f64; K] = std::array::from_fn(|i| fx[i] - x[i]);
        let rn = r.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        if rn < config.tol {
            return Ok((fx, it, FixedPointStatus::Converged));
        }
        // Restart the history when an extrapolation made things much worse.
        if rn > 1e2 * best {
            hist.clear();
        }
        best = best.min(rn);
        hist.push((x, r));
        if hist.len() > MEM + 1 {
            hist.remove(0);
        }
        // Anderson step: γ = argmin ‖r − ΔR γ‖ (ridge-stabilised normal equations).
        let j = hist.len() - 1;
        // Plain damped step, capped at STEP_MAX per coordinate.
        let cap = (STEP_MAX / (beta * rn)).min(1.0);
        let mut cand = std::array::from_fn(|i| x[i] + cap * beta * r[i]);
        if j >= 1 {
            let dr: Vec<[f64; K]> = (0..j)
                .map(|a| std::array::from_fn(|i| hist[a + 1].1[i] - hist[a].1[i]))
                .collect();
            let dx: Vec<[f64; K]> = (0..j)
                .map(|a| std::array::from_fn(|i| hist[a + 1].0[i] - hist[a].0[i]))
                .collect();
            let mut a = vec![vec![0.0; j]; j];
            let mut b = vec![0.0; j];
            for u in 0..j {
                for w in 0..j {
                    a[u][w] = (0..K).map(|i| dr[u][i] * dr[w][i]).sum();
                }
                b[u] = (0..K).map(|i| dr[u][i] * r[i]).sum();
            }
            let scale = (0..j).map(|u| a[u][u]).fold(0.0f64, f64::max);
            for (u, row) in a.iter_mut().enumerate() {
                row[u] += 1e-10 * scale + f64::MIN_POSITIVE;
            }
            if let Some(g) = solve_small(a, b) {
                let c: [f64; K] = std::array::from_fn(|i| {
                    x[i] + beta * r[i]
                        - (0..j)
                            .map(|u| g[u] * (dx[u][i] + beta * dr[u][i]))
                            .sum::<f64>()
                });
                // Accept the extrapolation only within a trust region of STEP_MAX per coordinate.
                let step = (0..K).fold(0.0f64, |a, i| a.max((c[i] - x[i]).abs()));
                if valid(&c) && step <= STEP_MAX {
                    cand = c;
                }
            }
        }
        while !valid(&cand) {
            hist.clear();
            beta *= 0.5;
            if beta < config.min_damping {
                return Ok((x, it, FixedPointStatus::Diverged));
            }
            cand = std::array::from_fn(|i| x[i] + beta * r[i]);
        }
        x = cand;
    }
    Ok((x, config.max_iter, FixedPointStatus::MaxIterations))
}

/// Gaussian elimination with partial pivoting for the tiny Anderson systems.
fn solve_small(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &k| a[i][c].abs().total_cmp(&a[k][c].abs()))?;
        if a[p][c] == 0.0 || !a[p][c].is_finite() {
            return None;
        }
        a.swap(c, p);
        b.swap(c, p);
        for r in c + 1..n {
            let f = a[r][c] / a[c][c];
            for k in c..n {
                a[r][k] -= f * a[c][k];
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for c in (0..n).rev() {
        x[c] = (b[c] - (c + 1..n).map(|k| a[c][k] * x[k]).sum::<f64>()) / a[c][c];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

fn diverged<C: Channel>(p: &ErmProblem<C>, ov: Overlaps, it: usize) -> ErmPoint {
    ErmPoint {
        alpha: p.alpha,
        lambda: p.lambda,
        overlaps: ov,
        test_error: f64::NAN,
        test_label_error: f64::NAN,
        train_loss: f64::NAN,
        train_error: f64::NAN,
        objective_per_d: f64::NAN,
        iterations: it,
        status: FixedPointStatus::Diverged,
    }
}

/// E[y z]/ρ for the channel, by a split Gaussian integral: with ω ~ N(0, ρ/2) and
/// z | ω ~ N(ω, ρ/2), E[y z] = E_ω Σ_y y Z₀(y, ω, ρ/2) (ω + (ρ/2) g_out(y, ω, ρ/2)).
pub fn label_slope<C: Channel>(channel: &C, rho: f64, tol: f64) -> Result<f64, ErmError> {
    check_binary(channel)?;
    let h = 0.5 * rho;
    let s = h.sqrt();
    let r = expect_normal_split(
        |u| {
            let w = s * u;
            [-1.0, 1.0]
                .iter()
                .map(|&y| {
                    let z0 = channel.log_z(y, w, h).exp();
                    let g = channel.g_out(y, w, h).0;
                    y * z0 * (w + h * g)
                })
                .sum()
        },
        &[0.0],
        tol,
    )
    .map_err(|source| ErmError::Integration {
        quantity: "E[y z]",
        m: f64::NAN,
        q: f64::NAN,
        v: f64::NAN,
        source,
    })?;
    Ok(r / rho)
}

/// Ridge (square loss) in closed form, any λ ≥ 0.
///
/// Only a = E[y z]/ρ and E y² = 1 enter. With κ = α V²/(1+V)²:
/// V solves λ V² + (λ + α − 1) V − 1 = 0 (the Marchenko–Pastur Stieltjes transform),
/// m̂ = α a/(1+V), V̂ = α/(1+V), m = α a ρ V/(1+V), q (1 − κ) = κ (α a² ρ + 1 − 2 a m),
/// q̂ = α (1 − 2 a m + q)/(1+V)², training loss ½ (1 − 2 a m + q)/(1+V)².
/// λ → 0: α > 1 least squares (V = 1/(α − 1)); α < 1 the least-norm interpolator
/// (V → ∞: m = α a ρ, q = α (1 − α a² ρ)/(1 − α), training loss 0); α = 1 diverges (error).
/// The training error needs one integral (P(y ω < −V)), done with the checked quadrature.
pub fn ridge_closed_form<C: Channel>(
    p: &ErmProblem<C>,
    config: &ErmConfig,
) -> Result<ErmPoint, ErmError> {
    let (alpha, lam, rho) = (p.alpha, p.lambda, p.rho);
    let a = label_slope(&p.channel, rho, config.quad_tol)?;
    let interpolator = lam == 0.0 && alpha < 1.0;
    let (m, q, v, vfrac) = if interpolator {
        let m = alpha * a * rho;
        (
            m,
            alpha * (1.0 - alpha * a * a * rho) / (1.0 - alpha),
            f64::INFINITY,
            1.0,
        )
    } else {
        let v = if lam == 0.0 {
            if alpha <= 1.0 {
                return Err(ErmError::InvalidParameter {
                    name: "alpha",
                    value: alpha,
                    bound: "!= 1 for least squares at lambda = 0 (the estimator diverges)",
                });
            }
            1.0 / (alpha - 1.0)
        } else {
            let b = lam + alpha - 1.0;
            // stable root of λ V² + b V − 1 = 0
            2.0 / (b + (b * b + 4.0 * lam).sqrt())
        };
        let vf = v / (1.0 + v);
        let m = alpha * a * rho * vf;
        let kappa = alpha * vf * vf;
        (
            m,
            kappa * (alpha * a * a * rho + 1.0 - 2.0 * a * m) / (1.0 - kappa),
            v,
            vf,
        )
    };
    let one_over = 1.0 - vfrac; // 1/(1+V)
    let m_hat = alpha * a * one_over;
    let v_hat = alpha * one_over;
    let resid = 1.0 - 2.0 * a * m + q; // E (y − ω)²
    let q_hat = alpha * resid * one_over * one_over;
    let train_loss = 0.5 * resid * one_over * one_over;
    let train_error = if interpolator {
        0.0
    } else {
        let s = q.sqrt();
        // P(y ω < −V): y ω < −V ⟺ ξ on one side of −y V/√q
        let kinks = {
            let mut k = vec![-v / s, 0.0, v / s];
            k.retain(|x| x.abs() < KINK_RANGE);
            k.sort_by(f64::total_cmp);
            k
        };
        let t = Teacher0 {
            channel: &p.channel,
            m,
            q,
            rho,
        };
        expect_normal_split(
            |xi| {
                let w = s * xi;
                [-1.0, 1.0]
                    .iter()
                    .map(|&y| if y * w < -v { t.z0(y, xi) } else { 0.0 })
                    .sum()
            },
            &kinks,
            config.quad_tol,
        )
        .map_err(|source| ErmError::Integration {
            quantity: "train_error",
            m,
            q,
            v,
            source,
        })?
    };
    let label_err = {
        let t = Teacher0 {
            channel: &p.channel,
            m,
            q,
            rho,
        };
        let s = q.sqrt();
        expect_normal_split(
            |xi| {
                [-1.0, 1.0]
                    .iter()
                    .map(|&y| if y * s * xi < 0.0 { t.z0(y, xi) } else { 0.0 })
                    .sum()
            },
            &[0.0],
            config.quad_tol,
        )
        .map_err(|source| ErmError::Integration {
            quantity: "test_label_error",
            m,
            q,
            v,
            source,
        })?
    };
    Ok(ErmPoint {
        alpha,
        lambda: lam,
        overlaps: Overlaps {
            m,
            q,
            v,
            m_hat,
            q_hat,
            v_hat,
        },
        test_error: classification_error(m, q, rho),
        test_label_error: label_err,
        train_loss,
        train_error,
        objective_per_d: alpha * train_loss + 0.5 * lam * q,
        iterations: 0,
        status: FixedPointStatus::Converged,
    })
}

/// Z₀(y, (m/√q) ξ, ρ − m²/q) for closed forms.
struct Teacher0<'a, C: Channel> {
    channel: &'a C,
    m: f64,
    q: f64,
    rho: f64,
}

impl<C: Channel> Teacher0<'_, C> {
    fn z0(&self, y: f64, xi: f64) -> f64 {
        let w0 = self.m / self.q.sqrt() * xi;
        let v0 = (self.rho - self.m * self.m / self.q).max(0.0);
        self.channel.log_z(y, w0, v0).exp()
    }
}

/// The max-margin classifier: the hinge-loss minimiser as λ → 0⁺ on separable data.
///
/// Iterates m = ρ M, q = ρ M² + Q (module docs) with adaptive damping. The overlaps reported
/// have V = ∞ (`v = f64::INFINITY`) and rescaled conjugates (m̂, q̂, V̂) := (M, Q, W); W =
/// α P(y ω < 1) must not exceed 1, otherwise the data are not separable at this α and the
/// point is reported as `Diverged`.
pub fn max_margin<C: Channel>(p: &ErmProblem<C>, config: &ErmConfig) -> Result<ErmPoint, ErmError> {
    let (alpha, rho) = (p.alpha, p.rho);
    let tol = config.quad_tol;
    // In c = m/√(ρ q) and the margin κ = 1/√q of the unit-norm student, with
    // ω₀ = c √ρ ξ, V₀ = ρ (1 − c²), A = E Σ_y ∂Z₀ y (κ − y ξ)₊, B = E Σ_y Z₀ (κ − y ξ)₊²:
    //   c = √ρ α A(c, κ),   1 − c² = α B(c, κ)
    // (m = ρ M and q = ρ M² + Q divided by √q and q). κ(c) from the second equation (B is
    // increasing in κ), then c from the first: two nested bracketed Brent solves.
    let expect_ck = |quantity: &'static str,
                     c: f64,
                     kappa: f64,
                     g: &dyn Fn(f64, f64, f64, f64) -> f64|
     -> Result<f64, ErmError> {
        let (w0s, v0) = (c * rho.sqrt(), rho * (1.0 - c * c));
        expect_normal_split(
            |xi| {
                let w0 = w0s * xi;
                [-1.0, 1.0]
                    .iter()
                    .map(|&y| {
                        let z0 = p.channel.log_z(y, w0, v0).exp();
                        let dz = if z0 > 0.0 {
                            z0 * p.channel.g_out(y, w0, v0).0
                        } else {
                            0.0
                        };
                        g(y, z0, dz, xi)
                    })
                    .sum()
            },
            &if kappa.abs() < KINK_RANGE {
                vec![-kappa.abs(), 0.0, kappa.abs()]
            } else {
                vec![0.0]
            },
            tol,
        )
        .map_err(|source| ErmError::Integration {
            quantity,
            m: c,
            q: kappa,
            v: f64::INFINITY,
            source,
        })
    };
    let b_of = |c: f64, kappa: f64| {
        expect_ck("B", c, kappa, &|y, z0, _, xi| {
            z0 * (kappa - y * xi).max(0.0).powi(2)
        })
    };
    let a_of = |c: f64, kappa: f64| {
        expect_ck("A", c, kappa, &|y, _, dz, xi| {
            dz * y * (kappa - y * xi).max(0.0)
        })
    };
    let not_separable = std::cell::Cell::new(false);
    let first_err = std::cell::RefCell::new(None::<ErmError>);
    let kappa_of = |c: f64| -> Option<f64> {
        let target = (1.0 - c * c) / alpha;
        let h = |k: f64| b_of(c, k).map(|b| b - target);
        let run = || -> Result<Option<f64>, ErmError> {
            // κ may come out negative for c above the solution (no separating student with
            // that cosine): bracket on the whole line; separability is checked at the end.
            let (mut lo, mut hi) = (0.0, 1.0);
            while h(lo)? >= 0.0 {
                lo = 2.0 * lo - 1.0;
                if lo < -1e3 {
                    return Ok(None);
                }
            }
            while h(hi)? < 0.0 {
                hi *= 2.0;
                if hi > 1e6 {
                    return Ok(None);
                }
            }
            let mut err = None;
            let r = roots::find_root_brent(
                lo,
                hi,
                |k: f64| match h(k) {
                    Ok(v) => v,
                    Err(e) => {
                        err.get_or_insert(e);
                        f64::NAN
                    }
                },
                &mut roots::SimpleConvergency {
                    eps: 1e-14,
                    max_iter: 200,
                },
            );
            if let Some(e) = err {
                return Err(e);
            }
            Ok(r.ok())
        };
        match run() {
            Ok(None) => {
                not_separable.set(true);
                None
            }
            Ok(k) => k,
            Err(e) => {
                first_err.borrow_mut().get_or_insert(e);
                None
            }
        }
    };
    let outer = |c: f64| -> f64 {
        match kappa_of(c) {
            Some(k) => match a_of(c, k) {
                Ok(a) => c - rho.sqrt() * alpha * a,
                Err(e) => {
                    first_err.borrow_mut().get_or_insert(e);
                    f64::NAN
                }
            },
            None => f64::NAN,
        }
    };
    let (c_lo, c_hi) = (1e-9, 1.0 - 1e-12);
    let (g_lo, g_hi) = (outer(c_lo), outer(c_hi));
    if let Some(e) = first_err.borrow_mut().take() {
        return Err(e);
    }
    let mut status = FixedPointStatus::Converged;
    let c = if !(g_lo < 0.0 && g_hi > 0.0) {
        status = FixedPointStatus::Diverged;
        f64::NAN
    } else {
        match roots::find_root_brent(
            c_lo,
            c_hi,
            outer,
            &mut roots::SimpleConvergency {
                eps: 1e-13,
                max_iter: 200,
            },
        ) {
            Ok(c) => c,
            Err(_) => {
                status = FixedPointStatus::MaxIterations;
                f64::NAN
            }
        }
    };
    if let Some(e) = first_err.borrow_mut().take() {
        return Err(e);
    }
    not_separable.set(false);
    let iterations = 0;
    let (m, q, hats) = if c.is_finite() {
        let kappa = kappa_of(c).unwrap_or(f64::NAN);
        if !(kappa > 0.0) {
            not_separable.set(true);
        }
        let q = 1.0 / (kappa * kappa);
        let m = c * (rho * q).sqrt();
        let big_m = m / rho;
        let w = expect_ck("W", c, kappa, &|y, z0, _, xi| {
            if y * xi < kappa { z0 } else { 0.0 }
        })?;
        (m, q, (big_m, q - rho * big_m * big_m, alpha * w))
    } else {
        (f64::NAN, f64::NAN, (f64::NAN, f64::NAN, f64::NAN))
    };
    if not_separable.get() || (status == FixedPointStatus::Converged && !(hats.2 <= 1.0 + 1e-9)) {
        status = FixedPointStatus::Diverged; // not separable: κ ≤ 0 or W > 1
    }
    let ov = Overlaps {
        m,
        q,
        v: f64::INFINITY,
        m_hat: hats.0,
        q_hat: hats.1,
        v_hat: hats.2,
    };
    if status == FixedPointStatus::Diverged {
        return Ok(ErmPoint {
            overlaps: ov,
            ..diverged(p, ov, iterations)
        });
    }
    let t = Teacher0 {
        channel: &p.channel,
        m,
        q,
        rho,
    };
    let s = q.sqrt();
    let label_err = expect_normal_split(
        |xi| {
            [-1.0, 1.0]
                .iter()
                .map(|&y| if y * s * xi < 0.0 { t.z0(y, xi) } else { 0.0 })
                .sum()
        },
        &[0.0],
        tol,
    )
    .map_err(|source| ErmError::Integration {
        quantity: "test_label_error",
        m,
        q,
        v: f64::INFINITY,
        source,
    })?;
    Ok(ErmPoint {
        alpha,
        lambda: 0.0,
        overlaps: ov,
        test_error: classification_error(m, q, rho),
        test_label_error: label_err,
        train_loss: 0.0,
        train_error: 0.0,
        objective_per_d: 0.0,
        iterations,
        status,
    })
}

/// Bracket and tolerance of the optimal-λ search.
///
/// The default bracket is the issue's [1e-4, 1e2]. The classification-optimal logistic λ of
/// the noiseless perceptron falls below 1e-4 at large α (≈ 4.5e-5 at α = 50), where the
/// result reports `at_bound = true`; fig2 searches down to 1e-6.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LambdaSearch {
    /// Smallest λ searched.
    pub lambda_min: f64,
    /// Largest λ searched.
    pub lambda_max: f64,
    /// Points of the coarse log-spaced scan that brackets the minimum.
    pub grid: usize,
    /// Absolute tolerance on ln λ of the Brent minimisation.
    pub log_tol: f64,
}

impl Default for LambdaSearch {
    fn default() -> Self {
        Self {
            lambda_min: 1e-4,
            lambda_max: 1e2,
            grid: 9,
            log_tol: 2e-3,
        }
    }
}

/// Result of the optimal-λ search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OptimalLambda {
    /// argmin_λ of the test classification error.
    pub lambda: f64,
    /// The fixed point at that λ.
    pub point: ErmPoint,
    /// Fixed points solved.
    pub evaluations: usize,
    /// The minimum sits at an end of [λ_min, λ_max]: the optimum may lie outside.
    pub at_bound: bool,
    /// Converged if every fixed point used converged, else the worst status met.
    pub status: FixedPointStatus,
}

/// The λ minimising the test classification error: a coarse log-spaced scan from λ_max down
/// (warm-started) finds the bracketing triple, then Brent's parabolic/golden-section
/// minimisation in ln λ refines it to `log_tol`. A non-converged fixed point anywhere marks
/// the result's status.
pub fn optimal_lambda<C: Channel + Clone>(
    p: &ErmProblem<C>,
    config: &ErmConfig,
    search: &LambdaSearch,
) -> Result<OptimalLambda, ErmError> {
    check(
        "lambda_min",
        search.lambda_min,
        search.lambda_min > 0.0,
        "> 0 and finite",
    )?;
    check(
        "lambda_max",
        search.lambda_max,
        search.lambda_max > search.lambda_min,
        "> lambda_min and finite",
    )?;
    if search.grid < 3 {
        return Err(ErmError::InvalidParameter {
            name: "grid",
            value: search.grid as f64,
            bound: ">= 3",
        });
    }
    let (l0, l1) = (search.lambda_min.ln(), search.lambda_max.ln());
    let n = search.grid;
    let mut evals = 0usize;
    let mut worst = FixedPointStatus::Converged;
    let mut note = |s: FixedPointStatus| {
        if s != FixedPointStatus::Converged && worst == FixedPointStatus::Converged
            || s == FixedPointStatus::Diverged
        {
            worst = s;
        }
    };
    let mut pts: Vec<(f64, ErmPoint)> = Vec::with_capacity(n);
    let mut warm: Option<Overlaps> = None;
    for i in (0..n).rev() {
        let t = l0 + (l1 - l0) * i as f64 / (n - 1) as f64;
        let pt = solve_from(&p.at_lambda(t.exp())?, config, warm)?;
        evals += 1;
        note(pt.status);
        if pt.status != FixedPointStatus::Diverged {
            warm = Some(pt.overlaps);
        }
        pts.push((t, pt));
    }
    pts.reverse();
    let err = |pt: &ErmPoint| {
        if pt.test_error.is_finite() {
            pt.test_error
        } else {
            f64::INFINITY
        }
    };
    let ibest = (0..n)
        .min_by(|&a, &b| err(&pts[a].1).total_cmp(&err(&pts[b].1)))
        .unwrap();
    if ibest == 0 || ibest == n - 1 {
        let (t, pt) = pts[ibest];
        return Ok(OptimalLambda {
            lambda: t.exp(),
            point: pt,
            evaluations: evals,
            at_bound: true,
            status: worst,
        });
    }
    // Brent minimisation on [t_{i−1}, t_{i+1}] starting from the grid minimum.
    let (mut a, mut b) = (pts[ibest - 1].0, pts[ibest + 1].0);
    let mut best = pts[ibest];
    let mut warm = best.1.overlaps;
    let eval = |t: f64, warm: &mut Overlaps| -> Result<(f64, ErmPoint), ErmError> {
        let pt = solve_from(&p.at_lambda(t.exp())?, config, Some(*warm))?;
        if pt.status != FixedPointStatus::Diverged {
            *warm = pt.overlaps;
        }
        Ok((err(&pt), pt))
    };
    const CGOLD: f64 = 0.381_966_011_250_105_1;
    let (mut x, mut w, mut v) = (best.0, best.0, best.0);
    let (mut fx, mut fw, mut fv) = (err(&best.1), err(&best.1), err(&best.1));
    let (mut d, mut e) = (0.0f64, 0.0f64);
    for _ in 0..100 {
        let xm = 0.5 * (a + b);
        let tol1 = search.log_tol / 2.0;
        let tol2 = 2.0 * tol1;
        if (x - xm).abs() <= tol2 - 0.5 * (b - a) {
            break;
        }
        let mut golden = true;
        if e.abs() > tol1 {
            let r = (x - w) * (fx - fv);
            let mut qq = (x - v) * (fx - fw);
            let mut pp = (x - v) * qq - (x - w) * r;
            qq = 2.0 * (qq - r);
            if qq > 0.0 {
                pp = -pp;
            }
            qq = qq.abs();
            let etemp = e;
            if pp.abs() < (0.5 * qq * etemp).abs() && pp > qq * (a - x) && pp < qq * (b - x) {
                e = d;
                d = pp / qq;
                let u = x + d;
                if u - a < tol2 || b - u < tol2 {
                    d = tol1.copysign(xm - x);
                }
                golden = false;
            }
        }
        if golden {
            e = if x >= xm { a - x } else { b - x };
            d = CGOLD * e;
        }
        let u = if d.abs() >= tol1 {
            x + d
        } else {
            x + tol1.copysign(d)
        };
        let (fu, pu) = eval(u, &mut warm)?;
        evals += 1;
        note(pu.status);
        if fu <= fx {
            if u >= x {
                a = x;
            } else {
                b = x;
            }
            (v, fv) = (w, fw);
            (w, fw) = (x, fx);
            (x, fx) = (u, fu);
            best = (u, pu);
        } else {
            if u < x {
                a = u;
            } else {
                b = u;
            }
            if fu <= fw || w == x {
                (v, fv) = (w, fw);
                (w, fw) = (u, fu);
            } else if fu <= fv || v == x || v == w {
                (v, fv) = (u, fu);
            }
        }
    }
    Ok(OptimalLambda {
        lambda: best.0.exp(),
        point: best.1,
        evaluations: evals,
        at_bound: false,
        status: worst,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gardner_models::{Linear, Probit};

    fn sign() -> Probit {
        Probit::sign()
    }

    #[test]
    fn bad_input_is_named() {
        let e = ErmProblem::new(-1.0, 0.1, 1.0, Loss::Square, sign())
            .unwrap_err()
            .to_string();
        assert!(e.contains("alpha") && e.contains("-1"), "{e}");
        let e = ErmProblem::new(1.0, -0.1, 1.0, Loss::Square, sign())
            .unwrap_err()
            .to_string();
        assert!(e.contains("lambda") && e.contains("-0.1"), "{e}");
        let e = ErmProblem::with_loss_name(1.0, 0.1, 1.0, "cross_entropy", sign())
            .unwrap_err()
            .to_string();
        assert!(e.contains("cross_entropy"), "{e}");
        let e = ErmProblem::new(1.0, 0.0, 1.0, Loss::Logistic, sign())
            .unwrap_err()
            .to_string();
        assert!(e.contains("lambda"), "{e}");
        let e = ErmProblem::new(1.0, 0.1, 1.0, Loss::Square, Linear::new(0.1).unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("binary"), "{e}");
    }

    #[test]
    fn label_slope_closed_form() {
        for (delta, rho) in [(0.0, 1.0), (0.3, 1.0), (0.0, 2.5)] {
            let a = label_slope(&Probit::new(delta).unwrap(), rho, 1e-12).unwrap();
            let want = (2.0 / PI).sqrt() / (rho + delta).sqrt();
            assert!((a - want).abs() < 1e-10, "Δ={delta} ρ={rho}: {a} vs {want}");
        }
    }

    /// The generic fixed point (integrals of the square-loss prox) reproduces the closed form.
    #[test]
    fn ridge_iteration_matches_closed_form() {
        let cfg = ErmConfig::default();
        for &(alpha, lambda, delta) in &[
            (0.5, 0.1, 0.0),
            (2.0, 1e-3, 0.0),
            (3.0, 1.0, 0.25),
            (10.0, 0.5708, 0.0),
            (0.1, 100.0, 0.0),
        ] {
            let p = ErmProblem::new(
                alpha,
                lambda,
                1.0,
                Loss::Square,
                Probit::new(delta).unwrap(),
            )
            .unwrap();
            let it = solve(&p, &cfg).unwrap();
            assert_eq!(
                it.status,
                FixedPointStatus::Converged,
                "α={alpha} λ={lambda}"
            );
            let cf = ridge_closed_form(&p, &cfg).unwrap();
            let (a, b) = (it.overlaps, cf.overlaps);
            for (x, y, name) in [
                (a.m, b.m, "m"),
                (a.q, b.q, "q"),
                (a.v, b.v, "V"),
                (a.q_hat, b.q_hat, "q_hat"),
            ] {
                assert!(
                    (x - y).abs() < 1e-8 * y.abs().max(1.0),
                    "α={alpha} λ={lambda} {name}: {x} vs {y}"
                );
            }
            assert!(
                (it.train_loss - cf.train_loss).abs() < 1e-8,
                "{} vs {}",
                it.train_loss,
                cf.train_loss
            );
            assert!((it.train_error - cf.train_error).abs() < 1e-8);
            assert!((it.test_label_error - cf.test_label_error).abs() < 1e-9);
        }
    }

    /// λ → 0 of the closed form approaches the interpolator / least-squares limits continuously.
    #[test]
    fn ridge_limits() {
        let cfg = ErmConfig::default();
        for alpha in [0.4, 3.0] {
            let p0 = ErmProblem::new(alpha, 0.0, 1.0, Loss::Square, sign()).unwrap();
            let p1 = ErmProblem::new(alpha, 1e-9, 1.0, Loss::Square, sign()).unwrap();
            let (a, b) = (
                ridge_closed_form(&p0, &cfg).unwrap(),
                ridge_closed_form(&p1, &cfg).unwrap(),
            );
            assert!(
                (a.overlaps.m - b.overlaps.m).abs() < 1e-6
                    && (a.overlaps.q - b.overlaps.q).abs() < 1e-6,
                "{a:?} {b:?}"
            );
            if alpha < 1.0 {
                assert_eq!(a.train_loss, 0.0);
                assert!(b.train_loss < 1e-12);
            }
        }
        assert!(
            ridge_closed_form(
                &ErmProblem::new(1.0, 0.0, 1.0, Loss::Square, sign()).unwrap(),
                &cfg
            )
            .is_err()
        );
    }

    /// For sign labels only a = √(2/π) and the residual variance 1 − 2/π enter ridge, which is
    /// the Bayes estimator of the equivalent Gaussian model at λ = (1 − a²ρ)/(a²ρ) = π/2 − 1:
    /// the classification-optimal λ is that value at every α.
    #[test]
    fn ridge_optimal_lambda_is_pi_over_2_minus_1() {
        let cfg = ErmConfig::default();
        for alpha in [0.5, 2.0, 8.0] {
            let p = ErmProblem::new(alpha, 1.0, 1.0, Loss::Square, sign()).unwrap();
            let o = optimal_lambda(
                &p,
                &cfg,
                &LambdaSearch {
                    log_tol: 1e-4,
                    ..Default::default()
                },
            )
            .unwrap();
            assert!(!o.at_bound && o.status == FixedPointStatus::Converged);
            let want = PI / 2.0 - 1.0;
            assert!(
                (o.lambda / want - 1.0).abs() < 2e-2,
                "α={alpha}: λ_opt {} vs {want}",
                o.lambda
            );
        }
    }

    /// Stationarity of J at the fixed point for all three losses, sign and probit teachers.
    #[test]
    fn fixed_points_satisfy_stationarity() {
        let cfg = ErmConfig::default();
        for loss in Loss::ALL {
            for &(alpha, lambda, delta) in &[
                (0.5, 0.05, 0.0),
                (2.0, 0.01, 0.0),
                (5.0, 1.0, 0.2),
                (1.0, 1e-3, 0.0),
            ] {
                let p =
                    ErmProblem::new(alpha, lambda, 1.0, loss, Probit::new(delta).unwrap()).unwrap();
                let pt = solve(&p, &cfg).unwrap();
                assert_eq!(
                    pt.status,
                    FixedPointStatus::Converged,
                    "{loss} α={alpha} λ={lambda}: {pt:?}"
                );
                let (r1, r2) = p.stationarity_residuals(&pt.overlaps, 1e-11).unwrap();
                let o = pt.overlaps;
                assert!(
                    r1.abs() < 1e-7 * (lambda * o.q).max(1e-3),
                    "{loss} α={alpha} λ={lambda}: λq residual {r1}"
                );
                assert!(
                    r2.abs() < 1e-7 * (lambda * o.m).abs().max(1e-3),
                    "{loss} α={alpha} λ={lambda}: λm residual {r2}"
                );
                assert!(pt.test_error > 0.0 && pt.test_error < 0.5);
                assert!(pt.train_error >= 0.0 && pt.train_error <= pt.test_label_error + 0.5);
            }
        }
    }

    /// The iteration converges on the corners and centre of α ∈ [0.1, 50] × λ ∈ [1e-4, 1e2]
    /// for every loss, and the errors are ordered sensibly (more data, smaller error).
    #[test]
    fn converges_on_the_whole_domain() {
        let cfg = ErmConfig::default();
        for loss in Loss::ALL {
            for &lambda in &[1e-4, 1.0, 1e2] {
                let mut last = 0.5;
                for &alpha in &[0.1, 3.0, 50.0] {
                    let p = ErmProblem::new(alpha, lambda, 1.0, loss, sign()).unwrap();
                    let pt = solve(&p, &cfg).unwrap();
                    assert_eq!(
                        pt.status,
                        FixedPointStatus::Converged,
                        "{loss} α={alpha} λ={lambda}: {pt:?}"
                    );
                    assert!(
                        pt.test_error < last,
                        "{loss} α={alpha} λ={lambda}: {} !< {last}",
                        pt.test_error
                    );
                    last = pt.test_error;
                }
            }
        }
    }

    /// Hinge at small λ approaches the max-margin fixed point; the max-margin error is ≈ 0.50/α
    /// at large α (literature.md).
    #[test]
    fn max_margin_limit() {
        let cfg = ErmConfig::default();
        let mm = max_margin(
            &ErmProblem::new(3.0, 0.0, 1.0, Loss::Hinge, sign()).unwrap(),
            &cfg,
        )
        .unwrap();
        assert_eq!(mm.status, FixedPointStatus::Converged);
        assert!(mm.overlaps.v_hat < 1.0, "{mm:?}");
        let h = solve(
            &ErmProblem::new(3.0, 1e-5, 1.0, Loss::Hinge, sign()).unwrap(),
            &cfg,
        )
        .unwrap();
        assert_eq!(h.status, FixedPointStatus::Converged, "{h:?}");
        assert!(
            (h.test_error - mm.test_error).abs() < 1e-3,
            "{} vs {}",
            h.test_error,
            mm.test_error
        );
        let mm50 = max_margin(
            &ErmProblem::new(50.0, 0.0, 1.0, Loss::Hinge, sign()).unwrap(),
            &cfg,
        )
        .unwrap();
        let c = 50.0 * mm50.test_error;
        assert!((c - 0.50).abs() < 0.03, "α ε at α = 50: {c}");
        // a noisy teacher is not separable at large α: a status, not a number
        let noisy = max_margin(
            &ErmProblem::new(20.0, 0.0, 1.0, Loss::Hinge, Probit::new(0.5).unwrap()).unwrap(),
            &cfg,
        )
        .unwrap();
        assert_eq!(noisy.status, FixedPointStatus::Diverged);
        assert!(noisy.test_error.is_nan());
    }
}
