//! Generalised approximate message passing (GAMP) for the generalised linear model.
//!
//! The algorithm of the slide "Approximate message passing" (Rangan 2010), generic over any
//! [`Prior`] and [`Channel`] of `gardner-models`, in the **uniform-variance form** for an
//! i.i.d. design with X_{μi} ~ N(0, 1/d). There Σ_i X²_{μi} v_i ≈ (1/d) Σ_i v_i and
//! Σ_μ X²_{μi} ∂_ω g_μ ≈ (1/d) Σ_μ ∂_ω g_μ, so every variance is a scalar and an iteration costs
//! exactly two matrix–vector products (X a and Xᵀ g) plus O(n + d) elementwise work:
//!
//! ```text
//!   V      = (1/d) Σ_i v_i                                  (= mean of v)
//!   ω_μ    = (X a)_μ − V g_μ^{old}                           (Onsager correction)
//!   g_μ, ∂g_μ = g_out(y_μ, ω_μ, V), ∂_ω g_out(y_μ, ω_μ, V)
//!   A = 1/Σ = −(1/d) Σ_μ ∂g_μ                                (= −α · mean of ∂g)
//!   B = R/Σ = A a + Xᵀ g                                     (R = a + Σ Xᵀ g)
//!   a_i, v_i = f_a(A, B_i), f_v(A, B_i)                      (Prior::moments in natural form)
//! ```
//!
//! The prior's natural parameters are A = 1/Σ and B = R/Σ (see `gardner_models::prior`), which
//! stay finite when Σ → ∞ (no information yet, A = 0). A is clipped at 0: a negative precision
//! has no meaning and can only occur away from the Nishimori line, e.g. in the first iterations
//! of phase retrieval, where (1/d) Σ_μ ∂g fluctuates around 0.
//!
//! **Damping** β ∈ [0, 1) keeps a fraction β of the old g, A, a and v. The Onsager and
//! self-reaction terms are damped with the same β (T = (1−β) V g_old + β T_old in ω = X a − T,
//! S = (1−β) A a + β S_old in B = S + Xᵀ g), so that they cancel exactly the reactions
//! contained in the damped X a and Xᵀ g; a plain damping of (a, v, g) alone does not, and was
//! seen to oscillate. The fixed points do not depend on β; β = 0 is the algorithm of the slide.
//! Undamped GAMP oscillates with period 2 on phase retrieval just below α_AMP (d = 2000,
//! α = 1, 1.1), hence the default β = 0.3.
//!
//! **Run loop**: [`run`] drives the iteration with the shared [`Driver`]: observation t is
//! the state after t iterations (t = 0 is the random start, whose `change` is +∞: there is no
//! previous iterate). Stop rules, in order: **divergence**, any non-finite m, q, variance or
//! change (after t ≥ 1), or q > 10¹² ρ, ends the run with [`Termination::Diverged`] naming
//! the quantity; **convergence**, the mean squared change of the estimate
//! ‖a_t − a_{t−1}‖² / (d ρ) falls below `tol`; then the iteration cap `max_iter`. **Exact recovery** (noiseless channel, discrete prior): V falls
//! super-exponentially, and once √V is far below every margin |ω_μ| the channel returns
//! g_out = 0 for every sample, A collapses and the next update would reset a to the prior
//! mean (at finite n the exact-recovery point is only reached in the limit V → 0). When
//! V < 10⁻³ ρ and the fresh A drops by a factor 10⁶ in one iteration, or V ≤ `min_variance`·ρ,
//! the estimate is declared final: the step returns change 0 and the run `Converged`.
//!
//! **Initialisation**: a_i = E w + √(ε ρ) ξ_i with ξ_i ~ N(0, 1) from the caller's stream
//! (ε = `init_variance`), v_i = Var w = ρ − (E w)², g = 0. The random part matters for channels
//! that are even in z (phase retrieval): a = 0 is then an exact fixed point and GAMP has to be
//! started from a random, uninformative point (its overlap with w* is O(1/√d)).
//!
//! **Observables** (per iteration, [`GampStep`]): m = a·w*/d, q = a·a/d, mse = ‖a − w*‖²/d,
//! the classification (test) error of sign(x·a) against sign(x·w*) on a fresh Gaussian input,
//! which is exactly the angle arccos(a·w*/(‖a‖ ‖w*‖))/π of the instance
//! ([`class_error`] with the instance's own ‖w*‖²/d in place of ρ; ½ for a = 0), and the
//! change. When the model is invariant under w → −w (a prior of
//! mean zero with an even log-partition, and a channel even in z such as |z|), the global sign
//! cannot be learnt: m is reported as |m| and the MSE as the minimum over ±a.
//!
//! **Memory traffic**: by default (`fused = true`) Xᵀ g and the next X a are computed in a single
//! sweep over the columns of X: column i gives (Xᵀ g)_i, hence the new a_i (the prior step is
//! elementwise), and is added into X a_new while still in cache. An iteration then reads X from
//! memory once instead of twice. `fused = false` uses two faer mat-vecs.
//!
//! **Parallelism**: sequential by default (`threads = 1`), because sweeps parallelise over
//! seeds (one GAMP per core is the better use of the per-core memory bandwidth); `threads ≥ 2`
//! runs the two products as faer mat-vecs with `Par::rayon(threads)` for a single large
//! instance.

