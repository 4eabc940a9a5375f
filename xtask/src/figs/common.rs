//! Pieces shared by the figure modules: spec sections, α grids, GAMP sweeps, status merging.

use crate::figure::{Cell, Ctx, Mode, Result, err};
use gardner_algorithms::gamp;
use gardner_models::{AnyChannel, AnyPrior, ChannelSpec, Prior, PriorSpec, data::teacher_data};
use gardner_sim::{Grid, Options, Record, SweepResult, run_sweep};
use serde::{Deserialize, Serialize};

/// `[model]`: the teacher.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub prior: PriorSpec,
    pub channel: ChannelSpec,
}

impl ModelSpec {
    /// Validated prior and channel.
    pub fn build(&self) -> Result<(AnyPrior, AnyChannel)> {
        Ok((self.prior.build()?, self.channel.build()?))
    }
}

/// A simulation section (`[quick]`, `[default]`, `[full]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimSpec {
    /// Dimension d.
    pub d: usize,
    /// Independent data sets per α.
    pub seeds: usize,
    /// α values simulated (each must also be on the theory grid or is added to it).
    pub alphas: Vec<f64>,
    /// Theory grid: segments `[from, to, step]` (inclusive ends).
    pub theory_segments: Vec<[f64; 3]>,
}

/// The section of the current mode.
pub fn pick<'a, T>(ctx: &Ctx, quick: &'a T, default: &'a T, full: &'a T) -> &'a T {
    match ctx.mode {
        Mode::Quick => quick,
        Mode::Default => default,
        Mode::Full => full,
    }
}

/// Check a list of α: each > 0 and finite; error names `<section>.alphas`.
pub fn check_alphas(section: &str, alphas: &[f64]) -> Result<()> {
    for &a in alphas {
        if !(a > 0.0 && a.is_finite()) {
            return Err(err(format!(
                "invalid parameter `{section}.alphas` = {a}: must be > 0 and finite"
            )));
        }
    }
    Ok(())
}

/// Points of `[from, to, step]` segments plus `extra`, sorted, duplicates (to 1e-9) removed.
pub fn theory_grid(section: &str, segments: &[[f64; 3]], extra: &[f64]) -> Result<Vec<f64>> {
    let mut v = Vec::new();
    for &[from, to, step] in segments {
        if !(from > 0.0 && to >= from && step > 0.0 && from.is_finite() && to.is_finite()) {
            return Err(err(format!(
                "invalid parameter `{section}.theory_segments` = [{from}, {to}, {step}]: need 0 < from <= to and step > 0"
            )));
        }
        let k = ((to - from) / step + 1e-9).floor() as usize;
        v.extend((0..=k).map(|i| round12(from + i as f64 * step)));
    }
    check_alphas(section, extra)?;
    v.extend(extra.iter().copied());
    v.sort_by(f64::total_cmp);
    v.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
    Ok(v)
}

fn round12(x: f64) -> f64 {
    (x * 1e12).round() / 1e12
}

/// Whether `alpha` is (to 1e-9) in `list`.
pub fn contains(list: &[f64], alpha: f64) -> Option<usize> {
    list.iter().position(|&a| (a - alpha).abs() < 1e-9)
}

/// GAMP on fresh teacher data for every (α, seed): records the final m, q, mse, test error
/// and iterations per task; `not_converged` when GAMP hit its iteration budget.
pub fn gamp_sweep<S: Serialize>(
    ctx: &Ctx,
    name: &str,
    spec: &S,
    prior: &AnyPrior,
    channel: &AnyChannel,
    sim: &SimSpec,
    config: &gamp::Config,
    base_seed: u64,
) -> Result<SweepResult> {
    config.validate()?;
    let grid =
        Grid::new(&sim.alphas, &[sim.d], sim.seeds, base_seed).map_err(|e| err(e.to_string()))?;
    let options = Options {
        threads: ctx.threads,
        cache_dir: ctx.cache_dir.clone(),
        progress: ctx.progress,
    };
    let rho = prior.rho();
    run_sweep(name, spec, &grid, &options, |task, rng| {
        let data = teacher_data(prior, channel, task.point.d, task.point.alpha, rng)
            .map_err(|e| e.to_string())?;
        let trace = gamp::run(&data, prior, channel, config, rng).map_err(|e| e.to_string())?;
        let last = trace.last().ok_or("GAMP recorded no iteration")?;
        let rec = match trace.termination {
            gardner_algorithms::Termination::Converged => Record::converged(),
            gardner_algorithms::Termination::MaxIterations
            | gardner_algorithms::Termination::Budget
            | gardner_algorithms::Termination::Stalled => Record::not_converged(),
            gardner_algorithms::Termination::Diverged {
                iteration,
                quantity,
            } => {
                return Err(format!(
                    "GAMP diverged at iteration {iteration} ({quantity})"
                ));
            }
        };
        Ok(rec
            .with("m", last.m)
            .with("q", last.q)
            .with("mse", last.mse)
            .with("test_error", last.test_error)
            .with("iterations", trace.iterations as f64)
            .with("rho", rho))
    })
    .map_err(|e| err(e.to_string()))
}

