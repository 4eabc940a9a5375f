//! fig7 — persistent SGD beside GD and SGD on phase retrieval from a random start: DMFT vs
//! simulation (talk, "p-SGD with random start"; Mignacco, Urbani, Zdeborová, MLST 2021). The
//! experiment is [`super::dmft_vs_sim`]; `papers/fig7.toml` sets α = 2.5, η = 0.01, b = 0.5,
//! τ = 2 and the random start (the DMFT from m0 = 1/√d, the typical |m(0)| of the simulation).

use super::dmft_vs_sim::{Spec, dmft_vs_sim_experiment};
use serde::{Deserialize, Serialize};

/// `papers/fig7.toml` (a [`Spec`] with a random start).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fig7(pub Spec);

dmft_vs_sim_experiment!(
    Fig7,
    "fig7",
    "Phase retrieval, random start: DMFT vs simulation of GD, SGD and persistent SGD",
    "From a random start, persistent SGD escapes m ≈ 0 and recovers the signal where GD and SGD stay stuck; DMFT describes the dynamics."
);
