//! The DMFT of the gradient flow of ridge regression (square loss, linear teacher y = h0,
//! b = 1, ridge λ), solved in its time-translation-invariant (TTI) form.
//!
//! With ℓ'' ≡ 1 and ν ≡ λ the DMFT's Γ = α and ν̃ = λ + α are constant, so every response
//! depends on t − s only. The flow limit (η → 0) of the discrete equations of
//! [`super::gaussian`] (field side) and `kernels` (weight side) is, with c = λ + α + 1,
//! g(t) = m(t) − 1 + A(t), σ² = q0 − m0² and the causal convolutions
//! (𝒵f)(t) = ∫₀ᵗ Z(t − u) f(u) du, (ℛf)(t) = ∫₀ᵗ R(t − u) f(u) du:
//!
//! ```text
//!   Z(0) = 1,  Z' = −c Z + α 𝒵Z                  field response (also B(t) = Z(t))
//!   R(0) = 1,  R' = −(λ + α) R + α 𝒵R            weight response (also R0 = R)
//!   m(0) = m0, m' = −λ m − α g
//!   A(0) = 0,  A' = −(λ + α) A − g + α 𝒵A         (h = A h0 + B h(0) + ∫ Z ξ)
//!   M_C(t, s) = α [g(t) g(s) + σ² Z(t) Z(s) + ∫∫ Z(t − u) M_C(u, v) Z(s − v) du dv]
//!   q(t) = m² + σ² R(t)² + ∫∫ R(t − u) M_C(u, v) R(t − v) du dv
//!   e_tr(t) = M_C(t, t)/(2α),   e_gen = (1 − 2m + q)/2
//! ```
//!
//! The two-time kernel M_C is never formed: its Neumann series
//! M_C = Σ_{n≥0} α^{n+1} 𝒵ⁿ (g gᵀ + σ² Z Zᵀ) (𝒵ᵀ)ⁿ gives the two diagonals that are observed,
//!
//! ```text
//!   M_C(t, t) = Σ_n α^{n+1} [(𝒵ⁿg)(t)² + σ² (𝒵ⁿZ)(t)²]
//!   q(t)      = m² + σ² R² + Σ_n α^{n+1} [(ℛ𝒵ⁿg)(t)² + σ² (ℛ𝒵ⁿZ)(t)²],
//! ```
//!
//! from causal one-time convolutions only. On a finite horizon the series converges (Volterra
//! operators are quasi-nilpotent); for long times its terms shrink by the ratio α Ẑ(0)²
//! ([`RidgeFlow::neumann_ratio`], Ẑ(0) = ∫₀^∞ Z = (c − √(c² − 4α))/(2α)), which approaches 1
//! only at α = 1, λ → 0. The sum stops when the estimated tail is below [`NEUMANN_TOL`]; at
//! [`MAX_TERMS`] terms the run is reported as not converged.
//!
//! ## Discretisation ([`RidgeFlow::trapezoid`])
//! On t_k = k h every convolution is the trapezoid rule,
//! (𝒵f)_k = h [Σ_{j=0}^{k} Z_{k−j} f_j − ½ Z_k f_0 − ½ Z_0 f_k], and every derivative the
//! implicit trapezoid rule y_{k+1} = y_k + (h/2)(F_k + F_{k+1}) (for Z, R and the coupled pair
//! (m, A): one scalar or 2 × 2 linear solve per step, since F_{k+1} is affine in y_{k+1}).
//! Both are the trapezoid rule applied to the equivalent Volterra integral equations, so the
//! global error has an asymptotic expansion in even powers of h. Z's own equation costs
//! O(n²/4) by direct sums (n = t/h); R, m, A, linear given Z, O(n log² n) by divide-and-conquer
//! FFT history sums; the Neumann terms are applied by FFT (a complex vector
//! g + iZ carries both chains; one forward and two inverse transforms per term), O(n log n)
//! per term. Measured (2-core machine, five cases of the tests): t = 200 in 0.2–0.6 CPU-s and
//! 20 MB, t = 1000 in 4–7 CPU-s and 77 MB.
//!
//! ## Extrapolation ([`RidgeFlow::solve`])
//! The observables are computed at h = dt, dt/2, …, dt/2^(L−1) and combined by Richardson
//! extrapolation in h² (Romberg's table), which cancels the h², h⁴, … terms: L = 2 levels
//! ([`DEFAULT_LEVELS`]) leave O(dt⁴). The difference between the last two columns of the table
//! is returned as an error estimate.

