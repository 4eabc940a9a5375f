//! # gardner (Python): `import gardner` in a notebook
//!
//! A PyO3 extension module built with maturin (`pip install ./crates/python`) exposing the
//! theory and the simulations of the workspace as plain functions: priors and channels are
//! dicts with the schema of the figure specs (`{"kind": "gaussian", "rho": 1.0}`,
//! `{"kind": "abs"}`), results are dicts of numpy float64 arrays (per α, per iteration) or
//! floats, with a `status` (`ok`, `not_converged`, `failed: …`).
//!
//! One concept per module: `convert` (dicts → specs, results → dicts), `interrupt` (long
//! calls on a worker thread, GIL released, Ctrl-C), `status` (status strings), `theory`
//! (state evolution, thresholds, ERM), `gamp`, `dmft`, `reproduce` (the figures).
//!
//! Invalid input raises `ValueError` with the Rust message (the one the command line
//! prints); a numerical failure on valid input raises `RuntimeError`.

mod convert;
mod dmft;
mod gamp;
mod interrupt;
mod reproduce;
mod status;
mod theory;

use pyo3::prelude::*;

/// gardner: theory and simulation of high-dimensional teacher–student learning.
///
/// Conventions (as in the Rust workspace): inputs X_{μi} ~ N(0, 1/d), n = round(α d) samples,
/// teacher w*_i ~ P_w with ρ = E w², labels y_μ ~ P_out(· | X_μ·w*); overlaps m = ŵ·w*/d and
/// q = ŵ·ŵ/d; ERM minimises Σ_μ ℓ(y_μ, X_μ·w) + (λ/2)‖w‖² (losses summed over samples).
///
/// Priors (dicts): ``{"kind": "gaussian", "rho": 1.0}``, ``{"kind": "rademacher"}``,
/// ``{"kind": "gauss_bernoulli", "sparsity": 0.3, "variance": 1.0}``.
/// Channels: ``{"kind": "sign"}``, ``{"kind": "probit", "delta": 0.1}``, ``{"kind": "abs"}``
/// (phase retrieval), ``{"kind": "linear", "delta": 0.0}``.
///
/// Functions: state_evolution, thresholds, erm, optimal_lambda, gamp, dmft, reproduce.
/// Invalid input raises ValueError with the Rust message; long calls release the GIL and
/// can be interrupted with Ctrl-C (KeyboardInterrupt).
#[pymodule]
fn gardner(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(theory::state_evolution, m)?)?;
    m.add_function(wrap_pyfunction!(theory::thresholds, m)?)?;
    m.add_function(wrap_pyfunction!(theory::erm, m)?)?;
    m.add_function(wrap_pyfunction!(theory::optimal_lambda, m)?)?;
    m.add_function(wrap_pyfunction!(gamp::gamp, m)?)?;
    m.add_function(wrap_pyfunction!(reproduce::reproduce, m)?)?;
    m.add_function(wrap_pyfunction!(dmft::dmft, m)?)?;
    m.add_function(wrap_pyfunction!(theory::_state_evolution_rust_seconds, m)?)?;
    Ok(())
}
