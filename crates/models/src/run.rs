//! The run loop shared by every iterative computation.
//!
//! Algorithms (GAMP, GD, over-parametrised GD, SGD/p-SGD, the ERM solvers) and iterative theory
//! (state evolution, ERM fixed points, DMFT) are a [`Step`] — "observe the current iterate",
//! "measure its costly observables", "advance by one iteration" — driven by one [`Driver`] that
//! owns the loop (the design of argmin's executor: one solver trait, an executor, observers,
//! one termination):
//!
//! ```text
//! k = k0                                   (0, or the step a resumed run starts from)
//! loop {
//!     o_k = step.observe()
//!     if k % record_every == 0:  step.measure(o_k)                      (scheduled step)
//!     for (every, observer):     if k % every == 0: observer(k, step, o_k)
//!     first stop rule, then guard, with rule(k, o_k) = Some(t):
//!         if not scheduled: step.measure(o_k);   observers not yet called at k: observer(k, step, o_k)
//!         record o_k;  return Trace { …, termination: t, rule: its name }
//!     guards may change the step (halve a step size)
//!     record o_k if scheduled
//!     step.advance();  k += 1
//! }
//! ```
//!
//! - **Stop rules** compose ([`stop`]: tolerance, iteration cap, fixed horizon, budget in an
//!   algorithmic quantity, wall-clock budget, divergence, stall); the first rule that fires
//!   decides the [`Termination`], so list them in priority order (divergence first). Every rule
//!   has a name ([`StopRule::name`]; [`stop::named`] names a closure) and the [`Trace`] says
//!   which one fired ([`Trace::rule`]): two `Converged` rules (zero loss, stationary point) are
//!   told apart without re-deriving the reason from the observables. Non-convergence is a
//!   [`Termination`], never an error: `Err` is reserved for failures of the computation itself
//!   (bad input, a failed integral, a checkpoint that could not be written).
//! - **Measurement** is built in: observables that cost a pass over the data (a whole-set
//!   training loss, a generalisation error) are computed by [`Step::measure`], which the driver
//!   calls every `record_every` steps and on the final iterate — the step never re-derives the
//!   schedule, and the last observation is always complete.
//! - **Observers** see the state as well as the observables ([`Observer`], [`inspect`]), each on
//!   its own schedule (every iteration, or every k and at the end: [`Driver::observer_every`]):
//!   progress bars, and checkpoint writers, which therefore need no access to the loop.
//!   An observer's error ends the run with that error.
//! - **Guards** may change the step between observation and advance (the step-halving guard of
//!   gradient methods, [`HalveOnIncrease`], written once for every [`Halvable`] step), or stop.
//! - **Resuming**: [`Driver::start_at`] numbers the iterations of a run resumed from a
//!   checkpoint from the checkpoint's step, so schedules, horizons and reported iterations are
//!   those of the uninterrupted run.

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

/// Observables recorded along a run, the reason it stopped and the rule that said so.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace<O> {
    /// Recorded observables, in iteration order; the last observation is always recorded (and
    /// measured, [`Step::measure`]).
    pub steps: Vec<O>,
    /// Why the run stopped.
    pub termination: Termination,
    /// The last iteration observed (the last observation is of iteration `iterations`; a run
    /// from [`Driver::start_at`] `k0` advanced `iterations − k0` times).
    pub iterations: usize,
    /// The name of the stop rule or guard that fired ([`StopRule::name`], [`Guard::name`]).
    #[serde(skip)]
    pub rule: &'static str,
}

impl<O> Trace<O> {
    /// The last recorded observables (the final iterate), if any.
    pub fn last(&self) -> Option<&O> {
        self.steps.last()
    }
    /// The same run with every recorded observation mapped by `f`.
    pub fn map<P>(self, f: impl FnMut(O) -> P) -> Trace<P> {
        Trace {
            steps: self.steps.into_iter().map(f).collect(),
            termination: self.termination,
            iterations: self.iterations,
            rule: self.rule,
        }
    }
}

