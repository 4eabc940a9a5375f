//! How fig8 is shown: the plot and the findings, from `data/fig8.{csv,toml}` alone.

use crate::Error;
use crate::experiment::{Mode, View};
use crate::figs::fig8::*;
use crate::findings::{Findings, Verdict, sig};
use crate::kit::grid::same;
use crate::plot::{Axis, Panel, Plot, Series};
use crate::success::BootstrapCrossing;
use serde::Deserialize;

/// What the plot and the findings read back from `data/fig8.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Digest {
    pub alpha_half: Vec<AlphaHalf>,
    pub eta_check: Vec<EtaCheckRead>,
}

/// One `[[eta_check]]` as read back.
#[derive(Debug, Clone, Deserialize)]
pub struct EtaCheckRead {
    pub algorithm: Algorithm,
    pub alpha: f64,
    pub difference_in_stderr: f64,
}

/// `a [lo, hi]` of a bootstrap crossing, or where it lies.
fn crossing_text(c: &BootstrapCrossing) -> String {
    match c.estimate {
        crate::success::Crossing::At(a) => {
            format!("{} [{}, {}]", sig(a, 3), sig(c.lo, 3), sig(c.hi, 3))
        }
        crate::success::Crossing::BelowGrid => "below the α grid".into(),
        crate::success::Crossing::AboveGrid => "above the α grid".into(),
    }
}

impl View for Fig8 {
    type Digest = Digest;

    fn plot(&self, mode: Mode, rows: &[Row], g: &Digest) -> Result<Plot, Error> {
        let s = self.sizes.pick(mode);
        let main: Vec<&Row> = rows
            .iter()
            .filter(|r| same(r.eta, self.schedule.eta))
            .collect();
        let mut panels = Vec::new();
        for (k, &d) in s.grid.dims.iter().enumerate() {
            let mut p = Panel::new(
                format!("d = {d}"),
                Axis::linear("α = n/d (samples per dimension)").shared(),
                Axis::linear("P(success): |m| ≥ 0.99 by t = T").range(-0.03, 1.03),
            );
            if k == 0 {
                p.notes = vec![format!(
                    "{} runs per point, T = {}, η = {}, b = {}, τ = {}; bars: 95 % Wilson",
                    s.grid.seeds,
                    self.time_budget,
                    self.schedule.eta,
                    self.schedule.b,
                    self.schedule.tau
                )];
            }
            for a in ALGORITHMS {
                let sel: Vec<&Row> = main
                    .iter()
                    .copied()
                    .filter(|r| r.d == d && r.algorithm == a)
                    .collect();
                p.series
                    .push(Series::interval(a.role(), a.role().name(), &sel, |r| {
                        Some((r.alpha, r.success_rate, r.success_lo, r.success_hi))
                    }));
            }
            panels.push(p);
        }
        let mut half = Panel::new(
            "α at 50 % success vs d",
            Axis::log("d (dimension)"),
            Axis::linear("α_{1/2}: 50 % success crossing"),
        );
        if let Some(&dmax) = s.grid.dims.iter().max() {
            let v: Vec<String> = ALGORITHMS
                .iter()
                .rev()
                .filter_map(|&a| {
                    let x = g
                        .alpha_half
                        .iter()
                        .find(|x| x.algorithm == a && x.d == dmax)?;
                    Some(format!(
                        "{} ({})",
                        sig(x.alpha_half.estimate.value()?, 3),
                        a.role().name()
                    ))
                })
                .collect();
            half.notes = vec![
                format!("d = {dmax}: α_{{1/2}} = {}", v.join(", ")),
                "bars: 95 % bootstrap intervals".into(),
            ];
        }
        for a in ALGORITHMS {
            let sel: Vec<&AlphaHalf> = g.alpha_half.iter().filter(|x| x.algorithm == a).collect();
            if sel.iter().any(|x| x.alpha_half.estimate.value().is_some()) {
                half.series
                    .push(Series::interval(a.role(), a.role().name(), &sel, |x| {
                        let c = &x.alpha_half;
                        Some((x.d as f64, c.estimate.value()?, c.lo, c.hi))
                    }));
            }
        }
        if !half.series.is_empty() {
            panels.push(half);
        }
        Ok(Plot::new(
            "Phase retrieval from a random start: success of GD, SGD and persistent SGD within a fixed time",
            2,
            panels,
        ))
    }

    fn findings(&self, mode: Mode, _: &[Row], g: &Digest) -> Result<Findings, Error> {
        let s = self.sizes.pick(mode);
        let mut numbers = Vec::new();
        let at =
            |a: Algorithm, d: usize| g.alpha_half.iter().find(|x| x.algorithm == a && x.d == d);
        for a in ALGORITHMS {
            let v: Vec<String> = s
                .grid
                .dims
                .iter()
                .filter_map(|&d| {
                    at(a, d).map(|x| format!("{} (d = {d})", crossing_text(&x.alpha_half)))
                })
                .collect();
            numbers.push(format!("α_½, {}: {}", a.role().name(), v.join(", ")));
        }
        let worst = g
            .eta_check
            .iter()
            .max_by(|a, b| a.difference_in_stderr.total_cmp(&b.difference_in_stderr));
        let agreement = worst
            .map(|w| {
                vec![format!(
                    "step size η vs η/2 at d = {}: success rates differ by at most {} binomial s.e. ({} at α = {})",
                    s.grid.dims.iter().min().copied().unwrap_or(0),
                    sig(w.difference_in_stderr, 2),
                    w.algorithm.role().name(),
                    w.alpha
                )]
            })
            .unwrap_or_default();
        // per d: p-SGD's interval lies below GD's and SGD's estimates
        let (mut below, mut first, mut sizes) = (0, 0, 0);
        for &d in &s.grid.dims {
            let (Some(p), Some(gd), Some(sgd)) = (
                at(Algorithm::Psgd, d),
                at(Algorithm::Gd, d),
                at(Algorithm::Sgd, d),
            ) else {
                continue;
            };
            sizes += 1;
            let value = |x: &AlphaHalf| x.alpha_half.estimate.value().unwrap_or(f64::INFINITY);
            let pv = p.alpha_half.estimate.value();
            if pv.is_some_and(|v| v < value(gd) && v < value(sgd)) {
                first += 1;
            }
            if pv.is_some() && p.alpha_half.hi < value(gd).min(value(sgd)) {
                below += 1;
            }
        }
        let verdict = if sizes == 0 {
            Verdict::Open
        } else if below == sizes {
            Verdict::Reproduced
        } else if first == sizes {
            Verdict::Open
        } else {
            Verdict::NotReproducedAtTheseSizes
        };
        Ok(Findings {
            numbers,
            agreement,
            verdict,
            reason: format!(
                "Rule: at every d, p-SGD's 95 % bootstrap interval of α_½ lies below the GD and SGD estimates ({below} of {sizes} sizes; p-SGD has the smallest α_½ at {first} of {sizes})."
            ),
        })
    }
}