use super::params::Observation;
use crate::error::Error;
use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Absolute tolerance on the estimated tail of the Neumann series (per observable, every time).
pub const NEUMANN_TOL: f64 = 1e-14;
/// Cap on the number of Neumann terms; reaching it is a non-converged run.
pub const MAX_TERMS: usize = 4000;
/// Default number of Richardson levels (dt and dt/2: error O(dt⁴)).
pub const DEFAULT_LEVELS: usize = 2;

/// Gradient flow of ridge regression: α > 0, λ ≥ 0, initial (m0, q0), σ² = q0 − m0².
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RidgeFlow {
    alpha: f64,
    lambda: f64,
    m0: f64,
    sigma2: f64,
}

/// The trapezoid solution on t_k = k h, k = 0..=n (one Richardson level).
#[derive(Debug, Clone, PartialEq)]
pub struct Trapezoid {
    /// Step h.
    pub h: f64,
    /// Field response Z(t_k).
    pub z: Vec<f64>,
    /// Weight response R(t_k).
    pub r: Vec<f64>,
    /// Overlap m(t_k).
    pub m: Vec<f64>,
    /// Teacher coefficient A(t_k) of the field h.
    pub a: Vec<f64>,
    /// Equal-time noise kernel M_C(t_k, t_k).
    pub mc_diag: Vec<f64>,
    /// q(t_k).
    pub q: Vec<f64>,
    /// max_k of the n-th Neumann term of M_C(t_k, t_k) + q(t_k), n = 0, 1, …
    pub term_maxima: Vec<f64>,
    /// The Neumann series met [`NEUMANN_TOL`] within [`MAX_TERMS`] terms.
    pub converged: bool,
}

impl Trapezoid {
    /// The observables at grid point k.
    pub fn observation(&self, k: usize, alpha: f64) -> Observation {
        let (m, q) = (self.m[k], self.q[k]);
        Observation {
            k,
            t: k as f64 * self.h,
            m,
            q,
            train_loss: self.mc_diag[k] / (2.0 * alpha),
            gen_error: (1.0 - 2.0 * m + q) / 2.0,
        }
    }
}

/// The extrapolated observables at the requested steps.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowRun {
    /// One observation per requested step k (t = k dt).
    pub points: Vec<Observation>,
    /// max over times and observables of |last − second-to-last column| of the Richardson
    /// table: an estimate of the error of the second-to-last column (a bound, in practice, on
    /// that of the returned last one). 0 with one level.
    pub error_estimate: f64,
    /// Largest number of Neumann terms over the levels.
    pub terms: usize,
    /// Every level's Neumann series converged.
    pub converged: bool,
}

/// Estimated peak memory and CPU time of [`RidgeFlow::solve`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cost {
    /// Peak bytes.
    pub bytes: f64,
    /// CPU seconds (one core).
    pub seconds: f64,
    /// Predicted Neumann terms per level.
    pub terms: usize,
}

/// Seconds per multiply-add of Z's direct (vectorised) history sums, n²/4 per level;
/// calibrated on the 2-core development machine under load (t = 1000, n = 200 000 at dt/2:
/// about 3 CPU-s for Z over the three levels).
pub const SECONDS_PER_HISTORY_MADD: f64 = 0.3e-9;
/// Seconds per unit of n log₂²n of the divide-and-conquer history sums of R, m, A.
pub const SECONDS_PER_ONLINE_UNIT: f64 = 2.5e-9;
/// Seconds per Neumann term and unit of len·log₂(len) (three transforms of length len ≈ 2n and
/// the pointwise work; measured 4.2 ms per term over the three levels of t = 200).
pub const SECONDS_PER_FFT_UNIT: f64 = 2.0e-9;

