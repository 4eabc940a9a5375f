//! State evolution (talk, "State evolution"): the overlap of AMP evolves as
//!
//! ```text
//!   m̂ᵗ = α E[g_out²](mᵗ)          (output map, 2α ∂_m Φ_out)
//!   mᵗ⁺¹ = m(m̂ᵗ) = E[f_a²](m̂ᵗ)    (prior map, 2 ∂_m̂ Φ_w)
//! ```
//!
//! i.e. mᵗ⁺¹ = F(mᵗ). Two ways to find where it ends:
//! - [`Method::Iterate`]: the damped iteration m ← δ m + (1 − δ) F(m) (δ the kept fraction of
//!   the old iterate; V = ρ − m is iterated alongside so that m → ρ keeps its accuracy), run by
//!   the shared [`Driver`] until |Δm| ≤ tol·ρ or `max_iter` (then
//!   [`Termination::MaxIterations`], not an error). Slows down critically near spinodals.
//! - [`Method::Bracket`] (default): F is increasing (Bayes-optimal maps are monotone), so the
//!   iteration from m₀ converges monotonically to the first root of G(m) = F(m) − m in the
//!   direction of sign G(m₀). We march in x = ln(m/V) (steps `x_step`, resolving m → 0 and
//!   m → ρ alike), watch for dips of the normalised gap r = ρ(V − V')/(mV) between samples (a
//!   golden-section search decides whether a dip crosses zero, so a pair of close roots near a
//!   spinodal is never stepped over) and finish with Brent's method to 1e-13 in x. This is the
//!   exact limit of the iteration, fast and exact near spinodals.
//!
//! Ends of the march: m = 0 when r < 0 down to x = −34 (the trivial fixed point of phase
//! retrieval), perfect recovery m = ρ when r > 0 up to x = +34 (V/ρ ≈ 1.7e-15), reported as
//! [`FixedPointKind::Trivial`] / [`FixedPointKind::PerfectRecovery`] with m exactly 0 / ρ (and
//! m̂ = 0 / +∞).
//!
//! Starts: [`Start::Uninformed`] m₀ = `m0_uninformed`·ρ (m = 0 is itself a fixed point for
//! phase retrieval, so the start must be positive), [`Start::Informed`] m₀ = ρ(1 − 1.7e-15),
//! [`Start::Overlap`] any m₀ ∈ (0, ρ). [`se_curve`] follows a branch along α by continuation.

use crate::channel_side::ChannelSide;
use crate::error::{Error, in_range, positive};
use crate::prior_side::PriorSide;
use crate::quad::{brent, golden_min};
use gardner_models::run::{Driver, Step, Termination, stop};
use serde::{Deserialize, Serialize};

/// Largest |x| = |ln(m/V)| the march visits.
pub const X_MAX: f64 = 34.0;

/// How fixed points are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Monotone march + Brent on F(m) − m (exact limit of the iteration).
    Bracket,
    /// The damped SE iteration itself.
    Iterate,
}

/// Tuning parameters of state evolution (all have defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SeConfig {
    /// Fixed-point method.
    pub method: Method,
    /// Damping δ ∈ [0, 1) of the iteration, the kept fraction of the old iterate:
    /// new = δ·old + (1 − δ)·F(old).
    pub damping: f64,
    /// Convergence tolerance of the iteration on |Δm|/ρ.
    pub tol: f64,
    /// Iteration limit (reaching it is a status, not an error).
    pub max_iter: usize,
    /// Uninformed start m₀/ρ ∈ (0, 1).
    pub m0_uninformed: f64,
    /// March step in x = ln(m/V).
    pub x_step: f64,
}

impl Default for SeConfig {
    fn default() -> Self {
        Self {
            method: Method::Bracket,
            damping: 0.0,
            tol: 1e-12,
            max_iter: 100_000,
            m0_uninformed: 1e-6,
            x_step: 0.5,
        }
    }
}

impl SeConfig {
    /// Check the tuning parameters.
    pub fn validate(&self) -> Result<(), Error> {
        in_range("damping", self.damping, 0.0, 1.0, "in [0, 1)")?;
        positive("tol", self.tol)?;
        in_range(
            "m0_uninformed",
            self.m0_uninformed,
            1e-14,
            1.0,
            "in [1e-14, 1)",
        )?;
        in_range("x_step", self.x_step, 1e-3, 4.0, "in [0.001, 4)")?;
        if self.max_iter == 0 {
            return Err(Error::InvalidParameter {
                name: "max_iter",
                value: 0.0,
                bound: ">= 1",
            });
        }
        Ok(())
    }
}

