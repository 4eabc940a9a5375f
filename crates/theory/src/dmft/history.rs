//! A compressed time history for memory equations: the grid-doubling ("decimation") scheme.
//!
//! The past steps 0..k are covered by consecutive *blocks* of 2^ℓ steps (level ℓ), oldest
//! first, with block lengths non-increasing in time. Every step appends a block of one step;
//! when a level holds `2 L` blocks (L = `capacity`, even), its oldest `L` blocks are merged
//! pairwise into `L/2` blocks of the next level (cascading). Each level therefore holds at
//! most `2 L` blocks and the recent past keeps the full resolution of one step: the grid has
//! O(L log₂(T/L)) blocks after T steps instead of T, and a block at age a spans about a/L
//! steps (a relative resolution that is the same at every age).
//!
//! Two-time quantities live on the block grid in one of two ways, and merging a group of
//! blocks G into one block N (lengths n_o, n_N = Σ_{o∈G} n_o) keeps each exactly as defined:
//! - *one-time* values x̄(B) = mean over the steps of B (h, f, ξ): averaged,
//!   x̄(N) = Σ_o n_o x̄(o) / n_N ([`Merge::average`]); a running row summed over the steps of
//!   its column block, Y(B) = Σ_{j∈B} Y(j), is summed ([`Merge::sum`]);
//! - *response* kernels X̄(I, B) = mean_{i∈I} Σ_{j∈B, j<i} X(i, j) (rows averaged, columns
//!   summed; lower triangle with the diagonal block): X̄(N, B) = Σ_{o∈G_N} (n_o/n_N)
//!   Σ_{o'∈G_B, o'≤o} X̄(o, o') ([`Merge::response`]);
//! - *covariance* kernels C̄(I, B) = mean over i ∈ I, j ∈ B of C(i, j) (symmetric):
//!   C̄(N, B) = Σ_{o∈G_N, o'∈G_B} n_o n_o' C̄(o, o') / (n_N n_B) ([`Merge::covariance`]).
//!
//! A sum over the past Σ_j K(k, j) x_j is then Σ_B K̄(k, B) x̄(B) with K̄(k, B) = Σ_{j∈B} K(k, j):
//! exact when x is constant within blocks, with an error second order in the variation of x
//! and K across a block otherwise. Triangular arrays are packed row-wise with the diagonal,
//! entry (i, j ≤ i) at [`tri`]`(i) + j`.

use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Offset of row i in a packed lower triangle with the diagonal: i(i + 1)/2.
#[inline]
pub fn tri(i: usize) -> usize {
    i * (i + 1) / 2
}

/// A storage type of a kernel: f64, or f32 where its rounding is far below the Monte-Carlo
/// error (the per-particle responses of the compressed solver).
pub trait Stored: Copy + Into<f64> + Send + Sync {
    /// Round an f64 to the storage type.
    fn from_f64(v: f64) -> Self;
}

impl Stored for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
}

impl Stored for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

/// The block grid of the past (module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    capacity: usize,
    /// Block lengths in steps, oldest first (powers of two, non-increasing).
    lens: Vec<usize>,
}

impl History {
    /// An empty history whose levels keep `capacity` = L ≥ 2 (even) blocks after a merge.
    pub fn new(capacity: usize) -> Result<Self, Error> {
        if capacity < 2 || !capacity.is_multiple_of(2) {
            return Err(Error::InvalidParameter {
                name: "history",
                value: capacity as f64,
                bound: "an even number >= 2",
            });
        }
        Ok(Self {
            capacity,
            lens: Vec::new(),
        })
    }

    /// Number of blocks P.
    pub fn len(&self) -> usize {
        self.lens.len()
    }

    /// `true` before the first step.
    pub fn is_empty(&self) -> bool {
        self.lens.is_empty()
    }

    /// Block lengths, oldest first.
    pub fn lens(&self) -> &[usize] {
        &self.lens
    }

