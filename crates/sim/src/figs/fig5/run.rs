//! The tasks of fig5 (its [`Experiment`] impl): width rules, the plan (d × width × α, `seeds`
//! runs each), one run of over-parametrised GD and its cost model.

use super::*;

/// m for a width rule at dimension d (at least 1).
pub fn width(rule: &str, d: usize) -> Result<usize, Error> {
    let r = rule.trim();
    let bad = || {
        format!(
            "invalid width rule `{rule}`: expected an integer, \"d\", \"2d\", \"0.5d\" or \"d/4\""
        )
    };
    let positive = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|k| *k > 0.0)
            .ok_or_else(bad)
    };
    let m = if let Some(k) = r.strip_prefix("d/") {
        (d as f64 / positive(k)?).round()
    } else if let Some(c) = r.strip_suffix('d') {
        let c = if c.trim().is_empty() {
            1.0
        } else {
            positive(c)?
        };
        (c * d as f64).round()
    } else {
        r.parse::<usize>().map_err(|_| bad())? as f64
    };
    Ok((m as usize).max(1))
}

impl Fig5 {
    /// (d, m, width rule) for each d and each rule, the first rule of equal m kept.
    pub(super) fn groups(&self, size: &SizeSpec) -> Result<Vec<(usize, usize, String)>, Error> {
        let mut groups: Vec<(usize, usize, String)> = Vec::new();
        for &d in &size.grid.dims {
            for rule in &size.widths {
                let m = width(rule, d)?;
                if !groups.iter().any(|g| g.0 == d && g.1 == m) {
                    groups.push((d, m, rule.clone()));
                }
            }
        }
        Ok(groups)
    }
    /// The settings of a run with m hidden units at dimension d.
    pub(super) fn config(&self, m_hidden: usize, d: usize) -> overparam::Config {
        let g = &self.gd;
        overparam::Config {
            m_hidden,
            step: g.step,
            max_steps: g.max_steps(d),
            loss_tol: g.loss_tol,
            grad_tol: g.grad_tol,
            record_every: g.record_every,
            threads: 1,
            stop_on_success: true,
            stop_when_unreachable: true,
            halve_on_increase: true,
            max_halvings: 20,
            init: gardner_algorithms::Init::Random,
        }
    }
    /// Flops of a run that uses its whole step budget: 4 n d m per step.
    fn budget_flops(&self, p: &Point) -> f64 {
        let n = (p.alpha * p.d as f64).round();
        4.0 * n * (p.d * p.m_hidden) as f64 * self.gd.max_steps(p.d) as f64
    }
}

impl Experiment for Fig5 {
    type Point = Point;
    type Obs = Obs;
    type Row = Row;
    type Summary = Summary;

    fn plan(&self, mode: Mode) -> Result<Plan<Point>, Error> {
        let size = self.sizes.pick(mode);
        size.grid.check(mode.name())?;
        self.bootstrap.validate()?;
        if size.widths.is_empty() {
            let name = mode.name();
            return Err(
                format!("invalid parameter `{name}.widths` = []: must be non-empty").into(),
            );
        }
        self.gd.budget.validate()?;
        let seconds = self.cost.seconds_per_budget_gflop;
        check_positive("cost.seconds_per_budget_gflop", seconds)?;
        for &d in &size.grid.dims {
            self.config(1, d).validate()?;
        }
        let mut points = Vec::new();
        for (d, m_hidden, _) in self.groups(size)? {
            points.extend(
                size.grid
                    .alphas
                    .iter()
                    .map(|&alpha| Point { alpha, d, m_hidden }),
            );
        }
        // every run's settings are config(m_hidden, d): the spec's [gd] and constants of this file
        Plan::new(points, size.grid.seeds, &(&self.gd, self.seed))
    }
    fn task_bytes(&self, p: &Point) -> u64 {
        // X (n × d), y, z, r (n), W, W0, ∇H (d × m), P (n × m), WᵀW (m × m), the recorded steps
        let (n, d, m) = (
            (p.alpha * p.d as f64).round() as u64,
            p.d as u64,
            p.m_hidden as u64,
        );
        let steps = (self.gd.max_steps(p.d) / self.gd.record_every.max(1) + 2) as u64;
        8 * (n * d + n * m + 3 * d * m + m * m + 3 * n + 2 * d + m) + 48 * steps
    }
    fn task_cost(&self, p: &Point) -> f64 {
        self.budget_flops(p)
    }
    fn task_seconds_estimate(&self, p: &Point) -> Option<f64> {
        Some(self.cost.seconds_per_budget_gflop * self.budget_flops(p) / 1e9)
    }
    fn run(&self, p: &Point, rng: &mut Rng) -> Result<(Obs, Termination), Error> {
        let data = spherical_teacher(p.d, p.alpha, rng)?;
        let problem = Problem::from_dataset(&data)?;
        let config = self.config(p.m_hidden, p.d);
        let out = overparam::run(&problem, &config, rng)?;
        let last = out.trace.last().ok_or("no step recorded")?;
        let success = overparam::succeeded(&out.trace);
        let stop = match &out.trace.termination {
            _ if success => Stop::Success,
            Termination::Stalled => Stop::Unreachable,
            Termination::Converged if last.train_loss < config.loss_tol => Stop::ZeroLoss,
            Termination::Converged => Stop::Stationary,
            _ => Stop::OutOfBudget,
        };
        let obs = Obs {
            success,
            gen_error: last.gen_error,
            train_loss: last.train_loss,
            time: last.time,
            stop,
            halvings: last.halvings,
        };
        Ok((
            obs,
            finished(&out.trace.termination, "over-parametrised GD")?,
        ))
    }
    fn report(&self, mode: Mode, sims: &Sims<Self>) -> Result<Report<Self>, Error> {
        self.tables(mode, sims)
    }
}

#[cfg(test)]
mod tests {
    use super::width;

    #[test]
    fn width_rules() {
        assert_eq!(width("1", 40).unwrap(), 1);
        assert_eq!(width("d", 40).unwrap(), 40);
        assert_eq!(width("2d", 40).unwrap(), 80);
        assert_eq!(width("0.5d", 40).unwrap(), 20);
        assert_eq!(width("d/4", 40).unwrap(), 10);
        assert_eq!(width("d/100", 40).unwrap(), 1);
        assert!(width("x", 40).is_err() && width("d/0", 40).is_err() && width("-1d", 40).is_err());
    }
}
