//! Unit tests of the theory: fast reductions vs definitions, identities of the potentials,
//! closed forms, published thresholds, large-α asymptotics, input validation.

use crate::bayes::{bayes_curve, bayes_point};
use crate::channel_side::ChannelSide;
use crate::free_entropy::{f_rs, f_rs_perfect, f_rs_potential};
use crate::prior_side::PriorSide;
use crate::se::{FixedPointKind, Method, SeConfig, Start, se_fixed_point};
use crate::thresholds::{ItKind, ThresholdConfig, thresholds};
use crate::{Error, reference};
use gardner_models::gauss::{expect_normal, expect_normal_split};
use gardner_models::{AnyChannel, AnyPrior, ChannelSpec, Prior, PriorSpec};

fn channels() -> Vec<AnyChannel> {
    [
        ChannelSpec::Abs,
        ChannelSpec::Sign,
        ChannelSpec::Probit { delta: 0.3 },
        ChannelSpec::Linear { delta: 0.0 },
        ChannelSpec::Linear { delta: 0.5 },
    ]
    .iter()
    .map(|s| s.build().unwrap())
    .collect()
}

fn priors() -> Vec<AnyPrior> {
    [
        PriorSpec::Gaussian { rho: 1.0 },
        PriorSpec::Gaussian { rho: 1.7 },
        PriorSpec::Rademacher,
        PriorSpec::GaussBernoulli {
            sparsity: 0.3,
            variance: 2.0,
        },
    ]
    .iter()
    .map(|s| s.build().unwrap())
    .collect()
}

fn gauss(rho: f64) -> AnyPrior {
    PriorSpec::Gaussian { rho }.build().unwrap()
}
fn rad() -> AnyPrior {
    PriorSpec::Rademacher.build().unwrap()
}
fn abs() -> AnyChannel {
    ChannelSpec::Abs.build().unwrap()
}
fn sign() -> AnyChannel {
    ChannelSpec::Sign.build().unwrap()
}

/// Central difference with relative step 1e-4.
fn fd(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-4 * x.abs().max(1e-3);
    (f(x + h) - f(x - h)) / (2.0 * h)
}

/// Every override of [`ChannelSide`] / [`PriorSide`] (closed forms, Fourier reduction of the abs
/// channel, 1-D probit form, Rademacher and Gauss–Bernoulli reductions) agrees with the
/// generic default, quadrature of the definition from the model's log-partition
/// ([`reference`]), to 1e-9 relative (absolute for |value| < 1): channels at m/ρ ∈ {1e-4, 0.5,
/// 0.99, 0.99999} and ρ ∈ {1, 1.7}; priors at m̂ = α E\[g²\] for the sign channel at
/// α ∈ {0.1, 1, 3, 10} and m = ρ/2, and at m̂ = 0. The declared limits are checked against the
/// values the theory expects.
#[test]
fn overrides_match_generic_defaults() {
    let close = |fast: f64, slow: f64| (fast - slow).abs() <= 1e-9 * slow.abs().max(1.0);
    for c in channels() {
        for rho in [1.0, 1.7] {
            for mr in [1e-4, 0.5, 0.99, 0.99999] {
                let (m, v) = (mr * rho, (1.0 - mr) * rho);
                let (fast, slow) = (
                    c.e_gout2(m, v).unwrap(),
                    reference::e_gout2(&c, m, v).unwrap(),
                );
                assert!(
                    (fast - slow).abs() <= 1e-9 * slow.abs(),
                    "{c:?} rho={rho} m/rho={mr}: E g² {fast} vs {slow}"
                );
                let (fast, slow) = (
                    c.phi_out(m, v).unwrap(),
                    reference::phi_out(&c, m, v).unwrap(),
                );
                assert!(
                    close(fast, slow),
                    "{c:?} rho={rho} m/rho={mr}: Phi_out {fast} vs {slow}"
                );
            }
        }
    }
    let dims: Vec<(f64, Option<f64>)> = channels()
        .iter()
        .map(|c| (c.output_dimension(), c.noiseless_limit()))
        .collect();
    // abs, sign, probit(0.3), linear(0), linear(0.5)
    assert_eq!(
        dims,
        [
            (1.0, None),
            (0.0, Some(0.0)),
            (0.0, None),
            (1.0, None),
            (0.0, None)
        ]
    );
    let s = sign();
    let mut m_hats = vec![0.0];
    for alpha in [0.1, 1.0, 3.0, 10.0] {
        m_hats.push(alpha * s.e_gout2(0.5, 0.5).unwrap());
    }
    for p in priors() {
        for &mh in &m_hats {
            let (m, v) = p.overlap(mh).unwrap();
            let (m_ref, v_ref) = reference::overlap(&p, mh).unwrap();
            assert!(
                close(m, m_ref) && close(v, v_ref),
                "{p:?} m̂={mh}: (m, V) = ({m}, {v}) vs ({m_ref}, {v_ref})"
            );
            let (fast, slow) = (p.phi_w(mh).unwrap(), reference::phi_w(&p, mh).unwrap());
            assert!(close(fast, slow), "{p:?} m̂={mh}: Phi_w {fast} vs {slow}");
        }
    }
    let limits: Vec<(f64, Option<f64>)> = priors()
        .iter()
        .map(|p| (p.info_dimension(), p.perfect_limit()))
        .collect();
    // gauss(1), gauss(1.7), rademacher, gauss-bernoulli(0.3, 2)
    assert_eq!(
        limits,
        [
            (1.0, None),
            (1.0, None),
            (0.0, Some(-std::f64::consts::LN_2)),
            (0.3, None)
        ]
    );
}

