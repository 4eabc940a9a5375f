//! # gardner-algorithms: finite-d algorithms on teacher data
//!
//! Every algorithm has a `Config` (serde, tuning parameters with defaults) and a
//! `run(problem, &config, rng) -> Result<Trace<_>, Error>`; the [`Trace`] records
//! per-iteration observables and ends in a [`Termination`]. The iterative algorithms (GAMP,
//! spherical GD, over-parametrised GD, the ERM solvers of [`erm`]: ridge, logistic Newton–CG,
//! hinge dual) are [`gardner_models::run::Step`]s driven by the shared
//! [`gardner_models::run::Driver`]: their stopping criteria are its stop rules and the
//! step-halving of the gradient methods is its [`gardner_models::run::HalveOnIncrease`] guard.

pub mod erm;
pub mod error;
pub mod gamp;
pub mod gd;
pub mod kernels;
pub mod overparam;
pub mod psgd;

pub use error::Error;
pub use gamp::{Gamp, GampStep};
pub use gardner_models::run::{Termination, Trace};

/// What every `run` returns: the trace of the run and the final estimate (w for GD, p-SGD,
/// GAMP and the ERM solvers; the d × m first layer W for over-parametrised GD).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<O, W = Vec<f64>> {
    /// The recorded observables and how the run ended.
    pub trace: Trace<O>,
    /// The final estimate.
    pub w: W,
}

/// Where an iterative algorithm starts: a random point drawn from the run's stream (each
/// algorithm documents its law), or a given iterate (a warm start).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Init<W> {
    /// Drawn from the `rng` of `run`.
    #[default]
    Random,
    /// This iterate.
    At(W),
}

/// faer parallelism for `threads` worker threads: `Par::Seq` for 0 or 1, rayon otherwise.
pub fn par(threads: usize) -> faer::Par {
    if threads <= 1 {
        faer::Par::Seq
    } else {
        faer::Par::rayon(threads)
    }
}
