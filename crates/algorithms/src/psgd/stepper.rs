//! The p-SGD iteration as a [`gardner_models::run::Step`]: the fused row passes of an update
//! and the observables (module docs of [`super`]).

use super::{Chain, Config, Dynamics, PsgdStep};
use crate::error::Error;
use crate::gd::Problem;
use crate::kernels::{axpy, axpy4, dot, dot4};
use faer::Mat;
use gardner_models::dynamics::{Confinement, ExpectedLoss};
use gardner_models::rng::Rng;

/// One observation of the [`Stepper`]: `train_loss` is measured only when `measured` (by
/// [`gardner_models::run::Step::measure`], at the driver's recorded steps and at the end).
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
        Ok(Observation {
            step: PsgdStep {
                iteration: self.k,
                time: self.k as f64 * self.eta,
                train_loss: f64::NAN,
                m,
                q,
                gen_error: self.dynamics.loss.gen_error(self.dynamics.teacher, m, q)?,
                batch_fraction: self.chain.selected().len() as f64 / self.y.len() as f64,
            },
            measured: false,
        })
    }

    /// The whole-set training loss (a full pass over X).
    fn measure(&mut self, o: &mut Observation) -> Result<(), Error> {
        o.step.train_loss = self.train_loss();
        o.measured = true;
        Ok(())
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
