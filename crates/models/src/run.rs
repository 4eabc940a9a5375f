//! The run loop shared by every iterative computation.
//!
//! Algorithms (GAMP, GD, over-parametrised GD, SGD/p-SGD) and iterative theory (state
//! evolution, ERM fixed points, DMFT) are a [`Step`] — "observe the current iterate",
//! "advance by one iteration" — driven by one [`Driver`] that owns the loop:
//!
//! ```text
//! k = 0
//! loop {
//!     o_k = step.observe()
//!     for rule in stop rules:   if rule(k, o_k) = Some(t)   → record o_k, return Trace { …, t }
//!     for guard in guards:      guard(step, k, o_k)          (may change the step, or stop)
//!     record o_k if k % record_every == 0; call observers
//!     step.advance();  k += 1
//! }
//! ```
//!
//! Stop rules compose ([`stop`]: tolerance, iteration cap, budget in an algorithmic
//! quantity, wall-clock budget, divergence, stall); the first rule that fires decides the
//! [`Termination`], so list them in priority order (divergence first). Non-convergence is a
//! [`Termination`], never an error: `Err` is reserved for failures of the computation itself
//! (bad input, a failed integral).
//!
//! The step-halving guard of gradient methods ("the loss went up: halve the step") is
//! [`HalveOnIncrease`], written once for every [`Halvable`] step.

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Why an iterative computation stopped. Maps to the `status` column of every table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Termination {
    /// The convergence criterion (tolerance, zero loss, success) was met.
    Converged,
    /// The iteration cap was reached before convergence.
    MaxIterations,
    /// A budget in an algorithmic quantity (physical time, epochs) or in wall-clock time ran
    /// out before convergence.
    Budget,
    /// Progress stalled: a stall rule judged that the run will not converge within its budget.
    Stalled,
    /// A quantity became non-finite or left its domain at this iteration.
    Diverged {
        /// Iteration at which it was detected.
        iteration: usize,
        /// Which quantity (e.g. `train_loss`, `V`).
        quantity: String,
    },
}

impl Termination {
    /// A divergence of `quantity` at `iteration`.
    pub fn diverged(iteration: usize, quantity: impl Into<String>) -> Self {
        Termination::Diverged {
            iteration,
            quantity: quantity.into(),
        }
    }
    /// `true` only for [`Termination::Converged`].
    pub fn converged(&self) -> bool {
        matches!(self, Termination::Converged)
    }
    /// The `status` cell: `ok`, `not_converged` (iteration cap, budget or stall: the run
    /// stopped without meeting its criterion) or `failed: <quantity> diverged at iteration k`.
    pub fn status(&self) -> String {
        match self {
            Termination::Converged => "ok".into(),
            Termination::MaxIterations | Termination::Budget | Termination::Stalled => {
                "not_converged".into()
            }
            Termination::Diverged {
                iteration,
                quantity,
            } => format!("failed: {quantity} diverged at iteration {iteration}"),
        }
    }
}

/// Observables recorded along a run and the reason it stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace<O> {
    /// Recorded observables, in iteration order; the last observation is always recorded.
    pub steps: Vec<O>,
    /// Why the run stopped.
    pub termination: Termination,
    /// Iterations advanced (the last observation is of iteration `iterations`).
    pub iterations: usize,
}

impl<O> Trace<O> {
    /// The last recorded observables (the final iterate), if any.
    pub fn last(&self) -> Option<&O> {
        self.steps.last()
    }
}

/// One iterative computation, driven by [`Driver::run`].
pub trait Step {
    /// Observables of one iterate (e.g. m, q, loss, change).
    type Obs;
    /// Failure of the computation itself (not non-convergence).
    type Error;
    /// Observables of the current iterate.
    fn observe(&mut self) -> Result<Self::Obs, Self::Error>;
    /// Advance by one iteration.
    fn advance(&mut self) -> Result<(), Self::Error>;
}

/// A stop rule: `Some(termination)` ends the run at iteration `k` with observables `o`.
pub trait StopRule<O> {
    /// Decide whether to stop.
    fn check(&mut self, k: usize, o: &O) -> Option<Termination>;
}

