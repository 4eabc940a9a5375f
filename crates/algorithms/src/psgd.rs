//! Gradient descent, SGD and persistent SGD (p-SGD) on a generalised linear model, as one
//! algorithm: the sample selection is a Markov process whose parameters say which of the three
//! it is.
//!
//! # Glossary
//! | symbol | meaning | in code |
//! |---|---|---|
//! | η | learning rate; physical time t = k η after k steps | [`Config::eta`] |
//! | b | batch fraction: stationary P(s_μ = 1) | [`Selection::b`] |
//! | τ | mean time (in units of t) a sample spends out of the batch | [`Selection::tau`] |
//! | s_μ(k) | 1 if sample μ is in the batch at step k | [`Chain::selected`] |
//! | ω | weight of a selected sample: 1/b (`mean`) or 1 (`sum`) | [`Selection::weight`] |
//! | ν̂ | confinement: ridge constant λ, or the Lagrange multiplier of ‖w‖² = d | [`Confinement`] |
//! | ℓ(y, h) | per-sample loss, ℓ' = ∂_h ℓ | [`SampleLoss`](gardner_models::SampleLoss) |
//!
//! The selection, batch convention, confinement, start and expected loss are the shared
//! vocabulary of [`gardner_models::dynamics`] (re-exported here).
//!
//! # Selection process
//! Each s_μ(k) ∈ {0, 1} is an independent two-state Markov chain with
//!
//! ```text
//!   P(s = 0 → 1) = η/τ,     P(s = 1 → 0) = (1 − b) η/(b τ),     s_μ(0) ~ Bernoulli(b),
//! ```
//!
//! so the stationary fraction is b, a sample stays out of the batch for a mean time τ and in it
//! for b τ/(1 − b). Both probabilities must be ≤ 1: τ ≥ η max(1, 1/b − 1).
//! - **GD** is b = 1 (s ≡ 1): [`Selection::gd`];
//! - **plain SGD** (a fresh Bernoulli(b) batch every step) is τ = η/b, i.e. P(0 → 1) = b and
//!   P(1 → 0) = 1 − b whatever η: [`Selection::sgd`];
//! - **persistent SGD** is any other τ: [`Selection::persistent`]; τ = ∞ freezes the initial
//!   batch (GD on a fixed random subset of ≈ b n samples).
//!
//! The selected samples are kept as an index list updated per step: the flips of a step are
//! drawn by geometric skipping over the in- and out-lists (cost ∝ number of flips), so the
//! cost of a step is ∝ the number of selected samples, not n.
//!
//! # Update
//! With X_{μi} ~ N(0, 1/d), fields h_μ = X_μ·w and the weight ω of the batch convention
//! ([`Batch`]: ω = 1/b for `mean`, the mini-batch gradient divided by b, whose mean drift is
//! GD's; ω = 1 for `sum`, the plain sum over the batch):
//!
//! ```text
//!   w(k+1) = w(k) − η [ ν̂(k) w(k) + ω Σ_μ s_μ(k) ℓ'(y_μ, h_μ(k)) X_μ ]
//! ```
//!
//! (ω multiplies each ℓ'_μ; ω = 1 is exact, so `sum` and b = 1 are the unweighted update bit
//! for bit.)
//!
//! - ridge: ν̂ = λ;
//! - spherical: ν̂ = −g·w/d with g = ω Σ_μ s_μ ℓ'_μ X_μ (the discrete Lagrange multiplier that
//!   makes the step tangent to the sphere; its continuous-time limit is −α⟨s h ℓ'⟩), followed
//!   by the retraction w ← √d w/‖w‖. At b = 1 this is exactly the step of
//!   [`crate::gd`].
//!
//! The batch rows are read from a row-major copy of X (Xᵀ stored d × n: sample μ is one
//! contiguous column), fused: h_μ = X_μ·w and g += ℓ'_μ X_μ while the row is in cache, four
//! rows at a time (w read once per four fields, g updated once per four rows), so a step
//! reads each selected row once from memory (8 d bytes, 4 d flops). Measured at d = 2000,
//! α = 3 (`benches/psgd.rs`, one core): a GD step 6.2 ms (15 GB/s of rows), a b = 0.5 SGD
//! step 3.5 ms, ratio 0.57 for a row ratio of 0.50.
//!
//! # Start
//! [`Start::Informed`]: w(0) = m0 w* + √(q0 − m0²) u with u ⊥ w*, ‖u‖²/d = 1 (teacher
//! ‖w*‖²/d = 1, e.g. [`crate::gd::spherical_teacher`]); [`Start::Random`]: w(0) = √q0 ×
//! (N(0, I_d) rescaled to ‖·‖² = d). Under the spherical constraint q0 must be 1.
//!
//! # Observables and stopping
//! Per step ([`PsgdStep`]): t = k η, m = w·w*/d, q = w·w/d, the generalisation error
//! [`ExpectedLoss::gen_error`] (E ℓ on a fresh sample, a function of m and q, for the labels
//! of [`Dynamics::teacher`]), the batch
//! fraction Σ_μ s_μ(k)/n of the update that follows, and the training loss on the **whole**
//! training set (1/n) Σ_μ ℓ(y_μ, h_μ). The last costs a full pass over X, so it is measured
//! only every [`Config::record_every`] steps (the recorded ones) and at the last step.
//! Run on the shared [`Driver`]: `Diverged` when q or m is non-finite or q > [`Config::q_max`],
//! or a measured training loss is non-finite (naming the quantity); `MaxIterations` after
//! [`Config::max_steps`].
//!
//! Randomness: one [`Rng`] stream, consumed in order by the start, s(0) and the flips.