/// Where state evolution starts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    /// Small overlap m₀ = `m0_uninformed`·ρ (what AMP from a random start sees).
    Uninformed,
    /// m₀ = ρ(1 − 1.7e-15): the branch connected to the planted solution.
    Informed,
    /// A given overlap m₀ ∈ (0, ρ).
    Overlap(f64),
}

/// Kind of fixed point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixedPointKind {
    /// 0 < m < ρ.
    Interior,
    /// m = 0 (uninformative; a fixed point when E\[g²\] vanishes at m = 0).
    Trivial,
    /// m = ρ, MSE = 0, m̂ = +∞.
    PerfectRecovery,
}

/// Result of state evolution at one α.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeResult {
    /// Sample ratio α = n/d.
    pub alpha: f64,
    /// Overlap m at the end.
    pub m: f64,
    /// MSE = ρ − m (computed without cancellation).
    pub mse: f64,
    /// m̂ = α E\[g²\](m) (+∞ at perfect recovery).
    pub m_hat: f64,
    /// Iterations (Iterate) or map evaluations (Bracket).
    pub iterations: usize,
    /// `Converged` (always for [`Method::Bracket`]) or `MaxIterations`.
    pub status: Termination,
    /// Kind of fixed point.
    pub kind: FixedPointKind,
    /// Last |Δm|/ρ of the iteration (0 for Bracket).
    pub change: f64,
}

/// The SE map at fixed (prior, channel, α).
pub(crate) struct SeMap<'a, P, C> {
    pub prior: &'a P,
    pub channel: &'a C,
    pub alpha: f64,
    pub rho: f64,
    pub evals: std::cell::Cell<usize>,
}

