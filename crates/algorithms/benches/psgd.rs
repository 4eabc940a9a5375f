//! One p-SGD step at d = 2000, α = 3 (n = 6000), b = 0.5 beside one GD step (b = 1) of the
//! same code, phase-retrieval loss, spherical constraint. A step reads each selected row of
//! X once (8 d bytes, 4 d flops: the dot product and the rank-one update), so its cost is
//! ∝ b n and the ratio p-SGD/GD should be ≈ b. The bound is the time to read the selected
//! rows at the core's read bandwidth, measured here by a plain sum over Xᵀ.
//!
//! `cargo bench -p gardner-algorithms --bench psgd`

mod common;

use common::{best_of, read_sum};
use criterion::{Criterion, criterion_group, criterion_main};
use gardner_algorithms::gd::{Problem, spherical_teacher};
use gardner_algorithms::psgd::{
    self, Batch, Config, Confinement, Dynamics, Selection, Start, Stepper, Teacher,
};
use gardner_models::PhaseRetrieval;
use gardner_models::rng::stream;
use gardner_models::run::Step as _;
use std::hint::black_box;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let (d, alpha, b) = (2000, 3.0, 0.5);
    let data = spherical_teacher(d, alpha, &mut stream(1, 0)).expect("data");
    let n = data.n();
    let p = Problem::from_dataset(&data).expect("problem");
    let eta = 0.01;
    let cfg = Config {
        max_steps: usize::MAX,
        record_every: usize::MAX, // observe() is O(d): no training-loss pass
        ..Config::new(eta).expect("config")
    };
    let stepper = |selection| {
        let dynamics = Dynamics {
            loss: PhaseRetrieval,
            teacher: Teacher::Abs,
            selection,
            confinement: Confinement::Spherical,
        };
        let mut rng = stream(1, 1);
        let w0 = psgd::draw(&Start::Random { q0: 1.0 }, &data.w_star, &mut rng).expect("start");
        Stepper::new(&p, &dynamics, w0, &cfg, rng).expect("stepper")
    };
    let mut gd = stepper(Selection::gd());
    let mut sgd = stepper(Selection::sgd(b, eta, Batch::Mean).expect("b"));
    let mut g = c.benchmark_group("psgd");
    g.sample_size(30).measurement_time(Duration::from_secs(6));
    g.bench_function("gd_step_d2000_alpha3", |bch| {
        bch.iter(|| {
            black_box(gd.observe().expect("observe"));
            gd.advance().expect("advance");
        })
    });
    g.bench_function("sgd_step_d2000_alpha3_b0.5", |bch| {
        bch.iter(|| {
            black_box(sgd.observe().expect("observe"));
            sgd.advance().expect("advance");
        })
    });
    g.finish();

    // best-of-N (criterion reports means, which a loaded machine inflates)
    let xt = data.x.transpose().to_owned();
    let bytes = (n * d * 8) as f64;
    let read = best_of(10, || {
        black_box(read_sum(black_box(&xt)));
    });
    let reps = 20;
    let step_time = |st: &mut Stepper<'_, PhaseRetrieval>| {
        let rows0 = st.rows_touched();
        let t = best_of(reps, || {
            black_box(st.observe().expect("observe"));
            st.advance().expect("advance");
        });
        (t, (st.rows_touched() - rows0) as f64 / reps as f64)
    };
    let (t_gd, rows_gd) = step_time(&mut gd);
    let (t_sgd, rows_sgd) = step_time(&mut sgd);
    let report = |name: &str, t: Duration, rows: f64| {
        let (by, fl) = (rows * d as f64 * 8.0, rows * d as f64 * 4.0);
        eprintln!(
            "[psgd] {name}: {:.2} ms/step (best of {reps}), {rows:.0} rows = {:.1} MB read, {:.1} Mflop: \
             {:.1} GB/s, {:.2} Gflop/s, {:.2} x the read bound",
            t.as_secs_f64() * 1e3,
            by / 1e6,
            fl / 1e6,
            by / t.as_secs_f64() / 1e9,
            fl / t.as_secs_f64() / 1e9,
            t.as_secs_f64() / (read.as_secs_f64() * rows / n as f64),
        );
    };
    eprintln!(
        "[psgd] d = {d}, n = {n}: X is {:.0} MB; reading it (plain sum over Xᵀ, best of 10) takes {:.2} ms = {:.1} GB/s",
        bytes / 1e6,
        read.as_secs_f64() * 1e3,
        bytes / read.as_secs_f64() / 1e9
    );
    report("GD (b = 1)", t_gd, rows_gd);
    report(&format!("SGD (b = {b})"), t_sgd, rows_sgd);
    eprintln!(
        "[psgd] time ratio SGD/GD = {:.3} (rows ratio {:.3}, b = {b})",
        t_sgd.as_secs_f64() / t_gd.as_secs_f64(),
        rows_sgd / rows_gd
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
