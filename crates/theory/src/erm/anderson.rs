//! Anderson acceleration of the damped fixed-point iteration x = F(x), as a [`Step`] of the
//! shared run loop.
//!
//! With residual r_k = F(x_k) − x_k, kept fraction δ (the damping) and β = 1 − δ, the plain
//! damped step is x_{k+1} = (1 − δ) F(x_k) + δ x_k = x_k + β r_k. Anderson mixing (memory
//! 3) replaces it by
//!
//! ```text
//!   γ = argmin ‖r_k − ΔR γ‖²,   x_{k+1} = x_k + β r_k − Σ_u γ_u (Δx_u + β Δr_u),
//! ```
//!
//! with ΔR, Δx the differences of the last residuals and iterates. A candidate outside the
//! domain falls back to a damped step with β halved (δ moved towards 1) and a fresh history;
//! once δ exceeds `max_damping` the run ends as diverged, naming the quantity that left its
//! domain.

use super::ErmError;
use gardner_models::run::{Driver, Step, Termination, stop};

/// Residual differences kept by the Anderson mixing.
const MEMORY: usize = 3;
/// Trust region: no coordinate moves by more than this per step (in the ERM variables
/// (c, ln q, ln V) one step changes q or V by at most a factor e^{1/2}).
const STEP_MAX: f64 = 0.5;
/// Restart the history when the residual grows beyond this factor times the best seen (the
/// extrapolation made things much worse).
const RESTART_GROWTH: f64 = 1e2;
/// Tikhonov term of the normal equations, relative to their largest diagonal entry (keeps
/// nearly collinear residual differences from blowing γ up).
const RIDGE: f64 = 1e-10;

/// Tuning of [`run`]: damping is the kept fraction δ of the old iterate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Tuning {
    /// Initial δ ∈ [0, 1).
    pub damping: f64,
    /// Largest δ before the iteration gives up as diverged.
    pub max_damping: f64,
    /// Converged when ‖F(x) − x‖_∞ < tol.
    pub tol: f64,
    /// Evaluations of F allowed.
    pub max_iter: usize,
}

/// Observables of one iterate.
#[derive(Debug, Clone)]
pub(crate) struct Obs<const K: usize> {
    /// F(x) (x itself once the damping is exhausted or F left the domain).
    pub fx: [f64; K],
    /// ‖F(x) − x‖_∞ (NaN when undefined).
    pub residual: f64,
    /// The quantity that left its domain (in F(x), or in every damped candidate), if any.
    pub left_domain: Option<&'static str>,
    /// Evaluations of F so far.
    pub evaluations: usize,
}

/// The Anderson step. `domain(x)` names the first quantity of x outside its domain (`None`:
/// x is valid).
struct Anderson<const K: usize, F, D> {
    x: [f64; K],
    beta: f64,
    beta_min: f64,
    hist: Vec<([f64; K], [f64; K])>,
    best: f64,
    r: [f64; K],
    rn: f64,
    f: F,
    domain: D,
    exhausted: Option<&'static str>,
    evaluations: usize,
}

impl<const K: usize, F, D> Anderson<K, F, D> {
    /// The observation of an iterate whose quantity `q` left its domain.
    fn left_domain(&self, x: [f64; K], q: &'static str) -> Obs<K> {
        Obs {
            fx: x,
            residual: f64::NAN,
            left_domain: Some(q),
            evaluations: self.evaluations,
        }
    }
}

