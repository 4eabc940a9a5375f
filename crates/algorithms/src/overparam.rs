//! Gradient descent on an over-parametrised two-layer network with quadratic activation for
//! real phase retrieval (Sarao Mannelli, Vanden-Eijnden, Zdeborová, NeurIPS'20,
//! arXiv:2006.15459; talk slides "Over-parametrised ERM for phase retrieval" and "GD for
//! over-parametrised phase retrieval").
//!
//! # Model and normalisation
//! Data: X_{μi} ~ N(0, 1/d), n = round(α d), y_μ = |X_μ·w*| (use
//! [`crate::gd::spherical_teacher`], ‖w*‖² = d). Student: m hidden units w_a ∈ ℝ^d, the
//! columns of W (d × m), output ŷ_μ = (1/m) Σ_a (X_μ·w_a)² = X_μᵀ A X_μ with A = W Wᵀ/m.
//! The talk's loss is L(W) = Σ_μ [y_μ² − ŷ_μ]², and W(0) has i.i.d. N(0, 1) entries
//! (so A(0) ≈ I and ŷ_μ(0) ≈ 1 = E y²).
//!
//! We descend H(W) = (m/4) L(W), whose gradient is
//!
//! ```text
//! ∂H/∂w_a = −Σ_μ r_μ (X_μ·w_a) X_μ,   r_μ = y_μ² − ŷ_μ,   i.e.  ∇H = −Xᵀ diag(r) X W.
//! ```
//!
//! The factor m/4 fixes the time scale: under this flow Ȧ = R A + A R with
//! R = Σ_μ r_μ X_μ X_μᵀ, independent of m, whereas the flow of L moves A at rate O(1/m).
//! Gradient flow of L is the same path at time 4t/m; gradient descent of L with step η_L is
//! this one with step η = η_L · 4/m. For m = 1 this is unconstrained GD on
//! H = ¼ Σ (y² − h²)², the loss of [`crate::gd`] without the sphere.
//! The reported `train_loss = (1/4n) Σ_μ r_μ²` does not depend on m.
//!
//! # Generalisation error and success
//! gen_error = ‖A − A*‖_F² / ‖A*‖_F² with A* = w* w*ᵀ, computed without forming d × d
//! matrices: ‖A‖_F² = ‖WᵀW‖_F²/m², tr(A A*) = ‖Wᵀw*‖²/m, ‖A*‖_F² = ‖w*‖⁴ (cost O(d m²)).
//! **Success** is a final gen_error < [`SUCCESS_GEN_ERROR`] = 1e-3.
//!
//! # Cost and stopping
//! Each step is two faer matrix products, P = X W and G = Xᵀ(diag(r) P): 4 n d m flops.
//! Convergence to the zero-loss set is **algebraic** in time (A's excess eigenvalues decay
//! like powers of 1/t; gen_error ≈ t^{-1.6} at α = 3, d = m = 40), so "success" is relative
//! to a time budget: success = gen_error < 1e-3 before `max_steps · step`.
//!
//! The iteration is a [`gardner_models::run::Step`] ([`Stepper`]) run by the shared
//! [`Driver`] with these stop rules, in order:
//! - `Diverged` when the training loss, the gradient or a measured gen_error is non-finite
//!   (naming it);
//! - `Converged` when gen_error < [`SUCCESS_GEN_ERROR`] (checked at recorded steps, if
//!   [`Config::stop_on_success`]);
//! - `Converged` when train_loss < [`Config::loss_tol`] (a zero-loss minimum: for m ≥ d and
//!   α < 2 generically not A*, Theorem 3.1 of 2006.15459: convergence is not success; 0 turns
//!   it off, the bound below then decides);
//! - `Converged` when the RMS gradient ‖∇H‖_F/√(d m) < [`Config::grad_tol`] (a stationary
//!   point: with a non-zero loss a spurious minimum, m < d);
//! - `MaxIterations` after [`Config::max_steps`];
//! - `Stalled` when success within the budget is impossible (if
//!   [`Config::stop_when_unreachable`]; [`unreachable()`]): GD with η ≤ 1/L dissipates
//!   H_k − H_{k+1} ≥ (η/2)‖∇H_k‖² (descent lemma), so over the remaining time T the iterates
//!   move by at most Σ η‖∇H‖ ≤ √(T Σ η‖∇H‖²) ≤ δ = √([`DESCENT_FACTOR`] T H) (Cauchy–Schwarz),
//!   and A = WWᵀ/m by at most (2‖W‖_F δ + δ²)/m. When even that cannot bring
//!   ‖A − A*‖_F below √1e-3 ‖A*‖_F before `max_steps`, the run is a failure. The rule bites
//!   when H is small (a wrong zero-loss minimum: m ≥ d, α < 2), never on a run that reaches
//!   the threshold within its budget (as long as the descent lemma holds; checked by the
//!   `overparam_budget_bound` tests).
//!
//! Gradient flow decreases H monotonically: if a step increases the training loss (relative
//! 1e-9), η is halved for the rest of the run ([`Config::halve_on_increase`], the shared
//! [`HalveOnIncrease`] guard, counted in [`Step::halvings`]); the curvature grows with
//! max_μ ŷ_μ‖X_μ‖², so a fixed η that is stable for most data sets can oscillate (bounded,
//! without NaN) for a few. A further increase after [`Config::max_halvings`] halvings is
//! `Diverged` (quantity `train_loss`).

