//! fig3 — optimal phase retrieval (talk, "Optimal phase retrieval"; Barbier et al. 2019):
//! MMSE (global maximum of f_RS) and AMP error (state evolution from a small overlap) vs α,
//! the thresholds α_IT and α_AMP, and GAMP at finite d. Teacher w* ~ N(0, 1), y = |X w*|.

use crate::experiment::{Agreement, Mode, Report, Sims, Sizes};
use crate::kit::bayes::{
    AtAlpha, BayesSpec, GampFigure, GampSummary, SIM_RESOLUTION, SimSpec, Thresholds,
};
use crate::kit::note;
use crate::{Error, Stat, Status};
use gardner_theory::ThresholdConfig;
use serde::{Deserialize, Serialize};

/// `papers/fig3.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fig3 {
    #[serde(flatten)]
    pub bayes: BayesSpec,
    /// Agreement is also reported for |α − α_AMP| > this window (critical slowing down).
    pub transition_window: f64,
    #[serde(default)]
    pub thresholds: ThresholdConfig,
    #[serde(flatten)]
    pub sizes: Sizes<SimSpec>,
}

/// One row of `data/fig3.csv`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub alpha: f64,
    pub mmse: f64,
    pub mse_amp: f64,
    #[serde(with = "crate::table::stat")]
    pub mse_gamp: Stat,
    pub m_amp: f64,
    #[serde(with = "crate::table::stat")]
    pub m_gamp: Stat,
    pub gamp_iterations_mean: Option<f64>,
    pub status: Status,
}
/// `[thresholds]` of `data/fig3.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThresholdSummary {
    pub alpha_it: f64,
    pub alpha_amp: f64,
    pub it_kind: String,
    pub literature_alpha_it: f64,
    pub literature_alpha_amp: String,
}

/// The body of `data/fig3.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub thresholds: ThresholdSummary,
    pub simulation: GampSummary,
    pub agreement: Agreement,
    pub agreement_away_from_transition: Agreement,
}

impl GampFigure for Fig3 {
    type Row = Row;
    type Summary = Summary;

    fn gamp(&self) -> (&BayesSpec, &Sizes<SimSpec>) {
        (&self.bayes, &self.sizes)
    }
    fn report(&self, mode: Mode, sims: &Sims<Self>) -> Result<Report<Self>, Error> {
        let sim = self.sizes.pick(mode);
        let (prior, channel) = self.bayes.model.build()?;
        note("fig3: thresholds…");
        let th = Thresholds::of(&prior, &channel, &self.thresholds)?;
        let alpha_amp = th.alpha_amp;
        let extra: Vec<f64> = [th.alpha_it, th.alpha_amp]
            .into_iter()
            .filter(|a| a.is_finite())
            .flat_map(|a| [a * (1.0 - 1e-6), a * (1.0 + 1e-6)])
            .collect();
        let theory = self.bayes.theory("fig3", mode, sim, &extra)?;
        let (mut all, mut away) = (Vec::new(), Vec::new());
        let rows: Vec<Row> = (theory.iter())
            .map(|(alpha, t)| {
                let (mmse, mse_amp, m_amp) =
                    t.as_ref().map_or((f64::NAN, f64::NAN, f64::NAN), |p| {
                        (p.mmse, p.mse_amp, p.m_amp)
                    });
                let s = AtAlpha::of(sims, *alpha);
                let mse_gamp = s.stat(|o| o.mse);
                if s.simulated() {
                    all.push((mse_amp, mse_gamp));
                    if (alpha - alpha_amp).abs() > self.transition_window {
                        away.push((mse_amp, mse_gamp));
                    }
                }
                Row {
                    alpha: *alpha,
                    mmse,
                    mse_amp,
                    mse_gamp,
                    m_amp,
                    m_gamp: s.stat(|o| o.m),
                    gamp_iterations_mean: s.simulated().then(|| s.stat(|o| o.iterations).mean),
                    status: s.status(t),
                }
            })
            .collect();
        let headline = th.headline(1e-7);
        let summary = Summary {
            thresholds: ThresholdSummary {
                alpha_it: th.alpha_it,
                alpha_amp,
                it_kind: th.it_kind,
                literature_alpha_it: 1.0,
                literature_alpha_amp: "1.128 (SE data: jump between 1.1270 and 1.1285)".into(),
            },
            simulation: self.bayes.summary(sim, sims),
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
            headline,
            check_rel_tol: 1e-6,
        })
    }
}
