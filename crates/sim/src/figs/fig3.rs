//! fig3 — optimal phase retrieval (talk, "Optimal phase retrieval"; Barbier et al. 2019):
//! MMSE (global maximum of f_RS) and AMP error (state evolution from a small overlap) vs α,
//! the thresholds α_IT and α_AMP, and GAMP at finite d. Teacher w* ~ N(0, 1), y = |X w*|.

use super::bayes::{self, GampObs, GampPoint, GampSummary, SimSpec};
use super::{ModelSpec, note, se_status, theory_status};
use crate::experiment::{Agreement, Headline, Mode, Plan, Report, Sims, SimulationSummary};
use crate::{Experiment, merge_status};
use gardner_algorithms::gamp;
use gardner_models::rng::Rng;
use gardner_models::run::Termination;
use gardner_theory::{SeConfig, ThresholdConfig, thresholds};
use serde::{Deserialize, Serialize};

/// `papers/fig3.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fig3 {
    pub model: ModelSpec,
    /// Base seed of the simulation streams.
    pub seed: u64,
    /// Agreement is also reported for |α − α_AMP| > this window (critical slowing down).
    pub transition_window: f64,
    #[serde(default)]
    pub gamp: gamp::Config,
    #[serde(default)]
    pub se: SeConfig,
    #[serde(default)]
    pub thresholds: ThresholdConfig,
    pub quick: SimSpec,
    pub default: SimSpec,
    pub full: SimSpec,
}

/// GAMP stops when ‖Δa‖²/(dρ) < 1e-10: errors below ~1e-6 are not resolved.
const SIM_RESOLUTION: f64 = 1e-6;

/// One row of `data/fig3.csv`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub alpha: f64,
    pub mmse: f64,
    pub mse_amp: f64,
    pub mse_gamp_mean: Option<f64>,
    pub mse_gamp_stderr: Option<f64>,
    pub m_amp: f64,
    pub m_gamp_mean: Option<f64>,
    pub m_gamp_stderr: Option<f64>,
    pub gamp_iterations_mean: Option<f64>,
    pub status: String,
}

/// `[thresholds]` of `data/fig3.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdSummary {
    pub alpha_it: f64,
    pub alpha_amp: f64,
    pub it_kind: String,
    pub literature_alpha_it: f64,
    pub literature_alpha_amp: &'static str,
}

/// The body of `data/fig3.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub thresholds: ThresholdSummary,
    pub simulation: GampSummary,
    pub agreement: Agreement,
    pub agreement_away_from_transition: Agreement,
}

impl Fig3 {
    pub(crate) fn section(&self, mode: Mode) -> &SimSpec {
        mode.pick(&self.quick, &self.default, &self.full)
    }
}

impl Experiment for Fig3 {
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
        note("fig3: thresholds…");
        let th = thresholds(&prior, &channel, &self.thresholds)
            .map_err(|e| format!("thresholds: {e}"))?;
        let alpha_amp = th.alpha_amp.unwrap_or(f64::NAN);
        let alpha_it = th.alpha_it.unwrap_or(f64::NAN);
        let extra: Vec<f64> = [th.alpha_it, th.alpha_amp]
            .into_iter()
            .flatten()
            .flat_map(|a| [a * (1.0 - 1e-6), a * (1.0 + 1e-6)])
            .collect();
        let theory = bayes::theory("fig3", &self.model, &self.se, mode, sim, &extra)?;
        let (mut all, mut away) = (Vec::new(), Vec::new());
        let rows: Vec<Row> = theory
            .iter()
            .map(|(alpha, t)| {
                let (mmse, mse_amp, m_amp) = match t {
                    Ok(p) => (p.mmse, p.mse_amp, p.m_amp),
                    Err(_) => (f64::NAN, f64::NAN, f64::NAN),
                };
                let s = bayes::sims_at(sims, *alpha);
                let mse = s.map(|s| s.stat(|o| o.mse));
                let m = s.map(|s| s.stat(|o| o.m));
                if let Some(e) = mse {
                    all.push((mse_amp, e));
                    if (alpha - alpha_amp).abs() > self.transition_window {
                        away.push((mse_amp, e));
                    }
                }
                Row {
                    alpha: *alpha,
                    mmse,
                    mse_amp,
                    mse_gamp_mean: mse.map(|e| e.mean),
                    mse_gamp_stderr: mse.map(|e| e.stderr),
                    m_amp,
                    m_gamp_mean: m.map(|e| e.mean),
                    m_gamp_stderr: m.map(|e| e.stderr),
                    gamp_iterations_mean: s.map(|s| s.stat(|o| o.iterations).mean),
                    status: merge_status(
                        &theory_status(t, |p| se_status(&p.status)),
                        s.map(|s| s.status()).as_deref(),
                    ),
                }
            })
            .collect();
        let summary = Summary {
            thresholds: ThresholdSummary {
                alpha_it,
                alpha_amp,
                it_kind: format!("{:?}", th.it_kind),
                literature_alpha_it: 1.0,
                literature_alpha_amp: "1.128 (SE data: jump between 1.1270 and 1.1285)",
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
                "mse_amp (SE from a small overlap) vs GAMP mean MSE",
                all,
                SIM_RESOLUTION,
            ),
            agreement_away_from_transition: Agreement::of(
                &format!("as above, |alpha - alpha_amp| > {}", self.transition_window),
                away,
                SIM_RESOLUTION,
            ),
        };
        Ok(Report {
            rows,
            summary,
            headline: vec![
                Headline::new("alpha_it", alpha_it, 1e-7),
                Headline::new("alpha_amp", alpha_amp, 1e-7),
            ],
            check_rel_tol: 1e-6,
        })
    }
}