use crate::error::Error;
use crate::gd::Problem;
use crate::par;
use crate::{Init, Termination, Trace};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use gardner_models::rng::Rng;
use gardner_models::run::{Driver, Halvable, HalveOnIncrease, stop};
use rand::RngExt;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// Success threshold on the final generalisation error ‖A − A*‖_F²/‖A*‖_F².
pub const SUCCESS_GEN_ERROR: f64 = 1e-3;

/// κ in Σ_{j ≥ k} η_j‖∇H_j‖² ≤ κ H_k: 2 by the descent lemma for η ≤ 1/L (1 for the flow).
pub const DESCENT_FACTOR: f64 = 2.0;

fn default_step() -> f64 {
    0.01
}
fn default_max_steps() -> usize {
    100_000
}
fn default_loss_tol() -> f64 {
    1e-10
}
fn default_grad_tol() -> f64 {
    1e-8
}
fn default_record_every() -> usize {
    100
}
fn default_threads() -> usize {
    1
}
fn default_true() -> bool {
    true
}
fn default_max_halvings() -> u32 {
    20
}

/// The number of hidden units (physics, no default) and the tuning parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Number of hidden units m ≥ 1.
    pub m_hidden: usize,
    /// Euler step η in the time of H = (m/4) L (default 0.01).
    #[serde(default = "default_step")]
    pub step: f64,
    /// Maximum number of steps.
    #[serde(default = "default_max_steps")]
    pub max_steps: usize,
    /// Stop (`Converged`) when train_loss = (1/4n) Σ r_μ² falls below this.
    #[serde(default = "default_loss_tol")]
    pub loss_tol: f64,
    /// Stop (`Converged`) when ‖∇H‖_F/√(d m) falls below this.
    #[serde(default = "default_grad_tol")]
    pub grad_tol: f64,
    /// Record observables every this many steps (initial and final states always recorded).
    #[serde(default = "default_record_every")]
    pub record_every: usize,
    /// Threads for the matrix products (1 = sequential).
    #[serde(default = "default_threads")]
    pub threads: usize,
    /// Stop as soon as a recorded gen_error is below [`SUCCESS_GEN_ERROR`] (default true).
    #[serde(default = "default_true")]
    pub stop_on_success: bool,
    /// Stop (`Stalled`) when success within `max_steps` is impossible ([`unreachable()`]).
    #[serde(default = "default_true")]
    pub stop_when_unreachable: bool,
    /// Halve η whenever the training loss increases between steps (default true).
    #[serde(default = "default_true")]
    pub halve_on_increase: bool,
    /// Maximum number of halvings before the run is reported as diverged (default 20).
    #[serde(default = "default_max_halvings")]
    pub max_halvings: u32,
    /// W(0): i.i.d. N(0, 1) entries drawn from the run's stream ([`random_start`]), or a given
    /// d × m matrix (not part of a serialised config).
    #[serde(skip)]
    pub init: Init<Mat<f64>>,
}

