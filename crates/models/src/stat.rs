//! Mean and standard error over seeds or independent runs.

use serde::{Deserialize, Serialize};

/// Mean and standard error of one observable over the seeds of a point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// Sample mean (NaN when there is no value).
    pub mean: f64,
    /// Standard error of the mean s/√n, s² the unbiased sample variance (NaN when n < 2).
    pub stderr: f64,
    /// Number of values n.
    pub count: usize,
}

impl Stat {
    /// Mean and standard error of `xs`.
    pub fn of(xs: &[f64]) -> Self {
        let n = xs.len();
        let mean = if n == 0 {
            f64::NAN
        } else {
            xs.iter().sum::<f64>() / n as f64
        };
        let stderr = if n < 2 {
            f64::NAN
        } else {
            let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
            (var / n as f64).sqrt()
        };
        Self {
            mean,
            stderr,
            count: n,
        }
    }
}