/// One iterative computation, driven by [`Driver::run`].
pub trait Step {
    /// Observables of one iterate (e.g. m, q, loss, change).
    type Obs;
    /// Failure of the computation itself (not non-convergence).
    type Error;
    /// The cheap observables of the current iterate (those the stop rules need every step).
    fn observe(&mut self) -> Result<Self::Obs, Self::Error>;
    /// Complete `o` (the observation of the current iterate) with the costly observables. The
    /// driver calls it at recorded steps (every `record_every`) and on the final iterate; the
    /// default measures nothing.
    fn measure(&mut self, o: &mut Self::Obs) -> Result<(), Self::Error> {
        let _ = o;
        Ok(())
    }
    /// Advance by one iteration.
    fn advance(&mut self) -> Result<(), Self::Error>;
}

/// A stop rule: `Some(termination)` ends the run at iteration `k` with observables `o`.
pub trait StopRule<O> {
    /// Decide whether to stop.
    fn check(&mut self, k: usize, o: &O) -> Option<Termination>;
    /// The rule's name, reported as [`Trace::rule`] when it fires.
    fn name(&self) -> &'static str {
        "rule"
    }
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
    /// The guard's name, reported as [`Trace::rule`] when it stops the run.
    fn name(&self) -> &'static str {
        "guard"
    }
}

/// Sees iteration `k`: the state and its observables (e.g. a progress bar, a checkpoint
/// writer). An error ends the run with that error. Closures `FnMut(usize, &Obs)` are observers
/// of the observables; [`inspect`] makes one that sees the state.
pub trait Observer<S: Step> {
    /// Iteration `k` was observed: `state` is the iterate, `o` its observables.
    fn observe(&mut self, k: usize, state: &S, o: &S::Obs) -> Result<(), S::Error>;
}

impl<S: Step, F: FnMut(usize, &S::Obs)> Observer<S> for F {
    fn observe(&mut self, k: usize, _: &S, o: &S::Obs) -> Result<(), S::Error> {
        self(k, o);
        Ok(())
    }
}

/// An observer that sees the state: `f(k, state, observables)`.
pub fn inspect<S, F>(f: F) -> Inspect<F>
where
    S: Step,
    F: FnMut(usize, &S, &S::Obs) -> Result<(), S::Error>,
{
    Inspect(f)
}

/// The observer of [`inspect`].
pub struct Inspect<F>(F);

impl<S, F> Observer<S> for Inspect<F>
where
    S: Step,
    F: FnMut(usize, &S, &S::Obs) -> Result<(), S::Error>,
{
    fn observe(&mut self, k: usize, state: &S, o: &S::Obs) -> Result<(), S::Error> {
        (self.0)(k, state, o)
    }
}

/// An observer and its schedule: every `every` iterations, and the final one.
struct Scheduled<'a, S: Step> {
    every: usize,
    observer: Box<dyn Observer<S> + 'a>,
}

/// The loop: stop rules, guards, observers, the recording (and measuring) schedule and the
/// first iteration's number.
pub struct Driver<'a, S: Step> {
    rules: Vec<Box<dyn StopRule<S::Obs> + 'a>>,
    guards: Vec<Box<dyn Guard<S> + 'a>>,
    observers: Vec<Scheduled<'a, S>>,
    record_every: usize,
    start: usize,
}

