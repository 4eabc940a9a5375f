//! Memory kernels M_C, M_R and the weight-side quantities (m, R, R0, q, ν) shared by both
//! solvers.
//!
//! Stored as lower-triangular rows: `m_c[k][j] = M_C(k, j)`, j ≤ k; `m_r[k][j] = M_R(k, j)`,
//! j < k. The weight side (orthogonal part of w per coordinate) obeys the discrete linear
//! process w⊥_{k+1} = (1 − ην̃_k) w⊥_k + η² Σ_{j<k} M_R(k, j) w⊥_j + η ξ_k with
//! ⟨ξ_k ξ_l⟩ = M_C(k, l); its responses are
//!
//! ```text
//!   R(j+1, j) = 1,  R(k+1, j) = (1 − ην̃_k) R(k, j) + η² Σ_{i=j+1}^{k−1} M_R(k, i) R(i, j)
//!   R0(0) = 1,      R0(k+1)   = (1 − ην̃_k) R0(k)   + η² Σ_{j<k}       M_R(k, j) R0(j)
//!   q_k = m_k² + σ² R0(k)² + η² Σ_{i,j<k} R(k, i) M_C(i, j) R(k, j)          (σ² = q0 − m0²)
//!   m_{k+1} = m_k − η (ν_k m_k + μ_k)
//! ```
//!
//! which is exact for the discrete algorithm (no O(η²) error in q). Cost O(k²) per step.

use super::params::Regularisation;
use serde::{Deserialize, Serialize};

/// Kernels and weight-side state up to the current step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Kernels {
    pub alpha: f64,
    pub eta: f64,
    pub sigma2: f64,
    pub reg: Regularisation,
    /// M_C(k, j), j ≤ k.
    pub m_c: Vec<Vec<f64>>,
    /// M_R(k, j), j < k.
    pub m_r: Vec<Vec<f64>>,
    /// ν_k (ridge λ or the spherical multiplier).
    pub nu: Vec<f64>,
    /// ν̃_k = ν_k + Γ_k.
    pub nu_tilde: Vec<f64>,
    /// m_k, k = 0..=current.
    pub m: Vec<f64>,
    /// R(k, j), j < k (row 0 empty).
    pub r: Vec<Vec<f64>>,
    /// R0(k).
    pub r0: Vec<f64>,
}

impl Kernels {
    pub fn new(alpha: f64, eta: f64, m0: f64, q0: f64, reg: Regularisation) -> Self {
        Self {
            alpha,
            eta,
            sigma2: q0 - m0 * m0,
            reg,
            m_c: Vec::new(),
            m_r: Vec::new(),
            nu: Vec::new(),
            nu_tilde: Vec::new(),
            m: vec![m0],
            r: vec![Vec::new()],
            r0: vec![1.0],
        }
    }

    /// Symmetric access M_C(i, j).
    #[inline]
    pub fn mc(&self, i: usize, j: usize) -> f64 {
        if j <= i {
            self.m_c[i][j]
        } else {
            self.m_c[j][i]
        }
    }

    /// C⊥(k, k) from a response row `row` (length ≤ number of stored M_C rows), the initial
    /// response `r0`, and the stored M_C.
    fn c_perp(&self, row: &[f64], r0: f64) -> f64 {
        let mut quad = 0.0;
        for (i, &ri) in row.iter().enumerate() {
            if ri == 0.0 {
                continue;
            }
            let mut s = 0.0;
            for (j, &rj) in row.iter().enumerate() {
                s += self.mc(i, j) * rj;
            }
            quad += ri * s;
        }
        self.sigma2 * r0 * r0 + self.eta * self.eta * quad
    }

    /// q_k at the current step k = m.len() − 1 (needs M_C rows < k).
    pub fn q(&self) -> f64 {
        let k = self.m.len() - 1;
        let m = self.m[k];
        m * m + self.c_perp(&self.r[k], self.r0[k])
    }

    /// Close step k: store the kernel rows, fix ν_k (ridge: λ; spherical: q_{k+1} = 1, the root
    /// nearest to `nu_flow`; NaN if there is no real root), and advance m, R, R0 to k + 1.
    /// Returns ν̃_k.
    #[allow(clippy::needless_range_loop)] // triangular index arithmetic
    pub fn close_step(
        &mut self,
        mc_row: Vec<f64>,
        mr_row: Vec<f64>,
        gamma: f64,
        mu: f64,
        nu_flow: f64,
    ) -> f64 {
        let k = self.m.len() - 1;
        debug_assert_eq!(mc_row.len(), k + 1);
        debug_assert_eq!(mr_row.len(), k);
        self.m_c.push(mc_row);
        self.m_r.push(mr_row);
        let eta = self.eta;
        let (mk, r0k) = (self.m[k], self.r0[k]);
        // R(k+1, ·) = U − ν V over j = 0..=k; R0(k+1) = U0 − ν V0; m_{k+1} = Um − ν Vm
        let mr = &self.m_r[k];
        let mut u = vec![0.0; k + 1];
        let mut v = vec![0.0; k + 1];
        for j in 0..k {
            let mut s = 0.0;
            for i in j + 1..k {
                s += mr[i] * self.r[i][j];
            }
            u[j] = (1.0 - eta * gamma) * self.r[k][j] + eta * eta * s;
            v[j] = eta * self.r[k][j];
        }
        u[k] = 1.0;
        let mut s0 = 0.0;
        for j in 0..k {
            s0 += mr[j] * self.r0[j];
        }
        let (u0, v0) = ((1.0 - eta * gamma) * r0k + eta * eta * s0, eta * r0k);
        let (um, vm) = (mk - eta * mu, eta * mk);
        let nu = match self.reg {
            Regularisation::Ridge(lambda) => lambda,
            Regularisation::Spherical => {
                // q_{k+1}(ν) = A ν² − 2 B ν + C = 1
                let bil = |x: &[f64], y: &[f64]| {
                    let mut t = 0.0;
                    for i in 0..=k {
                        let mut s = 0.0;
                        for j in 0..=k {
                            s += self.mc(i, j) * y[j];
                        }
                        t += x[i] * s;
                    }
                    t
                };
                let e2 = eta * eta;
                let a = vm * vm + self.sigma2 * v0 * v0 + e2 * bil(&v, &v);
                let b = um * vm + self.sigma2 * u0 * v0 + e2 * bil(&u, &v);
                let c = um * um + self.sigma2 * u0 * u0 + e2 * bil(&u, &u);
                let disc = b * b - a * (c - 1.0);
                if disc < 0.0 || a <= 0.0 {
                    f64::NAN
                } else {
                    let (r1, r2) = ((b - disc.sqrt()) / a, (b + disc.sqrt()) / a);
                    if (r1 - nu_flow).abs() <= (r2 - nu_flow).abs() {
                        r1
                    } else {
                        r2
                    }
                }
            }
        };
        let row: Vec<f64> = u.iter().zip(&v).map(|(x, y)| x - nu * y).collect();
        self.r.push(row);
        self.r0.push(u0 - nu * v0);
        self.m.push(um - nu * vm);
        self.nu.push(nu);
        self.nu_tilde.push(nu + gamma);
        nu + gamma
    }
}
