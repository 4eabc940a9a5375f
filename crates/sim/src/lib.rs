//! # gardner-sim: sweeps over (alpha, seed, d)
//!
//! A sweep evaluates a user closure on every (point, seed) task of a [`Grid`] and aggregates
//! named numeric observables per point as mean and standard error over seeds.
//!
//! - **Determinism.** Task `k = point_index · seeds + seed_index` draws from the stream
//!   `gardner_models::rng::stream(base_seed, k)` (k jumps of 2^128 steps). Streams are tied to
//!   tasks, never to threads, so the table is bitwise identical for any thread count.
//! - **Parallelism.** Tasks run on a local rayon pool of [`Options::threads`] threads
//!   (algorithms inside a task should stay sequential, e.g. GAMP's default `threads = 1`).
//! - **Resumability.** With [`Options::cache_dir`], each finished task is appended (one JSON
//!   line, flushed) to `<cache_dir>/<name>-<hash>.jsonl`, where `hash` is a stable FNV-1a hash
//!   of the caller's spec, the grid and the base seed. A rerun with the same spec reads the
//!   file, skips finished tasks and computes only the others; an interrupted run therefore
//!   loses at most the tasks in flight. Unreadable (e.g. half-written) lines are ignored.
//! - **Status.** Every point gets a status: `ok`, `not_converged: k/n seeds` (some seeds ran
//!   out of iterations; their values are still averaged) or `failed: k/n seeds: reason` (the
//!   closure returned an error or panicked; those seeds are left out of the averages). No
//!   point is dropped. Panics are not cached, so they are retried on the next run.
//! - **Progress.** An indicatif bar on stderr, hidden when stderr is not a terminal or when
//!   [`Options::progress`] is false.
//!
//! ```
//! use gardner_sim::{Grid, Options, Record, run_sweep};
//! use rand::RngExt;
//! let grid = Grid::new(&[0.5, 1.0], &[100], 4, 7).unwrap();
//! let opts = Options { threads: 2, progress: false, ..Options::default() };
//! let out = run_sweep("demo", &"spec v1", &grid, &opts, |task, rng| {
//!     let u: f64 = rng.random();
//!     Ok(Record::converged().with("x", task.point.alpha * u))
//! })
//! .unwrap();
//! assert_eq!(out.points.len(), 2);
//! assert_eq!(out.points[0].status, "ok");
//! assert_eq!(out.points[0].stats["x"].count, 4);
//! ```

pub mod success;

use gardner_models::rng::{Rng, streams};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, IsTerminal, Read, Seek, SeekFrom, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Errors of a sweep: invalid grid or options, cache I/O.
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
    /// Reading or writing the cache failed.
    #[error("cache file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The spec could not be serialised for hashing.
    #[error("cannot serialise the sweep spec: {0}")]
    Spec(String),
    /// The thread pool could not be built.
    #[error("cannot build a thread pool of {threads} threads: {reason}")]
    ThreadPool { threads: usize, reason: String },
}

/// One point of the grid: sample ratio α, dimension d and optional named parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// α = n/d.
    pub alpha: f64,
    /// Dimension d.
    pub d: usize,
    /// Further named parameters of the point (e.g. a width or a learning rate), if any.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, f64>,
}

impl Point {
    /// A point (α, d) without further parameters.
    pub fn new(alpha: f64, d: usize) -> Self {
        Self {
            alpha,
            d,
            params: BTreeMap::new(),
        }
    }
    /// Add a named parameter.
    pub fn with(mut self, name: &str, value: f64) -> Self {
        self.params.insert(name.to_string(), value);
        self
    }
}

/// The points of a sweep, the number of seeds per point and the base seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// Points, in table order.
    pub points: Vec<Point>,
    /// Independent seeds (data sets) per point.
    pub seeds: usize,
    /// Seed of the stream family; task k uses `stream(base_seed, k)`.
    pub base_seed: u64,
}

