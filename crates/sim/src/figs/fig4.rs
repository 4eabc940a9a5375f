//! fig4 — gradient descent on phase retrieval (talk, "Performance of gradient descent";
//! Sarao Mannelli, Biroli, Cammarota, Krzakala, Urbani, Zdeborová, arXiv:2006.06997).
//!
//! Spherical GD (`gardner_algorithms::gd`) from a random start on fresh teacher data for every
//! (α, d, seed); success = final |m| ≥ 0.99. Per (α, d): success rate with a 95 % Wilson
//! interval, the final |m| (mean, standard error). Per d: α_½ where the isotonic success curve
//! crosses ½, with a seeded percentile-bootstrap interval; with ≥ 3 sizes a weighted fit
//! α_½(d) = a + b/d (`[extrapolation]`), and both a + b/d and a + b ln d with χ²/dof and the
//! better of the two (`[finite_size_fits]`). Compared with α_IT and α_AMP of the theory crate and the talk's ≈ 7.

use super::success_curve::{
    AlphaHalf, BootstrapSpec, CrossingRead, CrossingSummary, Curve, Extrapolation, FiniteSizeFits,
    check_size, finished, finite,
};
use crate::Experiment;
use crate::experiment::{Headline, Mode, Plan, Report, Sims, SimulationSummary};
use crate::findings::{Findings, Verdict, sig};
use crate::plot::{Axis, Panel, Plot, Role, Rule, Series};
use gardner_algorithms::gd::{self, Problem, spherical_teacher};
use gardner_models::rng::Rng;
use gardner_models::run::Termination;
use gardner_models::{Abs, Gaussian};
use gardner_theory::{ThresholdConfig, thresholds};
use serde::{Deserialize, Serialize};

/// A run size: dimensions, α grid, seeds per (α, d).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeSpec {
    pub dims: Vec<usize>,
    pub alphas: Vec<f64>,
    pub seeds: usize,
}

/// `papers/fig4.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fig4 {
    /// Base seed of the simulation streams.
    pub seed: u64,
    /// The talk's measured GD threshold (finite-size numerics), shown for comparison only.
    pub talk_alpha_gd: f64,
    pub gd: gd::Config,
    pub bootstrap: BootstrapSpec,
    #[serde(default)]
    pub thresholds: ThresholdConfig,
    pub quick: SizeSpec,
    pub default: SizeSpec,
    pub full: SizeSpec,
}

/// One GD run: fresh teacher data at (α, d).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub alpha: f64,
    pub d: usize,
}

/// The final state of one GD run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Obs {
    pub success: bool,
    pub overlap_abs: f64,
    pub train_loss: f64,
    pub time: f64,
    pub halvings: u32,
}

/// One row of `data/fig4.csv`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub alpha: f64,
    pub d: usize,
    pub success_rate: Option<f64>,
    pub success_lo: Option<f64>,
    pub success_hi: Option<f64>,
    pub final_overlap_mean: Option<f64>,
    pub final_overlap_stderr: Option<f64>,
    pub status: String,
}

/// `[simulation]` of `data/fig4.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Simulation {
    pub dims: Vec<usize>,
    pub alphas: Vec<f64>,
    pub seeds: usize,
    pub base_seed: u64,
    pub success: String,
    pub loss: &'static str,
    #[serde(flatten)]
    pub cost: SimulationSummary,
    pub gd: gd::Config,
}

/// One `[[alpha_half]]` of `data/fig4.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct AlphaHalfAtD {
    pub d: usize,
    #[serde(flatten)]
    pub crossing: CrossingSummary,
    pub runs_with_step_halving: usize,
}

/// `[comparison]`: theory thresholds, the measured α_½ at the largest d, the talk's value.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub alpha_it: f64,
    pub alpha_it_kind: String,
    pub alpha_amp: f64,
    pub alpha_amp_source: &'static str,
    pub alpha_gd_measured_largest_d: AlphaHalf,
    pub alpha_gd_measured_at_d: Option<usize>,
    pub talk_alpha_gd: f64,
    pub talk_alpha_gd_note: &'static str,
}