/// Output-side Nishimori identity E\[∂_ω g_out\] = −E\[g_out²\] (by nested quadrature).
#[test]
fn output_nishimori_identity() {
    for c in channels() {
        let (m, v) = (0.6, 0.4);
        let dg = reference::e_dgout(&c, m, v).unwrap();
        let g2 = c.e_gout2(m, v).unwrap();
        assert!((dg + g2).abs() < 1e-9 * g2, "{c:?}: {dg} vs {g2}");
    }
}

/// m̂/α = E\[g²\] = 2 ∂_m Φ_out(m; ρ) by central differences at fixed ρ.
#[test]
fn output_map_is_derivative_of_phi_out() {
    for c in channels() {
        for p in [gauss(1.0), gauss(1.7)] {
            let rho = p.rho();
            for mr in [0.2, 0.5, 0.9] {
                let m = mr * rho;
                let d = fd(|x| c.phi_out(x, rho - x).unwrap(), m);
                let g2 = c.e_gout2(m, rho - m).unwrap();
                assert!(
                    (2.0 * d - g2).abs() < 1e-6 * g2.max(1.0),
                    "{c:?} rho={rho} m={m}: 2dPhi {} vs {g2}",
                    2.0 * d
                );
            }
        }
    }
}

/// m = 2 ∂_m̂ Φ_w(m̂) by central differences, and m + V = ρ.
#[test]
fn prior_map_is_derivative_of_phi_w() {
    for p in priors() {
        for mh in [0.05, 0.3, 1.5, 6.0, 200.0] {
            let d = fd(|x| p.phi_w(x).unwrap(), mh);
            let (m, v) = p.overlap(mh).unwrap();
            assert!(
                (2.0 * d - m).abs() < 1e-7,
                "{p:?} m̂={mh}: 2dPhi_w {} vs m {m}",
                2.0 * d
            );
            assert!(
                (m + v - p.rho()).abs() < 1e-12 * p.rho(),
                "{p:?} m̂={mh}: m + V = {}",
                m + v
            );
        }
    }
}

/// Prior-side Nishimori identity E\[f_a w0\] = E\[f_a²\] = m(m̂), with E\[f_a w0\] by quadrature over
/// w0 ~ P_w and ξ.
#[test]
fn prior_nishimori_identity() {
    for p in priors() {
        for mh in [0.2f64, 1.0, 5.0] {
            let sm = mh.sqrt();
            let inner = |w0: f64| {
                expect_normal_split(
                    |xi| p.moments(mh, mh * w0 + sm * xi).0 * w0,
                    &[-sm * w0],
                    1e-10,
                )
                .unwrap_or_else(|e| panic!("{p:?} m̂={mh} w0={w0}: {e}"))
            };
            let fa_w0 = match p {
                AnyPrior::Gaussian(_) => {
                    let s = p.rho().sqrt();
                    expect_normal(|u| inner(s * u), 1e-11).unwrap()
                }
                AnyPrior::Rademacher(_) => 0.5 * (inner(1.0) + inner(-1.0)),
                AnyPrior::GaussBernoulli(_) => {
                    // w0 = 0 contributes nothing; slab N(0, σ²) with weight s = 0.3, σ² = 2
                    0.3 * expect_normal(|u| inner(2f64.sqrt() * u), 1e-11).unwrap()
                }
            };
            let (m, _) = p.overlap(mh).unwrap();
            assert!(
                (fa_w0 - m).abs() < 1e-9,
                "{p:?} m̂={mh}: E[f_a w0] {fa_w0} vs m {m}"
            );
        }
    }
}

