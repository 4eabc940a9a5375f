//! Success curves over α, shared by fig4 and fig5: per group of points (one d, or one (d, m))
//! the successes out of the completed seeds at each α, the α_½ crossing with its bootstrap
//! interval (the `[[alpha_half]]` tables), the 1/d extrapolation (`[extrapolation]`) and the
//! headline numbers. The statistics themselves are in [`crate::success`].

use crate::Error;
use crate::experiment::{Experiment, Headline, PointSims, Sims};
use crate::success::{
    Crossing, LineFit, SizeEstimate, SuccessPoint, bootstrap_crossing, extrapolate_in_inverse_d,
    finite_size_fits, fit_sigma,
};
use gardner_models::run::Termination;
use serde::{Deserialize, Serialize};

/// `[bootstrap]`: replicates, confidence and seed of the α_½ intervals.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapSpec {
    pub replicates: usize,
    pub confidence: f64,
    pub seed: u64,
}

impl BootstrapSpec {
    /// `Ok` when replicates ≥ 100 and 0 < confidence < 1.
    pub fn validate(&self) -> Result<(), Error> {
        if self.replicates < 100 || !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(Error::Spec(format!(
                "invalid parameter `bootstrap` = {self:?}: need replicates >= 100 and 0 < confidence < 1"
            )));
        }
        Ok(())
    }
}

/// The grid of a run size (flattened into its section): dimensions, α, seeds per (α, d).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Grid {
    pub dims: Vec<usize>,
    pub alphas: Vec<f64>,
    pub seeds: usize,
}

impl Grid {
    /// `Ok` when dims are non-empty and ≥ 1, with ≥ 2 increasing positive α and seeds ≥ 1.
    pub fn check(&self, section: &str) -> Result<(), Error> {
        let Grid {
            dims,
            alphas,
            seeds,
        } = self;
        if dims.is_empty() || dims.contains(&0) {
            return Err(Error::Spec(format!(
                "invalid parameter `{section}.dims` = {dims:?}: must be non-empty, each >= 1"
            )));
        }
        if alphas.len() < 2 || alphas.iter().any(|a| !(a.is_finite() && *a > 0.0)) {
            return Err(Error::Spec(format!(
                "invalid parameter `{section}.alphas` = {alphas:?}: need >= 2 values, each > 0"
            )));
        }
        if alphas.windows(2).any(|w| w[1] <= w[0]) {
            return Err(Error::Spec(format!(
                "invalid parameter `{section}.alphas` = {alphas:?}: must be increasing"
            )));
        }
        crate::experiment::check_counts(section, &[("seeds", *seeds)], 1)
    }
}

/// An algorithm's termination; a divergence fails the task (it is no trial of the test).
pub fn finished(t: &gardner_algorithms::Termination, what: &str) -> Result<Termination, Error> {
    match t.clone() {
        Termination::Diverged { iteration, .. } => {
            Err(format!("{what} diverged at step {iteration}").into())
        }
        t => Ok(t),
    }
}

/// A row's success cells `success_rate, success_lo, success_hi`: the rate and its 95 % Wilson
/// interval, empty without trials.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Rate {
    pub rate: Option<f64>,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

/// The points of one group (in plan order) and their success counts.
pub struct Curve<'a, E: Experiment> {
    pub sims: Vec<&'a PointSims<E>>,
    pub points: Vec<SuccessPoint>,
}

impl<'a, E: Experiment> Curve<'a, E> {
    /// The points where `member` holds; α from `alpha`, success from `success`, trials = the
    /// seeds that did not fail.
    pub fn of(
        sims: &'a Sims<E>,
        member: impl Fn(&E::Point) -> bool,
        alpha: impl Fn(&E::Point) -> f64,
        success: impl Fn(&E::Obs) -> bool,
    ) -> Self {
        let sims: Vec<&PointSims<E>> = sims.points.iter().filter(|p| member(&p.point)).collect();
        let points = sims
            .iter()
            .map(|p| SuccessPoint {
                alpha: alpha(&p.point),
                successes: p.done().filter(|(o, _)| success(o)).count(),
                trials: p.done().count(),
            })
            .collect();
        Self { sims, points }
    }
    /// Completed runs of the whole group where `f` holds.
    pub fn count(&self, f: impl Fn(&E::Obs) -> bool) -> usize {
        self.sims
            .iter()
            .map(|p| p.done().filter(|(o, _)| f(o)).count())
            .sum()
    }
    /// Each point's simulations with its success cells.
    pub fn cells(&self) -> impl Iterator<Item = (&'a PointSims<E>, Rate)> + '_ {
        self.sims.iter().zip(&self.points).map(|(p, c)| {
            let (lo, hi) = c.interval();
            let some = |v| (c.trials > 0).then_some(v);
            let (rate, lo, hi) = (some(c.rate()), some(lo), some(hi));
            (*p, Rate { rate, lo, hi })
        })
    }
}

/// α_½ inside the grid, or why not.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AlphaHalf {
    At(f64),
    Outside(&'static str),
}

/// α_½ as read back from a summary (the plot and the findings).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum AlphaHalfRead {
    At(f64),
    Outside(String),
}

