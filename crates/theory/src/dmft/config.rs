//! The TOML configuration of a DMFT / exact solve.
//!
//! ```toml
//! loss = "square"                       # or "phase_retrieval"
//! alpha = 3.0
//! regularisation = { ridge = 0.5 }      # or { spherical = true }
//! m0 = 0.2
//! q0 = 1.04
//! algorithm = { kind = "gd", eta = 0.05 }   # { kind = "flow" } | { kind = "sgd", eta, b, batch }
//!                                           # | { kind = "psgd", eta, b, tau, batch }
//! # batch = "mean" (the mini-batch gradient divided by b: the talk's convention, mean drift
//! # equal to GD's) or "sum" (the plain sum over the batch: drift b times GD's). Required for
//! # sgd and psgd: omitting it is an error, because the two conventions give different
//! # dynamics (at equal t, by a factor b in the drift) and configurations written before the
//! # key existed meant "sum" — a silent default of either kind would misread some of them.
//! times = [0.5, 2.0, 10.0]              # physical times t = kη, increasing
//! method = "dmft"                       # or "exact" (square loss, ridge, b = 1 only)
//! # optional numerics
//! dt = 0.01                             # flow step (default 0.01); times are multiples of
//!                                       # it. Ridge: trapezoid at dt and dt/2, Richardson-
//!                                       # extrapolated (error O(dt⁴), ≲ 1e-7 to t = 200 at the
//!                                       # default); spherical: discrete GD at η = dt (O(dt))
//! particles = 2000                      # particle solver (default 2000)
//! seed = 0                              # default 0
//! replicas = 4                          # particle solver: mean and standard error of 4 runs
//!                                       # (seeds seed, seed + 1, …; default 1)
//! checkpoint = "run.json"               # particle solver, one run: resume from / save to it
//! checkpoint_every = 100                # steps between checkpoints (default 100)
//! solver = "compressed"                 # particle solver: "compressed" (default; the past on a
//!                                       # block grid, cost linear in t) or "uniform" (every
//!                                       # step kept, O(N T³); checkpoints need it)
//! history = 4                           # compressed: blocks per level L (even, default 4)
//! partners = 128                        # compressed: noise partners per particle (default 128)
//! budget_hours = 24                     # refuse a solve estimated to take longer (CPU hours)
//! ```
//!
//! Unknown keys are rejected; values are validated on deserialisation (the error names the
//! parameter, its value and the bound).

use super::params::{Batch, Regularisation, Selection};
use crate::error::Error;
use serde::{Deserialize, Serialize};

/// Loss and teacher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// ℓ = ½(y − h)², y = h0.
    Square,
    /// ℓ = (h² − y²)²/4, y = |h0|.
    PhaseRetrieval,
}

/// `{ ridge = λ }` or `{ spherical = true }`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RegularisationConfig {
    /// Ridge λ ≥ 0.
    Ridge(f64),
    /// Spherical constraint (must be `true`).
    Spherical(bool),
}

/// The algorithm, tagged by `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Algorithm {
    /// Full-batch gradient descent with learning rate η.
    Gd { eta: f64 },
    /// Gradient flow (η → 0, b = 1), step `dt` ([`DEFAULT_DT`]): with ridge the TTI solver
    /// [`super::ridge_flow`] (trapezoid levels dt, dt/2 extrapolated, O(dt⁴)); with the spherical
    /// constraint discrete GD at η = dt (first order in dt).
    Flow,
    /// Plain SGD: batch fraction b, τ = η/b, batch convention.
    Sgd { eta: f64, b: f64, batch: Batch },
    /// Persistent SGD: batch fraction b, persistence time τ, batch convention.
    Psgd {
        eta: f64,
        b: f64,
        tau: f64,
        batch: Batch,
    },
}

/// `dmft` or `exact`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The DMFT solvers.
    Dmft,
    /// The Marchenko–Pastur closed form (square loss, ridge, b = 1).
    Exact,
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawConfig")]
pub struct Config {
    pub loss: LossKind,
    pub alpha: f64,
    pub regularisation: RegularisationConfig,
    pub m0: f64,
    pub q0: f64,
    pub algorithm: Algorithm,
    pub times: Vec<f64>,
    pub method: Method,
    pub dt: Option<f64>,
    pub particles: Option<usize>,
    pub seed: Option<u64>,
    /// Particle solver: independent runs averaged (default 1).
    pub replicas: Option<usize>,
    /// Particle solver: checkpoint file (resumed from when it exists).
    pub checkpoint: Option<std::path::PathBuf>,
    pub checkpoint_every: Option<usize>,
    /// Particle solver: `compressed` (default) or `uniform`.
    pub solver: Option<SolverKind>,
    /// Compressed solver: blocks per level L (even, default 4).
    pub history: Option<usize>,
    /// Compressed solver: noise partners per particle K (default 128).
    pub partners: Option<usize>,
    /// Refuse a solve whose estimated CPU time exceeds this many hours (default 24).
    pub budget_hours: Option<f64>,
}