use crate::error::Error;
use crate::kernels::{axpy, axpy4, dot, dot4};
use crate::{Outcome, Termination};
use faer::linalg::matmul::matmul;
use faer::{Accum, ColMut, ColRef, MatRef, Par};
use gardner_models::data::Dataset;
use gardner_models::rng::Rng;
use gardner_models::run::{Driver, stop};
use gardner_models::{Channel, Prior, class_error};
use rand::RngExt;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// Exact-recovery guard: when V < RESOLUTION_VARIANCE · ρ and the fresh precision A drops
/// below RESOLUTION_DROP times its previous value, [`Gamp::step`] stops (see its comments).
pub const RESOLUTION_VARIANCE: f64 = 1e-3;
/// See [`RESOLUTION_VARIANCE`].
pub const RESOLUTION_DROP: f64 = 1e-6;

/// Tuning parameters of GAMP (all have defaults; unknown keys are rejected).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Damping β ∈ [0, 1): fraction of the old g_out and (a, v) kept at each iteration.
    pub damping: f64,
    /// Convergence when ‖a_t − a_{t−1}‖²/(d ρ) < tol (tol > 0).
    pub tol: f64,
    /// Iteration budget (≥ 1); reaching it is `Termination::MaxIterations`.
    pub max_iter: usize,
    /// Variance of the random start in units of ρ: a_i = E w + √(ε ρ) ξ_i (ε ≥ 0).
    pub init_variance: f64,
    /// Threads of the two mat-vecs (≥ 1; 1 = `Par::Seq`).
    pub threads: usize,
    /// Exact recovery: once the mean posterior variance V ≤ min_variance · ρ the estimate is
    /// final ([`Gamp::step`] returns change 0, hence `Converged`). In [0, 1); the default 0
    /// stops only when every variance is exactly 0.
    pub min_variance: f64,
    /// Compute Xᵀ g and the next X a in one sweep over X (column i gives (Xᵀ g)_i, hence the
    /// new a_i, and is added into X a while in cache): half the memory traffic of two
    /// mat-vecs, identical arithmetic up to rounding. Sequential; with `threads > 1` (or
    /// `fused = false`) the two products are faer mat-vecs.
    pub fused: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            damping: 0.3,
            tol: 1e-10,
            max_iter: 1000,
            init_variance: 1e-4,
            threads: 1,
            min_variance: 0.0,
            fused: true,
        }
    }
}

impl Config {
    /// Check every field; the error names the field, its value and the bound.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |name, value, bound| Err(Error::InvalidParameter { name, value, bound });
        if !(self.damping >= 0.0 && self.damping < 1.0) {
            return bad("damping", self.damping, "in [0, 1)");
        }
        if !(self.tol > 0.0 && self.tol.is_finite()) {
            return bad("tol", self.tol, "> 0 and finite");
        }
        if self.max_iter == 0 {
            return bad("max_iter", 0.0, ">= 1");
        }
        if !(self.init_variance >= 0.0 && self.init_variance.is_finite()) {
            return bad("init_variance", self.init_variance, ">= 0 and finite");
        }
        if self.threads == 0 {
            return bad("threads", 0.0, ">= 1");
        }
        if !(self.min_variance >= 0.0 && self.min_variance < 1.0) {
            return bad("min_variance", self.min_variance, "in [0, 1)");
        }
        Ok(())
    }

    /// The faer parallelism of the mat-vecs.
    pub fn par(&self) -> Par {
        crate::par(self.threads)
    }
}

/// Observables after one GAMP iteration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GampStep {
    /// Iterations done (0: the random start).
    pub iteration: usize,
    /// Overlap m = a·w*/d (|m| for sign-invariant models).
    pub m: f64,
    /// Self-overlap q = a·a/d.
    pub q: f64,
    /// ‖a − w*‖²/d (minimum over ±a for sign-invariant models).
    pub mse: f64,
    /// Probability that sign(x·a) ≠ sign(x·w*) for a fresh Gaussian x: the angle between a and
    /// w*, arccos(a·w*/(‖a‖ ‖w*‖))/π (→ arccos(m/√(ρ q))/π as d → ∞). For sign-invariant
    /// models it uses |a·w*| and is not a meaningful error of the task (it is ≤ 1/2 always).
    pub test_error: f64,
    /// Mean posterior variance V = (1/d) Σ v_i (≈ ρ − q on the Nishimori line).
    pub variance: f64,
    /// ‖a_t − a_{t−1}‖²/(d ρ) (+∞ at the start, t = 0).
    pub change: f64,
}

