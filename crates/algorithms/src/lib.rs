//! # gardner-algorithms: finite-d algorithms on teacher data
//!
//! Every algorithm has a `Config` (serde, tuning parameters with defaults) and a
//! `run(problem, &config, rng) -> Result<Trace<_>, Error>`; the [`Trace`] records
//! per-iteration observables and ends in a [`Termination`].

pub mod erm;
pub mod error;
pub mod gamp;
pub mod gd;
pub mod overparam;
pub mod trace;

pub use error::Error;
pub use gamp::{Gamp, GampStep};
pub use trace::{Termination, Trace};
