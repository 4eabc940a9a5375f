//! How fig4 is shown: the plot and the findings, from `data/fig4.{csv,toml}` alone.

use crate::Error;
use crate::experiment::{Mode, View};
use crate::figs::fig4::*;
use crate::findings::{Findings, Verdict, sig};
use crate::kit::success_curve::{CrossingRead, Extrapolation, FiniteSizeFits};
use crate::plot::{Axis, Panel, Plot, Role, Rule, Series};
use serde::Deserialize;

/// What the plot and the findings read back from `data/fig4.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Digest {
    pub simulation: SimulationRead,
    pub alpha_half: Vec<CrossingRead>,
    pub extrapolation: Extrapolation,
    pub finite_size_fits: FiniteSizeFits,
    pub comparison: ComparisonRead,
}

/// `[simulation]` as read back.
#[derive(Debug, Clone, Deserialize)]
pub struct SimulationRead {
    pub dims: Vec<usize>,
    pub seeds: usize,
}

/// `[comparison]` as read back.
#[derive(Debug, Clone, Deserialize)]
pub struct ComparisonRead {
    pub alpha_it: f64,
    pub alpha_amp: f64,
    pub talk_alpha_gd: f64,
}

impl View for Fig4 {
    type Digest = Digest;

    fn plot(&self, _: Mode, rows: &[Row], g: &Digest) -> Result<Plot, Error> {
        let c = &g.comparison;
        let dims = &g.simulation.dims;
        let thresholds = || {
            vec![
                Rule::threshold(c.alpha_it, format!("α_{{IT}} = {}", sig(c.alpha_it, 3))),
                Rule::threshold(c.alpha_amp, format!("α_{{AMP}} = {}", sig(c.alpha_amp, 3))),
                Rule::reference(c.talk_alpha_gd, format!("talk: GD ≈ {}", c.talk_alpha_gd)),
            ]
        };
        let mut success = Panel::new(
            "GD succeeds only far above the AMP threshold",
            Axis::linear("α = n/d (samples per dimension)"),
            Axis::linear("P(success): final |m| ≥ 0.99").range(-0.03, 1.03),
        );
        success.notes = vec![format!(
            "{} runs per point from a random start; bars: 95 % Wilson intervals",
            g.simulation.seeds
        )];
        for (k, &d) in dims.iter().enumerate() {
            let sel: Vec<&Row> = rows.iter().filter(|r| r.d == d).collect();
            success.series.push(
                Series::interval(Role::Gd, &format!("GD, d = {d}"), &sel, |r| {
                    Some((r.alpha, r.success.rate?, r.success.lo?, r.success.hi?))
                })
                .level(k, dims.len()),
            );
        }
        success.vlines = thresholds();
        let mut half = Panel::new(
            "α at 50 % success, by dimension",
            Axis::log("d (dimension)"),
            Axis::linear("α_{1/2}: 50 % success crossing"),
        );
        let e = &g.extrapolation;
        if let (Some(a), Some(se)) = (e.alpha_half_infinite_d, e.alpha_half_infinite_d_stderr) {
            half.notes = vec![format!(
                "fit a + b/d: a = {} ± {} (χ²/dof {}); a + b ln d fits {}",
                sig(a, 3),
                sig(se, 2),
                sig(e.chi2_per_dof.unwrap_or(f64::NAN), 2),
                match (&g.finite_size_fits.better, &g.finite_size_fits.log_d) {
                    (Some(b), Some(l)) if b == "log_d" =>
                        format!("better (χ²/dof {})", sig(l.chi2_per_dof, 2)),
                    _ => "no better".into(),
                }
            )];
        }
        half.series = vec![Series::interval(
            Role::Gd,
            "GD: α_{1/2} with 95 % bootstrap interval",
            &g.alpha_half,
            |a| {
                Some((
                    a.d as f64,
                    a.alpha_half.value()?,
                    a.bootstrap_lo,
                    a.bootstrap_hi,
                ))
            },
        )];
        half.hlines = thresholds();
        Ok(Plot::new(
            "Spherical gradient descent on phase retrieval (Gaussian teacher, y = |Xw*|) from a random start",
            2,
            vec![success, half],
        ))
    }

    fn findings(&self, _: Mode, _: &[Row], g: &Digest) -> Result<Findings, Error> {
        let c = &g.comparison;
        let largest = g.alpha_half.iter().max_by_key(|a| a.d);
        let mut numbers: Vec<String> = vec![format!(
            "α at 50 % success: {}",
            g.alpha_half
                .iter()
                .map(|a| format!("{} (d = {})", a.text(), a.d))
                .collect::<Vec<_>>()
                .join(", ")
        )];
        let e = &g.extrapolation;
        if let (Some(a), Some(se)) = (e.alpha_half_infinite_d, e.alpha_half_infinite_d_stderr) {
            numbers.push(format!(
                "extrapolation a + b/d: {} ± {} (χ²/dof {}); better finite-size model: {}",
                sig(a, 3),
                sig(se, 2),
                sig(e.chi2_per_dof.unwrap_or(f64::NAN), 2),
                g.finite_size_fits.better.as_deref().unwrap_or("undecided")
            ));
        }
        numbers.push(format!(
            "theory: α_IT = {}, α_AMP = {}; the talk's GD value ≈ {}",
            sig(c.alpha_it, 5),
            sig(c.alpha_amp, 5),
            c.talk_alpha_gd
        ));
        let (verdict, reason) = match largest.and_then(|a| a.alpha_half.value().map(|v| (a, v))) {
            None => (
                Verdict::Open,
                "Rule needs α_½ at the largest d; the success curve does not cross ½ inside the α grid there.".to_string(),
            ),
            Some((a, v)) => {
                let far_above_amp = a.bootstrap_lo > 2.0 * c.alpha_amp;
                let talk_inside = a.bootstrap_lo <= c.talk_alpha_gd && c.talk_alpha_gd <= a.bootstrap_hi;
                let verdict = match (far_above_amp, talk_inside) {
                    (true, true) => Verdict::Reproduced,
                    _ => Verdict::NotReproducedAtTheseSizes,
                };
                let smallest = g
                    .alpha_half
                    .iter()
                    .min_by_key(|a| a.d)
                    .and_then(|a| a.alpha_half.value());
                let trend = match smallest {
                    Some(s) if v > s => "grows",
                    Some(s) if v < s => "falls",
                    _ => "is flat",
                };
                (
                    verdict,
                    format!(
                        "Rule: at the largest d (= {}) GD's α_½ interval lies above 2 α_AMP ({}) and contains the talk's ≈ {} ({}). Measured α_½ = {} at d = {}; it {trend} with d over d = {}…{}.",
                        a.d,
                        if far_above_amp { "yes" } else { "no" },
                        c.talk_alpha_gd,
                        if talk_inside { "yes" } else { "no" },
                        a.text(),
                        a.d,
                        g.simulation.dims.iter().min().copied().unwrap_or(0),
                        a.d
                    ),
                )
            }
        };
        Ok(Findings {
            numbers,
            agreement: Vec::new(),
            verdict,
            reason,
        })
    }
}
