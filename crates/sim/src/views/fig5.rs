//! How fig5 is shown: the plot and the findings, from `data/fig5.{csv,toml}` alone.

use crate::Error;
use crate::experiment::{Mode, View};
use crate::figs::fig5::*;
use crate::findings::{Findings, Verdict, sig};
use crate::kit::success_curve::CrossingRead;
use crate::plot::{Axis, Panel, Plot, Role, Rule, Series};
use serde::Deserialize;

/// What the plot and the findings read back from `data/fig5.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Digest {
    pub simulation: SimulationRead,
    pub alpha_half: Vec<CrossingRead>,
    pub conclusions: Conclusions,
    pub theory: TheoryRead,
}

/// `[simulation]` as read back.
#[derive(Debug, Clone, Deserialize)]
pub struct SimulationRead {
    pub dims: Vec<usize>,
    pub widths: Vec<String>,
    pub seeds: usize,
}

/// `[theory]` as read back.
#[derive(Debug, Clone, Deserialize)]
pub struct TheoryRead {
    pub theorem_alpha: f64,
}

impl View for Fig5 {
    type Digest = Digest;

    fn plot(&self, _: Mode, rows: &[Row], g: &Digest) -> Result<Plot, Error> {
        let (dims, widths) = (&g.simulation.dims, &g.simulation.widths);
        let theorem = g.theory.theorem_alpha;
        let alpha = "α = n/d (samples per dimension)";
        let mut panels = Vec::new();
        for (w, rule) in widths.iter().enumerate() {
            let mut all_wide = true;
            for &d in dims {
                all_wide &= width(rule, d)? >= d;
            }
            let mut p = Panel::new(
                format!("width m = {rule}"),
                Axis::linear(alpha).shared(),
                Axis::linear("P(success)").range(-0.03, 1.03),
            );
            if w == 0 {
                p.notes = vec![format!(
                    "success: ‖A − A*‖²_{{F}}/‖A*‖²_{{F}} < 10⁻³ by t_{{max}} = {} d^{{{}}}",
                    self.gd.budget.coefficient, self.gd.budget.exponent
                )];
            } else if w == 1 {
                p.notes = vec![format!(
                    "{} runs per point; bars: 95 % Wilson intervals",
                    g.simulation.seeds
                )];
            }
            for (k, &d) in dims.iter().enumerate() {
                let m = width(rule, d)?;
                let sel: Vec<&Row> = rows
                    .iter()
                    .filter(|r| r.d == d && r.m_hidden == m)
                    .collect();
                p.series.push(
                    Series::interval(Role::Gd, &format!("d = {d}"), &sel, |r| {
                        Some((r.alpha, r.success.rate?, r.success.lo?, r.success.hi?))
                    })
                    .level(k, dims.len()),
                );
            }
            p.vlines = vec![if all_wide {
                Rule::threshold(theorem, format!("theorem: α = {theorem}"))
            } else {
                Rule::threshold(theorem, format!("α = {theorem}"))
            }];
            panels.push(p);
        }
        let mut half = Panel::new(
            "α_{1/2} vs d against the theorem's α = 2",
            Axis::log("d (dimension)"),
            Axis::linear("α_{1/2}: 50 % success crossing"),
        );
        let dmax = dims.iter().max().copied().unwrap_or(0);
        let at_largest: Vec<String> = widths
            .iter()
            .filter_map(|rule| {
                let a = g
                    .alpha_half
                    .iter()
                    .find(|a| a.d == dmax && a.width_rule.as_deref() == Some(rule.as_str()))?;
                Some(format!("{} ({rule})", sig(a.alpha_half.value()?, 3)))
            })
            .collect();
        half.notes = vec![
            format!("d = {dmax}: α_{{1/2}} = {}", at_largest.join(", ")),
            "bars: 95 % bootstrap; α = 2: theorem for m ≥ d, d → ∞".into(),
        ];
        for (w, rule) in widths.iter().enumerate() {
            let sel: Vec<&CrossingRead> = g
                .alpha_half
                .iter()
                .filter(|a| a.width_rule.as_deref() == Some(rule.as_str()))
                .collect();
            if sel.iter().any(|a| a.alpha_half.value().is_some()) {
                half.series.push(
                    Series::interval(Role::Gd, &format!("α_{{1/2}}, m = {rule}"), &sel, |a| {
                        Some((
                            a.d as f64,
                            a.alpha_half.value()?,
                            a.bootstrap_lo,
                            a.bootstrap_hi,
                        ))
                    })
                    .level(w, widths.len()),
                );
            }
        }
        half.hlines = vec![Rule::threshold(theorem, format!("theorem: α = {theorem}"))];
        panels.push(half);
        Ok(Plot::new(
            "Over-parametrised two-layer GD (quadratic activation, m hidden units) on phase retrieval: success vs α",
            3,
            panels,
        ))
    }