use crate::Trace;
use crate::error::Error;
use crate::gamp::{axpy, axpy4, dot, dot4};
use crate::gd::{Problem, random_start};
use faer::Mat;
use gardner_models::Termination;
use gardner_models::rng::Rng;
use gardner_models::run::{Driver, stop};
use rand::RngExt;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

pub use gardner_models::dynamics::{Batch, Confinement, ExpectedLoss, Selection, Start, Teacher};

fn check_eta(eta: f64) -> Result<(), Error> {
    if !(eta > 0.0 && eta.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "eta",
            value: eta,
            bound: "> 0 and finite",
        });
    }
    Ok(())
}

/// The selection process of n samples: the in-batch index list (the samples of s_μ = 1), the
/// out-list and each sample's position in its list.
#[derive(Debug, Clone)]
pub struct Chain {
    p_join: f64,
    p_leave: f64,
    batch: Vec<usize>,
    out: Vec<usize>,
    /// Position of sample μ in `batch` (if selected) or `out`.
    pos: Vec<usize>,
    selected: Vec<bool>,
    leave: Vec<usize>,
    join: Vec<usize>,
}

impl Chain {
    /// s_μ(0) ~ Bernoulli(b) for μ = 0..n, in increasing μ (no draw when b = 1); the flips
    /// at the step η have the probabilities [`Selection::probabilities`].
    pub fn new(n: usize, sel: &Selection, eta: f64, rng: &mut Rng) -> Result<Self, Error> {
        let (p_join, p_leave) = sel.probabilities(eta)?;
        let b = sel.b();
        let (mut batch, mut out) = (Vec::new(), Vec::new());
        let mut pos = vec![0; n];
        let mut selected = vec![false; n];
        for mu in 0..n {
            if b >= 1.0 || rng.random::<f64>() < b {
                pos[mu] = batch.len();
                batch.push(mu);
                selected[mu] = true;
            } else {
                pos[mu] = out.len();
                out.push(mu);
            }
        }
        Ok(Self {
            p_join,
            p_leave,
            batch,
            out,
            pos,
            selected,
            leave: Vec::new(),
            join: Vec::new(),
        })
    }

    /// (P(0 → 1), P(1 → 0)) per step.
    pub fn probabilities(&self) -> (f64, f64) {
        (self.p_join, self.p_leave)
    }

    /// The samples with s_μ = 1 (in no particular order after the first flip).
    pub fn selected(&self) -> &[usize] {
        &self.batch
    }

    /// s_μ.
    pub fn is_selected(&self, mu: usize) -> bool {
        self.selected[mu]
    }

    /// One step of every sample's chain: the flips are drawn by geometric skipping over the
    /// in- and out-lists (cost ∝ number of flips), then applied.
    pub fn step(&mut self, rng: &mut Rng) {
        self.leave.clear();
        self.join.clear();
        picks(self.batch.len(), self.p_leave, rng, &mut self.leave);
        picks(self.out.len(), self.p_join, rng, &mut self.join);
        // positions → samples, then remove (descending positions keep the others valid)
        for p in self.leave.iter_mut() {
            *p = self.batch[*p];
        }
        for p in self.join.iter_mut() {
            *p = self.out[*p];
        }
        for i in (0..self.leave.len()).rev() {
            remove(&mut self.batch, &mut self.pos, self.leave[i]);
        }
        for i in (0..self.join.len()).rev() {
            remove(&mut self.out, &mut self.pos, self.join[i]);
        }
        for &mu in &self.leave {
            self.pos[mu] = self.out.len();
            self.out.push(mu);
            self.selected[mu] = false;
        }
        for &mu in &self.join {
            self.pos[mu] = self.batch.len();
            self.batch.push(mu);
            self.selected[mu] = true;
        }
    }
}

/// swap_remove of sample `mu` from `list`, updating the position of the moved element.
fn remove(list: &mut Vec<usize>, pos: &mut [usize], mu: usize) {
    let i = pos[mu];
    list.swap_remove(i);
    if i < list.len() {
        pos[list[i]] = i;
    }
}

