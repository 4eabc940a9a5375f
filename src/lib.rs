//! # gardner
//!
//! High-dimensional theory of learning in teacher–student models, computed, simulated and
//! compared. This facade re-exports the workspace crates:
//!
//! - [`models`]: priors P_w, channels P_out, teacher data, special functions, quadrature;
//! - [`theory`]: replica free entropy, state evolution, thresholds, ERM fixed points;
//! - [`algorithms`]: GAMP, ERM solvers, gradient descent, over-parametrised GD;
//! - [`sim`]: seeded, parallel, resumable sweeps over (α, seed, d).
//!
//! Conventions: X_{μi} ~ N(0, 1/d), n = round(α d), m = ŵ·w*/d, q = ŵ·ŵ/d, ρ = E w*².

pub use gardner_algorithms as algorithms;
pub use gardner_models as models;
pub use gardner_sim as sim;
pub use gardner_theory as theory;
