//! Shards: a deterministic partition of a run's tasks into N parts balanced by an estimate of
//! each task's cost, for job arrays on a cluster. Every shard computes the same plan and
//! keeps its own part; `merge` reads all the shards' records and builds the same report as
//! a single-machine run.

use crate::Error;
use crate::executor::TaskSpec;
use std::fmt;
use std::str::FromStr;

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: usize,
    count: usize,
}

impl Shard {
    /// Shard `index` of `count` (1 ≤ index ≤ count).
    pub fn new(index: usize, count: usize) -> Result<Self, Error> {
        if count == 0 || index == 0 || index > count {
            return Err(Error::Spec(format!(
                "invalid shard {index}/{count}: need 1 <= K <= N"
            )));
        }
        Ok(Self { index, count })
    }
    /// 1-based index.
    pub fn index(&self) -> usize {
        self.index
    }
    /// Number of shards.
    pub fn count(&self) -> usize {
        self.count
    }
    /// The tasks of this shard: longest-processing-time-first assignment of the tasks, sorted
    /// by decreasing `cost` (ties by key), each to the least-loaded shard (ties to the lowest
    /// index). Deterministic: every shard computes the same partition.
    pub fn select(&self, tasks: &[TaskSpec], cost: impl Fn(&TaskSpec) -> f64) -> Vec<TaskSpec> {
        let mut order: Vec<(f64, &TaskSpec)> = tasks.iter().map(|t| (cost(t), t)).collect();
        order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.key.cmp(&b.1.key)));
        let mut load = vec![0.0f64; self.count];
        let mut mine = Vec::new();
        for (c, t) in order {
            let k = (0..self.count)
                .min_by(|&i, &j| load[i].total_cmp(&load[j]).then(i.cmp(&j)))
                .expect("count >= 1");
            load[k] += c.max(0.0);
            if k + 1 == self.index {
                mine.push(t.clone());
            }
        }
        mine
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = Error;
    /// `K/N`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || {
            Error::Spec(format!(
                "invalid shard `{s}`: expected K/N with 1 <= K <= N"
            ))
        };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        Shard::new(
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        )
    }
}
