//! The report of fig4: rows per (α, d), α_½ per d, the 1/d and ln d fits, the comparison
//! with the thresholds and the talk's value.

use super::*;

/// `[simulation]` of `data/fig4.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Simulation {
    #[serde(flatten)]
    pub grid: Grid,
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

impl Fig4 {
    /// [`Experiment::report`].
    pub(super) fn tables(&self, mode: Mode, sims: &Sims<Fig4>) -> Result<Report<Fig4>, Error> {
        let size = self.sizes.pick(mode);
        // thresholds of the Bayes-optimal problem (Gaussian prior, |z| channel)
        let prior = Gaussian::new(1.0)?;
        let th = Thresholds::of(&prior, &Abs, &self.thresholds)?;
        let (mut rows, mut alpha_half, mut estimates) = (vec![], vec![], vec![]);
        let mut headline = th.headline(1e-6);
        for (k, &d) in size.dims.iter().enumerate() {
            let curve = Curve::of(sims, |p| p.d == d, |p| p.alpha, |o| o.success);
            for (p, success) in curve.cells() {
                rows.push(Row {
                    alpha: p.point.alpha,
                    d,
                    success,
                    final_overlap: p.stat(|o| o.overlap_abs),
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
                grid: size.clone(),
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
                alpha_it: th.alpha_it,
                alpha_it_kind: th.it_kind,
                alpha_amp: th.alpha_amp,
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
}
