//! Tests of the DMFT module.

use super::*;
use gardner_models::run::Step;

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
            // first order in dt: |error| ≤ 0.3 dt at dt/2 = 0.01
            assert!((f - e).abs() < 0.3 * dt / 2.0, "{name}({t}) {f} vs {e}");
            let rich = 2.0 * f - c;
            println!(
                "{name}({t}): exact {e:.6}, dt {dt} {:+.2e}, dt/2 {:+.2e}, Richardson {:+.2e}",
                c - e,
                f - e,
                rich - e
            );
            assert!(
                (rich - e).abs() < 1e-4,
                "Richardson {name}({t}) {rich} vs {e}"
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn setup<L: gardner_models::SampleLoss>(
    loss: L,
    teacher: Teacher,
    reg: Regularisation,
    m0: f64,
    q0: f64,
    selection: Selection,
    dt: f64,
    steps: usize,
    particles: usize,
    seed: u64,
) -> Setup<L> {
    Setup {
        loss,
        teacher,
        alpha: 3.0,
        regularisation: reg,
        m0,
        q0,
        selection,
        grid: TimeGrid::new(dt, steps).unwrap(),
        particles,
        seed,
    }
}

fn particle_run<L: crate::dmft::GenError>(s: Setup<L>) -> (Vec<Observation>, Dmft<L>) {
    let mut d = Dmft::new(s).unwrap();
    let (obs, term) = solve::run_steps(&mut d, s.grid.steps()).unwrap();
    assert!(term.converged(), "{term:?}");
    (obs, d)
}

/// Mean and standard error over a list of values.
fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// The particle solver (N = 2000, 6 seeds) on ridge regression, GD η = 0.1: the seed mean of
/// m, q, e_tr at k = 5, 10, 30 is within 4 standard errors of the closed form, and every
/// seed within 0.06 (the Monte Carlo spread at N = 2000 is about 0.015 in m).
#[test]
fn particle_dmft_matches_exact_gd() {
    let ex = reference();
    let runs: Vec<Vec<Observation>> = (0..6)
        .map(|seed| {
            particle_run(setup(
                gardner_models::Loss::Square,
                Teacher::Linear,
                Regularisation::Ridge(0.5),
                0.2,
                1.04,
                Selection::gd(),
                0.1,
                30,
                2000,
                seed,
            ))
            .0
        })
        .collect();
    for k in [5, 10, 30] {
        let p = ex.gd(0.1, k).unwrap();
        for (name, get, exact) in [
            ("m", (|o: &Observation| o.m) as fn(&Observation) -> f64, p.m),
            ("q", |o: &Observation| o.q, p.q),
            ("e_tr", |o: &Observation| o.train_loss, p.train_loss),
        ] {
            let v: Vec<f64> = runs.iter().map(|r| get(&r[k])).collect();
            let (mean, se) = mean_se(&v);
            assert!(
                (mean - exact).abs() < 4.0 * se,
                "{name}(k = {k}): {mean} ± {se} vs {exact}"
            );
            assert!(v.iter().all(|x| (x - exact).abs() < 0.06), "{name}: {v:?}");
        }
    }
}

/// SGD with b = 1 is GD bit for bit (particle solver and `solve`).
#[test]
fn sgd_with_b_one_is_gd() {
    let run = |sel| {
        particle_run(setup(
            gardner_models::PhaseRetrieval,
            Teacher::Abs,
            Regularisation::Ridge(0.1),
            0.3,
            1.0,
            sel,
            0.02,
            15,
            300,
            7,
        ))
        .0
    };
    assert_eq!(
        run(Selection::gd()),
        run(Selection::sgd(1.0, 0.02, Batch::Sum).unwrap())
    );
    let cfg = |alg: &str| {
        Config::from_toml(&format!(
            "loss = \"phase_retrieval\"\nalpha = 3.0\nregularisation = {{ ridge = 0.1 }}\n\
             m0 = 0.3\nq0 = 1.0\nalgorithm = {alg}\ntimes = [0.1, 0.2]\nmethod = \"dmft\"\n\
             particles = 300\nseed = 3\n"
        ))
        .unwrap()
    };
    let a = solve(&cfg("{ kind = \"gd\", eta = 0.02 }")).unwrap();
    let b = solve(&cfg(
        "{ kind = \"sgd\", eta = 0.02, b = 1.0, batch = \"sum\" }",
    ))
    .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.rows.len(), 2);
}

