//! The run loop of an experiment: plan → keys → cached results → memory check → execute the
//! rest → typed simulations → report.

use crate::Error;
use crate::executor::{Executor, TaskSpec, describe_point};
use crate::experiment::{Experiment, Mode, PointSims, Report, Sims};
use crate::key::{CODE_FINGERPRINT, TaskKey};
use crate::shard::Shard;
use crate::store::{Appender, Outcome, Store, TaskRecord};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// Where results are cached.
#[derive(Debug, Clone, Default)]
pub struct CacheOptions {
    /// Directory whose `*.jsonl` files are read (records of the current code only) and
    /// where new records are appended; `None`: compute everything, keep nothing.
    pub dir: Option<PathBuf>,
}

/// A finished run: the report and what it cost.
pub struct Run<E: Experiment> {
    pub report: Report<E>,
    /// Tasks in the plan, computed now, read from the cache, failed.
    pub tasks: usize,
    pub computed: usize,
    pub cached: usize,
    pub failed: usize,
    /// Wall time of the whole run in seconds.
    pub seconds: f64,
    /// Sum of the tasks' wall times (cached included).
    pub task_seconds: f64,
}

/// Every task of `exp` in `mode`, keyed by content.
pub fn tasks<E: Experiment>(
    id: &'static str,
    exp: &E,
    mode: Mode,
) -> Result<(Vec<E::Point>, Vec<TaskSpec>), Error> {
    let plan = exp.plan(mode)?;
    let mut out = Vec::with_capacity(plan.points.len() * plan.seeds);
    for (i, p) in plan.points.iter().enumerate() {
        let point = serde_json::to_value(p).map_err(|e| Error::Spec(e.to_string()))?;
        for s in 0..plan.seeds {
            out.push(TaskSpec {
                key: TaskKey::new(id, &plan.context, &point, s),
                point_index: i,
                seed_index: s,
                point: point.clone(),
            });
        }
    }
    Ok((plan.points, out))
}

/// Memory available to new processes (`MemAvailable` of /proc/meminfo), if known.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Refuse a run whose largest task, times the executor's threads, does not fit in `available`.
pub fn check_memory<E: Experiment>(
    id: &'static str,
    exp: &E,
    points: &[E::Point],
    todo: &[TaskSpec],
    threads: usize,
    available: u64,
) -> Result<(), Error> {
    let worst = todo
        .iter()
        .map(|t| (exp.task_bytes(&points[t.point_index]), t))
        .max_by_key(|(b, _)| *b);
    if let Some((bytes, t)) = worst {
        let need = bytes.saturating_mul(threads.min(todo.len()) as u64);
        if need > available {
            return Err(Error::Memory {
                figure: id,
                point: describe_point(&t.point),
                task_bytes: bytes,
                threads,
                available,
            });
        }
    }
    Ok(())
}

/// The one-line message of a panic payload.
fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    let msg = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("panic: {}", msg.lines().next().unwrap_or(""))
}

