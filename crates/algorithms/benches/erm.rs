//! Logistic-regression solve (Newton, Cholesky of the d × d Hessian) at d = 1000, α = 3
//! (X is 3000 × 1000) at λ = 0.0093 (near the theory's optimal λ there), on one thread, against
//! the time of one pass over X (the mat-vec X v). A summary with best-of-N wall times and
//! their ratio is printed at the end.

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
    let config = Config::default();
    let v: Vec<f64> = (0..D).map(|i| (i as f64).sin()).collect();
    let mut out = vec![0.0; data.n()];
    let mut g = c.benchmark_group("erm");
    g.sample_size(10);
    g.bench_function("logistic_newton_d1000_alpha3", |b| {
        b.iter(|| black_box(run(&problem, &config, &mut stream(2, 0)).unwrap()))
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
    let pass = best(50, &mut || {
        matvec(&data.x, black_box(&v), &mut out, Par::Seq)
    });
    eprintln!(
        "erm summary: logistic Newton solve {:.1} ms ({iters} Newton iterations), one X pass {:.3} ms, ratio {:.0} X-passes",
        solve * 1e3,
        pass * 1e3,
        solve / pass
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