impl<O, F: FnMut(usize, &O) -> Option<Termination>> StopRule<O> for F {
    fn check(&mut self, k: usize, o: &O) -> Option<Termination> {
        self(k, o)
    }
}

/// A guard may modify the step between observation and advance (e.g. halve a step size), or
/// stop the run.
pub trait Guard<S: Step> {
    /// Inspect iteration `k`; `Some` stops the run.
    fn check(&mut self, step: &mut S, k: usize, o: &S::Obs) -> Option<Termination>;
}

/// Called for every observation (recorded or not), e.g. progress or a checkpoint writer.
pub trait Observer<O> {
    /// Iteration `k` was observed.
    fn observe(&mut self, k: usize, o: &O);
}

impl<O, F: FnMut(usize, &O)> Observer<O> for F {
    fn observe(&mut self, k: usize, o: &O) {
        self(k, o)
    }
}

/// The loop: stop rules, guards, observers and the recording schedule.
pub struct Driver<'a, S: Step> {
    rules: Vec<Box<dyn StopRule<S::Obs> + 'a>>,
    guards: Vec<Box<dyn Guard<S> + 'a>>,
    observers: Vec<Box<dyn Observer<S::Obs> + 'a>>,
    record_every: usize,
}

impl<S: Step> Default for Driver<'_, S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, S: Step> Driver<'a, S> {
    /// A driver with no stop rule that records every iteration. Add at least one cap
    /// ([`stop::max_iterations`] or a budget) before running.
    pub fn new() -> Self {
        Self {
            rules: Vec::new(),
            guards: Vec::new(),
            observers: Vec::new(),
            record_every: 1,
        }
    }
    /// Add a stop rule (checked in the order added).
    pub fn stop(mut self, rule: impl StopRule<S::Obs> + 'a) -> Self {
        self.rules.push(Box::new(rule));
        self
    }
    /// Add a guard (checked after the stop rules, before advancing).
    pub fn guard(mut self, guard: impl Guard<S> + 'a) -> Self {
        self.guards.push(Box::new(guard));
        self
    }
    /// Add an observer.
    pub fn observer(mut self, observer: impl Observer<S::Obs> + 'a) -> Self {
        self.observers.push(Box::new(observer));
        self
    }
    /// Record every `every`-th iteration (≥ 1; 0 is read as 1). The final iterate is always
    /// recorded.
    pub fn record_every(mut self, every: usize) -> Self {
        self.record_every = every.max(1);
        self
    }
    /// Run `step` until a stop rule or guard fires.
    pub fn run(mut self, step: &mut S) -> Result<Trace<S::Obs>, S::Error> {
        assert!(
            !self.rules.is_empty(),
            "Driver::run without a stop rule would never end"
        );
        let mut steps = Vec::new();
        let mut k = 0usize;
        loop {
            let o = step.observe()?;
            for obs in &mut self.observers {
                obs.observe(k, &o);
            }
            let mut stop = self.rules.iter_mut().find_map(|r| r.check(k, &o));
            if stop.is_none() {
                stop = self.guards.iter_mut().find_map(|g| g.check(step, k, &o));
            }
            if let Some(termination) = stop {
                steps.push(o);
                return Ok(Trace {
                    steps,
                    termination,
                    iterations: k,
                });
            }
            if k.is_multiple_of(self.record_every) {
                steps.push(o);
            }
            step.advance()?;
            k += 1;
        }
    }
}

/// Stop rules. Each takes the metric it watches as a closure over the observables.
pub mod stop {
    use super::*;

    /// [`Termination::MaxIterations`] at iteration `cap`.
    pub fn max_iterations<O>(cap: usize) -> impl StopRule<O> {
        move |k: usize, _: &O| (k >= cap).then_some(Termination::MaxIterations)
    }

    /// [`Termination::Converged`] when `metric(o) < tol` (e.g. a relative change, a loss).
    pub fn tolerance<O>(metric: impl Fn(&O) -> f64, tol: f64) -> impl StopRule<O> {
        move |_: usize, o: &O| (metric(o) < tol).then_some(Termination::Converged)
    }

