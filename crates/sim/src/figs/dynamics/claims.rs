//! The answers fig6 and fig7 give about the talk's claims, from the per-seed simulated
//! trajectories m(t) of GD, SGD and p-SGD on one time grid:
//! - the **plateau** of each algorithm: per seed, the mean of m over the grid times of the
//!   last decade [t_max/10, t_max]; then mean ± standard error over seeds and the interval
//!   mean ± 2 standard errors;
//! - the fraction of seeds with m > 0.99 at t_max;
//! - the first grid time t > 0 at which p-SGD's seed mean exceeds GD's (the difference and
//!   its combined standard error there), and the first time it does so by more than 2
//!   combined standard errors and stays so to t_max;
//! - the talk's claim "persistent SGD better than GD or SGD": p-SGD's final m exceeds both
//!   GD's and SGD's by more than 2 combined standard errors;
//! - **escape** (fig7, random start): a seed escapes at the first grid time its oriented m
//!   exceeds [`ESCAPE_OVERLAP`] = 0.5 (half-way from the uninformed m ≈ 0 to recovery; the
//!   trajectories that escape rise fast through it, those stuck stay near their plateau far
//!   below it): seeds escaped by t_max and the mean ± standard error of their escape times.

use super::{ALGORITHMS, Algorithm, RECOVERY_OVERLAP};
use crate::stats::Stat;
use serde::Serialize;

/// Escape threshold on the oriented m (module docs).
pub const ESCAPE_OVERLAP: f64 = 0.5;

/// `[[claims.plateau]]`.
#[derive(Debug, Clone, Serialize)]
pub struct Plateau {
    pub algorithm: Algorithm,
    /// The averaging window [t_from, t_max] (the last decade).
    pub t_from: f64,
    pub t_max: f64,
    pub mean: f64,
    pub stderr: f64,
    /// mean ∓ 2 standard errors over seeds.
    pub lo: f64,
    pub hi: f64,
    pub seeds: usize,
}

/// `[[claims.final_recovery]]`: seeds with m > 0.99 at t_max.
#[derive(Debug, Clone, Serialize)]
pub struct FinalRecovery {
    pub algorithm: Algorithm,
    pub seeds_above: usize,
    pub seeds: usize,
    pub fraction: f64,
}

/// `[claims.psgd_over_gd]`.
#[derive(Debug, Clone, Serialize)]
pub struct Crossing {
    /// First grid time t > 0 with mean m(p-SGD) > mean m(GD) (absent: never).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_time: Option<f64>,
    /// mean m(p-SGD) − mean m(GD) at that time and its combined standard error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub difference: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub difference_stderr: Option<f64>,
    /// First grid time from which the difference exceeds 2 combined standard errors up to
    /// t_max (absent: not at t_max).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub significant_from: Option<f64>,
}

/// `[[claims.escape]]`.
#[derive(Debug, Clone, Serialize)]
pub struct Escape {
    pub algorithm: Algorithm,
    pub threshold: f64,
    pub seeds_escaped: usize,
    pub seeds: usize,
    /// Mean ± standard error of the escape times of the escaped seeds (absent: none escaped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_mean: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_stderr: Option<f64>,
}

/// `[claims]`.
#[derive(Debug, Clone, Serialize)]
pub struct Claims {
    /// The talk's claim and the verdict with its numbers.
    pub talk_claim_holds: bool,
    pub talk_claim: String,
    /// Whether p-SGD escapes where GD stays stuck (every GD seed below 0.5 at t_max and
    /// some p-SGD seed escaped), and the numbers.
    pub psgd_escapes_where_gd_stuck: bool,
    pub escape_verdict: String,
    pub psgd_over_gd: Crossing,
    pub plateau: Vec<Plateau>,
    pub final_recovery: Vec<FinalRecovery>,
    pub escape: Vec<Escape>,
}

/// Per-seed trajectories of one algorithm (each on the grid `times`, complete runs only).
pub struct Trajectories<'a> {
    pub algorithm: Algorithm,
    pub m: Vec<&'a [f64]>,
}

fn pick<'a>(all: &'a [Trajectories<'a>], a: Algorithm) -> &'a Trajectories<'a> {
    all.iter()
        .find(|t| t.algorithm == a)
        .expect("every algorithm")
}

/// Seed mean and standard error at grid index j.
fn at(t: &Trajectories, j: usize) -> Stat {
    Stat::of(&t.m.iter().map(|m| m[j]).collect::<Vec<_>>())
}

