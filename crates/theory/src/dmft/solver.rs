//! The general DMFT solver: a causal single-pass particle solver of the discrete-time
//! effective process, for any [`SampleLoss`] and any [`Selection`] (GD, SGD, p-SGD, flow).
//!
//! N particles a = 1..N, each a training sample: h0 ~ N(0, 1), y = φ(h0), h(0) ~ N(0, σ²),
//! s(0) = ω with probability b, else 0, where ω = [`Selection::weight`] (1/b in the `mean`
//! batch convention, 1 in `sum`): s ∈ {0, ω} jumps 0 → ω with P(0→1) and ω → 0 with P(1→0).
//! At step k (η = dt, h̃ = m_k h0 + h_k, f = s ℓ'(y, h̃), c = s ℓ''(y, h̃)):
//!
//! ```text
//!   M_C(k, j) = α ⟨f_k f_j⟩ (j ≤ k),  M_R(k, j) = α ⟨c_k Z(k, j) c_j⟩ (j < k)
//!   Γ_k = α ⟨c_k⟩,  μ_k = α ⟨h0 f_k⟩,  ν̃_k = ν_k + Γ_k
//!   h_{k+1} = h_k − η [ν̃_k h_k + f_k − η Σ_{j<k} M_R(k, j) h_j − ξ_k]
//!   Z(k+1, k) = 1,  Z(k+1, j) = (1 − η(ν̃_k + c_k)) Z(k, j) + η² Σ_{i=j+1}^{k−1} M_R(k, i) Z(i, j)
//!   m_{k+1} = m_k − η (ν_k m_k + μ_k)
//! ```
//!
//! The kernel M_R carries the curvature/selection factor c at the **earlier** time j as well
//! (the response of s ℓ' to a shift inside its argument); Z is the per-particle response.
//! The noise is a Gaussian process with covariance M_C, drawn causally: ξ_a(k) =
//! Σ_{j≤k} L(k, j) ζ_a(j), with ζ_a(j) i.i.d. N(0, 1) and L the lower Cholesky factor of
//! M_C, one row per step ([`cholesky_row`]). M_C is nearly singular on a fine grid (f varies
//! little over one step), so a pivot whose squared value is below [`PIVOT_FLOOR`]·M_C(k, k)
//! is set to 0 (semi-definite Cholesky: that step brings no new randomness).
//! q and ν (ridge or spherical) come from the weight side (see the `kernels` module docs).
//!
//! Variance reduction: particles come in antithetic pairs (2i, 2i + 1) with teacher fields
//! ±h0 and otherwise the same draws (h(0), s(0), noise innovations, selection flips), so
//! averages odd in h0 cancel pairwise (at m = 0 the force μ vanishes exactly, which keeps a
//! random start's small m0 from drowning in noise). The pair draws (|h0|, h(0), s(0)) of pair
//! i are the point ((i + ½)/P, {i φ₂}, {i φ₃}) of a randomly shifted rank-1 lattice (P pairs;
//! φ₂, φ₃ the golden and plastic ratios' fractional parts) mapped through Φ⁻¹ (quasi–Monte
//! Carlo: unbiased for each random shift; at N = 1500 it cuts the spread of m(t ≤ 0.5) over
//! seeds about threefold for phase retrieval). The Monte-Carlo error of a run is still
//! O(N^{-1/2}): estimate it from independent seeds (fig6/fig7 average replicas and state
//! their spread).
//!
//! Cost per step k: O(N k²) for the responses, O(N k) for the kernels and the noise, O(k²)
//! for the Cholesky row: O(N T³/3) in total; memory O(N T²/2). Particles are processed in
//! parallel (rayon); every reduction is over fixed chunks in a fixed order and every random
//! number comes from a stream tied to a particle and a step, so results do not depend on the
//! thread count.

use super::gen_error::GenError;
use super::kernels::Kernels;
use super::params::{Observation, Selection, Teacher, TimeGrid};
use crate::error::Error;
use gardner_models::SampleLoss;
use gardner_models::rng::Rng;
use gardner_models::run::Step;
use gardner_models::special::inverse_normal_cdf;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Particles per reduction chunk (fixed: the summation order must not depend on threads).
pub(crate) const CHUNK: usize = 16;

