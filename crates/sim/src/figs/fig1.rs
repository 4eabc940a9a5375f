//! fig1 — spherical perceptron (talk, "Spherical perceptron"; Barbier et al. 2019):
//! Bayes-optimal classification error vs α from state evolution, and GAMP at finite d.
//! Teacher: w* ~ N(0, ρ I), y = sign(X w*).

use crate::experiment::{Agreement, Headline, Mode, Report, Sims, Sizes};
use crate::kit::bayes::{AtAlpha, BayesSpec, GampFigure, GampSummary, SIM_RESOLUTION, SimSpec};
use crate::kit::grid::check_alphas;
use crate::{Error, Stat, Status};
use gardner_theory::bayes_point;
use serde::{Deserialize, Serialize};

/// `papers/fig1.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fig1 {
    #[serde(flatten)]
    pub bayes: BayesSpec,
    /// α at which the large-α constant α·ε is reported.
    pub large_alpha: f64,
    #[serde(flatten)]
    pub sizes: Sizes<SimSpec>,
}

/// One row of `data/fig1.csv`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub alpha: f64,
    pub m_se: f64,
    pub gen_error_bayes: f64,
    #[serde(with = "crate::table::stat")]
    pub gen_error_gamp: Stat,
    #[serde(with = "crate::table::stat")]
    pub m_gamp: Stat,
    pub gen_error_sq_bayes: f64,
    pub status: Status,
}

/// `[large_alpha]` of `data/fig1.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LargeAlpha {
    pub alpha: f64,
    pub gen_error_bayes: f64,
    pub alpha_times_gen_error_bayes: f64,
    pub literature_asymptote: String,
}

/// The body of `data/fig1.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub large_alpha: LargeAlpha,
    pub simulation: GampSummary,
    pub agreement: Agreement,
}

impl GampFigure for Fig1 {
    type Row = Row;
    type Summary = Summary;

    fn gamp(&self) -> (&BayesSpec, &Sizes<SimSpec>) {
        (&self.bayes, &self.sizes)
    }
    fn report(&self, mode: Mode, sims: &Sims<Self>) -> Result<Report<Self>, Error> {
        let sim = self.sizes.pick(mode);
        let (prior, channel) = self.bayes.model.build()?;
        check_alphas("large_alpha", &[self.large_alpha])?;
        let large = bayes_point(&prior, &channel, self.large_alpha, &self.bayes.se)
            .map_err(|e| format!("alpha = {}: {e}", self.large_alpha))?;
        let theory = self.bayes.theory("fig1", mode, sim, &[])?;
        let mut pairs = Vec::new();
        let rows: Vec<Row> = (theory.iter())
            .map(|(alpha, t)| {
                let (m, eps, eps_sq) = t.as_ref().map_or((f64::NAN, f64::NAN, f64::NAN), |p| {
                    (p.m_mmse, p.class_error_bayes, p.gen_error_sq_bayes)
                });
                let s = AtAlpha::of(sims, *alpha);
                let gen_error_gamp = s.stat(|o| o.test_error);
                if s.simulated() {
                    pairs.push((eps, gen_error_gamp));
                }
                Row {
                    alpha: *alpha,
                    m_se: m,
                    gen_error_bayes: eps,
                    gen_error_gamp,
                    m_gamp: s.stat(|o| o.m),
                    gen_error_sq_bayes: eps_sq,
                    status: s.status(t),
                }
            })
            .collect();
        let product = self.large_alpha * large.class_error_bayes;
        let summary = Summary {
            large_alpha: LargeAlpha {
                alpha: self.large_alpha,
                gen_error_bayes: large.class_error_bayes,
                alpha_times_gen_error_bayes: product,
                literature_asymptote: "alpha * error -> 0.4417 as alpha -> infinity".into(),
            },
            simulation: self.bayes.summary(sim, sims),
            agreement: Agreement::of(
                "gen_error_bayes (SE) vs GAMP test error arccos(m/sqrt(rho q))/pi",
                pairs,
                SIM_RESOLUTION,
            ),
        };
        let headline = "alpha_times_gen_error_bayes_at_large_alpha";
        Ok(Report {
            rows,
            summary,
            headline: vec![Headline::new(headline, product, 1e-9)],
            check_rel_tol: 1e-6,
        })
    }
}