impl AlphaHalfRead {
    /// The crossing, when inside the grid.
    pub fn value(&self) -> Option<f64> {
        match self {
            AlphaHalfRead::At(a) => Some(*a),
            AlphaHalfRead::Outside(_) => None,
        }
    }
}

/// One `[[alpha_half]]` as read back: the size (and width), α_½ and its bootstrap interval.
#[derive(Debug, Clone, Deserialize)]
pub struct CrossingRead {
    pub d: usize,
    #[serde(default)]
    pub m_hidden: Option<usize>,
    #[serde(default)]
    pub width_rule: Option<String>,
    pub alpha_half: AlphaHalfRead,
    pub bootstrap_lo: f64,
    pub bootstrap_hi: f64,
}

impl CrossingRead {
    /// `α_½ = a [lo, hi]`, or why there is none.
    pub fn text(&self) -> String {
        match &self.alpha_half {
            AlphaHalfRead::At(a) => format!(
                "{} [{}, {}]",
                crate::findings::sig(*a, 3),
                crate::findings::sig(self.bootstrap_lo, 3),
                crate::findings::sig(self.bootstrap_hi, 3)
            ),
            AlphaHalfRead::Outside(why) => why.clone(),
        }
    }
}

/// The α_½ table of one curve.
#[derive(Debug, Clone, Serialize)]
pub struct CrossingSummary {
    pub alpha_half: AlphaHalf,
    pub bootstrap_lo: f64,
    pub bootstrap_hi: f64,
    pub bootstrap_std: f64,
    pub bootstrap_replicates: usize,
    pub replicates_below_grid: usize,
    pub replicates_above_grid: usize,
    /// σ of α_½ in the fit (bootstrap std floored at the grid resolution), with a crossing.
    pub fit_sigma: Option<f64>,
}

impl CrossingSummary {
    /// Crossing of ½ with a bootstrap seeded by `b.seed + k` (k: the curve's index).
    pub fn of(points: &[SuccessPoint], alphas: &[f64], b: &BootstrapSpec, k: usize) -> Self {
        let bc = bootstrap_crossing(
            points,
            0.5,
            b.replicates,
            b.confidence,
            b.seed.wrapping_add(k as u64),
        );
        let alpha_half = match bc.estimate {
            Crossing::At(a) => AlphaHalf::At(a),
            Crossing::BelowGrid => AlphaHalf::Outside("below the alpha grid"),
            Crossing::AboveGrid => AlphaHalf::Outside("above the alpha grid"),
        };
        let fit_sigma = bc
            .estimate
            .value()
            .map(|a| fit_sigma(bc.std, local_spacing(alphas, a)));
        Self {
            alpha_half,
            bootstrap_lo: bc.lo,
            bootstrap_hi: bc.hi,
            bootstrap_std: bc.std,
            bootstrap_replicates: bc.replicates,
            replicates_below_grid: bc.below_grid,
            replicates_above_grid: bc.above_grid,
            fit_sigma,
        }
    }
    /// The fit input at size `d`, with a crossing inside the grid.
    pub fn estimate(&self, d: usize) -> Option<SizeEstimate> {
        match (self.alpha_half, self.fit_sigma) {
            (AlphaHalf::At(alpha_half), Some(sigma)) => Some(SizeEstimate {
                d,
                alpha_half,
                sigma,
            }),
            _ => None,
        }
    }
    /// α_½ as a headline number within its fit σ (a flipped seed moves it by less).
    pub fn headline(&self, name: String) -> Option<Headline> {
        let e = self.estimate(0)?;
        Some(Headline::new(name, e.alpha_half, e.sigma))
    }
}

