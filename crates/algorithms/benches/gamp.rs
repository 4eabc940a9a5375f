//! One GAMP iteration at d = 4000, α = 2 (X is 8000 × 4000, 256 MB) against the time of
//! reading X twice (the memory-bandwidth bound of two mat-vecs), on one thread.
//!
//! Criterion measures four kernels; a summary with best-of-N interleaved wall times and the ratio to the
//! bound (target: iteration ≤ 1.3 × two-pass read) is printed at the end.

use criterion::{Criterion, criterion_group, criterion_main};
use faer::{Mat, Par};
use gardner_algorithms::gamp::{Config, Gamp};
use gardner_models::data::{matvec, matvec_t, teacher_data};
use gardner_models::rng::stream;
use gardner_models::{Gaussian, Probit};
use std::hint::black_box;
use std::time::{Duration, Instant};

const D: usize = 4000;
const ALPHA: f64 = 2.0;

/// Sum of every entry of X: one pure read of X. Four columns at a time with 8 accumulators
/// each (four concurrent read streams, as in the fused GAMP sweep and in faer's kernels).
fn read_sum(x: &Mat<f64>) -> f64 {
    let col = |j: usize| x.col(j).try_as_col_major().unwrap().as_slice();
    let mut acc = [[0.0f64; 8]; 4];
    let mut j = 0;
    let mut rest = 0.0;
    while j + 4 <= x.ncols() {
        let c = [col(j), col(j + 1), col(j + 2), col(j + 3)].map(|c| c.as_chunks::<8>());
        for r in 0..c[0].0.len() {
            for (aq, cq) in acc.iter_mut().zip(&c) {
                for (a, v) in aq.iter_mut().zip(&cq.0[r]) {
                    *a += v;
                }
            }
        }
        for cq in &c {
            rest += cq.1.iter().sum::<f64>();
        }
        j += 4;
    }
    for j in j..x.ncols() {
        rest += col(j).iter().sum::<f64>();
    }
    acc.iter().flatten().sum::<f64>() + rest
}

fn bench(c: &mut Criterion) {
    let (prior, channel) = (Gaussian::new(1.0).unwrap(), Probit::sign());
    let mut rng = stream(2024, 0);
    let data = teacher_data(&prior, &channel, D, ALPHA, &mut rng).unwrap();
    let (n, d) = (data.n(), data.d());
    let x = &data.x;
    let fused = Config::default();
    let plain = Config {
        fused: false,
        ..Config::default()
    };
    let mut gamp_fused = Gamp::new(
        x.as_ref(),
        &data.y,
        &prior,
        &channel,
        &fused,
        &mut rng.clone(),
    )
    .unwrap();
    let mut gamp_plain = Gamp::new(
        x.as_ref(),
        &data.y,
        &prior,
        &channel,
        &plain,
        &mut rng.clone(),
    )
    .unwrap();
    let (v, u) = (vec![0.5; d], vec![0.25; n]);
    let (mut xv, mut xtu) = (vec![0.0; n], vec![0.0; d]);

    let mut group = c.benchmark_group(format!("gamp_d{D}_alpha{ALPHA}"));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    group.bench_function("read_x_twice", |b| {
        b.iter(|| black_box(read_sum(x)) + black_box(read_sum(x)))
    });
    group.bench_function("two_faer_matvecs", |b| {
        b.iter(|| {
            matvec(x, &v, &mut xv, Par::Seq);
            matvec_t(x, &u, &mut xtu, Par::Seq);
            black_box((&xv, &xtu));
        })
    });
    group.bench_function("iteration_fused", |b| {
        b.iter(|| black_box(gamp_fused.step()))
    });
    group.bench_function("iteration_two_faer_matvecs", |b| {
        b.iter(|| black_box(gamp_plain.step()))
    });
    group.finish();

    // Summary: the four kernels interleaved round by round (so that a change of machine load
    // affects them alike), best of `reps` wall times each.
    let reps = 20;
    let time = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        f();
        t.elapsed()
    };
    let mut best = [Duration::MAX; 4];
    for _ in 0..reps {
        let t = [
            time(&mut || {
                black_box(read_sum(x) + read_sum(x));
            }),
            time(&mut || {
                matvec(x, &v, &mut xv, Par::Seq);
                matvec_t(x, &u, &mut xtu, Par::Seq);
                black_box((&xv, &xtu));
            }),
            time(&mut || {
                black_box(gamp_fused.step());
            }),
            time(&mut || {
                black_box(gamp_plain.step());
            }),
        ];
        for k in 0..4 {
            best[k] = best[k].min(t[k]);
        }
    }
    let [read2, faer2, it_fused, it_plain] = best;
    let gb = (n * d * 8) as f64 / 1e9;
    // The bound: the fastest of the two ways of streaming X twice.
    let bound = read2.min(faer2);
    let ms = |t: Duration| t.as_secs_f64() * 1e3;
    let rate = |t: Duration| 2.0 * gb / t.as_secs_f64();
    println!(
        "\nGAMP iteration, d = {d}, n = {n} (X = {:.0} MB), 1 thread, best of {reps}:",
        gb * 1e3
    );
    println!(
        "  read X twice, plain sum     {:8.2} ms  ({:.1} GB/s)",
        ms(read2),
        rate(read2)
    );
    println!(
        "  two faer mat-vecs alone     {:8.2} ms  ({:.1} GB/s)",
        ms(faer2),
        rate(faer2)
    );
    println!("  bound = the faster of these {:8.2} ms", ms(bound));
    println!(
        "  GAMP iteration, fused       {:8.2} ms  = {:.2} x bound (target <= 1.3)",
        ms(it_fused),
        ms(it_fused) / ms(bound)
    );
    println!(
        "  GAMP iteration, 2 mat-vecs  {:8.2} ms  = {:.2} x bound",
        ms(it_plain),
        ms(it_plain) / ms(bound)
    );
    println!(
        "  GAMP state after the runs: m = {:.4}",
        gamp_fused
            .estimate()
            .iter()
            .zip(&data.w_star)
            .map(|(a, w)| a * w)
            .sum::<f64>()
            / d as f64
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