/// The GAMP iteration state on one instance (x, y): buffers are allocated once in [`Gamp::new`],
/// [`Gamp::step`] does not allocate.
#[derive(Debug)]
pub struct Gamp<'a, P: Prior, C: Channel> {
    x: MatRef<'a, f64>,
    y: &'a [f64],
    prior: &'a P,
    channel: &'a C,
    damping: f64,
    min_variance: f64,
    par: Par,
    rho: f64,
    /// Posterior means a (length d).
    a: Vec<f64>,
    /// Posterior variances v (length d).
    v: Vec<f64>,
    /// (Damped) g_out of the last iteration (length n).
    g: Vec<f64>,
    /// Onsager term subtracted from X a (length n); V g_old without damping.
    onsager: Vec<f64>,
    /// Self-reaction term A a added to Xᵀ g in B (length d); A a without damping.
    reaction: Vec<f64>,
    /// X a for the current a (length n).
    xa: Vec<f64>,
    /// Scratch for X a^{new} in the fused sweep (length n).
    xa_next: Vec<f64>,
    /// One sweep over X per iteration (see [`Config::fused`]).
    fused: bool,
    /// Xᵀ g (length d).
    xtg: Vec<f64>,
    /// Mean of the undamped f_v of the last prior step.
    var_new: f64,
    /// (Damped) precision A = 1/Σ of the last iteration.
    precision: f64,
    /// Undamped precision of the last iteration.
    fresh_precision: f64,
    /// Set once the estimate is final (exact recovery); later steps do nothing.
    frozen: bool,
    iteration: usize,
}

impl<'a, P: Prior, C: Channel> Gamp<'a, P, C> {
    /// Prepare GAMP on inputs `x` (n × d) and labels `y` (length n), drawing the random start
    /// from `rng`. Errors on invalid config, mismatched dimensions or non-finite labels.
    pub fn new(
        x: MatRef<'a, f64>,
        y: &'a [f64],
        prior: &'a P,
        channel: &'a C,
        config: &Config,
        rng: &mut Rng,
    ) -> Result<Self, Error> {
        config.validate()?;
        let (n, d) = (x.nrows(), x.ncols());
        if n == 0 || d == 0 {
            return Err(Error::Dimension(format!(
                "x is {n} x {d}: needs n >= 1 and d >= 1"
            )));
        }
        if y.len() != n {
            return Err(Error::Dimension(format!(
                "y has length {} but x has {n} rows",
                y.len()
            )));
        }
        if let Some(k) = y.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "y",
                value: y[k],
                bound: "finite (every label)",
            });
        }
        let rho = prior.rho();
        let mean = prior.mean();
        let var0 = (rho - mean * mean).max(0.0);
        let s = (config.init_variance * rho).sqrt();
        let a = (0..d)
            .map(|_| mean + s * rng.sample::<f64, _>(StandardNormal))
            .collect();
        let mut gamp = Self {
            x,
            y,
            prior,
            channel,
            damping: config.damping,
            min_variance: config.min_variance,
            par: config.par(),
            rho,
            a,
            v: vec![var0; d],
            g: vec![0.0; n],
            onsager: vec![0.0; n],
            reaction: vec![0.0; d],
            xa: vec![0.0; n],
            xa_next: vec![0.0; n],
            fused: config.fused && config.threads <= 1,
            xtg: vec![0.0; d],
            var_new: var0,
            precision: 0.0,
            fresh_precision: 0.0,
            frozen: false,
            iteration: 0,
        };
        matmul(
            ColMut::from_slice_mut(&mut gamp.xa),
            Accum::Replace,
            x,
            ColRef::from_slice(&gamp.a),
            1.0,
            gamp.par,
        );
        Ok(gamp)
    }

    /// One GAMP iteration. Returns the change ‖a_t − a_{t−1}‖²/(d ρ); a non-finite return value
    /// means the iteration produced a non-finite number (divergence).
    pub fn step(&mut self) -> f64 {
        let (n, d) = (self.x.nrows(), self.x.ncols());
        let (beta, keep) = (self.damping, 1.0 - self.damping);
        let inv_d = 1.0 / d as f64;

        // V = Σ_i X²_{μi} v_i ≈ mean(v).
        let var = self.v.iter().sum::<f64>() * inv_d;
        if self.frozen || var <= self.min_variance * self.rho {
            // Every posterior variance has collapsed (exact recovery): the estimate is final.
            self.frozen = true;
            self.iteration += 1;
            return 0.0;
        }
        // Channel step, fused: Onsager term T = (1−β) V_new g_old + β T_old, ω = X a − T
        // (X a is up to date: computed in `new` or at the end of the previous step),
        // g (damped, in place), Σ_μ ∂g.
        let mut sum_dg = 0.0;
        for mu in 0..n {
            let t = keep * self.var_new * self.g[mu] + beta * self.onsager[mu];
            self.onsager[mu] = t;
            let (g, dg) = self.channel.g_out(self.y[mu], self.xa[mu] - t, var);
            self.g[mu] = keep * g + beta * self.g[mu];
            sum_dg += dg;
        }
        // A = 1/Σ = −Σ_μ X²_{μi} ∂g ≈ −(1/d) Σ_μ ∂g, clipped at 0, then damped.
        let fresh = (-sum_dg * inv_d).max(0.0);
        if var < RESOLUTION_VARIANCE * self.rho && fresh < RESOLUTION_DROP * self.fresh_precision {
            // Loss of resolution at exact recovery (noiseless channel): √V is far below every
            // margin |ω_μ|, g_out vanishes for every sample and A collapses; updating would
            // reset a to the prior mean. The current estimate is final (a and v untouched).
            self.frozen = true;
            self.iteration += 1;
            return 0.0;
        }
        self.fresh_precision = fresh;
        let precision = keep * fresh + beta * self.precision;
        self.precision = precision;

        // Prior step: reaction S = (1−β) A a + β S_old, B = S + Xᵀ g, (a, v) = (f_a, f_v)(A, B),
        // damped; then X a for the next iteration.
        let (mut change, mut sum_fv) = (0.0, 0.0);
        let mut prior_update = |i: usize, xtg: f64, a: &mut [f64]| -> f64 {
            let s = keep * fresh * a[i] + beta * self.reaction[i];
            self.reaction[i] = s;
            let (fa, fv) = self.prior.moments(precision, s + xtg);
            let a_new = keep * fa + beta * a[i];
            let diff = a_new - a[i];
            change += diff * diff;
            sum_fv += fv;
            a[i] = a_new;
            self.v[i] = keep * fv + beta * self.v[i];
            a_new
        };
        if self.fused {
            // One sweep over X: column i gives (Xᵀ g)_i, hence a_i^{new}, and is added into
            // X a^{new} while it is still in cache. Same arithmetic as two mat-vecs, half the
            // memory traffic.
            // Columns go in blocks of 4: four concurrent read streams keep more cache misses in
            // flight, g is loaded once per block, and X a^{new} is updated once per block.
            self.xa_next.fill(0.0);
            let x = self.x;
            let col = |i: usize| {
                x.col(i)
                    .try_as_col_major()
                    .expect("column-major X")
                    .as_slice()
            };
            let mut i = 0;
            while i + 4 <= d {
                let cols = [col(i), col(i + 1), col(i + 2), col(i + 3)];
                let dots = dot4(cols, &self.g);
                let mut a_new = [0.0; 4];
                for k in 0..4 {
                    a_new[k] = prior_update(i + k, dots[k], &mut self.a);
                }
                axpy4(&mut self.xa_next, a_new, cols);
                i += 4;
            }
            for i in i..d {
                let c = col(i);
                let a_new = prior_update(i, dot(c, &self.g), &mut self.a);
                axpy(&mut self.xa_next, a_new, c);
            }
            std::mem::swap(&mut self.xa, &mut self.xa_next);
        } else {
            matmul(
                ColMut::from_slice_mut(&mut self.xtg),
                Accum::Replace,
                self.x.transpose(),
                ColRef::from_slice(&self.g),
                1.0,
                self.par,
            );
            for i in 0..d {
                prior_update(i, self.xtg[i], &mut self.a);
            }
            matmul(
                ColMut::from_slice_mut(&mut self.xa),
                Accum::Replace,
                self.x,
                ColRef::from_slice(&self.a),
                1.0,
                self.par,
            );
        }
        self.var_new = sum_fv * inv_d;
        self.iteration += 1;
        let change = change * inv_d / self.rho;
        if sum_dg.is_finite() && var.is_finite() && sum_fv.is_finite() {
            change
        } else {
            f64::NAN
        }
    }

    /// Current posterior means a (the estimate of w*).
    pub fn estimate(&self) -> &[f64] {
        &self.a
    }
    /// Current posterior variances v.
    pub fn variances(&self) -> &[f64] {
        &self.v
    }
    /// Current g_out (damped), length n.
    pub fn g_out(&self) -> &[f64] {
        &self.g
    }
    /// Precision A = 1/Σ of the last iteration (0 before the first).
    pub fn precision(&self) -> f64 {
        self.precision
    }
    /// Number of iterations done.
    pub fn iteration(&self) -> usize {
        self.iteration
    }
}