/// The body of `data/fig4.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub simulation: Simulation,
    pub alpha_half: Vec<AlphaHalfAtD>,
    pub extrapolation: Extrapolation,
    /// α_½(d) = a + b/d against a + b ln d.
    pub finite_size_fits: FiniteSizeFits,
    pub comparison: Comparison,
}

/// What the plot and the findings read back from `data/fig4.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Digest {
    pub simulation: SimulationRead,
    pub alpha_half: Vec<CrossingRead>,
    pub extrapolation: ExtrapolationRead,
    pub finite_size_fits: FitsRead,
    pub comparison: ComparisonRead,
}

/// `[simulation]` as read back.
#[derive(Debug, Clone, Deserialize)]
pub struct SimulationRead {
    pub dims: Vec<usize>,
    pub seeds: usize,
}

/// `[extrapolation]` as read back.
#[derive(Debug, Clone, Deserialize)]
pub struct ExtrapolationRead {
    pub alpha_half_infinite_d: Option<f64>,
    pub alpha_half_infinite_d_stderr: Option<f64>,
    pub chi2_per_dof: Option<f64>,
}

/// `[finite_size_fits]` as read back.
#[derive(Debug, Clone, Deserialize)]
pub struct FitsRead {
    pub better: Option<String>,
    pub log_d: Option<FitRead>,
}

/// One fit as read back.
#[derive(Debug, Clone, Deserialize)]
pub struct FitRead {
    pub chi2_per_dof: f64,
}

/// `[comparison]` as read back.
#[derive(Debug, Clone, Deserialize)]
pub struct ComparisonRead {
    pub alpha_it: f64,
    pub alpha_amp: f64,
    pub talk_alpha_gd: f64,
}

impl Fig4 {
    fn section(&self, mode: Mode) -> &SizeSpec {
        mode.pick(&self.quick, &self.default, &self.full)
    }
    /// The GD settings of every run (sequential: runs are parallel).
    fn config(&self) -> gd::Config {
        gd::Config {
            threads: 1,
            ..self.gd.clone()
        }
    }
}

impl Experiment for Fig4 {
    const ID: &'static str = "fig4";
    const TITLE: &'static str =
        "Gradient descent on phase retrieval: success probability vs alpha for several d";
    const PAPER: &'static str = "Sarao Mannelli, Biroli, Cammarota, Krzakala, Urbani, Zdeborová, NeurIPS 2020 (arXiv:2006.06997)";
    type Point = Point;
    type Obs = Obs;
    type Row = Row;
    type Summary = Summary;
    type Digest = Digest;
    const CLAIM: &'static str = "Gradient descent from a random start recovers the phase only at α ≈ 7, far above the AMP threshold α_AMP ≈ 1.13.";