/// The particle solver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SolverKind {
    /// [`super::CoarseDmft`]: the past on a block grid; cost linear in time.
    Compressed,
    /// [`super::Dmft`]: the past at every step; cost O(N T³), memory O(N T²).
    Uniform,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    loss: LossKind,
    alpha: f64,
    regularisation: RegularisationConfig,
    m0: f64,
    q0: f64,
    algorithm: Algorithm,
    times: Vec<f64>,
    method: Method,
    dt: Option<f64>,
    particles: Option<usize>,
    seed: Option<u64>,
    replicas: Option<usize>,
    checkpoint: Option<std::path::PathBuf>,
    checkpoint_every: Option<usize>,
    solver: Option<SolverKind>,
    history: Option<usize>,
    partners: Option<usize>,
    budget_hours: Option<f64>,
}

impl TryFrom<RawConfig> for Config {
    type Error = Error;
    fn try_from(r: RawConfig) -> Result<Self, Error> {
        let c = Config {
            loss: r.loss,
            alpha: r.alpha,
            regularisation: r.regularisation,
            m0: r.m0,
            q0: r.q0,
            algorithm: r.algorithm,
            times: r.times,
            method: r.method,
            dt: r.dt,
            particles: r.particles,
            seed: r.seed,
            replicas: r.replicas,
            checkpoint: r.checkpoint,
            checkpoint_every: r.checkpoint_every,
            solver: r.solver,
            history: r.history,
            partners: r.partners,
            budget_hours: r.budget_hours,
        };
        c.validate()?;
        Ok(c)
    }
}

/// Default flow step `dt`: the grid of the requested times and the coarsest trapezoid level
/// of the ridge flow (at 0.01 the extrapolated ridge flow is within 1e-7 of the exact flow to
/// t = 200 in the tested cases, in under a CPU-second).
pub const DEFAULT_DT: f64 = 0.01;
/// Default number of particles.
pub const DEFAULT_PARTICLES: usize = 2000;

impl Config {
    /// The particle DMFT ([`Method::Dmft`]) of `algorithm` from (m0, q0) at `times`, every
    /// solver option at its default.
    pub fn new(
        loss: LossKind,
        alpha: f64,
        regularisation: RegularisationConfig,
        (m0, q0): (f64, f64),
        algorithm: Algorithm,
        times: Vec<f64>,
    ) -> Self {
        Self {
            loss,
            alpha,
            regularisation,
            m0,
            q0,
            algorithm,
            times,
            method: Method::Dmft,
            dt: None,
            particles: None,
            seed: None,
            replicas: None,
            checkpoint: None,
            checkpoint_every: None,
            solver: None,
            history: None,
            partners: None,
            budget_hours: None,
        }
    }

    /// Parse and validate TOML.
    pub fn from_toml(src: &str) -> Result<Self, String> {
        toml::from_str(src).map_err(|e| e.message().trim().to_string())
    }

    /// ν: ridge λ or spherical.
    pub fn regularisation(&self) -> Regularisation {
        match self.regularisation {
            RegularisationConfig::Ridge(l) => Regularisation::Ridge(l),
            RegularisationConfig::Spherical(_) => Regularisation::Spherical,
        }
    }

    /// The particle solver (default compressed).
    pub fn solver(&self) -> SolverKind {
        self.solver.unwrap_or(SolverKind::Compressed)
    }

    /// The time step: η for GD/SGD/p-SGD, `dt` (default [`DEFAULT_DT`]) for the flow.
    pub fn step(&self) -> f64 {
        match self.algorithm {
            Algorithm::Gd { eta } | Algorithm::Sgd { eta, .. } | Algorithm::Psgd { eta, .. } => eta,
            Algorithm::Flow => self.dt.unwrap_or(DEFAULT_DT),
        }
    }

