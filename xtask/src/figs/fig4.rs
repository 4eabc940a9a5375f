//! fig4 — gradient descent on phase retrieval (talk, "Performance of gradient descent";
//! Sarao Mannelli, Biroli, Cammarota, Krzakala, Urbani, Zdeborová, arXiv:2006.06997).
//!
//! Spherical GD (`gardner_algorithms::gd`) from a random start on fresh teacher data for every
//! (d, α, seed); success = final |m| ≥ 0.99. Per (α, d): success rate with a 95 % Wilson
//! interval, the final |m| (mean, standard error). Per d: α_½ where the isotonic success curve
//! crosses ½, with a seeded percentile-bootstrap interval; with ≥ 3 sizes a weighted fit
//! α_½(d) = a + b/d. Compared with α_IT and α_AMP of the theory crate and the talk's ≈ 7.

use crate::figure::{Cell, Ctx, Figure, Mode, Output, Plot, Result, Series, Table, err};
use gardner_algorithms::Termination;
use gardner_algorithms::gd::{self, Problem, spherical_teacher};
use gardner_models::{Abs, Gaussian};
use gardner_sim::success::{
    Crossing, SizeEstimate, SuccessPoint, Z95, bootstrap_crossing, extrapolate_in_inverse_d,
    fit_sigma, wilson,
};
use gardner_sim::{Grid, Options, PointSummary, Record, SweepResult, run_sweep};
use gardner_theory::{ThresholdConfig, thresholds};
use serde::{Deserialize, Serialize};

/// A run size: dimensions, α grid, seeds per (d, α).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SizeSpec {
    pub dims: Vec<usize>,
    pub alphas: Vec<f64>,
    pub seeds: usize,
}

/// `[bootstrap]`: replicates, confidence and seed of the α_½ intervals.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BootstrapSpec {
    pub replicates: usize,
    pub confidence: f64,
    pub seed: u64,
}

/// `papers/fig4.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    /// Base seed of the simulation streams.
    seed: u64,
    /// The talk's measured GD threshold (finite-size numerics), shown for comparison only.
    talk_alpha_gd: f64,
    gd: gd::Config,
    bootstrap: BootstrapSpec,
    #[serde(default)]
    thresholds: ThresholdConfig,
    quick: SizeSpec,
    default: SizeSpec,
    full: SizeSpec,
}

pub(crate) fn pick<'a, T>(ctx: &Ctx, quick: &'a T, default: &'a T, full: &'a T) -> &'a T {
    match ctx.mode {
        Mode::Quick => quick,
        Mode::Default => default,
        Mode::Full => full,
    }
}

pub(crate) fn check_size(
    section: &str,
    dims: &[usize],
    alphas: &[f64],
    seeds: usize,
) -> Result<()> {
    if dims.is_empty() || dims.contains(&0) {
        return Err(err(format!(
            "invalid parameter `{section}.dims` = {:?}: must be non-empty, each >= 1",
            dims
        )));
    }
    if alphas.len() < 2 || alphas.iter().any(|a| !(a.is_finite() && *a > 0.0)) {
        return Err(err(format!(
            "invalid parameter `{section}.alphas` = {:?}: need >= 2 values, each > 0",
            alphas
        )));
    }
    if alphas.windows(2).any(|w| w[1] <= w[0]) {
        return Err(err(format!(
            "invalid parameter `{section}.alphas` = {:?}: must be increasing",
            alphas
        )));
    }
    if seeds == 0 {
        return Err(err(format!(
            "invalid parameter `{section}.seeds` = 0: must be >= 1"
        )));
    }
    Ok(())
}

pub(crate) fn check_bootstrap(b: &BootstrapSpec) -> Result<()> {
    if b.replicates < 100 || !(b.confidence > 0.0 && b.confidence < 1.0) {
        return Err(err(format!(
            "invalid parameter `bootstrap` = {b:?}: need replicates >= 100 and 0 < confidence < 1"
        )));
    }
    Ok(())
}

/// Successes out of non-failed seeds of a point (from the 0/1 `success` observable).
pub(crate) fn success_point(p: &PointSummary) -> SuccessPoint {
    let st = p.stats.get("success");
    let trials = st.map_or(0, |s| s.count);
    let successes = st.map_or(0, |s| (s.mean * s.count as f64).round() as usize);
    SuccessPoint {
        alpha: p.point.alpha,
        successes,
        trials,
    }
}

