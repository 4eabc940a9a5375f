//! The report of fig8: a row per (α, d, algorithm, η), α_½ per (algorithm, d) from the
//! success-curve template's points with a bootstrap seeded per (d, algorithm), the step-size
//! check η vs η/2.

use super::*;

/// α½ of one (algorithm, d).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlphaHalf {
    pub algorithm: Algorithm,
    pub d: usize,
    pub alpha_half: BootstrapCrossing,
}

/// The step-size check: success at η and at η/2 at one (algorithm, α, d).
#[derive(Debug, Clone, Serialize)]
pub struct EtaCheck {
    pub algorithm: Algorithm,
    pub alpha: f64,
    pub d: usize,
    pub success_rate_eta: f64,
    pub success_rate_half_eta: f64,
    /// |difference| in units of its binomial standard error (√(p(1−p)(2/n)), p pooled).
    pub difference_in_stderr: f64,
}

/// The body of `data/fig8.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub budget_rule: String,
    /// How the mini-batch gradient is normalised.
    pub batch_convention: String,
    pub eta_check: Vec<EtaCheck>,
    pub alpha_half: Vec<AlphaHalf>,
    /// Algorithms by increasing α½ at the largest d (`above_grid` last).
    pub ordering_at_largest_d: Vec<Algorithm>,
    pub simulation: SimulationSummary,
}

impl Fig8 {
    /// The row of a point with its success count `sp`.
    fn row(&self, p: &PointSims<Self>, sp: &SuccessPoint) -> Row {
        let (pt, sc) = (p.point, &self.schedule);
        let (lo, hi) = sp.interval();
        let t = Stat::of(
            &p.done()
                .filter(|(o, _)| o.success)
                .map(|(o, _)| o.time)
                .collect::<Vec<_>>(),
        );
        let diverged = p
            .done()
            .filter(|(_, t)| matches!(t, Termination::Diverged { .. }))
            .count();
        let status = match (p.status(), diverged) {
            (s, _) if s.is_failed() => s,
            (_, 0) => Status::OK,
            (_, k) => Status::failed(format!("{k}/{} seeds diverged", p.tasks.len())),
        };
        Row {
            alpha: pt.alpha,
            d: pt.d,
            algorithm: pt.algorithm,
            b: sc.batch_fraction(pt.algorithm),
            tau: match pt.algorithm {
                Algorithm::Gd => None,
                Algorithm::Sgd => Some(pt.eta / sc.b),
                Algorithm::Psgd => Some(sc.tau),
            },
            eta: pt.eta,
            success_rate: sp.rate(),
            success_lo: lo,
            success_hi: hi,
            final_overlap: p.stat(|o| o.overlap),
            runs_at_budget: p
                .done()
                .filter(|(o, t)| !o.success && **t == Termination::Budget)
                .count(),
            success_time_mean: t.mean,
            status,
        }
    }
    /// [`Experiment::report`].
    pub(super) fn tables(&self, mode: Mode, sims: &Sims<Fig8>) -> Result<Report<Fig8>, Error> {
        let s = self.sizes.pick(mode);
        note("fig8: success curves and bootstrap…");
        let (mut rows, mut alpha_half) = (Vec::new(), Vec::new());
        for (d, _, eta) in self.curves(s) {
            for algorithm in ALGORITHMS {
                let member = |p: &Point| same(p.eta, eta) && p.d == d && p.algorithm == algorithm;
                let curve = Curve::of(sims, member, |p| p.alpha, |o| o.success);
                let pts = &curve.points;
                rows.extend(curve.sims.iter().zip(pts).map(|(p, sp)| self.row(p, sp)));
                if !same(eta, self.schedule.eta) {
                    continue;
                }
                let seed = self.bootstrap_seed ^ (d as u64) << 8 ^ algorithm as u64;
                let bc = bootstrap_crossing(pts, 0.5, self.bootstrap_replicates, 0.95, seed);
                alpha_half.push(AlphaHalf {
                    algorithm,
                    d,
                    alpha_half: bc,
                });
            }
        }
        let dmax = *s.grid.dims.iter().max().expect("validated");
        let mut order: Vec<(f64, Algorithm)> = alpha_half
            .iter()
            .filter(|a| a.d == dmax)
            .map(|a| {
                (
                    a.alpha_half.estimate.value().unwrap_or(f64::INFINITY),
                    a.algorithm,
                )
            })
            .collect();
        order.sort_by(|a, b| a.0.total_cmp(&b.0));
        let headline = alpha_half
            .iter()
            .filter_map(|a| {
                let v = a.alpha_half.estimate.value()?;
                Some(Headline::new(
                    format!("alpha_half_{:?}_d{}", a.algorithm, a.d).to_lowercase(),
                    v,
                    1e-9,
                ))
            })
            .collect();
        let rate = |a: Algorithm, alpha: f64, d: usize, eta: f64| {
            rows.iter()
                .find(|r| r.algorithm == a && same(r.alpha, alpha) && r.d == d && same(r.eta, eta))
                .map_or(f64::NAN, |r| r.success_rate)
        };
        let d0 = *s.grid.dims.iter().min().expect("validated");
        let eta_check = ALGORITHMS
            .iter()
            .flat_map(|&a| s.eta_check_alphas.iter().map(move |&alpha| (a, alpha)))
            .map(|(a, alpha)| {
                let (p1, p2) = (
                    rate(a, alpha, d0, self.schedule.eta),
                    rate(a, alpha, d0, self.schedule.eta / 2.0),
                );
                let p = 0.5 * (p1 + p2);
                let se = (p * (1.0 - p) * 2.0 / s.grid.seeds as f64).sqrt();
                EtaCheck {
                    algorithm: a,
                    alpha,
                    d: d0,
                    success_rate_eta: p1,
                    success_rate_half_eta: p2,
                    difference_in_stderr: if se > 0.0 { (p1 - p2).abs() / se } else { 0.0 },
                }
            })
            .collect();
        let summary = Summary {
            eta_check,
            budget_rule: format!(
                "success = |m| >= {RECOVERY_OVERLAP} within physical time T = {} (at most T/eta steps, the same T for every algorithm and d); a run reaching T without it is a failure",
                self.time_budget
            ),
            batch_convention: self.schedule.batch_convention(),
            alpha_half,
            ordering_at_largest_d: order.into_iter().map(|(_, a)| a).collect(),
            simulation: SimulationSummary::of(sims),
        };
        Ok(Report {
            rows,
            summary,
            headline,
            check_rel_tol: 1e-9,
        })
    }
}