    /// [`Termination::Budget`] when `metric(o) ≥ limit` (e.g. physical time t = Σ η).
    pub fn budget<O>(metric: impl Fn(&O) -> f64, limit: f64) -> impl StopRule<O> {
        move |_: usize, o: &O| (metric(o) >= limit).then_some(Termination::Budget)
    }

    /// [`Termination::Budget`] after `limit` of wall-clock time. Not deterministic: use it
    /// only as a safety net beside a deterministic cap.
    pub fn wall_clock<O>(limit: Duration) -> impl StopRule<O> {
        let start = Instant::now();
        move |_: usize, _: &O| (start.elapsed() >= limit).then_some(Termination::Budget)
    }

    /// [`Termination::Diverged`] naming `quantity` when `metric(o)` is non-finite or its
    /// absolute value exceeds `bound` (use `f64::INFINITY` for a finiteness check only).
    pub fn divergence<O>(
        quantity: &'static str,
        metric: impl Fn(&O) -> f64,
        bound: f64,
    ) -> impl StopRule<O> {
        move |k: usize, o: &O| {
            let v = metric(o);
            (!v.is_finite() || v.abs() > bound).then(|| Termination::diverged(k, quantity))
        }
    }

    /// [`Termination::Stalled`] when `metric` (to be minimised, e.g. a loss) has not
    /// decreased by a relative `min_decrease` over the last `window` iterations.
    pub fn stall<O>(
        metric: impl Fn(&O) -> f64,
        window: usize,
        min_decrease: f64,
    ) -> impl StopRule<O> {
        let mut history = std::collections::VecDeque::with_capacity(window + 1);
        move |_: usize, o: &O| {
            let v = metric(o);
            history.push_back(v);
            if history.len() <= window {
                return None;
            }
            let old = history.pop_front().expect("window + 1 values");
            (v > old * (1.0 - min_decrease)).then_some(Termination::Stalled)
        }
    }
}

/// A step whose step size can be halved (gradient methods).
pub trait Halvable: Step {
    /// Halve the step size.
    fn halve_step(&mut self);
}

/// Guard of explicit gradient methods: when the watched loss increases by more than a relative
/// 1e-9 from one iteration to the next, halve the step (an Euler instability); after
/// `max_halvings` halvings a further increase is a divergence of `quantity`.
pub struct HalveOnIncrease<F> {
    loss: F,
    quantity: &'static str,
    max_halvings: usize,
    halvings: usize,
    previous: f64,
}

impl<F> HalveOnIncrease<F> {
    /// Watch `loss` (named `quantity` in a divergence), allowing `max_halvings` halvings.
    pub fn new(quantity: &'static str, loss: F, max_halvings: usize) -> Self {
        Self {
            loss,
            quantity,
            max_halvings,
            halvings: 0,
            previous: f64::INFINITY,
        }
    }
    /// Halvings performed so far.
    pub fn halvings(&self) -> usize {
        self.halvings
    }
}

impl<S: Halvable, F: Fn(&S::Obs) -> f64> Guard<S> for HalveOnIncrease<F> {
    fn check(&mut self, step: &mut S, k: usize, o: &S::Obs) -> Option<Termination> {
        let loss = (self.loss)(o);
        let increased = loss > self.previous * (1.0 + 1e-9);
        self.previous = loss;
        if !increased {
            return None;
        }
        if self.halvings >= self.max_halvings {
            return Some(Termination::diverged(k, self.quantity));
        }
        step.halve_step();
        self.halvings += 1;
        None
    }
}

