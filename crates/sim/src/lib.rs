//! # gardner-sim: sweeps over (alpha, seed, d)
