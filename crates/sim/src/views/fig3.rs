//! How fig3 is shown: the plot and the findings, from `data/fig3.{csv,toml}` alone.

use crate::Error;
use crate::experiment::{Agreement, Mode, View};
use crate::figs::fig3::*;
use crate::findings::{Findings, Verdict, sig};
use crate::kit::bayes::GampSummary;
use crate::plot::{Axis, Panel, Plot, Role, Rule, Series, Span};
use crate::table::stat::cells;
use serde::Deserialize;

/// What the plot and the findings read back from `data/fig3.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Digest {
    pub thresholds: ThresholdSummary,
    pub simulation: GampSummary,
    pub agreement: Agreement,
    pub agreement_away_from_transition: Agreement,
}

/// The literature's thresholds: α_IT = 1, α_AMP ≈ 1.128 (state evolution data jump between
/// 1.1270 and 1.1285).
const LITERATURE_ALPHA_IT: f64 = 1.0;
const LITERATURE_ALPHA_AMP: (f64, f64) = (1.1270, 1.1285);

impl View for Fig3 {
    type Digest = Digest;

    fn plot(&self, _: Mode, rows: &[Row], g: &Digest) -> Result<Plot, Error> {
        let (it, amp) = (g.thresholds.alpha_it, g.thresholds.alpha_amp);
        let (d, seeds) = (g.simulation.d, g.simulation.seeds);
        let mut p = Panel::new(
            "Recovery is possible from α_{IT} = 1, but AMP needs α_{AMP} ≈ 1.13",
            Axis::linear("α = n/d (samples per dimension)"),
            Axis::linear("MSE = E‖ŵ − w*‖²/d"),
        );
        p.notes =
            vec!["shaded: α_{IT} < α < α_{AMP}, where the MMSE is 0 but AMP's error is not".into()];
        p.series = vec![
            Series::line(
                Role::Bayes,
                "MMSE (Bayes-optimal, global max of f_{RS})",
                rows,
                |r| Some((r.alpha, r.mmse)),
            ),
            Series::line(
                Role::Gamp,
                "AMP (state evolution from small m)",
                rows,
                |r| Some((r.alpha, r.mse_amp)),
            ),
            Series::points(
                Role::Gamp,
                &format!("GAMP, d = {d} ({seeds} seeds), ± 1 s.e."),
                rows,
                |r| cells(&r.mse_gamp).map(|(m, e)| (r.alpha, m, e)),
            ),
        ];
        p.vlines = vec![
            Rule::threshold(it, format!("α_{{IT}} = {}", sig(it, 4))),
            Rule::threshold(amp, format!("α_{{AMP}} = {}", sig(amp, 4))),
        ];
        p.spans = vec![Span {
            from: it,
            to: amp,
            label: "hard".into(),
        }];
        Ok(Plot::new(
            "Phase retrieval y = |Xw*|, Gaussian prior: Bayes-optimal vs AMP error",
            1,
            vec![p],
        ))
    }

    fn findings(&self, _: Mode, _: &[Row], g: &Digest) -> Result<Findings, Error> {
        let t = &g.thresholds;
        let it_ok = (t.alpha_it - LITERATURE_ALPHA_IT).abs() < 1e-3;
        let (lo, hi) = LITERATURE_ALPHA_AMP;
        let amp_ok = (lo..=hi).contains(&t.alpha_amp);
        let away = &g.agreement_away_from_transition;
        let agrees = away.mean_dev_in_stderr <= 2.0;
        let sim = format!(
            "GAMP (d = {}, {} seeds) vs state evolution from small m",
            g.simulation.d, g.simulation.seeds
        );
        Ok(Findings {
            numbers: vec![format!(
                "α_IT = {} (literature 1), α_AMP = {} (literature ≈ 1.128; state-evolution data jump between {lo} and {hi})",
                sig(t.alpha_it, 8),
                sig(t.alpha_amp, 8)
            )],
            agreement: vec![
                g.agreement.line(&format!("{sim}, all α")),
                away.line(&format!("{sim}, away from α_AMP")),
            ],
            verdict: if it_ok && amp_ok && agrees {
                Verdict::Reproduced
            } else {
                Verdict::NotReproducedAtTheseSizes
            },
            reason: format!(
                "Rule: α_IT within 10⁻³ of 1 ({}), α_AMP inside [{lo}, {hi}] ({}), GAMP within 2 standard errors of state evolution on average away from the transition ({}).",
                if it_ok { "yes" } else { "no" },
                if amp_ok { "yes" } else { "no" },
                if agrees { "yes" } else { "no" }
            ),
        })
    }
}