impl Grid {
    /// The product grid: for each d in `dims`, each α in `alphas` (α > 0, d ≥ 1, seeds ≥ 1).
    pub fn new(
        alphas: &[f64],
        dims: &[usize],
        seeds: usize,
        base_seed: u64,
    ) -> Result<Self, Error> {
        let points = dims
            .iter()
            .flat_map(|&d| alphas.iter().map(move |&a| Point::new(a, d)))
            .collect();
        Self::from_points(points, seeds, base_seed)
    }
    /// An explicit list of points.
    pub fn from_points(points: Vec<Point>, seeds: usize, base_seed: u64) -> Result<Self, Error> {
        if seeds == 0 {
            return Err(Error::InvalidParameter {
                name: "seeds",
                value: 0.0,
                bound: ">= 1",
            });
        }
        for p in &points {
            if !(p.alpha > 0.0 && p.alpha.is_finite()) {
                return Err(Error::InvalidParameter {
                    name: "alpha",
                    value: p.alpha,
                    bound: "> 0 and finite",
                });
            }
            if p.d == 0 {
                return Err(Error::InvalidParameter {
                    name: "d",
                    value: 0.0,
                    bound: ">= 1",
                });
            }
        }
        Ok(Self {
            points,
            seeds,
            base_seed,
        })
    }
    /// Number of tasks, points × seeds.
    pub fn tasks(&self) -> usize {
        self.points.len() * self.seeds
    }
    /// The stable index of task (point, seed): `point_index · seeds + seed_index`.
    pub fn task_index(&self, point_index: usize, seed_index: usize) -> u64 {
        (point_index * self.seeds + seed_index) as u64
    }
}

/// What the closure is asked to compute.
#[derive(Debug, Clone, Copy)]
pub struct Task<'a> {
    /// The point.
    pub point: &'a Point,
    /// Its index in the grid.
    pub point_index: usize,
    /// Seed number at this point, 0..seeds.
    pub seed_index: usize,
    /// Stable task index (also the stream index).
    pub task_index: u64,
}

/// The named observables of one finished task and whether its algorithm converged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Observable name → value (non-finite values are kept and propagate to the mean).
    #[serde(serialize_with = "ser_values", deserialize_with = "de_values")]
    pub values: BTreeMap<String, f64>,
    /// false when the algorithm stopped without converging (status `not_converged`).
    pub converged: bool,
}

impl Record {
    /// An empty record of a converged run.
    pub fn converged() -> Self {
        Self {
            values: BTreeMap::new(),
            converged: true,
        }
    }
    /// An empty record of a run that did not converge.
    pub fn not_converged() -> Self {
        Self {
            values: BTreeMap::new(),
            converged: false,
        }
    }
    /// Add an observable.
    pub fn with(mut self, name: &str, value: f64) -> Self {
        self.values.insert(name.to_string(), value);
        self
    }
}

/// Result of one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The closure returned a record.
    Done(Record),
    /// The closure returned an error (or panicked): the reason.
    Failed(String),
}

/// Mean and standard error of one observable over the seeds of a point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// Sample mean.
    pub mean: f64,
    /// Standard error of the mean, s/√n with the unbiased sample variance s² (NaN if n < 2).
    pub stderr: f64,
    /// Number of values n.
    pub count: usize,
}

impl Stat {
    /// Mean and standard error of `xs` (mean NaN when empty, stderr NaN when n < 2).
    pub fn of(xs: &[f64]) -> Self {
        let n = xs.len();
        if n == 0 {
            return Self {
                mean: f64::NAN,
                stderr: f64::NAN,
                count: 0,
            };
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        let stderr = if n < 2 {
            f64::NAN
        } else {
            let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
            (var / n as f64).sqrt()
        };
        Self {
            mean,
            stderr,
            count: n,
        }
    }
}

/// Aggregate of one point over its seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PointSummary {
    /// The point.
    pub point: Point,
    /// Seeds run (= the grid's seeds).
    pub seeds: usize,
    /// Seeds whose algorithm converged.
    pub converged: usize,
    /// Seeds that returned a record without converging.
    pub not_converged: usize,
    /// Seeds that failed (error or panic).
    pub failed: usize,
    /// `ok`, `not_converged: k/n seeds` or `failed: k/n seeds: first reason`.
    pub status: String,
    /// Observable name → mean and standard error over the non-failed seeds.
    pub stats: BTreeMap<String, Stat>,
    /// Failure reasons, by seed order.
    pub failures: Vec<String>,
}