/// Smallest eigenvalue of the symmetric matrix M_C(i, j), i, j < n.
fn min_eigenvalue(n: usize, mc: impl Fn(usize, usize) -> f64) -> (f64, f64) {
    let a = faer::Mat::from_fn(n, n, &mc);
    for i in 0..n {
        for j in 0..n {
            assert_eq!(a[(i, j)], a[(j, i)], "M_C not symmetric at ({i}, {j})");
        }
    }
    let ev = a.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
    (ev[0], ev[n - 1])
}

/// M_C is symmetric positive semi-definite (Gaussian path and particle path, PR with p-SGD).
#[test]
fn m_c_symmetric_psd() {
    let mut g = GaussianDmft::new(
        3.0,
        Regularisation::Ridge(0.5),
        0.2,
        1.04,
        TimeGrid::new(0.05, 60).unwrap(),
    )
    .unwrap();
    for _ in 0..60 {
        g.advance().unwrap();
    }
    let (lo, hi) = min_eigenvalue(60, |i, j| g.m_c(i, j));
    assert!(lo > -1e-12 * hi, "Gaussian M_C eigenvalues [{lo}, {hi}]");
    let (_, d) = particle_run(setup(
        gardner_models::PhaseRetrieval,
        Teacher::Abs,
        Regularisation::Ridge(0.1),
        0.3,
        1.0,
        Selection::persistent(0.5, 0.1, Batch::Sum).unwrap(),
        0.02,
        40,
        500,
        1,
    ));
    let (lo, hi) = min_eigenvalue(40, |i, j| d.m_c(i, j));
    assert!(lo > -1e-12 * hi, "particle M_C eigenvalues [{lo}, {hi}]");
    // M_R(k, k−1) = α⟨c_k c_{k−1}⟩ (Z(k, k−1) = 1) is finite and, for p-SGD, below α⟨c⟩-scale
    assert!(d.m_r(10, 9).is_finite());
}

/// Spherical runs keep q = 1 within 1e-6 (Gaussian path, and PR particle path with GD and
/// p-SGD).
#[test]
fn spherical_keeps_q_one() {
    let obs = gaussian_run(Regularisation::Spherical, 0.2, 1.0, 0.05, 60);
    assert!(
        obs.iter().all(|o| (o.q - 1.0).abs() < 1e-6),
        "{:?}",
        obs.last()
    );
    for sel in [
        Selection::gd(),
        Selection::persistent(0.5, 0.2, Batch::Mean).unwrap(),
    ] {
        let (obs, _) = particle_run(setup(
            gardner_models::PhaseRetrieval,
            Teacher::Abs,
            Regularisation::Spherical,
            0.3,
            1.0,
            sel,
            0.01,
            60,
            400,
            2,
        ));
        assert!(
            obs.iter().all(|o| (o.q - 1.0).abs() < 1e-6),
            "{:?}",
            obs.last()
        );
        let last = obs.last().unwrap();
        // on the sphere e_gen = 1 − m² (phase retrieval)
        assert!((last.gen_error - (1.0 - last.m * last.m)).abs() < 1e-6);
        assert!(last.m > 0.3, "m should grow from 0.3: {}", last.m);
    }
}

/// Checkpoint + resume gives the uninterrupted run bit for bit; results do not depend on the
/// number of rayon threads.
#[test]
fn resume_and_thread_independence() {
    let s = setup(
        gardner_models::PhaseRetrieval,
        Teacher::Abs,
        Regularisation::Ridge(0.05),
        0.3,
        1.0,
        Selection::persistent(0.5, 0.1, Batch::Sum).unwrap(),
        0.02,
        20,
        200,
        5,
    );
    let (full, _) = particle_run(s);
    let mut d = Dmft::new(s).unwrap();
    for _ in 0..8 {
        d.advance().unwrap();
    }
    let path = std::env::temp_dir().join(format!("dmft-ckpt-{}.json", std::process::id()));
    d.checkpoint(&path).unwrap();
    drop(d);
    let mut r: Dmft<gardner_models::PhaseRetrieval> = Dmft::resume(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(r.step_index(), 8);
    let mut tail = Vec::new();
    for _ in 8..20 {
        tail.push(r.observe().unwrap());
        r.advance().unwrap();
    }
    tail.push(r.observe().unwrap());
    assert_eq!(&full[8..], &tail[..]);
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let (obs, _) = pool.install(|| particle_run(s));
        assert_eq!(obs, full, "{threads} threads");
    }
}

