//! Benchmark: a 200-point state-evolution curve (fixed points along α). Target ≤ 1 s.
//!
//! - `bayes_curve`: both branches (uninformed = AMP, informed) by continuation, free entropies
//!   at every fixed point, MMSE / AMP error and both generalisation errors — what `xtask
//!   reproduce fig3` / `fig1` need;
//! - `se_curve`: the uninformed branch only (the SE of AMP).
//!
//! Phase retrieval (Gaussian prior, abs channel) on α ∈ [0.05, 2] and the binary perceptron
//! (Rademacher prior, sign channel) on α ∈ [0.05, 2]. A one-shot wall-clock time of each curve
//! is printed before criterion's statistics.

use criterion::{Criterion, criterion_group, criterion_main};
use gardner_models::{AnyChannel, AnyPrior, ChannelSpec, PriorSpec};
use gardner_theory::{SeConfig, Start, bayes_curve, se_curve};
use std::hint::black_box;
use std::time::Instant;

fn alphas() -> Vec<f64> {
    (0..200).map(|i| 0.05 + 1.95 * i as f64 / 199.0).collect()
}

fn cases() -> Vec<(&'static str, AnyPrior, AnyChannel)> {
    vec![
        (
            "phase_retrieval",
            PriorSpec::Gaussian { rho: 1.0 }.build().unwrap(),
            ChannelSpec::Abs.build().unwrap(),
        ),
        (
            "binary_perceptron",
            PriorSpec::Rademacher.build().unwrap(),
            ChannelSpec::Sign.build().unwrap(),
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let a = alphas();
    let cfg = SeConfig::default();
    for (name, p, ch) in cases() {
        let t = Instant::now();
        let pts = bayes_curve(&p, &ch, &a, &cfg);
        let full = t.elapsed();
        assert!(pts.iter().all(|r| r.is_ok()), "{name}: a point failed");
        let t = Instant::now();
        let se = se_curve(&p, &ch, &a, Start::Uninformed, &cfg);
        let one = t.elapsed();
        assert!(se.iter().all(|r| r.is_ok()));
        println!(
            "{name}: 200-point bayes_curve {full:.3?}, 200-point se_curve (AMP branch) {one:.3?} (target <= 1 s)"
        );
    }
    let mut g = c.benchmark_group("se_curve_200");
    g.sample_size(10);
    for (name, p, ch) in cases() {
        g.bench_function(format!("{name}/bayes_curve"), |b| {
            b.iter(|| black_box(bayes_curve(&p, &ch, black_box(&a), &cfg)))
        });
        g.bench_function(format!("{name}/se_curve"), |b| {
            b.iter(|| black_box(se_curve(&p, &ch, black_box(&a), Start::Uninformed, &cfg)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