/// Overlaps of an estimate `a` with the teacher `w_star` (see [`GampStep`] for the definitions);
/// `sign_invariant` reports |m| and the MSE minimised over ±a. Returns (m, q, mse, test_error).
pub fn overlaps(a: &[f64], w_star: &[f64], sign_invariant: bool) -> (f64, f64, f64, f64) {
    let d = a.len() as f64;
    let (mut aw, mut aa, mut ww) = (0.0, 0.0, 0.0);
    for (&ai, &wi) in a.iter().zip(w_star) {
        aw += ai * wi;
        aa += ai * ai;
        ww += wi * wi;
    }
    let (mut m, q) = (aw / d, aa / d);
    if sign_invariant {
        m = m.abs();
    }
    let mse = ((aa + ww - 2.0 * if sign_invariant { aw.abs() } else { aw }) / d).max(0.0);
    (m, q, mse, class_error(m, q, ww / d))
}

/// Whether the model is invariant under w → −w, probed on the scalar functions: the prior has
/// mean 0 and ln Z_w(A, B) = ln Z_w(A, −B), and ln Z_out(y, ω, V) = ln Z_out(y, −ω, V) for labels
/// drawn from the channel (e.g. y = |z|). Then the global sign of w* cannot be learnt.
pub fn is_sign_invariant(prior: &impl Prior, channel: &impl Channel) -> bool {
    let close = |u: f64, v: f64| (u - v).abs() <= 1e-12 * (1.0 + u.abs().max(v.abs()));
    if prior.mean() != 0.0 {
        return false;
    }
    if ![(0.5, 0.7), (2.0, -1.3), (0.1, 3.0)]
        .iter()
        .all(|&(a, b)| close(prior.log_z(a, b), prior.log_z(a, -b)))
    {
        return false;
    }
    // Deterministic probe labels: the channel's own outputs at a few pre-activations.
    let mut probe = gardner_models::rng::stream(0x5EED, 0);
    [0.37, -1.21, 2.3, -0.05].iter().all(|&z| {
        let y = channel.sample(z, &mut probe);
        [(0.4, 0.8), (-1.1, 0.3), (2.0, 1.5)]
            .iter()
            .all(|&(w, v)| close(channel.log_z(y, w, v), channel.log_z(y, -w, v)))
    })
}

