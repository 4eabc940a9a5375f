//! fig6 — persistent SGD beside GD and SGD on phase retrieval from an informed start: DMFT vs
//! simulation (talk, "Persistent-SGD better than GD or SGD"; Mignacco, Urbani, Zdeborová,
//! MLST 2021). The experiment is [`super::dmft_vs_sim`]; `papers/fig6.toml` sets α = 3,
//! η = 0.01, b = 0.5, τ = 1 and the informed start m0.

use super::dmft_vs_sim::{Spec, dmft_vs_sim_experiment};
use serde::{Deserialize, Serialize};

/// `papers/fig6.toml` (a [`Spec`] with an informed start).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fig6(pub Spec);

dmft_vs_sim_experiment!(
    Fig6,
    "fig6",
    "Phase retrieval, informed start: DMFT vs simulation of GD, SGD and persistent SGD",
    "From an informed start, DMFT predicts m(t) of GD, SGD and persistent SGD at finite d, and persistent SGD gets closer to the signal than GD or SGD."
);
