//! # gardner-sim: experiments — theory beside simulation
//!
//! An experiment ([`Experiment`]) is a typed, validated spec (`papers/<id>.toml`) that plans
//! its simulation tasks (point × seed), runs one task on its random stream, and reports the
//! theory next to the aggregated simulations as typed rows, a typed summary, headline numbers
//! and a plot. The figures of the talk are experiments in [`figs`].
//!
//! - **Task identity by content** ([`key`]): each task is keyed by a hash of the figure, the
//!   spec values it depends on, its point and its seed index; its random stream is seeded from
//!   the key. Adding an α or a seed changes no other task's result; the thread count, the
//!   order and the machine do not matter.
//! - **Results** ([`store`]) are JSON lines, one record per task, carrying the key and the
//!   fingerprint of the code that computed them ([`key::CODE_FINGERPRINT`], a hash of the
//!   library sources taken at build time): a cached result from other code or another spec is
//!   never reused. Files merge: any set of shards or reruns can be read together.
//! - **Executors** ([`executor`]): [`Local`] runs tasks on a rayon pool with a progress bar;
//!   every finished task is appended and flushed at once, so an interrupted run (Ctrl-C)
//!   loses only the tasks in flight and resumes where it stopped.
//! - **Shards** ([`shard`]): `run_shard` computes one part of a deterministic, cost-balanced
//!   partition of the tasks; `merge` reads any number of shard files and builds exactly the
//!   report of a single-machine run (missing or failed tasks are listed by key).
//! - **Failures** ([`runner`]): a run that does not fit in memory is refused before it
//!   starts; a task that errors or panics is a `failed: …` status with a one-line message.
//!
//! Statistics: [`stats`] (mean, standard error), [`success`] (Wilson intervals, 50 %
//! crossings, bootstrap, finite-size fits).

pub mod case;
pub mod check;
pub mod executor;
pub mod experiment;
pub mod figs;
pub mod findings;
pub mod key;
pub mod kit;
pub mod plot;
pub mod registry;
pub mod runner;
pub mod shard;
pub mod stats;
pub mod store;
pub mod success;
pub mod table;
#[cfg(test)]
mod tests;
pub mod views;

pub use executor::{Executor, Local, TaskSpec};
pub use experiment::{
    Agreement, Experiment, Headline, Mode, Plan, PointSims, Report, Sims, SimulationSummary, Sizes,
    View,
};
pub use findings::{Findings, Verdict};
pub use key::{CODE_FINGERPRINT, TaskKey};
pub use plot::{Axis, Level, Panel, Plot, Role, Rule, RuleKind, Series, Span, Style};
pub use runner::{CacheOptions, Run, ShardRun, estimated_core_hours, merge, run, run_shard};
pub use shard::Shard;
pub use stats::Stat;
pub use store::{Outcome, Store, TaskRecord};
pub use table::Status;

use std::path::PathBuf;

/// Errors of the experiment layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter outside its domain: names it, its value and the bound.
    #[error("invalid parameter `{name}` = {value}: must be {bound}")]
    InvalidParameter {
        name: &'static str,
        value: f64,
        bound: &'static str,
    },
    /// The spec is invalid or a report could not be built (the one-line reason).
    #[error("{0}")]
    Spec(String),
    /// Reading or writing results failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The thread pool could not be built.
    #[error("cannot build a thread pool of {threads} threads: {reason}")]
    ThreadPool { threads: usize, reason: String },
    /// The largest task does not fit in memory.
    #[error(
        "{figure}: refusing to run: a task at {point} needs about {:.2} GB, × {threads} threads, but {:.2} GB of memory are available",
        *task_bytes as f64 / 1e9, *available as f64 / 1e9
    )]
    Memory {
        figure: &'static str,
        point: String,
        task_bytes: u64,
        threads: usize,
        available: u64,
    },
    /// `merge` found tasks without a result, or failed ones.
    #[error("{figure}: {count} of {total} tasks missing or failed; nothing written:\n  {list}")]
    Incomplete {
        figure: &'static str,
        count: usize,
        total: usize,
        list: String,
    },
    /// A table or summary could not be written, read or compared (the one-line reason).
    #[error("{0}")]
    Data(String),
    /// A model's constructor or computation refused its input.
    #[error(transparent)]
    Model(#[from] gardner_models::Error),
    /// A theory computation failed.
    #[error(transparent)]
    Theory(#[from] gardner_theory::Error),
    /// An algorithm refused its input or failed.
    #[error(transparent)]
    Algorithm(#[from] gardner_algorithms::Error),
    /// A planned task has no result.
    #[error("task {key} ({task}) has no result")]
    Missing { key: String, task: String },
}

impl From<String> for Error {
    /// A one-line reason of the spec or the report ([`Error::Spec`]).
    fn from(reason: String) -> Self {
        Error::Spec(reason)
    }
}

impl From<&str> for Error {
    /// A one-line reason of the spec or the report ([`Error::Spec`]).
    fn from(reason: &str) -> Self {
        Error::Spec(reason.into())
    }
}

impl From<csv::Error> for Error {
    fn from(e: csv::Error) -> Self {
        Error::Data(e.to_string())
    }
}
