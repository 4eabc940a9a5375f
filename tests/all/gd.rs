//! Gradient descent on phase retrieval (spherical) and over-parametrised two-layer GD:
//! constraint, step-size (gradient-flow) check, success well above / failure well below the
//! thresholds at CI sizes, determinism. Gradients against finite differences are unit tests
//! in `gardner_algorithms::{gd, overparam}`.

use gardner_algorithms::Termination;
use gardner_algorithms::gd::{self, Problem, spherical_teacher};
use gardner_algorithms::overparam;
use gardner_models::rng::stream;

fn gd_final(d: usize, alpha: f64, seed: u64, step: f64) -> (gd::Step, Termination, Vec<f64>) {
    let mut rng = stream(seed, 0);
    let data = spherical_teacher(d, alpha, &mut rng).unwrap();
    let p = Problem::from_dataset(&data).unwrap();
    let cfg = gd::Config {
        step,
        ..gd::Config::default()
    };
    let out = gd::run(&p, &cfg, &mut rng).unwrap();
    (*out.trace.last().unwrap(), out.trace.termination, out.w)
}

#[test]
fn gd_spherical_constraint_holds_to_1e_10() {
    for (alpha, steps) in [(2.0, 1), (5.0, 37), (10.0, 2000)] {
        let mut rng = stream(101, 0);
        let data = spherical_teacher(120, alpha, &mut rng).unwrap();
        let p = Problem::from_dataset(&data).unwrap();
        let cfg = gd::Config {
            max_steps: steps,
            ..gd::Config::default()
        };
        let gardner_algorithms::Outcome { trace, w } = gd::run(&p, &cfg, &mut rng).unwrap();
        let q = w.iter().map(|v| v * v).sum::<f64>() / 120.0;
        assert!(
            (q - 1.0).abs() < 1e-10,
            "alpha {alpha}: q - 1 = {:e}",
            q - 1.0
        );
        assert!(trace.steps.iter().all(|s| s.overlap_abs <= 1.0 + 1e-10));
    }
}

#[test]
fn gd_halving_the_step_changes_the_final_overlap_little() {
    // Default η = 0.01 against η/2 on the same data and start, at α where both outcomes occur.
    let mut worst: f64 = 0.0;
    for seed in 0..6 {
        let (a, ta, _) = gd_final(100, 5.0, 200 + seed, 0.01);
        let (b, tb, _) = gd_final(100, 5.0, 200 + seed, 0.005);
        assert_eq!((ta, tb), (Termination::Converged, Termination::Converged));
        worst = worst.max((a.overlap_abs - b.overlap_abs).abs());
        // the physical stopping times agree too (gradient flow, not a step-size artefact)
        assert!(
            (a.time - b.time).abs() < 0.1 * a.time.max(1.0),
            "seed {seed}: t {} vs {}",
            a.time,
            b.time
        );
    }
    assert!(worst < 1e-2, "max |Δ|m|| = {worst}");
}

#[test]
fn gd_succeeds_well_above_and_fails_well_below() {
    let d = 80;
    let count = |alpha: f64| {
        (0..12)
            .filter(|&s| gd_final(d, alpha, 300 + s, 0.01).0.overlap_abs >= gd::SUCCESS_OVERLAP)
            .count()
    };
    let above = count(14.0);
    let below = count(1.5);
    assert!(above >= 11, "alpha = 14: {above}/12 successes");
    assert!(below <= 1, "alpha = 1.5: {below}/12 successes");
}

#[test]
fn gd_same_seed_same_trace() {
    let run = |seed| {
        let mut rng = stream(seed, 3);
        let data = spherical_teacher(60, 6.0, &mut rng).unwrap();
        let p = Problem::from_dataset(&data).unwrap();
        gd::run(
            &p,
            &gd::Config {
                record_every: 7,
                ..gd::Config::default()
            },
            &mut rng,
        )
        .unwrap()
    };
    let (a, b, c) = (run(5), run(5), run(6));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a.trace.steps.len() > 2);
}

fn op_final(
    d: usize,
    m: usize,
    alpha: f64,
    seed: u64,
    cfg: impl Fn(&mut overparam::Config),
) -> overparam::Outcome {
    let mut rng = stream(seed, 0);
    let data = spherical_teacher(d, alpha, &mut rng).unwrap();
    let p = Problem::from_dataset(&data).unwrap();
    let mut c = overparam::Config::new(m).unwrap();
    c.step = 0.02;
    c.max_steps = 50_000;
    cfg(&mut c);
    overparam::run(&p, &c, &mut rng).unwrap()
}

