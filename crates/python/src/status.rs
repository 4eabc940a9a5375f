//! The `status` strings of the results (`ok`, `not_converged`, `failed: …`): every result of
//! theory and algorithms ends in the one `gardner_models::run::Termination`.

use gardner_models::run::Termination;

/// The `status` cell of a termination.
pub fn of(termination: &Termination) -> String {
    termination.status()
}