/// The positions 0..len picked independently with probability p, in increasing order, by
/// geometric skipping: the gap before the next pick is ⌊ln U / ln(1 − p)⌋, U ~ U(0, 1].
fn picks(len: usize, p: f64, rng: &mut Rng, out: &mut Vec<usize>) {
    if p <= 0.0 || len == 0 {
        return;
    }
    if p >= 1.0 {
        out.extend(0..len);
        return;
    }
    let inv = 1.0 / (-p).ln_1p();
    let mut i = 0usize;
    loop {
        let u = 1.0 - rng.random::<f64>();
        let gap = (u.ln() * inv).floor() as usize; // saturates for huge gaps
        i = i.saturating_add(gap);
        if i >= len {
            return;
        }
        out.push(i);
        i += 1;
    }
}

/// Draw w(0) of `start` for the teacher `w_star` (‖w*‖²/d = 1) from `rng` (module docs).
pub fn draw(start: &Start, w_star: &[f64], rng: &mut Rng) -> Result<Vec<f64>, Error> {
    let d = w_star.len();
    let q0 = start.q0();
    if !(q0 > 0.0 && q0.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "q0",
            value: q0,
            bound: "> 0 and finite",
        });
    }
    match *start {
        Start::Random { .. } => {
            let mut w = random_start(d, rng);
            if q0 != 1.0 {
                let s = q0.sqrt();
                w.iter_mut().for_each(|v| *v *= s);
            }
            Ok(w)
        }
        Start::Informed { m0, .. } => {
            if m0.is_nan() || m0 * m0 > q0 {
                return Err(Error::InvalidParameter {
                    name: "m0",
                    value: m0,
                    bound: "m0^2 <= q0",
                });
            }
            let dn = d as f64;
            let mut u: Vec<f64> = (0..d)
                .map(|_| rng.sample::<f64, _>(StandardNormal))
                .collect();
            let c = dot(&u, w_star) / dn;
            u.iter_mut().zip(w_star).for_each(|(ui, si)| *ui -= c * si);
            let s = (dn / dot(&u, &u)).sqrt();
            let r = (q0 - m0 * m0).sqrt() * s;
            Ok(w_star
                .iter()
                .zip(&u)
                .map(|(si, ui)| m0 * si + r * ui)
                .collect())
        }
    }
}

/// Tuning parameters of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Learning rate η > 0.
    pub eta: f64,
    /// Number of steps (`MaxIterations` after it).
    pub max_steps: usize,
    /// Measure the whole-set training loss (a full pass over X) and record every this many
    /// steps (≥ 1); the last step is always recorded.
    pub record_every: usize,
    /// `Diverged` (quantity `q`) when q = w·w/d exceeds this.
    pub q_max: f64,
}

impl Config {
    /// η with max_steps = 1000, record_every = 10, q_max = 1e12.
    pub fn new(eta: f64) -> Result<Self, Error> {
        let c = Self {
            eta,
            max_steps: 1000,
            record_every: 10,
            q_max: 1e12,
        };
        c.validate()?;
        Ok(c)
    }
    /// Check every field.
    pub fn validate(&self) -> Result<(), Error> {
        check_eta(self.eta)?;
        let bad = |name, value, bound| Err(Error::InvalidParameter { name, value, bound });
        if self.record_every == 0 {
            return bad("record_every", 0.0, ">= 1");
        }
        if self.q_max.is_nan() || self.q_max <= 0.0 {
            return bad("q_max", self.q_max, "> 0");
        }
        Ok(())
    }
}

/// The dynamics: loss, selection process and confinement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dynamics<L> {
    /// Per-sample loss ℓ.
    pub loss: L,
    /// Labels y = φ(z) of the data (for the generalisation error).
    pub teacher: Teacher,
    /// Selection process (GD, SGD or p-SGD).
    pub selection: Selection,
    /// ν̂.
    pub confinement: Confinement,
}

/// Observables of w(k) (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PsgdStep {
    /// Step k.
    pub iteration: usize,
    /// t = k η.
    pub time: f64,
    /// (1/n) Σ_μ ℓ(y_μ, X_μ·w) over the whole training set.
    pub train_loss: f64,
    /// m = w·w*/d.
    pub m: f64,
    /// q = w·w/d.
    pub q: f64,
    /// E ℓ on a fresh sample ([`ExpectedLoss::gen_error`]).
    pub gen_error: f64,
    /// Σ_μ s_μ(k)/n, the batch of the update from w(k).
    pub batch_fraction: f64,
}

/// One observation of the [`Stepper`]: `train_loss` is measured only when `measured`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// The observables (`train_loss` is NaN when not `measured`).
    pub step: PsgdStep,
    /// The whole-set training loss was computed at this step.
    pub measured: bool,
}

