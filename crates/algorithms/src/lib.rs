//! # gardner-algorithms: finite-d algorithms on teacher data
//!
//! Every algorithm has a `Config` (serde, tuning parameters with defaults) and one entry point
//! `run(problem, &config, rng) -> Result<Outcome<_>, Error>`: [`gamp::run`], [`gd::run`],
//! [`overparam::run`], [`psgd::run`], [`erm::run`]. The [`Outcome`] holds the [`Trace`] of
//! per-iteration observables, ending in a [`Termination`] and naming the stop rule that fired
//! ([`Trace::rule`]), and the final estimate. Starting points are part of the problem or the
//! config ([`Init`], [`psgd::Start`], [`erm::Problem::starting_at`]); the deterministic ERM
//! solvers leave the rng untouched. Each iteration is a [`gardner_models::run::Step`] driven
//! by the shared [`gardner_models::run::Driver`]: stopping criteria are its stop rules, costly
//! observables are measured on its schedule ([`gardner_models::run::Step::measure`]) and the
//! step-halving of the gradient methods is its [`gardner_models::run::HalveOnIncrease`] guard.
//! The vector kernels shared by the algorithms live in the private module `kernels`.

pub mod erm;
pub mod error;
pub mod gamp;
pub mod gd;
mod kernels;
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
