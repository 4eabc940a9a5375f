//! Bayes-optimal theory (state evolution) beside GAMP at finite d: shared by fig1 and fig3.

use super::grid::{check_alphas, same, theory_grid};
use super::note;
use crate::experiment::{Headline, Mode, Plan, Report, Sims, Sizes, check_counts};
use crate::{Error, Experiment, SimulationSummary, Stat, Status};
use gardner_algorithms::gamp;
use gardner_models::data::teacher_data;
use gardner_models::rng::Rng;
use gardner_models::run::Termination;
use gardner_models::{AnyChannel, AnyPrior, ChannelSpec, PriorSpec};
use gardner_theory::{
    BayesPoint, ChannelSide, PriorSide, SeConfig, ThresholdConfig, bayes_curve, thresholds,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// `[model]`: the teacher's prior and channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub prior: PriorSpec,
    pub channel: ChannelSpec,
}

impl ModelSpec {
    /// Validated prior and channel.
    pub fn build(&self) -> Result<(AnyPrior, AnyChannel), Error> {
        Ok((self.prior.build()?, self.channel.build()?))
    }
}

/// What fig1 and fig3 share in their spec (flattened into it): the teacher, the base seed,
/// GAMP's and state evolution's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BayesSpec {
    pub model: ModelSpec,
    /// Base seed of the simulation streams.
    pub seed: u64,
    #[serde(default)]
    pub gamp: gamp::Config,
    #[serde(default)]
    pub se: SeConfig,
}

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

/// State evolution at one α (a failure is kept per point).
pub type TheoryPoint = (f64, Result<BayesPoint, gardner_theory::Error>);

/// GAMP stops when ‖Δa‖²/(dρ) < 1e-10: errors below ~1e-6 are not resolved.
pub const SIM_RESOLUTION: f64 = 1e-6;

impl BayesSpec {
    /// The GAMP tasks of a section.
    pub fn plan(&self, mode: Mode, sim: &SimSpec) -> Result<Plan<GampPoint>, Error> {
        check_alphas(mode.name(), &sim.alphas)?;
        check_counts(mode.name(), &[("d", sim.d), ("seeds", sim.seeds)], 1)?;
        self.gamp.validate()?;
        let points = (sim.alphas.iter())
            .map(|&alpha| GampPoint { alpha, d: sim.d })
            .collect();
        Plan::new(points, sim.seeds, &(&self.model, &self.gamp, self.seed))
    }

    /// Peak memory of a GAMP task: X (n × d) and its square, plus O(n + d) vectors.
    pub fn task_bytes(p: &GampPoint) -> u64 {
        let n = (p.alpha * p.d as f64).round() as u64;
        16 * n * p.d as u64 + 128 * (n + p.d as u64)
    }

    /// Run GAMP on fresh teacher data.
    pub fn run(&self, p: &GampPoint, rng: &mut Rng) -> Result<(GampObs, Termination), Error> {
        let (prior, channel) = self.model.build()?;
        let data = teacher_data(&prior, &channel, p.d, p.alpha, rng)?;
        let problem = gamp::Problem::new(&data, &prior, &channel);
        let trace = gamp::run(&problem, &self.gamp, rng)?.trace;
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

    /// State evolution on the section's grid (its segments, its simulated α and `extra`).
    pub fn theory(
        &self,
        id: &str,
        mode: Mode,
        sim: &SimSpec,
        extra: &[f64],
    ) -> Result<Vec<TheoryPoint>, Error> {
        let (prior, channel) = self.model.build()?;
        let mut points = sim.alphas.clone();
        points.extend_from_slice(extra);
        let grid = theory_grid(mode.name(), &sim.theory_segments, &points)?;
        note(format!("{id}: state evolution on {} alphas…", grid.len()));
        let curve = bayes_curve(&prior, &channel, &grid, &self.se);
        Ok(grid.into_iter().zip(curve).collect())
    }

    /// `[simulation]` of a section's run.
    pub fn summary<E: Experiment>(&self, sim: &SimSpec, sims: &Sims<E>) -> GampSummary {
        GampSummary {
            d: sim.d,
            seeds: sim.seeds,
            base_seed: self.seed,
            alphas: sim.alphas.clone(),
            gamp: self.gamp,
            cost: SimulationSummary::of(sims),
        }
    }
}

/// A Bayes-optimal figure with GAMP (fig1, fig3): the figure names its spec's [`BayesSpec`]
/// and run sizes and writes its report; the template plans and runs the GAMP tasks (the
/// [`Experiment`] impl of every `GampFigure`).
pub trait GampFigure: Serialize + DeserializeOwned + Sync {
    /// One CSV row.
    type Row: Serialize + DeserializeOwned;
    /// The summary tables.
    type Summary: Serialize;
    /// The shared part of the spec and the run sizes.
    fn gamp(&self) -> (&BayesSpec, &Sizes<SimSpec>);
    /// Theory and simulations → rows, summary, headline numbers ([`Experiment::report`]).
    fn report(&self, mode: Mode, sims: &Sims<Self>) -> Result<Report<Self>, Error>
    where
        Self: Experiment;
}

impl<F: GampFigure> Experiment for F {
    type Point = GampPoint;
    type Obs = GampObs;
    type Row = F::Row;
    type Summary = F::Summary;

