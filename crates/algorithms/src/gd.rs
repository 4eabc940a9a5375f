//! Spherical gradient descent on the real phase-retrieval loss (Sarao Mannelli, Biroli,
//! Cammarota, Krzakala, Urbani, Zdeborová, arXiv:2006.06997; talk slide "Performance of
//! gradient descent").
//!
//! # Model and normalisation
//! Data follow the project convention: X_{μi} ~ N(0, 1/d) i.i.d., n = round(α d), labels
//! y_μ = |X_μ·w*|. The teacher lies on the sphere ‖w*‖² = d (see [`spherical_teacher`]), so
//! the teacher and student fields z_μ = X_μ·w*, h_μ = X_μ·w have unit variance.
//!
//! The talk's loss is L(w) = Σ_μ (y_μ² − (X_μ·w)²)². We descend the Hamiltonian
//!
//! ```text
//! H(w) = L(w)/4 = Σ_μ ℓ(y_μ, h_μ),   ℓ(y, h) = (h² − y²)²/4,   ∇H = Xᵀ u,  u_μ = ℓ'(y_μ, h_μ) = h_μ (h_μ² − y_μ²),
//! ```
//!
//! the plain **sum** over samples of the per-sample loss [`PhaseRetrieval`] (the convention of
//! the dynamical mean-field theory of this model, in which the ¼ only fixes the time unit).
//! With N(0, 1/d) inputs this makes the time scale of gradient flow O(1) as d → ∞ at fixed α
//! (each field moves at rate O(1 + α)); gradient flow of L itself is the same path at time 4t.
//! The reported training loss is the per-sample `train_loss = H/n = (1/4n) Σ_μ (y_μ² − h_μ²)²`
//! (L = 4 n · train_loss).
//!
//! # Dynamics
//! Spherical constraint ‖w‖² = d: the Riemannian gradient g_⊥ = ∇H − (∇H·w/d) w (this is the
//! Lagrange-multiplier form ẇ = −∇H − ν w, ν = −w·∇H/d) is followed by an explicit Euler step
//! of size η and the retraction w ← √d w/‖w‖, so the constraint holds to rounding after every
//! step. The start is w(0) ~ N(0, I_d) rescaled onto the sphere. Physical time t = Σ_k η_k.
//! Gradient flow decreases H monotonically; if a step *increases* the training loss (relative
//! 1e-9), the discretisation is not following the flow (η λ_max(Hessian) > 2 somewhere), and
//! the step is halved for the rest of the run ([`Config::halve_on_increase`], the shared
//! [`HalveOnIncrease`] guard; the count is [`Step::halvings`]). A further increase after
//! [`Config::max_halvings`] halvings is reported as `Diverged` (quantity `train_loss`).
//! η must be small enough to follow gradient flow; [`Config::step`]'s default is checked by a
//! halving test (tests/all/gd.rs): halving η changes the final overlap little.
//!
//! # Observables and success
//! Each [`Step`] records t, the training loss, m = w·w*/d, |m| and the RMS Riemannian
//! gradient ‖g_⊥‖/√d. Because both w and w* lie on the sphere, |m| is the cosine between the
//! student and the teacher up to the global sign. **Success** is a final |m| ≥
//! [`SUCCESS_OVERLAP`] = 0.99.
//!
//! # Stopping
//! The iteration is a [`gardner_models::run::Step`] ([`Stepper`]) run by the shared
//! [`Driver`], with the stop rules, in this order: `Diverged` as soon as the training loss,
//! the gradient or the overlap is non-finite (naming it); `Converged` when the training loss
//! falls below [`Config::loss_tol`] (a zero-loss minimum: the data are noiseless) or the RMS
//! gradient below [`Config::grad_tol`] (a stationary point, possibly a spurious minimum:
//! convergence is not success); `MaxIterations` after [`Config::max_steps`].

use crate::error::Error;
use crate::{Init, Outcome, Trace};
use faer::{Mat, Par};
use gardner_models::data::{Dataset, matvec, matvec_t, teacher_data};
use gardner_models::rng::Rng;
use gardner_models::run::{Driver, Halvable, HalveOnIncrease, stop};
use gardner_models::{Abs, Gaussian, PhaseRetrieval, SampleLoss};
use rand::RngExt;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// Success threshold on the final |m| (the cosine to the teacher, both on the sphere).
pub const SUCCESS_OVERLAP: f64 = 0.99;

