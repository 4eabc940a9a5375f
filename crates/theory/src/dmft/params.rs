//! Time grid, selection process, regularisation, teacher and the observables of one time step.

use crate::error::Error;
use serde::{Deserialize, Serialize};

/// Uniform grid t_k = k·dt, k = 0..=steps. For GD/SGD/p-SGD dt **is** the learning rate η (the
/// discrete DMFT is exact for the discrete algorithm); for the flow limit dt is a small step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimeGrid {
    dt: f64,
    steps: usize,
}

impl TimeGrid {
    /// dt > 0 finite, steps ≥ 1.
    pub fn new(dt: f64, steps: usize) -> Result<Self, Error> {
        crate::error::positive("dt", dt)?;
        if steps == 0 {
            return Err(Error::InvalidParameter {
                name: "steps",
                value: 0.0,
                bound: ">= 1",
            });
        }
        Ok(Self { dt, steps })
    }
    /// Step dt (= η).
    pub fn dt(&self) -> f64 {
        self.dt
    }
    /// Number of steps T (the grid has T + 1 points).
    pub fn steps(&self) -> usize {
        self.steps
    }
    /// t_k = k dt.
    pub fn time(&self, k: usize) -> f64 {
        k as f64 * self.dt
    }
}

/// Sample selection s_μ(k) ∈ {0, 1}: a two-state Markov chain per sample with
/// P(0→1) = η/τ, P(1→0) = (1 − b)η/(bτ), s(0) ~ Bernoulli(b) (stationary P(s = 1) = b).
/// GD is b = 1 (s ≡ 1); plain SGD (a fresh batch every step) is τ = η/b; with a small step
/// dt the chain is the telegraph process of the flow limit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    b: f64,
    tau: f64,
}

impl Selection {
    /// Full batch: b = 1.
    pub fn gd() -> Self {
        Self { b: 1.0, tau: 1.0 }
    }
    /// Persistent selection with batch fraction b ∈ (0, 1] and persistence time τ; with step
    /// η it needs τ ≥ η·max(1, 1/b − 1) (probabilities ≤ 1), checked by [`Selection::probabilities`].
    pub fn persistent(b: f64, tau: f64) -> Result<Self, Error> {
        crate::error::in_range("b", b, f64::MIN_POSITIVE, 1.0 + f64::EPSILON, "in (0, 1]")?;
        crate::error::positive("tau", tau)?;
        Ok(Self { b: b.min(1.0), tau })
    }
    /// Plain SGD with batch fraction b at learning rate η: τ = η/b.
    pub fn sgd(b: f64, eta: f64) -> Result<Self, Error> {
        crate::error::positive("eta", eta)?;
        Self::persistent(b, eta / b.max(f64::MIN_POSITIVE))
    }
    /// Batch fraction b.
    pub fn b(&self) -> f64 {
        self.b
    }
    /// Persistence time τ.
    pub fn tau(&self) -> f64 {
        self.tau
    }
    /// `true` when s ≡ 1.
    pub fn is_full_batch(&self) -> bool {
        self.b == 1.0
    }
    /// (P(0→1), P(1→0)) per step of length `eta`, validated to lie in [0, 1].
    pub fn probabilities(&self, eta: f64) -> Result<(f64, f64), Error> {
        if self.is_full_batch() {
            return Ok((1.0, 0.0));
        }
        let p01 = eta / self.tau;
        let p10 = (1.0 - self.b) * eta / (self.b * self.tau);
        if p01 > 1.0 + 1e-12 || p10 > 1.0 + 1e-12 {
            return Err(Error::InvalidParameter {
                name: "tau",
                value: self.tau,
                bound: ">= eta * max(1, 1/b - 1)",
            });
        }
        Ok((p01.min(1.0), p10.min(1.0)))
    }
}

/// The confinement ν(t) acting as −ν w.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regularisation {
    /// Ridge (λ/2)‖w‖²: ν ≡ λ ≥ 0.
    Ridge(f64),
    /// Spherical constraint q ≡ 1: ν_k is the Lagrange multiplier that makes q_{k+1} = 1
    /// exactly for the discrete update w_{k+1} = (1 − ην_k) w_k − η g_k (the root of a
    /// quadratic nearest to the flow value −α⟨s h̃ ℓ'⟩/q).
    Spherical,
}

/// Teacher labels y = φ(h0), h0 = X_μ·w* ~ N(0, 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Teacher {
    /// y = h0.
    Linear,
    /// y = |h0| (phase retrieval).
    Abs,
}

impl Teacher {
    /// y = φ(h0).
    pub fn label(&self, h0: f64) -> f64 {
        match self {
            Teacher::Linear => h0,
            Teacher::Abs => h0.abs(),
        }
    }
}

/// Observables of time step k.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Step index k.
    pub k: usize,
    /// Physical time t = k dt.
    pub t: f64,
    /// m_k = w·w*/d.
    pub m: f64,
    /// q_k = |w|²/d.
    pub q: f64,
    /// (1/n) Σ_μ ℓ(y_μ, h̃_μ(k)) over the whole training set.
    pub train_loss: f64,
    /// E ℓ(φ(h0), h̃) on a fresh sample, (h0, h̃) Gaussian with variances 1, q and covariance m.
    pub gen_error: f64,
}