/// The p-SGD iteration with its buffers, a [`gardner_models::run::Step`].
#[derive(Debug)]
pub struct Stepper<'a, L> {
    /// Xᵀ (d × n): sample μ is the contiguous column μ.
    xt: Mat<f64>,
    y: &'a [f64],
    w_star: &'a [f64],
    dynamics: Dynamics<L>,
    eta: f64,
    /// Selection weight ω ([`Selection::weight`]).
    weight: f64,
    chain: Chain,
    rng: Rng,
    w: Vec<f64>,
    g: Vec<f64>,
    k: usize,
    record_every: usize,
    rows_touched: u64,
}

impl<'a, L: ExpectedLoss> Stepper<'a, L> {
    /// Start at `w0`; s(0) and the later flips are drawn from `rng`. Checks shapes, the config,
    /// η against the selection's, the teacher norm ‖w*‖²/d = 1 and q0 = 1 on the sphere.
    pub fn new(
        problem: &Problem<'a>,
        dynamics: &Dynamics<L>,
        w0: Vec<f64>,
        config: &Config,
        mut rng: Rng,
    ) -> Result<Self, Error> {
        config.validate()?;
        let (n, d) = (problem.n(), problem.d());
        if let Confinement::Ridge(lambda) = dynamics.confinement
            && !(lambda >= 0.0 && lambda.is_finite())
        {
            return Err(Error::InvalidParameter {
                name: "lambda",
                value: lambda,
                bound: ">= 0 and finite",
            });
        }
        if w0.len() != d {
            return Err(Error::Dimension(format!(
                "w0 has length {} but d = {d}",
                w0.len()
            )));
        }
        let teacher = dot(problem.w_star(), problem.w_star()) / d as f64;
        if teacher.is_nan() || (teacher - 1.0).abs() > 1e-9 {
            return Err(Error::InvalidParameter {
                name: "|w*|^2/d",
                value: teacher,
                bound: "1 (within 1e-9): use gd::spherical_teacher",
            });
        }
        let q0 = dot(&w0, &w0) / d as f64;
        if !q0.is_finite() {
            return Err(Error::InvalidParameter {
                name: "w0",
                value: q0,
                bound: "finite",
            });
        }
        if dynamics.confinement == Confinement::Spherical && (q0 - 1.0).abs() > 1e-9 {
            return Err(Error::InvalidParameter {
                name: "q0",
                value: q0,
                bound: "1 (within 1e-9) under the spherical constraint",
            });
        }
        let chain = Chain::new(n, &dynamics.selection, config.eta, &mut rng)?;
        Ok(Self {
            xt: problem.x().transpose().to_owned(),
            y: problem.y(),
            w_star: problem.w_star(),
            dynamics: *dynamics,
            eta: config.eta,
            weight: dynamics.selection.weight(),
            chain,
            rng,
            w: w0,
            g: vec![0.0; d],
            k: 0,
            record_every: config.record_every,
            rows_touched: 0,
        })
    }

    /// (1/n) Σ_μ ℓ(y_μ, X_μ·w) over the whole training set (a full pass over X).
    pub fn train_loss(&self) -> f64 {
        let n = self.y.len();
        let loss = self.dynamics.loss;
        (0..n)
            .map(|mu| loss.value(self.y[mu], dot(self.xt.col_as_slice(mu), &self.w)))
            .sum::<f64>()
            / n as f64
    }

    /// Rows of X read by the updates so far (Σ_k Σ_μ s_μ(k); the training-loss passes of the
    /// observations are not counted).
    pub fn rows_touched(&self) -> u64 {
        self.rows_touched
    }
    /// Current iterate.
    pub fn w(&self) -> &[f64] {
        &self.w
    }
    /// The selection process.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }
    /// The stream after the draws so far.
    pub fn into_rng(self) -> Rng {
        self.rng
    }
}

