//! Benchmark: eight time steps (two merges of the finest level) of the compressed-history DMFT
//! solver (phase retrieval, spherical p-SGD, N = 2000, L = 4) after 10 000 steps (t = 100,
//! P ≈ 60 blocks), whose hot loop streams each particle's Ȳ (P²/2 f32) once per step: compare
//! the time per step (an eighth) with N P²/2 · 4 bytes over the memory bandwidth; and one time step of the uniform particle DMFT solver (phase retrieval, GD) at step k = 40
//! and k = 80 with N = 1000 particles, and at k = 40 with N = 2000. The per-step cost is
//! O(N k²) (responses) + O(N k) (kernels, noise) + O(k²) (Cholesky row), so doubling k should
//! cost about 4× and doubling N about 2×.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use gardner_models::Batch;
use gardner_models::PhaseRetrieval;
use gardner_models::run::Step;
use gardner_theory::dmft::{CoarseDmft, Dmft, Regularisation, Selection, Setup, Teacher, TimeGrid};
use std::hint::black_box;

fn solver(particles: usize, k: usize) -> Dmft<PhaseRetrieval> {
    let mut d = Dmft::new(Setup {
        loss: PhaseRetrieval,
        teacher: Teacher::Abs,
        alpha: 3.0,
        regularisation: Regularisation::Ridge(0.0),
        m0: 0.3,
        q0: 1.0,
        selection: Selection::gd(),
        grid: TimeGrid::new(0.01, 1000).unwrap(),
        particles,
        seed: 1,
    })
    .unwrap();
    for _ in 0..k {
        d.advance().unwrap();
    }
    d
}

fn compressed(steps: usize) -> CoarseDmft<PhaseRetrieval> {
    let mut d = CoarseDmft::new(
        Setup {
            loss: PhaseRetrieval,
            teacher: Teacher::Abs,
            alpha: 3.0,
            regularisation: Regularisation::Spherical,
            m0: 0.25,
            q0: 1.0,
            selection: Selection::persistent(0.5, 1.0, Batch::Mean).unwrap(),
            grid: TimeGrid::new(0.01, steps + 100).unwrap(),
            particles: 2000,
            seed: 1,
        },
        4,
        128,
    )
    .unwrap();
    for _ in 0..steps {
        d.advance().unwrap();
    }
    d
}

fn bench_compressed(c: &mut Criterion) {
    let mut g = c.benchmark_group("dmft_compressed_step");
    g.sample_size(10);
    let base = compressed(10_000);
    let p = base.blocks();
    g.bench_function(format!("N2000_t100_P{p}_8_steps"), |b| {
        b.iter_batched(
            || base.clone(),
            |mut d| {
                for _ in 0..8 {
                    d.advance().unwrap();
                }
                black_box(d)
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("dmft_step");
    g.sample_size(10);
    for (n, k) in [(1000, 40), (1000, 80), (2000, 40)] {
        let base = solver(n, k);
        g.bench_function(format!("N{n}_k{k}"), |b| {
            b.iter_batched(
                || base.clone(),
                |mut d| {
                    d.advance().unwrap();
                    black_box(d)
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench, bench_compressed);
criterion_main!(benches);