/// Rademacher prior map (Fourier/sech reduction) against direct checked quadrature of
/// V = E sech²(m̂ + √m̂ ξ), to 1e-9 relative on V down to V ≈ 1e-7.
#[test]
fn rademacher_map_matches_quadrature() {
    let p = rad();
    for mh in [1e-4, 0.3, 0.49, 0.51, 0.7, 2.0, 4.0, 4.5, 10.0, 30.0] {
        let s = f64::sqrt(mh);
        let v_ref =
            expect_normal_split(|x| 1.0 / (mh + s * x).cosh().powi(2), &[-s], 1e-14).unwrap();
        let m_ref = expect_normal_split(|x| (mh + s * x).tanh(), &[-s], 1e-14).unwrap();
        let (m, v) = p.overlap(mh).unwrap();
        assert!(
            (v - v_ref).abs() < 1e-9 * v_ref + 1e-15,
            "m̂={mh}: V {v} vs {v_ref}"
        );
        assert!(
            (m - m_ref).abs() < 1e-9 * m_ref + 1e-15,
            "m̂={mh}: m {m} vs {m_ref}"
        );
    }
}

/// At SE fixed points f_RS(m, m̂) is stationary in both arguments (central differences).
#[test]
fn se_fixed_point_is_stationary_point_of_f_rs() {
    let gb = PriorSpec::GaussBernoulli {
        sparsity: 0.3,
        variance: 1.0,
    }
    .build()
    .unwrap();
    let lin = ChannelSpec::Linear { delta: 0.01 }.build().unwrap();
    let probit = ChannelSpec::Probit { delta: 0.3 }.build().unwrap();
    let cases: Vec<(AnyPrior, AnyChannel, f64, Start)> = vec![
        (gauss(1.0), abs(), 0.8, Start::Uninformed),
        (gauss(1.0), abs(), 1.05, Start::Uninformed),
        (gauss(1.7), abs(), 0.9, Start::Uninformed),
        (rad(), sign(), 1.2, Start::Uninformed),
        (gauss(1.0), sign(), 2.0, Start::Uninformed),
        (rad(), probit, 1.0, Start::Informed),
        (gb, lin, 0.6, Start::Uninformed),
    ];
    let cfg = SeConfig::default();
    for (p, c, a, start) in cases {
        let r = se_fixed_point(&p, &c, a, start, &cfg).unwrap();
        assert_eq!(r.kind, FixedPointKind::Interior, "{p:?} {c:?} {a}");
        let dm = fd(|x| f_rs(&p, &c, a, x, r.m_hat).unwrap(), r.m);
        let dmh = fd(|x| f_rs(&p, &c, a, r.m, x).unwrap(), r.m_hat);
        // each derivative is a difference of O(m̂) and O(1) terms
        assert!(
            dm.abs() < 1e-6 * (1.0 + r.m_hat),
            "{p:?} {c:?} α={a}: ∂_m f = {dm} at m={}",
            r.m
        );
        assert!(
            dmh.abs() < 1e-6,
            "{p:?} {c:?} α={a}: ∂_m̂ f = {dmh} at m̂={}",
            r.m_hat
        );
        // the potential f_RS(m) has the same value there and is stationary too
        let (fp, mh) = f_rs_potential(&p, &c, a, r.m).unwrap();
        assert!(
            (mh - r.m_hat).abs() < 1e-7 * r.m_hat.max(1.0),
            "{mh} vs {}",
            r.m_hat
        );
        assert!((fp - f_rs(&p, &c, a, r.m, r.m_hat).unwrap()).abs() < 1e-9);
        let dpot = fd(|x| f_rs_potential(&p, &c, a, x).unwrap().0, r.m);
        assert!(
            dpot.abs() < 1e-6 * (1.0 + r.m_hat),
            "potential derivative {dpot}"
        );
    }
}