/// Compute one task: its stream comes from its key; an error or a panic is a failed record.
pub fn compute_task<E: Experiment>(
    id: &'static str,
    exp: &E,
    points: &[E::Point],
    t: &TaskSpec,
) -> TaskRecord {
    let start = Instant::now();
    let mut rng = t.key.stream();
    let result = catch_unwind(AssertUnwindSafe(|| {
        exp.run(&points[t.point_index], &mut rng)
    }));
    let outcome = match result {
        Ok(Ok((obs, termination))) => match serde_json::to_value(&obs) {
            Ok(obs) => Outcome::Done { obs, termination },
            Err(e) => Outcome::Failed(format!("observation not serialisable: {e}")),
        },
        Ok(Err(reason)) => Outcome::Failed(reason.to_string()),
        Err(payload) => Outcome::Failed(panic_message(payload.as_ref())),
    };
    TaskRecord {
        key: t.key,
        code: CODE_FINGERPRINT.to_string(),
        figure: id.to_string(),
        point: t.point.clone(),
        seed_index: t.seed_index,
        outcome,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// Compute `todo` with `exec`, appending each record to `file` (if any) as it finishes;
/// panics become failed records with one line each, no backtrace.
fn execute<E: Experiment>(
    id: &'static str,
    exp: &E,
    points: &[E::Point],
    todo: &[TaskSpec],
    exec: &dyn Executor,
    file: Option<&Path>,
) -> Result<Vec<TaskRecord>, Error> {
    if let Some(avail) = available_memory() {
        check_memory(id, exp, points, todo, exec.threads(), avail)?;
    }
    if todo.is_empty() {
        return Ok(Vec::new());
    }
    let appender = Mutex::new(file.map(Appender::open).transpose()?);
    let done = Mutex::new(Vec::with_capacity(todo.len()));
    let sink = |r: &TaskRecord| -> Result<(), Error> {
        done.lock().expect("no panic holds it").push(r.clone());
        match appender.lock().expect("no panic holds it").as_mut() {
            Some(a) => a.append(r),
            None => Ok(()),
        }
    };
    let work = |t: &TaskSpec| compute_task(id, exp, points, t);
    let quiet = QuietPanics::install();
    let result = exec.execute(id, todo, &work, &sink);
    drop(quiet);
    result?;
    Ok(done.into_inner().expect("no panic holds it"))
}

/// The tasks of `specs` without a record in `store`.
fn missing(specs: &[TaskSpec], store: &Store) -> Vec<TaskSpec> {
    specs
        .iter()
        .filter(|t| store.get(&t.key).is_none())
        .cloned()
        .collect()
}

/// Run `exp` in `mode`: reuse cached records of the same key and code, refuse a run that
/// does not fit in memory, execute the rest, then build the report. Failed tasks are in the
/// report's status column and counted in [`Run::failed`]; the caller decides the exit code.
pub fn run<E: Experiment>(
    id: &'static str,
    exp: &E,
    mode: Mode,
    exec: &dyn Executor,
    cache: &CacheOptions,
) -> Result<Run<E>, Error> {
    let start = Instant::now();
    let (points, specs) = tasks(id, exp, mode)?;
    let mut store = match &cache.dir {
        Some(d) => Store::load_dir(d)?,
        None => Store::new(),
    };
    let todo = missing(&specs, &store);
    let file = cache
        .dir
        .as_ref()
        .map(|d| d.join(format!("{}-{}.jsonl", id, std::process::id())));
    for r in execute(id, exp, &points, &todo, exec, file.as_deref())? {
        store.insert(r);
    }
    finish(exp, mode, &points, &specs, &store, todo.len(), start)
}

/// Estimated core-hours of `mode`: Σ over its tasks of [`Experiment::task_seconds_estimate`];
/// `None` when the experiment has no cost model.
pub fn estimated_core_hours<E: Experiment>(exp: &E, mode: Mode) -> Result<Option<f64>, Error> {
    let plan = exp.plan(mode)?;
    let mut seconds = 0.0;
    for p in &plan.points {
        match exp.task_seconds_estimate(p) {
            Some(s) => seconds += s,
            None => return Ok(None),
        }
    }
    Ok(Some(seconds * plan.seeds as f64 / 3600.0))
}

/// Build the report from a complete store.
fn finish<E: Experiment>(
    exp: &E,
    mode: Mode,
    points: &[E::Point],
    specs: &[TaskSpec],
    store: &Store,
    computed: usize,
    start: Instant,
) -> Result<Run<E>, Error> {
    let cached = specs.len() - computed;
    let sims = assemble::<E>(points, specs, store, computed, cached)?;
    let (failed, task_seconds) = (sims.failed(), sims.task_seconds);
    let report = exp.report(mode, &sims)?;
    Ok(Run {
        report,
        tasks: specs.len(),
        computed,
        cached,
        failed,
        seconds: start.elapsed().as_secs_f64(),
        task_seconds,
    })
}

/// What a shard run did.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardRun {
    /// Tasks of the shard, computed now, already in the shard directory, failed now.
    pub tasks: usize,
    pub computed: usize,
    pub cached: usize,
    pub failed: usize,
    /// The file the shard appended to.
    pub file: PathBuf,
}

/// Run only shard `shard` of `exp` in `mode`, appending its records to
/// `<dir>/shard-K-of-N.jsonl` (tasks already recorded anywhere in `dir` are skipped).
pub fn run_shard<E: Experiment>(
    id: &'static str,
    exp: &E,
    mode: Mode,
    exec: &dyn Executor,
    dir: &Path,
    shard: Shard,
) -> Result<ShardRun, Error> {
    let (points, specs) = tasks(id, exp, mode)?;
    let mine = shard.select(&specs, |t| exp.task_cost(&points[t.point_index]));
    let store = Store::load_dir(dir)?;
    let todo = missing(&mine, &store);
    let file = dir.join(format!(
        "shard-{}-of-{}.jsonl",
        shard.index(),
        shard.count()
    ));
    let records = execute(id, exp, &points, &todo, exec, Some(&file))?;
    let failed = records
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
        .count();
    Ok(ShardRun {
        tasks: mine.len(),
        computed: todo.len(),
        cached: mine.len() - todo.len(),
        failed,
        file,
    })
}

/// Merge the records under `dir` (any number of shard files) into the report of a
/// single-machine run. Missing or failed tasks are an error listing them by key; nothing
/// is computed.
pub fn merge<E: Experiment>(
    id: &'static str,
    exp: &E,
    mode: Mode,
    dir: &Path,
) -> Result<Run<E>, Error> {
    let start = Instant::now();
    let (points, specs) = tasks(id, exp, mode)?;
    let store = Store::load_dir(dir)?;
    let mut problems = Vec::new();
    for t in &specs {
        match store.get(&t.key).map(|r| &r.outcome) {
            None => problems.push(format!("missing {} ({})", t.key, t.describe())),
            Some(Outcome::Failed(e)) => {
                problems.push(format!("failed {} ({}): {e}", t.key, t.describe()))
            }
            Some(Outcome::Done { .. }) => {}
        }
    }
    if !problems.is_empty() {
        return Err(Error::Incomplete {
            figure: id,
            count: problems.len(),
            total: specs.len(),
            list: problems.join("\n  "),
        });
    }
    finish(exp, mode, &points, &specs, &store, 0, start)
}

/// Typed simulations from the store, in plan order. A task missing from the store is an error
/// naming it (an executor that did not finish).
pub fn assemble<E: Experiment>(
    points: &[E::Point],
    specs: &[TaskSpec],
    store: &Store,
    computed: usize,
    cached: usize,
) -> Result<Sims<E>, Error> {
    let mut out: Vec<PointSims<E>> = points
        .iter()
        .map(|p| PointSims {
            point: p.clone(),
            tasks: Vec::new(),
        })
        .collect();
    let mut task_seconds = 0.0;
    for t in specs {
        let r = store.get(&t.key).ok_or_else(|| Error::Missing {
            key: t.key.to_string(),
            task: t.describe(),
        })?;
        task_seconds += r.seconds;
        let v = match &r.outcome {
            Outcome::Done { obs, termination } => serde_json::from_value(obs.clone())
                .map(|o| (o, termination.clone()))
                .map_err(|e| format!("cached observation does not parse: {e}")),
            Outcome::Failed(reason) => Err(reason.clone()),
        };
        out[t.point_index].tasks.push(v);
    }
    Ok(Sims {
        points: out,
        computed,
        cached,
        task_seconds,
    })
}

/// Replaces the panic hook by a silent one while alive (failed tasks print one line each
/// through the executor instead of a backtrace per task).
type PanicHook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

struct QuietPanics(Option<PanicHook>);

impl QuietPanics {
    fn install() -> Self {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        QuietPanics(Some(prev))
    }
}

impl Drop for QuietPanics {
    fn drop(&mut self) {
        if let Some(prev) = self.0.take() {
            std::panic::set_hook(prev);
        }
    }
}
