//! Gradient descent, SGD and persistent SGD (p-SGD) on a generalised linear model, as one
//! algorithm: the sample selection is a Markov process whose parameters say which of the three
//! it is.
//!
//! # Glossary
//! | symbol | meaning | in code |
//! |---|---|---|
//! | η | learning rate; physical time t = k η after k steps | [`Config::eta`] |
//! | b | batch fraction: stationary P(s_μ = 1) | [`Selection::b`] |
//! | τ | mean time (in units of t) a sample spends out of the batch | [`Selection::tau`] |
//! | s_μ(k) | 1 if sample μ is in the batch at step k | [`Chain::selected`] |
//! | ω | weight of a selected sample: 1/b (`mean`) or 1 (`sum`) | [`Selection::weight`] |
//! | ν̂ | confinement: ridge constant λ, or the Lagrange multiplier of ‖w‖² = d | [`Confinement`] |
//! | ℓ(y, h) | per-sample loss, ℓ' = ∂_h ℓ | [`SampleLoss`](gardner_models::SampleLoss) |
//!
//! The selection, batch convention, confinement, start and expected loss are the shared
//! vocabulary of [`gardner_models::dynamics`] (re-exported here).
//!
//! # Selection process
//! Each s_μ(k) ∈ {0, 1} is an independent two-state Markov chain with
//!
//! ```text
//!   P(s = 0 → 1) = η/τ,     P(s = 1 → 0) = (1 − b) η/(b τ),     s_μ(0) ~ Bernoulli(b),
//! ```
//!
//! so the stationary fraction is b, a sample stays out of the batch for a mean time τ and in it
//! for b τ/(1 − b). Both probabilities must be ≤ 1: τ ≥ η max(1, 1/b − 1).
//! - **GD** is b = 1 (s ≡ 1): [`Selection::gd`];
//! - **plain SGD** (a fresh Bernoulli(b) batch every step) is τ = η/b, i.e. P(0 → 1) = b and
//!   P(1 → 0) = 1 − b whatever η: [`Selection::sgd`];
//! - **persistent SGD** is any other τ: [`Selection::persistent`]; τ = ∞ freezes the initial
//!   batch (GD on a fixed random subset of ≈ b n samples).
//!
//! The selected samples are kept as an index list updated per step: the flips of a step are
//! drawn by geometric skipping over the in- and out-lists (cost ∝ number of flips), so the
//! cost of a step is ∝ the number of selected samples, not n.
//!
//! # Update
//! With X_{μi} ~ N(0, 1/d), fields h_μ = X_μ·w and the weight ω of the batch convention
//! ([`Batch`]: ω = 1/b for `mean`, the mini-batch gradient divided by b, whose mean drift is
//! GD's; ω = 1 for `sum`, the plain sum over the batch):
//!
//! ```text
//!   w(k+1) = w(k) − η [ ν̂(k) w(k) + ω Σ_μ s_μ(k) ℓ'(y_μ, h_μ(k)) X_μ ]
//! ```
//!
//! (ω multiplies each ℓ'_μ; ω = 1 is exact, so `sum` and b = 1 are the unweighted update bit
//! for bit.)
//!
//! - ridge: ν̂ = λ;
//! - spherical: ν̂ = −g·w/d with g = ω Σ_μ s_μ ℓ'_μ X_μ (the discrete Lagrange multiplier that
//!   makes the step tangent to the sphere; its continuous-time limit is −α⟨s h ℓ'⟩), followed
//!   by the retraction w ← √d w/‖w‖. At b = 1 this is exactly the step of
//!   [`crate::gd`].
//!
//! The batch rows are read from a row-major copy of X (Xᵀ stored d × n: sample μ is one
//! contiguous column), fused: h_μ = X_μ·w and g += ℓ'_μ X_μ while the row is in cache, four
//! rows at a time (w read once per four fields, g updated once per four rows), so a step
//! reads each selected row once from memory (8 d bytes, 4 d flops). Measured at d = 2000,
//! α = 3 (`benches/psgd.rs`, one core): a GD step 6.2 ms (15 GB/s of rows), a b = 0.5 SGD
//! step 3.5 ms, ratio 0.57 for a row ratio of 0.50.
//!
//! # Start
//! [`Start::Informed`]: w(0) = m0 w* + √(q0 − m0²) u with u ⊥ w*, ‖u‖²/d = 1 (teacher
//! ‖w*‖²/d = 1, e.g. [`crate::gd::spherical_teacher`]); [`Start::Random`]: w(0) = √q0 ×
//! (N(0, I_d) rescaled to ‖·‖² = d). Under the spherical constraint q0 must be 1.
//!
//! # Observables and stopping
//! Per step ([`PsgdStep`]): t = k η, m = w·w*/d, q = w·w/d, the generalisation error
//! [`ExpectedLoss::gen_error`] (E ℓ on a fresh sample, a function of m and q, for the labels
//! of [`Dynamics::teacher`]), the batch
//! fraction Σ_μ s_μ(k)/n of the update that follows, and the training loss on the **whole**
//! training set (1/n) Σ_μ ℓ(y_μ, h_μ). The last costs a full pass over X, so it is measured
//! only every [`Config::record_every`] steps (the recorded ones) and at the last step.
//! Run on the shared [`Driver`]: `Diverged` when q or m is non-finite or q > [`Config::q_max`],
//! or a measured training loss is non-finite (naming the quantity); `MaxIterations` after
//! [`Config::max_steps`].
//!
//! Randomness: one [`Rng`] stream, consumed in order by the start, s(0) and the flips.

