//! Tests of the DMFT module.

use super::*;

/// α = 3, λ = 0.5, m0 = 0.2, σ² = 1 (q0 = 1.04).
fn reference() -> LinearRidge {
    LinearRidge::new(3.0, 0.5, 0.2, 1.04).unwrap()
}

/// Closed-form reference numbers (5 digits) for gradient flow and GD at η = 0.1.
#[test]
fn exact_reference_numbers() {
    let ex = reference();
    assert!((ex.m_infinity().unwrap() - 0.813859).abs() < 1e-6);
    for (t, m, q, e) in [
        (0.5, 0.68458, 0.57668, 0.05363),
        (1.0, 0.77285, 0.63092, 0.01998),
        (2.0, 0.80711, 0.66415, 0.01270),
        (5.0, 0.81377, 0.67207, 0.01182),
    ] {
        let p = ex.flow(t).unwrap();
        assert!((p.m - m).abs() < 6e-6, "m({t}) = {}", p.m);
        assert!((p.q - q).abs() < 6e-6, "q({t}) = {}", p.q);
        assert!((p.train_loss - e).abs() < 6e-6, "e({t}) = {}", p.train_loss);
    }
    for (k, m) in [
        (1, 0.43),
        (2, 0.5555),
        (5, 0.71226),
        (10, 0.78243),
        (20, 0.8089),
    ] {
        let p = ex.gd(0.1, k).unwrap();
        assert!((p.m - m).abs() < 6e-6, "GD m(k = {k}) = {}", p.m);
    }
    // the long-time limit of both routes is the closed form 1 − λG
    assert!((ex.flow(200.0).unwrap().m - ex.m_infinity().unwrap()).abs() < 1e-10);
}

/// Quadrature route and ODE route agree (flow), also with the atom at s = 0 (α < 1).
#[test]
fn exact_quadrature_vs_ode() {
    for ex in [reference(), LinearRidge::new(0.5, 0.1, 0.3, 0.5).unwrap()] {
        let times = [0.0, 0.3, 1.0, 4.0];
        let ode = ex.flow_ode(&times).unwrap();
        for (p, &t) in ode.iter().zip(&times) {
            let q = ex.flow(t).unwrap();
            for (a, b) in [(p.m, q.m), (p.q, q.q), (p.train_loss, q.train_loss)] {
                assert!((a - b).abs() < 1e-9, "t = {t}: ode {a} vs quadrature {b}");
            }
        }
    }
    // α < 1: closed form m(∞) includes the atom
    let ex = LinearRidge::new(0.5, 0.1, 0.3, 0.5).unwrap();
    assert!((ex.flow(400.0).unwrap().m - ex.m_infinity().unwrap()).abs() < 1e-9);
}

fn gaussian_run(reg: Regularisation, m0: f64, q0: f64, dt: f64, steps: usize) -> Vec<Observation> {
    let mut g = GaussianDmft::new(3.0, reg, m0, q0, TimeGrid::new(dt, steps).unwrap()).unwrap();
    let (obs, term) = solve::run_steps(&mut g, steps).unwrap();
    assert!(term.converged(), "{term:?}");
    obs
}

/// The deterministic discrete DMFT reproduces GD at finite η (m, q, e_tr) to 1e-9.
#[test]
fn gaussian_dmft_equals_exact_gd() {
    let ex = reference();
    for eta in [0.1, 0.05] {
        let steps = (3.0 / eta) as usize;
        let obs = gaussian_run(Regularisation::Ridge(0.5), 0.2, 1.04, eta, steps);
        for o in &obs {
            let p = ex.gd(eta, o.k).unwrap();
            for (a, b, name) in [
                (o.m, p.m, "m"),
                (o.q, p.q, "q"),
                (o.train_loss, p.train_loss, "e_tr"),
                (o.gen_error, p.gen_error, "e_gen"),
            ] {
                assert!(
                    (a - b).abs() < 1e-9,
                    "eta {eta} k {}: {name} {a} vs {b}",
                    o.k
                );
            }
        }
    }
}

/// Gradient flow: the discrete DMFT at dt is GD at η = dt (exact), O(dt) from the flow;
/// Richardson extrapolation 2 m(dt/2) − m(dt) is within 1e-4 of the exact flow.
#[test]
fn gaussian_dmft_flow_limit() {
    let ex = reference();
    let (t_end, dt) = (2.0, 0.02);
    let coarse = gaussian_run(Regularisation::Ridge(0.5), 0.2, 1.04, dt, 100);
    let fine = gaussian_run(Regularisation::Ridge(0.5), 0.2, 1.04, dt / 2.0, 200);
    for t in [0.5, 1.0, t_end] {
        let (kc, kf) = ((t / dt).round() as usize, (t / (dt / 2.0)).round() as usize);
        let exact = ex.flow(t).unwrap();
        for (c, f, e, name) in [
            (coarse[kc].m, fine[kf].m, exact.m, "m"),
            (coarse[kc].q, fine[kf].q, exact.q, "q"),
            (
                coarse[kc].train_loss,
                fine[kf].train_loss,
                exact.train_loss,
                "e_tr",
            ),
        ] {
            assert!(
                (f - e).abs() < 0.02 * dt / 0.01 + 1e-3,
                "{name}({t}) {f} vs {e}"
            );
            let rich = 2.0 * f - c;
            assert!(
                (rich - e).abs() < 1e-4,
                "Richardson {name}({t}) {rich} vs {e}"
            );
        }
    }
}