/// Teacher data of real phase retrieval with the teacher on the sphere ‖w*‖² = d.
///
/// Draws [`teacher_data`] with the Gaussian prior (ρ = 1) and the [`Abs`] channel, then
/// rescales w*, z and y by √d/‖w*‖ (w* uniform on the sphere, as in 2006.06997), so that
/// perfect recovery means |m| = 1 exactly.
pub fn spherical_teacher(d: usize, alpha: f64, rng: &mut Rng) -> Result<Dataset, Error> {
    let prior = Gaussian::new(1.0)?;
    let mut data = teacher_data(&prior, &Abs, d, alpha, rng)?;
    let norm2: f64 = data.w_star.iter().map(|v| v * v).sum();
    if !(norm2 > 0.0 && norm2.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "|w*|^2",
            value: norm2,
            bound: "> 0 and finite",
        });
    }
    let s = (d as f64 / norm2).sqrt();
    for v in data
        .w_star
        .iter_mut()
        .chain(data.z.iter_mut())
        .chain(data.y.iter_mut())
    {
        *v *= s;
    }
    Ok(data)
}

/// A phase-retrieval problem: inputs X (n × d), labels y (length n) and the teacher w*
/// (length d), used only to measure the overlap.
#[derive(Debug, Clone, Copy)]
pub struct Problem<'a> {
    x: &'a Mat<f64>,
    y: &'a [f64],
    w_star: &'a [f64],
}

impl<'a> Problem<'a> {
    /// Checks the shapes and that y and w* are finite.
    pub fn new(x: &'a Mat<f64>, y: &'a [f64], w_star: &'a [f64]) -> Result<Self, Error> {
        let (n, d) = (x.nrows(), x.ncols());
        if n == 0 || d == 0 {
            return Err(Error::Dimension(format!("X is {n} x {d}: needs n, d >= 1")));
        }
        if y.len() != n || w_star.len() != d {
            return Err(Error::Dimension(format!(
                "X is {n} x {d} but y has length {} and w* length {}",
                y.len(),
                w_star.len()
            )));
        }
        if let Some(v) = y.iter().chain(w_star).find(|v| !v.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "y or w*",
                value: *v,
                bound: "finite",
            });
        }
        Ok(Self { x, y, w_star })
    }
    /// The problem of a [`Dataset`] (use [`spherical_teacher`] so that |m| ≤ 1 is the cosine).
    pub fn from_dataset(data: &'a Dataset) -> Result<Self, Error> {
        Self::new(&data.x, &data.y, &data.w_star)
    }
    /// Number of samples n.
    pub fn n(&self) -> usize {
        self.x.nrows()
    }
    /// Dimension d.
    pub fn d(&self) -> usize {
        self.x.ncols()
    }
    /// Inputs X.
    pub fn x(&self) -> &'a Mat<f64> {
        self.x
    }
    /// Labels y.
    pub fn y(&self) -> &'a [f64] {
        self.y
    }
    /// Teacher w*.
    pub fn w_star(&self) -> &'a [f64] {
        self.w_star
    }
}

/// Tuning parameters (all have defaults; there is no physics parameter besides the data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Euler step η (physical time per step). Default 0.01: Euler is stable while
    /// η λ_max(Hessian) < 2 and λ_max ≈ max(max_μ (3h_μ² − y_μ²), 2α(1 + α^{-1/2})²) is
    /// ≈ 30–60 for α ≤ 10; halving η changes final overlaps little (tests/all/gd.rs).
    pub step: f64,
    /// Maximum number of steps (so the maximum time is `max_steps · step`).
    pub max_steps: usize,
    /// Stop (`Converged`) when train_loss = H/n falls below this.
    pub loss_tol: f64,
    /// Stop (`Converged`) when the RMS Riemannian gradient ‖g_⊥‖/√d falls below this.
    pub grad_tol: f64,
    /// Record observables every this many steps (the initial and final states are always recorded).
    pub record_every: usize,
    /// Threads for the two mat-vecs per step: 1 = sequential (use this when running trials in
    /// parallel), k > 1 = faer on k rayon threads.
    pub threads: usize,
    /// Halve η whenever the training loss increases from one step to the next (default true).
    pub halve_on_increase: bool,
    /// Maximum number of halvings before the run is reported as `Diverged` (default 20).
    pub max_halvings: u32,
    /// w(0): a random point on the sphere drawn from the run's stream ([`random_start`]), or a
    /// given vector, projected onto the sphere (not part of a serialised config).
    #[serde(skip)]
    pub init: Init<Vec<f64>>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            step: 0.01,
            max_steps: 200_000,
            loss_tol: 1e-12,
            grad_tol: 1e-7,
            record_every: 100,
            threads: 1,
            halve_on_increase: true,
            max_halvings: 20,
            init: Init::Random,
        }
    }
}