    /// L.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Upper bound on the number of blocks after `steps` steps: (2L − 1) per level for the
    /// levels the steps can fill, never more than `steps`.
    pub fn max_blocks(capacity: usize, steps: usize) -> usize {
        let (mut covered, mut blocks, mut len) = (0usize, 0usize, 1usize);
        while covered < steps {
            covered = covered.saturating_add((2 * capacity - 1) * len);
            blocks += 2 * capacity - 1;
            len = len.saturating_mul(2);
        }
        blocks.min(steps)
    }

    /// Append a block of one step; when levels overflow, merge them and return how the old
    /// blocks (indices into the grid *including* the new block) map to the new ones.
    pub fn push(&mut self) -> Option<Merge> {
        self.lens.push(1);
        let original = self.lens.clone();
        let mut groups: Option<Vec<Range<usize>>> = None;
        let mut len = 1;
        loop {
            let first = self.lens.iter().position(|&n| n == len);
            let Some(start) = first else { break };
            let count = self.lens[start..].iter().take_while(|&&n| n == len).count();
            if count < 2 * self.capacity {
                len *= 2;
                continue;
            }
            let old_lens = self.lens.clone();
            let g = groups.get_or_insert_with(|| (0..old_lens.len()).map(|i| i..i + 1).collect());
            // merge blocks start + 2i, start + 2i + 1 for i < L/2
            let mut new_lens = Vec::with_capacity(old_lens.len());
            let mut new_groups = Vec::with_capacity(old_lens.len());
            let mut i = 0;
            while i < old_lens.len() {
                if i >= start && i < start + self.capacity {
                    new_lens.push(old_lens[i] + old_lens[i + 1]);
                    new_groups.push(g[i].start..g[i + 1].end);
                    i += 2;
                } else {
                    new_lens.push(old_lens[i]);
                    new_groups.push(g[i].clone());
                    i += 1;
                }
            }
            self.lens = new_lens;
            *g = new_groups;
            len *= 2;
        }
        groups.map(|groups| Merge {
            groups,
            old_lens: original,
        })
    }
}

/// How blocks were merged: new block N covers the old blocks `groups[N]` (consecutive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    groups: Vec<Range<usize>>,
    old_lens: Vec<usize>,
}

impl Merge {
    /// Number of blocks after the merge.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// `true` when nothing is left (never for a merge produced by [`History::push`]).
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    fn new_len(&self, n: usize) -> f64 {
        self.groups[n]
            .clone()
            .map(|o| self.old_lens[o])
            .sum::<usize>() as f64
    }

    /// The old blocks o of new block N with their weights n_o / n_N.
    pub fn weights(&self, n: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let total = self.new_len(n);
        self.groups[n]
            .clone()
            .map(move |o| (o, self.old_lens[o] as f64 / total))
    }

    /// Number of blocks before the merge.
    pub fn old_len(&self) -> usize {
        self.old_lens.len()
    }

    /// First new block that is not the old block of the same index: blocks before it (and
    /// the rows and columns of a kernel that lie before it) are untouched by the merge.
    fn first_changed(&self) -> usize {
        self.groups
            .iter()
            .enumerate()
            .position(|(n, g)| g.start != n || g.len() != 1)
            .unwrap_or(self.len())
    }

    /// x̄(N) = Σ_{o∈G_N} n_o x̄(o) / n_N.
    pub fn average(&self, x: &[f64]) -> Vec<f64> {
        let mut v = x.to_vec();
        self.average_in_place(&mut v);
        v
    }

    /// [`Merge::average`] in place (no allocation; untouched blocks are not visited).
    pub fn average_in_place(&self, x: &mut Vec<f64>) {
        debug_assert_eq!(x.len(), self.old_lens.len());
        for n in self.first_changed()..self.len() {
            let s: f64 = self.groups[n]
                .clone()
                .map(|o| self.old_lens[o] as f64 * x[o])
                .sum();
            x[n] = s / self.new_len(n);
        }
        x.truncate(self.len());
    }

