//! Helpers shared by the benches: a pure read of a matrix (the memory-bandwidth reference)
//! and a best-of-N wall time.

use faer::Mat;
use std::time::{Duration, Instant};

/// Sum of every entry of X, 8 accumulators per column: one pure read of X.
pub fn read_sum(x: &Mat<f64>) -> f64 {
    let mut acc = [0.0f64; 8];
    for j in 0..x.ncols() {
        let (chunks, rest) = x.col_as_slice(j).as_chunks::<8>();
        for c in chunks {
            for k in 0..8 {
                acc[k] += c[k];
            }
        }
        acc[0] += rest.iter().sum::<f64>();
    }
    acc.iter().sum()
}

/// The shortest of `reps` wall times of `f`.
pub fn best_of<F: FnMut()>(reps: usize, mut f: F) -> Duration {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .expect("reps >= 1")
}
