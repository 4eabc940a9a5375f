//! Trajectory template: theory beside simulation over time. Times are a logarithmic grid of
//! multiples of the time step ([`log_grid`]); both sides are averages over independent runs
//! (seeds; for a Monte-Carlo theory, its replicas), so each cell is a [`Stat`]; agreement is
//! measured in combined standard errors √(se_sim² + se_theory²) ([`TimeAgreement`]).

use crate::Error;
use crate::experiment::{Agreement, Experiment, PointSims, check_counts, check_positive};
use crate::stats::Stat;
use crate::table::Status;
use serde::{Deserialize, Serialize};

/// A time window (flattened into a size section or a task): t = 0 and the logarithmic grid
/// from `t_min` to `t_max` ([`log_grid`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// First positive grid time (≥ η).
    pub t_min: f64,
    /// Points per decade of the logarithmic time grid (≥ 1).
    pub points_per_decade: usize,
    /// End of the window (the last grid time).
    pub t_max: f64,
}

impl Window {
    /// `Ok` when η ≤ t_min ≤ t_max, t_max is a multiple of η and points_per_decade ≥ 1.
    pub fn check(&self, section: &str, eta: f64) -> Result<(), Error> {
        let (t_min, t_max) = (self.t_min, self.t_max);
        check_positive(&format!("{section}.t_min"), t_min)?;
        check_positive(&format!("{section}.t_max"), t_max)?;
        if t_min < eta || t_min > t_max {
            return Err(Error::Spec(format!(
                "invalid parameter `{section}.t_min` = {t_min}: must be in [eta, t_max] = [{eta}, {t_max}]"
            )));
        }
        check_counts(section, &[("points_per_decade", self.points_per_decade)], 1)?;
        if !multiple_of(t_max, eta) {
            return Err(Error::Spec(format!(
                "invalid parameter `{section}.t_max` = {t_max}: must be a multiple of eta = {eta}"
            )));
        }
        Ok(())
    }
    /// The grid times at step η.
    pub fn times(&self, eta: f64) -> Vec<f64> {
        log_grid(eta, self.t_min, self.points_per_decade, self.t_max)
    }
}

/// The grid times: t = 0, then t_min 10^{j/ppd} for j = 0, 1, … while ≤ t_max, each rounded
/// to a multiple of η (duplicates dropped), and t_max itself (rounded to 1e-12).
pub fn log_grid(eta: f64, t_min: f64, points_per_decade: usize, t_max: f64) -> Vec<f64> {
    let k_max = (t_max / eta).round() as u64;
    let mut ks = vec![0u64];
    let ppd = points_per_decade.max(1) as f64;
    for j in 0.. {
        let t = t_min * 10f64.powf(j as f64 / ppd);
        if t > t_max * (1.0 + 1e-12) {
            break;
        }
        let k = ((t / eta).round() as u64).max(1).min(k_max);
        if ks.last() != Some(&k) {
            ks.push(k);
        }
    }
    if ks.last() != Some(&k_max) {
        ks.push(k_max);
    }
    ks.iter()
        .map(|&k| ((k as f64 * eta) * 1e12).round() / 1e12)
        .collect()
}

/// Whether `x` is an integer multiple of `unit` (to 1e-9 relative).
pub fn multiple_of(x: f64, unit: f64) -> bool {
    let k = (x / unit).round();
    (k * unit - x).abs() <= 1e-9 * x.abs().max(unit)
}

/// Mean and standard error of `f` over the completed runs of several points (in order), the
/// runs without a value (e.g. a trajectory that ended early) left out.
pub fn stat_over<E: Experiment>(
    points: &[&PointSims<E>],
    f: impl Fn(&E::Obs) -> Option<f64>,
) -> Stat {
    let v: Vec<f64> = points
        .iter()
        .flat_map(|p| p.done().filter_map(|(o, _)| f(o)))
        .collect();
    Stat::of(&v)
}

/// `ok`, or how many runs of the points did not converge or failed: `k/n runs <first reason>`.
pub fn runs_status<E: Experiment>(points: &[&PointSims<E>]) -> Status {
    let n: usize = points.iter().map(|p| p.tasks.len()).sum();
    let bad: Vec<String> = points
        .iter()
        .flat_map(|p| &p.tasks)
        .filter_map(|t| match t {
            Err(e) => Some(format!("failed: {e}")),
            Ok((_, term)) if !term.converged() => Some(term.status()),
            Ok(_) => None,
        })
        .collect();
    match bad.first() {
        None => Status::OK,
        Some(first) => Status::note(format!("{}/{n} runs {first}", bad.len())),
    }
}

/// Theory against simulation over time: the [`Agreement`] in combined standard errors
/// σ = max(√(se_sim² + se_theory²), resolution), and how long it holds within `bound` σ
/// (times where both errors vanish, e.g. m(0) of an informed start, are not compared).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimeAgreement {
    pub deviation: Agreement,
    /// Largest time t such that every compared time ≤ t agrees within `bound` σ (absent
    /// when the first compared time already deviates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within_3_stderr_until: Option<f64>,
    /// First compared time with a deviation above `bound` σ (absent: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_deviation_time: Option<f64>,
}

impl TimeAgreement {
    /// From (time, theory, simulation) triples.
    pub fn of(compared: &str, triples: &[(f64, Stat, Stat)], resolution: f64, bound: f64) -> Self {
        let combined: Vec<(f64, f64, Stat)> = triples
            .iter()
            .map(|&(t, th, s)| {
                let se = (s.stderr * s.stderr + th.stderr * th.stderr).sqrt();
                (t, th.mean, Stat { stderr: se, ..s })
            })
            .collect();
        let deviation = Agreement::of(
            compared,
            combined.iter().map(|&(_, th, s)| (th, s)),
            resolution,
        );
        let devs: Vec<(f64, f64)> = combined
            .iter()
            .filter_map(|&(t, th, s)| Some((t, Agreement::deviation(th, s, resolution)?)))
            .collect();
        let first_bad = devs.iter().position(|&(_, d)| d > bound);
        let until = match first_bad {
            None => devs.last().map(|&(t, _)| t),
            Some(0) => None,
            Some(i) => Some(devs[i - 1].0),
        };
        Self {
            deviation,
            within_3_stderr_until: until,
            first_deviation_time: first_bad.map(|i| devs[i].0),
        }
    }
}

/// Items thinned to at most about `n` per equal step in ln t (markers on a log-time axis stay
/// legible however fine the grid); t ≤ 0 is dropped.
pub fn thin<'a, R>(items: &[&'a R], time: impl Fn(&R) -> f64, n: usize) -> Vec<&'a R> {
    let pos: Vec<&R> = items.iter().copied().filter(|r| time(r) > 0.0).collect();
    let (Some(first), Some(last)) = (pos.first(), pos.last()) else {
        return Vec::new();
    };
    let step = (time(last) / time(first)).ln() / n.max(1) as f64;
    let mut out: Vec<&R> = Vec::new();
    for r in pos {
        if out
            .last()
            .is_none_or(|l| (time(r) / time(l)).ln() >= step * (1.0 - 1e-9))
        {
            out.push(r);
        }
    }
    out
}