impl Config {
    /// Validates the tuning parameters.
    pub fn validate(&self) -> Result<(), Error> {
        if !(self.step.is_finite() && self.step > 0.0) {
            return Err(Error::InvalidParameter {
                name: "step",
                value: self.step,
                bound: "> 0 and finite",
            });
        }
        if self.max_steps == 0 {
            return Err(Error::InvalidParameter {
                name: "max_steps",
                value: 0.0,
                bound: ">= 1",
            });
        }
        if !(self.loss_tol.is_finite() && self.loss_tol >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "loss_tol",
                value: self.loss_tol,
                bound: ">= 0 and finite",
            });
        }
        if !(self.grad_tol.is_finite() && self.grad_tol >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "grad_tol",
                value: self.grad_tol,
                bound: ">= 0 and finite",
            });
        }
        if self.record_every == 0 {
            return Err(Error::InvalidParameter {
                name: "record_every",
                value: 0.0,
                bound: ">= 1",
            });
        }
        if self.threads == 0 {
            return Err(Error::InvalidParameter {
                name: "threads",
                value: 0.0,
                bound: ">= 1",
            });
        }
        Ok(())
    }
    pub(crate) fn par(&self) -> Par {
        crate::par(self.threads)
    }
}

/// Observables of one recorded step (the state w_k before the k-th update).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Step index k.
    pub iteration: usize,
    /// Physical time t = Σ η over the steps taken.
    pub time: f64,
    /// train_loss = H/n = (1/4n) Σ_μ (y_μ² − h_μ²)².
    pub train_loss: f64,
    /// m = w·w*/d (signed).
    pub overlap: f64,
    /// |m|, the quantity success is judged on.
    pub overlap_abs: f64,
    /// RMS Riemannian gradient ‖∇H − (∇H·w/d) w‖/√d.
    pub grad_norm: f64,
    /// Step halvings so far (loss increases, see the module docs).
    pub halvings: u32,
}

/// True when the run ended with |m| ≥ [`SUCCESS_OVERLAP`].
pub fn succeeded(trace: &Trace<Step>) -> bool {
    trace
        .last()
        .is_some_and(|s| s.overlap_abs >= SUCCESS_OVERLAP)
}

/// H(w) = ¼ Σ_μ (y_μ² − (X_μ·w)²)² and its Euclidean (unconstrained) gradient written into
/// `grad` (length d). Allocates two length-n buffers; the loop in [`run`] does not.
pub fn loss_and_gradient(problem: &Problem, w: &[f64], grad: &mut [f64]) -> Result<f64, Error> {
    let (n, d) = (problem.n(), problem.d());
    if w.len() != d || grad.len() != d {
        return Err(Error::Dimension(format!(
            "w, grad have lengths {}, {} but d = {d}",
            w.len(),
            grad.len()
        )));
    }
    let mut h = vec![0.0; n];
    let mut u = vec![0.0; n];
    Ok(loss_grad_into(problem, w, &mut h, &mut u, grad, Par::Seq))
}

/// Fills h = Xw, u = ℓ'(y, h) = h(h² − y²), grad = Xᵀu and returns H = Σ ℓ(y, h) with
/// ℓ = [`PhaseRetrieval`] = (h² − y²)²/4.
#[inline]
fn loss_grad_into(
    problem: &Problem,
    w: &[f64],
    h: &mut [f64],
    u: &mut [f64],
    grad: &mut [f64],
    par: Par,
) -> f64 {
    matvec(problem.x, w, h, par);
    let mut loss = 0.0;
    for ((&hi, &yi), ui) in h.iter().zip(problem.y).zip(u.iter_mut()) {
        loss += PhaseRetrieval.value(yi, hi);
        *ui = PhaseRetrieval.derivative(yi, hi);
    }
    matvec_t(problem.x, u, grad, par);
    loss
}

/// Random start w(0) ~ N(0, I_d) rescaled to ‖w‖² = d.
pub fn random_start(d: usize, rng: &mut Rng) -> Vec<f64> {
    let mut w: Vec<f64> = (0..d)
        .map(|_| rng.sample::<f64, _>(StandardNormal))
        .collect();
    project_to_sphere(&mut w);
    w
}