impl<S: Step> Default for Driver<'_, S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, S: Step> Driver<'a, S> {
    /// A driver with no stop rule that records every iteration from iteration 0. Add at least
    /// one cap ([`stop::max_iterations`], [`stop::horizon`] or a budget) before running.
    pub fn new() -> Self {
        Self {
            rules: Vec::new(),
            guards: Vec::new(),
            observers: Vec::new(),
            record_every: 1,
            start: 0,
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
    /// Add an observer of every iteration (called before the stop rules).
    pub fn observer(self, observer: impl Observer<S> + 'a) -> Self {
        self.observer_every(1, observer)
    }
    /// Add an observer of every `every`-th iteration (≥ 1; 0 is read as 1) and of the final
    /// one, which it sees measured ([`Step::measure`]).
    pub fn observer_every(mut self, every: usize, observer: impl Observer<S> + 'a) -> Self {
        self.observers.push(Scheduled {
            every: every.max(1),
            observer: Box::new(observer),
        });
        self
    }
    /// Measure ([`Step::measure`]) and record every `every`-th iteration (≥ 1; 0 is read as
    /// 1). The final iterate is always measured and recorded.
    pub fn record_every(mut self, every: usize) -> Self {
        self.record_every = every.max(1);
        self
    }
    /// Number the first iteration `k0` (a run resumed from a checkpoint written at step `k0`):
    /// stop rules, schedules and [`Trace::iterations`] then count from the start of the
    /// uninterrupted run.
    pub fn start_at(mut self, k0: usize) -> Self {
        self.start = k0;
        self
    }
    /// Run `step` until a stop rule or guard fires.
    pub fn run(mut self, step: &mut S) -> Result<Trace<S::Obs>, S::Error> {
        assert!(
            !self.rules.is_empty(),
            "Driver::run without a stop rule would never end"
        );
        let mut steps = Vec::new();
        let mut k = self.start;
        loop {
            let mut o = step.observe()?;
            let scheduled = k.is_multiple_of(self.record_every);
            if scheduled {
                step.measure(&mut o)?;
            }
            for s in &mut self.observers {
                if k.is_multiple_of(s.every) {
                    s.observer.observe(k, step, &o)?;
                }
            }
            let mut stop = self
                .rules
                .iter_mut()
                .find_map(|r| r.check(k, &o).map(|t| (t, r.name())));
            if stop.is_none() {
                stop = self
                    .guards
                    .iter_mut()
                    .find_map(|g| g.check(step, k, &o).map(|t| (t, g.name())));
            }
            if let Some((termination, rule)) = stop {
                if !scheduled {
                    step.measure(&mut o)?;
                }
                for s in &mut self.observers {
                    if !k.is_multiple_of(s.every) {
                        s.observer.observe(k, step, &o)?;
                    }
                }
                steps.push(o);
                return Ok(Trace {
                    steps,
                    termination,
                    iterations: k,
                    rule,
                });
            }
            if scheduled {
                steps.push(o);
            }
            step.advance()?;
            k += 1;
        }
    }
}

/// Stop rules. Each takes the metric it watches as a closure over the observables, and each
/// has a name ([`StopRule::name`]): the function's name, or the one given by [`named`](stop::named).
pub mod stop {
    use super::*;

    /// A rule with a name: see [`named`].
    pub struct Named<R> {
        name: &'static str,
        rule: R,
    }

    impl<O, R: StopRule<O>> StopRule<O> for Named<R> {
        fn check(&mut self, k: usize, o: &O) -> Option<Termination> {
            self.rule.check(k, o)
        }
        fn name(&self) -> &'static str {
            self.name
        }
    }

    /// `rule` reported as `name` when it fires (e.g. `"zero_loss"` for a tolerance on the
    /// training loss).
    pub fn named<O, R: StopRule<O>>(name: &'static str, rule: R) -> Named<R> {
        Named { name, rule }
    }

    /// [`Termination::MaxIterations`] at iteration `cap`: the run was meant to converge
    /// before it (`"max_iterations"`).
    pub fn max_iterations<O>(cap: usize) -> Named<impl StopRule<O>> {
        named("max_iterations", move |k: usize, _: &O| {
            (k >= cap).then_some(Termination::MaxIterations)
        })
    }

    /// [`Termination::Converged`] at iteration `steps` exactly: a fixed horizon, the end of a
    /// run whose goal is to take `steps` steps (a time-stepping scheme, a dynamics observed up
    /// to a time) (`"horizon"`).
    pub fn horizon<O>(steps: usize) -> Named<impl StopRule<O>> {
        named("horizon", move |k: usize, _: &O| {
            (k >= steps).then_some(Termination::Converged)
        })
    }

    /// [`Termination::Converged`] when `metric(o) < tol` (e.g. a relative change, a loss)
    /// (`"tolerance"`).
    pub fn tolerance<O>(metric: impl Fn(&O) -> f64, tol: f64) -> Named<impl StopRule<O>> {
        named("tolerance", move |_: usize, o: &O| {
            (metric(o) < tol).then_some(Termination::Converged)
        })
    }

    /// [`Termination::Budget`] when `metric(o) ≥ limit` (e.g. physical time t = Σ η)
    /// (`"budget"`).
    pub fn budget<O>(metric: impl Fn(&O) -> f64, limit: f64) -> Named<impl StopRule<O>> {
        named("budget", move |_: usize, o: &O| {
            (metric(o) >= limit).then_some(Termination::Budget)
        })
    }

    /// [`Termination::Budget`] after `limit` of wall-clock time. Not deterministic: use it
    /// only as a safety net beside a deterministic cap (`"wall_clock"`).
    pub fn wall_clock<O>(limit: Duration) -> Named<impl StopRule<O>> {
        let start = Instant::now();
        named("wall_clock", move |_: usize, _: &O| {
            (start.elapsed() >= limit).then_some(Termination::Budget)
        })
    }

    /// [`Termination::Diverged`] naming `quantity` when `metric(o)` is non-finite or its
    /// absolute value exceeds `bound` (use `f64::INFINITY` for a finiteness check only)
    /// (`"divergence"`).
    pub fn divergence<O>(
        quantity: &'static str,
        metric: impl Fn(&O) -> f64,
        bound: f64,
    ) -> Named<impl StopRule<O>> {
        named("divergence", move |k: usize, o: &O| {
            let v = metric(o);
            (!v.is_finite() || v.abs() > bound).then(|| Termination::diverged(k, quantity))
        })
    }

    /// [`Termination::Stalled`] when `metric` (to be minimised, e.g. a loss) has not
    /// decreased by a relative `min_decrease` over the last `window` iterations (`"stall"`).
    pub fn stall<O>(
        metric: impl Fn(&O) -> f64,
        window: usize,
        min_decrease: f64,
    ) -> Named<impl StopRule<O>> {
        let mut history = std::collections::VecDeque::with_capacity(window + 1);
        named("stall", move |_: usize, o: &O| {
            let v = metric(o);
            history.push_back(v);
            if history.len() <= window {
                return None;
            }
            let old = history.pop_front().expect("window + 1 values");
            (v > old * (1.0 - min_decrease)).then_some(Termination::Stalled)
        })
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
    fn name(&self) -> &'static str {
        "halve_on_increase"
    }
}

impl<S: Step, G: Guard<S>> Guard<S> for &mut G {
    fn check(&mut self, step: &mut S, k: usize, o: &S::Obs) -> Option<Termination> {
        (**self).check(step, k, o)
    }
    fn name(&self) -> &'static str {
        (**self).name()
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
        assert_eq!(tr.rule, "halve_on_increase");
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