impl RidgeFlow {
    /// α > 0, λ ≥ 0, q0 ≥ m0² (all finite).
    pub fn new(alpha: f64, lambda: f64, m0: f64, q0: f64) -> Result<Self, Error> {
        super::validate_physics(alpha, super::Regularisation::Ridge(lambda), m0, q0)?;
        Ok(Self {
            alpha,
            lambda,
            m0,
            sigma2: q0 - m0 * m0,
        })
    }

    /// Ẑ(0) = ∫₀^∞ Z = (c − √(c² − 4α))/(2α), the root of α x² − c x + 1 = 0 that is 1 at α → 0
    /// (the Laplace transform of Z' = −cZ + α Z∗Z at p = 0).
    pub fn z_hat0(&self) -> f64 {
        self.z_hat(0.0)
    }

    /// The Laplace transform Ẑ(p) = ∫₀^∞ e^{−pt} Z(t) dt = 2/(p + c + √((p + c)² − 4α)), p ≥ 0
    /// (the smaller root of α x² − (p + c) x + 1 = 0, written without cancellation).
    pub fn z_hat(&self, p: f64) -> f64 {
        let (a, c) = (self.alpha, self.lambda + self.alpha + 1.0 + p);
        2.0 / (c + (c * c - 4.0 * a).max(0.0).sqrt())
    }

    /// α Ẑ(0)² ≤ 1: the asymptotic ratio of successive Neumann terms at long times.
    pub fn neumann_ratio(&self) -> f64 {
        self.alpha * self.z_hat0().powi(2)
    }

    /// Predicted number of Neumann terms to the horizon t: the n-th term is at most
    /// α^{n+1} (∫₀ᵗ Z^{∗n})² ≤ α^{n+1} e^{2pt} Ẑ(p)^{2n} (Z ≥ 0, any p ≥ 0) times O(1), so the
    /// tail rule stops by n ≈ min_p (ln [`NEUMANN_TOL`] − 2pt)/ln(α Ẑ(p)²): the geometric
    /// ln tol/ln(α Ẑ(0)²) (p = 0) for long horizons, fewer on short ones and as α Ẑ(0)² → 1.
    pub fn predicted_terms(&self, t: f64) -> usize {
        let best = std::iter::once(0.0)
            .chain((-64..=16).map(|k| 10f64.powf(f64::from(k) / 8.0)))
            .filter_map(|p| {
                let rho = self.alpha * self.z_hat(p).powi(2);
                (rho < 1.0).then(|| (NEUMANN_TOL.ln() - 2.0 * p * t) / rho.ln())
            })
            .fold(f64::INFINITY, f64::min);
        if best.is_finite() {
            (best.ceil() as usize + 2).min(MAX_TERMS)
        } else {
            MAX_TERMS
        }
    }

    /// The cost of [`RidgeFlow::solve`] at step dt to step `steps` with `levels` levels (h = dt/2^l) and
    /// the estimate's level at 2 dt: per level of n steps n²/4 multiply-adds (Z, by symmetry),
    /// n log₂²n for R, m, A and, per Neumann term, three FFTs of length ≈ 2n; memory ≈ 250
    /// bytes per step of the finest level (measured: 20 MB at t = 200, 77 MB at t = 1000).
    pub fn cost(&self, dt: f64, steps: usize, levels: usize) -> Cost {
        let terms = self.predicted_terms(dt * steps as f64);
        let mut ns: Vec<f64> = (0..levels).map(|l| (steps << l) as f64).collect();
        ns.push(steps as f64 / 2.0);
        let seconds = ns
            .iter()
            .map(|&n| {
                let len = fast_len(2 * n as usize + 1) as f64;
                0.25 * n * n * SECONDS_PER_HISTORY_MADD
                    + n * n.max(2.0).log2().powi(2) * SECONDS_PER_ONLINE_UNIT
                    + terms as f64 * len * len.log2() * SECONDS_PER_FFT_UNIT
            })
            .sum();
        Cost {
            bytes: 250.0 * (steps << levels.saturating_sub(1)) as f64 + 1e6,
            seconds,
            terms,
        }
    }

