//! Vector kernels shared by the algorithms (GAMP's fused sweep, the p-SGD row passes): dot
//! products and updates written for the auto-vectoriser, with a fixed summation order (the
//! results do not depend on which kernel computed them: [`dot4`] sums as [`dot`]).

/// x·y with 8 independent accumulators (vectorises; memory-bound on long columns).
#[inline]
pub(crate) fn dot(x: &[f64], y: &[f64]) -> f64 {
    debug_assert_eq!(x.len(), y.len());
    let (xc, xr) = x.as_chunks::<8>();
    let (yc, yr) = y.as_chunks::<8>();
    let mut acc = [0.0f64; 8];
    for (a, b) in xc.iter().zip(yc) {
        for k in 0..8 {
            acc[k] += a[k] * b[k];
        }
    }
    let mut tail = 0.0;
    for (a, b) in xr.iter().zip(yr) {
        tail += a * b;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// The four dot products x_k·y with the summation order of [`dot`] (same results).
#[inline]
pub(crate) fn dot4(x: [&[f64]; 4], y: &[f64]) -> [f64; 4] {
    let (yc, yr) = y.as_chunks::<8>();
    let xc = x.map(|c| c.as_chunks::<8>().0);
    let mut acc = [[0.0f64; 8]; 4];
    for (r, b) in yc.iter().enumerate() {
        for j in 0..4 {
            let a = &xc[j][r];
            for k in 0..8 {
                acc[j][k] += a[k] * b[k];
            }
        }
    }
    let base = yc.len() * 8;
    std::array::from_fn(|j| {
        let acc = &acc[j];
        let mut tail = 0.0;
        for (a, b) in x[j][base..].iter().zip(yr) {
            tail += a * b;
        }
        ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
    })
}

/// y += Σ_k α_k x_k.
#[inline]
pub(crate) fn axpy4(y: &mut [f64], alpha: [f64; 4], x: [&[f64]; 4]) {
    let n = y.len();
    let (x0, x1, x2, x3) = (&x[0][..n], &x[1][..n], &x[2][..n], &x[3][..n]);
    for r in 0..n {
        y[r] += alpha[0] * x0[r] + alpha[1] * x1[r] + alpha[2] * x2[r] + alpha[3] * x3[r];
    }
}

/// y += α x.
#[inline]
pub(crate) fn axpy(y: &mut [f64], alpha: f64, x: &[f64]) {
    debug_assert_eq!(x.len(), y.len());
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}
