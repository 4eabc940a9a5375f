//! Phase-transition thresholds of Bayes-optimal learning (talk, "Optimal phase retrieval").
//!
//! With the two branches of [`crate::bayes`] (uninformed = AMP, informed = planted):
//! - **coexistence** at α: the two starts reach different fixed points;
//! - **α_AMP** (algorithmic threshold, spinodal of the uninformed branch): the upper end of the
//!   last coexistence interval — above it AMP from a random start reaches the informed branch.
//!   Located by bisection on "coexistence" with the bracketed fixed-point finder, which decides
//!   the existence of the low fixed point from the sign of the minimum of F(m) − m (no
//!   "did it escape within N steps" criterion, no critical slowing down).
//! - **α_IT** (information-theoretic threshold): in that interval, the α where the informed
//!   branch takes over the global maximum of f_RS, Δf(α) = f_RS(informed) − f_RS(uninformed) = 0
//!   (Brent's method on atan Δf, which also handles Δf = ±∞ at perfect recovery). When the
//!   informed branch wins as soon as it exists (Δf = +∞, e.g. noiseless phase retrieval with a
//!   Gaussian prior, where f_RS → +∞ at perfect recovery for α > 1 = d_w/κ), α_IT is the lower
//!   end of the coexistence interval (bisection), where perfect recovery becomes stable.
//!   Resolution of that onset: perfect recovery is detected at V/ρ = 1.7e-15, so the onset is
//!   located to O(√1e-15) ≈ 1e-7 relative.
//!
//! The coexistence interval is first bracketed on a geometric grid of α (ratio `grid_ratio`
//! between `alpha_min` and `alpha_max`): an interval narrower than one grid step is missed.

use crate::bayes::{branches, free_entropy_at};
use crate::channel_side::ChannelSide;
use crate::error::{Error, in_range, positive};
use crate::prior_side::PriorSide;
use crate::quad::brent;
use crate::se::{Method, SeConfig, SeResult};
use serde::{Deserialize, Serialize};

/// Tuning of the threshold search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThresholdConfig {
    /// State-evolution settings (the method is forced to `Bracket`, exact at spinodals).
    pub se: SeConfig,
    /// Lower end of the α scan.
    pub alpha_min: f64,
    /// Upper end of the α scan.
    pub alpha_max: f64,
    /// Ratio between successive α of the scan (> 1).
    pub grid_ratio: f64,
    /// Absolute tolerance on the thresholds in α.
    pub alpha_tol: f64,
}

impl Default for ThresholdConfig {
    fn default() -> Self {
        Self {
            se: SeConfig::default(),
            alpha_min: 0.05,
            alpha_max: 20.0,
            grid_ratio: 1.02,
            alpha_tol: 1e-8,
        }
    }
}

/// How α_IT was determined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItKind {
    /// Root of f_RS(informed) = f_RS(uninformed) inside the coexistence interval.
    FreeEntropyCrossing,
    /// The informed branch wins as soon as it appears: lower end of the coexistence interval.
    BranchOnset,
    /// The uninformed branch wins up to its spinodal: α_IT = α_AMP.
    AtSpinodal,
    /// No coexistence interval in the scanned range (no first-order transition found).
    NoTransition,
}

/// Thresholds of a (prior, channel) pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Information-theoretic threshold (None: no transition in the scanned range).
    pub alpha_it: Option<f64>,
    /// Algorithmic (AMP) threshold, spinodal of the uninformed branch.
    pub alpha_amp: Option<f64>,
    /// How α_IT was found.
    pub it_kind: ItKind,
}

fn distinct(a: &SeResult, b: &SeResult, rho: f64) -> bool {
    a.kind != b.kind || (a.m - b.m).abs() > 1e-7 * rho
}

/// Bisection on a boolean predicate with pred(lo) != pred(hi), to `tol`.
fn bisect(
    mut pred: impl FnMut(f64) -> Result<bool, Error>,
    mut lo: f64,
    mut hi: f64,
    tol: f64,
) -> Result<f64, Error> {
    let at_lo = pred(lo)?;
    while hi - lo > tol {
        let mid = 0.5 * (lo + hi);
        if pred(mid)? == at_lo {
            lo = mid
        } else {
            hi = mid
        }
    }
    Ok(0.5 * (lo + hi))
}