/// w ← √d w/‖w‖ (no-op on the zero vector, which has no direction).
pub fn project_to_sphere(w: &mut [f64]) {
    let norm2: f64 = w.iter().map(|v| v * v).sum();
    if norm2 > 0.0 {
        let s = (w.len() as f64 / norm2).sqrt();
        w.iter_mut().for_each(|v| *v *= s);
    }
}

/// The GD iteration with its buffers: a [`gardner_models::run::Step`] (observe =
/// [`Stepper::evaluate`], advance = Euler step and retraction) and [`Halvable`]. [`run`]
/// drives it with the [`Driver`]; callers may drive it themselves (the benchmark, custom
/// stopping rules). Neither method allocates.
#[derive(Debug, Clone)]
pub struct Stepper<'a> {
    problem: Problem<'a>,
    eta: f64,
    time: f64,
    halvings: u32,
    par: Par,
    w: Vec<f64>,
    h: Vec<f64>,
    u: Vec<f64>,
    g: Vec<f64>,
    k: usize,
}

impl<'a> Stepper<'a> {
    /// Starts at `w0` projected onto the sphere; checks shapes and the config.
    pub fn new(problem: Problem<'a>, config: &Config, mut w0: Vec<f64>) -> Result<Self, Error> {
        config.validate()?;
        let (n, d) = (problem.n(), problem.d());
        if w0.len() != d {
            return Err(Error::Dimension(format!(
                "w0 has length {} but d = {d}",
                w0.len()
            )));
        }
        if let Some(v) = w0.iter().find(|v| !v.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "w0",
                value: *v,
                bound: "finite",
            });
        }
        project_to_sphere(&mut w0);
        if w0.iter().all(|&v| v == 0.0) {
            return Err(Error::InvalidParameter {
                name: "|w0|",
                value: 0.0,
                bound: "> 0",
            });
        }
        Ok(Self {
            problem,
            eta: config.step,
            time: 0.0,
            halvings: 0,
            par: config.par(),
            w: w0,
            h: vec![0.0; n],
            u: vec![0.0; n],
            g: vec![0.0; d],
            k: 0,
        })
    }

    /// Loss, Riemannian gradient (kept for `advance`) and overlap at the current
    /// w: two mat-vecs (X w and Xᵀ u) and O(n + d) work.
    pub fn evaluate(&mut self) -> Step {
        let (dn, nn) = (self.problem.d() as f64, self.problem.n() as f64);
        let loss = loss_grad_into(
            &self.problem,
            &self.w,
            &mut self.h,
            &mut self.u,
            &mut self.g,
            self.par,
        ) / nn;
        // Riemannian gradient g_⊥ = g − (g·w/d) w, and the overlap.
        let (mut gw, mut m) = (0.0, 0.0);
        for ((&gi, &wi), &si) in self.g.iter().zip(&self.w).zip(self.problem.w_star) {
            gw += gi * wi;
            m += wi * si;
        }
        let c = gw / dn;
        let mut gn2 = 0.0;
        for (gi, &wi) in self.g.iter_mut().zip(&self.w) {
            *gi -= c * wi;
            gn2 += *gi * *gi;
        }
        m /= dn;
        Step {
            iteration: self.k,
            time: self.time,
            train_loss: loss,
            overlap: m,
            overlap_abs: m.abs(),
            grad_norm: (gn2 / dn).sqrt(),
            halvings: self.halvings,
        }
    }

    /// Current iterate.
    pub fn w(&self) -> &[f64] {
        &self.w
    }
    /// Current step size η.
    pub fn step_size(&self) -> f64 {
        self.eta
    }
    /// Steps taken.
    pub fn iteration(&self) -> usize {
        self.k
    }
    /// The final iterate.
    pub fn into_w(self) -> Vec<f64> {
        self.w
    }
}

