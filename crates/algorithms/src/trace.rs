//! The record every iterative algorithm returns.

use serde::{Deserialize, Serialize};

/// Why an iterative algorithm stopped. Non-convergence is a status, not an error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Termination {
    /// The convergence criterion was met.
    Converged,
    /// The iteration budget ran out before convergence.
    MaxIterations,
    /// The iterate became non-finite or blew up (names the iteration).
    Diverged { iteration: usize },
}

impl Termination {
    /// `ok`, `not_converged` or `failed: diverged at iteration k`, the `status` column of tables.
    pub fn status(&self) -> String {
        match self {
            Termination::Converged => "ok".into(),
            Termination::MaxIterations => "not_converged".into(),
            Termination::Diverged { iteration } => {
                format!("failed: diverged at iteration {iteration}")
            }
        }
    }
}

/// Per-iteration observables (rows) and the final status of a run.
///
/// `O` is the algorithm's observable record (e.g. GAMP's m, q, MSE, test error, change).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace<O> {
    /// One record per iteration, in order.
    pub steps: Vec<O>,
    /// Why the run stopped.
    pub termination: Termination,
}

impl<O> Trace<O> {
    /// The last recorded observables, if any.
    pub fn last(&self) -> Option<&O> {
        self.steps.last()
    }
    /// Number of recorded iterations.
    pub fn iterations(&self) -> usize {
        self.steps.len()
    }
}