    /// A noisy walk x ← x/2 + u (u from a 64-bit LCG), with a costly observable x² measured
    /// only when the driver asks; the state is (steps taken, x, LCG state).
    #[derive(Debug, Clone, PartialEq)]
    struct Walk {
        k: usize,
        x: f64,
        lcg: u64,
        measures: Vec<usize>,
    }
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct WalkObs {
        k: usize,
        x: f64,
        square: Option<f64>,
    }
    impl Walk {
        fn new() -> Self {
            Self {
                k: 0,
                x: 1.0,
                lcg: 42,
                measures: Vec::new(),
            }
        }
        fn to_text(&self) -> String {
            format!("{} {} {}", self.k, self.x.to_bits(), self.lcg)
        }
        fn from_text(s: &str) -> Self {
            let v: Vec<u64> = s.split(' ').map(|t| t.parse().unwrap()).collect();
            Self {
                k: v[0] as usize,
                x: f64::from_bits(v[1]),
                lcg: v[2],
                measures: Vec::new(),
            }
        }
    }
    impl Step for Walk {
        type Obs = WalkObs;
        type Error = String;
        fn observe(&mut self) -> Result<WalkObs, String> {
            Ok(WalkObs {
                k: self.k,
                x: self.x,
                square: None,
            })
        }
        fn measure(&mut self, o: &mut WalkObs) -> Result<(), String> {
            self.measures.push(o.k);
            o.square = Some(self.x * self.x);
            Ok(())
        }
        fn advance(&mut self) -> Result<(), String> {
            self.lcg = self
                .lcg
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.x = 0.5 * self.x + (self.lcg >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            self.k += 1;
            Ok(())
        }
    }