    fn findings(&self, _: Mode, _: &[Row], g: &Digest) -> Result<Findings, Error> {
        let theorem = g.theory.theorem_alpha;
        let mut numbers = Vec::new();
        for rule in &g.simulation.widths {
            let v: Vec<String> = g
                .alpha_half
                .iter()
                .filter(|a| a.width_rule.as_deref() == Some(rule.as_str()))
                .map(|a| format!("{} (d = {})", a.text(), a.d))
                .collect();
            numbers.push(format!("α_½, m = {rule}: {}", v.join(", ")));
        }
        for t in &g.conclusions.theorem {
            if let (Some(a), Some(lo), Some(hi)) = (
                t.alpha_half_infinite_d,
                t.alpha_half_infinite_d_lo,
                t.alpha_half_infinite_d_hi,
            ) {
                numbers.push(format!(
                    "m = {}: extrapolated a + b/d → {} [{}, {}] (theorem: {theorem}); better finite-size model: {}",
                    t.width_rule,
                    sig(a, 3),
                    sig(lo, 3),
                    sig(hi, 3),
                    t.better_finite_size_model.as_deref().unwrap_or("undecided")
                ));
            }
        }
        for c in &g.conclusions.width_comparison {
            if let (Some(x), Some(lo), Some(hi)) = (c.difference, c.difference_lo, c.difference_hi)
            {
                numbers.push(format!(
                    "d = {}: α_½(m = {}) − α_½(m = {}) = {} [{}, {}]",
                    c.d,
                    c.m_small,
                    c.m_large,
                    sig(x, 2),
                    sig(lo, 2),
                    sig(hi, 2)
                ));
            }
        }
        let checks = &g.conclusions.theorem;
        let consistent = !checks.is_empty()
            && checks
                .iter()
                .all(|t| t.infinite_d_consistent_with_theorem == Some(true));
        let undecided = checks
            .iter()
            .any(|t| t.infinite_d_consistent_with_theorem.is_none());
        let m1_more = g
            .conclusions
            .width_comparison
            .iter()
            .filter(|c| c.small_needs_more_samples == Some(true))
            .count();
        let verdict = if undecided || checks.is_empty() {
            Verdict::Open
        } else if consistent {
            Verdict::Reproduced
        } else {
            Verdict::NotReproducedAtTheseSizes
        };
        let rising = checks
            .iter()
            .filter(|t| t.alpha_half_decreases_with_d == Some(false))
            .count();
        Ok(Findings {
            numbers,
            agreement: Vec::new(),
            verdict,
            reason: format!(
                "Rule: for every width rule with m ≥ d the 95 % interval of the extrapolated α_½ contains the theorem's {theorem} ({}). α_½ does not fall with d for {rising} of {} such rules, so within the time budget the 50 % point moves away from {theorem}; m = 1 needs more samples than m ≥ d at the largest d in {m1_more} of {} comparisons.",
                if consistent { "yes" } else { "no" },
                checks.len(),
                g.conclusions.width_comparison.len()
            ),
        })
    }
}
