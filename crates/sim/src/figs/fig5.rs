//! fig5 — gradient descent on an over-parametrised two-layer network with quadratic
//! activation for phase retrieval (talk, "GD for over-parametrised phase retrieval"; Sarao
//! Mannelli, Vanden-Eijnden, Zdeborová, NeurIPS 2020, arXiv:2006.15459).
//!
//! `gardner_algorithms::overparam` from W(0) ~ N(0, 1) on fresh teacher data for every
//! (α, d, m, seed); success = gen_error = ‖A − A*‖²_F/‖A*‖²_F < 1e-3 within the time budget
//! (convergence is algebraic in time, so success is relative to `max_steps · step`, recorded in
//! the summary). Per (d, m): success rate with Wilson intervals, gen_error mean ± s.e.; α_½ with a
//! bootstrap interval; the theorem's α = 2 for m ≥ d beside it; 1/d extrapolation per width
//! rule when ≥ 3 sizes cross inside the grid.

use super::success_curve::{
    BootstrapSpec, CrossingSummary, Curve, Extrapolation, check_size, finished, finite,
};
use crate::Experiment;
use crate::experiment::{Mode, Plan, Report, Sims, SimulationSummary};
use crate::plot::{Plot, Series};
use gardner_algorithms::gd::{Problem, spherical_teacher};
use gardner_algorithms::overparam;
use gardner_models::rng::Rng;
use gardner_models::run::Termination;
use serde::{Deserialize, Serialize};

/// A run size: dimensions, width rules, α grid, seeds per (α, d, m).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeSpec {
    pub dims: Vec<usize>,
    /// Width rules: "1", an integer, "d", "2d", "d/4", "0.5d".
    pub widths: Vec<String>,
    pub alphas: Vec<f64>,
    pub seeds: usize,
}

/// GD settings of the spec (m_hidden comes from the width rules; the step-halving guard is on).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GdSpec {
    pub step: f64,
    pub max_steps: usize,
    pub loss_tol: f64,
    pub grad_tol: f64,
    pub record_every: usize,
    pub stall_check_time: Option<f64>,
}

/// `papers/fig5.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fig5 {
    /// Base seed of the simulation streams.
    pub seed: u64,
    /// The theorem's threshold for m ≥ d (Theorem 3.1 of 2006.15459).
    pub theorem_alpha: f64,
    pub gd: GdSpec,
    pub bootstrap: BootstrapSpec,
    pub quick: SizeSpec,
    pub default: SizeSpec,
    pub full: SizeSpec,
}

/// One run: fresh teacher data at (α, d), a student of m_hidden units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub alpha: f64,
    pub d: usize,
    pub m_hidden: usize,
}

/// The state of one run where it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Obs {
    pub success: bool,
    pub gen_error: f64,
    pub train_loss: f64,
    pub time: f64,
    pub stalled: bool,
    pub out_of_budget: bool,
    pub halvings: u32,
}

/// One row of `data/fig5.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub alpha: f64,
    pub d: usize,
    pub m_hidden: usize,
    pub success_rate: Option<f64>,
    pub success_lo: Option<f64>,
    pub success_hi: Option<f64>,
    pub gen_error_mean: Option<f64>,
    pub gen_error_stderr: Option<f64>,
    pub status: String,
}

/// `[simulation]` of `data/fig5.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Simulation {
    pub dims: Vec<usize>,
    pub widths: Vec<String>,
    pub alphas: Vec<f64>,
    pub seeds: usize,
    pub base_seed: u64,
    pub time_budget: f64,
    pub success: String,
    pub loss: &'static str,
    pub gen_error_note: &'static str,
    pub budget_note: &'static str,
    #[serde(flatten)]
    pub cost: SimulationSummary,
    pub gd: GdSpec,
}

/// The theorem's α where it applies (m ≥ d), else why not.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum TheoremAlpha {
    Applies(f64),
    DoesNotApply(&'static str),
}

/// One `[[alpha_half]]` of `data/fig5.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct AlphaHalfAt {
    pub d: usize,
    pub m_hidden: usize,
    pub width_rule: String,
    pub theorem_alpha: TheoremAlpha,
    #[serde(flatten)]
    pub crossing: CrossingSummary,
    pub runs_stalled: usize,
    pub runs_out_of_budget: usize,
    pub runs_with_step_halving: usize,
}

/// One `[[extrapolation]]`: the 1/d fit of one width rule.
#[derive(Debug, Clone, Serialize)]
pub struct WidthExtrapolation {
    pub width_rule: String,
    #[serde(flatten)]
    pub fit: Extrapolation,
}

/// `[theory]`.
#[derive(Debug, Clone, Serialize)]
pub struct Theory {
    pub theorem_alpha: f64,
    pub statement: &'static str,
}

/// The body of `data/fig5.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub simulation: Simulation,
    pub alpha_half: Vec<AlphaHalfAt>,
    pub extrapolation: Vec<WidthExtrapolation>,
    pub theory: Theory,
}