/// The claims (module docs) from the trajectories of the three algorithms on `times`.
pub fn claims(times: &[f64], all: &[Trajectories]) -> Claims {
    let last = times.len() - 1;
    let t_max = times[last];
    let from = t_max / 10.0;
    let window: Vec<usize> = (0..times.len()).filter(|&j| times[j] >= from).collect();
    let mut plateau = Vec::new();
    let mut final_recovery = Vec::new();
    let mut escape = Vec::new();
    for a in ALGORITHMS {
        let t = pick(all, a);
        let per_seed: Vec<f64> =
            t.m.iter()
                .map(|m| window.iter().map(|&j| m[j]).sum::<f64>() / window.len() as f64)
                .collect();
        let s = Stat::of(&per_seed);
        plateau.push(Plateau {
            algorithm: a,
            t_from: times[window[0]],
            t_max,
            mean: s.mean,
            stderr: s.stderr,
            lo: s.mean - 2.0 * s.stderr,
            hi: s.mean + 2.0 * s.stderr,
            seeds: s.count,
        });
        let above = t.m.iter().filter(|m| m[last] > RECOVERY_OVERLAP).count();
        final_recovery.push(FinalRecovery {
            algorithm: a,
            seeds_above: above,
            seeds: t.m.len(),
            fraction: above as f64 / t.m.len().max(1) as f64,
        });
        let escapes: Vec<f64> =
            t.m.iter()
                .filter_map(|m| m.iter().position(|&x| x > ESCAPE_OVERLAP).map(|j| times[j]))
                .collect();
        let es = Stat::of(&escapes);
        escape.push(Escape {
            algorithm: a,
            threshold: ESCAPE_OVERLAP,
            seeds_escaped: escapes.len(),
            seeds: t.m.len(),
            time_mean: (es.count > 0).then_some(es.mean),
            time_stderr: (es.count > 1).then_some(es.stderr),
        });
    }
    let (gd, sgd, ps) = (
        pick(all, Algorithm::Gd),
        pick(all, Algorithm::Sgd),
        pick(all, Algorithm::Psgd),
    );
    let diff = |other: &Trajectories, j: usize| {
        let (p, o) = (at(ps, j), at(other, j));
        (p.mean - o.mean, p.stderr.hypot(o.stderr))
    };
    let first = (1..times.len()).find(|&j| diff(gd, j).0 > 0.0);
    let significant = |j: usize| {
        let (d, se) = diff(gd, j);
        d > 2.0 * se
    };
    let significant_from = (1..times.len())
        .rev()
        .take_while(|&j| significant(j))
        .last()
        .map(|j| times[j]);
    let psgd_over_gd = Crossing {
        first_time: first.map(|j| times[j]),
        difference: first.map(|j| diff(gd, j).0),
        difference_stderr: first.map(|j| diff(gd, j).1),
        significant_from,
    };
    let (dg, sg) = diff(gd, last);
    let (ds, ss) = diff(sgd, last);
    let holds = dg > 2.0 * sg && ds > 2.0 * ss;
    let talk_claim = format!(
        "persistent SGD better than GD or SGD at t = {t_max}: m(p-SGD) - m(GD) = {dg:.4} +- {sg:.4}, m(p-SGD) - m(SGD) = {ds:.4} +- {ss:.4} (seed means, combined standard errors); {}",
        if holds {
            "both above 2 standard errors: the claim holds"
        } else {
            "not both above 2 standard errors: the claim is not shown"
        }
    );
    let e = |a: Algorithm| escape.iter().find(|e| e.algorithm == a).expect("escape");
    let (eg, ep) = (e(Algorithm::Gd), e(Algorithm::Psgd));
    let stuck = eg.seeds_escaped == 0;
    let escapes = stuck && ep.seeds_escaped > 0;
    let escape_verdict = format!(
        "escape = oriented m > {ESCAPE_OVERLAP} by t = {t_max}: GD {}/{} seeds, SGD {}/{}, p-SGD {}/{}{}; {}",
        eg.seeds_escaped,
        eg.seeds,
        e(Algorithm::Sgd).seeds_escaped,
        e(Algorithm::Sgd).seeds,
        ep.seeds_escaped,
        ep.seeds,
        match (ep.time_mean, ep.time_stderr) {
            (Some(m), Some(s)) => format!(" (p-SGD escape time {m:.1} +- {s:.1})"),
            (Some(m), None) => format!(" (p-SGD escape time {m:.1})"),
            _ => String::new(),
        },
        if escapes {
            "p-SGD escapes where GD stays stuck"
        } else if !stuck {
            "GD escapes too in some seeds"
        } else {
            "neither escapes within the window"
        }
    );
    Claims {
        talk_claim_holds: holds,
        talk_claim,
        psgd_escapes_where_gd_stuck: escapes,
        escape_verdict,
        psgd_over_gd,
        plateau,
        final_recovery,
        escape,
    }
}
