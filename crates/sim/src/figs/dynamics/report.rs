//! The report of fig6/fig7: per algorithm and grid time the DMFT (mean and Monte-Carlo
//! error over its replicas) beside the simulation (mean and standard error over seeds); per
//! algorithm the DMFT settings, the agreement over time and the recovery; the claims.

use super::*;

impl Spec {
    /// [`Experiment::report`]: rows, summary and headline numbers.
    pub(super) fn tables(&self, mode: Mode, sims: &Sims<Spec>) -> Result<Report<Spec>, Error> {
        self.validate(mode)?;
        let s = self.sizes.pick(mode);
        let times = s.window.times(self.schedule.eta);
        let n_dmft = times.iter().filter(|&&t| t <= s.dmft_t_max + 1e-12).count();
        let mut rows = Vec::new();
        let mut dmft_summaries = Vec::new();
        let mut agreement_m = Vec::new();
        let mut agreement_train_loss = Vec::new();
        let mut recovery = Vec::new();
        let (mut headline, mut trajectories) = (Vec::new(), Vec::new());
        for a in ALGORITHMS {
            let p: &PointSims<Self> = sims
                .find(|p| p.algorithm == a && matches!(p.side, Side::Simulation { .. }))
                .ok_or_else(|| format!("no simulations of {}", a.name()))?;
            let theory: Vec<&PointSims<Self>> = sims
                .points
                .iter()
                .filter(|p| p.point.algorithm == a && matches!(p.point.side, Side::Dmft { .. }))
                .collect();
            let complete = p.done().filter(|(o, _)| o.m.len() == times.len());
            let m = complete.map(|(o, _)| o.m.as_slice()).collect();
            trajectories.push(super::claims::Trajectories { algorithm: a, m });
            let dmft_status = runs_status(&theory);
            let sim_status = p.status();
            let n_seeds = p.tasks.len();
            let (mut m_pairs, mut e_pairs, mut ratio) = (Vec::new(), Vec::new(), 0.0f64);
            let first_row = rows.len();
            for (j, &t) in times.iter().enumerate() {
                let m = stat_over(&[p], |o| o.m.get(j).copied());
                let e = stat_over(&[p], |o| o.train_loss.get(j).copied());
                let th = (j < n_dmft).then(|| {
                    (
                        stat_over(&theory, |o| o.m.get(j).copied()),
                        stat_over(&theory, |o| o.train_loss.get(j).copied()),
                        stat_over(&theory, |o| o.gen_error.get(j).copied()),
                    )
                });
                let th = th.filter(|(tm, _, _)| tm.count > 0);
                if let Some((tm, te, _)) = th {
                    m_pairs.push((t, tm, m));
                    e_pairs.push((t, te, e));
                    if m.stderr > 0.0 {
                        ratio = ratio.max(tm.stderr / m.stderr);
                    }
                }
                let theory_status = match (th, j < n_dmft) {
                    (Some((tm, _, _)), _) if tm.count < s.dmft_replicas => Status::note(format!(
                        "dmft {dmft_status} ({}/{} runs at this time)",
                        tm.count, s.dmft_replicas
                    )),
                    (None, true) => Status::note(format!("dmft {dmft_status}")),
                    _ => Status::OK,
                };
                let sim_status = match m.count < n_seeds {
                    true => Status::note(format!(
                        "{sim_status} ({}/{n_seeds} seeds at this time)",
                        m.count
                    )),
                    false => sim_status.clone(),
                };
                rows.push(Row {
                    time: t,
                    algorithm: a,
                    m_dmft: th.map(|(tm, _, _)| tm.mean),
                    train_loss_dmft: th.map(|(_, te, _)| te.mean),
                    gen_error_dmft: th.map(|(_, _, tg)| tg.mean),
                    m_sim: m,
                    train_loss_sim: e,
                    m_dmft_stderr: th.map(|(tm, _, _)| tm.stderr),
                    train_loss_dmft_stderr: th.map(|(_, te, _)| te.stderr),
                    status: Status::merge(&theory_status, &sim_status),
                });
            }
            let (particles, m0) = match theory.first().map(|p| p.point.side) {
                Some(Side::Dmft { particles, m0, .. }) => (particles, m0),
                _ => (s.particles, self.dmft_m0(mode)),
            };
            dmft_summaries.push(DmftSummary {
                algorithm: a,
                particles,
                replicas: s.dmft_replicas,
                particles_total: particles * s.dmft_replicas,
                dt: self.schedule.eta,
                steps: self.steps(s.dmft_t_max),
                t_max: s.dmft_t_max,
                m0,
                status: dmft_status,
                mc_error_ratio_max_m: ratio,
            });
            let agreement = |what: &str, triples| AlgorithmAgreement {
                algorithm: a,
                over_time: TimeAgreement::of(what, triples, RESOLUTION, AGREEMENT_STDERRS),
            };
            agreement_m.push(agreement("m (DMFT vs simulation mean)", &m_pairs));
            agreement_train_loss.push(agreement("train_loss (DMFT vs simulation mean)", &e_pairs));
            // recovery
            let recovered = p
                .done()
                .filter(|(o, _)| o.m.iter().any(|&m| m > RECOVERY_OVERLAP))
                .count();
            let arows = &rows[first_row..];
            let sim_first = arows
                .iter()
                .find(|r| r.m_sim.mean > RECOVERY_OVERLAP)
                .map(|r| r.time);
            let dmft_first = arows
                .iter()
                .find(|r| r.m_dmft.is_some_and(|m| m > RECOVERY_OVERLAP))
                .map(|r| r.time);
            let last = arows.last().ok_or("empty time grid")?;
            let dmft_final = arows
                .iter()
                .rev()
                .find_map(|r| r.m_dmft.map(|m| (r.time, m)));
            recovery.push(Recovery {
                algorithm: a,
                sim_seeds_recovered: recovered,
                sim_seeds: p.done().count(),
                sim_mean_reaches: sim_first.is_some(),
                sim_mean_first_time: sim_first,
                sim_final_m_mean: last.m_sim.mean,
                sim_final_m_stderr: last.m_sim.stderr,
                dmft_reaches_within_window: dmft_first.is_some(),
                dmft_first_time: dmft_first,
                dmft_final_m: dmft_final.map(|(_, m)| m),
            });
            headline.push(Headline::new(
                format!("m_sim_final_{}", a.name()),
                last.m_sim.mean,
                1e-9,
            ));
            if let Some((t, m)) = dmft_final {
                headline.push(Headline::new(format!("m_dmft_t{t}_{}", a.name()), m, 1e-9));
            }
        }
        let claims = super::claims::claims(&times, &trajectories);
        let start = match self.start {
            StartSpec::Informed { m0 } => format!(
                "informed: simulation w(0) = m0 w* + sqrt(1 - m0^2) u (u orthogonal to w*), m0 = {m0}; DMFT from the same m0"
            ),
            StartSpec::Random => format!(
                "random: simulation w(0) uniform on the sphere, so m(0) ~ N(0, 1/d); m is oriented, sign(m(0)) w.w*/d, with mean |m(0)| = sqrt(2/(pi d)); the DMFT (m = 0 is invariant at d = infinity) starts from that mean, m0 = {:.6} (d = {})",
                self.dmft_m0(mode),
                s.d
            ),
        };
        let summary = Summary {
            start,
            windows: format!(
                "simulation at t = 0 and {} points per decade from t = {} to {} (log grid, multiples of eta); DMFT (time step eta = {}, {} runs of {} particles, mean and Monte-Carlo standard error over the runs) at t <= {}: rows beyond it have empty DMFT cells; deviations in units of the combined standard error sqrt(se_sim^2 + se_dmft^2)",
                s.window.points_per_decade,
                s.window.t_min,
                s.window.t_max,
                self.schedule.eta,
                s.dmft_replicas,
                s.particles,
                s.dmft_t_max
            ),
            batch_convention: self.schedule.batch_convention(),
            d: s.d,
            seeds: s.seeds,
            t_max_sim: s.window.t_max,
            t_max_dmft: s.dmft_t_max,
            dmft: dmft_summaries,
            agreement_m,
            agreement_train_loss,
            recovery,
            claims,
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