impl Config {
    /// m hidden units with default tuning parameters.
    pub fn new(m_hidden: usize) -> Result<Self, Error> {
        let c = Self {
            m_hidden,
            step: default_step(),
            max_steps: default_max_steps(),
            loss_tol: default_loss_tol(),
            grad_tol: default_grad_tol(),
            record_every: default_record_every(),
            threads: default_threads(),
            stop_on_success: true,
            stop_when_unreachable: true,
            halve_on_increase: true,
            max_halvings: default_max_halvings(),
            init: Init::Random,
        };
        c.validate()?;
        Ok(c)
    }
    /// Validates every field.
    pub fn validate(&self) -> Result<(), Error> {
        if self.m_hidden == 0 {
            return Err(Error::InvalidParameter {
                name: "m_hidden",
                value: 0.0,
                bound: ">= 1",
            });
        }
        crate::gd::Config {
            step: self.step,
            max_steps: self.max_steps,
            loss_tol: self.loss_tol,
            grad_tol: self.grad_tol,
            record_every: self.record_every,
            threads: self.threads,
            halve_on_increase: self.halve_on_increase,
            max_halvings: self.max_halvings,
            init: Init::Random,
        }
        .validate()
    }
}

/// What [`run`] returns: the recorded steps, whose termination is `Converged` (success, zero
/// loss or a stationary point: see [`succeeded`] and [`crate::Trace::rule`]), `MaxIterations`,
/// `Stalled` or `Diverged`, and the final W (d × m).
pub type Outcome = crate::Outcome<Step, Mat<f64>>;

/// Observables of one recorded step (state W_k before the k-th update).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Step index k.
    pub iteration: usize,
    /// Time t = Σ η over the steps taken (time of H = (m/4) L).
    pub time: f64,
    /// train_loss = (1/4n) Σ_μ (y_μ² − ŷ_μ)².
    pub train_loss: f64,
    /// ‖A − A*‖_F² / ‖A*‖_F².
    pub gen_error: f64,
    /// RMS gradient ‖∇H‖_F/√(d m).
    pub grad_norm: f64,
    /// Step halvings so far (loss increases, see the module docs).
    pub halvings: u32,
}

/// True when the run ended with gen_error < [`SUCCESS_GEN_ERROR`].
pub fn succeeded(trace: &Trace<Step>) -> bool {
    trace
        .last()
        .is_some_and(|s| s.gen_error < SUCCESS_GEN_ERROR)
}

/// Workspace of the loss/gradient evaluation (n × m and d × m buffers).
#[derive(Debug)]
struct Buffers {
    p: Mat<f64>,
    g: Mat<f64>,
    r: Vec<f64>,
    gram: Mat<f64>,
    wts: Vec<f64>,
}

impl Buffers {
    fn new(n: usize, d: usize, m: usize) -> Self {
        Self {
            p: Mat::zeros(n, m),
            g: Mat::zeros(d, m),
            r: vec![0.0; n],
            gram: Mat::zeros(m, m),
            wts: vec![0.0; m],
        }
    }
}

