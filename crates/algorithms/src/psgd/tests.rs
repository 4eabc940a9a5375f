//! Tests of p-SGD: the selection chain against its stationary law, b = 1 is GD bit for bit, a
//! frozen batch is GD on a subset, rows touched, determinism, divergence and bad input, the
//! generalisation-error formulas.

use super::*;
use crate::gd::{self, Problem, spherical_teacher};
use faer::Mat;
use gardner_models::rng::stream;
use gardner_models::run::Step as _;
use gardner_models::{Loss, PhaseRetrieval, SampleLoss};
use rand::RngExt;
use rand_distr::StandardNormal;

/// [`run`] on data, dynamics and start: the trace.
fn run_on<L: ExpectedLoss>(
    data: &Problem,
    dynamics: &Dynamics<L>,
    start: Start,
    config: &Config,
    rng: &mut Rng,
) -> Result<Trace<PsgdStep>, Error> {
    let problem = super::Problem {
        data: *data,
        dynamics: *dynamics,
        start,
    };
    run(&problem, config, rng).map(|o| o.trace)
}

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
        run_on(
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
    let (gt, _) = gd::run(
        &p,
        &gd::Config {
            init: crate::Init::At(gd::random_start(80, &mut stream(1, 1))),
            ..gcfg
        },
        &mut stream(1, 1),
    )
    .map(|o| (o.trace, o.w))
    .unwrap();
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
    let a = run_on(&p, &dyn_pr, start, &cfg, &mut stream(4, 1)).unwrap();
    let b = run_on(&p, &dyn_pr, start, &cfg, &mut stream(4, 1)).unwrap();
    let c = run_on(&p, &dyn_pr, start, &cfg, &mut stream(4, 2)).unwrap();
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
    let t = run_on(
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
    let t = run_on(
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
    let e = run_on(&p, &sph, Start::Random { q0: 2.0 }, &cfg, &mut stream(5, 1))
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
    let e = run_on(
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
