//! fig1 — spherical perceptron (talk, "Spherical perceptron"; Barbier et al. 2019):
//! Bayes-optimal classification error vs α from state evolution, and GAMP at finite d.
//! Teacher: w* ~ N(0, ρ I), y = sign(X w*).

use super::bayes::{self, GampObs, GampPoint, GampSummary, SimSpec};
use super::{ModelSpec, check_alphas, se_status, theory_status};
use crate::experiment::{Agreement, Headline, Mode, Plan, Report, Sims, SimulationSummary};
use crate::{Experiment, merge_status};
use gardner_algorithms::gamp;
use gardner_models::rng::Rng;
use gardner_models::run::Termination;
use gardner_theory::{SeConfig, bayes_point};
use serde::{Deserialize, Serialize};

/// `papers/fig1.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fig1 {
    pub model: ModelSpec,
    /// Base seed of the simulation streams.
    pub seed: u64,
    /// α at which the large-α constant α·ε is reported.
    pub large_alpha: f64,
    #[serde(default)]
    pub gamp: gamp::Config,
    #[serde(default)]
    pub se: SeConfig,
    pub quick: SimSpec,
    pub default: SimSpec,
    pub full: SimSpec,
}

/// GAMP stops when ‖Δa‖²/(dρ) < 1e-10: errors below ~1e-6 are not resolved.
const SIM_RESOLUTION: f64 = 1e-6;

/// One row of `data/fig1.csv`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub alpha: f64,
    pub m_se: f64,
    pub gen_error_bayes: f64,
    pub gen_error_gamp_mean: Option<f64>,
    pub gen_error_gamp_stderr: Option<f64>,
    pub m_gamp_mean: Option<f64>,
    pub m_gamp_stderr: Option<f64>,
    pub gen_error_sq_bayes: f64,
    pub status: String,
}

/// `[large_alpha]` of `data/fig1.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct LargeAlpha {
    pub alpha: f64,
    pub gen_error_bayes: f64,
    pub alpha_times_gen_error_bayes: f64,
    pub literature_asymptote: &'static str,
}

/// The body of `data/fig1.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub large_alpha: LargeAlpha,
    pub simulation: GampSummary,
    pub agreement: Agreement,
}

impl Fig1 {
    pub(crate) fn section(&self, mode: Mode) -> &SimSpec {
        mode.pick(&self.quick, &self.default, &self.full)
    }
}

impl Experiment for Fig1 {
    type Point = GampPoint;
    type Obs = GampObs;
    type Row = Row;
    type Summary = Summary;

    fn plan(&self, mode: Mode) -> Result<Plan<GampPoint>, String> {
        bayes::plan(&self.model, &self.gamp, self.seed, mode, self.section(mode))
    }
    fn task_bytes(&self, p: &GampPoint) -> u64 {
        bayes::task_bytes(p)
    }
    fn run(&self, p: &GampPoint, rng: &mut Rng) -> Result<(GampObs, Termination), String> {
        bayes::run(&self.model, &self.gamp, p, rng)
    }
    fn report(&self, mode: Mode, sims: &Sims<Self>) -> Result<Report<Self>, String> {
        let sim = self.section(mode);
        let (prior, channel) = self.model.build()?;
        check_alphas("large_alpha", &[self.large_alpha])?;
        let large = bayes_point(&prior, &channel, self.large_alpha, &self.se)
            .map_err(|e| format!("alpha = {}: {e}", self.large_alpha))?;
        let theory = bayes::theory("fig1", &self.model, &self.se, mode, sim, &[])?;
        let mut pairs = Vec::new();
        let rows: Vec<Row> = theory
            .iter()
            .map(|(alpha, t)| {
                let (m, eps, eps_sq) = match t {
                    Ok(p) => (p.m_mmse, p.class_error_bayes, p.gen_error_sq_bayes),
                    Err(_) => (f64::NAN, f64::NAN, f64::NAN),
                };
                let s = bayes::sims_at(sims, *alpha);
                let err = s.map(|s| s.stat(|o| o.test_error));
                let mm = s.map(|s| s.stat(|o| o.m));
                if let Some(e) = err {
                    pairs.push((eps, e));
                }
                Row {
                    alpha: *alpha,
                    m_se: m,
                    gen_error_bayes: eps,
                    gen_error_gamp_mean: err.map(|e| e.mean),
                    gen_error_gamp_stderr: err.map(|e| e.stderr),
                    m_gamp_mean: mm.map(|e| e.mean),
                    m_gamp_stderr: mm.map(|e| e.stderr),
                    gen_error_sq_bayes: eps_sq,
                    status: merge_status(
                        &theory_status(t, |p| se_status(&p.status)),
                        s.map(|s| s.status()).as_deref(),
                    ),
                }
            })
            .collect();
        let product = self.large_alpha * large.class_error_bayes;
        let summary = Summary {
            large_alpha: LargeAlpha {
                alpha: self.large_alpha,
                gen_error_bayes: large.class_error_bayes,
                alpha_times_gen_error_bayes: product,
                literature_asymptote: "alpha * error -> 0.4417 as alpha -> infinity",
            },
            simulation: GampSummary {
                d: sim.d,
                seeds: sim.seeds,
                base_seed: self.seed,
                alphas: sim.alphas.clone(),
                gamp: self.gamp,
                cost: SimulationSummary::of(sims),
            },
            agreement: Agreement::of(
                "gen_error_bayes (SE) vs GAMP test error arccos(m/sqrt(rho q))/pi",
                pairs,
                SIM_RESOLUTION,
            ),
        };
        Ok(Report {
            rows,
            summary,
            headline: vec![Headline::new(
                "alpha_times_gen_error_bayes_at_large_alpha",
                product,
                1e-9,
            )],
            check_rel_tol: 1e-6,
        })
    }
}