impl PointSummary {
    /// Mean of an observable (NaN if absent).
    pub fn mean(&self, name: &str) -> f64 {
        self.stats.get(name).map_or(f64::NAN, |s| s.mean)
    }
    /// Standard error of an observable (NaN if absent).
    pub fn stderr(&self, name: &str) -> f64 {
        self.stats.get(name).map_or(f64::NAN, |s| s.stderr)
    }
}

/// One task's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskResult {
    /// Stable task index.
    pub task: u64,
    /// Index of its point.
    pub point: usize,
    /// Seed number at the point.
    pub seed: usize,
    /// Its outcome.
    pub outcome: Outcome,
    /// Wall time of the task in seconds (0 in caches written before it was recorded).
    #[serde(default)]
    pub seconds: f64,
}

/// The result of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepResult {
    /// One summary per point, in grid order.
    pub points: Vec<PointSummary>,
    /// Every task, in task order.
    pub tasks: Vec<TaskResult>,
    /// Tasks computed in this run.
    pub computed: usize,
    /// Tasks read from the cache.
    pub cached: usize,
    /// The cache file, if any.
    pub cache_file: Option<PathBuf>,
}

/// Equality of results: the wall time is a measurement of the run, not part of the result
/// (the same seed gives equal results whatever the timing).
impl PartialEq for TaskResult {
    fn eq(&self, other: &Self) -> bool {
        (self.task, self.point, self.seed, &self.outcome)
            == (other.task, other.point, other.seed, &other.outcome)
    }
}

impl SweepResult {
    /// Sum of the tasks' wall times, cached ones included: the compute cost of the table,
    /// whatever share of it this run recomputed.
    pub fn task_seconds(&self) -> f64 {
        self.tasks.iter().map(|t| t.seconds).sum()
    }
}

/// How to run a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Worker threads (≥ 1). Default: the available parallelism.
    pub threads: usize,
    /// Directory of the resumable cache (created if missing); `None` = no cache.
    pub cache_dir: Option<PathBuf>,
    /// Show a progress bar (only ever drawn when stderr is a terminal).
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            threads,
            cache_dir: None,
            progress: true,
        }
    }
}

/// Version of the cache format and of the task → stream convention, part of the hash.
const CACHE_VERSION: &str = "gardner-sim cache v1";

/// Stable 64-bit FNV-1a hash (independent of the Rust version, unlike `DefaultHasher`).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The cache file of a sweep: `<dir>/<name>-<16 hex digits>.jsonl`, the hash covering the
/// spec (as JSON), the grid (points, seeds, base seed) and the cache format version.
pub fn cache_path(
    dir: &Path,
    name: &str,
    spec: &impl Serialize,
    grid: &Grid,
) -> Result<PathBuf, Error> {
    let key = serde_json::to_string(&(CACHE_VERSION, spec, grid))
        .map_err(|e| Error::Spec(e.to_string()))?;
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(dir.join(format!("{safe}-{:016x}.jsonl", fnv1a(key.as_bytes()))))
}

