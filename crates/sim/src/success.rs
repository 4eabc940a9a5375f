//! Success probabilities over seeds: Wilson intervals, the α where success crosses ½, its
//! bootstrap interval, and the finite-size extrapolation in 1/d. Pure functions.
//!
//! - [`wilson`]: the Wilson score interval of a binomial proportion (two-sided, level set by
//!   z; [`Z95`] for 95 %). Unlike the normal interval it stays inside [0, 1] and is not empty
//!   at 0/n or n/n.
//! - [`crossing`]: the curve p(α) is first made non-decreasing by weighted isotonic regression
//!   (pool-adjacent-violators, weights = trials), which removes sampling wiggles without
//!   choosing a parametric form; α_½ is then the first α where the piecewise-linear
//!   interpolation of the monotone curve reaches ½. If the first grid point is already at
//!   ≥ ½ the crossing is [`Crossing::BelowGrid`]; if none reaches ½, [`Crossing::AboveGrid`].
//! - [`bootstrap_crossing`]: parametric bootstrap (each point's successes redrawn as
//!   Binomial(trials, p̂), which is the same as resampling the seeds at each α), seeded and
//!   deterministic; percentile interval of the replicate crossings. Replicates without a
//!   crossing are counted, not dropped silently.
//! - [`extrapolate_in_inverse_d`]: weighted least squares α_½(d) = a + b/d with weights 1/σ²,
//!   where σ is the bootstrap standard deviation, floored at the grid resolution Δα/√12 (a
//!   crossing interpolated inside a grid cell is not known better than the cell). Needs ≥ 3
//!   sizes; reports a, b, their standard errors and χ²/dof.

use gardner_models::rng::Rng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

/// z of a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Wilson score interval (lo, hi) for `successes` out of `trials` at normal quantile `z`.
/// Returns (NaN, NaN) when `trials` = 0 (no information: never a fake interval).
pub fn wilson(successes: usize, trials: usize, z: f64) -> (f64, f64) {
    if trials == 0 {
        return (f64::NAN, f64::NAN);
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    (
        (centre - half).clamp(0.0, 1.0),
        (centre + half).clamp(0.0, 1.0),
    )
}

/// Successes out of trials at one α.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SuccessPoint {
    pub alpha: f64,
    pub successes: usize,
    pub trials: usize,
}

impl SuccessPoint {
    /// Observed rate k/n (NaN when n = 0).
    pub fn rate(&self) -> f64 {
        if self.trials == 0 {
            f64::NAN
        } else {
            self.successes as f64 / self.trials as f64
        }
    }
    /// 95 % Wilson interval.
    pub fn interval(&self) -> (f64, f64) {
        wilson(self.successes, self.trials, Z95)
    }
}

/// Where a success curve crosses a level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Crossing {
    /// Crosses at this α (inside the grid).
    At(f64),
    /// Already at or above the level at the smallest α of the grid.
    BelowGrid,
    /// Never reaches the level on the grid.
    AboveGrid,
}

impl Crossing {
    /// The α of the crossing, if inside the grid.
    pub fn value(&self) -> Option<f64> {
        match self {
            Crossing::At(a) => Some(*a),
            _ => None,
        }
    }
}

/// Weighted isotonic (non-decreasing) regression by pool-adjacent-violators.
/// `values` and `weights` have equal length; weights must be positive.
pub fn isotonic(values: &[f64], weights: &[f64]) -> Vec<f64> {
    // blocks: (mean, weight, count)
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(values.len());
    for (&v, &w) in values.iter().zip(weights) {
        blocks.push((v, w, 1));
        while blocks.len() > 1 {
            let (m1, w1, c1) = blocks[blocks.len() - 1];
            let (m0, w0, c0) = blocks[blocks.len() - 2];
            if m0 <= m1 {
                break;
            }
            blocks.pop();
            let w = w0 + w1;
            *blocks.last_mut().expect("len > 1") = ((m0 * w0 + m1 * w1) / w, w, c0 + c1);
        }
    }
    blocks
        .iter()
        .flat_map(|&(m, _, c)| std::iter::repeat_n(m, c))
        .collect()
}

