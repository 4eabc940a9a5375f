//! Seeded random streams: every random draw of the project comes from here.
//!
//! Trial `k` of a run with seed `s` uses the stream obtained from `seed_from_u64(s)` by `k`
//! jumps of 2^128 steps (`Xoshiro256PlusPlus::jump`). Streams are tied to trial indices,
//! never to threads, so tables do not depend on the thread count or the order of execution.

use rand::SeedableRng;
pub use rand_xoshiro::Xoshiro256PlusPlus as Rng;

/// The independent stream number `index` of the family seeded by `seed`.
pub fn stream(seed: u64, index: u64) -> Rng {
    let mut r = Rng::seed_from_u64(seed);
    for _ in 0..index {
        r.jump();
    }
    r
}

/// `count` consecutive streams starting at `first` (cheaper than calling [`stream`] each time).
pub fn streams(seed: u64, first: u64, count: usize) -> Vec<Rng> {
    let mut r = stream(seed, first);
    (0..count)
        .map(|_| {
            let s = r.clone();
            r.jump();
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn streams_match_stream() {
        let v = streams(11, 3, 4);
        for (k, mut s) in v.into_iter().enumerate() {
            let mut t = stream(11, 3 + k as u64);
            assert_eq!(s.random::<u64>(), t.random::<u64>());
        }
        assert_ne!(stream(11, 0).random::<u64>(), stream(11, 1).random::<u64>());
    }
}