/// Run `f` on every task of `grid` not already in the cache and aggregate per point.
///
/// `name` names the cache file, `spec` is everything else that determines the results (model,
/// algorithm configuration, code version…): change it and the cache is not reused.
/// `f(task, rng)` returns the task's [`Record`] or an error message (status `failed`).
pub fn run_sweep<S, F>(
    name: &str,
    spec: &S,
    grid: &Grid,
    options: &Options,
    f: F,
) -> Result<SweepResult, Error>
where
    S: Serialize + ?Sized,
    F: Fn(&Task<'_>, &mut Rng) -> Result<Record, String> + Sync,
{
    if options.threads == 0 {
        return Err(Error::InvalidParameter {
            name: "threads",
            value: 0.0,
            bound: ">= 1",
        });
    }
    let total = grid.tasks();
    let mut results: Vec<Option<Outcome>> = vec![None; total];
    let mut seconds = vec![0.0; total];

    // Cache: read finished tasks, then open for appending.
    let mut writer = None;
    let cache_file = match &options.cache_dir {
        None => None,
        Some(dir) => {
            let path = cache_path(dir, name, &spec, grid)?;
            let io = |source| Error::Io {
                path: path.clone(),
                source,
            };
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                path: dir.clone(),
                source,
            })?;
            if path.exists() {
                for line in BufReader::new(File::open(&path).map_err(io)?).lines() {
                    let line = line.map_err(io)?;
                    if let Ok(t) = serde_json::from_str::<TaskResult>(&line) {
                        let k = t.task as usize;
                        if k < total
                            && t.seed < grid.seeds
                            && grid.task_index(t.point, t.seed) == t.task
                            && results[k].is_none()
                        {
                            results[k] = Some(t.outcome);
                            seconds[k] = t.seconds;
                        }
                    }
                }
            }
            let mut file = OpenOptions::new()
                .create(true)
                .read(true)
                .append(true)
                .open(&path)
                .map_err(io)?;
            // A run killed mid-line leaves a partial last line: terminate it.
            let len = file.metadata().map_err(io)?.len();
            if len > 0 {
                let mut last = [0u8; 1];
                file.seek(SeekFrom::Start(len - 1)).map_err(io)?;
                file.read_exact(&mut last).map_err(io)?;
                if last[0] != b'\n' {
                    file.write_all(b"\n").map_err(io)?;
                }
            }
            writer = Some(Mutex::new(file));
            Some(path)
        }
    };
    let cached = results.iter().filter(|r| r.is_some()).count();
    let pending: Vec<usize> = (0..total).filter(|&k| results[k].is_none()).collect();

    let bar = if options.progress && std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} tasks, {elapsed_precise} (eta {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(name.to_string());
    bar.set_position(cached as u64);

    let rngs = if pending.is_empty() {
        Vec::new()
    } else {
        streams(grid.base_seed, 0, total)
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .build()
        .map_err(|e| Error::ThreadPool {
            threads: options.threads,
            reason: e.to_string(),
        })?;
    let write_error: Mutex<Option<Error>> = Mutex::new(None);
    let fresh: Vec<(usize, Outcome, f64)> = pool.install(|| {
        pending
            .par_iter()
            .map(|&k| {
                let (p, s) = (k / grid.seeds, k % grid.seeds);
                let task = Task {
                    point: &grid.points[p],
                    point_index: p,
                    seed_index: s,
                    task_index: k as u64,
                };
                let mut rng = rngs[k].clone();
                let start = std::time::Instant::now();
                let (outcome, cache) = match catch_unwind(AssertUnwindSafe(|| f(&task, &mut rng))) {
                    Ok(Ok(record)) => (Outcome::Done(record), true),
                    Ok(Err(reason)) => (Outcome::Failed(reason), true),
                    Err(panic) => (
                        Outcome::Failed(format!("panic: {}", panic_message(&panic))),
                        false,
                    ),
                };
                let elapsed = start.elapsed().as_secs_f64();
                if let (Some(w), true) = (&writer, cache) {
                    let line = TaskResult {
                        task: k as u64,
                        point: p,
                        seed: s,
                        outcome: outcome.clone(),
                        seconds: elapsed,
                    };
                    let mut text = serde_json::to_string(&line).expect("task results serialise");
                    text.push('\n');
                    let mut file = w.lock().unwrap_or_else(|e| e.into_inner());
                    if let Err(source) = file.write_all(text.as_bytes()).and_then(|_| file.flush())
                    {
                        let path = cache_file.clone().unwrap_or_default();
                        write_error
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert(Error::Io { path, source });
                    }
                }
                bar.inc(1);
                (k, outcome, elapsed)
            })
            .collect()
    });
    bar.finish_and_clear();
    if let Some(e) = write_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    let computed = fresh.len();
    for (k, outcome, secs) in fresh {
        results[k] = Some(outcome);
        seconds[k] = secs;
    }

    let tasks: Vec<TaskResult> = results
        .into_iter()
        .enumerate()
        .map(|(k, o)| TaskResult {
            task: k as u64,
            point: k / grid.seeds,
            seed: k % grid.seeds,
            outcome: o.expect("every task has run"),
            seconds: seconds[k],
        })
        .collect();
    let points = grid
        .points
        .iter()
        .enumerate()
        .map(|(p, point)| summarise(point, &tasks[p * grid.seeds..(p + 1) * grid.seeds]))
        .collect();
    Ok(SweepResult {
        points,
        tasks,
        computed,
        cached,
        cache_file,
    })
}

/// Aggregate the tasks of one point.
fn summarise(point: &Point, tasks: &[TaskResult]) -> PointSummary {
    let (mut converged, mut not_converged) = (0, 0);
    let mut failures = Vec::new();
    let mut values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for t in tasks {
        match &t.outcome {
            Outcome::Done(r) => {
                if r.converged {
                    converged += 1;
                } else {
                    not_converged += 1;
                }
                for (name, &v) in &r.values {
                    values.entry(name.clone()).or_default().push(v);
                }
            }
            Outcome::Failed(reason) => failures.push(reason.clone()),
        }
    }
    let n = tasks.len();
    let status = if let Some(first) = failures.first() {
        format!("failed: {}/{n} seeds: {first}", failures.len())
    } else if not_converged > 0 {
        format!("not_converged: {not_converged}/{n} seeds")
    } else {
        "ok".to_string()
    };
    let stats = values.into_iter().map(|(k, v)| (k, Stat::of(&v))).collect();
    PointSummary {
        point: point.clone(),
        seeds: n,
        converged,
        not_converged,
        failed: failures.len(),
        status,
        stats,
        failures,
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// JSON has no NaN/∞: finite values are numbers (exact round trip), others the strings
/// "NaN", "inf", "-inf".
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum JsonF64 {
    Num(f64),
    Text(String),
}

fn ser_values<S: Serializer>(values: &BTreeMap<String, f64>, s: S) -> Result<S::Ok, S::Error> {
    let m: BTreeMap<&str, JsonF64> = values
        .iter()
        .map(|(k, &v)| {
            let j = if v.is_finite() {
                JsonF64::Num(v)
            } else if v.is_nan() {
                JsonF64::Text("NaN".into())
            } else if v > 0.0 {
                JsonF64::Text("inf".into())
            } else {
                JsonF64::Text("-inf".into())
            };
            (k.as_str(), j)
        })
        .collect();
    m.serialize(s)
}

fn de_values<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f64>, D::Error> {
    let m = HashMap::<String, JsonF64>::deserialize(d)?;
    m.into_iter()
        .map(|(k, j)| {
            let v = match j {
                JsonF64::Num(v) => v,
                JsonF64::Text(t) => match t.as_str() {
                    "NaN" => f64::NAN,
                    "inf" => f64::INFINITY,
                    "-inf" => f64::NEG_INFINITY,
                    other => {
                        return Err(serde::de::Error::custom(format!("not a number: {other}")));
                    }
                },
            };
            Ok((k, v))
        })
        .collect()
}

#[cfg(test)]
mod tests;
