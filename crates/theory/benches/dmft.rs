//! Benchmark: one time step of the particle DMFT solver (phase retrieval, GD) at step k = 40
//! and k = 80 with N = 1000 particles, and at k = 40 with N = 2000. The per-step cost is
//! O(N k²) (responses) + O(N k) (kernels, noise) + O(k²) (Cholesky row), so doubling k should
//! cost about 4× and doubling N about 2×.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use gardner_models::PhaseRetrieval;
use gardner_models::run::Step;
use gardner_theory::dmft::{Dmft, Regularisation, Selection, Setup, Teacher, TimeGrid};
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

criterion_group!(benches, bench);
criterion_main!(benches);
