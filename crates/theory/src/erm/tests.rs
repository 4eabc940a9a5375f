//! Tests of the ERM theory: closed forms, stationarity, convergence over the domain, limits.

use super::*;
use gardner_models::run::Termination;
use gardner_models::{Linear, Loss, Probit};
use std::f64::consts::PI;

fn sign() -> Probit {
    Probit::sign()
}

#[test]
fn bad_input_is_named() {
    let e = ErmProblem::new(-1.0, 0.1, 1.0, Loss::Square, sign())
        .unwrap_err()
        .to_string();
    assert!(e.contains("alpha") && e.contains("-1"), "{e}");
    let e = ErmProblem::new(1.0, -0.1, 1.0, Loss::Square, sign())
        .unwrap_err()
        .to_string();
    assert!(e.contains("lambda") && e.contains("-0.1"), "{e}");
    let e = ErmProblem::with_loss_name(1.0, 0.1, 1.0, "cross_entropy", sign())
        .unwrap_err()
        .to_string();
    assert!(e.contains("cross_entropy"), "{e}");
    let e = ErmProblem::new(1.0, 0.0, 1.0, Loss::Logistic, sign())
        .unwrap_err()
        .to_string();
    assert!(e.contains("lambda"), "{e}");
    let e = ErmProblem::new(1.0, 0.1, 1.0, Loss::Square, Linear::new(0.1).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("binary"), "{e}");
}

#[test]
fn label_slope_closed_form() {
    for (delta, rho) in [(0.0, 1.0), (0.3, 1.0), (0.0, 2.5)] {
        let a = label_slope(&Probit::new(delta).unwrap(), rho, 1e-12).unwrap();
        let want = (2.0 / PI).sqrt() / (rho + delta).sqrt();
        assert!((a - want).abs() < 1e-10, "Δ={delta} ρ={rho}: {a} vs {want}");
    }
}

/// The generic fixed point (integrals of the square-loss prox) reproduces the closed form.
#[test]
fn ridge_iteration_matches_closed_form() {
    let cfg = ErmConfig::default();
    for &(alpha, lambda, delta) in &[
        (0.5, 0.1, 0.0),
        (2.0, 1e-3, 0.0),
        (3.0, 1.0, 0.25),
        (10.0, 0.5708, 0.0),
        (0.1, 100.0, 0.0),
    ] {
        let p = ErmProblem::new(
            alpha,
            lambda,
            1.0,
            Loss::Square,
            Probit::new(delta).unwrap(),
        )
        .unwrap();
        let it = solve(&p, &cfg).unwrap();
        assert_eq!(it.status, Termination::Converged, "α={alpha} λ={lambda}");
        let cf = ridge_closed_form(&p, &cfg).unwrap();
        let (a, b) = (it.overlaps, cf.overlaps);
        for (x, y, name) in [
            (a.m, b.m, "m"),
            (a.q, b.q, "q"),
            (a.v, b.v, "V"),
            (a.q_hat, b.q_hat, "q_hat"),
        ] {
            assert!(
                (x - y).abs() < 1e-8 * y.abs().max(1.0),
                "α={alpha} λ={lambda} {name}: {x} vs {y}"
            );
        }
        assert!(
            (it.train_loss - cf.train_loss).abs() < 1e-8,
            "{} vs {}",
            it.train_loss,
            cf.train_loss
        );
        assert!((it.train_error - cf.train_error).abs() < 1e-8);
        assert!((it.test_label_error - cf.test_label_error).abs() < 1e-9);
    }
}