/// Half the smallest spacing of the α grid around a crossing (the grid resolution).
pub(crate) fn local_spacing(alphas: &[f64], at: f64) -> f64 {
    alphas
        .windows(2)
        .find(|w| w[0] <= at && at <= w[1])
        .map_or_else(
            || {
                alphas
                    .windows(2)
                    .map(|w| w[1] - w[0])
                    .fold(f64::INFINITY, f64::min)
            },
            |w| w[1] - w[0],
        )
}

/// The α_½ summary table of one curve.
pub(crate) fn crossing_table(
    points: &[SuccessPoint],
    alphas: &[f64],
    b: &BootstrapSpec,
    seed: u64,
) -> (toml::Table, Option<(f64, f64)>) {
    let bc = bootstrap_crossing(points, 0.5, b.replicates, b.confidence, seed);
    let mut t = toml::Table::new();
    let est = match bc.estimate {
        Crossing::At(a) => {
            t.insert("alpha_half".into(), a.into());
            Some(a)
        }
        Crossing::BelowGrid => {
            t.insert("alpha_half".into(), "below the alpha grid".into());
            None
        }
        Crossing::AboveGrid => {
            t.insert("alpha_half".into(), "above the alpha grid".into());
            None
        }
    };
    t.insert("bootstrap_lo".into(), bc.lo.into());
    t.insert("bootstrap_hi".into(), bc.hi.into());
    t.insert("bootstrap_std".into(), bc.std.into());
    t.insert("bootstrap_replicates".into(), (bc.replicates as i64).into());
    t.insert(
        "replicates_below_grid".into(),
        (bc.below_grid as i64).into(),
    );
    t.insert(
        "replicates_above_grid".into(),
        (bc.above_grid as i64).into(),
    );
    let sigma = est.map(|a| fit_sigma(bc.std, local_spacing(alphas, a)));
    if let Some(s) = sigma {
        t.insert("fit_sigma".into(), s.into());
    }
    (t, est.zip(sigma))
}

/// The 1/d extrapolation table (or the reason it is absent).
pub(crate) fn extrapolation_table(est: &[SizeEstimate]) -> toml::Table {
    let mut t = toml::Table::new();
    t.insert(
        "model".into(),
        "alpha_half(d) = a + b/d, weighted least squares, weights 1/fit_sigma^2".into(),
    );
    match extrapolate_in_inverse_d(est) {
        Some(f) => {
            t.insert("alpha_half_infinite_d".into(), f.intercept.into());
            t.insert(
                "alpha_half_infinite_d_stderr".into(),
                f.intercept_stderr.into(),
            );
            t.insert("slope_in_inverse_d".into(), f.slope.into());
            t.insert("slope_stderr".into(), f.slope_stderr.into());
            t.insert("chi2_per_dof".into(), f.chi2_per_dof.into());
            t.insert("sizes".into(), (f.sizes as i64).into());
            // is the largest size consistent with the extrapolated value? (a + b/d is a model)
            if let Some(e) = est.iter().max_by_key(|e| e.d) {
                let dev = (e.alpha_half - f.intercept)
                    / (e.sigma * e.sigma + f.intercept_stderr * f.intercept_stderr).sqrt();
                t.insert("largest_d_minus_extrapolation_in_sigma".into(), dev.into());
            }
        }
        None => {
            t.insert(
                "status".into(),
                format!(
                    "not fitted: {} size(s) with a crossing inside the grid, needs >= 3",
                    est.len()
                )
                .into(),
            );
        }
    }
    t
}

/// Status of a row: the sweep's status, plus a note when some seeds failed.
pub(crate) fn row_status(p: &PointSummary) -> Cell {
    Cell::from(p.status.clone())
}

pub(crate) fn sweep_options(ctx: &Ctx) -> Options {
    Options {
        threads: ctx.threads,
        cache_dir: ctx.cache_dir.clone(),
        progress: ctx.progress,
    }
}

pub(crate) fn rate_series(label: &str, pts: &[SuccessPoint]) -> Series {
    let (mut xy, mut e) = (Vec::new(), Vec::new());
    for p in pts {
        xy.push((p.alpha, p.rate()));
        e.push(wilson(p.successes, p.trials, Z95));
    }
    Series::interval(label, xy, e)
}