/// P = XW, r = y² − ŷ, then P ← diag(r) P and g = −Xᵀ P = ∇H. Returns (m/4) Σ r² = H.
fn loss_grad_into(problem: &Problem, w: &Mat<f64>, b: &mut Buffers, par: Par) -> f64 {
    let m = w.ncols();
    let inv_m = 1.0 / m as f64;
    matmul(
        b.p.as_mut(),
        Accum::Replace,
        problem.x().as_ref(),
        w.as_ref(),
        1.0,
        par,
    );
    b.r.iter_mut().for_each(|v| *v = 0.0);
    for a in 0..m {
        for (ri, &pi) in b.r.iter_mut().zip(b.p.col_as_slice(a)) {
            *ri += pi * pi;
        }
    }
    let mut loss = 0.0;
    for (ri, &yi) in b.r.iter_mut().zip(problem.y()) {
        *ri = yi * yi - *ri * inv_m;
        loss += *ri * *ri;
    }
    for a in 0..m {
        for (pi, &ri) in b.p.col_as_slice_mut(a).iter_mut().zip(&b.r) {
            *pi *= ri;
        }
    }
    matmul(
        b.g.as_mut(),
        Accum::Replace,
        problem.x().transpose(),
        b.p.as_ref(),
        -1.0,
        par,
    );
    0.25 * m as f64 * loss
}

/// H(W) = (m/4) Σ_μ (y_μ² − (1/m) Σ_a (X_μ·w_a)²)² and its gradient ∇H (d × m) in `grad`.
pub fn loss_and_gradient(
    problem: &Problem,
    w: &Mat<f64>,
    grad: &mut Mat<f64>,
) -> Result<f64, Error> {
    let (n, d, m) = (problem.n(), problem.d(), w.ncols());
    if w.nrows() != d || m == 0 || grad.nrows() != d || grad.ncols() != m {
        return Err(Error::Dimension(format!(
            "W is {} x {m}, grad {} x {}, but d = {d} and m >= 1",
            w.nrows(),
            grad.nrows(),
            grad.ncols()
        )));
    }
    let mut b = Buffers::new(n, d, m);
    let h = loss_grad_into(problem, w, &mut b, Par::Seq);
    grad.copy_from(&b.g);
    Ok(h)
}

/// ‖A − A*‖_F²/‖A*‖_F² for A = WWᵀ/m, A* = w*w*ᵀ, through the m × m Gram matrix.
pub fn generalisation_error(w: &Mat<f64>, w_star: &[f64]) -> f64 {
    let mut gram = Mat::zeros(w.ncols(), w.ncols());
    let mut wts = vec![0.0; w.ncols()];
    gen_error_into(w, w_star, &mut gram, &mut wts, Par::Seq)
}

fn gen_error_into(
    w: &Mat<f64>,
    w_star: &[f64],
    gram: &mut Mat<f64>,
    wts: &mut [f64],
    par: Par,
) -> f64 {
    let m = w.ncols() as f64;
    matmul(
        gram.as_mut(),
        Accum::Replace,
        w.transpose(),
        w.as_ref(),
        1.0,
        par,
    );
    let a2 = gram.squared_norm_l2() / (m * m);
    matmul(
        faer::ColMut::from_slice_mut(wts),
        Accum::Replace,
        w.transpose(),
        faer::ColRef::from_slice(w_star),
        1.0,
        par,
    );
    let cross = wts.iter().map(|v| v * v).sum::<f64>() / m;
    let s2: f64 = w_star.iter().map(|v| v * v).sum();
    let astar2 = s2 * s2;
    (a2 - 2.0 * cross + astar2) / astar2
}

/// W(0) with i.i.d. N(0, 1) entries (d × m), filled column by column.
pub fn random_start(d: usize, m: usize, rng: &mut Rng) -> Mat<f64> {
    let mut w = Mat::zeros(d, m);
    for a in 0..m {
        for v in w.col_as_slice_mut(a) {
            *v = rng.sample::<f64, _>(StandardNormal);
        }
    }
    w
}

/// The over-parametrised GD iteration with its buffers: a [`gardner_models::run::Step`] and
/// [`Halvable`], driven by [`run`] (or by the caller: the benchmark). gen_error (O(d m²)) is
/// measured only by [`gardner_models::run::Step::measure`], which the driver calls at recorded
/// steps (every [`Config::record_every`]) and at the end. Neither `observe` nor `advance`
/// allocates.
#[derive(Debug)]
pub struct Stepper<'a> {
    problem: Problem<'a>,
    eta: f64,
    time: f64,
    halvings: u32,
    par: Par,
    w: Mat<f64>,
    b: Buffers,
    k: usize,
}

