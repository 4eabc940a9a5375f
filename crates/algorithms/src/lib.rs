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

/// faer parallelism for `threads` worker threads: `Par::Seq` for 0 or 1, rayon otherwise.
pub fn par(threads: usize) -> faer::Par {
    if threads <= 1 {
        faer::Par::Seq
    } else {
        faer::Par::rayon(threads)
    }
}