/// Combined status of a row: the theory status and the simulation status (`ok` when both are).
pub fn merge_status(theory: &str, sim: Option<&str>) -> Cell {
    match (theory, sim) {
        ("ok", None | Some("ok")) => Cell::from("ok"),
        ("ok", Some(s)) => Cell::from(format!("simulation {s}")),
        (t, None | Some("ok")) => Cell::from(format!("theory {t}")),
        (t, Some(s)) => Cell::from(format!("theory {t}; simulation {s}")),
    }
}

/// A number, or an empty cell when there is no simulation at this α.
pub fn opt(v: Option<f64>) -> Cell {
    match v {
        Some(x) => Cell::Num(x),
        None => Cell::Text(String::new()),
    }
}

/// `[simulation]` table of a GAMP sweep: sizes, seeds, GAMP settings, cached vs computed tasks.
pub fn gamp_summary(
    sim: &SimSpec,
    seed: u64,
    config: &gamp::Config,
    sweep: &SweepResult,
) -> Result<toml::Table> {
    let mut s = toml::Table::new();
    s.insert("d".into(), (sim.d as i64).into());
    s.insert("seeds".into(), (sim.seeds as i64).into());
    s.insert("base_seed".into(), (seed as i64).into());
    s.insert("alphas".into(), sim.alphas.clone().into());
    s.insert(
        "gamp".into(),
        toml::Value::try_from(config).map_err(|e| err(e.to_string()))?,
    );
    s.insert("tasks_computed".into(), (sweep.computed as i64).into());
    s.insert("tasks_cached".into(), (sweep.cached as i64).into());
    s.insert(
        "task_seconds".into(),
        ((sweep.task_seconds() * 10.0).round() / 10.0).into(),
    );
    Ok(s)
}

/// `ok` or `not_converged` for a state-evolution status.
pub fn se_status(status: gardner_theory::SeStatus) -> String {
    match status {
        gardner_theory::SeStatus::Converged => "ok".into(),
        gardner_theory::SeStatus::MaxIterations => "not_converged".into(),
    }
}

/// Bayes-optimal theory on a section's grid and GAMP at its simulated α.
pub struct BayesVsGamp {
    /// Theory α: the section's segments, its simulated α and the caller's extra points.
    pub grid: Vec<f64>,
    /// State evolution at every grid point (failures kept per point).
    pub theory: Vec<std::result::Result<gardner_theory::BayesPoint, gardner_theory::Error>>,
    /// GAMP sweep over `sim.alphas` × seeds.
    pub sweep: SweepResult,
}

impl BayesVsGamp {
    /// Run both, with progress messages. `model` enters the cache key of the sweep.
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        ctx: &Ctx,
        id: &str,
        model: &ModelSpec,
        sim: &SimSpec,
        extra: &[f64],
        se: &gardner_theory::SeConfig,
        config: &gamp::Config,
        seed: u64,
    ) -> Result<Self> {
        let (prior, channel) = model.build()?;
        let section = ctx.mode.name();
        check_alphas(section, &sim.alphas)?;
        let mut points = sim.alphas.clone();
        points.extend_from_slice(extra);
        let grid = theory_grid(section, &sim.theory_segments, &points)?;
        if ctx.progress {
            eprintln!("{id}: state evolution on {} alphas…", grid.len());
        }
        let theory = gardner_theory::bayes_curve(&prior, &channel, &grid, se);
        if ctx.progress {
            eprintln!(
                "{id}: GAMP at d = {}, {} seeds, {} alphas…",
                sim.d,
                sim.seeds,
                sim.alphas.len()
            );
        }
        let sweep = gamp_sweep(
            ctx,
            id,
            &(model, config, sim),
            &prior,
            &channel,
            sim,
            config,
            seed,
        )?;
        Ok(Self {
            grid,
            theory,
            sweep,
        })
    }

    /// The simulation summary at grid point `k`, if α_k was simulated.
    pub fn sim_at(&self, sim: &SimSpec, k: usize) -> Option<&gardner_sim::PointSummary> {
        contains(&sim.alphas, self.grid[k]).map(|i| &self.sweep.points[i])
    }
}
