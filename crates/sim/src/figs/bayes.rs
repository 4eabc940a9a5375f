//! Bayes-optimal theory (state evolution) beside GAMP at finite d: shared by fig1 and fig3.

use super::{ModelSpec, check_alphas, note, same, theory_grid};
use crate::experiment::{Mode, Plan, Sims};
use crate::{Experiment, PointSims};
use gardner_algorithms::gamp;
use gardner_models::data::teacher_data;
use gardner_models::rng::Rng;
use gardner_models::run::Termination;
use gardner_theory::{BayesPoint, SeConfig, bayes_curve};
use serde::{Deserialize, Serialize};

/// A simulation section (`[quick]`, `[default]`, `[full]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimSpec {
    /// Dimension d.
    pub d: usize,
    /// Independent data sets per α.
    pub seeds: usize,
    /// α values simulated (each is also put on the theory grid).
    pub alphas: Vec<f64>,
    /// Theory grid: segments `[from, to, step]` (inclusive ends).
    pub theory_segments: Vec<[f64; 3]>,
}

/// One GAMP task: fresh teacher data at (α, d).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GampPoint {
    pub alpha: f64,
    pub d: usize,
}

/// GAMP's final iterate on one data set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GampObs {
    pub m: f64,
    pub q: f64,
    pub mse: f64,
    pub test_error: f64,
    pub iterations: f64,
}

/// The GAMP tasks of a section.
pub fn plan(
    model: &ModelSpec,
    config: &gamp::Config,
    seed: u64,
    mode: Mode,
    sim: &SimSpec,
) -> Result<Plan<GampPoint>, String> {
    check_alphas(mode.name(), &sim.alphas)?;
    if sim.d == 0 || sim.seeds == 0 {
        return Err(format!(
            "invalid parameter `{}.d`/`seeds` = {}/{}: must be >= 1",
            mode.name(),
            sim.d,
            sim.seeds
        ));
    }
    config.validate().map_err(|e| e.to_string())?;
    let points = sim
        .alphas
        .iter()
        .map(|&alpha| GampPoint { alpha, d: sim.d })
        .collect();
    Plan::new(points, sim.seeds, &(model, config, seed))
}

/// Peak memory of a GAMP task: X (n × d) and its square, plus O(n + d) vectors.
pub fn task_bytes(p: &GampPoint) -> u64 {
    let n = (p.alpha * p.d as f64).round() as u64;
    16 * n * p.d as u64 + 128 * (n + p.d as u64)
}

/// Run GAMP on fresh teacher data.
pub fn run(
    model: &ModelSpec,
    config: &gamp::Config,
    p: &GampPoint,
    rng: &mut Rng,
) -> Result<(GampObs, Termination), String> {
    let (prior, channel) = model.build()?;
    let data = teacher_data(&prior, &channel, p.d, p.alpha, rng).map_err(|e| e.to_string())?;
    let problem = gamp::Problem::new(&data, &prior, &channel);
    let trace = gamp::run(&problem, config, rng)
        .map_err(|e| e.to_string())?
        .trace;
    let last = trace.last().ok_or("GAMP recorded no iteration")?;
    let obs = GampObs {
        m: last.m,
        q: last.q,
        mse: last.mse,
        test_error: last.test_error,
        iterations: trace.iterations as f64,
    };
    Ok((obs, trace.termination))
}

/// State evolution at one α (a failure is kept per point).
pub type TheoryPoint = (f64, Result<BayesPoint, gardner_theory::Error>);

/// State evolution on the section's grid (its segments, its simulated α and `extra`).
pub fn theory(
    id: &str,
    model: &ModelSpec,
    se: &SeConfig,
    mode: Mode,
    sim: &SimSpec,
    extra: &[f64],
) -> Result<Vec<TheoryPoint>, String> {
    let (prior, channel) = model.build()?;
    let mut points = sim.alphas.clone();
    points.extend_from_slice(extra);
    let grid = theory_grid(mode.name(), &sim.theory_segments, &points)?;
    note(format!("{id}: state evolution on {} alphas…", grid.len()));
    let curve = bayes_curve(&prior, &channel, &grid, se);
    Ok(grid.into_iter().zip(curve).collect())
}

/// The simulations at α, if α was simulated.
pub fn sims_at<E>(sims: &Sims<E>, alpha: f64) -> Option<&PointSims<E>>
where
    E: Experiment<Point = GampPoint>,
{
    sims.find(|p| same(p.alpha, alpha))
}

/// `[simulation]` of a GAMP figure.
#[derive(Debug, Clone, Serialize)]
pub struct GampSummary {
    pub d: usize,
    pub seeds: usize,
    pub base_seed: u64,
    pub alphas: Vec<f64>,
    pub gamp: gamp::Config,
    #[serde(flatten)]
    pub cost: crate::SimulationSummary,
}