/// One sample of the effective process and its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Particle {
    h0: f64,
    y: f64,
    /// s ∈ {0, ω} at the current step (ω the selection weight).
    s: f64,
    /// h_j, j ≤ k.
    h: Vec<f64>,
    /// f_j = s_j ℓ'(y, h̃_j), j < k.
    f: Vec<f64>,
    /// c_j = s_j ℓ''(y, h̃_j), j < k.
    c: Vec<f64>,
    /// Z(k, j) for 1 ≤ k, j < k, row k at offset k(k−1)/2.
    z: Vec<f64>,
    /// ζ_j ~ N(0, 1), j < k: the particle's noise innovations.
    zeta: Vec<f64>,
}

#[inline]
fn tri(k: usize) -> usize {
    k * (k.saturating_sub(1)) / 2
}

/// Parameters of a particle solve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Setup<L> {
    /// Per-sample loss ℓ(y, h).
    pub loss: L,
    /// Labels y = φ(h0).
    pub teacher: Teacher,
    /// Sample ratio α = n/d.
    pub alpha: f64,
    /// Ridge λ or spherical.
    pub regularisation: super::Regularisation,
    /// Initial overlap m0.
    pub m0: f64,
    /// Initial norm q0 ≥ m0².
    pub q0: f64,
    /// Sample selection.
    pub selection: Selection,
    /// Time grid (dt = η).
    pub grid: TimeGrid,
    /// Number of particles N ≥ 2.
    pub particles: usize,
    /// Seed of all random draws.
    pub seed: u64,
}

/// The particle DMFT solver; one [`Step::advance`] = one time step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dmft<L> {
    setup: Setup<L>,
    k: usize,
    p01: f64,
    p10: f64,
    kernels: Kernels,
    particles: Vec<Particle>,
    /// Rows of the lower Cholesky factor L of M_C (row k has k + 1 entries).
    chol: Vec<Vec<f64>>,
    /// The smallest [`Ess`] of an M_R row so far and its time.
    #[serde(default)]
    response_ess: Option<ResponseEss>,
}

/// Relative floor on a squared Cholesky pivot of M_C (see the module docs).
pub const PIVOT_FLOOR: f64 = 1e-8;

/// Row k of the lower Cholesky factor L of M_C from the rows `l` = L(0..k, ·) and the
/// kernel row `mc` = M_C(k, 0..=k): L(k, j) = (M_C(k, j) − Σ_{i<j} L(k, i) L(j, i)) / L(j, j)
/// (0 where L(j, j) = 0), L(k, k) = √(M_C(k, k) − Σ_{j<k} L(k, j)²), floored at 0 when that
/// is below [`PIVOT_FLOOR`]·M_C(k, k).
pub fn cholesky_row(l: &[Vec<f64>], mc: &[f64]) -> Vec<f64> {
    let k = l.len();
    let mut row = vec![0.0; k + 1];
    for (j, lj) in l.iter().enumerate() {
        if lj[j] > 0.0 {
            let s: f64 = row[..j].iter().zip(lj).map(|(a, b)| a * b).sum();
            row[j] = (mc[j] - s) / lj[j];
        }
    }
    let d = mc[k] - row[..k].iter().map(|x| x * x).sum::<f64>();
    row[k] = if d > PIVOT_FLOOR * mc[k] {
        d.sqrt()
    } else {
        0.0
    };
    row
}

/// The selection draw of particle a at step k: a uniform from a stream seeded by (seed, a, k).
pub(crate) fn uniform(seed: u64, a: usize, k: usize) -> f64 {
    let key = splitmix(splitmix(splitmix(seed ^ 0x005E_1EC7) ^ a as u64) ^ k as u64);
    Rng::seed_from_u64(key).random()
}

/// The noise innovation ζ_a(k) of particle a (antithetic pairs share it) at step k.
pub(crate) fn innovation(seed: u64, a: usize, k: usize) -> f64 {
    keyed_normal(seed, 0x0000_A015_E000, a / 2, k)
}

/// The next selection s ∈ {0, w} of particle a after step k (pairs share the flips; w the
/// selection weight).
pub(crate) fn next_selection(
    s: f64,
    seed: u64,
    a: usize,
    k: usize,
    (p01, p10): (f64, f64),
    weight: f64,
) -> f64 {
    let u = uniform(seed, a / 2, k);
    if s != 0.0 {
        if u < p10 { 0.0 } else { weight }
    } else if u < p01 {
        weight
    } else {
        0.0
    }
}

