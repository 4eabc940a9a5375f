//! Logistic-regression solve (Newton, Cholesky of the d × d Hessian) at d = 1000, α = 3
//! (X is 3000 × 1000) at λ = 0.0093 (near the theory's optimal λ there), and the hinge solve
//! (coordinate ascent then projected Newton on the dual) on the same data at λ = 0.074 (the
//! theory's optimal hinge λ at α = 3), on one thread, against the time of one pass over X
//! (the mat-vec X v). A summary with best-of-N wall times and their ratios is printed at the
//! end.

use criterion::{Criterion, criterion_group, criterion_main};
use faer::Par;
use gardner_algorithms::erm::{Config, Problem, run};
use gardner_models::data::{matvec, teacher_data};
use gardner_models::rng::stream;
use gardner_models::{Gaussian, Loss, Probit};
use std::hint::black_box;
use std::time::Instant;

const D: usize = 1000;
const ALPHA: f64 = 3.0;
const LAMBDA: f64 = 0.0093;
const LAMBDA_HINGE: f64 = 0.074;

fn bench(c: &mut Criterion) {
    let data = teacher_data(
        &Gaussian::new(1.0).unwrap(),
        &Probit::sign(),
        D,
        ALPHA,
        &mut stream(1, 0),
    )
    .unwrap();
    let problem = Problem::from_dataset(&data, Loss::Logistic, LAMBDA).unwrap();
    let hinge = Problem::from_dataset(&data, Loss::Hinge, LAMBDA_HINGE).unwrap();
    let config = Config::default();
    let v: Vec<f64> = (0..D).map(|i| (i as f64).sin()).collect();
    let mut out = vec![0.0; data.n()];
    let mut g = c.benchmark_group("erm");
    g.sample_size(10);
    g.bench_function("logistic_newton_d1000_alpha3", |b| {
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
    let mut iters = 0;
    let solve = best(5, &mut || {
        let s = run(&problem, &config, &mut stream(2, 0)).unwrap();
        iters = s.trace.iterations;
        black_box(s);
    });
    let mut hinge_iters = 0;
    let hinge_solve = best(3, &mut || {
        let s = run(&hinge, &config, &mut stream(2, 0)).unwrap();
        hinge_iters = s.trace.iterations;
        black_box(s);
    });
    let pass = best(50, &mut || {
        matvec(&data.x, black_box(&v), &mut out, Par::Seq)
    });
    eprintln!(
        "erm summary: logistic Newton solve {:.1} ms ({iters} Newton iterations), one X pass {:.3} ms, ratio {:.0} X-passes",
        solve * 1e3,
        pass * 1e3,
        solve / pass
    );
    eprintln!(
        "erm summary: hinge solve {:.1} ms ({hinge_iters} iterations), ratio {:.0} X-passes, {:.2} × the logistic solve",
        hinge_solve * 1e3,
        hinge_solve / pass,
        hinge_solve / solve
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