    /// The field response Z on t_k = k h, k = 0..=n: implicit trapezoid with the trapezoid
    /// convolution, Z_{k+1}(1 + hc/2 − αh²/2) = Z_k + (h/2) F_k + (αh²/2) P_{k+1},
    /// P_{k+1} = Σ_{j=1}^{k} Z_{k+1−j} Z_j, F_{k+1} = (αh − c) Z_{k+1} + αh P_{k+1}. O(n²/2).
    pub fn response_z(&self, h: f64, n: usize) -> Vec<f64> {
        let (a, c) = (self.alpha, self.lambda + self.alpha + 1.0);
        let mut z = Vec::with_capacity(n + 1);
        z.push(1.0);
        // zr[n − i] = z[i]: the history reversed, so that the sums run forward (vectorised)
        let mut zr = vec![0.0; n + 1];
        zr[n] = 1.0;
        let mut f = -c;
        let lhs = 1.0 + h * c / 2.0 - a * h * h / 2.0;
        for k in 0..n {
            // P_{k+1} by symmetry: pairs (j, k+1−j), j = 1..=k; z[k+1−j] = zr[n−k−1+j]
            let half = k / 2;
            let mut s = 2.0 * dot(&zr[n - k..n - k + half], &z[1..=half]);
            if k % 2 == 1 {
                let mid = z[k.div_ceil(2)];
                s += mid * mid;
            }
            let next = (z[k] + h / 2.0 * f + a * h * h / 2.0 * s) / lhs;
            f = (a * h - c) * next + a * h * s;
            z.push(next);
            zr[n - k - 1] = next;
        }
        z
    }

    /// R, m and A on the same grid given Z (length n + 1), by the implicit trapezoid rule with
    /// the history sums H_{k+1}(y) = Σ_{j=1}^{k} Z_{k+1−j} y_j + ½ Z_{k+1} y_0:
    ///
    /// ```text
    ///   R_{k+1} (1 + h(λ+α)/2 − αh²/4) = R_k + (h/2) F^R_k + (αh²/2) H_{k+1}(R)
    ///   m_{k+1} (1 + h(λ+α)/2) + (hα/2) A_{k+1} = m_k + (h/2) F^m_k + hα/2
    ///   (h/2) m_{k+1} + A_{k+1} (1 + hc/2 − αh²/4) = A_k + (h/2) F^A_k + (h/2)(1 + αh H_{k+1}(A))
    /// ```
    ///
    /// The history sums by divide and conquer with FFTs: O(n log² n).
    pub fn responses_and_mean(&self, h: f64, z: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let n = z.len() - 1;
        let mut side = LinearSide::new(self, h, z);
        if n > 0 {
            side.solve_range(1, 1 + n.next_power_of_two());
        }
        (side.r, side.m, side.a)
    }

    /// One trapezoid level on t_k = k h, k = 0..=n: Z, R, m, A, then the Neumann sums for
    /// M_C(t, t) and q(t).
    pub fn trapezoid(&self, h: f64, n: usize) -> Result<Trapezoid, Error> {
        self.trapezoid_capped(h, n, MAX_TERMS)
    }