/// λ → 0 of the closed form approaches the interpolator / least-squares limits continuously.
#[test]
fn ridge_limits() {
    let cfg = ErmConfig::default();
    for alpha in [0.4, 3.0] {
        let p0 = ErmProblem::new(alpha, 0.0, 1.0, Loss::Square, sign()).unwrap();
        let p1 = ErmProblem::new(alpha, 1e-9, 1.0, Loss::Square, sign()).unwrap();
        let (a, b) = (
            ridge_closed_form(&p0, &cfg).unwrap(),
            ridge_closed_form(&p1, &cfg).unwrap(),
        );
        assert!(
            (a.overlaps.m - b.overlaps.m).abs() < 1e-6
                && (a.overlaps.q - b.overlaps.q).abs() < 1e-6,
            "{a:?} {b:?}"
        );
        if alpha < 1.0 {
            assert_eq!(a.train_loss, 0.0);
            assert!(b.train_loss < 1e-12);
        }
    }
    assert!(
        ridge_closed_form(
            &ErmProblem::new(1.0, 0.0, 1.0, Loss::Square, sign()).unwrap(),
            &cfg
        )
        .is_err()
    );
}

/// For sign labels only a = √(2/π) and the residual variance 1 − 2/π enter ridge, which is
/// the Bayes estimator of the equivalent Gaussian model at λ = (1 − a²ρ)/(a²ρ) = π/2 − 1:
/// the classification-optimal λ is that value at every α.
#[test]
fn ridge_optimal_lambda_is_pi_over_2_minus_1() {
    let cfg = ErmConfig::default();
    for alpha in [0.5, 2.0, 8.0] {
        let p = ErmProblem::new(alpha, 1.0, 1.0, Loss::Square, sign()).unwrap();
        let o = optimal_lambda(
            &p,
            &cfg,
            &LambdaSearch {
                log_tol: 1e-4,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(!o.at_bound && o.status.converged());
        let want = PI / 2.0 - 1.0;
        assert!(
            (o.lambda / want - 1.0).abs() < 2e-2,
            "α={alpha}: λ_opt {} vs {want}",
            o.lambda
        );
    }
}

/// Stationarity of J at the fixed point for all three losses, sign and probit teachers.
#[test]
fn fixed_points_satisfy_stationarity() {
    let cfg = ErmConfig::default();
    for loss in Loss::ALL {
        for &(alpha, lambda, delta) in &[
            (0.5, 0.05, 0.0),
            (2.0, 0.01, 0.0),
            (5.0, 1.0, 0.2),
            (1.0, 1e-3, 0.0),
        ] {
            let p = ErmProblem::new(alpha, lambda, 1.0, loss, Probit::new(delta).unwrap()).unwrap();
            let pt = solve(&p, &cfg).unwrap();
            assert_eq!(
                pt.status,
                Termination::Converged,
                "{loss} α={alpha} λ={lambda}: {pt:?}"
            );
            let (r1, r2) = p.stationarity_residuals(&pt.overlaps, 1e-11).unwrap();
            let o = pt.overlaps;
            assert!(
                r1.abs() < 1e-7 * (lambda * o.q).max(1e-3),
                "{loss} α={alpha} λ={lambda}: λq residual {r1}"
            );
            assert!(
                r2.abs() < 1e-7 * (lambda * o.m).abs().max(1e-3),
                "{loss} α={alpha} λ={lambda}: λm residual {r2}"
            );
            assert!(pt.test_error > 0.0 && pt.test_error < 0.5);
            assert!(pt.train_error >= 0.0 && pt.train_error <= pt.test_label_error + 0.5);
        }
    }
}

/// The iteration converges on the corners and centre of α ∈ [0.1, 50] × λ ∈ [1e-4, 1e2]
/// for every loss, and the errors are ordered sensibly (more data, smaller error).
#[test]
fn converges_on_the_whole_domain() {
    let cfg = ErmConfig::default();
    for loss in Loss::ALL {
        for &lambda in &[1e-4, 1.0, 1e2] {
            let mut last = 0.5;
            for &alpha in &[0.1, 3.0, 50.0] {
                let p = ErmProblem::new(alpha, lambda, 1.0, loss, sign()).unwrap();
                let pt = solve(&p, &cfg).unwrap();
                assert_eq!(
                    pt.status,
                    Termination::Converged,
                    "{loss} α={alpha} λ={lambda}: {pt:?}"
                );
                assert!(
                    pt.test_error < last,
                    "{loss} α={alpha} λ={lambda}: {} !< {last}",
                    pt.test_error
                );
                last = pt.test_error;
            }
        }
    }
}

/// Hinge at small λ approaches the max-margin fixed point; the max-margin error is ≈ 0.50/α
/// at large α (the replica prediction for the noiseless perceptron, ≈ 0.500/α).
#[test]
fn max_margin_limit() {
    let cfg = ErmConfig::default();
    let mm = max_margin(
        &ErmProblem::new(3.0, 0.0, 1.0, Loss::Hinge, sign()).unwrap(),
        &cfg,
    )
    .unwrap();
    assert_eq!(mm.status, Termination::Converged);
    assert!(mm.overlaps.v_hat < 1.0, "{mm:?}");
    let h = solve(
        &ErmProblem::new(3.0, 1e-5, 1.0, Loss::Hinge, sign()).unwrap(),
        &cfg,
    )
    .unwrap();
    assert_eq!(h.status, Termination::Converged, "{h:?}");
    assert!(
        (h.test_error - mm.test_error).abs() < 1e-3,
        "{} vs {}",
        h.test_error,
        mm.test_error
    );
    let mm50 = max_margin(
        &ErmProblem::new(50.0, 0.0, 1.0, Loss::Hinge, sign()).unwrap(),
        &cfg,
    )
    .unwrap();
    let c = 50.0 * mm50.test_error;
    assert!((c - 0.50).abs() < 0.03, "α ε at α = 50: {c}");
    // a noisy teacher is not separable at large α: a status, not a number
    let noisy = max_margin(
        &ErmProblem::new(20.0, 0.0, 1.0, Loss::Hinge, Probit::new(0.5).unwrap()).unwrap(),
        &cfg,
    )
    .unwrap();
    assert_eq!(
        noisy.status,
        Termination::diverged(0, "margin"),
        "{noisy:?}"
    );
    assert_eq!(
        noisy.status.status(),
        "failed: margin diverged at iteration 0"
    );
    assert!(noisy.test_error.is_nan());
}

/// Damping is the kept fraction of the old iterate: with the default (0.2) and with heavier
/// damping the fixed point is the same; an invalid damping is a named error.
#[test]
fn damping_is_the_kept_fraction() {
    let p = ErmProblem::new(2.0, 0.1, 1.0, Loss::Logistic, sign()).unwrap();
    let a = solve(&p, &ErmConfig::default()).unwrap();
    let heavy = ErmConfig {
        damping: 0.7,
        ..Default::default()
    };
    let b = solve(&p, &heavy).unwrap();
    assert!(a.status.converged() && b.status.converged());
    assert!((a.overlaps.q - b.overlaps.q).abs() < 1e-8 * a.overlaps.q);
    let e = solve(
        &p,
        &ErmConfig {
            damping: 1.0,
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("damping") && e.contains("[0, 1)"), "{e}");
}

/// The iteration cap is a status, with the termination naming it.
#[test]
fn iteration_cap_is_a_status() {
    let p = ErmProblem::new(2.0, 0.01, 1.0, Loss::Hinge, sign()).unwrap();
    let cfg = ErmConfig {
        max_iter: 3,
        ..Default::default()
    };
    let pt = solve(&p, &cfg).unwrap();
    assert_eq!(pt.status, Termination::MaxIterations);
    assert_eq!(pt.status.status(), "not_converged");
    assert_eq!(pt.iterations, 3);
}

/// `classification_error` is the models' one definition.
#[test]
fn classification_error_delegates() {
    for (m, q, rho) in [(0.3, 0.5, 1.0), (0.0, 0.0, 1.0), (-1.0, 2.0, 0.7)] {
        assert_eq!(
            classification_error(m, q, rho),
            gardner_models::class_error(m, q, rho)
        );
    }
    assert!(classification_error(f64::NAN, 1.0, 1.0).is_nan());
}
