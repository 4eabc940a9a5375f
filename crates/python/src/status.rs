//! The `status` strings of the results (`ok`, `not_converged`, `failed: …`), one helper per
//! status type so that a change of the Rust status types is a one-line change here.

use gardner_theory::SeStatus;
use gardner_theory::erm::FixedPointStatus;

/// State evolution.
pub fn se(status: SeStatus) -> String {
    match status {
        SeStatus::Converged => "ok".into(),
        SeStatus::MaxIterations => "not_converged".into(),
    }
}

/// ERM fixed points and the optimal-λ search.
pub fn erm(status: FixedPointStatus) -> String {
    status.status().into()
}

/// Iterative algorithms (GAMP).
pub fn algorithm(termination: &gardner_algorithms::Termination) -> String {
    termination.status()
}