/// α at which the (isotonic-regressed) success curve first reaches `level`.
///
/// Points are sorted by α; points with zero trials are ignored. Returns `AboveGrid` for an
/// empty curve.
pub fn crossing(points: &[SuccessPoint], level: f64) -> Crossing {
    let mut pts: Vec<&SuccessPoint> = points.iter().filter(|p| p.trials > 0).collect();
    pts.sort_by(|a, b| a.alpha.total_cmp(&b.alpha));
    if pts.is_empty() {
        return Crossing::AboveGrid;
    }
    let rates: Vec<f64> = pts.iter().map(|p| p.rate()).collect();
    let weights: Vec<f64> = pts.iter().map(|p| p.trials as f64).collect();
    let iso = isotonic(&rates, &weights);
    if iso[0] >= level {
        return Crossing::BelowGrid;
    }
    for i in 1..iso.len() {
        if iso[i] >= level {
            let (a0, a1) = (pts[i - 1].alpha, pts[i].alpha);
            let (p0, p1) = (iso[i - 1], iso[i]);
            return Crossing::At(a0 + (level - p0) / (p1 - p0) * (a1 - a0));
        }
    }
    Crossing::AboveGrid
}

/// Bootstrap summary of a crossing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapCrossing {
    /// Crossing of the observed curve.
    pub estimate: Crossing,
    /// Percentile interval (lo, hi) of the replicate crossings at the given level (NaN if no
    /// replicate crossed inside the grid).
    pub lo: f64,
    pub hi: f64,
    /// Standard deviation of the replicate crossings inside the grid.
    pub std: f64,
    /// Replicates run, and how many crossed below / above the grid (excluded from lo, hi, std).
    pub replicates: usize,
    pub below_grid: usize,
    pub above_grid: usize,
}

/// Parametric bootstrap of [`crossing`]: `replicates` redraws of every point's successes as
/// Binomial(trials, k/n), seeded by `seed` (deterministic); percentile interval at
/// confidence `confidence` (e.g. 0.95).
pub fn bootstrap_crossing(
    points: &[SuccessPoint],
    level: f64,
    replicates: usize,
    confidence: f64,
    seed: u64,
) -> BootstrapCrossing {
    let estimate = crossing(points, level);
    let mut rng = Rng::seed_from_u64(seed);
    let mut values = Vec::with_capacity(replicates);
    let (mut below, mut above) = (0, 0);
    let mut rep = points.to_vec();
    for _ in 0..replicates {
        for (r, p) in rep.iter_mut().zip(points) {
            let q = p.rate();
            r.successes = (0..p.trials).filter(|_| rng.random::<f64>() < q).count();
        }
        match crossing(&rep, level) {
            Crossing::At(a) => values.push(a),
            Crossing::BelowGrid => below += 1,
            Crossing::AboveGrid => above += 1,
        }
    }
    values.sort_by(f64::total_cmp);
    let tail = (1.0 - confidence) / 2.0;
    let (lo, hi) = (quantile(&values, tail), quantile(&values, 1.0 - tail));
    let std = if values.len() >= 2 {
        let m = values.iter().sum::<f64>() / values.len() as f64;
        (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len() - 1) as f64).sqrt()
    } else {
        f64::NAN
    };
    BootstrapCrossing {
        estimate,
        lo,
        hi,
        std,
        replicates,
        below_grid: below,
        above_grid: above,
    }
}

/// Linear-interpolation quantile (type 7) of sorted values; NaN when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let (i, f) = (h.floor() as usize, h - h.floor());
    if i + 1 < sorted.len() {
        sorted[i] + f * (sorted[i + 1] - sorted[i])
    } else {
        sorted[i]
    }
}

/// α_½ at one size with its uncertainty, the input of [`extrapolate_in_inverse_d`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SizeEstimate {
    pub d: usize,
    pub alpha_half: f64,
    /// Standard deviation used as the fit error (already floored by the caller, see
    /// [`fit_sigma`]).
    pub sigma: f64,
}

