//! GD, SGD and persistent SGD on phase retrieval with a spherical student, shared by fig6,
//! fig7 ([`crate::figs::dynamics`]) and fig8: teacher w* on the sphere ‖w*‖² = d,
//! X_{μi} ~ N(0, 1/d), y = |X w*|, n = round(α d); student ‖w‖² = d, loss
//! Σ_μ (h_μ² − y_μ²)²/4, update w ← w − η [ν w + Σ_μ s_μ ℓ'(y_μ, h_μ) X_μ], then
//! w ← √d w/‖w‖, t = k η. Selection s_μ: GD b = 1; SGD a fresh Bernoulli(b) batch every step
//! (τ = η/b); p-SGD the two-state chain P(0→1) = η/τ, P(1→0) = (1 − b)η/(bτ).

use crate::Error;
use crate::experiment::check_positive;
use gardner_algorithms::gd::{Problem, spherical_teacher};
use gardner_algorithms::psgd::{self, Batch, Confinement, Dynamics, Selection, Start, Teacher};
use gardner_models::PhaseRetrieval;
use gardner_models::rng::Rng;
use gardner_models::run::{Step as _, Termination};
use gardner_theory::dmft;
use serde::{Deserialize, Serialize};

/// The three algorithms (one dynamics, three selection processes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    Gd,
    Sgd,
    Psgd,
}

/// Recovery of the signal: |m| ≥ this (fig8's success; fig6/fig7's recovery, on the
/// oriented m).
pub const RECOVERY_OVERLAP: f64 = 0.99;
/// A run whose q = ‖w‖²/d exceeds this has diverged.
pub const Q_MAX: f64 = 1e6;

/// The algorithms, in table order.
pub const ALGORITHMS: [Algorithm; 3] = [Algorithm::Gd, Algorithm::Sgd, Algorithm::Psgd];

impl Algorithm {
    /// `gd`, `sgd`, `psgd`.
    pub fn name(&self) -> &'static str {
        match self {
            Algorithm::Gd => "gd",
            Algorithm::Sgd => "sgd",
            Algorithm::Psgd => "psgd",
        }
    }
}

/// The step and the selection processes of the three algorithms (flattened into a spec).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// Learning rate η (physical time t = k η).
    pub eta: f64,
    /// Batch fraction b of SGD and p-SGD.
    pub b: f64,
    /// Persistence time τ of p-SGD.
    pub tau: f64,
    /// Batch convention of SGD and p-SGD (required: `mean`, the talk's, or `sum`).
    pub batch: Batch,
}

impl Schedule {
    /// `Ok` when η, τ > 0, b ∈ (0, 1] and every algorithm's selection gives probabilities at
    /// each step of `etas`.
    pub fn validate(&self, etas: &[f64]) -> Result<(), Error> {
        check_positive("eta", self.eta)?;
        check_positive("tau", self.tau)?;
        if !(self.b > 0.0 && self.b <= 1.0) {
            return Err(format!("invalid parameter `b` = {}: must be in (0, 1]", self.b).into());
        }
        for a in ALGORITHMS {
            for &eta in etas {
                self.selection(a, eta)?;
            }
        }
        Ok(())
    }
    /// The selection process of `a` at step `eta`, checked to give probabilities.
    pub fn selection(&self, a: Algorithm, eta: f64) -> Result<Selection, Error> {
        let s = match a {
            Algorithm::Gd => Selection::gd(),
            Algorithm::Sgd => Selection::sgd(self.b, eta, self.batch)?,
            Algorithm::Psgd => Selection::persistent(self.b, self.tau, self.batch)?,
        };
        s.probabilities(eta)?;
        Ok(s)
    }
    /// The DMFT's algorithm for `a` (time step η).
    pub fn dmft(&self, a: Algorithm) -> dmft::Algorithm {
        let (eta, b, tau, batch) = (self.eta, self.b, self.tau, self.batch);
        match a {
            Algorithm::Gd => dmft::Algorithm::Gd { eta },
            Algorithm::Sgd => dmft::Algorithm::Sgd { eta, b, batch },
            Algorithm::Psgd => dmft::Algorithm::Psgd { eta, b, tau, batch },
        }
    }
    /// The fraction of samples a step of `a` touches on average: 1 for GD, else b.
    pub fn batch_fraction(&self, a: Algorithm) -> f64 {
        if a == Algorithm::Gd { 1.0 } else { self.b }
    }
    /// The summary's statement of the batch convention.
    pub fn batch_convention(&self) -> String {
        let b = self.b;
        match self.batch {
            Batch::Mean => format!(
                "mean: the mini-batch gradient is divided by b = {b} (the talk's convention; its DMFT kernels carry alpha/b^2 and alpha/b): SGD and p-SGD have the mean drift of GD per unit time t"
            ),
            Batch::Sum => format!(
                "sum: the mini-batch gradient is the plain sum over the selected samples (no 1/b): on average SGD and p-SGD move b = {b} times as far per unit time as GD; the talk divides by b instead"
            ),
        }
    }
}

/// Peak memory of one simulation at (α, d): X and its transposed copy plus O(n + d) vectors.
pub fn task_bytes(alpha: f64, d: usize) -> u64 {
    let n = (alpha * d as f64).round() as u64;
    16 * n * d as u64 + 64 * (n + d as u64)
}

/// Fresh teacher data at (d, α) and the student's stepper from `start`, handed to `f`.
pub fn with_stepper<R>(
    (d, alpha): (usize, f64),
    selection: Selection,
    config: &psgd::Config,
    start: &Start,
    rng: &mut Rng,
    f: impl FnOnce(&mut psgd::Stepper<'_, PhaseRetrieval>) -> Result<R, Error>,
) -> Result<R, Error> {
    let data = spherical_teacher(d, alpha, rng)?;
    let problem = Problem::from_dataset(&data)?;
    let dynamics = Dynamics {
        loss: PhaseRetrieval,
        teacher: Teacher::Abs,
        selection,
        confinement: Confinement::Spherical,
    };
    let w0 = psgd::draw(start, problem.w_star(), rng)?;
    let mut st = psgd::Stepper::new(&problem, &dynamics, w0, config, rng.clone())?;
    f(&mut st)
}

/// The stepper advanced to each of `times` (multiples of `eta`), with m and the whole-set
/// training loss (1/n) Σ_μ ℓ measured there (a full pass over X, so only at those times); a
/// non-finite value or q > `q_max` ends the run as diverged at that step.
pub fn on_grid(
    st: &mut psgd::Stepper<'_, PhaseRetrieval>,
    times: &[f64],
    (eta, q_max): (f64, f64),
) -> Result<(Vec<f64>, Vec<f64>, Termination), Error> {
    let (mut m, mut train_loss, mut k) = (Vec::new(), Vec::new(), 0usize);
    for &t in times {
        while k < (t / eta).round() as usize {
            st.advance()?;
            k += 1;
        }
        let (o, e) = (st.observe()?.step, st.train_loss());
        let bad = [("q", o.q), ("m", o.m), ("train_loss", e)]
            .into_iter()
            .find(|&(name, v)| !v.is_finite() || (name == "q" && v > q_max));
        if let Some((quantity, _)) = bad {
            return Ok((m, train_loss, Termination::diverged(k, quantity)));
        }
        m.push(o.m);
        train_loss.push(e);
    }
    Ok((m, train_loss, Termination::Converged))
}