/// m for a width rule at dimension d (at least 1).
pub fn width(rule: &str, d: usize) -> Result<usize, String> {
    let r = rule.trim();
    let bad = || {
        format!(
            "invalid width rule `{rule}`: expected an integer, \"d\", \"2d\", \"0.5d\" or \"d/4\""
        )
    };
    let positive = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|k| *k > 0.0)
            .ok_or_else(bad)
    };
    let m = if let Some(k) = r.strip_prefix("d/") {
        (d as f64 / positive(k)?).round()
    } else if let Some(c) = r.strip_suffix('d') {
        let c = if c.trim().is_empty() {
            1.0
        } else {
            positive(c)?
        };
        (c * d as f64).round()
    } else {
        r.parse::<usize>().map_err(|_| bad())? as f64
    };
    Ok((m as usize).max(1))
}

impl Fig5 {
    fn section(&self, mode: Mode) -> &SizeSpec {
        mode.pick(&self.quick, &self.default, &self.full)
    }
    /// (d, m, width rule) for each d and each rule, the first rule of equal m kept.
    fn groups(&self, size: &SizeSpec) -> Result<Vec<(usize, usize, String)>, String> {
        let mut groups: Vec<(usize, usize, String)> = Vec::new();
        for &d in &size.dims {
            for rule in &size.widths {
                let m = width(rule, d)?;
                if !groups.iter().any(|g| g.0 == d && g.1 == m) {
                    groups.push((d, m, rule.clone()));
                }
            }
        }
        Ok(groups)
    }
    /// The settings of a run with m hidden units.
    fn config(&self, m_hidden: usize) -> overparam::Config {
        let g = &self.gd;
        overparam::Config {
            m_hidden,
            step: g.step,
            max_steps: g.max_steps,
            loss_tol: g.loss_tol,
            grad_tol: g.grad_tol,
            record_every: g.record_every,
            threads: 1,
            stop_on_success: true,
            stall_check_time: g.stall_check_time,
            halve_on_increase: true,
            max_halvings: 20,
        }
    }
}

impl Experiment for Fig5 {
    const ID: &'static str = "fig5";
    const TITLE: &'static str =
        "Over-parametrised two-layer GD on phase retrieval: success vs alpha for several widths m";
    const PAPER: &'static str =
        "Sarao Mannelli, Vanden-Eijnden, Zdeborová, NeurIPS 2020 (arXiv:2006.15459)";
    type Point = Point;
    type Obs = Obs;
    type Row = Row;
    type Summary = Summary;

