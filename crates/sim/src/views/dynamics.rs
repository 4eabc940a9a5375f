//! How fig6 and fig7 are shown: m(t) and the training loss on a log-time axis, and the
//! findings, from `data/<id>.{csv,toml}` alone.

use crate::Error;
use crate::experiment::{Mode, View};
use crate::figs::dynamics::*;
use crate::findings::{Findings, Verdict, sig};
use crate::kit::trajectory::thin;
use crate::plot::{Axis, Panel, Plot, Role, Rule, Series};
use serde::Deserialize;

/// What the plot and the findings read back from `data/fig6.toml` / `data/fig7.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Digest {
    pub d: usize,
    pub seeds: usize,
    pub dmft: Vec<DmftSummary>,
    pub agreement_m: Vec<AlgorithmAgreement>,
    pub agreement_train_loss: Vec<AlgorithmAgreement>,
    pub recovery: Vec<Recovery>,
}

impl Algorithm {
    /// The plot role (colour) of the algorithm.
    pub fn role(&self) -> Role {
        match self {
            Algorithm::Gd => Role::Gd,
            Algorithm::Sgd => Role::Sgd,
            Algorithm::Psgd => Role::Psgd,
        }
    }
}

impl View for Spec {
    type Digest = Digest;

    /// m(t) and the training loss on a log-time axis, DMFT lines with
    /// their ± 1 s.e. band, simulations as markers ± 1 s.e., a dotted line where the DMFT ends.
    fn plot(&self, _: Mode, rows: &[Row], g: &Digest) -> Result<Plot, Error> {
        let t_end = |f: &dyn Fn(&Row) -> bool| {
            rows.iter()
                .filter(|r| f(r))
                .map(|r| r.time)
                .fold(f64::NEG_INFINITY, f64::max)
        };
        let dmft_end = t_end(&|r| r.m_dmft.is_some());
        let sim_end = t_end(&|_| true);
        let time = || Axis::log("t: time (t = kη, η = learning rate)").shared();
        let mut m = Panel::new(
            "Overlap with the signal m(t)",
            time(),
            Axis::linear("m(t) = w·w*/d"),
        );
        let mut loss = Panel::new(
            "Training loss",
            time(),
            Axis::log("training loss (1/n) Σ_{μ} ℓ(y_{μ}, h_{μ})"),
        );
        let m0: Option<f64> = rows.iter().find(|r| r.time == 0.0).map(|r| r.m_sim.mean);
        m.notes = vec![format!(
            "t = 0 not on the log axis{}; bands and bars: ± 1 standard error; DMFT beyond its window: not computed",
            m0.map_or(String::new(), |v| format!(
                " (simulation m(0) = {})",
                sig(v, 3)
            ))
        )];
        loss.notes = vec![match self.start {
            StartSpec::Informed { m0 } => format!("informed start m_{{0}} = {m0}"),
            StartSpec::Random => {
                "random start; the DMFT from m_{0} = E|m(0)| = √(2/(πd))".to_string()
            }
        }];
        for a in ALGORITHMS {
            let sel: Vec<&Row> = rows.iter().filter(|r| r.algorithm == a).collect();
            let runs = g
                .dmft
                .iter()
                .find(|x| x.algorithm == a)
                .map_or(String::new(), |x| {
                    format!(" ({} runs × {} particles)", x.replicas, x.particles)
                });
            let role = a.role();
            let dmft = format!("{}: DMFT{runs}", role.name());
            let sim = format!(
                "{}: simulation, d = {} ({} seeds)",
                role.name(),
                g.d,
                g.seeds
            );
            let marks = thin(&sel, |r| r.time, 45);
            m.series.push(Series::band(role, &dmft, &sel, |r| {
                let (v, e) = (r.m_dmft?, r.m_dmft_stderr.unwrap_or(0.0));
                Some((r.time, v, v - e, v + e))
            }));
            m.series.push(Series::points(role, &sim, &marks, |r| {
                Some((r.time, r.m_sim.mean, r.m_sim.stderr))
            }));
            loss.series.push(Series::band(role, &dmft, &sel, |r| {
                let (v, e) = (r.train_loss_dmft?, r.train_loss_dmft_stderr.unwrap_or(0.0));
                Some((r.time, v, v - e, v + e))
            }));
            loss.series.push(Series::points(role, &sim, &marks, |r| {
                Some((r.time, r.train_loss_sim.mean, r.train_loss_sim.stderr))
            }));
        }
        if dmft_end.is_finite() && dmft_end < sim_end {
            for p in [&mut m, &mut loss] {
                p.vlines.push(Rule::boundary(
                    dmft_end,
                    format!("DMFT ends at t = {dmft_end}"),
                ));
            }
        }
        let start = match self.start {
            StartSpec::Informed { .. } => "informed start",
            StartSpec::Random => "random start",
        };
        Ok(Plot::new(
            format!(
                "Phase retrieval, {start}, α = {}, η = {}, b = {}, τ = {}: GD, SGD and persistent SGD, DMFT vs simulation",
                self.alpha, self.schedule.eta, self.schedule.b, self.schedule.tau
            ),
            2,
            vec![m, loss],
        ))
    }