/// σ of a crossing for the fit: the bootstrap standard deviation, floored at the grid
/// resolution `grid_spacing/√12`. NaN bootstrap std gives the floor.
pub fn fit_sigma(bootstrap_std: f64, grid_spacing: f64) -> f64 {
    let floor = grid_spacing / 12f64.sqrt();
    if bootstrap_std.is_finite() {
        bootstrap_std.max(floor)
    } else {
        floor
    }
}

/// Weighted linear fit α_½ = a + b/d.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InverseDFit {
    /// Extrapolation d → ∞ and its standard error.
    pub intercept: f64,
    pub intercept_stderr: f64,
    /// Slope in 1/d and its standard error.
    pub slope: f64,
    pub slope_stderr: f64,
    /// χ² of the fit divided by its degrees of freedom (sizes − 2).
    pub chi2_per_dof: f64,
    /// Number of sizes used.
    pub sizes: usize,
}

/// Weighted least squares of α_½ against 1/d (weights 1/σ²). `None` with fewer than 3
/// sizes with finite values and σ > 0.
pub fn extrapolate_in_inverse_d(estimates: &[SizeEstimate]) -> Option<InverseDFit> {
    let pts: Vec<(f64, f64, f64)> = estimates
        .iter()
        .filter(|e| e.d > 0)
        .map(|e| (1.0 / e.d as f64, e.alpha_half, e.sigma))
        .collect();
    let f = weighted_line_fit(&pts)?;
    Some(InverseDFit {
        intercept: f.a,
        intercept_stderr: f.a_stderr,
        slope: f.b,
        slope_stderr: f.b_stderr,
        chi2_per_dof: f.chi2_per_dof,
        sizes: f.points,
    })
}

/// Weighted least-squares line y = a + b x (weights 1/σ²) with standard errors from the
/// weights (not rescaled by χ²) and χ²/dof (dof = points − 2).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LineFit {
    pub a: f64,
    pub a_stderr: f64,
    pub b: f64,
    pub b_stderr: f64,
    pub chi2_per_dof: f64,
    pub points: usize,
}