    /// Y(N) = Σ_{o∈G_N} Y(o).
    pub fn sum(&self, x: &[f64]) -> Vec<f64> {
        let mut v = x.to_vec();
        self.sum_in_place(&mut v);
        v
    }

    /// [`Merge::sum`] in place.
    pub fn sum_in_place(&self, x: &mut Vec<f64>) {
        debug_assert_eq!(x.len(), self.old_lens.len());
        for n in self.first_changed()..self.len() {
            x[n] = self.groups[n].clone().map(|o| x[o]).sum();
        }
        x.truncate(self.len());
    }

    /// Response kernel (rows averaged, columns summed, packed lower triangle with diagonal).
    pub fn response(&self, x: &[f64]) -> Vec<f64> {
        let mut v = x.to_vec();
        self.response_in_place(&mut v, &mut Vec::new());
        v
    }

    /// [`Merge::response`] in place, for f64 or f32 storage (sums in f64; `row` is scratch).
    /// Rows before the first changed block are not visited, so a merge of the recent levels
    /// costs O(P · changed rows), not O(P²).
    pub fn response_in_place<T: Stored>(&self, x: &mut Vec<T>, row: &mut Vec<f64>) {
        let p_old = self.old_lens.len();
        debug_assert_eq!(x.len(), tri(p_old));
        let p = self.len();
        // New row N reads old rows o ∈ G_N (o ≥ N) and is written to tri(N).. ≤ tri(o)..:
        // building it in `row` before writing keeps the in-place update exact.
        let first = self.first_changed();
        for nrow in first..p {
            let w_row = 1.0 / self.new_len(nrow);
            row.clear();
            row.resize(nrow + 1, 0.0);
            for o in self.groups[nrow].clone() {
                let xo = &x[tri(o)..tri(o) + o + 1];
                let w = self.old_lens[o] as f64 * w_row;
                // columns before `first` are single unchanged blocks
                for (acc, &v) in row[..first].iter_mut().zip(xo) {
                    *acc += w * v.into();
                }
                for (acc, gb) in row[first..].iter_mut().zip(&self.groups[first..=nrow]) {
                    let hi = gb.end.min(o + 1);
                    let s: f64 = xo[gb.start..hi].iter().map(|&v| v.into()).sum();
                    *acc += w * s;
                }
            }
            for (dst, &v) in x[tri(nrow)..tri(nrow) + nrow + 1]
                .iter_mut()
                .zip(row.iter())
            {
                *dst = T::from_f64(v);
            }
        }
        x.truncate(tri(p));
    }