    /// [`RidgeFlow::trapezoid`] with at most `max_terms` Neumann terms.
    pub fn trapezoid_capped(&self, h: f64, n: usize, max_terms: usize) -> Result<Trapezoid, Error> {
        crate::error::positive("dt", h)?;
        let z = self.response_z(h, n);
        let (r, m, a) = self.responses_and_mean(h, &z);
        let mut conv = Convolver::new(h, &z, &r);
        let sa = self.alpha.sqrt();
        let s2 = self.sigma2;
        // v_n = √α^n (𝒵ⁿg + i 𝒵ⁿZ)
        let mut v: Vec<Complex64> = (0..=n)
            .map(|k| Complex64::new(m[k] - 1.0 + a[k], z[k]))
            .collect();
        let mut mc = vec![0.0; n + 1];
        let mut q: Vec<f64> = (0..=n).map(|k| m[k] * m[k] + s2 * r[k] * r[k]).collect();
        let mut term_maxima = Vec::new();
        let mut converged = false;
        let mut rv = vec![Complex64::default(); n + 1];
        for _ in 0..max_terms {
            let mut big = 0.0f64;
            for (x, y) in mc.iter_mut().zip(&v) {
                let tm = self.alpha * (y.re * y.re + s2 * y.im * y.im);
                *x += tm;
                big = big.max(tm);
            }
            // v ← 𝒵v, rv ← ℛv (the old v)
            conv.apply(&mut v, &mut rv);
            for (x, y) in q.iter_mut().zip(&rv) {
                let tq = self.alpha * (y.re * y.re + s2 * y.im * y.im);
                *x += tq;
                big = big.max(tq);
            }
            if !big.is_finite() {
                return Err(Error::NonFinite {
                    context: "dmft::ridge_flow Neumann term",
                    value: big,
                });
            }
            let ratio = term_maxima
                .last()
                .map(|&p: &f64| if p > 0.0 { big / p } else { 0.0 });
            term_maxima.push(big);
            // tail ≤ term · ratio/(1 − ratio) for a geometric tail; a rising term never stops
            if let Some(rt) = ratio
                && rt < 1.0
                && big * rt / (1.0 - rt) <= NEUMANN_TOL
            {
                converged = true;
                break;
            }
            if big == 0.0 {
                converged = true;
                break;
            }
            for x in v.iter_mut() {
                *x *= sa;
            }
        }
        Ok(Trapezoid {
            h,
            z,
            r,
            m,
            a,
            mc_diag: mc,
            q,
            term_maxima,
            converged,
        })
    }

    /// The flow at the steps `ks` (times k·dt) from `levels` ≥ 1 trapezoid levels
    /// h = dt/2^l, l < levels, Richardson-extrapolated in h² (Romberg's table). The error
    /// estimate comes from one more, coarser level at 2 dt: on its grid (every t = 2j dt up to
    /// the last requested time, requested or not) the extrapolation of one order higher is
    /// formed, and its largest difference from the returned one (over m, q, e_tr) is reported
    /// (0 when the last requested time is below 2 dt).
    pub fn solve(&self, dt: f64, levels: usize, ks: &[usize]) -> Result<FlowRun, Error> {
        self.solve_capped(dt, levels, ks, MAX_TERMS)
    }

