//! Executors: who computes the tasks a run still needs. The [`Local`] executor runs them on a
//! rayon pool of this machine with a progress bar; a shard executor (one slice of the task
//! keys per job) plugs in behind the same trait without touching any figure.

use crate::Error;
use crate::key::TaskKey;
use crate::store::{Outcome, TaskRecord};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::io::IsTerminal;
use std::sync::Mutex;

/// A task still to compute: its key, its point (index into the plan and JSON) and seed.
#[derive(Debug, Clone)]
pub struct TaskSpec {
    pub key: TaskKey,
    pub point_index: usize,
    pub seed_index: usize,
    pub point: serde_json::Value,
}

impl TaskSpec {
    /// `alpha = 2, d = 400, seed 3` (for one-line messages).
    pub fn describe(&self) -> String {
        format!("{}, seed {}", describe_point(&self.point), self.seed_index)
    }
}

/// `k = v, …` of a JSON object (the JSON text for anything else).
pub fn describe_point(p: &serde_json::Value) -> String {
    match p {
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// Computes tasks. `work` computes one task (it never panics: panics are caught inside);
/// `sink` receives each finished record as soon as it is done (it persists it).
pub trait Executor {
    /// Worker threads this executor uses at once (for the memory check).
    fn threads(&self) -> usize;
    /// Compute every task of `todo`.
    fn execute(
        &self,
        label: &str,
        todo: &[TaskSpec],
        work: &(dyn Fn(&TaskSpec) -> TaskRecord + Sync),
        sink: &(dyn Fn(&TaskRecord) -> Result<(), Error> + Sync),
    ) -> Result<(), Error>;
}

/// This machine: a rayon pool of `threads` threads and a progress bar on stderr (drawn only
/// when stderr is a terminal and `progress` is set). Results do not depend on `threads`.
#[derive(Debug, Clone)]
pub struct Local {
    pub threads: usize,
    pub progress: bool,
}

impl Executor for Local {
    fn threads(&self) -> usize {
        self.threads
    }
    fn execute(
        &self,
        label: &str,
        todo: &[TaskSpec],
        work: &(dyn Fn(&TaskSpec) -> TaskRecord + Sync),
        sink: &(dyn Fn(&TaskRecord) -> Result<(), Error> + Sync),
    ) -> Result<(), Error> {
        if self.threads == 0 {
            return Err(Error::InvalidParameter {
                name: "threads",
                value: 0.0,
                bound: ">= 1",
            });
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads)
            .build()
            .map_err(|e| Error::ThreadPool {
                threads: self.threads,
                reason: e.to_string(),
            })?;
        let bar = progress_bar(label, "tasks", todo.len() as u64, self.progress);
        let first_error = Mutex::new(None);
        pool.install(|| {
            todo.par_iter().for_each(|t| {
                let record = work(t);
                if let Outcome::Failed(reason) = &record.outcome {
                    bar.println(format!(
                        "{label}: task {} ({}) failed: {reason}",
                        t.key,
                        t.describe()
                    ));
                }
                if let Err(e) = sink(&record) {
                    first_error
                        .lock()
                        .expect("no panic holds it")
                        .get_or_insert(e);
                }
                bar.inc(1);
            })
        });
        bar.finish_and_clear();
        match first_error.into_inner().expect("no panic holds it") {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// A progress bar on stderr counting `unit`s, hidden unless `show` and stderr is a terminal.
pub fn progress_bar(label: &str, unit: &str, len: u64, show: bool) -> ProgressBar {
    if !(show && std::io::stderr().is_terminal()) {
        return ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{msg}} [{{bar:40}}] {{pos}}/{{len}} {unit}, {{elapsed}} elapsed, eta {{eta}}"
        ))
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(label.to_string());
    bar
}
