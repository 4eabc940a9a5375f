//! `gardner.dmft(config)`: one DMFT case, the same keys as `cargo xtask dmft <config.toml>`.

use crate::convert::{self, Out};
use crate::interrupt;
use gardner_theory::dmft::{Config, solve};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Solve the dynamical mean-field theory of GD, SGD or persistent SGD for one case.
///
/// Conventions: X_{μi} ~ N(0, 1/d), loss summed over samples, ridge (λ/2)‖w‖²,
/// |w*|²/d = 1, w(0) = m0 w* + a component orthogonal to w* of squared norm (q0 − m0²) d;
/// labels y = h0 (``loss = "square"``) or y = |h0| (``"phase_retrieval"``).
///
/// Args:
///     config: dict with the keys of ``cargo xtask dmft``: ``loss``, ``alpha``,
///         ``regularisation`` (``{"ridge": 0.1}`` or ``{"spherical": True}``), ``m0``, ``q0``,
///         ``algorithm`` (``{"kind": "gd", "eta": 0.05}``, ``{"kind": "flow"}``,
///         ``{"kind": "sgd", "eta": …, "b": …, "batch": "mean"}``,
///         ``{"kind": "psgd", "eta": …, "b": …, "tau": …, "batch": "mean"}``; ``batch`` is
///         required for sgd/psgd: ``"mean"`` divides the mini-batch gradient by b, the talk's
///         convention, ``"sum"`` is the plain sum),
///         ``times`` (physical times t = k η), ``method`` (``"dmft"`` or ``"exact"``), optional
///         ``dt``, ``particles``, ``seed``, ``replicas`` (independent particle runs averaged),
///         ``checkpoint`` (a file to save to / resume from), ``checkpoint_every`` (steps).
///
/// Returns:
///     dict of float64 arrays ``time, m, q, train_loss, gen_error`` (one entry per requested
///     time reached), list ``status`` and the overall ``termination``; with ``replicas`` > 1
///     also ``m_stderr, q_stderr, train_loss_stderr`` (Monte-Carlo standard errors); for the
///     gradient flow with ridge also ``error_estimate`` (the Richardson estimate of the
///     discretisation error, largest over m, q, train_loss); for the particle solvers also
///     ``response_ess`` (the smallest effective number of particles carrying a row of the
///     memory kernel M_R; a few of N means a heavy-tailed, biased estimate) and
///     ``response_ess_time`` (the time of that row) and ``response_ess_first`` (the same for
///     the first row, whose spread is the curvature's alone: the reference).
///
/// Raises:
///     ValueError: invalid config (the message names the parameter and its bound).
///     RuntimeError: a numerical failure (e.g. a failed integral).
#[pyfunction]
pub fn dmft<'py>(py: Python<'py>, config: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
    let cfg: Config = convert::from_dict("config", config)?;
    let sol = interrupt::run(py, move || solve(&cfg))?.map_err(crate::theory::theory_error)?;
    let col = |f: fn(&gardner_theory::dmft::SolutionRow) -> f64| sol.rows.iter().map(f).collect();
    let replicated = !sol.rows.is_empty() && sol.rows.iter().all(|r| r.m_stderr.is_some());
    let se = |f: fn(&gardner_theory::dmft::SolutionRow) -> Option<f64>| {
        sol.rows.iter().map(|r| f(r).unwrap_or(f64::NAN)).collect()
    };
    let out = Out::new(py)
        .floats("time", col(|r| r.time))?
        .floats("m", col(|r| r.m))?
        .floats("q", col(|r| r.q))?
        .floats("train_loss", col(|r| r.train_loss))?
        .floats("gen_error", col(|r| r.gen_error))?
        .item(
            "status",
            sol.rows
                .iter()
                .map(|r| r.status.clone())
                .collect::<Vec<_>>(),
        )?
        .item("termination", sol.status.clone())?;
    let out = match sol.error_estimate {
        Some(e) => out.item("error_estimate", e)?,
        None => out,
    };
    let out = match sol.response_ess {
        Some(e) => out
            .item("response_ess", e.particles)?
            .item("response_ess_time", e.time)?
            .item("response_ess_first", e.first)?,
        None => out,
    };
    let out = if replicated {
        out.floats("m_stderr", se(|r| r.m_stderr))?
            .floats("q_stderr", se(|r| r.q_stderr))?
            .floats("train_loss_stderr", se(|r| r.train_loss_stderr))?
    } else {
        out
    };
    Ok(out.finish())
}