    /// [`RidgeFlow::solve`] with at most `max_terms` Neumann terms per level.
    pub fn solve_capped(
        &self,
        dt: f64,
        levels: usize,
        ks: &[usize],
        max_terms: usize,
    ) -> Result<FlowRun, Error> {
        crate::error::positive("dt", dt)?;
        if levels == 0 {
            return Err(Error::InvalidParameter {
                name: "levels",
                value: 0.0,
                bound: ">= 1",
            });
        }
        let n = ks.iter().copied().max().unwrap_or(0);
        let (mut terms, mut converged) = (0, true);
        let mut run = |h: f64, steps: usize| -> Result<Trapezoid, Error> {
            let tr = self.trapezoid_capped(h, steps, max_terms)?;
            terms = terms.max(tr.term_maxima.len());
            converged &= tr.converged;
            Ok(tr)
        };
        let obs = |tr: &Trapezoid, k: usize| {
            let o = tr.observation(k, self.alpha);
            [o.m, o.q, o.train_loss]
        };
        let mut fine = Vec::with_capacity(levels);
        for l in 0..levels {
            fine.push(run(dt / (1u64 << l) as f64, n << l)?);
        }
        // the returned values: the last entry of the table at each requested step
        let best: Vec<[f64; 3]> = ks
            .iter()
            .map(|&k| {
                romberg(
                    &fine
                        .iter()
                        .enumerate()
                        .map(|(l, tr)| obs(tr, k << l))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let mut error_estimate = 0.0f64;
        if n >= 2 {
            let coarse = run(2.0 * dt, n / 2)?;
            for j in 0..=n / 2 {
                let mut col = vec![obs(&coarse, j)];
                col.extend(fine.iter().enumerate().map(|(l, tr)| obs(tr, (2 * j) << l)));
                let (higher, ours) = (romberg(&col), romberg(&col[1..]));
                for i in 0..3 {
                    error_estimate = error_estimate.max((higher[i] - ours[i]).abs());
                }
            }
        }
        let points = ks
            .iter()
            .zip(&best)
            .map(|(&k, v)| Observation {
                k,
                t: k as f64 * dt,
                m: v[0],
                q: v[1],
                train_loss: v[2],
                gen_error: (1.0 - 2.0 * v[0] + v[1]) / 2.0,
            })
            .collect();
        Ok(FlowRun {
            points,
            error_estimate,
            terms,
            converged,
        })
    }
}

/// The last entry of Romberg's table from values at steps h, h/2, h/4, … (error expansion in
/// even powers of h): column j cancels the h^{2j} term.
fn romberg(values: &[[f64; 3]]) -> [f64; 3] {
    let mut col = values.to_vec();
    for j in 1..values.len() {
        let w = 4f64.powi(j as i32) - 1.0;
        col = col
            .windows(2)
            .map(|p| std::array::from_fn(|i| p[1][i] + (p[1][i] - p[0][i]) / w))
            .collect();
    }
    col[0]
}

/// Steps of the direct history sums at the leaves of [`LinearSide::solve_range`].
const LEAF: usize = 128;

/// The linear one-time equations (R and the pair (m, A)) given Z, advanced in causal order.
/// Their history sums H_i(y) = Σ_{j=1}^{i−1} Z_{i−j} y_j are accumulated by divide and
/// conquer (the online convolution of Hairer, Lubich and Schlichte): once the left half
/// [lo, mid) of a range [lo, hi) is known, its contribution to every i of the right half is
/// one FFT convolution (R in the real, A in the imaginary part; circular length hi − lo, whose
/// wrap-around falls on the left half only), and leaves of [`LEAF`] steps sum directly:
/// O(n log² n) in total instead of O(n²).
struct LinearSide<'a> {
    z: &'a [f64],
    /// zr[n − i] = Z_i (the direct sums run forward).
    zr: Vec<f64>,
    n: usize,
    h: f64,
    alpha: f64,
    lambda: f64,
    r: Vec<f64>,
    m: Vec<f64>,
    a: Vec<f64>,
    /// H_i(R) + i H_i(A), accumulated.
    hist: Vec<Complex64>,
    /// F^R, F^m, F^A at the last step.
    f: [f64; 3],
    planner: FftPlanner<f64>,
    /// FFT of Z_0..Z_{len−1} (zero beyond n), by length.
    kernels: Vec<(usize, Vec<Complex64>)>,
}

impl<'a> LinearSide<'a> {
    fn new(flow: &RidgeFlow, h: f64, z: &'a [f64]) -> Self {
        let n = z.len() - 1;
        let (al, m0) = (flow.alpha, flow.m0);
        let kappa = flow.lambda + al;
        let mut r = vec![0.0; n + 1];
        let mut m = vec![0.0; n + 1];
        r[0] = 1.0;
        m[0] = m0;
        Self {
            z,
            zr: z.iter().rev().copied().collect(),
            n,
            h,
            alpha: al,
            lambda: flow.lambda,
            r,
            m,
            a: vec![0.0; n + 1],
            hist: vec![Complex64::default(); n + 1],
            // F^R_0 = −κ, F^m_0 = −κ m0 + α, F^A_0 = 1 − m0 (A_0 = 0, no history)
            f: [-kappa, -kappa * m0 + al, 1.0 - m0],
            planner: FftPlanner::new(),
            kernels: Vec::new(),
        }
    }

    /// Advance the steps lo..hi (a power-of-two range; steps beyond n are skipped), given the
    /// contributions of every step before lo to their history sums.
    fn solve_range(&mut self, lo: usize, hi: usize) {
        if lo > self.n {
            return;
        }
        if hi - lo <= LEAF {
            for i in lo..hi.min(self.n + 1) {
                let n = self.n;
                let (dr, da) = dot2(&self.zr[n - i + lo..n], &self.r[lo..i], &self.a[lo..i]);
                self.hist[i] += Complex64::new(dr, da);
                self.step(i);
            }
            return;
        }
        let mid = lo + (hi - lo) / 2;
        self.solve_range(lo, mid);
        if mid <= self.n {
            self.spread(lo, mid, hi);
        }
        self.solve_range(mid, hi);
    }

    /// Add the contributions of the steps lo..mid to the history sums of mid..hi.
    fn spread(&mut self, lo: usize, mid: usize, hi: usize) {
        let len = hi - lo;
        let fwd = self.planner.plan_fft_forward(len);
        let inv = self.planner.plan_fft_inverse(len);
        if !self.kernels.iter().any(|(l, _)| *l == len) {
            let mut k: Vec<Complex64> = (0..len)
                .map(|u| Complex64::new(self.z.get(u).copied().unwrap_or(0.0), 0.0))
                .collect();
            fwd.process(&mut k);
            self.kernels.push((len, k));
        }
        let khat = &self
            .kernels
            .iter()
            .find(|(l, _)| *l == len)
            .expect("cached")
            .1;
        let mut buf = vec![Complex64::default(); len];
        for (b, j) in buf.iter_mut().zip(lo..mid) {
            *b = Complex64::new(self.r[j], self.a[j]);
        }
        fwd.process(&mut buf);
        for (b, k) in buf.iter_mut().zip(khat) {
            *b *= k;
        }
        inv.process(&mut buf);
        let scale = 1.0 / len as f64;
        for (t, b) in buf.iter().enumerate().skip(mid - lo) {
            let i = lo + t;
            if i > self.n {
                break;
            }
            self.hist[i] += b * scale;
        }
    }

    /// Step i from i − 1 by the implicit trapezoid rule (see [`RidgeFlow::responses_and_mean`]).
    fn step(&mut self, i: usize) {
        let (h, al) = (self.h, self.alpha);
        let kappa = self.lambda + al;
        let c = kappa + 1.0;
        let k = i - 1;
        let hr = self.hist[i].re + 0.5 * self.z[i] * self.r[0];
        let ha = self.hist[i].im + 0.5 * self.z[i] * self.a[0];
        let lr = 1.0 + h * kappa / 2.0 - al * h * h / 4.0;
        // 2×2 system [[p, q], [u, v]] (m, A) = (b1, b2)
        let (p, q, u, v) = (
            1.0 + h * kappa / 2.0,
            h * al / 2.0,
            h / 2.0,
            1.0 + h * c / 2.0 - al * h * h / 4.0,
        );
        let det = p * v - q * u;
        let [fr, fm, fa] = self.f;
        let r1 = (self.r[k] + h / 2.0 * fr + al * h * h / 2.0 * hr) / lr;
        let b1 = self.m[k] + h / 2.0 * fm + h * al / 2.0;
        let b2 = self.a[k] + h / 2.0 * fa + h / 2.0 * (1.0 + al * h * ha);
        let m1 = (b1 * v - q * b2) / det;
        let a1 = (p * b2 - u * b1) / det;
        self.f = [
            -kappa * r1 + al * h * (hr + 0.5 * r1),
            -kappa * m1 - al * a1 + al,
            -c * a1 - m1 + 1.0 + al * h * (ha + 0.5 * a1),
        ];
        self.r[i] = r1;
        self.m[i] = m1;
        self.a[i] = a1;
    }
}

/// Σ x_i y_i over the common length, with eight independent accumulators (vectorised).
#[inline]
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    let (cx, cy) = (x[..n].chunks_exact(8), y[..n].chunks_exact(8));
    let (rx, ry) = (cx.remainder(), cy.remainder());
    let mut acc = [0.0f64; 8];
    for (a, b) in cx.zip(cy) {
        for i in 0..8 {
            acc[i] += a[i] * b[i];
        }
    }
    acc.iter().sum::<f64>() + rx.iter().zip(ry).map(|(a, b)| a * b).sum::<f64>()
}

/// (Σ x_i y_i, Σ x_i w_i) in one pass, as [`dot`].
#[inline]
fn dot2(x: &[f64], y: &[f64], w: &[f64]) -> (f64, f64) {
    let n = x.len().min(y.len()).min(w.len());
    let (cx, cy, cw) = (
        x[..n].chunks_exact(8),
        y[..n].chunks_exact(8),
        w[..n].chunks_exact(8),
    );
    let (rx, ry, rw) = (cx.remainder(), cy.remainder(), cw.remainder());
    let (mut s, mut t) = ([0.0f64; 8], [0.0f64; 8]);
    for ((a, b), c) in cx.zip(cy).zip(cw) {
        for i in 0..8 {
            s[i] += a[i] * b[i];
            t[i] += a[i] * c[i];
        }
    }
    let (mut s1, mut t1) = (s.iter().sum::<f64>(), t.iter().sum::<f64>());
    for ((a, b), c) in rx.iter().zip(ry).zip(rw) {
        s1 += a * b;
        t1 += a * c;
    }
    (s1, t1)
}

/// Trapezoid convolutions with Z and R by FFT (zero-padded to a 2^a 3^b length ≥ 2n + 1).
struct Convolver {
    h: f64,
    z0: (f64, f64),
    z_end: (Vec<f64>, Vec<f64>),
    zhat: Vec<Complex64>,
    rhat: Vec<Complex64>,
    fwd: Arc<dyn Fft<f64>>,
    inv: Arc<dyn Fft<f64>>,
    buf: Vec<Complex64>,
    out: Vec<Complex64>,
    scratch: Vec<Complex64>,
}

/// Smallest 2^a 3^b ≥ n.
fn fast_len(n: usize) -> usize {
    let mut best = n.next_power_of_two();
    let mut p3 = 1usize;
    while p3 < best {
        let mut x = p3;
        while x < n {
            x *= 2;
        }
        best = best.min(x);
        p3 *= 3;
    }
    best
}

impl Convolver {
    fn new(h: f64, z: &[f64], r: &[f64]) -> Self {
        let n = z.len() - 1;
        let len = fast_len(2 * n + 1);
        let mut planner = FftPlanner::new();
        let fwd = planner.plan_fft_forward(len);
        let inv = planner.plan_fft_inverse(len);
        let scratch_len = fwd
            .get_inplace_scratch_len()
            .max(inv.get_inplace_scratch_len());
        let mut scratch = vec![Complex64::default(); scratch_len];
        let mut transform = |x: &[f64]| {
            let mut b: Vec<Complex64> = x.iter().map(|&v| Complex64::new(v, 0.0)).collect();
            b.resize(len, Complex64::default());
            fwd.process_with_scratch(&mut b, &mut scratch);
            b
        };
        let (zhat, rhat) = (transform(z), transform(r));
        Self {
            h,
            z0: (z[0], r[0]),
            z_end: (z.to_vec(), r.to_vec()),
            zhat,
            rhat,
            fwd,
            inv,
            buf: vec![Complex64::default(); len],
            out: vec![Complex64::default(); len],
            scratch,
        }
    }

