//! One spherical-GD step (d = 2000, α = 8) and one over-parametrised GD step (d = m = 200,
//! α = 3), each beside its bound:
//! - a GD step is two mat-vecs (X w, Xᵀ u) over the n × d matrix: memory-bound, its floor is
//!   the time to read X twice, measured here by a plain 8-accumulator sum over X (twice);
//! - an over-parametrised step is two products P = X W and Xᵀ(diag(r) P): 4 n d m flops,
//!   compared with the nominal AVX-512 FMA peak of one core (2 FMA units × 8 doubles × 2 flops
//!   per cycle × the clock read from /proc/cpuinfo) and with faer's own X·W alone.
//!
//! `cargo bench -p gardner-algorithms --bench gd`

mod common;

use common::{best_of, read_sum};
use criterion::{Criterion, criterion_group, criterion_main};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use gardner_algorithms::gd::{self, Problem, spherical_teacher};
use gardner_algorithms::overparam;
use gardner_models::rng::stream;
use gardner_models::run::Step as _;
use std::hint::black_box;
use std::time::Duration;

fn clock_ghz() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = s.lines().find(|l| l.starts_with("cpu MHz"))?;
    line.split(':')
        .nth(1)?
        .trim()
        .parse::<f64>()
        .ok()
        .map(|mhz| mhz / 1000.0)
}

fn bench(c: &mut Criterion) {
    // ---- spherical GD, d = 2000, α = 8 (n = 16000, X = 256 MB)
    let (d, alpha) = (2000, 8.0);
    let mut rng = stream(1, 0);
    let data = spherical_teacher(d, alpha, &mut rng).expect("data");
    let n = data.n();
    let p = Problem::from_dataset(&data).expect("problem");
    let bytes = (n * d * 8) as f64;
    let read2 = best_of(5, || {
        black_box(read_sum(black_box(&data.x)));
        black_box(read_sum(black_box(&data.x)));
    });
    let mut g = c.benchmark_group("gd");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    for threads in [1usize, 2] {
        let cfg = gd::Config {
            threads,
            ..gd::Config::default()
        };
        let mut st = gd::Stepper::new(p, &cfg, gd::random_start(d, &mut rng)).expect("stepper");
        g.bench_function(format!("step_d2000_alpha8_threads{threads}"), |b| {
            b.iter(|| {
                black_box(st.evaluate());
                st.advance().expect("finite step");
            })
        });
    }
    g.finish();
    // best-of-N times (criterion reports means, which a loaded machine inflates)
    let cfg = gd::Config::default();
    let mut st = gd::Stepper::new(p, &cfg, gd::random_start(d, &mut rng)).expect("stepper");
    let step_best = best_of(10, || {
        black_box(st.evaluate());
        st.advance().expect("finite step");
    });
    eprintln!(
        "[bound] GD step d = {d}, n = {n}: X is {:.0} MB; reading it twice (plain sum, 1 thread, best of 5) takes {:.1} ms = {:.1} GB/s; \
         one step (1 thread, best of 10) {:.1} ms = {:.2} x that bound.",
        bytes / 1e6,
        read2.as_secs_f64() * 1e3,
        2.0 * bytes / read2.as_secs_f64() / 1e9,
        step_best.as_secs_f64() * 1e3,
        step_best.as_secs_f64() / read2.as_secs_f64()
    );

    // ---- over-parametrised GD, d = m = 200, α = 3 (n = 600)
    let (d, m, alpha) = (200, 200, 3.0);
    let data = spherical_teacher(d, alpha, &mut rng).expect("data");
    let n = data.n();
    let p = Problem::from_dataset(&data).expect("problem");
    let flops = 4.0 * (n * d * m) as f64;
    let w0 = overparam::random_start(d, m, &mut rng);
    let mut pm = Mat::<f64>::zeros(n, m);
    let gemm = best_of(20, || {
        matmul(
            pm.as_mut(),
            Accum::Replace,
            data.x.as_ref(),
            w0.as_ref(),
            1.0,
            Par::Seq,
        );
        black_box(&pm);
    });
    let mut g = c.benchmark_group("overparam");
    g.sample_size(30).measurement_time(Duration::from_secs(6));
    for threads in [1usize, 2] {
        let mut cfg = overparam::Config::new(m).expect("config");
        cfg.threads = threads;
        let mut st = overparam::Stepper::new(p, &cfg, w0.clone()).expect("stepper");
        g.bench_function(format!("step_d200_m200_alpha3_threads{threads}"), |b| {
            b.iter(|| {
                black_box(st.evaluate());
                st.advance().expect("finite step");
            })
        });
    }
    g.finish();
    let cfg = overparam::Config::new(m).expect("config");
    let mut st = overparam::Stepper::new(p, &cfg, w0.clone()).expect("stepper");
    let step_best = best_of(30, || {
        black_box(st.evaluate());
        st.advance().expect("finite step");
    });
    let ghz = clock_ghz().unwrap_or(f64::NAN);
    let peak = ghz * 32.0; // GFLOP/s per core, AVX-512: 2 FMA × 8 doubles × 2 flops per cycle
    eprintln!(
        "[bound] over-param step d = {d}, m = {m}, n = {n}: 4ndm = {:.1} MFLOP; nominal peak {:.1} GFLOP/s/core ({ghz:.2} GHz) \
         → floor {:.2} ms on 1 core; faer X·W alone (2ndm flops, 1 thread, best of 20) {:.2} ms = {:.1} GFLOP/s; \
         one step (1 thread, best of 30) {:.2} ms = {:.1} GFLOP/s = {:.2} x the peak floor.",
        flops / 1e6,
        peak,
        flops / (peak * 1e9) * 1e3,
        gemm.as_secs_f64() * 1e3,
        flops / 2.0 / gemm.as_secs_f64() / 1e9,
        step_best.as_secs_f64() * 1e3,
        flops / step_best.as_secs_f64() / 1e9,
        step_best.as_secs_f64() / (flops / (peak * 1e9))
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
