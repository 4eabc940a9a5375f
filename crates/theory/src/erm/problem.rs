//! The ERM problem, its fixed-point equations (module docs of [`crate::erm`]) and the damped,
//! Anderson-accelerated iteration that solves them ([`solve`], [`solve_from`]).

use super::anderson::{self, Tuning};
use super::max_margin::max_margin;
use super::ridge::ridge_closed_form;
use super::{ErmError, KINK_RANGE, check, check_binary, classification_error};
use gardner_models::gauss::expect_normal_split;
use gardner_models::run::Termination;
use gardner_models::{Channel, Loss, LossError};
use serde::{Deserialize, Serialize};

/// Tuning parameters of the fixed-point iteration (defaults are the production values).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ErmConfig {
    /// Initial damping δ ∈ [0, 1), the kept fraction of the old iterate:
    /// x ← (1 − δ) F(x) + δ x (as in state evolution and GAMP). Raised towards 1 (the step
    /// 1 − δ halved) when a step leaves the domain.
    pub damping: f64,
    /// Largest damping before the iteration gives up as diverged, in [damping, 1).
    pub max_damping: f64,
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
            damping: 0.2,
            max_damping: 0.999,
            tol: 1e-10,
            max_iter: 5000,
            quad_tol: 1e-11,
        }
    }
}

impl ErmConfig {
    /// Check the tuning parameters.
    pub fn validate(&self) -> Result<(), ErmError> {
        check(
            "damping",
            self.damping,
            (0.0..1.0).contains(&self.damping),
            "in [0, 1)",
        )?;
        check(
            "max_damping",
            self.max_damping,
            self.max_damping >= self.damping && self.max_damping < 1.0,
            "in [damping, 1)",
        )?;
        check("tol", self.tol, self.tol > 0.0, "> 0 and finite")?;
        check(
            "quad_tol",
            self.quad_tol,
            self.quad_tol > 0.0,
            "> 0 and finite",
        )?;
        if self.max_iter == 0 {
            return Err(ErmError::InvalidParameter {
                name: "max_iter",
                value: 0.0,
                bound: ">= 1",
            });
        }
        Ok(())
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
    pub(super) alpha: f64,
    pub(super) lambda: f64,
    pub(super) rho: f64,
    pub(super) loss: Loss,
    pub(super) channel: C,
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Evaluations of the fixed-point map (0 for the closed forms).
    pub iterations: usize,
    /// Why the iteration stopped (`Converged` for the closed forms and bracketed roots).
    pub status: Termination,
}
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
        status: Termination,
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
        let label_err = test_label_error(&self.channel, m, q, v, self.rho, tol)?;
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
/// to [`max_margin`] (hinge). Otherwise the map (m, q, V) ↦ (ρ m̂, ρ m̂² + q̂, 1)/(λ + V̂)
/// (powers 1, 2, 1 of the denominator) is iterated by [`anderson`] in the
/// variables (c, ln q, ln V), c = m/√(ρ q) ∈ (−1, 1); leaving that domain is
/// `Diverged` naming `m` (|c| ≥ 1), `q` or `V` (non-finite).
pub fn solve_from<C: Channel>(
    p: &ErmProblem<C>,
    config: &ErmConfig,
    init: Option<Overlaps>,
) -> Result<ErmPoint, ErmError> {
    config.validate()?;
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
    let mut hats = (f64::NAN, f64::NAN, f64::NAN);
    let map = |x: &[f64; 3]| -> Result<[f64; 3], ErmError> {
        let (m, q, v) = to_ov(x);
        hats = p.conjugates(m, q, v, config.quad_tol)?;
        let (mh, qh, vh) = hats;
        let den = lam + vh;
        let (mn, qn, vn) = (
            rho * mh / den,
            (rho * mh * mh + qh) / (den * den),
            1.0 / den,
        );
        Ok([mn / (rho * qn).sqrt(), qn.ln(), vn.ln()])
    };
    let domain = |x: &[f64; 3]| {
        if x[0].is_nan() || x[0].abs() >= 1.0 {
            Some("m")
        } else if !x[1].is_finite() {
            Some("q")
        } else if !x[2].is_finite() {
            Some("V")
        } else {
            None
        }
    };
    let x0 = [m0 / (rho * q0).sqrt(), q0.ln(), v0.ln()];
    let tuning = Tuning {
        damping: config.damping,
        max_damping: config.max_damping,
        tol: config.tol,
        max_iter: config.max_iter,
    };
    let (x, iterations, status) = anderson::run(x0, map, domain, tuning)?;
    let (m, q, v) = to_ov(&x);
    let (mh, qh, vh) = hats;
    let ov = Overlaps {
        m,
        q,
        v,
        m_hat: mh,
        q_hat: qh,
        v_hat: vh,
    };
    match status {
        Termination::Diverged { .. } => Ok(diverged(p, ov, iterations, status)),
        s => p.observables(ov, iterations, s, config.quad_tol),
    }
}

/// A point whose iteration left its domain: the last overlaps, NaN observables.
pub(super) fn diverged<C: Channel>(
    p: &ErmProblem<C>,
    ov: Overlaps,
    it: usize,
    status: Termination,
) -> ErmPoint {
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
        status,
    }
}

/// Z₀(y, (m/√q) ξ, ρ − m²/q): the probability of label y given the student field √q ξ.
pub(super) struct Teacher0<'a, C: Channel> {
    pub channel: &'a C,
    pub m: f64,
    pub q: f64,
    pub rho: f64,
}

impl<C: Channel> Teacher0<'_, C> {
    pub fn z0(&self, y: f64, xi: f64) -> f64 {
        let w0 = self.m / self.q.sqrt() * xi;
        let v0 = (self.rho - self.m * self.m / self.q).max(0.0);
        self.channel.log_z(y, w0, v0).exp()
    }
}

/// Test label error P(y_new ≠ sign(√q ξ)) = E_ξ Σ_y Z₀(y, ·) 1\[y ξ < 0\] (`v` only labels
/// an integration error).
pub(super) fn test_label_error<C: Channel>(
    channel: &C,
    m: f64,
    q: f64,
    v: f64,
    rho: f64,
    tol: f64,
) -> Result<f64, ErmError> {
    let t = Teacher0 { channel, m, q, rho };
    let s = q.sqrt();
    expect_normal_split(
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
        v,
        source,
    })
}