/// The spacing of the α grid around a crossing (the grid resolution).
pub fn local_spacing(alphas: &[f64], at: f64) -> f64 {
    let smallest = || {
        alphas
            .windows(2)
            .map(|w| w[1] - w[0])
            .fold(f64::INFINITY, f64::min)
    };
    alphas
        .windows(2)
        .find(|w| w[0] <= at && at <= w[1])
        .map_or_else(smallest, |w| w[1] - w[0])
}

/// The `[finite_size_fits]` table: α_½(d) = a + b/d and α_½(d) = a + b ln d, both weighted
/// least squares with weights 1/σ² (σ: the bootstrap standard deviation of each α_½, floored
/// at the grid resolution), and which has the smaller χ²/dof.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FiniteSizeFits {
    pub weights: String,
    pub status: Option<String>,
    pub inverse_d: Option<LineFit>,
    pub log_d: Option<LineFit>,
    /// "inverse_d" or "log_d": the smaller χ²/dof (same number of points and parameters).
    pub better: Option<String>,
}

impl FiniteSizeFits {
    /// Fit the crossings of ≥ 3 sizes.
    pub fn of(est: &[SizeEstimate]) -> Self {
        let (inverse_d, log_d) = finite_size_fits(est);
        let better = inverse_d.zip(log_d).and_then(|(i, l)| {
            if i.chi2_per_dof < l.chi2_per_dof {
                Some("inverse_d".into())
            } else if l.chi2_per_dof < i.chi2_per_dof {
                Some("log_d".into())
            } else {
                None
            }
        });
        Self {
            weights:
                "1/sigma^2, sigma = bootstrap std of alpha_half floored at grid spacing/sqrt(12)"
                    .into(),
            status: (inverse_d.is_none() || log_d.is_none()).then(|| {
                format!(
                    "not fitted: {} size(s) with a crossing inside the grid, needs >= 3",
                    est.len()
                )
            }),
            inverse_d,
            log_d,
            better,
        }
    }
}

/// The `[extrapolation]` table: the weighted fit α_½(d) = a + b/d, or why it is absent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Extrapolation {
    pub model: String,
    pub status: Option<String>,
    pub alpha_half_infinite_d: Option<f64>,
    pub alpha_half_infinite_d_stderr: Option<f64>,
    pub slope_in_inverse_d: Option<f64>,
    pub slope_stderr: Option<f64>,
    pub chi2_per_dof: Option<f64>,
    pub sizes: Option<usize>,
    /// Is the largest size consistent with the extrapolation? (a + b/d is a model)
    pub largest_d_minus_extrapolation_in_sigma: Option<f64>,
}

impl Extrapolation {
    /// Fit the crossings of ≥ 3 sizes.
    pub fn of(est: &[SizeEstimate]) -> Self {
        let fit = extrapolate_in_inverse_d(est);
        let dev = fit.zip(est.iter().max_by_key(|e| e.d)).map(|(f, e)| {
            (e.alpha_half - f.intercept) / (e.sigma.powi(2) + f.intercept_stderr.powi(2)).sqrt()
        });
        Self {
            model: "alpha_half(d) = a + b/d, weighted least squares, weights 1/fit_sigma^2".into(),
            status: fit.is_none().then(|| {
                format!(
                    "not fitted: {} size(s) with a crossing inside the grid, needs >= 3",
                    est.len()
                )
            }),
            alpha_half_infinite_d: fit.map(|f| f.intercept),
            alpha_half_infinite_d_stderr: fit.map(|f| f.intercept_stderr),
            slope_in_inverse_d: fit.map(|f| f.slope),
            slope_stderr: fit.map(|f| f.slope_stderr),
            chi2_per_dof: fit.map(|f| f.chi2_per_dof),
            sizes: fit.map(|f| f.sizes),
            largest_d_minus_extrapolation_in_sigma: dev,
        }
    }
    /// The extrapolated α_½ as a headline number within its standard error.
    pub fn headline(&self, name: String) -> Option<Headline> {
        Some(Headline::new(
            name,
            self.alpha_half_infinite_d?,
            self.alpha_half_infinite_d_stderr?,
        ))
    }
}
