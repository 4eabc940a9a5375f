//! The tables of `data/fig6.toml` / `data/fig7.toml` besides `[claims]` ([`super::claims`]).

use super::*;
use serde::{Deserialize, Serialize};

/// `[[dmft]]`: how the theory side was computed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DmftSummary {
    pub algorithm: Algorithm,
    /// Particles per run, runs, and their product.
    pub particles: usize,
    pub replicas: usize,
    pub particles_total: usize,
    /// Time step of the DMFT (= η) and the number of steps T.
    pub dt: f64,
    pub steps: usize,
    /// Last time computed.
    pub t_max: f64,
    pub m0: f64,
    /// `ok`, or the runs that diverged or failed.
    pub status: Status,
    /// Largest se_dmft/se_sim of m over the compared times: below 1, the DMFT's Monte-Carlo
    /// error is below the simulation's standard error everywhere in the window.
    pub mc_error_ratio_max_m: f64,
}

/// `[[agreement]]`: DMFT vs simulation for one algorithm and observable, in units of the
/// combined standard error √(se_sim² + se_dmft²).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlgorithmAgreement {
    pub algorithm: Algorithm,
    #[serde(flatten)]
    pub over_time: TimeAgreement,
}

/// `[[recovery]]`: whether m > 0.99 is reached.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recovery {
    pub algorithm: Algorithm,
    /// Seeds whose oriented m exceeds 0.99 at some grid time ≤ t_max, and the seeds run.
    pub sim_seeds_recovered: usize,
    pub sim_seeds: usize,
    /// The seed mean of m exceeds 0.99 at some grid time (first such time).
    pub sim_mean_reaches: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sim_mean_first_time: Option<f64>,
    pub sim_final_m_mean: f64,
    pub sim_final_m_stderr: f64,
    /// The DMFT m exceeds 0.99 within its window (first such time).
    pub dmft_reaches_within_window: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dmft_first_time: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dmft_final_m: Option<f64>,
}

/// The body of `data/fig6.toml` / `data/fig7.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The initial condition of both sides and their mapping.
    pub start: String,
    /// The windows and what the empty cells mean.
    pub windows: String,
    /// How the mini-batch gradient is normalised, and what it means for comparing at equal t.
    pub batch_convention: String,
    pub d: usize,
    pub seeds: usize,
    pub t_max_sim: f64,
    pub t_max_dmft: f64,
    pub dmft: Vec<DmftSummary>,
    pub agreement_m: Vec<AlgorithmAgreement>,
    pub agreement_train_loss: Vec<AlgorithmAgreement>,
    pub recovery: Vec<Recovery>,
    /// The talk's claims answered from the simulations ([`super::claims`]).
    pub claims: super::claims::Claims,
    pub simulation: SimulationSummary,
}