/// One observation of the [`Stepper`]: the recorded observables, ‖W‖_F at recorded steps, and
/// the step size η that the next update would use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// The observables; `gen_error` is meaningful only when `measured`.
    pub step: Step,
    /// gen_error and `w_norm` were computed at this step (a recorded step).
    pub measured: bool,
    /// ‖W‖_F (meaningful only when `measured`).
    pub w_norm: f64,
    /// Current step size η.
    pub eta: f64,
}

impl Observation {
    fn gen_error(&self) -> Option<f64> {
        self.measured.then_some(self.step.gen_error)
    }
}

impl<'a> Stepper<'a> {
    /// Starts at `w0` (d × m_hidden); checks shapes and the config.
    pub fn new(problem: Problem<'a>, config: &Config, w0: Mat<f64>) -> Result<Self, Error> {
        config.validate()?;
        let (n, d, m) = (problem.n(), problem.d(), config.m_hidden);
        if w0.nrows() != d || w0.ncols() != m {
            return Err(Error::Dimension(format!(
                "W0 is {} x {} but d = {d}, m_hidden = {m}",
                w0.nrows(),
                w0.ncols()
            )));
        }
        if w0.col_iter().any(|c| c.iter().any(|v| !v.is_finite())) {
            return Err(Error::InvalidParameter {
                name: "W0",
                value: f64::NAN,
                bound: "finite entries",
            });
        }
        let s2: f64 = problem.w_star().iter().map(|v| v * v).sum();
        if s2.is_nan() || s2 <= 0.0 {
            return Err(Error::InvalidParameter {
                name: "|w*|^2",
                value: s2,
                bound: "> 0 (gen_error is relative to |A*|)",
            });
        }
        Ok(Self {
            problem,
            eta: config.step,
            time: 0.0,
            halvings: 0,
            par: par(config.threads),
            w: w0,
            b: Buffers::new(n, d, m),
            k: 0,
        })
    }

    /// (train_loss, RMS gradient) at the current W; keeps ∇H for `advance`.
    /// Two matrix products, 4 n d m flops.
    pub fn evaluate(&mut self) -> (f64, f64) {
        let (n, d, m) = (self.problem.n(), self.problem.d(), self.w.ncols());
        let h = loss_grad_into(&self.problem, &self.w, &mut self.b, self.par);
        let train_loss = h / (m as f64 * n as f64); // (m/4)Σr² / (m n) = Σr²/(4n)
        (
            train_loss,
            (self.b.g.squared_norm_l2() / (d * m) as f64).sqrt(),
        )
    }

    /// gen_error at the current W (O(d m²)).
    pub fn gen_error(&mut self) -> f64 {
        gen_error_into(
            &self.w,
            self.problem.w_star(),
            &mut self.b.gram,
            &mut self.b.wts,
            self.par,
        )
    }

    /// Time t = Σ η of the steps taken.
    pub fn time(&self) -> f64 {
        self.time
    }
    /// Current step size η.
    pub fn step_size(&self) -> f64 {
        self.eta
    }
    /// Steps taken.
    pub fn iteration(&self) -> usize {
        self.k
    }
    /// Current W.
    pub fn w(&self) -> &Mat<f64> {
        &self.w
    }
}