/// The initial draws (h0, y, s(0) ∈ {0, w}, h(0)) of every particle (module docs: antithetic pairs on a
/// randomly shifted rank-1 lattice).
pub(crate) fn initial_draws<L>(setup: &Setup<L>) -> Vec<(f64, f64, f64, f64)> {
    let sigma = (setup.q0 - setup.m0 * setup.m0).sqrt();
    let b = setup.selection.b();
    let weight = setup.selection.weight();
    let mut shift = Rng::seed_from_u64(splitmix(setup.seed ^ 0x1A77_1CE5));
    let shift: [f64; 3] = [shift.random(), shift.random(), shift.random()];
    let pairs = setup.particles.div_ceil(2) as f64;
    (0..setup.particles)
        .map(|a| {
            let a_f = (a / 2) as f64;
            let sign = if a % 2 == 0 { 1.0 } else { -1.0 };
            let h0 = sign * inverse_normal_cdf(((a_f + 0.5) / pairs + shift[0]).fract());
            let x = inverse_normal_cdf((a_f * LATTICE[0] + shift[1]).fract());
            let u = (a_f * LATTICE[1] + shift[2]).fract();
            let s = if b == 1.0 || u < b { weight } else { 0.0 };
            (h0, setup.teacher.label(h0), s, sigma * x)
        })
        .collect()
}

/// A standard normal draw from the stream keyed by (seed, tag, a, k).
fn keyed_normal(seed: u64, tag: u64, a: usize, k: usize) -> f64 {
    let key = splitmix(splitmix(splitmix(seed ^ tag) ^ a as u64) ^ k as u64);
    Rng::seed_from_u64(key).sample(StandardNormal)
}

/// Fractional parts of the golden and plastic ratios: the rank-1 lattice generators.
const LATTICE: [f64; 2] = [0.618_033_988_749_894_9, 0.324_717_957_244_746];

pub(crate) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl<L: SampleLoss> Dmft<L> {
    /// Validate `setup` and draw the particles.
    pub fn new(setup: Setup<L>) -> Result<Self, Error> {
        super::validate_physics(setup.alpha, setup.regularisation, setup.m0, setup.q0)?;
        if setup.particles < 2 {
            return Err(Error::InvalidParameter {
                name: "particles",
                value: setup.particles as f64,
                bound: ">= 2",
            });
        }
        let eta = setup.grid.dt();
        let (p01, p10) = setup.selection.probabilities(eta)?;
        let particles = initial_draws(&setup)
            .into_iter()
            .map(|(h0, y, s, h)| Particle {
                h0,
                y,
                s,
                h: vec![h],
                f: Vec::new(),
                c: Vec::new(),
                z: Vec::new(),
                zeta: Vec::new(),
            })
            .collect();
        Ok(Self {
            setup,
            k: 0,
            p01,
            p10,
            kernels: Kernels::new(setup.alpha, eta, setup.m0, setup.q0, setup.regularisation),
            particles,
            chol: Vec::new(),
            response_ess: None,
        })
    }

    /// The smallest effective number of particles of an M_R row so far and the time of that
    /// row ([`ResponseEss`]); `None` before the first row with curvature.
    pub fn response_ess(&self) -> Option<ResponseEss> {
        self.response_ess
    }

    /// Current step k.
    pub fn step_index(&self) -> usize {
        self.k
    }

    /// The parameters.
    pub fn setup(&self) -> &Setup<L> {
        &self.setup
    }

    /// Extend (or shorten) the time grid of a resumed run; same step.
    pub(crate) fn set_grid(&mut self, grid: TimeGrid) {
        debug_assert_eq!(grid.dt(), self.setup.grid.dt());
        self.setup.grid = grid;
    }

    /// M_C(i, j) for i, j < current step.
    pub fn m_c(&self, i: usize, j: usize) -> f64 {
        self.kernels.mc(i, j)
    }

    /// M_R(i, j) for j < i < current step.
    pub fn m_r(&self, i: usize, j: usize) -> f64 {
        self.kernels.m_r[i][j]
    }

    /// Write the full state to `path` as JSON (floats round-trip exactly).
    pub fn checkpoint(&self, path: &Path) -> Result<(), std::io::Error>
    where
        L: Serialize,
    {
        let f = std::io::BufWriter::new(std::fs::File::create(path)?);
        serde_json::to_writer(f, self).map_err(std::io::Error::other)
    }

    /// Resume from a [`Dmft::checkpoint`] file; continuing gives the uninterrupted run bit
    /// for bit.
    pub fn resume(path: &Path) -> Result<Self, std::io::Error>
    where
        L: DeserializeOwned,
    {
        let f = std::io::BufReader::new(std::fs::File::open(path)?);
        serde_json::from_reader(f).map_err(std::io::Error::other)
    }
}