    /// The selection process of the algorithm.
    pub fn selection(&self) -> Result<Selection, Error> {
        match self.algorithm {
            Algorithm::Gd { .. } | Algorithm::Flow => Ok(Selection::gd()),
            Algorithm::Sgd { eta, b, batch } => Ok(Selection::sgd(b, eta, batch)?),
            Algorithm::Psgd { b, tau, batch, .. } => Ok(Selection::persistent(b, tau, batch)?),
        }
    }

    /// Check every value (called on deserialisation).
    pub fn validate(&self) -> Result<(), Error> {
        if let RegularisationConfig::Spherical(false) = self.regularisation {
            return Err(Error::InvalidParameter {
                name: "regularisation.spherical",
                value: 0.0,
                bound: "true (use { ridge = 0.0 } for no regularisation)",
            });
        }
        super::validate_physics(self.alpha, self.regularisation(), self.m0, self.q0)?;
        let step = crate::error::positive(
            if self.algorithm == Algorithm::Flow {
                "dt"
            } else {
                "eta"
            },
            self.step(),
        )?;
        if let Some(dt) = self.dt {
            crate::error::positive("dt", dt)?;
        }
        let sel = self.selection()?;
        sel.probabilities(step)?;
        if let Some(n) = self.particles
            && n < 2
        {
            return Err(Error::InvalidParameter {
                name: "particles",
                value: n as f64,
                bound: ">= 2",
            });
        }
        if let Some(k) = self.replicas {
            if k == 0 {
                return Err(Error::InvalidParameter {
                    name: "replicas",
                    value: 0.0,
                    bound: ">= 1",
                });
            }
            let deterministic = self.method == Method::Exact
                || (self.loss == LossKind::Square && self.selection()?.is_full_batch());
            if k > 1 && deterministic {
                return Err(Error::InvalidParameter {
                    name: "replicas",
                    value: k as f64,
                    bound: "1 for a deterministic solve (exact, or square loss with b = 1)",
                });
            }
            if k > 1 && self.checkpoint.is_some() {
                return Err(Error::InvalidParameter {
                    name: "replicas",
                    value: k as f64,
                    bound: "1 with a checkpoint file",
                });
            }
        }
        if let Some(l) = self.history
            && (l < 2 || !l.is_multiple_of(2))
        {
            return Err(Error::InvalidParameter {
                name: "history",
                value: l as f64,
                bound: "an even number >= 2",
            });
        }
        if self.partners == Some(0) {
            return Err(Error::InvalidParameter {
                name: "partners",
                value: 0.0,
                bound: ">= 1",
            });
        }
        if let Some(h) = self.budget_hours
            && !(h > 0.0)
        {
            return Err(Error::InvalidParameter {
                name: "budget_hours",
                value: h,
                bound: "> 0",
            });
        }
        if self.checkpoint.is_some() && self.solver() == SolverKind::Compressed {
            return Err(Error::InvalidChoice {
                name: "checkpoint",
                bound: "only with solver = \"uniform\" (the compressed solver does not checkpoint yet)",
            });
        }
        if self.checkpoint_every == Some(0) {
            return Err(Error::InvalidParameter {
                name: "checkpoint_every",
                value: 0.0,
                bound: ">= 1",
            });
        }
        if self.times.is_empty() {
            return Err(Error::InvalidParameter {
                name: "times",
                value: 0.0,
                bound: "a non-empty list",
            });
        }
        let mut prev = 0.0;
        for &t in &self.times {
            if !(t.is_finite() && t >= prev) {
                return Err(Error::InvalidParameter {
                    name: "times",
                    value: t,
                    bound: ">= 0, finite and increasing",
                });
            }
            let k = (t / step).round();
            if (k * step - t).abs() > 1e-9 * t.max(1.0) {
                return Err(Error::InvalidParameter {
                    name: "times",
                    value: t,
                    bound: "a multiple of the time step (eta or dt)",
                });
            }
            prev = t;
        }
        if self.method == Method::Exact {
            if self.loss != LossKind::Square {
                return Err(Error::InvalidChoice {
                    name: "method",
                    bound: "\"dmft\" unless loss = \"square\" (\"exact\" is the square loss only)",
                });
            }
            if self.regularisation() == Regularisation::Spherical {
                return Err(Error::InvalidChoice {
                    name: "method",
                    bound: "\"dmft\" with the spherical constraint (\"exact\" is ridge only)",
                });
            }
            if !sel.is_full_batch() {
                return Err(Error::InvalidParameter {
                    name: "b",
                    value: sel.b(),
                    bound: "= 1 with method = \"exact\"",
                });
            }
        }
        Ok(())
    }
}