impl<S: Step, G: Guard<S>> Guard<S> for &mut G {
    fn check(&mut self, step: &mut S, k: usize, o: &S::Obs) -> Option<Termination> {
        (**self).check(step, k, o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// x ← x/2 from x = 1, loss x².
    struct Halving {
        x: f64,
        rate: f64,
    }
    impl Step for Halving {
        type Obs = (f64, f64);
        type Error = ();
        fn observe(&mut self) -> Result<(f64, f64), ()> {
            Ok((self.x, self.x * self.x))
        }
        fn advance(&mut self) -> Result<(), ()> {
            self.x -= self.rate * 2.0 * self.x; // GD on x² with step `rate`
            Ok(())
        }
    }
    impl Halvable for Halving {
        fn halve_step(&mut self) {
            self.rate *= 0.5;
        }
    }

    #[test]
    fn first_rule_decides_and_last_is_recorded() {
        let mut s = Halving { x: 1.0, rate: 0.25 };
        let tr = Driver::new()
            .stop(stop::divergence("loss", |o: &(f64, f64)| o.1, 1e10))
            .stop(stop::tolerance(|o: &(f64, f64)| o.1, 1e-6))
            .stop(stop::max_iterations(100))
            .record_every(5)
            .run(&mut s)
            .unwrap();
        assert_eq!(tr.termination, Termination::Converged);
        // x_k = 2^-k, x² < 1e-6 first at k = 10.
        assert_eq!(tr.iterations, 10);
        assert_eq!(tr.steps.len(), 3); // k = 0, 5, 10
        assert_eq!(tr.last().unwrap().0, 2f64.powi(-10));
    }

    #[test]
    fn cap_and_divergence() {
        let mut s = Halving { x: 1.0, rate: 0.0 };
        let tr = Driver::new()
            .stop(stop::max_iterations(7))
            .run(&mut s)
            .unwrap();
        assert_eq!(tr.termination, Termination::MaxIterations);
        assert_eq!(tr.steps.len(), 8);
        assert_eq!(tr.termination.status(), "not_converged");
        // rate 1.5: x ← -2x, |x| grows as 2^k
        let mut s = Halving { x: 1.0, rate: 1.5 };
        let tr = Driver::new()
            .stop(stop::divergence("x", |o: &(f64, f64)| o.0, 1e3))
            .stop(stop::max_iterations(100))
            .run(&mut s)
            .unwrap();
        assert_eq!(tr.termination, Termination::diverged(10, "x"));
        assert_eq!(
            tr.termination.status(),
            "failed: x diverged at iteration 10"
        );
    }

    #[test]
    fn halving_guard_rescues_an_unstable_step() {
        // rate 1.5 is unstable (|1 − 2·rate| = 2); one halving gives 0.75 (factor −0.5).
        let mut s = Halving { x: 1.0, rate: 1.5 };
        let mut guard = HalveOnIncrease::new("loss", |o: &(f64, f64)| o.1, 5);
        let tr = Driver::new()
            .stop(stop::tolerance(|o: &(f64, f64)| o.1, 1e-12))
            .stop(stop::max_iterations(1000))
            .guard(&mut guard)
            .run(&mut s)
            .unwrap();
        assert_eq!(tr.termination, Termination::Converged);
        assert_eq!(guard.halvings(), 1);
        // with no halvings allowed, the first increase is a divergence
        let mut s = Halving { x: 1.0, rate: 1.5 };
        let tr = Driver::new()
            .stop(stop::max_iterations(1000))
            .guard(HalveOnIncrease::new("loss", |o: &(f64, f64)| o.1, 0))
            .run(&mut s)
            .unwrap();
        assert_eq!(tr.termination, Termination::diverged(1, "loss"));
    }

    #[test]
    fn stall_and_budget() {
        let mut s = Halving { x: 1.0, rate: 1e-4 };
        let tr = Driver::new()
            .stop(stop::stall(|o: &(f64, f64)| o.1, 10, 0.01))
            .stop(stop::max_iterations(10_000))
            .run(&mut s)
            .unwrap();
        // loss decays by (1 − 2e-4)² per step: 0.4 % over 10 steps < 1 %
        assert_eq!(tr.termination, Termination::Stalled);
        assert_eq!(tr.iterations, 10);
        let mut s = Halving { x: 1.0, rate: 0.1 };
        let mut k_seen = 0;
        let tr = Driver::new()
            .stop(stop::budget(|o: &(f64, f64)| -o.0.ln(), 1.0))
            .stop(stop::max_iterations(1000))
            .observer(|k: usize, _: &(f64, f64)| k_seen = k)
            .run(&mut s)
            .unwrap();
        // x_k = 0.8^k, −ln x ≥ 1 first at k = 5 (ln 1.25 = 0.223)
        assert_eq!(
            (tr.termination, tr.iterations, k_seen),
            (Termination::Budget, 5, 5)
        );
    }
}