impl gardner_models::run::Step for Stepper<'_> {
    type Obs = Step;
    type Error = Error;
    /// [`Stepper::evaluate`]: loss, Riemannian gradient (kept for `advance`) and overlap.
    fn observe(&mut self) -> Result<Step, Error> {
        Ok(self.evaluate())
    }
    /// Euler step along −g_⊥ (from the last observation) and retraction onto the sphere.
    /// ‖w − η g_⊥‖² = d + η²‖g_⊥‖² ≥ d since g_⊥ ⊥ w, so the retraction is defined unless the
    /// iterate is non-finite; then w is left non-finite and the next observation reports it
    /// (the divergence rule names `train_loss`).
    fn advance(&mut self) -> Result<(), Error> {
        let mut norm2 = 0.0;
        for (wi, &gi) in self.w.iter_mut().zip(&self.g) {
            *wi -= self.eta * gi;
            norm2 += *wi * *wi;
        }
        self.k += 1;
        self.time += self.eta;
        if norm2.is_finite() && norm2 > 0.0 {
            let s = (self.w.len() as f64 / norm2).sqrt();
            self.w.iter_mut().for_each(|v| *v *= s);
        }
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

/// Spherical GD from [`Config::init`]: by default a random start w(0) ~ N(0, I) projected on
/// the sphere, drawn from `rng`; a given w(0) is projected onto the sphere first. Returns the
/// trace and the final w.
pub fn run(problem: &Problem, config: &Config, rng: &mut Rng) -> Result<Outcome<Step>, Error> {
    let w0 = match &config.init {
        Init::Random => random_start(problem.d(), rng),
        Init::At(w0) => w0.clone(),
    };
    let mut st = Stepper::new(*problem, config, w0)?;
    let mut driver = Driver::new()
        .stop(stop::divergence(
            "train_loss",
            |s: &Step| s.train_loss,
            f64::INFINITY,
        ))
        .stop(stop::divergence(
            "grad_norm",
            |s: &Step| s.grad_norm,
            f64::INFINITY,
        ))
        .stop(stop::divergence(
            "overlap",
            |s: &Step| s.overlap,
            f64::INFINITY,
        ))
        .stop(stop::named(
            "zero_loss",
            stop::tolerance(|s: &Step| s.train_loss, config.loss_tol),
        ))
        .stop(stop::named(
            "stationary",
            stop::tolerance(|s: &Step| s.grad_norm, config.grad_tol),
        ))
        .stop(stop::max_iterations(config.max_steps))
        .record_every(config.record_every);
    if config.halve_on_increase {
        driver = driver.guard(HalveOnIncrease::new(
            "train_loss",
            |s: &Step| s.train_loss,
            config.max_halvings as usize,
        ));
    }
    let trace = driver.run(&mut st)?;
    Ok(Outcome {
        trace,
        w: st.into_w(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gardner_models::rng::stream;

    #[test]
    fn teacher_on_sphere_and_labels_consistent() {
        let data = spherical_teacher(64, 3.0, &mut stream(1, 0)).unwrap();
        let n2: f64 = data.w_star.iter().map(|v| v * v).sum();
        assert!((n2 - 64.0).abs() < 1e-10, "{n2}");
        let mut z = vec![0.0; data.n()];
        matvec(&data.x, &data.w_star, &mut z, Par::Seq);
        for ((zi, yi), zd) in z.iter().zip(&data.y).zip(&data.z) {
            assert!((zi.abs() - yi).abs() < 1e-12 && (zi - zd).abs() < 1e-12);
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let data = spherical_teacher(30, 4.0, &mut stream(2, 0)).unwrap();
        let p = Problem::from_dataset(&data).unwrap();
        let w = random_start(30, &mut stream(2, 1));
        let mut g = vec![0.0; 30];
        loss_and_gradient(&p, &w, &mut g).unwrap();
        let mut scratch = vec![0.0; 30];
        let eps = 1e-5;
        for i in 0..30 {
            let (mut wp, mut wm) = (w.clone(), w.clone());
            wp[i] += eps;
            wm[i] -= eps;
            let fd = (loss_and_gradient(&p, &wp, &mut scratch).unwrap()
                - loss_and_gradient(&p, &wm, &mut scratch).unwrap())
                / (2.0 * eps);
            assert!(
                (fd - g[i]).abs() <= 1e-6 * (1.0 + g[i].abs()),
                "i = {i}: fd {fd} vs {}",
                g[i]
            );
        }
    }

    #[test]
    fn zero_loss_at_teacher_and_invalid_config() {
        let data = spherical_teacher(20, 3.0, &mut stream(3, 0)).unwrap();
        let p = Problem::from_dataset(&data).unwrap();
        let mut g = vec![0.0; 20];
        let l = loss_and_gradient(&p, &data.w_star, &mut g).unwrap();
        assert!(l < 1e-24 && g.iter().all(|v| v.abs() < 1e-12), "{l}");
        let bad = Config {
            step: -1.0,
            ..Config::default()
        };
        let e = run(&p, &bad, &mut stream(3, 1)).unwrap_err().to_string();
        assert!(e.contains("step") && e.contains("-1"), "{e}");
        assert!(Problem::new(&data.x, &data.y[1..], &data.w_star).is_err());
    }
}