    /// Covariance kernel (averaged over both arguments, packed symmetric lower triangle).
    pub fn covariance(&self, x: &[f64]) -> Vec<f64> {
        let p_old = self.old_lens.len();
        debug_assert_eq!(x.len(), tri(p_old));
        let at = |i: usize, j: usize| if j <= i { x[tri(i) + j] } else { x[tri(j) + i] };
        let p = self.len();
        let mut out = vec![0.0; tri(p)];
        for n in 0..p {
            for b in 0..=n {
                let mut s = 0.0;
                for o in self.groups[n].clone() {
                    for o2 in self.groups[b].clone() {
                        s += (self.old_lens[o] * self.old_lens[o2]) as f64 * at(o, o2);
                    }
                }
                out[tri(n) + b] = s / (self.new_len(n) * self.new_len(b));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct block reduction of a fine response kernel onto block lengths `lens`.
    fn response_direct(lens: &[usize], f: &impl Fn(usize, usize) -> f64) -> Vec<f64> {
        let starts: Vec<usize> = lens
            .iter()
            .scan(0, |s, &n| {
                let a = *s;
                *s += n;
                Some(a)
            })
            .collect();
        let mut out = vec![];
        for (i, (&si, &ni)) in starts.iter().zip(lens).enumerate() {
            for (&sb, &nb) in starts[..=i].iter().zip(lens) {
                let mut s = 0.0;
                for row in si..si + ni {
                    for col in sb..sb + nb {
                        if col < row {
                            s += f(row, col);
                        }
                    }
                }
                out.push(s / ni as f64);
            }
        }
        out
    }

    #[test]
    fn levels_stay_bounded_and_cover_the_past() {
        let mut h = History::new(4).unwrap();
        for steps in 1..=5000 {
            h.push();
            assert_eq!(h.lens().iter().sum::<usize>(), steps);
            assert!(h.lens().windows(2).all(|w| w[0] >= w[1]));
            assert!(h.lens().iter().all(|n| n.is_power_of_two()));
            assert!(h.len() <= History::max_blocks(4, steps), "{steps}");
        }
        assert!(h.len() < 80, "{}", h.len());
        assert!(History::new(3).is_err() && History::new(0).is_err());
    }

    #[test]
    fn merges_keep_block_reductions_exact() {
        // a response kernel with strictly-lower fine entries (diagonal entries 0), pushed step
        // by step and merged as it goes, equals its direct block reduction on the final grid
        let f = |i: usize, j: usize| ((i * 7 + j * 3) % 11) as f64 - 5.0 + 0.01 * (i as f64);
        let g = |i: usize, j: usize| (0.1 * i as f64).sin() * (0.07 * j as f64).cos() + 2.0;
        let x1 = |i: usize| (0.3 * i as f64).cos();
        let mut h = History::new(2).unwrap();
        let (mut resp, mut cov, mut avg, mut sum): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) =
            (vec![], vec![], vec![], vec![]);
        for k in 0..300usize {
            // append row k (block {k}) of the response: Σ over each block's columns
            let lens = h.lens().to_vec();
            let mut col = 0;
            for &n in &lens {
                let s: f64 = (col..col + n).map(|j| f(k, j)).sum();
                resp.push(s);
                let c: f64 = (col..col + n).map(|j| g(k, j)).sum::<f64>() / n as f64;
                cov.push(c);
                col += n;
            }
            resp.push(0.0);
            cov.push(g(k, k));
            avg.push(x1(k));
            sum.push(x1(k));
            if let Some(m) = h.push() {
                resp = m.response(&resp);
                cov = m.covariance(&cov);
                avg = m.average(&avg);
                sum = m.sum(&sum);
            }
        }
        let lens = h.lens().to_vec();
        assert!(lens.len() < 30 && lens[0] > 8, "{lens:?}");
        let want = response_direct(&lens, &f);
        for (a, b) in resp.iter().zip(&want) {
            assert!((a - b).abs() < 1e-9 * (1.0 + b.abs()), "{a} vs {b}");
        }
        // covariance: symmetric g on the lower triangle, block means
        let gs = |i: usize, j: usize| if j <= i { g(i, j) } else { g(j, i) };
        let mut start = 0;
        let bounds: Vec<(usize, usize)> = lens
            .iter()
            .map(|&n| {
                let r = (start, n);
                start += n;
                r
            })
            .collect();
        for (i, &(si, ni)) in bounds.iter().enumerate() {
            let mean_x: f64 = (si..si + ni).map(x1).sum::<f64>() / ni as f64;
            assert!((avg[i] - mean_x).abs() < 1e-12);
            assert!((sum[i] - mean_x * ni as f64).abs() < 1e-9);
            for (b, &(sb, nb)) in bounds[..=i].iter().enumerate() {
                let mut s = 0.0;
                for r in si..si + ni {
                    for c in sb..sb + nb {
                        s += gs(r, c);
                    }
                }
                let want = s / (ni * nb) as f64;
                assert!((cov[tri(i) + b] - want).abs() < 1e-12, "{i} {b}");
            }
        }
    }
}