/// TOML: a full config parses; unknown keys and bad values are one-line errors naming the
/// parameter; `exact` and `dmft` agree on GD for the square loss.
#[test]
fn config_and_solve() {
    let src = "loss = \"square\"\nalpha = 3.0\nregularisation = { ridge = 0.5 }\nm0 = 0.2\n\
               q0 = 1.04\nalgorithm = { kind = \"gd\", eta = 0.05 }\ntimes = [0.5, 2.0]\n\
               method = \"exact\"\n";
    let cfg = Config::from_toml(src).unwrap();
    let ex = solve(&cfg).unwrap();
    let dm = solve(&Config {
        method: Method::Dmft,
        ..cfg.clone()
    })
    .unwrap();
    for (a, b) in ex.rows.iter().zip(&dm.rows) {
        assert_eq!(a.time, b.time);
        assert!(
            (a.m - b.m).abs() < 1e-9 && (a.q - b.q).abs() < 1e-9,
            "{a:?} {b:?}"
        );
        assert_eq!(b.status, "ok");
    }
    let flow = src.replace("{ kind = \"gd\", eta = 0.05 }", "{ kind = \"flow\" }");
    let rows = solve(&Config::from_toml(&flow).unwrap()).unwrap().rows;
    assert!((rows[0].m - 0.68458).abs() < 1e-5);
    let err = Config::from_toml(&format!("{src}extra = 1\n")).unwrap_err();
    assert!(err.contains("extra"), "{err}");
    let err = Config::from_toml(&src.replace("alpha = 3.0", "alpha = -1.0")).unwrap_err();
    assert!(
        err.contains("alpha") && err.contains("-1") && err.contains("> 0"),
        "{err}"
    );
    assert!(!err.contains('\n'), "{err}");
    let err = Config::from_toml(&src.replace("loss = \"square\"", "loss = \"phase_retrieval\""))
        .unwrap_err();
    assert!(
        err.contains("`method`") && err.contains("square") && !err.contains("NaN"),
        "{err}"
    );
    let err = Config::from_toml(&src.replace("[0.5, 2.0]", "[0.5, 2.01]")).unwrap_err();
    assert!(err.contains("times"), "{err}");
    let err = Config::from_toml(&src.replace(
        "{ kind = \"gd\", eta = 0.05 }",
        "{ kind = \"psgd\", eta = 0.05, b = 0.1, tau = 0.1, batch = \"sum\" }",
    ))
    .unwrap_err();
    assert!(err.contains("tau"), "{err}");
    let mut w = csv_header(&dm.rows[0]);
    w.retain(|c| c != ' ');
    assert_eq!(
        w,
        "time,m,q,train_loss,gen_error,m_stderr,q_stderr,train_loss_stderr,status"
    );
    assert_eq!(w, SolutionRow::COLUMNS.join(","));
}

