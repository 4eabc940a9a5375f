//! The tasks: the spec checked and the two sides of a task (planned by the `Experiment` impl
//! of `mod.rs`): one microscopic run of GD, SGD or p-SGD, observed at the grid times, and one
//! particle DMFT run at the same times, with their cost models.

use super::*;

impl Spec {
    /// The spec's values and the section of `mode`, checked.
    pub(super) fn validate(&self, mode: Mode) -> Result<(), Error> {
        let s = self.sizes.pick(mode);
        let eta = self.schedule.eta;
        check_positive("alpha", self.alpha)?;
        self.schedule.validate(&[eta])?;
        if let StartSpec::Informed { m0 } = self.start
            && !(m0.is_finite() && m0.abs() <= 1.0)
        {
            return Err(format!("invalid parameter `start.m0` = {m0}: must be in [-1, 1]").into());
        }
        let name = mode.name();
        s.window.check(name, eta)?;
        check_positive(&format!("{name}.dmft_t_max"), s.dmft_t_max)?;
        if !multiple_of(s.dmft_t_max, eta) || s.dmft_t_max > s.window.t_max {
            return Err(format!(
                "invalid parameter `{name}.dmft_t_max` = {}: must be a multiple of eta = {eta} and <= t_max",
                s.dmft_t_max
            )
            .into());
        }
        let counts = [("d", s.d), ("seeds", s.seeds), ("particles", s.particles)];
        check_counts(name, &counts, 2)?;
        if s.dmft_replicas < 2 || !s.dmft_replicas.is_multiple_of(s.seeds) {
            return Err(format!(
                "invalid parameter `{name}.dmft_replicas` = {}: must be a positive multiple of seeds = {} (at least 2)",
                s.dmft_replicas, s.seeds
            ).into());
        }
        Ok(())
    }

    /// DMFT time steps T of a window.
    pub(super) fn steps(&self, t_max: f64) -> usize {
        (t_max / self.schedule.eta).round() as usize
    }

    /// The compressed DMFT solver's cost model at its defaults.
    pub(super) fn dmft_cost(&self, particles: usize, t_max: f64) -> dmft::coarse::Cost {
        dmft::CoarseDmft::<gardner_models::PhaseRetrieval>::cost(
            particles,
            dmft::coarse::DEFAULT_HISTORY,
            dmft::coarse::DEFAULT_PARTNERS,
            self.steps(t_max),
        )
    }

    /// One microscopic run, observed at the grid times (the whole-set training loss is a full
    /// pass over X, so it is measured only there).
    pub(super) fn simulate(
        &self,
        p: &Point,
        d: usize,
        rng: &mut Rng,
    ) -> Result<(Obs, Termination), Error> {
        let (q_max, eta) = (Q_MAX, self.schedule.eta);
        let config = psgd::Config {
            eta,
            max_steps: self.steps(p.window.t_max),
            record_every: usize::MAX,
            q_max,
        };
        let start = match self.start {
            StartSpec::Informed { m0 } => Start::Informed { m0, q0: 1.0 },
            StartSpec::Random => Start::Random { q0: 1.0 },
        };
        let selection = self.schedule.selection(p.algorithm, eta)?;
        with_stepper((d, self.alpha), selection, &config, &start, rng, |st| {
            let (m, train_loss, termination) = on_grid(st, &p.window.times(eta), (eta, q_max))?;
            let m_initial = *m.first().ok_or("no observation")?;
            let sign = if m_initial < 0.0 { -1.0 } else { 1.0 };
            Ok((
                Obs {
                    m: m.iter().map(|x| sign * x).collect(),
                    train_loss,
                    gen_error: Vec::new(),
                    m_initial,
                },
                termination,
            ))
        })
    }

    /// One DMFT run (its seed drawn from the task's stream) at the grid times of the window.
    pub(super) fn dmft(
        &self,
        p: &Point,
        particles: usize,
        m0: f64,
        rng: &mut Rng,
    ) -> Result<(Obs, Termination), Error> {
        let cfg = dmft::Config {
            particles: Some(particles),
            seed: Some(rng.random()),
            ..dmft::Config::new(
                dmft::LossKind::PhaseRetrieval,
                self.alpha,
                dmft::RegularisationConfig::Spherical(true),
                (m0, 1.0),
                self.schedule.dmft(p.algorithm),
                p.window.times(self.schedule.eta),
            )
        };
        let sol = dmft::solve(&cfg)?;
        let obs = Obs {
            m: sol.rows.iter().map(|r| r.m).collect(),
            train_loss: sol.rows.iter().map(|r| r.train_loss).collect(),
            gen_error: sol.rows.iter().map(|r| r.gen_error).collect(),
            m_initial: m0,
        };
        Ok((obs, sol.termination))
    }
}