impl<'a, P: PriorSide, C: ChannelSide> SeMap<'a, P, C> {
    pub fn new(prior: &'a P, channel: &'a C, alpha: f64) -> Result<Self, Error> {
        positive("alpha", alpha)?;
        Ok(Self {
            prior,
            channel,
            alpha,
            rho: prior.rho(),
            evals: std::cell::Cell::new(0),
        })
    }
    /// (m, V) at x = ln(m/V).
    pub fn mv(&self, x: f64) -> (f64, f64) {
        let (a, b) = (1.0 / (1.0 + (-x).exp()), 1.0 / (1.0 + x.exp()));
        (self.rho * a, self.rho * b)
    }
    /// One SE step: (m̂, m', V') from (m, V).
    pub fn step(&self, m: f64, v: f64) -> Result<(f64, f64, f64), Error> {
        self.evals.set(self.evals.get() + 1);
        let m_hat = self.alpha * self.channel.e_gout2(m, v)?;
        let (m1, v1) = self.prior.overlap(m_hat)?;
        if !(m_hat.is_finite() && m1.is_finite() && v1.is_finite()) {
            return Err(Error::NonFinite {
                context: "SE step",
                value: if m_hat.is_finite() { m1 + v1 } else { m_hat },
            });
        }
        Ok((m_hat, m1, v1))
    }
    /// Normalised gap r(x) = ρ (m' − m)/(m V) = ρ (V − V')/(m V), of the sign of F(m) − m
    /// (the difference is taken in the smaller of m and V, where it has no cancellation).
    pub fn r(&self, x: f64) -> Result<f64, Error> {
        let (m, v) = self.mv(x);
        let (_, m1, v1) = self.step(m, v)?;
        let gap = if m < v { m1 - m } else { v - v1 };
        Ok(self.rho * gap / (m * v))
    }
    /// The fixed point reached by the monotone iteration from x0 (see module docs).
    pub fn march(&self, x0: f64, step: f64) -> Result<(FixedPointKind, f64), Error> {
        let x0 = x0.clamp(-X_MAX, X_MAX);
        let r0 = self.r(x0)?;
        if r0 == 0.0 {
            return Ok((FixedPointKind::Interior, x0));
        }
        let up = r0 > 0.0;
        let sgn = if up { 1.0 } else { -1.0 };
        // work with s(x) = sgn·r(x) > 0 until it crosses zero
        let s = |x: f64| -> Result<f64, Error> { Ok(sgn * self.r(x)?) };
        let mut prev = (x0, sgn * r0);
        let mut prev2: Option<(f64, f64)> = None;
        loop {
            let x = if up {
                (prev.0 + step).min(X_MAX)
            } else {
                (prev.0 - step).max(-X_MAX)
            };
            let sx = s(x)?;
            if sx <= 0.0 {
                let root = brent(
                    "SE fixed point",
                    |y| self.r(y),
                    prev.0.min(x),
                    prev.0.max(x),
                    1e-13,
                )?;
                return Ok((FixedPointKind::Interior, root));
            }
            if let Some(p2) = prev2
                && prev.1 < p2.1
                && prev.1 < sx
            {
                let (lo, hi) = (p2.0.min(x), p2.0.max(x));
                let (xm, sm) = golden_min(s, lo, hi, 1e-9)?;
                if sm <= 0.0 {
                    let root = brent(
                        "SE fixed point (dip)",
                        |y| self.r(y),
                        p2.0.min(xm),
                        p2.0.max(xm),
                        1e-13,
                    )?;
                    return Ok((FixedPointKind::Interior, root));
                }
            }
            if x.abs() >= X_MAX {
                return Ok((
                    if up {
                        FixedPointKind::PerfectRecovery
                    } else {
                        FixedPointKind::Trivial
                    },
                    x,
                ));
            }
            prev2 = Some(prev);
            prev = (x, sx);
        }
    }
    /// Package a bracket result.
    pub fn result(&self, kind: FixedPointKind, x: f64) -> Result<SeResult, Error> {
        let (m, mse, m_hat) = match kind {
            FixedPointKind::Interior => {
                let (m, v) = self.mv(x);
                (m, v, self.alpha * self.channel.e_gout2(m, v)?)
            }
            FixedPointKind::Trivial => (
                0.0,
                self.rho,
                self.alpha * self.channel.e_gout2(0.0, self.rho)?,
            ),
            FixedPointKind::PerfectRecovery => (self.rho, 0.0, f64::INFINITY),
        };
        Ok(SeResult {
            alpha: self.alpha,
            m,
            mse,
            m_hat,
            iterations: self.evals.get(),
            status: Termination::Converged,
            kind,
            change: 0.0,
        })
    }
    fn x_start(&self, start: Start, cfg: &SeConfig) -> Result<f64, Error> {
        Ok(match start {
            Start::Uninformed => (cfg.m0_uninformed / (1.0 - cfg.m0_uninformed)).ln(),
            Start::Informed => X_MAX,
            Start::Overlap(m0) => {
                if !(m0 > 0.0 && m0 < self.rho) {
                    return Err(Error::InvalidParameter {
                        name: "m0",
                        value: m0,
                        bound: "in (0, rho)",
                    });
                }
                (m0 / (self.rho - m0)).ln()
            }
        })
    }
    /// Damped iteration from (m, V), driven by the shared run loop: stop when
    /// |Δm|/ρ ≤ tol, at `max_iter` steps, or at perfect recovery V ≤ 1e-300 ρ.
    fn iterate(&self, m: f64, v: f64, cfg: &SeConfig) -> Result<SeResult, Error> {
        let mut it = SeIteration {
            map: self,
            damping: cfg.damping,
            obs: IterateObs {
                m,
                v,
                m_hat: 0.0,
                change: f64::INFINITY,
            },
        };
        let (rho, tol) = (self.rho, cfg.tol);
        let trace = Driver::new()
            .stop(move |_: usize, o: &IterateObs| {
                (o.change <= tol).then_some(Termination::Converged)
            })
            .stop(stop::max_iterations(cfg.max_iter))
            .stop(move |_: usize, o: &IterateObs| {
                (o.v <= rho * 1e-300).then_some(Termination::Converged)
            })
            .record_every(usize::MAX)
            .run(&mut it)?;
        let o = *trace.last().expect("the final iterate is recorded");
        let (iterations, status) = (trace.iterations, trace.termination);
        let (m, mse, m_hat, kind) = if status.converged() && o.change > tol {
            // stopped by the perfect-recovery rule
            (rho, 0.0, f64::INFINITY, FixedPointKind::PerfectRecovery)
        } else if status.converged() && o.v == 0.0 {
            (o.m, o.v, o.m_hat, FixedPointKind::PerfectRecovery)
        } else {
            (o.m, o.v, o.m_hat, FixedPointKind::Interior)
        };
        Ok(SeResult {
            alpha: self.alpha,
            m,
            mse,
            m_hat,
            iterations,
            status,
            kind,
            change: o.change,
        })
    }
    /// Fixed point from `start` by the configured method.
    pub fn solve(&self, start: Start, cfg: &SeConfig) -> Result<SeResult, Error> {
        let x0 = self.x_start(start, cfg)?;
        match cfg.method {
            Method::Bracket => {
                let (kind, x) = self.march(x0, cfg.x_step)?;
                self.result(kind, x)
            }
            Method::Iterate => {
                let (m, v) = self.mv(x0);
                self.iterate(m, v, cfg)
            }
        }
    }
}

