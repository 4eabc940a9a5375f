//! Stopping rule for `roots::find_root_brent` with an absolute tolerance in x only.
//!
//! `roots::SimpleConvergency` applies one absolute `eps` to both x and f(x); with f of
//! arbitrary scale that either stops too early or never. [`XTol`] converges when the bracket
//! is narrower than `xtol`, accepts exact zeros, and stops after `max_iter` steps.

use roots::Convergency;

/// Convergence in x only (absolute `xtol`), exact zeros accepted, at most `max_iter` steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct XTol {
    pub xtol: f64,
    pub max_iter: usize,
}

impl Convergency<f64> for XTol {
    fn is_root_found(&mut self, y: f64) -> bool {
        y == 0.0
    }
    fn is_converged(&mut self, x1: f64, x2: f64) -> bool {
        (x1 - x2).abs() <= self.xtol
    }
    fn is_iteration_limit_reached(&mut self, iter: usize) -> bool {
        iter >= self.max_iter
    }
}