impl<const K: usize, F, D> Step for Anderson<K, F, D>
where
    F: FnMut(&[f64; K]) -> Result<[f64; K], ErmError>,
    D: Fn(&[f64; K]) -> Option<&'static str>,
{
    type Obs = Obs<K>;
    type Error = ErmError;

    fn observe(&mut self) -> Result<Obs<K>, ErmError> {
        if let Some(q) = self.exhausted {
            return Ok(self.left_domain(self.x, q));
        }
        let fx = (self.f)(&self.x)?;
        self.evaluations += 1;
        if let Some(q) = (self.domain)(&fx) {
            return Ok(self.left_domain(self.x, q));
        }
        self.r = std::array::from_fn(|i| fx[i] - self.x[i]);
        self.rn = self.r.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        Ok(Obs {
            fx,
            residual: self.rn,
            left_domain: None,
            evaluations: self.evaluations,
        })
    }

    fn advance(&mut self) -> Result<(), ErmError> {
        let (x, r, rn) = (self.x, self.r, self.rn);
        if rn > RESTART_GROWTH * self.best {
            self.hist.clear();
        }
        self.best = self.best.min(rn);
        self.hist.push((x, r));
        if self.hist.len() > MEMORY + 1 {
            self.hist.remove(0);
        }
        let beta = self.beta;
        // Plain damped step, capped at STEP_MAX per coordinate.
        let cap = (STEP_MAX / (beta * rn)).min(1.0);
        let mut cand = std::array::from_fn(|i| x[i] + cap * beta * r[i]);
        let j = self.hist.len() - 1;
        if j >= 1 {
            let hist = &self.hist;
            let dr: Vec<[f64; K]> = (0..j)
                .map(|a| std::array::from_fn(|i| hist[a + 1].1[i] - hist[a].1[i]))
                .collect();
            let dx: Vec<[f64; K]> = (0..j)
                .map(|a| std::array::from_fn(|i| hist[a + 1].0[i] - hist[a].0[i]))
                .collect();
            let mut a = vec![vec![0.0; j]; j];
            let mut b = vec![0.0; j];
            for u in 0..j {
                for w in 0..j {
                    a[u][w] = (0..K).map(|i| dr[u][i] * dr[w][i]).sum();
                }
                b[u] = (0..K).map(|i| dr[u][i] * r[i]).sum();
            }
            let scale = (0..j).map(|u| a[u][u]).fold(0.0f64, f64::max);
            for (u, row) in a.iter_mut().enumerate() {
                row[u] += RIDGE * scale + f64::MIN_POSITIVE;
            }
            if let Some(g) = solve_small(a, b) {
                let c: [f64; K] = std::array::from_fn(|i| {
                    x[i] + beta * r[i]
                        - (0..j)
                            .map(|u| g[u] * (dx[u][i] + beta * dr[u][i]))
                            .sum::<f64>()
                });
                // Accept the extrapolation only within the trust region.
                let step = (0..K).fold(0.0f64, |a, i| a.max((c[i] - x[i]).abs()));
                if (self.domain)(&c).is_none() && step <= STEP_MAX {
                    cand = c;
                }
            }
        }
        while let Some(q) = (self.domain)(&cand) {
            self.hist.clear();
            self.beta *= 0.5;
            if self.beta < self.beta_min {
                self.exhausted = Some(q);
                return Ok(());
            }
            cand = std::array::from_fn(|i| x[i] + self.beta * r[i]);
        }
        self.x = cand;
        Ok(())
    }
}

/// Iterate x = F(x) from `x0` with Anderson mixing (module docs).
///
/// Returns the final point, the evaluations of F and the termination: `Converged` (the point
/// is F(x) at ‖F(x) − x‖_∞ < tol), `MaxIterations` (the point after the last step) or
/// `Diverged` naming the quantity that left its domain (the point is the last valid iterate).
pub(crate) fn run<const K: usize>(
    x0: [f64; K],
    f: impl FnMut(&[f64; K]) -> Result<[f64; K], ErmError>,
    domain: impl Fn(&[f64; K]) -> Option<&'static str>,
    tuning: Tuning,
) -> Result<([f64; K], usize, Termination), ErmError> {
    let mut step = Anderson {
        x: x0,
        beta: 1.0 - tuning.damping,
        beta_min: 1.0 - tuning.max_damping,
        hist: Vec::new(),
        best: f64::INFINITY,
        r: [0.0; K],
        rn: f64::NAN,
        f,
        domain,
        exhausted: None,
        evaluations: 0,
    };
    let trace = Driver::new()
        .stop(|_: usize, o: &Obs<K>| {
            o.left_domain
                .map(|q| Termination::diverged(o.evaluations, q))
        })
        .stop(stop::tolerance(|o: &Obs<K>| o.residual, tuning.tol))
        // the observation of iteration k is the (k+1)-th evaluation of F
        .stop(stop::max_iterations(tuning.max_iter.saturating_sub(1)))
        .record_every(usize::MAX)
        .run(&mut step)?;
    let last = trace.last().expect("the final iterate is recorded");
    let (x, termination) = match trace.termination {
        Termination::Converged => (last.fx, Termination::Converged),
        Termination::MaxIterations => {
            // take the step the cap interrupted; it may still exhaust the damping
            step.advance()?;
            match step.exhausted {
                Some(q) => (step.x, Termination::diverged(step.evaluations, q)),
                None => (step.x, Termination::MaxIterations),
            }
        }
        t => (step.x, t),
    };
    Ok((x, step.evaluations, termination))
}

/// Gaussian elimination with partial pivoting for the tiny Anderson systems.
fn solve_small(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &k| a[i][c].abs().total_cmp(&a[k][c].abs()))?;
        if a[p][c] == 0.0 || !a[p][c].is_finite() {
            return None;
        }
        a.swap(c, p);
        b.swap(c, p);
        for r in c + 1..n {
            let f = a[r][c] / a[c][c];
            let (top, rest) = a.split_at_mut(r);
            for (x, p) in rest[0][c..].iter_mut().zip(&top[c][c..]) {
                *x -= f * p;
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for c in (0..n).rev() {
        x[c] = (b[c] - (c + 1..n).map(|k| a[c][k] * x[k]).sum::<f64>()) / a[c][c];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}