/// Fit y = a + b x to (x, y, σ) points; points with a non-finite value or σ ≤ 0 are dropped.
/// `None` with fewer than 3 usable points or a degenerate design (all x equal).
pub fn weighted_line_fit(points: &[(f64, f64, f64)]) -> Option<LineFit> {
    let pts: Vec<(f64, f64, f64)> = points
        .iter()
        .filter(|(x, y, s)| x.is_finite() && y.is_finite() && s.is_finite() && *s > 0.0)
        .map(|&(x, y, s)| (x, y, 1.0 / (s * s)))
        .collect();
    if pts.len() < 3 {
        return None;
    }
    let (mut s, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(x, y, w) in &pts {
        s += w;
        sx += w * x;
        sy += w * y;
        sxx += w * x * x;
        sxy += w * x * y;
    }
    let delta = s * sxx - sx * sx;
    if !(delta > 0.0) {
        return None;
    }
    let a = (sxx * sy - sx * sxy) / delta;
    let b = (s * sxy - sx * sy) / delta;
    let chi2: f64 = pts
        .iter()
        .map(|&(x, y, w)| w * (y - a - b * x).powi(2))
        .sum();
    Some(LineFit {
        a,
        a_stderr: (sxx / delta).sqrt(),
        b,
        b_stderr: (s / delta).sqrt(),
        chi2_per_dof: chi2 / (pts.len() - 2) as f64,
        points: pts.len(),
    })
}

/// α_½(d) = a + b/d and α_½(d) = a + b ln d, each by [`weighted_line_fit`] with the σ of
/// every size.
pub fn finite_size_fits(estimates: &[SizeEstimate]) -> (Option<LineFit>, Option<LineFit>) {
    let pts = |f: fn(f64) -> f64| -> Vec<(f64, f64, f64)> {
        estimates
            .iter()
            .filter(|e| e.d > 0)
            .map(|e| (f(e.d as f64), e.alpha_half, e.sigma))
            .collect()
    };
    (
        weighted_line_fit(&pts(|d| 1.0 / d)),
        weighted_line_fit(&pts(f64::ln)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(alpha: f64, k: usize, n: usize) -> SuccessPoint {
        SuccessPoint {
            alpha,
            successes: k,
            trials: n,
        }
    }

    /// Exact data on a line: recovered a and b, χ² ≈ 0; noisy data: χ²/dof of the residuals.
    #[test]
    fn line_fit_recovers_a_line() {
        let pts: Vec<(f64, f64, f64)> = [50.0, 100.0, 200.0, 400.0]
            .iter()
            .map(|&d: &f64| (1.0 / d, 7.0 - 30.0 / d, 0.1))
            .collect();
        let f = weighted_line_fit(&pts).unwrap();
        assert!(
            (f.a - 7.0).abs() < 1e-12 && (f.b + 30.0).abs() < 1e-10,
            "{f:?}"
        );
        assert!(f.chi2_per_dof < 1e-20, "{f:?}");
        assert_eq!(f.points, 4);
        // standard errors: scale with σ
        let pts2: Vec<_> = pts.iter().map(|&(x, y, s)| (x, y, 2.0 * s)).collect();
        let f2 = weighted_line_fit(&pts2).unwrap();
        assert!((f2.a_stderr / f.a_stderr - 2.0).abs() < 1e-12);
        // residuals ±σ alternating on 4 points: χ² = 4 (relative to the fitted line it is ≤ 4)
        let noisy: Vec<_> = pts
            .iter()
            .enumerate()
            .map(|(k, &(x, y, s))| (x, y + if k % 2 == 0 { s } else { -s }, s))
            .collect();
        let fn_ = weighted_line_fit(&noisy).unwrap();
        assert!(
            fn_.chi2_per_dof > 0.0 && fn_.chi2_per_dof <= 2.0 + 1e-12,
            "{fn_:?}"
        );
        // too few points, NaN dropped
        assert!(weighted_line_fit(&pts[..2]).is_none());
        let mut with_nan = pts.clone();
        with_nan.push((0.5, f64::NAN, 0.1));
        assert_eq!(weighted_line_fit(&with_nan).unwrap().points, 4);
        // both finite-size models on a ln d line
        let est: Vec<SizeEstimate> = [50usize, 100, 200, 400, 800]
            .iter()
            .map(|&d| SizeEstimate {
                d,
                alpha_half: 5.0 + 0.4 * (d as f64).ln(),
                sigma: 0.05,
            })
            .collect();
        let (inv, log) = finite_size_fits(&est);
        let (inv, log) = (inv.unwrap(), log.unwrap());
        assert!((log.a - 5.0).abs() < 1e-10 && (log.b - 0.4).abs() < 1e-12);
        assert!(
            log.chi2_per_dof < 1e-18 && inv.chi2_per_dof > 1.0,
            "{inv:?}"
        );
    }

    #[test]
    fn wilson_known_values() {
        let (lo, hi) = wilson(5, 10, Z95);
        assert!(
            (lo - 0.236_593).abs() < 1e-5 && (hi - 0.763_407).abs() < 1e-5,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(0, 10, Z95);
        assert!(
            lo.abs() < 1e-15 && (hi - 0.277_533).abs() < 1e-5,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(10, 10, Z95);
        assert!(
            (lo - 0.722_467).abs() < 1e-5 && (hi - 1.0).abs() < 1e-15,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(0, 0, Z95);
        assert!(lo.is_nan() && hi.is_nan());
    }

    #[test]
    fn isotonic_pools_violators() {
        let v = isotonic(&[0.0, 0.5, 0.3, 1.0], &[1.0, 1.0, 1.0, 1.0]);
        assert_eq!(v, vec![0.0, 0.4, 0.4, 1.0]);
        let v = isotonic(&[0.6, 0.2], &[3.0, 1.0]);
        assert!((v[0] - 0.5).abs() < 1e-15 && (v[1] - 0.5).abs() < 1e-15);
    }

    #[test]
    fn crossing_interpolates_and_flags_the_grid_edges() {
        let c = crossing(
            &[
                pt(1.0, 0, 10),
                pt(2.0, 2, 10),
                pt(3.0, 8, 10),
                pt(4.0, 10, 10),
            ],
            0.5,
        );
        assert_eq!(c, Crossing::At(2.5));
        // unsorted input, a non-monotone wiggle
        let c = crossing(
            &[
                pt(3.0, 6, 10),
                pt(1.0, 0, 10),
                pt(2.0, 6, 10),
                pt(2.5, 4, 10),
            ],
            0.5,
        );
        // iso: 0, 0.5, 0.5, 0.6 -> first reaches 0.5 at α = 2
        assert_eq!(c, Crossing::At(2.0));
        assert_eq!(
            crossing(&[pt(1.0, 6, 10), pt(2.0, 9, 10)], 0.5),
            Crossing::BelowGrid
        );
        assert_eq!(
            crossing(&[pt(1.0, 0, 10), pt(2.0, 4, 10)], 0.5),
            Crossing::AboveGrid
        );
        assert_eq!(crossing(&[], 0.5), Crossing::AboveGrid);
    }

    #[test]
    fn bootstrap_is_deterministic_and_brackets_the_estimate() {
        let pts = [
            pt(2.0, 1, 40),
            pt(3.0, 8, 40),
            pt(4.0, 19, 40),
            pt(5.0, 30, 40),
            pt(6.0, 38, 40),
        ];
        let a = bootstrap_crossing(&pts, 0.5, 500, 0.95, 9);
        let b = bootstrap_crossing(&pts, 0.5, 500, 0.95, 9);
        assert_eq!(a, b);
        let est = a.estimate.value().unwrap();
        assert!(a.lo < est && est < a.hi, "{a:?}");
        assert!(a.hi - a.lo < 2.0 && a.std > 0.0, "{a:?}");
        assert_eq!(a.below_grid + a.above_grid, 0);
        let c = bootstrap_crossing(&pts, 0.5, 500, 0.95, 10);
        assert_ne!(a.lo, c.lo);
    }

    #[test]
    fn inverse_d_fit_recovers_a_line_and_needs_three_sizes() {
        let est: Vec<SizeEstimate> = [50, 100, 200, 400]
            .iter()
            .map(|&d| SizeEstimate {
                d,
                alpha_half: 7.0 - 150.0 / d as f64,
                sigma: 0.1 + 10.0 / d as f64,
            })
            .collect();
        let f = extrapolate_in_inverse_d(&est).unwrap();
        assert!(
            (f.intercept - 7.0).abs() < 1e-10 && (f.slope + 150.0).abs() < 1e-8,
            "{f:?}"
        );
        assert!(f.chi2_per_dof < 1e-20 && f.sizes == 4);
        assert!(f.intercept_stderr > 0.0 && f.slope_stderr > 0.0);
        // independent check of the standard error with equal weights: var a = Σx²/(nΣx² − (Σx)²) σ²
        let eq: Vec<SizeEstimate> = est
            .iter()
            .map(|e| SizeEstimate { sigma: 0.2, ..*e })
            .collect();
        let g = extrapolate_in_inverse_d(&eq).unwrap();
        let xs: Vec<f64> = eq.iter().map(|e| 1.0 / e.d as f64).collect();
        let (sx, sxx) = (
            xs.iter().sum::<f64>(),
            xs.iter().map(|x| x * x).sum::<f64>(),
        );
        let var_a = sxx / (4.0 * sxx - sx * sx) * 0.04;
        assert!((g.intercept_stderr - var_a.sqrt()).abs() < 1e-12);
        assert!(extrapolate_in_inverse_d(&est[..2]).is_none());
        assert_eq!(fit_sigma(f64::NAN, 1.0), 1.0 / 12f64.sqrt());
        assert_eq!(fit_sigma(0.5, 1.0), 0.5);
    }
}