impl gardner_models::run::Step for Stepper<'_> {
    type Obs = Observation;
    type Error = Error;
    /// Loss and gradient (kept for `advance`).
    fn observe(&mut self) -> Result<Observation, Error> {
        let (train_loss, grad_norm) = self.evaluate();
        Ok(Observation {
            step: Step {
                iteration: self.k,
                time: self.time,
                train_loss,
                gen_error: f64::NAN,
                grad_norm,
                halvings: self.halvings,
            },
            measured: false,
            w_norm: f64::NAN,
            eta: self.eta,
        })
    }
    /// gen_error and ‖W‖_F.
    fn measure(&mut self, o: &mut Observation) -> Result<(), Error> {
        o.step.gen_error = self.gen_error();
        o.w_norm = self.w.norm_l2();
        o.measured = true;
        Ok(())
    }
    /// W ← W − η ∇H with the gradient of the last observation.
    fn advance(&mut self) -> Result<(), Error> {
        let eta = self.eta;
        for a in 0..self.w.ncols() {
            for (wi, &gi) in self
                .w
                .col_as_slice_mut(a)
                .iter_mut()
                .zip(self.b.g.col_as_slice(a))
            {
                *wi -= eta * gi;
            }
        }
        self.k += 1;
        self.time += eta;
        Ok(())
    }
}

impl Halvable for Stepper<'_> {
    /// Halve η (counted in [`Step::halvings`]).
    fn halve_step(&mut self) {
        self.eta *= 0.5;
        self.halvings += 1;
    }
}

/// The largest possible change of A = WWᵀ/m over the remaining time `t_rem`, relative to
/// ‖A*‖_F: (2‖W‖_F δ + δ²)/(m ‖A*‖_F) with δ = √([`DESCENT_FACTOR`] t_rem H) (module docs).
/// `h` is H = (m/4) Σ r² = m n · train_loss.
pub fn reach(h: f64, t_rem: f64, w_norm: f64, m: usize, a_star_norm: f64) -> f64 {
    let delta = (DESCENT_FACTOR * t_rem.max(0.0) * h.max(0.0)).sqrt();
    (2.0 * w_norm * delta + delta * delta) / (m as f64 * a_star_norm)
}

/// True when gen_error `g` cannot fall below [`SUCCESS_GEN_ERROR`] within the reach `r` of
/// [`reach`]: √g − r ≥ √1e-3 (the triangle inequality on ‖A − A*‖_F).
pub fn unreachable(g: f64, r: f64) -> bool {
    g.sqrt() - r >= SUCCESS_GEN_ERROR.sqrt()
}

/// The budget bound of the module docs, evaluated at recorded steps.
fn unreachable_rule(
    n: usize,
    m: usize,
    a_star_norm: f64,
    max_steps: usize,
) -> impl FnMut(usize, &Observation) -> Option<Termination> {
    move |k: usize, o: &Observation| {
        let g = o.gen_error()?;
        let h = o.step.train_loss * (m * n) as f64;
        // η only decreases (halvings), so the remaining time is at most (K − k) η
        let t_rem = max_steps.saturating_sub(k) as f64 * o.eta;
        unreachable(g, reach(h, t_rem, o.w_norm, m, a_star_norm)).then_some(Termination::Stalled)
    }
}