impl<L: ExpectedLoss> gardner_models::run::Step for Stepper<'_, L> {
    type Obs = Observation;
    type Error = Error;
    fn observe(&mut self) -> Result<Observation, Error> {
        let dn = self.w.len() as f64;
        let (mut m, mut q) = (0.0, 0.0);
        for (&wi, &si) in self.w.iter().zip(self.w_star) {
            m += wi * si;
            q += wi * wi;
        }
        let (m, q) = (m / dn, q / dn);
        let measured = self.k.is_multiple_of(self.record_every);
        Ok(Observation {
            step: PsgdStep {
                iteration: self.k,
                time: self.k as f64 * self.eta,
                train_loss: if measured {
                    self.train_loss()
                } else {
                    f64::NAN
                },
                m,
                q,
                gen_error: self.dynamics.loss.gen_error(self.dynamics.teacher, m, q)?,
                batch_fraction: self.chain.selected().len() as f64 / self.y.len() as f64,
            },
            measured,
        })
    }

    /// One update with the current batch, then one step of the selection process.
    fn advance(&mut self) -> Result<(), Error> {
        let loss = self.dynamics.loss;
        self.g.fill(0.0);
        // Rows in blocks of 4: w is read once per block for the four fields, g updated once
        // per block, and four rows stream concurrently.
        let (xt, y, weight) = (&self.xt, self.y, self.weight);
        let (blocks, rest) = self.chain.selected().as_chunks::<4>();
        for block in blocks {
            let rows = block.map(|mu| xt.col_as_slice(mu));
            let h = dot4(rows, &self.w);
            let u = std::array::from_fn(|j| weight * loss.derivative(y[block[j]], h[j]));
            axpy4(&mut self.g, u, rows);
        }
        for &mu in rest {
            let row = xt.col_as_slice(mu);
            let u = weight * loss.derivative(y[mu], dot(row, &self.w));
            axpy(&mut self.g, u, row);
        }
        self.rows_touched += self.chain.selected().len() as u64;
        let eta = self.eta;
        match self.dynamics.confinement {
            Confinement::Ridge(lambda) => {
                for (wi, &gi) in self.w.iter_mut().zip(&self.g) {
                    *wi -= eta * (lambda * *wi + gi);
                }
            }
            Confinement::Spherical => {
                let dn = self.w.len() as f64;
                let mut gw = 0.0;
                for (&gi, &wi) in self.g.iter().zip(&self.w) {
                    gw += gi * wi;
                }
                let c = gw / dn; // ν̂ = −c
                let mut norm2 = 0.0;
                for (wi, &gi) in self.w.iter_mut().zip(&self.g) {
                    *wi -= eta * (gi - c * *wi);
                    norm2 += *wi * *wi;
                }
                // non-finite: left as is, the next observation reports q
                if norm2.is_finite() && norm2 > 0.0 {
                    let s = (dn / norm2).sqrt();
                    self.w.iter_mut().for_each(|v| *v *= s);
                }
            }
        }
        self.chain.step(&mut self.rng);
        self.k += 1;
        Ok(())
    }
}

/// Run from `start` (drawn from `rng`, which then drives the selection and is advanced past
/// every draw) until [`Config::max_steps`] or a divergence.
pub fn run<L: ExpectedLoss>(
    problem: &Problem,
    dynamics: &Dynamics<L>,
    start: Start,
    config: &Config,
    rng: &mut Rng,
) -> Result<Trace<PsgdStep>, Error> {
    let w0 = draw(&start, problem.w_star(), rng)?;
    let mut st = Stepper::new(problem, dynamics, w0, config, rng.clone())?;
    let trace = drive(&mut st, config)?;
    *rng = st.into_rng();
    Ok(trace)
}

/// A [`Driver`] with the divergence rules of every p-SGD run: q above `q_max`, m non-finite,
/// or a measured training loss non-finite (each naming its quantity). Callers add their own
/// stop rules (success, budget, cap) after these.
pub fn driver<'d, 's, L: ExpectedLoss>(q_max: f64) -> Driver<'d, Stepper<'s, L>> {
    Driver::new()
        .stop(stop::divergence("q", |o: &Observation| o.step.q, q_max))
        .stop(stop::divergence(
            "m",
            |o: &Observation| o.step.m,
            f64::INFINITY,
        ))
        .stop(|k: usize, o: &Observation| {
            (o.measured && !o.step.train_loss.is_finite())
                .then(|| Termination::diverged(k, "train_loss"))
        })
}

