//! ERM theory (`gardner_theory::erm`) against the exact solvers (`gardner_algorithms::erm`) at
//! d = 1000 on sign-teacher data: the seed mean of the test classification error and of the
//! training loss must lie within 3 standard errors of the fixed point, for the square,
//! logistic and hinge losses at two sample ratios (a few seeds each, to keep CI cost modest).

use gardner::algorithms::Termination;
use gardner::algorithms::erm::{Config, Problem, metrics, run};
use gardner::models::{Gaussian, Loss, Probit, stream, teacher_data};
use gardner::theory::erm::{ErmConfig, ErmProblem, solve};

const D: usize = 1000;
const SEEDS: u64 = 6;

fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    (m, (v / n).sqrt())
}

fn check(loss: Loss, alpha: f64, lambda: f64) {
    let p = ErmProblem::new(alpha, lambda, 1.0, loss, Probit::sign()).unwrap();
    let th = solve(&p, &ErmConfig::default()).unwrap();
    assert!(
        th.status.converged(),
        "{loss} α={alpha} λ={lambda}: {:?}",
        th.status
    );
    let (mut eps, mut tl) = (Vec::new(), Vec::new());
    for seed in 0..SEEDS {
        let data = teacher_data(
            &Gaussian::new(1.0).unwrap(),
            &Probit::sign(),
            D,
            alpha,
            &mut stream(2020, seed),
        )
        .unwrap();
        let problem = Problem::from_dataset(&data, loss, lambda).unwrap();
        let sol = run(&problem, &Config::default(), &mut stream(2021, seed)).unwrap();
        assert_eq!(
            sol.trace.termination,
            Termination::Converged,
            "{loss} α={alpha} λ={lambda} seed {seed}"
        );
        let m = metrics(&data, loss, &sol.w);
        eps.push(m.test_error);
        tl.push(m.train_loss);
    }
    for (name, xs, want) in [
        ("test error", &eps, th.test_error),
        ("train loss", &tl, th.train_loss),
    ] {
        let (m, se) = mean_se(xs);
        let dev = (m - want).abs() / se;
        eprintln!(
            "{loss} α={alpha} λ={lambda} {name}: theory {want:.5}, simulation {m:.5} ± {se:.5} ({dev:.2} SE)"
        );
        assert!(
            dev < 3.0,
            "{loss} α={alpha} λ={lambda} {name}: theory {want} vs {m} ± {se} ({dev:.2} SE)"
        );
    }
}

#[test]
fn ridge_theory_vs_cholesky() {
    check(Loss::Square, 0.5, 0.1);
    check(Loss::Square, 2.0, 0.5708);
}

#[test]
fn logistic_theory_vs_newton() {
    check(Loss::Logistic, 0.5, 0.05);
    check(Loss::Logistic, 2.0, 0.02);
}

#[test]
fn hinge_theory_vs_dual_ascent() {
    check(Loss::Hinge, 0.5, 0.5);
    check(Loss::Hinge, 2.0, 0.2);
}
