//! The selection process: each sample's s_μ(k) is a two-state Markov chain, kept as in- and
//! out-lists updated by geometric skipping (module docs of [`super`]).

use crate::error::Error;
use gardner_models::dynamics::Selection;
use gardner_models::rng::Rng;
use rand::RngExt;

/// The selection process of n samples: the in-batch index list (the samples of s_μ = 1), the
/// out-list and each sample's position in its list.
#[derive(Debug, Clone)]
pub struct Chain {
    p_join: f64,
    p_leave: f64,
    batch: Vec<usize>,
    out: Vec<usize>,
    /// Position of sample μ in `batch` (if selected) or `out`.
    pos: Vec<usize>,
    selected: Vec<bool>,
    leave: Vec<usize>,
    join: Vec<usize>,
}

impl Chain {
    /// s_μ(0) ~ Bernoulli(b) for μ = 0..n, in increasing μ (no draw when b = 1); the flips
    /// at the step η have the probabilities [`Selection::probabilities`].
    pub fn new(n: usize, sel: &Selection, eta: f64, rng: &mut Rng) -> Result<Self, Error> {
        let (p_join, p_leave) = sel.probabilities(eta)?;
        let b = sel.b();
        let (mut batch, mut out) = (Vec::new(), Vec::new());
        let mut pos = vec![0; n];
        let mut selected = vec![false; n];
        for mu in 0..n {
            if b >= 1.0 || rng.random::<f64>() < b {
                pos[mu] = batch.len();
                batch.push(mu);
                selected[mu] = true;
            } else {
                pos[mu] = out.len();
                out.push(mu);
            }
        }
        Ok(Self {
            p_join,
            p_leave,
            batch,
            out,
            pos,
            selected,
            leave: Vec::new(),
            join: Vec::new(),
        })
    }

    /// (P(0 → 1), P(1 → 0)) per step.
    pub fn probabilities(&self) -> (f64, f64) {
        (self.p_join, self.p_leave)
    }

    /// The samples with s_μ = 1 (in no particular order after the first flip).
    pub fn selected(&self) -> &[usize] {
        &self.batch
    }

    /// s_μ.
    pub fn is_selected(&self, mu: usize) -> bool {
        self.selected[mu]
    }

    /// One step of every sample's chain: the flips are drawn by geometric skipping over the
    /// in- and out-lists (cost ∝ number of flips), then applied.
    pub fn step(&mut self, rng: &mut Rng) {
        self.leave.clear();
        self.join.clear();
        picks(self.batch.len(), self.p_leave, rng, &mut self.leave);
        picks(self.out.len(), self.p_join, rng, &mut self.join);
        // positions → samples, then remove (descending positions keep the others valid)
        for p in self.leave.iter_mut() {
            *p = self.batch[*p];
        }
        for p in self.join.iter_mut() {
            *p = self.out[*p];
        }
        for i in (0..self.leave.len()).rev() {
            remove(&mut self.batch, &mut self.pos, self.leave[i]);
        }
        for i in (0..self.join.len()).rev() {
            remove(&mut self.out, &mut self.pos, self.join[i]);
        }
        for &mu in &self.leave {
            self.pos[mu] = self.out.len();
            self.out.push(mu);
            self.selected[mu] = false;
        }
        for &mu in &self.join {
            self.pos[mu] = self.batch.len();
            self.batch.push(mu);
            self.selected[mu] = true;
        }
    }
}

/// swap_remove of sample `mu` from `list`, updating the position of the moved element.
fn remove(list: &mut Vec<usize>, pos: &mut [usize], mu: usize) {
    let i = pos[mu];
    list.swap_remove(i);
    if i < list.len() {
        pos[list[i]] = i;
    }
}

/// The positions 0..len picked independently with probability p, in increasing order, by
/// geometric skipping: the gap before the next pick is ⌊ln U / ln(1 − p)⌋, U ~ U(0, 1].
fn picks(len: usize, p: f64, rng: &mut Rng, out: &mut Vec<usize>) {
    if p <= 0.0 || len == 0 {
        return;
    }
    if p >= 1.0 {
        out.extend(0..len);
        return;
    }
    let inv = 1.0 / (-p).ln_1p();
    let mut i = 0usize;
    loop {
        let u = 1.0 - rng.random::<f64>();
        let gap = (u.ln() * inv).floor() as usize; // saturates for huge gaps
        i = i.saturating_add(gap);
        if i >= len {
            return;
        }
        out.push(i);
        i += 1;
    }
}
