//! The tasks of fig5: width rules, the (d, m) groups, the settings of a run, why it ended
//! ([`Stop`]) and its cost model (the plan and the run are in the `Experiment` impl of
//! `mod.rs`).

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

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// gen_error < 1e-3.
    Success,
    /// The unreachability bound: success within the budget is impossible (a failure).
    Unreachable,
    /// A stationary point (RMS gradient < grad_tol) that is not a success (a failure).
    Stationary,
    /// Zero training loss (< loss_tol) without success (a failure).
    ZeroLoss,
    /// The time budget ran out while the run was still improving.
    OutOfBudget,
}

impl Stop {
    /// Stopped early as a failure (not by the budget).
    pub fn stopped_failing(&self) -> bool {
        matches!(self, Stop::Unreachable | Stop::Stationary | Stop::ZeroLoss)
    }
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
    pub(super) fn budget_flops(&self, p: &Point) -> f64 {
        let n = (p.alpha * p.d as f64).round();
        4.0 * n * (p.d * p.m_hidden) as f64 * self.gd.max_steps(p.d) as f64
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
