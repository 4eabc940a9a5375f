//! Binding of GAMP on fresh teacher data.

use crate::convert::{self, Out, value_error};
use crate::{interrupt, status};
use gardner_algorithms::gamp::{self as algo, Config};
use gardner_models::data::{sample_count, teacher_data};
use gardner_models::rng::stream;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The GAMP configuration: the defaults with the given overrides, validated.
fn config(
    damping: Option<f64>,
    max_iter: Option<usize>,
    tol: Option<f64>,
    init_variance: Option<f64>,
) -> PyResult<Config> {
    let d = Config::default();
    let cfg = Config {
        damping: damping.unwrap_or(d.damping),
        max_iter: max_iter.unwrap_or(d.max_iter),
        tol: tol.unwrap_or(d.tol),
        init_variance: init_variance.unwrap_or(d.init_variance),
        ..d
    };
    cfg.validate().map_err(value_error)?;
    Ok(cfg)
}

/// Run GAMP (Bayes-optimal, uniform-variance form) on fresh teacher data at dimension d.
///
/// Data: w*_i ~ prior, X_{μi} ~ N(0, 1/d), n = round(α d), y_μ ~ channel(X_μ·w*), then the
/// random start, all drawn in this order from the Xoshiro256++ stream ``seed`` (stream index 0):
/// the same seed gives the same trace.
///
/// Args:
///     prior, channel: dicts as in :func:`state_evolution`.
///     alpha: sample ratio n/d.
///     d: dimension (memory ≈ 8 α d² bytes for X).
///     seed: seed of the random stream (int ≥ 0).
///     damping: fraction β ∈ [0, 1) of the old iterate kept (default 0.3).
///     max_iter: iteration budget (default 1000).
///     tol: convergence when ‖a_t − a_{t−1}‖²/(dρ) < tol (default 1e-10).
///     init_variance: variance of the random start in units of ρ (default 1e-4).
///
/// Returns:
///     dict of per-iteration arrays ``iteration`` (int64, from 1), ``m`` (a·w*/d; |m| for
///     sign-invariant models such as phase retrieval), ``q`` (a·a/d), ``mse`` (‖a − w*‖²/d),
///     ``test_error`` (angle between a and w* over π), ``variance`` (mean posterior variance),
///     ``change``; ``termination`` (``ok``, ``not_converged``, ``failed: …``), ``n`` and ``d``.
#[pyfunction]
#[pyo3(signature = (prior, channel, alpha, d, seed, damping = None, max_iter = None, tol = None, init_variance = None))]
#[allow(clippy::too_many_arguments)]
pub fn gamp<'py>(
    py: Python<'py>,
    prior: &Bound<'py, PyAny>,
    channel: &Bound<'py, PyAny>,
    alpha: f64,
    d: usize,
    seed: u64,
    damping: Option<f64>,
    max_iter: Option<usize>,
    tol: Option<f64>,
    init_variance: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let (prior, channel) = (convert::prior(prior)?, convert::channel(channel)?);
    let cfg = config(damping, max_iter, tol, init_variance)?;
    let n = sample_count(alpha, d).map_err(value_error)?;
    let trace = interrupt::run(py, move || {
        let mut rng = stream(seed, 0);
        let data = teacher_data(&prior, &channel, d, alpha, &mut rng).map_err(|e| e.to_string())?;
        let problem = algo::Problem::new(&data, &prior, &channel);
        algo::run(&problem, &cfg, &mut rng)
            .map(|o| o.trace)
            .map_err(|e| e.to_string())
    })?
    .map_err(value_error)?;
    let col = |f: fn(&algo::GampStep) -> f64| trace.steps.iter().map(f).collect::<Vec<f64>>();
    Ok(Out::new(py)
        .ints(
            "iteration",
            trace.steps.iter().map(|s| s.iteration as i64).collect(),
        )?
        .floats("m", col(|s| s.m))?
        .floats("q", col(|s| s.q))?
        .floats("mse", col(|s| s.mse))?
        .floats("test_error", col(|s| s.test_error))?
        .floats("variance", col(|s| s.variance))?
        .floats("change", col(|s| s.change))?
        .item("termination", status::of(&trace.termination))?
        .item("n", n)?
        .item("d", d)?
        .finish())
}