    fn plan(&self, mode: Mode) -> Result<Plan<Point>, String> {
        let size = self.section(mode);
        check_size(mode.name(), &size.dims, &size.alphas, size.seeds)?;
        self.bootstrap.validate()?;
        self.gd.validate().map_err(|e| e.to_string())?;
        let points = size
            .dims
            .iter()
            .flat_map(|&d| size.alphas.iter().map(move |&alpha| Point { alpha, d }))
            .collect();
        Plan::new(points, size.seeds, &(self.config(), self.seed))
    }
    fn task_bytes(&self, p: &Point) -> u64 {
        // X (n × d), y, z, h, u (n), w*, w, g (d), the recorded steps
        let (n, d) = ((p.alpha * p.d as f64).round() as u64, p.d as u64);
        let steps = (self.gd.max_steps / self.gd.record_every.max(1) + 2) as u64;
        8 * n * d + 32 * n + 24 * d + 64 * steps
    }
    fn run(&self, p: &Point, rng: &mut Rng) -> Result<(Obs, Termination), String> {
        let data = spherical_teacher(p.d, p.alpha, rng).map_err(|e| e.to_string())?;
        let problem = Problem::from_dataset(&data).map_err(|e| e.to_string())?;
        let trace = gd::run(&problem, &self.config(), rng)
            .map_err(|e| e.to_string())?
            .trace;
        let last = trace.last().ok_or("GD recorded no step")?;
        let obs = Obs {
            success: gd::succeeded(&trace),
            overlap_abs: last.overlap_abs,
            train_loss: last.train_loss,
            time: last.time,
            halvings: last.halvings,
        };
        Ok((obs, finished(&trace.termination, "GD")?))
    }
    fn report(&self, mode: Mode, sims: &Sims<Self>) -> Result<Report<Self>, String> {
        let size = self.section(mode);
        // thresholds of the Bayes-optimal problem (Gaussian prior, |z| channel)
        let prior = Gaussian::new(1.0).map_err(|e| e.to_string())?;
        let th =
            thresholds(&prior, &Abs, &self.thresholds).map_err(|e| format!("thresholds: {e}"))?;
        let (alpha_it, alpha_amp) = (
            th.alpha_it.unwrap_or(f64::NAN),
            th.alpha_amp.unwrap_or(f64::NAN),
        );
        let (mut rows, mut alpha_half, mut estimates) = (vec![], vec![], vec![]);
        let mut headline = vec![
            Headline::new("alpha_it", alpha_it, 1e-6),
            Headline::new("alpha_amp", alpha_amp, 1e-6),
        ];
        for (k, &d) in size.dims.iter().enumerate() {
            let curve = Curve::of(sims, |p| p.d == d, |p| p.alpha, |o| o.success);
            for (p, [rate, lo, hi]) in curve.cells() {
                let overlap = p.stat(|o| o.overlap_abs);
                rows.push(Row {
                    alpha: p.point.alpha,
                    d,
                    success_rate: rate,
                    success_lo: lo,
                    success_hi: hi,
                    final_overlap_mean: finite(overlap.mean),
                    final_overlap_stderr: finite(overlap.stderr),
                    status: p.status(),
                });
            }
            let crossing = CrossingSummary::of(&curve.points, &size.alphas, &self.bootstrap, k);
            estimates.extend(crossing.estimate(d));
            headline.extend(crossing.headline(format!("alpha_half_d{d}")));
            alpha_half.push(AlphaHalfAtD {
                d,
                crossing,
                runs_with_step_halving: curve.count(|o| o.halvings > 0),
            });
        }
        let extrapolation = Extrapolation::of(&estimates);
        let finite_size_fits = FiniteSizeFits::of(&estimates);
        headline.extend(extrapolation.headline("alpha_half_infinite_d".into()));
        let largest = estimates.iter().max_by_key(|e| e.d);
        let summary = Summary {
            simulation: Simulation {
                dims: size.dims.clone(),
                alphas: size.alphas.clone(),
                seeds: size.seeds,
                base_seed: self.seed,
                success: format!("final |m| >= {}", gd::SUCCESS_OVERLAP),
                loss: "H = (1/4) sum_mu (y_mu^2 - (X_mu.w)^2)^2 = L/4, X_{mu i} ~ N(0,1/d), |w|^2 = |w*|^2 = d, projected Euler steps",
                cost: SimulationSummary::of(sims),
                gd: self.config(),
            },
            alpha_half,
            extrapolation,
            finite_size_fits,
            comparison: Comparison {
                alpha_it,
                alpha_it_kind: format!("{:?}", th.it_kind),
                alpha_amp,
                alpha_amp_source: "gardner_theory::thresholds (state-evolution spinodal)",
                alpha_gd_measured_largest_d: largest
                    .map_or(AlphaHalf::Outside("no crossing inside the grid"), |e| {
                        AlphaHalf::At(e.alpha_half)
                    }),
                alpha_gd_measured_at_d: largest.map(|e| e.d),
                talk_alpha_gd: self.talk_alpha_gd,
                talk_alpha_gd_note: "talk slide 'Performance of gradient descent': GD numerics ~ 7 (finite-size observation, not a theory value)",
            },
        };
        Ok(Report {
            rows,
            summary,
            headline,
            check_rel_tol: 1e-6,
        })
    }

    fn plot(&self, _: Mode, rows: &[Row], g: &Digest) -> Result<Plot, String> {
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
                    Some((r.alpha, r.success_rate?, r.success_lo?, r.success_hi?))
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
            "fig4 · Spherical gradient descent on phase retrieval (Gaussian teacher, y = |Xw*|) from a random start",
            2,
            vec![success, half],
        ))
    }

    fn findings(&self, _: Mode, _: &[Row], g: &Digest) -> Result<Findings, String> {
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