    /// DMFT against simulation (within 3 combined standard errors
    /// over the DMFT window) and whether p-SGD does better than GD and SGD (more seeds with
    /// m > 0.99, or, tied, a final m larger by more than 2 combined standard errors).
    fn findings(&self, _: Mode, _: &[Row], g: &Digest) -> Result<Findings, Error> {
        let rec = |a: Algorithm| {
            g.recovery
                .iter()
                .find(|r| r.algorithm == a)
                .ok_or_else(|| format!("no [[recovery]] of {}", a.name()))
        };
        let mut numbers = Vec::new();
        for a in ALGORITHMS {
            let r = rec(a)?;
            numbers.push(format!(
                "{}: {}/{} seeds reach m > {RECOVERY_OVERLAP}{}; final m = {} ± {}",
                a.role().name(),
                r.sim_seeds_recovered,
                r.sim_seeds,
                r.sim_mean_first_time
                    .map_or(String::new(), |t| format!(" (seed mean first at t = {t})")),
                sig(r.sim_final_m_mean, 3),
                sig(r.sim_final_m_stderr, 2)
            ));
        }
        let agreement: Vec<String> = g
            .agreement_m
            .iter()
            .chain(&g.agreement_train_loss)
            .map(|x| {
                let (x, a) = (&x.over_time, x.algorithm);
                let until = x
                    .within_3_stderr_until
                    .map_or("nowhere".into(), |t| format!("up to t = {t}"));
                format!(
                    "{}: {}, within 3 combined s.e. {until}",
                    a.role().name(),
                    x.deviation.line(&x.deviation.compared)
                )
            })
            .collect();
        let agrees = g
            .agreement_m
            .iter()
            .all(|x| x.over_time.deviation.max_dev_in_stderr <= AGREEMENT_STDERRS);
        let p = rec(Algorithm::Psgd)?;
        let mut order = Vec::new();
        for a in [Algorithm::Gd, Algorithm::Sgd] {
            let o = rec(a)?;
            let cmp = match p.sim_seeds_recovered.cmp(&o.sim_seeds_recovered) {
                std::cmp::Ordering::Greater => 1,
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => {
                    let diff = p.sim_final_m_mean - o.sim_final_m_mean;
                    let se = p.sim_final_m_stderr.hypot(o.sim_final_m_stderr);
                    if diff > 2.0 * se {
                        1
                    } else if diff < -2.0 * se {
                        -1
                    } else {
                        0
                    }
                }
            };
            order.push(cmp);
        }
        let verdict = if !agrees || order.contains(&-1) {
            Verdict::NotReproducedAtTheseSizes
        } else if order.iter().all(|&c| c == 1) {
            Verdict::Reproduced
        } else {
            Verdict::Open
        };
        let words = |c: i32| match c {
            1 => "better",
            -1 => "worse",
            _ => "not distinguishable",
        };
        Ok(Findings {
            numbers,
            agreement,
            verdict,
            reason: format!(
                "Rule: DMFT within {AGREEMENT_STDERRS} combined standard errors of the simulation's m over the DMFT window for every algorithm ({}), and p-SGD better than GD and SGD: more seeds reaching m > {RECOVERY_OVERLAP}, or, tied, a final m larger by > 2 combined s.e. (vs GD: {}; vs SGD: {}). Batch convention: {}.",
                if agrees { "yes" } else { "no" },
                words(order[0]),
                words(order[1]),
                self.schedule.batch_convention()
            ),
        })
    }
}