/// Locate α_IT and α_AMP (see module docs).
pub fn thresholds<P: PriorSide, C: ChannelSide>(
    prior: &P,
    channel: &C,
    cfg: &ThresholdConfig,
) -> Result<Thresholds, Error> {
    cfg.se.validate()?;
    // the bracketed solver is exact at spinodals; the iteration slows down critically there
    let se = SeConfig {
        method: Method::Bracket,
        ..cfg.se
    };
    positive("alpha_min", cfg.alpha_min)?;
    in_range(
        "alpha_max",
        cfg.alpha_max,
        cfg.alpha_min * 1.0001,
        f64::INFINITY,
        "> alpha_min",
    )?;
    in_range(
        "grid_ratio",
        cfg.grid_ratio,
        1.0001,
        10.0,
        "in (1.0001, 10)",
    )?;
    positive("alpha_tol", cfg.alpha_tol)?;
    let rho = prior.rho();
    let coexist = |a: f64| -> Result<bool, Error> {
        let (u, i) = branches(prior, channel, a, &se)?;
        Ok(distinct(&u, &i, rho))
    };
    let delta_f = |a: f64| -> Result<f64, Error> {
        let (u, i) = branches(prior, channel, a, &se)?;
        if !distinct(&u, &i, rho) {
            return Ok(f64::NEG_INFINITY); // the informed branch does not exist (yet)
        }
        Ok(free_entropy_at(prior, channel, &i)? - free_entropy_at(prior, channel, &u)?)
    };
    // coarse scan
    let mut grid = vec![cfg.alpha_min];
    while *grid.last().unwrap() < cfg.alpha_max {
        let next = grid.last().unwrap() * cfg.grid_ratio;
        grid.push(next.min(cfg.alpha_max));
    }
    let flags: Vec<bool> = grid.iter().map(|&a| coexist(a)).collect::<Result<_, _>>()?;
    let Some(k) = flags.iter().rposition(|&f| f) else {
        return Ok(Thresholds {
            alpha_it: None,
            alpha_amp: None,
            it_kind: ItKind::NoTransition,
        });
    };
    if k + 1 == grid.len() {
        return Ok(Thresholds {
            alpha_it: None,
            alpha_amp: None,
            it_kind: ItKind::NoTransition,
        });
    }
    let j = (0..=k).rev().take_while(|&i| flags[i]).last().unwrap();
    let alpha_amp = bisect(coexist, grid[k], grid[k + 1], cfg.alpha_tol)?;
    // α_IT within [grid[j], α_AMP)
    let mut prev: Option<(f64, f64)> = None;
    for &a in &grid[j..=k] {
        let d = delta_f(a)?;
        if d > 0.0 {
            return match prev {
                None if j == 0 => Ok(Thresholds {
                    alpha_it: None,
                    alpha_amp: Some(alpha_amp),
                    it_kind: ItKind::BranchOnset,
                }),
                None => {
                    let a_it = bisect(coexist, grid[j - 1], grid[j], cfg.alpha_tol)?;
                    Ok(Thresholds {
                        alpha_it: Some(a_it),
                        alpha_amp: Some(alpha_amp),
                        it_kind: ItKind::BranchOnset,
                    })
                }
                Some((a0, _)) => {
                    let a_it = brent("alpha_IT", |x| Ok(delta_f(x)?.atan()), a0, a, cfg.alpha_tol)?;
                    Ok(Thresholds {
                        alpha_it: Some(a_it),
                        alpha_amp: Some(alpha_amp),
                        it_kind: ItKind::FreeEntropyCrossing,
                    })
                }
            };
        }
        prev = Some((a, d));
    }
    Ok(Thresholds {
        alpha_it: Some(alpha_amp),
        alpha_amp: Some(alpha_amp),
        it_kind: ItKind::AtSpinodal,
    })
}