/// GD from [`Config::init`] (W(0) drawn from `rng` by default), on the shared [`Driver`] with
/// the stop rules of the module docs; records every [`Config::record_every`] steps and the
/// last.
pub fn run(problem: &Problem, config: &Config, rng: &mut Rng) -> Result<Outcome, Error> {
    config.validate()?;
    let w0 = match &config.init {
        Init::Random => random_start(problem.d(), config.m_hidden, rng),
        Init::At(w0) => w0.clone(),
    };
    let mut st = Stepper::new(*problem, config, w0)?;
    let stop_on_success = config.stop_on_success;
    let mut driver = Driver::new()
        .stop(stop::divergence(
            "train_loss",
            |o: &Observation| o.step.train_loss,
            f64::INFINITY,
        ))
        .stop(stop::divergence(
            "grad_norm",
            |o: &Observation| o.step.grad_norm,
            f64::INFINITY,
        ))
        .stop(stop::divergence(
            "gen_error",
            |o: &Observation| o.gen_error().unwrap_or(0.0),
            f64::INFINITY,
        ))
        .stop(stop::named("success", move |_: usize, o: &Observation| {
            (stop_on_success && o.gen_error().is_some_and(|g| g < SUCCESS_GEN_ERROR))
                .then_some(Termination::Converged)
        }))
        .stop(stop::named(
            "zero_loss",
            stop::tolerance(|o: &Observation| o.step.train_loss, config.loss_tol),
        ))
        .stop(stop::named(
            "stationary",
            stop::tolerance(|o: &Observation| o.step.grad_norm, config.grad_tol),
        ))
        .stop(stop::max_iterations(config.max_steps));
    if config.stop_when_unreachable {
        let a_star_norm: f64 = problem.w_star().iter().map(|v| v * v).sum();
        driver = driver.stop(stop::named(
            "unreachable",
            unreachable_rule(problem.n(), config.m_hidden, a_star_norm, config.max_steps),
        ));
    }
    if config.halve_on_increase {
        driver = driver.guard(HalveOnIncrease::new(
            "train_loss",
            |o: &Observation| o.step.train_loss,
            config.max_halvings as usize,
        ));
    }
    let trace = driver.record_every(config.record_every).run(&mut st)?;
    Ok(Outcome {
        trace: trace.map(|o| o.step),
        w: st.w,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gd::spherical_teacher;
    use gardner_models::rng::stream;

    fn dense_gen_error(w: &Mat<f64>, w_star: &[f64]) -> f64 {
        let m = w.ncols() as f64;
        let a: Mat<f64> = w * w.transpose() * faer::Scale(1.0 / m);
        let s = faer::ColRef::from_slice(w_star);
        let astar: Mat<f64> = s * s.transpose();
        (&a - &astar).squared_norm_l2() / astar.squared_norm_l2()
    }

    #[test]
    fn gen_error_trace_formula_matches_dense() {
        let data = spherical_teacher(15, 2.0, &mut stream(7, 0)).unwrap();
        for m in [1, 4, 15, 30] {
            let w = random_start(15, m, &mut stream(7, m as u64));
            let (a, b) = (
                generalisation_error(&w, &data.w_star),
                dense_gen_error(&w, &data.w_star),
            );
            assert!((a - b).abs() < 1e-12 * (1.0 + b), "m = {m}: {a} vs {b}");
        }
        // W = [w*] gives zero error
        let w = Mat::from_fn(15, 1, |i, _| data.w_star[i]);
        assert!(generalisation_error(&w, &data.w_star) < 1e-14);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let data = spherical_teacher(12, 3.0, &mut stream(8, 0)).unwrap();
        let p = Problem::from_dataset(&data).unwrap();
        for m in [1, 5, 24] {
            let w = random_start(12, m, &mut stream(8, m as u64));
            let mut g = Mat::zeros(12, m);
            loss_and_gradient(&p, &w, &mut g).unwrap();
            let mut scratch = Mat::zeros(12, m);
            let eps = 1e-5;
            for i in 0..12 {
                for a in 0..m {
                    let (mut wp, mut wm) = (w.clone(), w.clone());
                    wp[(i, a)] += eps;
                    wm[(i, a)] -= eps;
                    let fd = (loss_and_gradient(&p, &wp, &mut scratch).unwrap()
                        - loss_and_gradient(&p, &wm, &mut scratch).unwrap())
                        / (2.0 * eps);
                    assert!(
                        (fd - g[(i, a)]).abs() <= 1e-6 * (1.0 + g[(i, a)].abs()),
                        "m={m} ({i},{a}): fd {fd} vs {}",
                        g[(i, a)]
                    );
                }
            }
        }
    }

    #[test]
    fn m_one_matches_unconstrained_phase_retrieval_loss() {
        let data = spherical_teacher(10, 2.0, &mut stream(9, 0)).unwrap();
        let p = Problem::from_dataset(&data).unwrap();
        let w = random_start(10, 1, &mut stream(9, 1));
        let mut g = Mat::zeros(10, 1);
        let h = loss_and_gradient(&p, &w, &mut g).unwrap();
        let mut g1 = vec![0.0; 10];
        let h1 = crate::gd::loss_and_gradient(&p, w.col_as_slice(0), &mut g1).unwrap();
        assert!((h - h1).abs() < 1e-12 * h1);
        for i in 0..10 {
            assert!((g[(i, 0)] - g1[i]).abs() < 1e-12 * (1.0 + g1[i].abs()));
        }
    }

    /// ‖A − A*‖_F/‖A*‖_F at W (dense: no cancellation near A*).
    fn distance(w: &Mat<f64>, w_star: &[f64]) -> f64 {
        dense_gen_error(w, w_star).sqrt()
    }

    #[test]
    fn overparam_budget_bound_holds_along_runs() {
        // Without stop rules, from recorded states k to the end K: ‖W_K − W_k‖_F ≤ δ_k and
        // ‖A_K − A_k‖_F/‖A*‖_F ≤ reach(H_k, (K − k) η, ‖W_k‖_F) (the bound of the rule), for a
        // success (α = 4), a wrong zero-loss minimum (α = 1.5, m ≥ d) and m = 1.
        for (d, m, alpha, seed) in [(12, 24, 4.0, 1), (12, 12, 1.5, 2), (12, 1, 2.0, 3)] {
            let data = spherical_teacher(d, alpha, &mut stream(20, seed)).unwrap();
            let p = Problem::from_dataset(&data).unwrap();
            let w0 = random_start(d, m, &mut stream(21, seed));
            let a_star_norm: f64 = data.w_star.iter().map(|v| v * v).sum();
            let big_k = 20_000;
            let run_to = |k: usize| {
                let mut c = Config::new(m).unwrap();
                c.step = 0.02;
                c.max_steps = k;
                c.stop_on_success = false;
                c.stop_when_unreachable = false;
                c.loss_tol = 0.0;
                c.grad_tol = 0.0;
                c.init = Init::At(w0.clone());
                run(&p, &c, &mut stream(0, 0)).unwrap()
            };
            let end = run_to(big_k);
            assert_eq!(end.trace.termination, Termination::MaxIterations);
            for k in [100, 1000, 5000, 15_000] {
                let at = run_to(k);
                let s = at.trace.last().unwrap();
                let h = s.train_loss * (m * p.n()) as f64;
                let t_rem = (big_k - k) as f64 * s.time / k as f64; // ≥ the time left
                let delta = (DESCENT_FACTOR * t_rem * h).sqrt();
                let moved = (&end.w - &at.w).norm_l2();
                assert!(moved <= delta, "{d} {m} {alpha} k={k}: {moved} > {delta}");
                let a_k = &at.w * at.w.transpose() * faer::Scale(1.0 / m as f64);
                let a_end = &end.w * end.w.transpose() * faer::Scale(1.0 / m as f64);
                let change = (&a_end - &a_k).norm_l2() / a_star_norm;
                let r = reach(h, t_rem, at.w.norm_l2(), m, a_star_norm);
                assert!(change <= r, "{d} {m} {alpha} k={k}: {change} > {r}");
                // the triangle inequality behind `unreachable`
                let (dk, dend) = (
                    distance(&at.w, &data.w_star),
                    distance(&end.w, &data.w_star),
                );
                assert!(dend >= dk - r - 1e-12);
            }
        }
    }

    #[test]
    fn unreachable_is_the_triangle_inequality() {
        assert!(unreachable(0.01, 0.0));
        assert!(!unreachable(1e-3 * 0.99, 0.0));
        assert!(!unreachable(0.01, 0.1 - 0.03));
        assert!(unreachable(0.01, 0.1 - 0.032));
        assert_eq!(reach(0.0, 100.0, 5.0, 3, 2.0), 0.0);
        assert_eq!(reach(1.0, 2.0, 1.0, 1, 1.0), 4.0 + 4.0);
    }

    #[test]
    fn config_requires_hidden_units() {
        let e = Config::new(0).unwrap_err().to_string();
        assert!(e.contains("m_hidden"), "{e}");
        assert_eq!(Config::new(3).unwrap().step, 0.01);
    }
}