    fn plan(&self, mode: Mode) -> Result<Plan<GampPoint>, Error> {
        let (bayes, sizes) = self.gamp();
        bayes.plan(mode, sizes.pick(mode))
    }
    fn task_bytes(&self, p: &GampPoint) -> u64 {
        BayesSpec::task_bytes(p)
    }
    fn run(&self, p: &GampPoint, rng: &mut Rng) -> Result<(GampObs, Termination), Error> {
        self.gamp().0.run(p, rng)
    }
    fn report(&self, mode: Mode, sims: &Sims<Self>) -> Result<Report<Self>, Error> {
        GampFigure::report(self, mode, sims)
    }
}

/// The simulations at one α of the theory grid: `stat(f)` over the seeds (no value when α
/// was not simulated), and the row status of theory `t` beside them.
pub struct AtAlpha<'a, E: Experiment>(Option<&'a crate::PointSims<E>>);

impl<'a, E: Experiment<Point = GampPoint, Obs = GampObs>> AtAlpha<'a, E> {
    /// The simulations at `alpha`, if it was simulated.
    pub fn of(sims: &'a Sims<E>, alpha: f64) -> Self {
        Self(sims.find(|p| same(p.alpha, alpha)))
    }
    /// Whether α was simulated.
    pub fn simulated(&self) -> bool {
        self.0.is_some()
    }
    /// Mean and standard error of `f` (no value without simulations).
    pub fn stat(&self, f: impl Fn(&GampObs) -> f64) -> Stat {
        self.0.map_or(Stat::of(&[]), |s| s.stat(f))
    }
    /// The status of theory `t` (its termination, or its failure) beside the simulations.
    pub fn status(&self, t: &Result<BayesPoint, gardner_theory::Error>) -> Status {
        let theory = t
            .as_ref()
            .map_or_else(Status::failed, |p| (&p.status).into());
        Status::merge(&theory, &self.0.map_or(Status::OK, |s| s.status()))
    }
}

/// `[simulation]` of a GAMP figure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GampSummary {
    pub d: usize,
    pub seeds: usize,
    pub base_seed: u64,
    pub alphas: Vec<f64>,
    pub gamp: gamp::Config,
    #[serde(flatten)]
    pub cost: SimulationSummary,
}

/// α_IT and α_AMP of a Bayes-optimal problem (NaN: not found in the scan) and how α_IT was
/// found (fig3, and fig4's comparison).
pub struct Thresholds {
    pub alpha_it: f64,
    pub alpha_amp: f64,
    pub it_kind: String,
}

impl Thresholds {
    /// Of (prior, channel), by [`gardner_theory::thresholds()`].
    pub fn of(
        prior: &impl PriorSide,
        channel: &impl ChannelSide,
        cfg: &ThresholdConfig,
    ) -> Result<Self, Error> {
        let th = thresholds(prior, channel, cfg).map_err(|e| format!("thresholds: {e}"))?;
        Ok(Self {
            alpha_it: th.alpha_it.unwrap_or(f64::NAN),
            alpha_amp: th.alpha_amp.unwrap_or(f64::NAN),
            it_kind: format!("{:?}", th.it_kind),
        })
    }
    /// `alpha_it` and `alpha_amp` as headline numbers within `tol`.
    pub fn headline(&self, tol: f64) -> Vec<Headline> {
        vec![
            Headline::new("alpha_it", self.alpha_it, tol),
            Headline::new("alpha_amp", self.alpha_amp, tol),
        ]
    }
}
