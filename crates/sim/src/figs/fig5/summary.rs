//! The tables of `data/fig5.toml`.

use super::*;
use crate::kit::success_curve::{CrossingSummary, Extrapolation, FiniteSizeFits};
use serde::{Deserialize, Serialize};

/// `[simulation]` of `data/fig5.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Simulation {
    pub dims: Vec<usize>,
    pub widths: Vec<String>,
    pub alphas: Vec<f64>,
    pub seeds: usize,
    pub base_seed: u64,
    pub time_budget_rule: String,
    pub budget_note: &'static str,
    pub stop_rule: &'static str,
    pub success: String,
    pub loss: &'static str,
    pub gen_error_note: &'static str,
    #[serde(flatten)]
    pub cost: SimulationSummary,
    /// Estimated core-hours of `--full` (the `[cost]` calibration; printed before it starts).
    pub full_estimated_core_hours: f64,
    pub gd: GdSpec,
    pub time_budget: Vec<BudgetAt>,
}

/// One `[[simulation.time_budget]]`: t_max and the step budget at d.
#[derive(Debug, Clone, Serialize)]
pub struct BudgetAt {
    pub d: usize,
    pub t_max: f64,
    pub max_steps: usize,
}

/// The theorem's α where it applies (m ≥ d), else why not.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum TheoremAlpha {
    Applies(f64),
    DoesNotApply(&'static str),
}

/// One `[[alpha_half]]` of `data/fig5.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct AlphaHalfAt {
    pub d: usize,
    pub m_hidden: usize,
    pub width_rule: String,
    pub theorem_alpha: TheoremAlpha,
    pub t_max: f64,
    #[serde(flatten)]
    pub crossing: CrossingSummary,
    pub runs: usize,
    pub runs_succeeded: usize,
    /// Ended by the budget while still improving.
    pub runs_out_of_budget: usize,
    /// Stopped early as failures, by rule.
    pub runs_stopped_unreachable: usize,
    pub runs_stopped_stationary: usize,
    pub runs_stopped_zero_loss: usize,
    pub runs_with_step_halving: usize,
}

/// One `[[extrapolation]]` (the 1/d fit) or `[[finite_size_fits]]` (a + b/d against
/// a + b ln d) of one width rule.
#[derive(Debug, Clone, Serialize)]
pub struct ByRule<T> {
    pub width_rule: String,
    #[serde(flatten)]
    pub fit: T,
}

/// One `[[conclusions.theorem]]`: does α_½ for a width rule with m ≥ d approach the theorem's α?
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TheoremCheck {
    pub width_rule: String,
    pub theorem_alpha: f64,
    /// α_½ at the smallest and the largest d with a crossing.
    pub alpha_half_smallest_d: Option<f64>,
    pub alpha_half_largest_d: Option<f64>,
    /// α_½ at the largest d is below the one at the smallest d.
    pub alpha_half_decreases_with_d: Option<bool>,
    /// a of α_½(d) = a + b/d with its 95 % interval a ± 1.96 s.e.
    pub alpha_half_infinite_d: Option<f64>,
    pub alpha_half_infinite_d_lo: Option<f64>,
    pub alpha_half_infinite_d_hi: Option<f64>,
    /// (a − theorem α)/s.e.(a).
    pub infinite_d_minus_theorem_in_sigma: Option<f64>,
    /// The theorem's α lies inside the 95 % interval of a.
    pub infinite_d_consistent_with_theorem: Option<bool>,
    /// The model with the smaller χ²/dof ("inverse_d" or "log_d").
    pub better_finite_size_model: Option<String>,
}

/// One `[[conclusions.width_comparison]]`: α_½(m = 1) − α_½(m) at the largest d.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WidthComparison {
    pub d: usize,
    pub m_small: usize,
    pub m_large: usize,
    pub alpha_half_small: Option<f64>,
    pub alpha_half_large: Option<f64>,
    /// α_½(m_small) − α_½(m_large) with the 95 % interval ± 1.96 √(σ_small² + σ_large²)
    /// (σ: the fit σ of each α_½; independent runs).
    pub difference: Option<f64>,
    pub difference_lo: Option<f64>,
    pub difference_hi: Option<f64>,
    /// The interval lies above 0: m_small needs more samples.
    pub small_needs_more_samples: Option<bool>,
}

/// `[conclusions]`: the answers of the figure, as numbers and booleans.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Conclusions {
    pub theorem: Vec<TheoremCheck>,
    pub width_comparison: Vec<WidthComparison>,
}

/// `[theory]`.
#[derive(Debug, Clone, Serialize)]
pub struct Theory {
    pub theorem_alpha: f64,
    pub statement: &'static str,
}

/// The body of `data/fig5.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub simulation: Simulation,
    pub alpha_half: Vec<AlphaHalfAt>,
    pub extrapolation: Vec<ByRule<Extrapolation>>,
    pub finite_size_fits: Vec<ByRule<FiniteSizeFits>>,
    pub conclusions: Conclusions,
    pub theory: Theory,
}