/// acc[j] = Σ_{i=j+1}^{k−1} M_R(k, i) Z(i, j) for j < k = `mr.len()` (Z rows packed as in
/// [`Particle::z`]): the O(k²) hot loop, one axpy per row i. It reads every Z entry of the
/// particle once per step, so the solver is memory-bandwidth bound once N T²/2 doubles exceed
/// the caches (8 N T³/6 bytes per solve); blocking rows does not reduce that traffic and
/// measured slower.
pub(crate) fn memory_sum(z: &[f64], mr: &[f64], acc: &mut [f64]) {
    for (i, &mri) in mr.iter().enumerate().skip(1) {
        let zi = &z[tri(i)..tri(i) + i];
        for (x, zij) in acc[..i].iter_mut().zip(zi) {
            *x += mri * zij;
        }
    }
}

/// Running sums Σ w, Σ w² of a kernel row's particle weights ([`ResponseEss`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Ess {
    sum: f64,
    sum2: f64,
}

impl Ess {
    pub(crate) fn push(&mut self, w: f64) {
        self.sum += w;
        self.sum2 += w * w;
    }
    pub(crate) fn add(&mut self, o: &Ess) {
        self.sum += o.sum;
        self.sum2 += o.sum2;
    }
    /// (Σ w)² / Σ w², `None` for a row without weight.
    pub(crate) fn value(&self) -> Option<f64> {
        (self.sum2 > 0.0).then(|| self.sum * self.sum / self.sum2)
    }
}

/// The worst row of a particle estimate of M_R: Kish's effective number of particles
/// (Σ w)² / Σ w² of the row's particle weights w_a = |c_a(k)| Σ_j |Z_a(k, j) c_a(j)| (how
/// much particle a moves the row M_R(k, ·)).
///
/// About 0.45 N when the weights are light-tailed (the square loss); a few tens at any N when
/// rare particles carry the row: the response Z of a particle held where ℓ'' < 0 grows
/// exponentially, the weights then have tail index ≈ 1 and the N-particle mean of M_R
/// converges only logarithmically (phase retrieval; ARCHITECTURE.md, "Accuracy of the
/// particle DMFT for phase retrieval").
///
/// The solvers keep the row with the smallest value, its time, and the value of the first row
/// as the reference: there Z ≈ 1, so it measures the spread of the curvature alone (phase
/// retrieval's c = s(3h̃² − y²) is a fourth-order polynomial of Gaussians, about 0.1 N), and
/// a worst row far below it is the responses' doing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ResponseEss {
    /// Effective number of particles (Σw)²/Σw² of the worst row.
    pub particles: f64,
    /// Its time.
    pub time: f64,
    /// The same for the first row with curvature (the reference).
    pub first: f64,
}

impl ResponseEss {
    /// Fold the row at `time` with effective number `e` into `slot`.
    pub(crate) fn update(slot: &mut Option<ResponseEss>, e: Option<f64>, time: f64) {
        let Some(e) = e else { return };
        match slot {
            None => {
                *slot = Some(ResponseEss {
                    particles: e,
                    time,
                    first: e,
                })
            }
            Some(r) if e < r.particles => {
                r.particles = e;
                r.time = time;
            }
            Some(_) => {}
        }
    }

    /// The worst row relative to the first: well below 1 when responses concentrate.
    pub fn ratio(&self) -> f64 {
        self.particles / self.first
    }
}

/// Per-chunk partial sums of the kernel row k.
#[derive(Clone)]
struct Partial {
    mc: Vec<f64>,
    mr: Vec<f64>,
    c: f64,
    h0f: f64,
    fh: f64,
    ess: Ess,
}

impl<L: GenError> Step for Dmft<L> {
    type Obs = Observation;
    type Error = Error;

    fn observe(&mut self) -> Result<Observation, Error> {
        let k = self.k;
        let m = self.kernels.m[k];
        let q = self.kernels.q();
        let loss = self.setup.loss;
        let sum: f64 = self
            .particles
            .par_chunks(CHUNK)
            .map(|ch| {
                ch.iter()
                    .map(|p| loss.value(p.y, m * p.h0 + p.h[k]))
                    .sum::<f64>()
            })
            .collect::<Vec<f64>>()
            .iter()
            .sum();
        Ok(Observation {
            k,
            t: self.setup.grid.time(k),
            m,
            q,
            train_loss: sum / self.particles.len() as f64,
            gen_error: self.setup.loss.gen_error(self.setup.teacher, m, q)?,
        })
    }

