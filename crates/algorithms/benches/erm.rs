//! Logistic-regression solve (Newton–CG with fused Hessian-vector passes) at d = 1000, α = 3
//! (X is 3000 × 1000) at λ = 0.0093 (near the theory's optimal λ there), and the hinge solve
//! (coordinate ascent then projected Newton on the dual) on the same data at λ = 0.074 (the
//! theory's optimal hinge λ at α = 3), on one thread, against the time of one pass over X
//! (the mat-vec X v).
//!
//! The summary at the end gives best-of-N wall times, and for the logistic solve at
//! several `grad_tol` the gradient norm reached (absolute, and relative to ‖∇J(0)‖, both
//! recomputed independently of the solver), the Newton iterations and the passes over X,
//! so that a peer can be compared at a matched gradient norm. J = Σ ln(1 + e^{−y X·w}) +
//! (λ/2)‖w‖², the minimiser of scikit-learn's `LogisticRegression(C = 1/λ,
//! fit_intercept = False)`. With `GARDNER_ERM_DUMP=<path>` the instance is written there
//! (n, d as u64, then X row by row and y, f64 little-endian) for a peer to solve the very
//! same problem.

use criterion::{Criterion, criterion_group, criterion_main};
use faer::Par;
use gardner_algorithms::erm::{Config, Problem, Solution, run};
use gardner_models::data::{Dataset, matvec, teacher_data};
use gardner_models::rng::stream;
use gardner_models::{Gaussian, Loss, Probit};
use std::hint::black_box;
use std::io::Write;
use std::time::Instant;

const D: usize = 1000;
const ALPHA: f64 = 3.0;
const LAMBDA: f64 = 0.0093;
const LAMBDA_HINGE: f64 = 0.074;

/// Write the instance for a peer (see the module doc).
fn dump(data: &Dataset, path: &str) {
    let mut out = Vec::with_capacity(8 * (2 + data.n() * (data.d() + 1)));
    out.extend((data.n() as u64).to_le_bytes());
    out.extend((data.d() as u64).to_le_bytes());
    for i in 0..data.n() {
        for j in 0..data.d() {
            out.extend(data.x[(i, j)].to_le_bytes());
        }
    }
    for y in &data.y {
        out.extend(y.to_le_bytes());
    }
    let mut f = std::fs::File::create(path).expect("dump file");
    f.write_all(&out).expect("dump write");
    eprintln!("erm: instance written to {path}");
}

fn bench(c: &mut Criterion) {
    let data = teacher_data(
        &Gaussian::new(1.0).unwrap(),
        &Probit::sign(),
        D,
        ALPHA,
        &mut stream(1, 0),
    )
    .unwrap();
    if let Ok(path) = std::env::var("GARDNER_ERM_DUMP") {
        dump(&data, &path);
    }
    let problem = Problem::from_dataset(&data, Loss::Logistic, LAMBDA).unwrap();
    let hinge = Problem::from_dataset(&data, Loss::Hinge, LAMBDA_HINGE).unwrap();
    let config = Config::default();
    let v: Vec<f64> = (0..D).map(|i| (i as f64).sin()).collect();
    let mut out = vec![0.0; data.n()];
    let mut g = c.benchmark_group("erm");
    g.sample_size(10);
    g.bench_function("logistic_newton_cg_d1000_alpha3", |b| {
        b.iter(|| black_box(run(&problem, &config, &mut stream(2, 0)).unwrap()))
    });
    g.bench_function("hinge_dual_newton_d1000_alpha3", |b| {
        b.iter(|| black_box(run(&hinge, &config, &mut stream(2, 0)).unwrap()))
    });
    g.bench_function("x_pass_d1000_alpha3", |b| {
        b.iter(|| matvec(&data.x, black_box(&v), &mut out, Par::Seq))
    });
    g.finish();

    // Summary: best of N wall times.
    let best = |reps: usize, f: &mut dyn FnMut()| {
        (0..reps)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let pass = best(50, &mut || {
        matvec(&data.x, black_box(&v), &mut out, Par::Seq)
    });
    let g0 = problem.grad_norm_at(&vec![0.0; D]);
    eprintln!(
        "erm summary: one X pass (faer mat-vec) {:.3} ms; logistic ‖∇J(0)‖ = {g0:.4}",
        pass * 1e3
    );
    let mut logistic_time = f64::NAN;
    for grad_tol in [1e-8, 1e-6, 1e-4, 2.5e-10, 1e-10] {
        let config = Config {
            grad_tol,
            ..Config::default()
        };
        let mut sol: Option<Solution> = None;
        let time = best(7, &mut || {
            sol = Some(black_box(
                run(&problem, &config, &mut stream(2, 0)).unwrap(),
            ));
        });
        let sol = sol.expect("ran");
        if grad_tol == 1e-8 {
            logistic_time = time;
        }
        let gn = problem.grad_norm_at(&sol.w);
        let last = sol.trace.last().expect("a record");
        eprintln!(
            "erm summary: logistic Newton-CG grad_tol {grad_tol:.1e}: {:.1} ms, ‖∇J‖ = {gn:.3e} \
             (relative {:.3e}), {} Newton iterations, {} passes over X ({:.2} ms/pass), {}",
            time * 1e3,
            gn / g0,
            sol.trace.iterations,
            last.passes,
            time * 1e3 / last.passes as f64,
            sol.trace.termination.status(),
        );
    }
    let mut hinge_iters = 0;
    let hinge_solve = best(3, &mut || {
        let s = run(&hinge, &config, &mut stream(2, 0)).unwrap();
        hinge_iters = s.trace.iterations;
        black_box(s);
    });
    eprintln!(
        "erm summary: hinge solve {:.1} ms ({hinge_iters} iterations), ratio {:.0} X-passes, {:.2} × the logistic solve",
        hinge_solve * 1e3,
        hinge_solve / pass,
        hinge_solve / logistic_time
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
