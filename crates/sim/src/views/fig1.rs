//! How fig1 is shown: the plot and the findings, from `data/fig1.{csv,toml}` alone.

use crate::Error;
use crate::experiment::{Agreement, Mode, View};
use crate::figs::fig1::*;
use crate::findings::{Findings, Verdict, sig};
use crate::kit::bayes::GampSummary;
use crate::plot::{Axis, Panel, Plot, Role, Rule, Series};
use crate::table::stat::cells;
use serde::Deserialize;

/// The large-α constant α·ε of the literature (α → ∞).
const LITERATURE_ASYMPTOTE: f64 = 0.4417;

/// What the plot and the findings read back from `data/fig1.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Digest {
    pub large_alpha: LargeAlpha,
    pub simulation: GampSummary,
    pub agreement: Agreement,
}

impl View for Fig1 {
    type Digest = Digest;

    fn plot(&self, _: Mode, rows: &[Row], g: &Digest) -> Result<Plot, Error> {
        let (d, seeds) = (g.simulation.d, g.simulation.seeds);
        let theory = "Bayes-optimal = AMP fixed point (state evolution)";
        let gamp = format!("GAMP, d = {d} ({seeds} seeds), ± 1 s.e.");
        let alpha = "α = n/d (samples per dimension)";
        let mut error = Panel::new(
            "Bayes-optimal error falls with α; GAMP attains it",
            Axis::linear(alpha),
            Axis::log("ε: test classification error"),
        );
        error.series = vec![
            Series::line(Role::Bayes, theory, rows, |r| {
                Some((r.alpha, r.gen_error_bayes))
            }),
            Series::points(Role::Bayes, &gamp, rows, |r| {
                let (m, e) = cells(&r.gen_error_gamp)?;
                Some((r.alpha, m, e))
            }),
        ];
        let mut product = Panel::new(
            "α·ε approaches the constant 0.4417",
            Axis::log(alpha),
            Axis::linear("α·ε (error × samples per dimension)"),
        );
        product.notes = vec![format!(
            "state evolution at α = {}: α·ε = {}",
            g.large_alpha.alpha,
            sig(g.large_alpha.alpha_times_gen_error_bayes, 5)
        )];
        product.series = vec![
            Series::line(Role::Bayes, theory, rows, |r| {
                Some((r.alpha, r.alpha * r.gen_error_bayes))
            }),
            Series::points(Role::Bayes, &gamp, rows, |r| {
                let (m, e) = cells(&r.gen_error_gamp)?;
                Some((r.alpha, r.alpha * m, r.alpha * e))
            }),
        ];
        product.hlines = vec![Rule::reference(
            LITERATURE_ASYMPTOTE,
            "literature: α·ε → 0.4417 as α → ∞",
        )];
        Ok(Plot::new(
            "Spherical perceptron, teacher w* ~ N(0, 1), y = sign(Xw*): Bayes-optimal classification error",
            2,
            vec![error, product],
        ))
    }

    fn findings(&self, _: Mode, _: &[Row], g: &Digest) -> Result<Findings, Error> {
        let la = &g.large_alpha;
        let rel =
            (la.alpha_times_gen_error_bayes - LITERATURE_ASYMPTOTE).abs() / LITERATURE_ASYMPTOTE;
        let a = &g.agreement;
        let (close, agrees) = (rel < 0.01, a.mean_dev_in_stderr <= 2.0);
        let verdict = if close && agrees {
            Verdict::Reproduced
        } else {
            Verdict::NotReproducedAtTheseSizes
        };
        Ok(Findings {
            numbers: vec![format!(
                "α·ε_Bayes at α = {}: {} (state evolution; literature 0.4417 as α → ∞, {:.2} % away)",
                la.alpha,
                sig(la.alpha_times_gen_error_bayes, 5),
                100.0 * rel
            )],
            agreement: vec![a.line(&format!(
                "GAMP (d = {}, {} seeds) vs state evolution",
                g.simulation.d, g.simulation.seeds
            ))],
            verdict,
            reason: format!(
                "Rule: α·ε at the largest α within 1 % of 0.4417 ({}) and GAMP within 2 standard errors of state evolution on average ({}).",
                if close { "yes" } else { "no" },
                if agrees { "yes" } else { "no" }
            ),
        })
    }
}