    fn advance(&mut self) -> Result<(), Error> {
        let (k, eta, alpha) = (self.k, self.setup.grid.dt(), self.setup.alpha);
        let n = self.particles.len();
        let mk = self.kernels.m[k];
        let loss = self.setup.loss;
        // 1. forces and curvatures at step k
        self.particles.par_iter_mut().for_each(|p| {
            let ht = mk * p.h0 + p.h[k];
            p.f.push(p.s * loss.derivative(p.y, ht));
            p.c.push(p.s * loss.second_derivative(p.y, ht));
        });
        // 2. kernel rows by fixed-chunk partial sums
        let parts: Vec<Partial> = self
            .particles
            .par_chunks(CHUNK)
            .map(|ch| {
                let mut pt = Partial {
                    mc: vec![0.0; k + 1],
                    mr: vec![0.0; k],
                    c: 0.0,
                    h0f: 0.0,
                    fh: 0.0,
                    ess: Ess::default(),
                };
                for p in ch {
                    let (fk, ck) = (p.f[k], p.c[k]);
                    for (acc, fj) in pt.mc.iter_mut().zip(&p.f) {
                        *acc += fk * fj;
                    }
                    if ck != 0.0 {
                        let zk = &p.z[tri(k)..tri(k) + k];
                        let mut w = 0.0;
                        for ((acc, zj), cj) in pt.mr.iter_mut().zip(zk).zip(&p.c) {
                            *acc += ck * zj * cj;
                            w += (zj * cj).abs();
                        }
                        pt.ess.push(ck.abs() * w);
                    }
                    pt.c += ck;
                    pt.h0f += p.h0 * fk;
                    pt.fh += fk * (mk * p.h0 + p.h[k]);
                }
                pt
            })
            .collect();
        let mut tot = Partial {
            mc: vec![0.0; k + 1],
            mr: vec![0.0; k],
            c: 0.0,
            h0f: 0.0,
            fh: 0.0,
            ess: Ess::default(),
        };
        for pt in &parts {
            tot.mc.iter_mut().zip(&pt.mc).for_each(|(a, b)| *a += b);
            tot.mr.iter_mut().zip(&pt.mr).for_each(|(a, b)| *a += b);
            tot.c += pt.c;
            tot.h0f += pt.h0f;
            tot.fh += pt.fh;
            tot.ess.add(&pt.ess);
        }
        ResponseEss::update(
            &mut self.response_ess,
            tot.ess.value(),
            self.setup.grid.time(k),
        );
        let scale = alpha / n as f64;
        let mc_row: Vec<f64> = tot.mc.iter().map(|x| x * scale).collect();
        let mr_row: Vec<f64> = tot.mr.iter().map(|x| x * scale).collect();
        let (gamma, mu) = (tot.c * scale, tot.h0f * scale);
        let nu_flow = -tot.fh * scale / self.kernels.q();
        let nt = self.kernels.close_step(mc_row, mr_row, gamma, mu, nu_flow);
        // 3. Gaussian-process noise ξ_a(k) = Σ_{j≤k} L(k, j) ζ_a(j)
        let row = cholesky_row(&self.chol, &self.kernels.m_c[k]);
        self.chol.push(row);
        // 4. advance h, Z, s
        let (lk, mr) = (&self.chol[k], &self.kernels.m_r[k]);
        let (seed, p01, p10) = (self.setup.seed, self.p01, self.p10);
        let full = self.setup.selection.is_full_batch();
        let weight = self.setup.selection.weight();
        self.particles
            .par_iter_mut()
            .enumerate()
            .for_each(|(a, p)| {
                p.zeta.push(innovation(seed, a, k));
                let xia: f64 = lk.iter().zip(&p.zeta).map(|(l, z)| l * z).sum();
                let mem: f64 = (0..k).map(|j| mr[j] * p.h[j]).sum();
                let hk = p.h[k];
                p.h.push(hk - eta * (nt * hk + p.f[k] - eta * mem - xia));
                let decay = 1.0 - eta * (nt + p.c[k]);
                // Z(k+1, j) = decay Z(k, j) + η² Σ_{i=j+1}^{k−1} M_R(k, i) Z(i, j), row-wise
                let mut acc = vec![0.0; k];
                memory_sum(&p.z, mr, &mut acc);
                let base = tri(k);
                p.z.reserve(k + 1);
                for (j, x) in acc.iter().enumerate() {
                    let v = decay * p.z[base + j] + eta * eta * x;
                    p.z.push(v);
                }
                p.z.push(1.0);
                if !full {
                    p.s = next_selection(p.s, seed, a, k, (p01, p10), weight);
                }
            });
        self.k += 1;
        Ok(())
    }
}
