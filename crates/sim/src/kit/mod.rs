//! The experiment kit: templates that figures fill in, beside the shared pieces of
//! [`crate::experiment`] (plans, simulations, agreement) and the statistics of
//! [`crate::success`].
//!
//! - [`success_curve`]: success vs α per group (size, width, algorithm): Wilson intervals,
//!   α_½ with bootstrap intervals, finite-size fits (fig4, fig5, fig8).
//! - [`trajectory`]: theory vs simulation over time on a logarithmic grid, agreement in
//!   combined standard errors (fig6, fig7).
//! - [`bayes`]: Bayes-optimal theory (state evolution) beside GAMP at finite d (fig1, fig3).
//!
//! Shared pieces: α grids ([`grid`]), GD/SGD/p-SGD on phase retrieval ([`psgd`]: fig6, fig7,
//! fig8), progress notes ([`note`]).

pub mod bayes;
pub mod grid;
pub mod psgd;
pub mod success_curve;
pub mod trajectory;

use std::sync::atomic::{AtomicBool, Ordering};

static VERBOSE: AtomicBool = AtomicBool::new(false);

/// Print progress notes of the theory side on stderr (front ends turn this on).
pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

/// A progress note on stderr, when verbose.
pub fn note(msg: impl std::fmt::Display) {
    if VERBOSE.load(Ordering::Relaxed) {
        eprintln!("{msg}");
    }
}