/// A GAMP problem: inputs X (n × d), labels y, the teacher w* (for the observables only), the
/// prior and the channel.
#[derive(Debug, Clone, Copy)]
pub struct Problem<'a, P, C> {
    x: MatRef<'a, f64>,
    y: &'a [f64],
    w_star: &'a [f64],
    prior: &'a P,
    channel: &'a C,
}

impl<'a, P: Prior, C: Channel> Problem<'a, P, C> {
    /// GAMP on a teacher data set.
    pub fn new(data: &'a Dataset, prior: &'a P, channel: &'a C) -> Self {
        Self {
            x: data.x.as_ref(),
            y: &data.y,
            w_star: &data.w_star,
            prior,
            channel,
        }
    }
    /// GAMP on explicit inputs `x` (n × d), labels `y` and teacher `w_star` ([`run`] checks
    /// the shapes).
    pub fn from_parts(
        x: MatRef<'a, f64>,
        y: &'a [f64],
        w_star: &'a [f64],
        prior: &'a P,
        channel: &'a C,
    ) -> Self {
        Self {
            x,
            y,
            w_star,
            prior,
            channel,
        }
    }
}

/// Run GAMP until convergence, divergence or `max_iter`, recording the observables of every
/// iteration; the final estimate a. The random start is drawn from `rng`.
///
/// ```
/// use gardner_algorithms::gamp::{self, Config, Problem};
/// use gardner_models::{data::teacher_data, rng::stream, Gaussian, Linear};
/// let (prior, channel) = (Gaussian::new(1.0).unwrap(), Linear::new(0.1).unwrap());
/// let mut rng = stream(1, 0);
/// let data = teacher_data(&prior, &channel, 200, 2.0, &mut rng).unwrap();
/// let problem = Problem::new(&data, &prior, &channel);
/// let trace = gamp::run(&problem, &Config::default(), &mut rng).unwrap().trace;
/// assert_eq!(trace.termination.status(), "ok");
/// assert!(trace.last().unwrap().mse < 0.2);
/// ```
pub fn run<P: Prior, C: Channel>(
    problem: &Problem<'_, P, C>,
    config: &Config,
    rng: &mut Rng,
) -> Result<Outcome<GampStep>, Error> {
    let Problem {
        x,
        y,
        w_star,
        prior,
        channel,
    } = *problem;
    if w_star.len() != x.ncols() {
        return Err(Error::Dimension(format!(
            "w_star has length {} but x has {} columns",
            w_star.len(),
            x.ncols()
        )));
    }
    let gamp = Gamp::new(x, y, prior, channel, config, rng)?;
    let rho = prior.rho();
    let mut state = Observed {
        sign_invariant: is_sign_invariant(prior, channel),
        gamp,
        w_star,
        change: f64::INFINITY,
    };
    let trace = Driver::new()
        .stop(stop::divergence("m", |s: &GampStep| s.m, f64::INFINITY))
        .stop(stop::divergence("q", |s: &GampStep| s.q, 1e12 * rho))
        .stop(stop::divergence(
            "variance",
            |s: &GampStep| s.variance,
            f64::INFINITY,
        ))
        .stop(stop::named("divergence", |k: usize, s: &GampStep| {
            (k > 0 && !s.change.is_finite()).then(|| Termination::diverged(k, "change"))
        }))
        .stop(stop::tolerance(|s: &GampStep| s.change, config.tol))
        .stop(stop::max_iterations(config.max_iter))
        .run(&mut state)?;
    Ok(Outcome {
        trace,
        w: state.gamp.estimate().to_vec(),
    })
}

/// GAMP with the teacher, as a [`gardner_models::run::Step`]: observe the overlaps of the
/// current estimate, advance by one [`Gamp::step`].
struct Observed<'a, P: Prior, C: Channel> {
    gamp: Gamp<'a, P, C>,
    w_star: &'a [f64],
    sign_invariant: bool,
    /// Change of the last iteration (+∞ before the first).
    change: f64,
}

