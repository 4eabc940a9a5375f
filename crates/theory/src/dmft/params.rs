//! Time grid and the observables of one time step; the selection process, regularisation
//! and teacher are the shared ones of [`gardner_models::dynamics`].

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

/// The selection, confinement and teacher of the shared dynamics vocabulary
/// ([`gardner_models::dynamics`]); the confinement is called [`Regularisation`] here.
pub use gardner_models::dynamics::{Batch, Confinement as Regularisation, Selection, Teacher};

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