    /// v ← 𝒵v and w ← ℛv (trapezoid), both from one forward transform of v.
    fn apply(&mut self, v: &mut [Complex64], w: &mut [Complex64]) {
        let n = v.len() - 1;
        let len = self.buf.len();
        let scale = self.h / len as f64;
        self.buf[..=n].copy_from_slice(v);
        self.buf[n + 1..].fill(Complex64::default());
        self.fwd
            .process_with_scratch(&mut self.buf, &mut self.scratch);
        let v0 = v[0];
        // ℛv first (v is still the input)
        for (o, (b, k)) in self.out.iter_mut().zip(self.buf.iter().zip(&self.rhat)) {
            *o = b * k;
        }
        self.inv
            .process_with_scratch(&mut self.out, &mut self.scratch);
        // (𝒦v)_k = h [Σ_j K_{k−j} v_j − ½ K_k v_0 − ½ K_0 v_k], 0 at k = 0
        let (h2, r0, z0) = (self.h / 2.0, self.z0.1, self.z0.0);
        for (((x, o), &kk), &vk) in w.iter_mut().zip(&self.out).zip(&self.z_end.1).zip(&*v) {
            *x = o * scale - (v0 * kk + vk * r0) * h2;
        }
        w[0] = Complex64::default();
        for (o, (b, k)) in self.out.iter_mut().zip(self.buf.iter().zip(&self.zhat)) {
            *o = b * k;
        }
        self.inv
            .process_with_scratch(&mut self.out, &mut self.scratch);
        for ((x, o), &kk) in v.iter_mut().zip(&self.out).zip(&self.z_end.0) {
            *x = o * scale - (v0 * kk + *x * z0) * h2;
        }
        v[0] = Complex64::default();
    }
}