    #[test]
    fn horizon_fires_at_exactly_k_steps() {
        for steps in [0, 1, 7, 100] {
            let mut s = Walk::new();
            let tr = Driver::new()
                .stop(stop::horizon(steps))
                .stop(stop::max_iterations(1000))
                .run(&mut s)
                .unwrap();
            assert_eq!(tr.termination, Termination::Converged);
            assert_eq!(tr.rule, "horizon");
            assert_eq!((tr.iterations, s.k), (steps, steps));
            assert_eq!(tr.steps.len(), steps + 1);
            assert_eq!(tr.last().unwrap().k, steps);
        }
    }

    #[test]
    fn the_trace_names_the_rule_that_fired() {
        // two Converged rules on the same run: the first to fire is named
        let run = |loss_tol: f64, grad_tol: f64| {
            let mut s = Halving { x: 1.0, rate: 0.25 };
            Driver::new()
                .stop(stop::divergence("x", |o: &(f64, f64)| o.0, 1e3))
                .stop(stop::named(
                    "zero_loss",
                    stop::tolerance(|o: &(f64, f64)| o.1, loss_tol),
                ))
                .stop(stop::named(
                    "stationary",
                    stop::tolerance(|o: &(f64, f64)| 2.0 * o.0.abs(), grad_tol),
                ))
                .stop(stop::max_iterations(30))
                .run(&mut s)
                .unwrap()
        };
        // x_k = 2^-k: x² < 1e-6 at k = 10, 2|x| < 1e-6 at k = 21
        let tr = run(1e-6, 1e-6);
        assert_eq!(
            (tr.termination, tr.iterations, tr.rule),
            (Termination::Converged, 10, "zero_loss")
        );
        let tr = run(0.0, 1e-6);
        assert_eq!(
            (tr.termination, tr.iterations, tr.rule),
            (Termination::Converged, 21, "stationary")
        );
        let tr = run(0.0, 0.0);
        assert_eq!(
            (tr.termination, tr.rule),
            (Termination::MaxIterations, "max_iterations")
        );
        // a guard that stops is named too: halving_guard_rescues_an_unstable_step
        let mut s = Halving { x: 1.0, rate: 0.0 };
        let tr = Driver::new()
            .stop(|k: usize, _: &(f64, f64)| (k == 3).then_some(Termination::Stalled))
            .run(&mut s)
            .unwrap();
        assert_eq!((tr.iterations, tr.rule), (3, "rule"));
    }