fn csv_header(row: &SolutionRow) -> String {
    // field order of the Serialize impl, via serde_json (object keys keep declaration order)
    let v = serde_json::to_string(row).unwrap();
    v.trim_matches(|c| c == '{' || c == '}')
        .split(',')
        .map(|kv| kv.split(':').next().unwrap().trim_matches('"').to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// GD beyond the stability edge η(λ + s₊) > 2 diverges: a `Diverged` termination naming the
/// step and the quantity, no rows after it, the last row carries the failure status with the
/// time of the divergence.
#[test]
fn divergence_is_a_termination() {
    let src = "loss = \"square\"\nalpha = 3.0\nregularisation = { ridge = 0.5 }\nm0 = 0.2\n\
               q0 = 1.04\nalgorithm = { kind = \"gd\", eta = 0.5 }\ntimes = [1.0, 100.0]\n\
               method = \"dmft\"\n";
    let sol = solve(&Config::from_toml(src).unwrap()).unwrap();
    let gardner_models::run::Termination::Diverged {
        iteration,
        quantity,
    } = &sol.termination
    else {
        panic!("{:?}", sol.termination)
    };
    assert!(*iteration > 2 && *iteration < 200, "{iteration}");
    assert!(["m", "q", "train_loss"].contains(&quantity.as_str()));
    assert_eq!(sol.rows.len(), 1);
    assert!(
        sol.rows[0].status.starts_with("failed:")
            && sol.rows[0]
                .status
                .contains(&format!("(t = {})", *iteration as f64 * 0.5)),
        "{}",
        sol.rows[0].status
    );
    assert!(sol.rows[0].m.is_finite());
}

/// End to end: phase retrieval, spherical, p-SGD through TOML and `solve`.
#[test]
fn solve_phase_retrieval_psgd_spherical() {
    let src = "loss = \"phase_retrieval\"\nalpha = 3.0\nregularisation = { spherical = true }\n\
               m0 = 0.3\nq0 = 1.0\nalgorithm = { kind = \"psgd\", eta = 0.01, b = 0.5, tau = 0.1, batch = \"mean\" }\n\
               times = [0.1, 0.3]\nmethod = \"dmft\"\nparticles = 400\nseed = 9\n";
    let sol = solve(&Config::from_toml(src).unwrap()).unwrap();
    assert!(sol.termination.converged(), "{:?}", sol.termination);
    assert_eq!(sol.rows.len(), 2);
    for r in &sol.rows {
        assert_eq!(r.status, "ok");
        assert!((r.q - 1.0).abs() < 1e-6, "{r:?}");
        assert!((r.gen_error - (1.0 - r.m * r.m)).abs() < 1e-6, "{r:?}");
    }
    assert!(sol.rows[1].m > sol.rows[0].m && sol.rows[0].m > 0.3);
    let err = Config::from_toml(&src.replace("q0 = 1.0", "q0 = 0.5")).unwrap_err();
    assert!(err.contains("q0"), "{err}");
}

/// The row-by-row Cholesky of M_C: L Lᵀ reproduces a positive-definite matrix to 1e-13, and
/// for a rank-2 Gram matrix of 5 vectors it floors 3 pivots to 0 and still reproduces it.
#[test]
fn cholesky_rows_factorise() {
    let factor = |m: &dyn Fn(usize, usize) -> f64, n: usize| {
        let mut l: Vec<Vec<f64>> = Vec::new();
        for k in 0..n {
            let row: Vec<f64> = (0..=k).map(|j| m(k, j)).collect();
            let r = crate::dmft::solver::cholesky_row(&l, &row);
            l.push(r);
        }
        for i in 0..n {
            for j in 0..=i {
                let llt: f64 = (0..=j).map(|k| l[i][k] * l[j][k]).sum();
                assert!(
                    (llt - m(i, j)).abs() < 1e-13,
                    "({i},{j}): {llt} vs {}",
                    m(i, j)
                );
            }
        }
        (0..n).filter(|&k| l[k][k] == 0.0).count()
    };
    let spd = |i: usize, j: usize| {
        0.9f64.powi((i as i32 - j as i32).abs()) + if i == j { 0.1 } else { 0.0 }
    };
    assert_eq!(factor(&spd, 8), 0);
    let v = |i: usize| [1.0 + i as f64, (i as f64).sin()];
    let gram = |i: usize, j: usize| v(i)[0] * v(j)[0] + v(i)[1] * v(j)[1];
    assert_eq!(factor(&gram, 5), 3);
}

/// `checkpoint`: a solve stopped at t = 0.3 (checkpoint at step 20) and resumed to t = 0.5
/// gives the uninterrupted rows bit for bit; a checkpoint of another seed is refused.
#[test]
fn solve_checkpoints_and_resumes() {
    let dir = std::env::temp_dir().join(format!("gardner-dmft-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.json");
    let _ = std::fs::remove_file(&path);
    let src = "loss = \"phase_retrieval\"\nalpha = 2.5\nregularisation = { spherical = true }\n\
               m0 = 0.3\nq0 = 1.0\nalgorithm = { kind = \"psgd\", eta = 0.01, b = 0.5, tau = 1.0, batch = \"sum\" }\n\
               times = [0.1, 0.3, 0.5]\nmethod = \"dmft\"\nparticles = 200\nseed = 3\n\
               solver = \"uniform\"\n";
    let compressed = src.replace("solver = \"uniform\"\n", "checkpoint = \"x.json\"\n");
    let err = Config::from_toml(&compressed).unwrap_err();
    assert!(
        err.contains("checkpoint") && err.contains("uniform"),
        "{err}"
    );
    let whole = solve(&Config::from_toml(src).unwrap()).unwrap();
    let ckpt = format!(
        "{src}checkpoint = \"{}\"\ncheckpoint_every = 20\n",
        path.display()
    );
    let first =
        solve(&Config::from_toml(&ckpt.replace("[0.1, 0.3, 0.5]", "[0.1, 0.3]")).unwrap()).unwrap();
    assert!(path.exists());
    assert_eq!(first.rows[..], whole.rows[..2]);
    let resumed = solve(&Config::from_toml(&ckpt).unwrap()).unwrap();
    assert_eq!(resumed.rows, whole.rows);
    let err = solve(&Config::from_toml(&ckpt.replace("seed = 3", "seed = 4")).unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("another configuration"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The blocked memory sum equals the plain double loop Σ_{i=j+1}^{k−1} M_R(k, i) Z(i, j) to
/// rounding, for every k mod 4.
#[test]
fn memory_sum_matches_plain_loop() {
    for k in [0usize, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 40] {
        let z: Vec<f64> = (0..k * k.saturating_sub(1) / 2)
            .map(|x| (x * 7919 % 101) as f64 / 50.0 - 1.0)
            .collect();
        let mr: Vec<f64> = (0..k).map(|i| (i as f64 * 0.37).sin()).collect();
        let mut fast = vec![0.0; k];
        crate::dmft::solver::memory_sum(&z, &mr, &mut fast);
        for (j, f) in fast.iter().enumerate() {
            let plain: f64 = (j + 1..k).map(|i| mr[i] * z[i * (i - 1) / 2 + j]).sum();
            assert!(
                (f - plain).abs() < 1e-13,
                "k = {k}, j = {j}: {f} vs {plain}"
            );
        }
    }
}

/// `replicas = 3`: each row is the mean of the three single runs with seeds 5, 6, 7 and its
/// standard error; a deterministic solve or a checkpoint with replicas > 1 is refused.
#[test]
fn replicas_average_independent_runs() {
    let src = "loss = \"phase_retrieval\"\nalpha = 3.0\nregularisation = { spherical = true }\n\
               m0 = 0.25\nq0 = 1.0\nalgorithm = { kind = \"gd\", eta = 0.01 }\n\
               times = [0.2, 0.5]\nmethod = \"dmft\"\nparticles = 300\nseed = 5\n";
    let mean = solve(&Config::from_toml(&format!("{src}replicas = 3\n")).unwrap()).unwrap();
    let singles: Vec<Solution> = (5..8)
        .map(|seed| {
            let one = src.replace("seed = 5", &format!("seed = {seed}"));
            solve(&Config::from_toml(&one).unwrap()).unwrap()
        })
        .collect();
    for (j, row) in mean.rows.iter().enumerate() {
        let v: Vec<f64> = singles.iter().map(|s| s.rows[j].m).collect();
        let (m, se) = mean_se(&v);
        assert!((row.m - m).abs() < 1e-15, "{} vs {m}", row.m);
        assert!((row.m_stderr.unwrap() - se).abs() < 1e-15);
        assert!(se > 0.0);
        assert_eq!(singles[0].rows[j].m_stderr, None);
    }
    let square = "loss = \"square\"\nalpha = 3.0\nregularisation = { ridge = 0.5 }\nm0 = 0.2\n\
                  q0 = 1.04\nalgorithm = { kind = \"gd\", eta = 0.05 }\ntimes = [0.5]\n\
                  method = \"dmft\"\nreplicas = 2\n";
    let err = Config::from_toml(square).unwrap_err();
    assert!(
        err.contains("replicas") && err.contains("deterministic"),
        "{err}"
    );
    let err =
        Config::from_toml(&format!("{src}replicas = 2\ncheckpoint = \"x.json\"\n")).unwrap_err();
    assert!(
        err.contains("replicas") && err.contains("checkpoint"),
        "{err}"
    );
}

/// b = 1 is the same computation in both batch conventions (weight 1 exactly): the particle
/// solver's observations are bit-identical for p-SGD with b = 1 in `mean` and `sum`, and a
/// TOML config with b < 1 must name its convention.
#[test]
fn b_one_is_bit_identical_in_both_conventions() {
    let run = |batch| {
        particle_run(setup(
            gardner_models::PhaseRetrieval,
            Teacher::Abs,
            Regularisation::Spherical,
            0.3,
            1.0,
            Selection::persistent(1.0, 0.2, batch).unwrap(),
            0.02,
            15,
            200,
            3,
        ))
        .0
    };
    let (mean, sum) = (run(Batch::Mean), run(Batch::Sum));
    assert_eq!(mean.len(), 16);
    for (a, b) in mean.iter().zip(&sum) {
        assert_eq!(
            (a.m.to_bits(), a.q.to_bits(), a.train_loss.to_bits()),
            (b.m.to_bits(), b.q.to_bits(), b.train_loss.to_bits())
        );
    }
    let src = "loss = \"phase_retrieval\"\nalpha = 3.0\nregularisation = { spherical = true }\n\
               m0 = 0.3\nq0 = 1.0\nalgorithm = { kind = \"psgd\", eta = 0.01, b = 0.5, tau = 1.0 }\n\
               times = [0.1]\nmethod = \"dmft\"\n";
    let err = Config::from_toml(src).unwrap_err();
    assert!(err.contains("batch"), "{err}");
    let err =
        Config::from_toml(&src.replace("tau = 1.0", "tau = 1.0, batch = \"avg\"")).unwrap_err();
    assert!(err.contains("mean") && err.contains("sum"), "{err}");
}

/// The gradient flow of ridge regression through the public [`solve`] at default numerics
/// (no `dt`: the TTI solver at dt = 0.01, dt/2) against the exact flow (`flow_ode`, itself
/// checked against the quadrature route): m, q, e_tr, e_gen within 1e-6 at every time up to
/// t = 200, and the reported error estimate bounds the actual error (up to a factor 3).
fn ridge_flow_vs_exact(alpha: f64, lambda: f64, m0: f64, q0: f64) {
    let times = [0.5, 2.0, 10.0, 50.0, 200.0];
    let src = format!(
        "loss = \"square\"\nalpha = {alpha}\nregularisation = {{ ridge = {lambda} }}\n\
         m0 = {m0}\nq0 = {q0}\nalgorithm = {{ kind = \"flow\" }}\ntimes = {times:?}\n\
         method = \"dmft\"\n"
    );
    let cfg = Config::from_toml(&src).unwrap();
    assert_eq!(cfg.dt, None);
    let sol = solve(&cfg).unwrap();
    assert_eq!(sol.status, "ok");
    let est = sol
        .error_estimate
        .expect("the TTI solver reports its error estimate");
    let ex = LinearRidge::new(alpha, lambda, m0, q0).unwrap();
    let exact = ex.flow_ode(&times).unwrap();
    assert_eq!(sol.rows.len(), times.len());
    for (r, e) in sol.rows.iter().zip(&exact) {
        assert_eq!(r.status, "ok");
        let q = ex.flow(r.time).unwrap();
        assert!(
            (q.q - e.q).abs() < 1e-10 && (q.m - e.m).abs() < 1e-10,
            "exact routes {q:?} {e:?}"
        );
        for (a, b, name) in [
            (r.m, e.m, "m"),
            (r.q, e.q, "q"),
            (r.train_loss, e.train_loss, "train_loss"),
            (r.gen_error, e.gen_error, "gen_error"),
        ] {
            assert!(
                (a - b).abs() < 1e-6,
                "t = {}: {name} {a} vs exact {b}",
                r.time
            );
            if name != "gen_error" {
                assert!(
                    (a - b).abs() <= 3.0 * est + 1e-9,
                    "t = {}: {name} error {:.2e} above 3 x estimate {est:.2e}",
                    r.time,
                    (a - b).abs()
                );
            }
        }
    }
    assert!(est < 1e-6, "error estimate {est:.2e}");
}

#[test]
fn ridge_flow_vs_exact_alpha2() {
    ridge_flow_vs_exact(2.0, 0.1, 0.5, 1.0);
}

#[test]
fn ridge_flow_vs_exact_alpha3() {
    ridge_flow_vs_exact(3.0, 0.5, 0.2, 1.04);
}

/// α < 1: the Marchenko–Pastur atom at s = 0.
#[test]
fn ridge_flow_vs_exact_alpha_half() {
    ridge_flow_vs_exact(0.5, 0.01, 0.3, 1.0);
}

/// α = 1, small λ: the lower spectral edge at s = 0, slow relaxation, Neumann ratio 0.82.
#[test]
fn ridge_flow_vs_exact_alpha1() {
    ridge_flow_vs_exact(1.0, 0.01, 0.0, 1.0);
}

#[test]
fn ridge_flow_vs_exact_small_ridge() {
    ridge_flow_vs_exact(1.5, 0.001, 0.1, 0.5);
}

/// Identities of the TTI solver: (i) the trapezoid levels converge at second order (successive
/// differences shrink by 4 when h halves), (ii) ∫₀^∞ Z = Ẑ(0) = (c − √(c² − 4α))/(2α), (iii) the
/// Neumann terms of M_C shrink by α Ẑ(0)² at long times, (iv) the error of one level against
/// the exact flow is the level difference predicted by Richardson.
#[test]
fn ridge_flow_order_and_neumann_ratio() {
    let rf = ridge_flow::RidgeFlow::new(2.0, 0.1, 0.5, 1.0).unwrap();
    let ex = LinearRidge::new(2.0, 0.1, 0.5, 1.0).unwrap();
    let h = 0.04;
    let lv: Vec<ridge_flow::Trapezoid> = (0..3)
        .map(|l| rf.trapezoid(h / f64::from(1 << l), 250 << l).unwrap())
        .collect();
    for t in [2.0, 10.0] {
        let k = (t / h).round() as usize;
        let o: Vec<Observation> = lv
            .iter()
            .enumerate()
            .map(|(l, tr)| tr.observation(k << l, 2.0))
            .collect();
        let e = ex.flow(t).unwrap();
        for (x, exact, name) in [
            (o.iter().map(|o| o.m).collect::<Vec<_>>(), e.m, "m"),
            (o.iter().map(|o| o.q).collect(), e.q, "q"),
            (
                o.iter().map(|o| o.train_loss).collect(),
                e.train_loss,
                "e_tr",
            ),
        ] {
            let ratio = (x[0] - x[1]) / (x[1] - x[2]);
            println!(
                "{name}({t}): difference ratio {ratio:.4}, errors {:.2e} {:.2e} {:.2e}",
                x[0] - exact,
                x[1] - exact,
                x[2] - exact
            );
            assert!((ratio - 4.0).abs() < 0.05, "{name}({t}): ratio {ratio}");
            let err_ratio = (x[1] - exact) / (x[2] - exact);
            assert!(
                (err_ratio - 4.0).abs() < 0.05,
                "{name}({t}): error ratio {err_ratio}"
            );
        }
    }
    // (ii) the trapezoid integral of Z to t = 100, Richardson-extrapolated from h = 0.02, 0.01
    let int = |h: f64| {
        let z = rf.response_z(h, (100.0 / h).round() as usize);
        assert!(z[z.len() - 1].abs() < 1e-12, "Z(100) = {}", z[z.len() - 1]);
        h * (z.iter().sum::<f64>() - 0.5 * (z[0] + z[z.len() - 1]))
    };
    let (i1, i2, i3) = (int(0.02), int(0.01), int(0.005));
    let (r1, r2) = ((4.0 * i2 - i1) / 3.0, (4.0 * i3 - i2) / 3.0);
    let int = (16.0 * r2 - r1) / 15.0;
    println!("∫Z = {int} vs Ẑ(0) = {}", rf.z_hat0());
    assert!(
        (int - rf.z_hat0()).abs() < 1e-10,
        "∫Z = {int} vs Ẑ(0) = {}",
        rf.z_hat0()
    );
    // (iii) on a long horizon (t = 200, coarse h: the ratio is a property of Z, not of h)
    let tr = rf.trapezoid(0.1, 2000).unwrap();
    let rho = rf.neumann_ratio();
    assert!((rho - 0.41909).abs() < 1e-4, "rho {rho}");
    let t = &tr.term_maxima;
    // sup|𝒵f| ≤ Ẑ(0) sup|f| (Z > 0): every ratio of successive maximal terms is at most
    // α Ẑ(0)²; it rises towards that bound (slowly: the σ² chain 𝒵ⁿZ peaks with a width
    // ∝ √n, so its maxima carry a factor ≈ 1/n)
    let ratios: Vec<f64> = t.windows(2).map(|w| w[1] / w[0]).collect();
    println!("Neumann term ratios {ratios:?} vs α Ẑ(0)² = {rho:.5}");
    for (n, w) in ratios.windows(2).enumerate() {
        assert!(
            w[0] <= 1.001 * rho && w[1] > w[0],
            "ratio {n}: {w:?} vs {rho}"
        );
    }
    let last = *ratios.last().unwrap();
    assert!(ratios.len() >= 30 && last > 0.97 * rho, "{last} vs {rho}");
    assert!(
        tr.converged && t.len() <= rf.predicted_terms(200.0),
        "{} terms",
        t.len()
    );
}

/// Bad input names the parameter; a capped Neumann series is reported as not converged.
#[test]
fn ridge_flow_errors_and_non_convergence() {
    let err = ridge_flow::RidgeFlow::new(-1.0, 0.1, 0.0, 1.0).unwrap_err();
    assert!(err.to_string().contains("alpha"), "{err}");
    let err = ridge_flow::RidgeFlow::new(2.0, -0.1, 0.0, 1.0).unwrap_err();
    assert!(err.to_string().contains("ridge"), "{err}");
    let err = ridge_flow::RidgeFlow::new(2.0, 0.1, 1.0, 0.5).unwrap_err();
    assert!(err.to_string().contains("q0"), "{err}");
    let rf = ridge_flow::RidgeFlow::new(2.0, 0.1, 0.5, 1.0).unwrap();
    let err = rf.solve(0.0, 2, &[10]).unwrap_err();
    assert!(err.to_string().contains("dt"), "{err}");
    let err = rf.solve(0.1, 0, &[10]).unwrap_err();
    assert!(err.to_string().contains("levels"), "{err}");
    let run = rf.solve_capped(0.1, 2, &[10, 100], 3).unwrap();
    assert!(!run.converged && run.terms == 3);
    let run = rf.solve(0.1, 2, &[0, 10, 100]).unwrap();
    assert!(run.converged);
    assert_eq!(run.points[0].m, 0.5);
    assert!((run.points[0].q - 1.0).abs() < 1e-15);
    // the solve's estimate follows the TTI cost, not the T³ of the discrete solver
    let src = "loss = \"square\"\nalpha = 2.0\nregularisation = { ridge = 0.1 }\nm0 = 0.5\n\
               q0 = 1.0\nalgorithm = { kind = \"flow\" }\ntimes = [200.0]\nmethod = \"dmft\"\n";
    let est = estimate(&Config::from_toml(src).unwrap()).unwrap();
    assert!(est.cpu_seconds > 0.1 && est.cpu_seconds < 10.0, "{est:?}");
    assert!(est.bytes < 100_000_000, "{est:?}");
    let sph = src
        .replace("{ ridge = 0.1 }", "{ spherical = true }")
        .replace("m0 = 0.5", "m0 = 0.0");
    let est = estimate(&Config::from_toml(&sph).unwrap()).unwrap();
    assert!(
        est.cpu_seconds > 1e3,
        "spherical flow stays on the T³ path: {est:?}"
    );
}

/// `method = "exact"` for the flow uses the quadrature route, which holds at long times (the
/// Dopri5 route turned stiff near t ≈ 480): at t = 1000 (α = 2, λ = 0.1, slowest rate
/// λ + (√α − 1)² ≈ 0.27) m has relaxed to the closed-form m(∞) = 1 − λ G.
#[test]
fn exact_flow_reaches_long_times() {
    let src = "loss = \"square\"\nalpha = 2.0\nregularisation = { ridge = 0.1 }\nm0 = 0.5\n\
               q0 = 1.0\nalgorithm = { kind = \"flow\" }\ntimes = [500.0, 1000.0]\n\
               method = \"exact\"\n";
    let sol = solve(&Config::from_toml(src).unwrap()).unwrap();
    assert_eq!(sol.rows.len(), 2);
    let m_inf = LinearRidge::new(2.0, 0.1, 0.5, 1.0)
        .unwrap()
        .m_infinity()
        .unwrap();
    assert!(
        (sol.rows[1].m - m_inf).abs() < 1e-9,
        "{:?} vs {m_inf}",
        sol.rows[1]
    );
}