use crate::error::Error;
use crate::gd;
use crate::{Outcome, Trace};
use gardner_models::Termination;
use gardner_models::rng::Rng;
use gardner_models::run::{Driver, stop};
use serde::{Deserialize, Serialize};

mod chain;
mod start;
mod stepper;
#[cfg(test)]
mod tests;

pub use chain::Chain;
pub use gardner_models::dynamics::{Batch, Confinement, ExpectedLoss, Selection, Start, Teacher};
pub use start::draw;
pub use stepper::{Observation, Stepper};

fn check_eta(eta: f64) -> Result<(), Error> {
    if !(eta > 0.0 && eta.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "eta",
            value: eta,
            bound: "> 0 and finite",
        });
    }
    Ok(())
}

/// Tuning parameters of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Learning rate η > 0.
    pub eta: f64,
    /// Number of steps (`MaxIterations` after it).
    pub max_steps: usize,
    /// Measure the whole-set training loss (a full pass over X) and record every this many
    /// steps (≥ 1); the last step is always recorded.
    pub record_every: usize,
    /// `Diverged` (quantity `q`) when q = w·w/d exceeds this.
    pub q_max: f64,
}

impl Config {
    /// η with max_steps = 1000, record_every = 10, q_max = 1e12.
    pub fn new(eta: f64) -> Result<Self, Error> {
        let c = Self {
            eta,
            max_steps: 1000,
            record_every: 10,
            q_max: 1e12,
        };
        c.validate()?;
        Ok(c)
    }
    /// Check every field.
    pub fn validate(&self) -> Result<(), Error> {
        check_eta(self.eta)?;
        let bad = |name, value, bound| Err(Error::InvalidParameter { name, value, bound });
        if self.record_every == 0 {
            return bad("record_every", 0.0, ">= 1");
        }
        if self.q_max.is_nan() || self.q_max <= 0.0 {
            return bad("q_max", self.q_max, "> 0");
        }
        Ok(())
    }
}

/// The dynamics: loss, selection process and confinement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dynamics<L> {
    /// Per-sample loss ℓ.
    pub loss: L,
    /// Labels y = φ(z) of the data (for the generalisation error).
    pub teacher: Teacher,
    /// Selection process (GD, SGD or p-SGD).
    pub selection: Selection,
    /// ν̂.
    pub confinement: Confinement,
}

/// Observables of w(k) (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PsgdStep {
    /// Step k.
    pub iteration: usize,
    /// t = k η.
    pub time: f64,
    /// (1/n) Σ_μ ℓ(y_μ, X_μ·w) over the whole training set.
    pub train_loss: f64,
    /// m = w·w*/d.
    pub m: f64,
    /// q = w·w/d.
    pub q: f64,
    /// E ℓ on a fresh sample ([`ExpectedLoss::gen_error`]).
    pub gen_error: f64,
    /// Σ_μ s_μ(k)/n, the batch of the update from w(k).
    pub batch_fraction: f64,
}

/// A p-SGD problem: the data, the dynamics run on it and the start.
#[derive(Debug, Clone, Copy)]
pub struct Problem<'a, L> {
    /// Inputs, labels and teacher (‖w*‖²/d = 1, e.g. [`gd::spherical_teacher`]).
    pub data: gd::Problem<'a>,
    /// Loss, teacher labels, selection process and confinement.
    pub dynamics: Dynamics<L>,
    /// w(0).
    pub start: Start,
}

/// Run from the problem's start (drawn from `rng`, which then drives the selection and is
/// advanced past every draw) until [`Config::max_steps`] or a divergence; the final w.
pub fn run<L: ExpectedLoss>(
    problem: &Problem<'_, L>,
    config: &Config,
    rng: &mut Rng,
) -> Result<Outcome<PsgdStep>, Error> {
    let w0 = draw(&problem.start, problem.data.w_star(), rng)?;
    let mut st = Stepper::new(&problem.data, &problem.dynamics, w0, config, rng.clone())?;
    let trace = drive(&mut st, config)?;
    let w = st.w().to_vec();
    *rng = st.into_rng();
    Ok(Outcome { trace, w })
}

/// A [`Driver`] with the divergence rules of every p-SGD run: q above `q_max`, m non-finite,
/// or a measured training loss non-finite (each naming its quantity). Callers add their own
/// stop rules (success, budget, cap) and the measuring schedule
/// ([`Driver::record_every`]: the whole-set training loss is measured at recorded steps and at
/// the end) after these.
pub fn driver<'d, 's, L: ExpectedLoss>(q_max: f64) -> Driver<'d, Stepper<'s, L>> {
    Driver::new()
        .stop(stop::divergence("q", |o: &Observation| o.step.q, q_max))
        .stop(stop::divergence(
            "m",
            |o: &Observation| o.step.m,
            f64::INFINITY,
        ))
        .stop(stop::named("divergence", |k: usize, o: &Observation| {
            (o.measured && !o.step.train_loss.is_finite())
                .then(|| Termination::diverged(k, "train_loss"))
        }))
}

/// Drive a [`Stepper`] with the stop rules of the module docs; records the measured steps
/// (every [`Config::record_every`]) and the last one.
pub fn drive<L: ExpectedLoss>(
    st: &mut Stepper<'_, L>,
    config: &Config,
) -> Result<Trace<PsgdStep>, Error> {
    let trace = driver(config.q_max)
        .stop(stop::max_iterations(config.max_steps))
        .record_every(config.record_every)
        .run(st)?;
    Ok(trace.map(|o| o.step))
}