impl<P: Prior, C: Channel> gardner_models::run::Step for Observed<'_, P, C> {
    type Obs = GampStep;
    type Error = Error;
    fn observe(&mut self) -> Result<GampStep, Error> {
        let (m, q, mse, test_error) =
            overlaps(self.gamp.estimate(), self.w_star, self.sign_invariant);
        let variance = self.gamp.variances().iter().sum::<f64>() / self.w_star.len() as f64;
        Ok(GampStep {
            iteration: self.gamp.iteration(),
            m,
            q,
            mse,
            test_error,
            variance,
            change: self.change,
        })
    }
    fn advance(&mut self) -> Result<(), Error> {
        self.change = self.gamp.step();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Trace;

    /// [`run`] on a data set: the trace.
    fn run_data<P: Prior, C: Channel>(
        data: &Dataset,
        prior: &P,
        channel: &C,
        config: &Config,
        rng: &mut Rng,
    ) -> Result<Trace<GampStep>, Error> {
        run(&Problem::new(data, prior, channel), config, rng).map(|o| o.trace)
    }
    use gardner_models::data::teacher_data;
    use gardner_models::gauss::expect_normal;
    use gardner_models::rng::stream;
    use gardner_models::special::{h, inverse_mills_ratio};
    use gardner_models::{Abs, Gaussian, Linear, Probit, Rademacher};

    /// Closed-form Bayes-optimal fixed point of the linear channel with Gaussian prior:
    /// m̂ = α/(Δ + ρ − m), m = ρ² m̂/(1 + ρ m̂). Returns MMSE = ρ − m.
    fn linear_mmse(alpha: f64, rho: f64, delta: f64) -> f64 {
        let mut m = 0.0;
        for _ in 0..100_000 {
            let mh = alpha / (delta + rho - m);
            let new = rho * rho * mh / (1.0 + rho * mh);
            if (new - m).abs() < 1e-15 {
                m = new;
                break;
            }
            m = new;
        }
        rho - m
    }

    fn mean_stderr(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, (var / n).sqrt())
    }

    #[test]
    fn linear_gaussian_matches_closed_form_mmse() {
        for &(alpha, rho, delta) in &[
            (0.5, 1.0, 0.1),
            (1.5, 1.0, 0.5),
            (2.0, 2.0, 0.05),
            (0.8, 1.0, 0.0),
        ] {
            let (prior, channel) = (Gaussian::new(rho).unwrap(), Linear::new(delta).unwrap());
            let d = 2000;
            let mses: Vec<f64> = (0..6)
                .map(|s| {
                    let mut rng = stream(42, s);
                    let data = teacher_data(&prior, &channel, d, alpha, &mut rng).unwrap();
                    let tr =
                        run_data(&data, &prior, &channel, &Config::default(), &mut rng).unwrap();
                    assert_eq!(tr.termination, Termination::Converged, "alpha {alpha}");
                    let last = tr.last().unwrap();
                    // Nishimori on a single instance: q ≈ m.
                    assert!((last.q - last.m).abs() < 0.05 * rho, "{last:?}");
                    last.mse
                })
                .collect();
            let (mean, se) = mean_stderr(&mses);
            let theory = linear_mmse(alpha, rho, delta);
            let z = (mean - theory) / se;
            eprintln!(
                "linear alpha={alpha} rho={rho} delta={delta}: gamp {mean:.5} ± {se:.5}, theory {theory:.5}, z = {z:.2}"
            );
            assert!(z.abs() < 4.0, "GAMP {mean} ± {se} vs MMSE {theory}");
        }
    }

    /// Bayes-optimal state evolution of the spherical perceptron (Gaussian prior ρ = 1, sign
    /// channel): m̂ = α E_ξ Σ_y Z_out g_out², m = m̂/(1 + m̂); error arccos(√m)/π.
    fn perceptron_se_error(alpha: f64) -> f64 {
        let mut m: f64 = 0.01;
        for _ in 0..2000 {
            let v = 1.0 - m;
            let s = v.sqrt();
            let f = |xi: f64| {
                let w = m.sqrt() * xi;
                [1.0f64, -1.0]
                    .iter()
                    .map(|&y| h(-y * w / s) * (inverse_mills_ratio(-y * w / s) / s).powi(2))
                    .sum::<f64>()
            };
            let mh = alpha * expect_normal(f, 1e-11).unwrap();
            let new = mh / (1.0 + mh);
            if (new - m).abs() < 1e-13 {
                m = new;
                break;
            }
            m = 0.5 * m + 0.5 * new;
        }
        m.sqrt().acos() / std::f64::consts::PI
    }

    #[test]
    fn perceptron_sign_channel_matches_state_evolution() {
        let (prior, channel) = (Gaussian::new(1.0).unwrap(), Probit::sign());
        for &alpha in &[1.0, 3.0] {
            let errs: Vec<f64> = (0..6)
                .map(|s| {
                    let mut rng = stream(7, s);
                    let data = teacher_data(&prior, &channel, 2000, alpha, &mut rng).unwrap();
                    let tr =
                        run_data(&data, &prior, &channel, &Config::default(), &mut rng).unwrap();
                    assert_eq!(tr.termination, Termination::Converged);
                    tr.last().unwrap().test_error
                })
                .collect();
            let (mean, se) = mean_stderr(&errs);
            let theory = perceptron_se_error(alpha);
            let z = (mean - theory) / se;
            eprintln!(
                "perceptron alpha={alpha}: gamp {mean:.5} ± {se:.5}, SE {theory:.5}, z = {z:.2}"
            );
            assert!(z.abs() < 4.0, "GAMP {mean} ± {se} vs SE {theory}");
            assert!(mean < 0.5 && mean > 0.0);
        }
    }

    #[test]
    fn rademacher_perceptron_recovers_above_threshold() {
        // Binary perceptron: α_AMP ≈ 1.49, so at α = 2 and 3 GAMP recovers w* exactly; the
        // exact-recovery guard must stop it there (undamped, without the guard 4/30 of these
        // runs cycled between a = w* and a = 0).
        let (prior, channel) = (Rademacher, Probit::sign());
        for &(d, alpha) in &[(300, 2.0), (300, 3.0), (1000, 2.0)] {
            for s in 0..10 {
                let mut rng = stream(3, s);
                let data = teacher_data(&prior, &channel, d, alpha, &mut rng).unwrap();
                for damping in [0.0, 0.3] {
                    let cfg = Config {
                        damping,
                        ..Config::default()
                    };
                    let tr = run_data(&data, &prior, &channel, &cfg, &mut rng.clone()).unwrap();
                    let last = tr.last().unwrap();
                    assert_eq!(
                        tr.termination,
                        Termination::Converged,
                        "d {d} alpha {alpha} seed {s}: {last:?}"
                    );
                    assert!(last.mse < 1e-8, "{last:?}");
                }
            }
        }
    }

    #[test]
    fn overlaps_of_simple_estimates() {
        let w = [1.5, -0.5, 2.0, 0.1];
        let ww = w.iter().map(|x| x * x).sum::<f64>() / 4.0;
        let (m, q, mse, err) = overlaps(&w, &w, false);
        assert!((m - ww).abs() < 1e-15 && (q - ww).abs() < 1e-15 && mse == 0.0 && err == 0.0);
        let neg: Vec<f64> = w.iter().map(|x| -2.0 * x).collect();
        let (m, _, mse, err) = overlaps(&neg, &w, false);
        assert!(m < 0.0 && (mse - 9.0 * ww).abs() < 1e-12 && err == 1.0);
        let (m, _, mse, err) = overlaps(&neg, &w, true);
        assert!((m - 2.0 * ww).abs() < 1e-12 && (mse - ww).abs() < 1e-12 && err == 0.0);
        // orthogonal estimate: error 1/2
        let (_, _, _, err) = overlaps(&[1.0, 1.0, 0.0, 0.0], &[1.0, -1.0, 0.0, 0.0], false);
        assert!((err - 0.5).abs() < 1e-15);
    }

    #[test]
    fn fused_sweep_matches_two_matvecs() {
        let (prior, channel) = (Gaussian::new(1.0).unwrap(), Abs);
        let mut rng = stream(8, 0);
        let data = teacher_data(&prior, &channel, 400, 2.0, &mut rng).unwrap();
        let go = |fused, threads| {
            let cfg = Config {
                fused,
                threads,
                max_iter: 30,
                ..Config::default()
            };
            run_data(&data, &prior, &channel, &cfg, &mut rng.clone()).unwrap()
        };
        let (a, b, c) = (go(true, 1), go(false, 1), go(true, 2));
        assert_eq!(a.iterations, 30);
        for ((x, y), z) in a.steps.iter().zip(&b.steps).zip(&c.steps) {
            assert!(
                (x.m - y.m).abs() < 1e-9 && (x.q - y.q).abs() < 1e-9,
                "{x:?} vs {y:?}"
            );
            // threads > 1 takes the faer path (parallel sums: equal up to rounding)
            assert!(
                (y.m - z.m).abs() < 1e-12 && (y.q - z.q).abs() < 1e-12,
                "{y:?} vs {z:?}"
            );
        }
    }

    #[test]
    fn damping_keeps_the_fixed_point() {
        let (prior, channel) = (Gaussian::new(1.0).unwrap(), Probit::sign());
        let mut rng = stream(4, 0);
        let data = teacher_data(&prior, &channel, 500, 2.0, &mut rng).unwrap();
        let last = |damping| {
            let cfg = Config {
                damping,
                tol: 1e-14,
                ..Config::default()
            };
            let tr = run_data(&data, &prior, &channel, &cfg, &mut rng.clone()).unwrap();
            assert_eq!(tr.termination, Termination::Converged);
            (*tr.last().unwrap(), tr.iterations)
        };
        let (a, na) = last(0.0);
        let (b, nb) = last(0.6);
        assert!(nb > na, "damping must slow down: {na} vs {nb}");
        assert!(
            (a.m - b.m).abs() < 1e-6 && (a.q - b.q).abs() < 1e-6,
            "{a:?} vs {b:?}"
        );
    }

    #[test]
    fn phase_retrieval_from_random_start() {
        let (prior, channel) = (Gaussian::new(1.0).unwrap(), Abs);
        assert!(is_sign_invariant(&prior, &channel));
        assert!(!is_sign_invariant(&prior, &Probit::sign()));
        assert!(!is_sign_invariant(&prior, &Linear::new(0.1).unwrap()));
        // Above α_AMP ≈ 1.13 GAMP recovers w* (up to sign) from a random start; well below
        // α = 1/2 (weak recovery) it stays uninformative; in between it converges (damped) to
        // the partially informative fixed point (undamped, it oscillates here).
        let mut rng = stream(11, 0);
        let data = teacher_data(&prior, &channel, 2000, 1.6, &mut rng).unwrap();
        let tr = run_data(&data, &prior, &channel, &Config::default(), &mut rng).unwrap();
        let last = tr.last().unwrap();
        eprintln!(
            "PR alpha=1.6: {:?} after {} its, {last:?}",
            tr.termination, tr.iterations
        );
        assert!(
            tr.steps[0].m < 0.05,
            "start must be uninformative: {:?}",
            tr.steps[0]
        );
        assert!(last.mse < 1e-3, "{last:?}");
        let mut rng = stream(11, 1);
        let data = teacher_data(&prior, &channel, 2000, 0.3, &mut rng).unwrap();
        let tr = run_data(&data, &prior, &channel, &Config::default(), &mut rng).unwrap();
        let last = tr.last().unwrap();
        eprintln!(
            "PR alpha=0.3: {:?} after {} its, {last:?}",
            tr.termination, tr.iterations
        );
        assert!(last.m < 0.1 && (last.mse - 1.0).abs() < 0.1, "{last:?}");
        let mut rng = stream(11, 2);
        let data = teacher_data(&prior, &channel, 2000, 1.0, &mut rng).unwrap();
        let tr = run_data(&data, &prior, &channel, &Config::default(), &mut rng).unwrap();
        let last = tr.last().unwrap();
        eprintln!(
            "PR alpha=1.0: {:?} after {} its, {last:?}",
            tr.termination, tr.iterations
        );
        assert_eq!(tr.termination, Termination::Converged);
        assert!(last.m > 0.3 && last.m < 0.8, "{last:?}");
    }

    #[test]
    fn same_seed_same_trace() {
        let (prior, channel) = (Gaussian::new(1.0).unwrap(), Abs);
        let go = || {
            let mut rng = stream(5, 3);
            let data = teacher_data(&prior, &channel, 300, 2.0, &mut rng).unwrap();
            let cfg = Config {
                damping: 0.2,
                ..Config::default()
            };
            run_data(&data, &prior, &channel, &cfg, &mut rng).unwrap()
        };
        let (a, b) = (go(), go());
        assert!(a.iterations > 3);
        assert_eq!(a, b);
        let bits = |t: &Trace<GampStep>| {
            t.steps
                .iter()
                .map(|s| (s.m.to_bits(), s.q.to_bits(), s.change.to_bits()))
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&a), bits(&b));
    }

    #[test]
    fn absurd_input_diverges() {
        let (prior, channel) = (Gaussian::new(1.0).unwrap(), Linear::new(0.0).unwrap());
        let mut rng = stream(9, 0);
        let mut data = teacher_data(&prior, &channel, 200, 2.0, &mut rng).unwrap();
        for y in &mut data.y {
            *y *= 1e300;
        }
        let tr = run_data(&data, &prior, &channel, &Config::default(), &mut rng).unwrap();
        assert!(
            matches!(tr.termination, Termination::Diverged { .. }),
            "{:?}",
            tr.termination
        );
        assert!(tr.termination.status().starts_with("failed: "));
        // Non-finite labels are an input error, not a divergence.
        data.y[3] = f64::NAN;
        let e = run_data(&data, &prior, &channel, &Config::default(), &mut rng)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`y`"), "{e}");
    }

    #[test]
    fn bad_config_names_the_field() {
        let (prior, channel) = (Gaussian::new(1.0).unwrap(), Linear::new(0.1).unwrap());
        let mut rng = stream(1, 0);
        let data = teacher_data(&prior, &channel, 20, 2.0, &mut rng).unwrap();
        let cases: [(Config, &str); 6] = [
            (
                Config {
                    damping: 1.0,
                    ..Config::default()
                },
                "damping",
            ),
            (
                Config {
                    damping: -0.1,
                    ..Config::default()
                },
                "damping",
            ),
            (
                Config {
                    tol: 0.0,
                    ..Config::default()
                },
                "tol",
            ),
            (
                Config {
                    max_iter: 0,
                    ..Config::default()
                },
                "max_iter",
            ),
            (
                Config {
                    init_variance: f64::NAN,
                    ..Config::default()
                },
                "init_variance",
            ),
            (
                Config {
                    threads: 0,
                    ..Config::default()
                },
                "threads",
            ),
        ];
        for (cfg, field) in cases {
            let e = run_data(&data, &prior, &channel, &cfg, &mut rng)
                .unwrap_err()
                .to_string();
            assert!(e.contains(&format!("`{field}`")), "{e}");
        }
        // serde: defaults fill missing keys, unknown keys are rejected by name.
        let c: Config = serde_json_like("damping", 0.5);
        assert_eq!(c.damping, 0.5);
        assert_eq!(c.max_iter, Config::default().max_iter);
    }

    /// Deserialize a one-key config through serde's value-free path (no format crate needed).
    fn serde_json_like(key: &str, value: f64) -> Config {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error as DeError, MapDeserializer};
        let map = MapDeserializer::<_, DeError>::new(std::iter::once((
            key.into_deserializer(),
            value.into_deserializer(),
        )));
        Config::deserialize(map).unwrap()
    }

    #[test]
    fn unknown_config_key_is_rejected() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error as DeError, MapDeserializer};
        let map = MapDeserializer::<_, DeError>::new(std::iter::once((
            "dampign".into_deserializer(),
            0.5f64.into_deserializer(),
        )));
        let e = Config::deserialize(map).unwrap_err().to_string();
        assert!(e.contains("dampign"), "{e}");
    }
}