/// Observables of one iterate of the damped SE iteration.
#[derive(Debug, Clone, Copy)]
struct IterateObs {
    m: f64,
    v: f64,
    /// m̂ of the last step (0 before the first).
    m_hat: f64,
    /// |Δm|/ρ of the last step (+∞ before the first).
    change: f64,
}

/// The damped SE iteration (m, V) ← δ (m, V) + (1 − δ) (m', V') as a [`Step`].
struct SeIteration<'s, 'a, P, C> {
    map: &'s SeMap<'a, P, C>,
    damping: f64,
    obs: IterateObs,
}

impl<P: PriorSide, C: ChannelSide> Step for SeIteration<'_, '_, P, C> {
    type Obs = IterateObs;
    type Error = Error;
    /// The current iterate; a NaN variance is an error (never perfect recovery).
    fn observe(&mut self) -> Result<IterateObs, Error> {
        if self.obs.v.is_nan() {
            return Err(Error::NonFinite {
                context: "SE iteration (V)",
                value: self.obs.v,
            });
        }
        Ok(self.obs)
    }
    fn advance(&mut self) -> Result<(), Error> {
        let (d, o) = (self.damping, self.obs);
        let (m_hat, m1, v1) = self.map.step(o.m, o.v)?;
        let (m, v) = (d * o.m + (1.0 - d) * m1, d * o.v + (1.0 - d) * v1);
        self.obs = IterateObs {
            m,
            v,
            m_hat,
            change: (m - o.m).abs() / self.map.rho,
        };
        Ok(())
    }
}

/// The fixed point of state evolution reached from `start` at sample ratio `alpha`.
///
/// Errors: invalid α / configuration, or a failed integral; non-convergence of the iteration
/// is reported in [`SeResult::status`].
pub fn se_fixed_point<P: PriorSide, C: ChannelSide>(
    prior: &P,
    channel: &C,
    alpha: f64,
    start: Start,
    cfg: &SeConfig,
) -> Result<SeResult, Error> {
    cfg.validate()?;
    SeMap::new(prior, channel, alpha)?.solve(start, cfg)
}

/// Fixed points along a list of α by continuation: the uninformed branch is followed in
/// increasing α, the informed branch in decreasing α, each point starting from the previous
/// fixed point (exact for the monotone SE map: the first root in the direction of motion does
/// not change). `Start::Overlap` restarts every point from the given overlap. Results are in the
/// order of `alphas`; a failed point does not stop the others.
pub fn se_curve<P: PriorSide, C: ChannelSide>(
    prior: &P,
    channel: &C,
    alphas: &[f64],
    start: Start,
    cfg: &SeConfig,
) -> Vec<Result<SeResult, Error>> {
    if let Err(e) = cfg.validate() {
        return alphas.iter().map(|_| Err(e.clone())).collect();
    }
    let mut order: Vec<usize> = (0..alphas.len()).collect();
    order.sort_by(|&a, &b| {
        alphas[a]
            .partial_cmp(&alphas[b])
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    if start == Start::Informed {
        order.reverse();
    }
    let mut out: Vec<Option<Result<SeResult, Error>>> = vec![None; alphas.len()];
    let mut warm: Option<SeResult> = None;
    for &i in &order {
        let res = (|| -> Result<SeResult, Error> {
            let map = SeMap::new(prior, channel, alphas[i])?;
            let rho = map.rho;
            let warm_start = match (start, &warm) {
                (Start::Overlap(_), _) | (_, None) => start,
                (_, Some(w)) => match w.kind {
                    FixedPointKind::Interior if w.m > 0.0 && w.m < rho => Start::Overlap(w.m),
                    // perfect recovery reached from below stays reached at larger α
                    FixedPointKind::PerfectRecovery if start == Start::Uninformed => {
                        Start::Informed
                    }
                    _ => start,
                },
            };
            match (cfg.method, warm_start, &warm) {
                (Method::Bracket, Start::Overlap(_), Some(w)) if start != warm_start => {
                    let x0 = (w.m / w.mse).ln();
                    let (kind, x) = map.march(x0, cfg.x_step)?;
                    map.result(kind, x)
                }
                _ => map.solve(warm_start, cfg),
            }
        })();
        if let Ok(r) = &res {
            warm = Some(r.clone());
        }
        out[i] = Some(res);
    }
    out.into_iter()
        .map(|r| r.expect("every index visited"))
        .collect()
}