pub struct Fig4;

impl Figure for Fig4 {
    fn id(&self) -> &'static str {
        "fig4"
    }
    fn title(&self) -> &'static str {
        "Gradient descent on phase retrieval: success probability vs alpha for several d"
    }
    fn paper(&self) -> &'static str {
        "Sarao Mannelli, Biroli, Cammarota, Krzakala, Urbani, Zdeborová, NeurIPS 2020 (arXiv:2006.06997)"
    }
    fn run(&self, ctx: &Ctx) -> Result<Output> {
        let spec: Spec = ctx.spec()?;
        let section = ctx.mode.name();
        let size: &SizeSpec = pick(ctx, &spec.quick, &spec.default, &spec.full);
        check_size(section, &size.dims, &size.alphas, size.seeds)?;
        check_bootstrap(&spec.bootstrap)?;
        spec.gd.validate()?;
        let cfg = gd::Config {
            threads: 1,
            ..spec.gd.clone()
        };

        // theory thresholds of the Bayes-optimal problem (Gaussian prior, |z| channel)
        let prior = Gaussian::new(1.0)?;
        let th = thresholds(&prior, &Abs, &spec.thresholds)
            .map_err(|e| err(format!("thresholds: {e}")))?;

        if ctx.progress {
            eprintln!(
                "fig4: spherical GD, d in {:?}, {} alphas, {} seeds…",
                size.dims,
                size.alphas.len(),
                size.seeds
            );
        }
        let grid = Grid::new(&size.alphas, &size.dims, size.seeds, spec.seed)
            .map_err(|e| err(e.to_string()))?;
        let sweep: SweepResult = run_sweep(
            "fig4",
            &(&cfg, size, "gd-v2"),
            &grid,
            &sweep_options(ctx),
            |task, rng| {
                let data = spherical_teacher(task.point.d, task.point.alpha, rng)
                    .map_err(|e| e.to_string())?;
                let p = Problem::from_dataset(&data).map_err(|e| e.to_string())?;
                let trace = gd::run(&p, &cfg, rng).map_err(|e| e.to_string())?;
                let last = *trace.last().ok_or("GD recorded no step")?;
                let rec = match trace.termination {
                    Termination::Converged => Record::converged(),
                    Termination::MaxIterations | Termination::Budget | Termination::Stalled => {
                        Record::not_converged()
                    }
                    Termination::Diverged {
                        iteration,
                        quantity,
                    } => {
                        return Err(format!("GD diverged at step {iteration} ({quantity})"));
                    }
                };
                Ok(rec
                    .with("success", if gd::succeeded(&trace) { 1.0 } else { 0.0 })
                    .with("overlap_abs", last.overlap_abs)
                    .with("train_loss", last.train_loss)
                    .with("time", last.time)
                    .with("step_halved", if last.halvings > 0 { 1.0 } else { 0.0 }))
            },
        )
        .map_err(|e| err(e.to_string()))?;

        let mut table = Table::new(&[
            "alpha",
            "d",
            "success_rate",
            "success_lo",
            "success_hi",
            "final_overlap_mean",
            "final_overlap_stderr",
            "status",
        ]);
        let mut series = Vec::new();
        let mut per_d = Vec::new();
        let mut estimates = Vec::new();
        for (k, &d) in size.dims.iter().enumerate() {
            let pts: Vec<&PointSummary> = sweep.points.iter().filter(|p| p.point.d == d).collect();
            let curve: Vec<SuccessPoint> = pts.iter().map(|p| success_point(p)).collect();
            for (p, c) in pts.iter().zip(&curve) {
                let (lo, hi) = c.interval();
                table.push(vec![
                    Cell::Num(p.point.alpha),
                    Cell::from(d),
                    Cell::Num(c.rate()),
                    Cell::Num(lo),
                    Cell::Num(hi),
                    Cell::Num(p.mean("overlap_abs")),
                    Cell::Num(p.stderr("overlap_abs")),
                    row_status(p),
                ]);
            }
            let (mut t, est) = crossing_table(
                &curve,
                &size.alphas,
                &spec.bootstrap,
                spec.bootstrap.seed.wrapping_add(k as u64),
            );
            t.insert("d".into(), (d as i64).into());
            let halved: f64 = pts
                .iter()
                .map(|p| {
                    p.stats
                        .get("step_halved")
                        .map_or(0.0, |s| s.mean * s.count as f64)
                })
                .sum();
            t.insert(
                "runs_with_step_halving".into(),
                (halved.round() as i64).into(),
            );
            per_d.push(toml::Value::Table(t));
            if let Some((a, s)) = est {
                estimates.push(SizeEstimate {
                    d,
                    alpha_half: a,
                    sigma: s,
                });
            }
            series.push(rate_series(&format!("GD, d = {d}"), &curve));
        }

        let mut summary = toml::Table::new();
        let mut sim = toml::Table::new();
        sim.insert(
            "dims".into(),
            size.dims
                .iter()
                .map(|&d| d as i64)
                .collect::<Vec<_>>()
                .into(),
        );
        sim.insert("alphas".into(), size.alphas.clone().into());
        sim.insert("seeds".into(), (size.seeds as i64).into());
        sim.insert("base_seed".into(), (spec.seed as i64).into());
        sim.insert(
            "gd".into(),
            toml::Value::try_from(&cfg).map_err(|e| err(e.to_string()))?,
        );
        sim.insert(
            "success".into(),
            format!("final |m| >= {}", gd::SUCCESS_OVERLAP).into(),
        );
        sim.insert(
            "loss".into(),
            "H = (1/4) sum_mu (y_mu^2 - (X_mu.w)^2)^2 = L/4, X_{mu i} ~ N(0,1/d), |w|^2 = |w*|^2 = d, projected Euler steps".into(),
        );
        sim.insert("tasks_computed".into(), (sweep.computed as i64).into());
        sim.insert("tasks_cached".into(), (sweep.cached as i64).into());
        sim.insert(
            "task_seconds".into(),
            ((sweep.task_seconds() * 10.0).round() / 10.0).into(),
        );
        summary.insert("simulation".into(), sim.into());
        summary.insert("alpha_half".into(), toml::Value::Array(per_d));
        summary.insert(
            "extrapolation".into(),
            extrapolation_table(&estimates).into(),
        );

        let mut cmp = toml::Table::new();
        let alpha_it = th.alpha_it.unwrap_or(f64::NAN);
        let alpha_amp = th.alpha_amp.unwrap_or(f64::NAN);
        cmp.insert("alpha_it".into(), alpha_it.into());
        cmp.insert("alpha_it_kind".into(), format!("{:?}", th.it_kind).into());
        cmp.insert("alpha_amp".into(), alpha_amp.into());
        cmp.insert(
            "alpha_amp_source".into(),
            "gardner_theory::thresholds (state-evolution spinodal)".into(),
        );
        let largest = estimates.iter().max_by_key(|e| e.d);
        if let Some(e) = largest {
            cmp.insert("alpha_gd_measured_largest_d".into(), e.alpha_half.into());
            cmp.insert("alpha_gd_measured_at_d".into(), (e.d as i64).into());
        } else {
            cmp.insert(
                "alpha_gd_measured_largest_d".into(),
                "no crossing inside the grid".into(),
            );
        }
        cmp.insert("talk_alpha_gd".into(), spec.talk_alpha_gd.into());
        cmp.insert(
            "talk_alpha_gd_note".into(),
            "talk slide 'Performance of gradient descent': GD numerics ~ 7 (finite-size observation, not a theory value)".into(),
        );
        summary.insert("comparison".into(), cmp.into());

        let mut vlines = vec![
            (alpha_it, format!("alpha_IT = {alpha_it:.3}")),
            (alpha_amp, format!("alpha_AMP = {alpha_amp:.3}")),
            (
                spec.talk_alpha_gd,
                format!("talk: GD ~ {}", spec.talk_alpha_gd),
            ),
        ];
        if let Some(e) = largest {
            vlines.push((
                e.alpha_half,
                format!("alpha_1/2(d = {}) = {:.2}", e.d, e.alpha_half),
            ));
        }
        let plot = Plot {
            title: "Spherical GD on phase retrieval: success probability (|m| >= 0.99)".into(),
            x_label: "alpha = n/d".into(),
            y_label: "success probability (95% Wilson)".into(),
            vlines,
            series,
            ..Plot::default()
        };
        Ok(Output {
            table,
            summary,
            plot,
            check_rel_tol: 1e-6,
        })
    }
}
