//! Bindings of the large-d theory: state evolution, thresholds, ERM fixed points.

use crate::convert::{self, Out, runtime_error, value_error};
use crate::{interrupt, status};
use gardner_models::{AnyChannel, AnyPrior, ChannelSpec, Prior};
use gardner_theory::bayes::free_entropy_at;
use gardner_theory::erm::{self as erm_theory, ErmConfig, ErmPoint, ErmProblem, LambdaSearch};
use gardner_theory::{
    Error, SeConfig, SeResult, Start, ThresholdConfig, class_error, gen_error_sq, se_curve,
};
use numpy::{AllowTypeChange, PyArrayLike1};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde::Serialize;

/// Whether a theory error is about the input (as opposed to a numerical failure).
fn is_invalid_input(e: &Error) -> bool {
    matches!(e, Error::InvalidParameter { .. } | Error::Model(_))
}

/// A theory error as a Python exception: invalid input is a `ValueError`, a numerical
/// failure on valid input a `RuntimeError`; the message is the Rust one.
pub(crate) fn theory_error(e: Error) -> PyErr {
    if is_invalid_input(&e) {
        value_error(e)
    } else {
        runtime_error(e)
    }
}

/// The snake_case name of a unit enum variant (its serde name).
fn variant_name(value: impl Serialize) -> String {
    match toml::Value::try_from(value) {
        Ok(toml::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

/// `"uninformed"`, `"informed"` or an overlap m0 (a number).
fn parse_start(start: &Bound<'_, PyAny>) -> PyResult<Start> {
    if let Ok(s) = start.cast::<PyString>() {
        return match s.to_str()? {
            "uninformed" => Ok(Start::Uninformed),
            "informed" => Ok(Start::Informed),
            other => Err(value_error(format!(
                "unknown start `{other}`: must be \"uninformed\", \"informed\" or an overlap m0 in (0, rho)"
            ))),
        };
    }
    start.extract::<f64>().map(Start::Overlap).map_err(|_| {
        value_error("start must be \"uninformed\", \"informed\" or an overlap m0 in (0, rho)")
    })
}

/// The outputs of state evolution at one α.
struct SePoint {
    m: f64,
    mse: f64,
    m_hat: f64,
    free_entropy: f64,
    gen_error: f64,
    class_error: f64,
    status: String,
}

impl SePoint {
    fn failed(e: &Error) -> Self {
        Self {
            m: f64::NAN,
            mse: f64::NAN,
            m_hat: f64::NAN,
            free_entropy: f64::NAN,
            gen_error: f64::NAN,
            class_error: f64::NAN,
            status: format!("failed: {}", convert::one_line(&e.to_string())),
        }
    }
}

/// Free entropy and generalisation errors at a state-evolution fixed point (q = m).
fn se_point(prior: &AnyPrior, channel: &AnyChannel, fp: &SeResult) -> Result<SePoint, Error> {
    let rho = prior.rho();
    Ok(SePoint {
        m: fp.m,
        mse: fp.mse,
        m_hat: fp.m_hat,
        free_entropy: free_entropy_at(prior, channel, fp)?,
        gen_error: gen_error_sq(channel, fp.m, rho)?,
        class_error: class_error(fp.m, fp.m, rho)?,
        status: status::of(&fp.status),
    })
}

/// The Rust computation behind [`state_evolution`]: fixed points along `alphas`, each with
/// its free entropy and errors.
fn se_points(
    prior: &AnyPrior,
    channel: &AnyChannel,
    alphas: &[f64],
    start: Start,
    cfg: &SeConfig,
) -> Vec<Result<SePoint, Error>> {
    se_curve(prior, channel, alphas, start, cfg)
        .into_iter()
        .map(|r| r.and_then(|fp| se_point(prior, channel, &fp)))
        .collect()
}

/// Seconds per call of the Rust computation behind `state_evolution(prior, channel, [alpha])`
/// (mean over `repeats`), to measure the binding's overhead; not part of the API.
#[pyfunction]
pub fn _state_evolution_rust_seconds(
    prior: &Bound<'_, PyAny>,
    channel: &Bound<'_, PyAny>,
    alpha: f64,
    repeats: usize,
) -> PyResult<f64> {
    let (prior, channel) = (convert::prior(prior)?, convert::channel(channel)?);
    let cfg = SeConfig::default();
    let t0 = std::time::Instant::now();
    for _ in 0..repeats {
        std::hint::black_box(se_points(
            &prior,
            &channel,
            &[alpha],
            Start::Uninformed,
            &cfg,
        ));
    }
    Ok(t0.elapsed().as_secs_f64() / repeats.max(1) as f64)
}

/// State evolution of Bayes-optimal GAMP along a list of α (by continuation).
///
/// Args:
///     prior: teacher prior as a dict, e.g. ``{"kind": "gaussian", "rho": 1.0}``,
///         ``{"kind": "rademacher"}``, ``{"kind": "gauss_bernoulli", "sparsity": 0.3, "variance": 1.0}``.
///     channel: output channel as a dict, e.g. ``{"kind": "abs"}`` (phase retrieval),
///         ``{"kind": "sign"}``, ``{"kind": "probit", "delta": 0.1}``, ``{"kind": "linear", "delta": 0.0}``.
///     alphas: sample ratios α = n/d (a sequence or 1-d array, any order).
///     start: ``"uninformed"`` (small overlap: what AMP from a random start reaches),
///         ``"informed"`` (the branch of the planted solution) or an overlap m0 in (0, ρ).
///     config: optional dict of tuning parameters (``method``, ``damping``, ``tol``,
///         ``max_iter``, ``m0_uninformed``, ``x_step``).
///
/// Returns:
///     dict of float64 arrays in the order of ``alphas``: ``alpha``, ``m`` (overlap
///     ŵ·w*/d), ``q`` (= m on the Nishimori line), ``mse`` (ρ − m), ``m_hat``, ``gen_error``
///     (squared-loss error of the Bayes predictor, E_ω Var(y | ω)), ``class_error``
///     (arccos(√(m/ρ))/π), ``free_entropy`` (f_RS at the fixed point; ±inf only at perfect
///     recovery), and ``status`` (list of str: ``ok``, ``not_converged`` or ``failed: …``,
///     then the numbers are NaN).
///
/// Raises:
///     ValueError: invalid prior, channel, α, start or config (the Rust message).
#[pyfunction]
#[pyo3(
    signature = (prior, channel, alphas, start = None, config = None),
    text_signature = "(prior, channel, alphas, start=\"uninformed\", config=None)"
)]
pub fn state_evolution<'py>(
    py: Python<'py>,
    prior: &Bound<'py, PyAny>,
    channel: &Bound<'py, PyAny>,
    alphas: PyArrayLike1<'py, f64, AllowTypeChange>,
    start: Option<&Bound<'py, PyAny>>,
    config: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let (prior, channel) = (convert::prior(prior)?, convert::channel(channel)?);
    let alphas = convert::floats(alphas)?;
    let start = start.map_or(Ok(Start::Uninformed), parse_start)?;
    let cfg: SeConfig = convert::config_or_default("config", config)?;
    cfg.validate().map_err(theory_error)?;
    let work_alphas = alphas.clone();
    let results = interrupt::run(py, move || {
        se_points(&prior, &channel, &work_alphas, start, &cfg)
    })?;
    // invalid input (e.g. an α ≤ 0) raises; a numerical failure is that point's status
    let mut points = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok(p) => points.push(p),
            Err(e) if is_invalid_input(&e) => return Err(value_error(e)),
            Err(e) => points.push(SePoint::failed(&e)),
        }
    }
    let col = |f: fn(&SePoint) -> f64| points.iter().map(f).collect::<Vec<f64>>();
    Ok(Out::new(py)
        .floats("alpha", alphas)?
        .floats("m", col(|p| p.m))?
        .floats("q", col(|p| p.m))?
        .floats("mse", col(|p| p.mse))?
        .floats("m_hat", col(|p| p.m_hat))?
        .floats("gen_error", col(|p| p.gen_error))?
        .floats("class_error", col(|p| p.class_error))?
        .floats("free_entropy", col(|p| p.free_entropy))?
        .item(
            "status",
            points.iter().map(|p| p.status.clone()).collect::<Vec<_>>(),
        )?
        .finish())
}