#[test]
fn overparam_succeeds_above_two_and_interpolates_without_learning_below() {
    // m ≥ d: at α = 6 GD reaches A* (gen error < 1e-3); at α = 1.3 < 2 the training loss goes
    // to zero but A ≠ A* (non-unique minimisers, Theorem 3.1 of 2006.15459).
    let (d, m) = (20, 40);
    let above = (0..6)
        .filter(|&s| overparam::succeeded(&op_final(d, m, 6.0, 400 + s, |_| {}).trace))
        .count();
    assert!(above >= 5, "alpha = 6: {above}/6 successes");
    for s in 0..4 {
        let o = op_final(d, m, 1.3, 500 + s, |c| c.stop_when_unreachable = false);
        let last = o.trace.last().unwrap();
        assert!(!overparam::succeeded(&o.trace));
        assert!(last.gen_error > 1e-2, "seed {s}: {last:?}");
        assert!(
            last.train_loss < 1e-4 * o.trace.steps[0].train_loss,
            "seed {s}: {last:?}"
        );
    }
}

#[test]
fn overparam_early_stops_never_stop_a_success() {
    // Every run to the end of its budget without early stops (only success ends a run early),
    // then with the stop rules of fig5 (the unreachability bound, a stationary gradient):
    // each run that succeeds without them succeeds with them, and the rules stop failures
    // (on a wrong zero-loss minimum for m >= d, alpha < 2; at spurious minima for m < d) early.
    let (d, budget) = (16, 64_000); // t_max = 1280 = 20 d^1.5, the budget of fig5
    let (mut stopped, mut succeeded, mut runs) = (0, 0, 0);
    for m in [1, 8, 16, 32] {
        for alpha in [1.5, 2.5, 3.0, 4.0] {
            for s in 0..3 {
                let seed = 1200 + 10 * m as u64 + s + (4.0 * alpha) as u64 * 1000;
                let without = op_final(d, m, alpha, seed, |c| {
                    c.max_steps = budget;
                    c.stop_when_unreachable = false;
                    c.loss_tol = 0.0;
                    c.grad_tol = 0.0;
                });
                let with = op_final(d, m, alpha, seed, |c| {
                    c.max_steps = budget;
                    c.loss_tol = 0.0;
                });
                let (a, b) = (
                    overparam::succeeded(&without.trace),
                    overparam::succeeded(&with.trace),
                );
                let tag = format!("m = {m}, alpha = {alpha}, seed {s}");
                assert_eq!(
                    a,
                    b,
                    "{tag}: {:?} vs {:?}",
                    without.trace.last(),
                    with.trace.last()
                );
                let early = !b && with.trace.iterations < budget;
                if early {
                    assert_ne!(without.trace.iterations, with.trace.iterations, "{tag}");
                }
                stopped += usize::from(early);
                succeeded += usize::from(b);
                runs += 1;
            }
        }
    }
    assert!(
        stopped >= 4,
        "the rules stopped only {stopped}/{runs} runs early"
    );
    assert!(
        succeeded >= 16,
        "only {succeeded}/{runs} successes: nothing to protect"
    );
}

#[test]
fn overparam_halving_the_step_follows_gradient_flow() {
    // Same start, fixed horizon t = 50: gen error with η and η/2 agree to 1 %.
    for (alpha, s) in [(2.5, 600), (4.0, 601)] {
        let horizon = |eta: f64| {
            let o = op_final(16, 32, alpha, s, |c| {
                c.step = eta;
                c.max_steps = (50.0 / eta).round() as usize;
                c.stop_on_success = false;
                c.stop_when_unreachable = false;
                c.loss_tol = 0.0;
                c.grad_tol = 0.0;
            });
            assert_eq!(o.trace.termination, Termination::MaxIterations);
            o.trace.last().unwrap().gen_error
        };
        let (a, b) = (horizon(0.02), horizon(0.01));
        assert!((a - b).abs() < 1e-2 * b, "alpha {alpha}: {a} vs {b}");
    }
}

#[test]
fn overparam_same_seed_same_trace() {
    let a = op_final(12, 6, 3.0, 700, |c| c.max_steps = 500);
    let b = op_final(12, 6, 3.0, 700, |c| c.max_steps = 500);
    assert_eq!(a.trace, b.trace);
    assert_eq!(a.w, b.w);
}

#[test]
fn too_large_steps_are_halved_not_silently_oscillating() {
    // η = 0.1 is beyond Euler stability (η λ_max > 2): without the safeguard the iterates
    // oscillate with a finite, non-decreasing loss; with it the step is halved and the run
    // reaches the same outcome as a small step.
    let o = op_final(20, 40, 4.0, 1000, |c| c.step = 0.1);
    let last = o.trace.last().unwrap();
    assert!(last.halvings >= 1, "{last:?}");
    assert!(
        o.trace.termination.converged() && overparam::succeeded(&o.trace),
        "{last:?}"
    );
    let off = op_final(20, 40, 4.0, 1000, |c| {
        c.step = 0.1;
        c.halve_on_increase = false;
        c.max_steps = 5000;
    });
    assert!(!overparam::succeeded(&off.trace), "{:?}", off.trace.last());
    let (s, t, _) = gd_final(100, 8.0, 1001, 0.2);
    assert_eq!(t, Termination::Converged);
    assert!(s.halvings >= 1 && s.overlap_abs > 0.99, "{s:?}");
}