/// Away from fixed points ∂_m f_RS(m) = (α E[g²](m) − m̂_w(m))/2 (the potential's derivative).
#[test]
fn potential_derivative_is_map_difference() {
    for (p, c, a) in [(gauss(1.0), abs(), 1.1), (rad(), sign(), 1.3)] {
        for m in [0.2, 0.7, 0.95] {
            let d = fd(|x| f_rs_potential(&p, &c, a, x).unwrap().0, m);
            let (_, mh_w) = f_rs_potential(&p, &c, a, m).unwrap();
            let mh_se = a * c.e_gout2(m, p.rho() - m).unwrap();
            assert!(
                (d - 0.5 * (mh_se - mh_w)).abs() < 1e-6 * (1.0 + mh_w),
                "{p:?} α={a} m={m}: {d} vs {}",
                0.5 * (mh_se - mh_w)
            );
        }
    }
}

/// Linear channel + Gaussian prior: m̂ = α/(Δ + V), V = ρ/(1 + ρ m̂), i.e.
/// V² + V(Δ + ρα − ρ) − ρΔ = 0, solved in closed form; both methods reproduce it.
#[test]
fn linear_gaussian_closed_form() {
    for (rho, delta) in [(1.0, 0.2), (1.3, 0.05), (0.7, 1.0)] {
        let p = gauss(rho);
        let c = ChannelSpec::Linear { delta }.build().unwrap();
        for a in [0.3, 1.0, 3.0, 20.0] {
            let b = delta + rho * a - rho;
            let v = 0.5 * (-b + (b * b + 4.0 * rho * delta).sqrt());
            let pt = bayes_point(&p, &c, a, &SeConfig::default()).unwrap();
            assert!(
                (pt.mmse - v).abs() < 1e-10 * v,
                "ρ={rho} Δ={delta} α={a}: {} vs {v}",
                pt.mmse
            );
            assert!((pt.mse_amp - v).abs() < 1e-10 * v);
            let cfg = SeConfig {
                method: Method::Iterate,
                damping: 0.2,
                tol: 1e-15,
                ..SeConfig::default()
            };
            let it = se_fixed_point(&p, &c, a, Start::Uninformed, &cfg).unwrap();
            assert!((it.mse - v).abs() < 1e-9 * v, "iterate: {} vs {v}", it.mse);
        }
    }
}

/// Real phase retrieval with a Gaussian prior: α_IT = 1 (perfect recovery becomes stable and
/// its free entropy +∞), α_AMP between 1.1270 and 1.1285 (published SE data).
#[test]
fn thresholds_phase_retrieval() {
    let t = thresholds(&gauss(1.0), &abs(), &ThresholdConfig::default()).unwrap();
    let (it, amp) = (t.alpha_it.unwrap(), t.alpha_amp.unwrap());
    assert_eq!(t.it_kind, ItKind::BranchOnset);
    assert!((it - 1.0).abs() < 1e-5, "α_IT = {it}");
    assert!((1.1270..=1.1285).contains(&amp), "α_AMP = {amp}");
    // α_AMP does not depend on ρ (the model is scale invariant)
    let t2 = thresholds(&gauss(2.5), &abs(), &ThresholdConfig::default()).unwrap();
    assert!((t2.alpha_amp.unwrap() - amp).abs() < 1e-6, "{t2:?}");
}

/// Binary perceptron (Rademacher prior, sign channel): α_IT ≈ 1.2447–1.249 (free-entropy
/// crossing with the perfect-recovery branch, f = −ln 2), α_AMP ≈ 1.493.
#[test]
fn thresholds_binary_perceptron() {
    let t = thresholds(&rad(), &sign(), &ThresholdConfig::default()).unwrap();
    let (it, amp) = (t.alpha_it.unwrap(), t.alpha_amp.unwrap());
    assert_eq!(t.it_kind, ItKind::FreeEntropyCrossing);
    assert!((1.2440..=1.2495).contains(&it), "α_IT = {it}");
    assert!((amp - 1.493).abs() < 2e-3, "α_AMP = {amp}");
}

/// The spherical perceptron has no first-order transition.
#[test]
fn spherical_perceptron_has_no_transition() {
    let cfg = ThresholdConfig {
        alpha_max: 10.0,
        grid_ratio: 1.1,
        ..ThresholdConfig::default()
    };
    let t = thresholds(&gauss(1.0), &sign(), &cfg).unwrap();
    assert_eq!(t.it_kind, ItKind::NoTransition);
    assert!(t.alpha_it.is_none() && t.alpha_amp.is_none());
}