/// Information-theoretic and algorithmic thresholds α_IT and α_AMP of Bayes-optimal learning.
///
/// Args:
///     prior, channel: dicts as in :func:`state_evolution`.
///     config: optional dict (``alpha_min``, ``alpha_max``, ``grid_ratio``, ``alpha_tol``,
///         ``se`` = a state-evolution config dict).
///
/// Returns:
///     dict ``alpha_it``, ``alpha_amp`` (floats, or None when no first-order transition lies in
///     the scanned range) and ``it_kind`` (how α_IT was found: ``free_entropy_crossing``,
///     ``branch_onset``, ``at_spinodal`` or ``no_transition``).
///
/// Raises:
///     ValueError: invalid prior, channel or config. RuntimeError: a failed integral.
#[pyfunction]
#[pyo3(signature = (prior, channel, config = None))]
pub fn thresholds<'py>(
    py: Python<'py>,
    prior: &Bound<'py, PyAny>,
    channel: &Bound<'py, PyAny>,
    config: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let (prior, channel) = (convert::prior(prior)?, convert::channel(channel)?);
    let cfg: ThresholdConfig = convert::config_or_default("config", config)?;
    let t = interrupt::run(py, move || {
        gardner_theory::thresholds(&prior, &channel, &cfg)
    })?
    .map_err(theory_error)?;
    Ok(Out::new(py)
        .item("alpha_it", t.alpha_it)?
        .item("alpha_amp", t.alpha_amp)?
        .item("it_kind", variant_name(t.it_kind))?
        .finish())
}