    fn plan(&self, mode: Mode) -> Result<Plan<Point>, String> {
        let size = self.section(mode);
        check_size(mode.name(), &size.dims, &size.alphas, size.seeds)?;
        self.bootstrap.validate()?;
        if size.widths.is_empty() {
            return Err(format!(
                "invalid parameter `{}.widths` = []: must be non-empty",
                mode.name()
            ));
        }
        self.config(1).validate().map_err(|e| e.to_string())?;
        let mut points = Vec::new();
        for (d, m_hidden, _) in self.groups(size)? {
            points.extend(
                size.alphas
                    .iter()
                    .map(|&alpha| Point { alpha, d, m_hidden }),
            );
        }
        // every run's settings are config(m_hidden): the spec's [gd] and constants of this file
        Plan::new(points, size.seeds, &(&self.gd, self.seed))
    }
    fn task_bytes(&self, p: &Point) -> u64 {
        // X (n × d), y, z, r (n), W, W0, ∇H (d × m), P (n × m), WᵀW (m × m), the recorded steps
        let (n, d, m) = (
            (p.alpha * p.d as f64).round() as u64,
            p.d as u64,
            p.m_hidden as u64,
        );
        let steps = (self.gd.max_steps / self.gd.record_every.max(1) + 66) as u64;
        8 * (n * d + n * m + 3 * d * m + m * m + 3 * n + 2 * d + m) + 48 * steps
    }
    fn run(&self, p: &Point, rng: &mut Rng) -> Result<(Obs, Termination), String> {
        let data = spherical_teacher(p.d, p.alpha, rng).map_err(|e| e.to_string())?;
        let problem = Problem::from_dataset(&data).map_err(|e| e.to_string())?;
        let w0 = overparam::random_start(p.d, p.m_hidden, rng);
        let out = overparam::run_from(&problem, &self.config(p.m_hidden), w0)
            .map_err(|e| e.to_string())?;
        let last = out.trace.last().ok_or("no step recorded")?;
        let obs = Obs {
            success: overparam::succeeded(&out.trace),
            gen_error: last.gen_error,
            train_loss: last.train_loss,
            time: last.time,
            stalled: out.trace.termination == Termination::Stalled,
            out_of_budget: out.trace.termination == Termination::MaxIterations,
            halvings: last.halvings,
        };
        Ok((
            obs,
            finished(&out.trace.termination, "over-parametrised GD")?,
        ))
    }
    fn report(&self, mode: Mode, sims: &Sims<Self>) -> Result<Report<Self>, String> {
        let size = self.section(mode);
        let (mut rows, mut alpha_half, mut series, mut headline) = (vec![], vec![], vec![], vec![]);
        let mut by_rule: Vec<(String, Vec<_>)> =
            size.widths.iter().map(|r| (r.clone(), vec![])).collect();
        for (k, (d, m, rule)) in self.groups(size)?.into_iter().enumerate() {
            let curve = Curve::of(
                sims,
                |p| p.d == d && p.m_hidden == m,
                |p| p.alpha,
                |o| o.success,
            );
            let first = rows.len();
            for (p, [rate, lo, hi]) in curve.cells() {
                let ge = p.stat(|o| o.gen_error);
                rows.push(Row {
                    alpha: p.point.alpha,
                    d,
                    m_hidden: m,
                    success_rate: rate,
                    success_lo: lo,
                    success_hi: hi,
                    gen_error_mean: finite(ge.mean),
                    gen_error_stderr: finite(ge.stderr),
                    status: p.status(),
                });
            }
            series.push(Series::interval(
                &format!("d = {d}, m = {m}"),
                &rows[first..],
                |r| Some((r.alpha, r.success_rate?, r.success_lo?, r.success_hi?)),
            ));
            let crossing = CrossingSummary::of(&curve.points, &size.alphas, &self.bootstrap, k);
            headline.extend(crossing.headline(format!("alpha_half_d{d}_m{m}")));
            let estimates = by_rule.iter_mut().find(|(r, _)| *r == rule).map(|(_, v)| v);
            estimates
                .expect("every group's rule is a width rule")
                .extend(crossing.estimate(d));
            alpha_half.push(AlphaHalfAt {
                d,
                m_hidden: m,
                theorem_alpha: if m >= d {
                    TheoremAlpha::Applies(self.theorem_alpha)
                } else {
                    TheoremAlpha::DoesNotApply("none: the theorem (m >= d) does not apply")
                },
                width_rule: rule,
                crossing,
                runs_stalled: curve.count(|o| o.stalled),
                runs_out_of_budget: curve.count(|o| o.out_of_budget),
                runs_with_step_halving: curve.count(|o| o.halvings > 0),
            });
        }
        let extrapolation: Vec<WidthExtrapolation> = by_rule
            .into_iter()
            .map(|(width_rule, est)| WidthExtrapolation {
                width_rule,
                fit: Extrapolation::of(&est),
            })
            .collect();
        for e in &extrapolation {
            let rule = e.width_rule.replace('/', "_over_");
            headline.extend(e.fit.headline(format!("alpha_half_infinite_d_m_{rule}")));
        }
        let summary = Summary {
            simulation: Simulation {
                dims: size.dims.clone(),
                widths: size.widths.clone(),
                alphas: size.alphas.clone(),
                seeds: size.seeds,
                base_seed: self.seed,
                time_budget: self.gd.step * self.gd.max_steps as f64,
                success: format!(
                    "gen_error = |A - A*|_F^2/|A*|_F^2 < {} within the time budget",
                    overparam::SUCCESS_GEN_ERROR
                ),
                loss: "H = (m/4) sum_mu (y_mu^2 - (1/m) sum_a (X_mu.w_a)^2)^2 (time of the slide's flow of L rescaled by 4/m), W(0) ~ N(0,1)",
                gen_error_note: "gen_error columns are at the stopping time: successful runs stop at the first recorded gen_error < 1e-3, so their values sit just below 1e-3 by construction; failures dominate the mean",
                budget_note: "runs_out_of_budget counts runs still improving at t_max: with a longer budget alpha_half for m >= d moves down (finite-time effect)",
                cost: SimulationSummary::of(sims),
                gd: self.gd.clone(),
            },
            alpha_half,
            extrapolation,
            theory: Theory {
                theorem_alpha: self.theorem_alpha,
                statement: "m >= d: for alpha < 2 the zero-loss PSD minimiser is not unique w.p. -> 1; for alpha > 2 it is A* with positive probability (Theorem 3.1, d -> infinity)",
            },
        };
        let plot = Plot {
            title: "Over-parametrised GD: success probability (gen_error < 1e-3)".into(),
            x_label: "alpha = n/d".into(),
            y_label: "success probability (95% Wilson)".into(),
            vlines: vec![(
                self.theorem_alpha,
                format!("theorem: alpha = {} (m >= d)", self.theorem_alpha),
            )],
            series,
            ..Plot::default()
        };
        Ok(Report {
            rows,
            summary,
            headline,
            plot,
            check_rel_tol: 1e-6,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::width;

    #[test]
    fn width_rules() {
        assert_eq!(width("1", 40).unwrap(), 1);
        assert_eq!(width("d", 40).unwrap(), 40);
        assert_eq!(width("2d", 40).unwrap(), 80);
        assert_eq!(width("0.5d", 40).unwrap(), 20);
        assert_eq!(width("d/4", 40).unwrap(), 10);
        assert_eq!(width("d/100", 40).unwrap(), 1);
        assert!(width("x", 40).is_err() && width("d/0", 40).is_err() && width("-1d", 40).is_err());
    }
}
