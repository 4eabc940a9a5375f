//! Deterministic DMFT of the Gaussian case: square loss ℓ = ½(y − h̃)², linear teacher y = h0,
//! full batch (b = 1). Then c = ℓ'' ≡ 1, the response Z is deterministic, and the effective
//! process is a linear functional of the Gaussians (h0, h(0), ξ):
//!
//! ```text
//!   h_k = A_k h0 + B_k h(0) + η Σ_{j<k} Z(k, j) ξ_j,        f_k = (m_k − 1) h0 + h_k
//!   A_{k+1} = A_k − η [ν̃_k A_k + (m_k − 1 + A_k) − η Σ_{j<k} M_R(k, j) A_j]      (A_0 = 0)
//!   B_{k+1} = B_k − η [(ν̃_k + 1) B_k − η Σ_{j<k} M_R(k, j) B_j]                  (B_0 = 1)
//!   Z(k+1, k) = 1,  Z(k+1, j) = (1 − η(ν̃_k + 1)) Z(k, j) + η² Σ_{i=j+1}^{k−1} M_R(k, i) Z(i, j)
//!   M_R(k, j) = α Z(k, j),  Γ_k = α,  μ_k = α (m_k − 1 + A_k)
//!   M_C(k, l) = α [(m_k−1+A_k)(m_l−1+A_l) + σ² B_k B_l + η² Σ_{i<k, j<l} Z(k,i) M_C(i,j) Z(l,j)]
//!   e_tr(k) = M_C(k, k)/(2α),  e_gen = (1 − 2m + q)/2
//! ```
//!
//! No Monte Carlo: the moments are propagated exactly, so this path reproduces the GD closed
//! form to rounding (and gradient flow to O(dt)). Cost O(T²) per step (O(T³) in total), memory
//! O(T²).

use super::kernels::Kernels;
use super::params::{Observation, Regularisation, TimeGrid};
use crate::error::Error;
use gardner_models::run::Step;
use serde::{Deserialize, Serialize};

/// The deterministic Gaussian-moment DMFT; one [`Step::advance`] = one time step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaussianDmft {
    grid: TimeGrid,
    k: usize,
    kernels: Kernels,
    a: Vec<f64>,
    b: Vec<f64>,
    /// Z(k, j), j < k.
    z: Vec<Vec<f64>>,
}

impl GaussianDmft {
    /// Square loss, linear teacher, b = 1, sample ratio α, initial (m0, q0).
    pub fn new(
        alpha: f64,
        reg: Regularisation,
        m0: f64,
        q0: f64,
        grid: TimeGrid,
    ) -> Result<Self, Error> {
        super::validate_physics(alpha, reg, m0, q0)?;
        Ok(Self {
            grid,
            k: 0,
            kernels: Kernels::new(alpha, grid.dt(), m0, q0, reg),
            a: vec![0.0],
            b: vec![1.0],
            z: vec![Vec::new()],
        })
    }

    /// Current step k.
    pub fn step_index(&self) -> usize {
        self.k
    }

    /// M_C(i, j) for i, j < current step.
    pub fn m_c(&self, i: usize, j: usize) -> f64 {
        self.kernels.mc(i, j)
    }

    /// Row k of M_C (j ≤ k) computed from the stored past: O(k²).
    fn mc_row(&self) -> Vec<f64> {
        let (k, eta, alpha) = (self.k, self.grid.dt(), self.kernels.alpha);
        let (m, sigma2) = (&self.kernels.m, self.kernels.sigma2);
        // P(j) = Σ_{i<k} Z(k, i) M_C(i, j), j < k
        let zk = &self.z[k];
        let p: Vec<f64> = (0..k)
            .map(|j| (0..k).map(|i| zk[i] * self.kernels.mc(i, j)).sum())
            .collect();
        let g = |l: usize| m[l] - 1.0 + self.a[l];
        (0..=k)
            .map(|l| {
                let zl = &self.z[l];
                let noise: f64 = (0..l).map(|j| zl[j] * p[j]).sum();
                alpha * (g(k) * g(l) + sigma2 * self.b[k] * self.b[l] + eta * eta * noise)
            })
            .collect()
    }
}

impl Step for GaussianDmft {
    type Obs = Observation;
    type Error = Error;

    fn observe(&mut self) -> Result<Observation, Error> {
        let (m, q) = (self.kernels.m[self.k], self.kernels.q());
        // e_tr = ½ E f_k² (M_C row k is not stored yet: its diagonal from the same formula)
        let diag = *self.mc_row().last().expect("row has k + 1 entries");
        Ok(Observation {
            k: self.k,
            t: self.grid.time(self.k),
            m,
            q,
            train_loss: diag / (2.0 * self.kernels.alpha),
            gen_error: (1.0 - 2.0 * m + q) / 2.0,
        })
    }

    fn advance(&mut self) -> Result<(), Error> {
        let (k, eta, alpha) = (self.k, self.grid.dt(), self.kernels.alpha);
        let mc_row = self.mc_row();
        let mr_row: Vec<f64> = self.z[k].iter().map(|z| alpha * z).collect();
        let gk = self.kernels.m[k] - 1.0 + self.a[k];
        let mu = alpha * gk;
        // spherical: flow value ν = −α⟨f h̃⟩/q, ⟨f h̃⟩ = ⟨f²⟩ + ⟨f h0⟩
        let nu_flow = -(mc_row[k] + alpha * gk) / self.kernels.q();
        let nt = self.kernels.close_step(mc_row, mr_row, alpha, mu, nu_flow);
        let mr = &self.kernels.m_r[k];
        let mem = |x: &[f64]| -> f64 { (0..k).map(|j| mr[j] * x[j]).sum() };
        let a_next = self.a[k] - eta * (nt * self.a[k] + gk - eta * mem(&self.a));
        let b_next = self.b[k] - eta * ((nt + 1.0) * self.b[k] - eta * mem(&self.b));
        let mut z_next = vec![0.0; k + 1];
        let mut acc = vec![0.0; k];
        for (i, &mri) in mr.iter().enumerate().skip(1) {
            for (x, zij) in acc[..i].iter_mut().zip(&self.z[i]) {
                *x += mri * zij;
            }
        }
        for j in 0..k {
            z_next[j] = (1.0 - eta * (nt + 1.0)) * self.z[k][j] + eta * eta * acc[j];
        }
        z_next[k] = 1.0;
        self.a.push(a_next);
        self.b.push(b_next);
        self.z.push(z_next);
        self.k += 1;
        Ok(())
    }
}