/// The channel of an ERM call: `{"kind": "sign"}` when omitted.
fn erm_channel(channel: Option<&Bound<'_, PyAny>>) -> PyResult<AnyChannel> {
    match channel {
        Some(c) if !c.is_none() => convert::channel(c),
        _ => ChannelSpec::Sign.build().map_err(value_error),
    }
}

/// The fixed point as result columns.
fn erm_out<'py>(out: Out<'py>, p: &ErmPoint) -> PyResult<Out<'py>> {
    let o = &p.overlaps;
    out.item("m", o.m)?
        .item("q", o.q)?
        .item("v", o.v)?
        .item("m_hat", o.m_hat)?
        .item("q_hat", o.q_hat)?
        .item("v_hat", o.v_hat)?
        .item("gen_error", p.test_error)?
        .item("test_label_error", p.test_label_error)?
        .item("train_loss", p.train_loss)?
        .item("train_error", p.train_error)?
        .item("objective", p.objective_per_d)?
        .item("iterations", p.iterations)
}

/// Replica fixed point of ridge-regularised ERM on the GLM (large-d theory).
///
/// The student minimises Σ_μ ℓ(y_μ, X_μ·w) + (λ/2)‖w‖² (losses summed over samples, not
/// averaged), X_{μi} ~ N(0, 1/d), teacher w* ~ N(0, ρ), binary labels from ``channel``.
///
/// Args:
///     loss: ``"square"`` ½(y − z)², ``"logistic"`` ln(1 + e^{−yz}) or ``"hinge"`` max(0, 1 − yz).
///     alpha: sample ratio n/d (> 0).
///     lam: ridge λ ≥ 0 (λ = 0: least squares / least-norm for square, max-margin for hinge;
///         not allowed for logistic).
///     channel: dict with binary labels, default ``{"kind": "sign"}``.
///     rho: teacher variance ρ = E w*².
///     config: optional dict (``damping``, ``min_damping``, ``tol``, ``max_iter``, ``quad_tol``).
///
/// Returns:
///     dict of floats ``m`` (ŵ·w*/d), ``q`` (ŵ·ŵ/d), ``v`` (response V), ``m_hat``,
///     ``q_hat``, ``v_hat``, ``gen_error`` (arccos(m/√(ρq))/π), ``test_label_error``,
///     ``train_loss`` ((1/n) Σ ℓ), ``train_error``, ``objective`` (J/d), ``iterations`` and
///     ``status`` (``ok``, ``not_converged``, ``failed: diverged``).
#[pyfunction]
#[pyo3(signature = (loss, alpha, lam, channel = None, rho = 1.0, config = None))]
pub fn erm<'py>(
    py: Python<'py>,
    loss: &str,
    alpha: f64,
    lam: f64,
    channel: Option<&Bound<'py, PyAny>>,
    rho: f64,
    config: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let channel = erm_channel(channel)?;
    let cfg: ErmConfig = convert::config_or_default("config", config)?;
    let problem =
        ErmProblem::with_loss_name(alpha, lam, rho, loss, channel).map_err(value_error)?;
    let p =
        interrupt::run(py, move || erm_theory::solve(&problem, &cfg))?.map_err(runtime_error)?;
    Ok(erm_out(Out::new(py), &p)?
        .item("status", status::of(&p.status))?
        .finish())
}

/// The ridge λ minimising the ERM test classification error (replica theory).
///
/// Args:
///     loss, alpha, channel, rho, config: as in :func:`erm`.
///     search: optional dict (``lambda_min`` = 1e-4, ``lambda_max`` = 1e2, ``grid``, ``log_tol``).
///
/// Returns:
///     dict ``lam`` (the optimal λ), ``gen_error`` (the error there), ``at_bound`` (the
///     minimum sits at an end of the searched range), ``evaluations``, the fixed point's
///     columns as in :func:`erm`, and ``status`` (the worst status met during the search).
#[pyfunction]
#[pyo3(signature = (loss, alpha, channel = None, rho = 1.0, config = None, search = None))]
pub fn optimal_lambda<'py>(
    py: Python<'py>,
    loss: &str,
    alpha: f64,
    channel: Option<&Bound<'py, PyAny>>,
    rho: f64,
    config: Option<&Bound<'py, PyAny>>,
    search: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let channel = erm_channel(channel)?;
    let cfg: ErmConfig = convert::config_or_default("config", config)?;
    let search: LambdaSearch = convert::config_or_default("search", search)?;
    // λ = 1 is a placeholder: the search solves the problem at its own λ values
    let problem =
        ErmProblem::with_loss_name(alpha, 1.0, rho, loss, channel).map_err(value_error)?;
    let r = interrupt::run(py, move || {
        erm_theory::optimal_lambda(&problem, &cfg, &search)
    })?
    .map_err(|e| match e {
        erm_theory::ErmError::InvalidParameter { .. } => value_error(e),
        e => runtime_error(e),
    })?;
    Ok(erm_out(Out::new(py), &r.point)?
        .item("lam", r.lambda)?
        .item("at_bound", r.at_bound)?
        .item("evaluations", r.evaluations)?
        .item("status", status::of(&r.status))?
        .finish())
}