/// Spherical perceptron at large α: α·ε → 0.4417 (Bayes-optimal classification error).
/// Computed: α ε = 0.44146 at α = 50 and 0.44170 at α = 1000, so the finite-α correction
/// at α = 50 is −2.4e-4; the tolerance 1e-3 covers it and the 4-digit literature constant.
#[test]
fn large_alpha_perceptron_error() {
    let cfg = SeConfig::default();
    let p50 = bayes_point(&gauss(1.0), &sign(), 50.0, &cfg).unwrap();
    assert!(
        (50.0 * p50.class_error_bayes - 0.4417).abs() < 1e-3,
        "α ε = {}",
        50.0 * p50.class_error_bayes
    );
    let p1000 = bayes_point(&gauss(1.0), &sign(), 1000.0, &cfg).unwrap();
    assert!(
        (1000.0 * p1000.class_error_bayes - 0.4417).abs() < 1e-4,
        "α ε = {}",
        1000.0 * p1000.class_error_bayes
    );
}

/// The damped iteration and the bracketed solver reach the same fixed points.
#[test]
fn iteration_agrees_with_bracket() {
    let it = SeConfig {
        method: Method::Iterate,
        damping: 0.3,
        tol: 1e-14,
        ..SeConfig::default()
    };
    let br = SeConfig::default();
    for (p, c, a) in [
        (gauss(1.0), abs(), 1.1),
        (gauss(1.0), abs(), 0.7),
        (rad(), sign(), 1.0),
        (gauss(1.0), sign(), 3.0),
    ] {
        let x = se_fixed_point(&p, &c, a, Start::Uninformed, &it).unwrap();
        let y = se_fixed_point(&p, &c, a, Start::Uninformed, &br).unwrap();
        assert_eq!(x.status, gardner_models::run::Termination::Converged);
        assert!(
            (x.m - y.m).abs() < 1e-9,
            "{p:?} {c:?} α={a}: iterate {} vs bracket {}",
            x.m,
            y.m
        );
    }
    // above α_AMP both reach perfect recovery for phase retrieval
    let x = se_fixed_point(&gauss(1.0), &abs(), 1.3, Start::Uninformed, &it).unwrap();
    assert!(x.mse < 1e-10, "{x:?}");
    let y = se_fixed_point(&gauss(1.0), &abs(), 1.3, Start::Uninformed, &br).unwrap();
    assert_eq!(y.kind, FixedPointKind::PerfectRecovery);
    // a tiny iteration budget is a status, not an error
    let short = SeConfig { max_iter: 3, ..it };
    let z = se_fixed_point(&gauss(1.0), &abs(), 1.1, Start::Uninformed, &short).unwrap();
    assert_eq!(z.status, gardner_models::run::Termination::MaxIterations);
}

/// The continuation curve equals independent points, also across the spinodal.
#[test]
fn curve_equals_pointwise() {
    let alphas = [1.2, 0.4, 0.9, 1.127, 1.1285, 1.129, 1.05, 2.0];
    let cfg = SeConfig::default();
    for (p, c) in [(gauss(1.0), abs()), (rad(), sign())] {
        let curve = bayes_curve(&p, &c, &alphas, &cfg);
        for (a, r) in alphas.iter().zip(curve) {
            let r = r.unwrap();
            let q = bayes_point(&p, &c, *a, &cfg).unwrap();
            assert!(
                (r.m_amp - q.m_amp).abs() < 1e-10 && (r.m_mmse - q.m_mmse).abs() < 1e-10,
                "α={a}: {r:?} vs {q:?}"
            );
        }
    }
}

/// Phase-retrieval weak recovery: m = 0 is the AMP fixed point below α = 1/2 and not above.
#[test]
fn phase_retrieval_weak_recovery_at_one_half() {
    let cfg = SeConfig::default();
    let lo = se_fixed_point(&gauss(1.0), &abs(), 0.49, Start::Uninformed, &cfg).unwrap();
    assert_eq!(lo.kind, FixedPointKind::Trivial);
    let hi = se_fixed_point(&gauss(1.0), &abs(), 0.51, Start::Uninformed, &cfg).unwrap();
    assert!(hi.kind == FixedPointKind::Interior && hi.m > 1e-4, "{hi:?}");
}