/// Drive a [`Stepper`] with the stop rules of the module docs; records the measured steps and
/// the last one (its training loss measured at the end).
pub fn drive<L: ExpectedLoss>(
    st: &mut Stepper<'_, L>,
    config: &Config,
) -> Result<Trace<PsgdStep>, Error> {
    let mut steps = Vec::with_capacity(config.max_steps / config.record_every + 2);
    let trace = driver(config.q_max)
        .stop(stop::max_iterations(config.max_steps))
        .observer(|_: usize, o: &Observation| {
            if o.measured {
                steps.push(o.step);
            }
        })
        .record_every(usize::MAX)
        .run(st)?;
    if let Some(o) = trace.steps.last().filter(|o| !o.measured) {
        steps.push(PsgdStep {
            train_loss: st.train_loss(),
            ..o.step
        });
    }
    Ok(Trace {
        steps,
        termination: trace.termination,
        iterations: trace.iterations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gd::{self, spherical_teacher};
    use gardner_models::rng::stream;
    use gardner_models::run::Step as _;
    use gardner_models::{Loss, PhaseRetrieval, SampleLoss};

    /// Time fraction in the batch and mean sojourn times of the chain against b, τ and
    /// bτ/(1 − b), each within 5 standard errors.
    #[test]
    fn chain_stationary_fraction_and_sojourn_times() {
        for (b, tau, eta) in [(0.3, 10.0, 1.0), (0.5, 2.0, 1.0), (0.8, 0.5, 0.1)] {
            let sel = Selection::persistent(b, tau, Batch::Sum).unwrap();
            let (p_join, p_leave) = sel.probabilities(eta).unwrap();
            let (n, k_max) = (1000usize, 4000usize);
            let mut rng = stream(21, 0);
            let mut chain = Chain::new(n, &sel, eta, &mut rng).unwrap();
            assert_eq!(chain.probabilities(), (p_join, p_leave));
            let mut since = vec![0usize; n]; // start step of the current sojourn
            let (mut ins, mut outs) = (Vec::new(), Vec::new());
            let mut occupied = 0usize;
            let mut state: Vec<bool> = (0..n).map(|mu| chain.is_selected(mu)).collect();
            for k in 1..=k_max {
                occupied += chain.selected().len();
                chain.step(&mut rng);
                for mu in 0..n {
                    let s = chain.is_selected(mu);
                    if s != state[mu] {
                        // a sojourn that started at a flip in [1, k_max/2] and ended now
                        if since[mu] >= 1 && since[mu] <= k_max / 2 {
                            let len = (k - since[mu]) as f64 * eta;
                            if state[mu] {
                                ins.push(len)
                            } else {
                                outs.push(len)
                            }
                        }
                        since[mu] = k;
                        state[mu] = s;
                    }
                }
            }
            // fraction: each sample's s is AR(1) with λ = 1 − p_join − p_leave
            let lam = 1.0 - p_join - p_leave;
            let frac = occupied as f64 / (n * k_max) as f64;
            let se = (b * (1.0 - b) * (1.0 + lam) / (1.0 - lam) / (n * k_max) as f64).sqrt();
            assert!((frac - b).abs() < 5.0 * se, "b {b}: fraction {frac} ± {se}");
            // sojourns: geometric in steps, mean η/p, sd η √(1 − p)/p
            for (lens, want, p) in [(&ins, b * tau / (1.0 - b), p_leave), (&outs, tau, p_join)] {
                let mean = lens.iter().sum::<f64>() / lens.len() as f64;
                let se = eta * (1.0 - p).sqrt() / p / (lens.len() as f64).sqrt();
                assert!(
                    (mean - want).abs() < 5.0 * se,
                    "b {b} tau {tau}: mean sojourn {mean} vs {want} ± {se} ({} sojourns)",
                    lens.len()
                );
            }
        }
        // plain SGD: τ = η/b
        let s = Selection::sgd(0.25, 0.1, Batch::Sum).unwrap();
        assert_eq!(s.probabilities(0.1).unwrap(), (0.25, 0.75));
        let p = Selection::persistent(0.25, 0.1 / 0.25, Batch::Sum).unwrap();
        let (p01, p10) = p.probabilities(0.1).unwrap();
        assert!((p01 - 0.25).abs() < 1e-15 && (p10 - 0.75).abs() < 1e-15);
    }

    fn pr_problem(d: usize, alpha: f64, seed: u64) -> gardner_models::Dataset {
        spherical_teacher(d, alpha, &mut stream(seed, 0)).unwrap()
    }

    fn spherical_pr(selection: Selection) -> Dynamics<PhaseRetrieval> {
        Dynamics {
            loss: PhaseRetrieval,
            teacher: Teacher::Abs,
            selection,
            confinement: Confinement::Spherical,
        }
    }

    #[test]
    fn b_one_is_gd_bit_for_bit_and_matches_spherical_gd() {
        let data = pr_problem(80, 4.0, 1);
        let p = Problem::from_dataset(&data).unwrap();
        let eta = 0.01;
        let cfg = Config {
            max_steps: 400,
            record_every: 20,
            ..Config::new(eta).unwrap()
        };
        let go = |sel| {
            run(
                &p,
                &spherical_pr(sel),
                Start::Random { q0: 1.0 },
                &cfg,
                &mut stream(1, 1),
            )
            .unwrap()
        };
        let a = go(Selection::gd());
        for batch in [Batch::Mean, Batch::Sum] {
            assert_eq!(a, go(Selection::sgd(1.0, eta, batch).unwrap()));
            assert_eq!(a, go(Selection::persistent(1.0, 0.05, batch).unwrap()));
        }
        assert!(a.steps.iter().all(|s| s.batch_fraction == 1.0));
        // spherical GD of crate::gd from the same start, same η, no halving: the same update
        // (summed in another order: equal up to rounding, amplified by the dynamics)
        let gcfg = gd::Config {
            step: eta,
            max_steps: 400,
            record_every: 20,
            halve_on_increase: false,
            loss_tol: 0.0,
            grad_tol: 0.0,
            ..gd::Config::default()
        };
        let (gt, _) = gd::run_from(&p, &gcfg, gd::random_start(80, &mut stream(1, 1))).unwrap();
        assert_eq!(gt.steps.len(), a.steps.len());
        let dm = gt
            .steps
            .iter()
            .zip(&a.steps)
            .map(|(x, y)| (x.overlap - y.m).abs())
            .fold(0.0, f64::max);
        eprintln!("crate::gd vs psgd b = 1: max |Δm| = {dm:.2e} over 400 steps");
        for (x, y) in gt.steps.iter().zip(&a.steps) {
            assert_eq!(x.iteration, y.iteration);
            assert!(
                (x.overlap - y.m).abs() < 1e-10
                    && (x.train_loss - y.train_loss).abs() < 1e-10 * x.train_loss,
                "{x:?} vs {y:?}"
            );
        }
    }

    #[test]
    fn frozen_batch_is_gd_on_a_fixed_subset() {
        let data = pr_problem(60, 6.0, 2);
        let p = Problem::from_dataset(&data).unwrap();
        let eta = 0.01;
        let cfg = Config {
            max_steps: 300,
            record_every: 1,
            ..Config::new(eta).unwrap()
        };
        for tau in [f64::INFINITY, 1e15] {
            let dynamics = spherical_pr(Selection::persistent(0.5, tau, Batch::Sum).unwrap());
            let mut rng = stream(2, 1);
            let w0 = draw(
                &Start::Informed { m0: 0.3, q0: 1.0 },
                &data.w_star,
                &mut rng,
            )
            .unwrap();
            let mut st = Stepper::new(&p, &dynamics, w0.clone(), &cfg, rng).unwrap();
            let subset = st.chain().selected().to_vec();
            assert!(subset.windows(2).all(|w| w[0] < w[1]));
            let frac = subset.len() as f64 / p.n() as f64;
            assert!(
                (frac - 0.5).abs() < 5.0 * (0.25 / p.n() as f64).sqrt(),
                "{frac}"
            );
            let xs = Mat::from_fn(subset.len(), 60, |r, j| data.x[(subset[r], j)]);
            let ys: Vec<f64> = subset.iter().map(|&mu| data.y[mu]).collect();
            let ps = Problem::new(&xs, &ys, &data.w_star).unwrap();
            let mut gd_sub =
                Stepper::new(&ps, &spherical_pr(Selection::gd()), w0, &cfg, stream(9, 9)).unwrap();
            for _ in 0..300 {
                let (a, b) = (st.observe().unwrap().step, gd_sub.observe().unwrap().step);
                assert_eq!(
                    (a.m.to_bits(), a.q.to_bits()),
                    (b.m.to_bits(), b.q.to_bits())
                );
                assert_eq!(a.batch_fraction, frac);
                st.advance().unwrap();
                gd_sub.advance().unwrap();
            }
            assert_eq!(st.chain().selected(), &subset[..]);
        }
    }

    #[test]
    fn rows_touched_per_step_is_b_n() {
        let data = pr_problem(50, 8.0, 3);
        let p = Problem::from_dataset(&data).unwrap();
        let n = p.n();
        let steps = 500;
        let cfg = Config {
            max_steps: steps,
            record_every: steps,
            ..Config::new(0.001).unwrap()
        };
        for b in [0.1, 0.25, 0.5, 1.0] {
            let dynamics = spherical_pr(Selection::sgd(b, 0.001, Batch::Mean).unwrap());
            let mut rng = stream(3, 1);
            let w0 = draw(&Start::Random { q0: 1.0 }, &data.w_star, &mut rng).unwrap();
            let mut st = Stepper::new(&p, &dynamics, w0, &cfg, rng).unwrap();
            drive(&mut st, &cfg).unwrap();
            let per_step = st.rows_touched() as f64 / (steps * n) as f64;
            // fresh Bernoulli(b) batches: the mean over steps·n indicators has sd √(b(1−b)/(steps n))
            let se = (b * (1.0 - b) / (steps * n) as f64).sqrt();
            assert!(
                (per_step - b).abs() <= 5.0 * se,
                "b {b}: {per_step} rows/(n step) ± {se}"
            );
        }
    }

    #[test]
    fn same_seed_same_trace_and_square_loss_learns() {
        let data = pr_problem(100, 3.0, 4);
        let p = Problem::from_dataset(&data).unwrap();
        let eta = 0.01;
        let cfg = Config {
            max_steps: 5000,
            record_every: 250,
            ..Config::new(eta).unwrap()
        };
        let dyn_pr = spherical_pr(Selection::persistent(0.5, 1.0, Batch::Sum).unwrap());
        let start = Start::Informed { m0: 0.5, q0: 1.0 };
        let a = run(&p, &dyn_pr, start, &cfg, &mut stream(4, 1)).unwrap();
        let b = run(&p, &dyn_pr, start, &cfg, &mut stream(4, 1)).unwrap();
        let c = run(&p, &dyn_pr, start, &cfg, &mut stream(4, 2)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.termination, Termination::MaxIterations);
        assert_eq!(a.steps.len(), 21);
        let (first, last) = (a.steps[0], *a.last().unwrap());
        assert!(
            (first.m - 0.5).abs() < 1e-12 && (first.q - 1.0).abs() < 1e-12,
            "{first:?}"
        );
        assert!(last.m.abs() > 0.99 && last.gen_error < 0.02, "{last:?}");
        assert!(a.steps.iter().all(|s| (s.q - 1.0).abs() < 1e-12));
        // square loss, linear labels y = z, ridge λ = 0: the fixed point interpolates (α = 3 > 1
        // gives w = w*), so m → 1, q → 1 and the generalisation error (1 − 2m + q)/2 → 0.
        let ps = Problem::new(&data.x, &data.z, &data.w_star).unwrap();
        let dyn_sq = Dynamics {
            loss: Loss::Square,
            teacher: Teacher::Linear,
            selection: Selection::sgd(0.5, 0.05, Batch::Sum).unwrap(),
            confinement: Confinement::Ridge(0.0),
        };
        let cfg = Config {
            max_steps: 3000,
            record_every: 1000,
            ..Config::new(0.05).unwrap()
        };
        let t = run(
            &ps,
            &dyn_sq,
            Start::Random { q0: 0.5 },
            &cfg,
            &mut stream(4, 3),
        )
        .unwrap();
        let last = t.last().unwrap();
        assert!(last.gen_error < 1e-6 && last.train_loss < 1e-6, "{last:?}");
        assert!((t.steps[0].q - 0.5).abs() < 1e-12);
    }

    #[test]
    fn divergence_names_the_quantity_and_bad_input_is_an_error() {
        let data = pr_problem(40, 3.0, 5);
        let p = Problem::from_dataset(&data).unwrap();
        // ridge, no constraint, a huge step: the quartic loss blows up
        let dynamics = Dynamics {
            loss: PhaseRetrieval,
            teacher: Teacher::Abs,
            selection: Selection::gd(),
            confinement: Confinement::Ridge(0.0),
        };
        let cfg = Config {
            max_steps: 1000,
            ..Config::new(5.0).unwrap()
        };
        let t = run(
            &p,
            &dynamics,
            Start::Random { q0: 4.0 },
            &cfg,
            &mut stream(5, 1),
        )
        .unwrap();
        assert!(
            matches!(&t.termination, Termination::Diverged { quantity, .. } if quantity == "q"),
            "{:?}",
            t.termination
        );
        let sph = spherical_pr(Selection::gd());
        let e = run(&p, &sph, Start::Random { q0: 2.0 }, &cfg, &mut stream(5, 1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`q0`"), "{e}");
        let e = draw(
            &Start::Informed { m0: 1.5, q0: 1.0 },
            &data.w_star,
            &mut stream(5, 2),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`m0`"), "{e}");
        // τ = 1 < η = 5: P(0 → 1) = η/τ > 1
        let pers = spherical_pr(Selection::persistent(0.5, 1.0, Batch::Sum).unwrap());
        let e = run(
            &p,
            &pers,
            Start::Random { q0: 1.0 },
            &cfg,
            &mut stream(5, 1),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`tau`") && e.contains("<= 1"), "{e}");
    }

    /// The closed-form generalisation errors against a Monte-Carlo average over fresh
    /// Gaussian (z, h) with Var z = 1, Var h = q, Cov = m, within 5 standard errors.
    #[test]
    fn gen_error_formulas_match_monte_carlo() {
        let mut rng = stream(6, 0);
        for (m, q) in [(0.3, 1.0), (0.8, 0.9), (-0.2, 2.0)] {
            let k = 200_000;
            let (mut s1, mut s2, mut t1, mut t2) = (0.0, 0.0, 0.0, 0.0);
            for _ in 0..k {
                let z: f64 = rng.sample(StandardNormal);
                let e: f64 = rng.sample(StandardNormal);
                let h = m * z + (q - m * m).sqrt() * e;
                let a = PhaseRetrieval.value(z.abs(), h);
                let b = Loss::Square.value(z, h);
                (s1, s2, t1, t2) = (s1 + a, s2 + a * a, t1 + b, t2 + b * b);
            }
            let kf = k as f64;
            for (sum, sq, want) in [
                (
                    s1,
                    s2,
                    PhaseRetrieval.gen_error(Teacher::Abs, m, q).unwrap(),
                ),
                (
                    t1,
                    t2,
                    Loss::Square.gen_error(Teacher::Linear, m, q).unwrap(),
                ),
            ] {
                let mean = sum / kf;
                let se = ((sq / kf - mean * mean) / kf).sqrt();
                assert!(
                    (mean - want).abs() < 5.0 * se,
                    "m {m} q {q}: {mean} ± {se} vs {want}"
                );
            }
        }
    }
}