    #[test]
    fn measured_and_observed_every_k_steps_and_at_the_end() {
        let mut s = Walk::new();
        let mut seen = Vec::new();
        let mut every_step = 0;
        let tr = Driver::new()
            .stop(stop::horizon(23))
            .record_every(5)
            .observer_every(
                10,
                inspect(|k: usize, state: &Walk, o: &WalkObs| {
                    // the observer sees the state: the iterate it observes
                    assert_eq!((state.k, state.x), (k, o.x));
                    seen.push((k, o.square.is_some()));
                    Ok(())
                }),
            )
            .observer(|_: usize, _: &WalkObs| every_step += 1)
            .run(&mut s)
            .unwrap();
        assert_eq!(seen, [(0, true), (10, true), (20, true), (23, true)]);
        assert_eq!(every_step, 24);
        // measured at the recorded steps and at the (unscheduled) end, recorded there only
        assert_eq!(s.measures, [0, 5, 10, 15, 20, 23]);
        let recorded: Vec<_> = tr.steps.iter().map(|o| (o.k, o.square.is_some())).collect();
        assert_eq!(
            recorded,
            [
                (0, true),
                (5, true),
                (10, true),
                (15, true),
                (20, true),
                (23, true)
            ]
        );
        // an end that falls on the schedule is measured and observed once
        let mut s = Walk::new();
        let mut seen = Vec::new();
        Driver::new()
            .stop(stop::horizon(20))
            .record_every(5)
            .observer_every(10, |k: usize, _: &WalkObs| seen.push(k))
            .run(&mut s)
            .unwrap();
        assert_eq!(seen, [0, 10, 20]);
        assert_eq!(s.measures, [0, 5, 10, 15, 20]);
        // an observer's error ends the run with it
        let mut s = Walk::new();
        let e = Driver::new()
            .stop(stop::horizon(20))
            .observer(inspect(|k: usize, _: &Walk, _: &WalkObs| {
                if k == 4 {
                    Err(format!("full at {k}"))
                } else {
                    Ok(())
                }
            }))
            .run(&mut s)
            .unwrap_err();
        assert_eq!((e.as_str(), s.k), ("full at 4", 4));
    }

    #[test]
    fn a_checkpointed_run_resumes_bit_identically() {
        let path = std::env::temp_dir().join(format!("gardner-run-{}.ckpt", std::process::id()));
        let (every, horizon) = (10, 57);
        // the checkpoint observer: the state every `every` steps (not at the start)
        let checkpoint = |path: std::path::PathBuf| {
            inspect(move |k: usize, state: &Walk, _: &WalkObs| {
                if k > 0 && k.is_multiple_of(every) {
                    std::fs::write(&path, state.to_text()).map_err(|e| e.to_string())?;
                }
                Ok(())
            })
        };
        let full = Driver::new()
            .stop(stop::horizon(horizon))
            .record_every(3)
            .run(&mut Walk::new())
            .unwrap();
        // interrupted at k = 34 (a wall clock, a crash): the file holds step 30
        let mut s = Walk::new();
        let cut = Driver::new()
            .stop(stop::horizon(34))
            .record_every(3)
            .observer_every(every, checkpoint(path.clone()))
            .run(&mut s)
            .unwrap();
        assert_eq!(cut.iterations, 34);
        let mut s = Walk::from_text(&std::fs::read_to_string(&path).unwrap());
        assert_eq!(s.k, 30);
        let resumed = Driver::new()
            .stop(stop::horizon(horizon))
            .record_every(3)
            .observer_every(every, checkpoint(path.clone()))
            .start_at(s.k)
            .run(&mut s)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        // the observations from step 30 on are the uninterrupted run's, bit for bit
        let tail: Vec<_> = full.steps.iter().filter(|o| o.k >= 30).copied().collect();
        assert_eq!(resumed.steps, tail);
        assert!(
            resumed
                .steps
                .iter()
                .zip(&tail)
                .all(|(a, b)| a.x.to_bits() == b.x.to_bits())
        );
        assert_eq!(
            (resumed.termination, resumed.iterations, resumed.rule),
            (full.termination, full.iterations, full.rule)
        );
        // the cut run's records before step 30 followed by the resumed run are the full run
        let head: Vec<_> = cut.steps.iter().filter(|o| o.k < 30).copied().collect();
        assert_eq!([head, resumed.steps].concat(), full.steps);
    }
}