/// Everything stays finite (apart from the documented ±∞ at perfect recovery) on α ∈ \[0.01, 100\].
#[test]
fn finite_over_alpha_range() {
    let alphas: Vec<f64> = (0..41)
        .map(|i| 0.01 * 10f64.powf(i as f64 / 10.0))
        .collect();
    let cfg = SeConfig::default();
    for (p, c) in [(gauss(1.0), abs()), (rad(), sign()), (gauss(1.0), sign())] {
        for r in bayes_curve(&p, &c, &alphas, &cfg) {
            let b = r.unwrap();
            for x in [
                b.m_amp,
                b.m_mmse,
                b.mmse,
                b.mse_amp,
                b.gen_error_sq_bayes,
                b.gen_error_sq_amp,
                b.class_error_bayes,
                b.class_error_amp,
            ] {
                assert!(x.is_finite() && x >= 0.0, "{b:?}");
            }
            assert!(!b.f_amp.is_nan() && !b.f_informed.is_nan() && !b.m_hat_amp.is_nan());
            assert!(b.mmse <= b.mse_amp + 1e-12, "{b:?}");
        }
    }
}

/// Free entropy at perfect recovery: −ln 2 for the binary perceptron, ±∞ around α = 1 for
/// noiseless phase retrieval, −∞ for a Gaussian prior with sign labels.
#[test]
fn perfect_recovery_free_entropy() {
    assert!((f_rs_perfect(&rad(), &sign(), 1.3).unwrap() + std::f64::consts::LN_2).abs() < 1e-15);
    assert_eq!(
        f_rs_perfect(&gauss(1.0), &abs(), 1.5).unwrap(),
        f64::INFINITY
    );
    assert_eq!(
        f_rs_perfect(&gauss(1.0), &abs(), 0.5).unwrap(),
        f64::NEG_INFINITY
    );
    assert_eq!(
        f_rs_perfect(&gauss(1.0), &sign(), 5.0).unwrap(),
        f64::NEG_INFINITY
    );
    // the finite limit is approached: f_RS(m) of the binary perceptron near m = 1
    let (f, _) = f_rs_potential(&rad(), &sign(), 1.3, 1.0 - 1e-9).unwrap();
    assert!((f + std::f64::consts::LN_2).abs() < 1e-3, "{f}");
}

/// Squared-loss generalisation error (Theorem 2) in closed-form cases.
#[test]
fn generalisation_errors() {
    // m = 0: sign labels have Var = 1; abs labels Var|z| = ρ(1 − 2/π); linear: ρ + Δ.
    let e = crate::gen_error_sq(&sign(), 0.0, 1.0).unwrap();
    assert!((e - 1.0).abs() < 1e-12);
    let e = crate::gen_error_sq(&abs(), 0.0, 1.7).unwrap();
    assert!(
        (e - 1.7 * (1.0 - 2.0 / std::f64::consts::PI)).abs() < 1e-12,
        "{e}"
    );
    let lin = ChannelSpec::Linear { delta: 0.3 }.build().unwrap();
    let e = crate::gen_error_sq(&lin, 0.4, 1.0).unwrap();
    assert!((e - (0.6 + 0.3)).abs() < 1e-12, "{e}");
    // classification error of sign(x·ŵ): arccos(√(m/ρ))/π
    assert!((crate::class_error(0.5, 0.5, 1.0).unwrap() - 0.25).abs() < 1e-15);
}

/// Bad input names the field, its value and the bound.
#[test]
fn bad_input_is_named() {
    let cfg = SeConfig::default();
    for a in [0.0, -1.0, f64::NAN] {
        let e = se_fixed_point(&gauss(1.0), &abs(), a, Start::Uninformed, &cfg)
            .unwrap_err()
            .to_string();
        assert!(e.contains("alpha") && e.contains("> 0"), "{e}");
    }
    let e = bayes_point(
        &gauss(1.0),
        &abs(),
        1.0,
        &SeConfig {
            damping: 1.0,
            ..cfg
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("damping") && e.contains('1') && e.contains("[0, 1)"),
        "{e}"
    );
    let e = f_rs(&gauss(1.0), &abs(), 1.0, 1.5, 1.0)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`m`") && e.contains("1.5") && e.contains("rho"),
        "{e}"
    );
    let e = f_rs(&gauss(1.0), &abs(), 1.0, 0.5, -1.0).unwrap_err();
    assert!(
        matches!(e, Error::InvalidParameter { name: "m_hat", .. }),
        "{e}"
    );
    let e = se_fixed_point(&gauss(1.0), &abs(), 1.0, Start::Overlap(2.0), &cfg)
        .unwrap_err()
        .to_string();
    assert!(e.contains("m0"), "{e}");
    let e = thresholds(
        &gauss(1.0),
        &abs(),
        &ThresholdConfig {
            grid_ratio: 1.0,
            ..ThresholdConfig::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("grid_ratio"), "{e}");
}
