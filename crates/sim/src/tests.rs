//! Tests of the experiment layer on a toy experiment: content keys, determinism, the cache,
//! failures and the memory check.

use crate::executor::Local;
use crate::experiment::{Experiment, Headline, Mode, Plan, Report, Sims};
use crate::findings::{Findings, Verdict};
use crate::plot::Plot;
use crate::runner::{CacheOptions, check_memory, run, tasks};
use crate::store::{Store, jsonl_files};
use gardner_models::rng::Rng;
use gardner_models::run::Termination;
use rand::RngExt;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Toy {
    seed: u64,
    alphas: Vec<f64>,
    seeds: usize,
    scale: f64,
    /// α at which a task panics.
    panic_at: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Point {
    alpha: f64,
    d: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Obs {
    x: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Row {
    alpha: f64,
    x_mean: f64,
    status: crate::Status,
}

impl Experiment for Toy {
    type Point = Point;
    type Obs = Obs;
    type Row = Row;
    type Summary = ();
    fn plan(&self, _: Mode) -> Result<Plan<Point>, crate::Error> {
        let pts = self
            .alphas
            .iter()
            .map(|&alpha| Point { alpha, d: 10 })
            .collect();
        Plan::new(pts, self.seeds, &(self.seed, self.scale))
    }
    fn task_bytes(&self, p: &Point) -> u64 {
        (p.alpha * 1e9) as u64
    }
    fn run(&self, p: &Point, rng: &mut Rng) -> Result<(Obs, Termination), crate::Error> {
        if self.panic_at == Some(p.alpha) {
            panic!("toy panic at alpha {}\nsecond line", p.alpha);
        }
        let u: f64 = rng.random();
        let t = if u < 0.1 {
            Termination::MaxIterations
        } else {
            Termination::Converged
        };
        Ok((
            Obs {
                x: self.scale * p.alpha * u,
            },
            t,
        ))
    }
    fn report(&self, _: Mode, sims: &Sims<Self>) -> Result<Report<Self>, crate::Error> {
        let rows = sims
            .points
            .iter()
            .map(|p| Row {
                alpha: p.point.alpha,
                x_mean: p.stat(|o| o.x).mean,
                status: p.status(),
            })
            .collect();
        Ok(Report {
            rows,
            summary: (),
            headline: vec![Headline::new("n", sims.points.len() as f64, 0.0)],
            check_rel_tol: 0.0,
        })
    }
}

impl crate::View for Toy {
    type Digest = serde::de::IgnoredAny;
    fn plot(&self, _: Mode, _: &[Row], _: &Self::Digest) -> Result<Plot, crate::Error> {
        Ok(Plot::default())
    }
    fn findings(&self, _: Mode, _: &[Row], _: &Self::Digest) -> Result<Findings, crate::Error> {
        Ok(Findings {
            numbers: Vec::new(),
            agreement: Vec::new(),
            verdict: Verdict::Open,
            reason: String::new(),
        })
    }
}

fn toy(alphas: &[f64], seeds: usize) -> Toy {
    Toy {
        seed: 7,
        alphas: alphas.to_vec(),
        seeds,
        scale: 1.0,
        panic_at: None,
    }
}

fn local(threads: usize) -> Local {
    Local {
        threads,
        progress: false,
    }
}

/// Every task's x, by (α, seed index).
fn xs(t: &Toy, threads: usize, cache: &CacheOptions) -> Vec<(f64, usize, f64)> {
    let r = run("toy", t, Mode::Quick, &local(threads), cache).unwrap();
    assert_eq!(r.failed, 0);
    let _ = r.report;
    let (_, specs) = tasks("toy", t, Mode::Quick).unwrap();
    let store = match &cache.dir {
        Some(d) => Store::load_dir(d).unwrap(),
        None => panic!("needs a cache dir"),
    };
    specs
        .iter()
        .map(|s| {
            let rec = store.get(&s.key).unwrap();
            let x = match &rec.outcome {
                crate::Outcome::Done { obs, .. } => obs["x"].as_f64().unwrap(),
                crate::Outcome::Failed(e) => panic!("{e}"),
            };
            (t.alphas[s.point_index], s.seed_index, x)
        })
        .collect()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gardner-sim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn adding_points_or_seeds_changes_no_other_task_and_threads_do_not_matter() {
    let (d1, d2) = (tmp("grow1"), tmp("grow2"));
    let small = xs(
        &toy(&[1.0, 2.0], 2),
        1,
        &CacheOptions {
            dir: Some(d1.clone()),
        },
    );
    let big = xs(
        &toy(&[0.5, 1.0, 1.5, 2.0], 3),
        2,
        &CacheOptions {
            dir: Some(d2.clone()),
        },
    );
    for (a, s, x) in &small {
        let same = big.iter().find(|(b, t, _)| b == a && t == s).unwrap();
        assert_eq!(same.2.to_bits(), x.to_bits(), "alpha {a} seed {s}");
    }
    // a different context (scale) gives different streams' results
    let mut other = toy(&[1.0, 2.0], 2);
    other.seed = 8;
    let d3 = tmp("grow3");
    let o = xs(
        &other,
        1,
        &CacheOptions {
            dir: Some(d3.clone()),
        },
    );
    assert!(o.iter().zip(&small).all(|(a, b)| a.2 != b.2));
    for d in [d1, d2, d3] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn cache_resumes_merges_and_never_reuses_other_code_or_specs() {
    let dir = tmp("cache");
    let cache = CacheOptions {
        dir: Some(dir.clone()),
    };
    let t = toy(&[1.0, 2.0, 3.0], 4);
    let first = run("toy", &t, Mode::Quick, &local(2), &cache).unwrap();
    assert_eq!((first.computed, first.cached), (12, 0));
    let again = run("toy", &t, Mode::Quick, &local(1), &cache).unwrap();
    assert_eq!((again.computed, again.cached), (0, 12));
    assert_eq!(first.report.rows, again.report.rows);

    // Split the records into two files plus a half-written line: they merge, nothing lost.
    let files = jsonl_files(&dir).unwrap();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::remove_file(&files[0]).unwrap();
    std::fs::create_dir_all(dir.join("shard-a")).unwrap();
    std::fs::write(dir.join("shard-a/a.jsonl"), lines[..5].join("\n") + "\n").unwrap();
    let half = &lines[6][..lines[6].len() / 2];
    std::fs::write(dir.join("b.jsonl"), lines[5..].join("\n") + "\n" + half).unwrap();
    let merged = run("toy", &t, Mode::Quick, &local(1), &cache).unwrap();
    assert_eq!((merged.computed, merged.cached), (0, 12));

    // Records from other code are ignored: rewrite the fingerprint and everything recomputes.
    for f in jsonl_files(&dir).unwrap() {
        let s = std::fs::read_to_string(&f).unwrap();
        let code = format!("\"code\":\"{}\"", crate::CODE_FINGERPRINT);
        std::fs::write(&f, s.replace(&code, "\"code\":\"0000000000000000\"")).unwrap();
    }
    let stale = run("toy", &t, Mode::Quick, &local(1), &cache).unwrap();
    assert_eq!((stale.computed, stale.cached), (12, 0));
    assert_eq!(stale.report.rows, first.report.rows);

    // Another spec value of the task context is another key: recomputed.
    let mut scaled = t.clone();
    scaled.scale = 2.0;
    let r = run("toy", &scaled, Mode::Quick, &local(1), &cache).unwrap();
    assert_eq!((r.computed, r.cached), (12, 0));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_panicking_task_is_a_one_line_failed_status() {
    let mut t = toy(&[1.0, 2.0], 3);
    t.panic_at = Some(2.0);
    let r = run("toy", &t, Mode::Quick, &local(2), &CacheOptions::default()).unwrap();
    assert_eq!(r.failed, 3);
    let row = &r.report.rows[1];
    let status = row.status.to_string();
    assert_eq!(status, "failed: 3/3 seeds: panic: toy panic at alpha 2");
    assert!(row.status.is_failed() && row.x_mean.is_nan());
    assert!(!r.report.rows[0].status.is_failed());
}

#[test]
fn not_converged_seeds_are_counted() {
    // u < 0.1 is MaxIterations: over 40 seeds some are, and the status says how many.
    let t = toy(&[1.0], 40);
    let r = run("toy", &t, Mode::Quick, &local(1), &CacheOptions::default()).unwrap();
    let s = r.report.rows[0].status.to_string();
    assert!(
        s.starts_with("not_converged: ") && s.ends_with("/40 seeds"),
        "{s}"
    );
}

#[test]
fn a_run_that_does_not_fit_in_memory_is_refused_with_one_line() {
    let t = toy(&[4000.0, 1.0], 1);
    let (points, specs) = tasks("toy", &t, Mode::Quick).unwrap();
    let e = check_memory("toy", &t, &points, &specs, 2, 16_000_000_000)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "toy: refusing to run: a task at alpha = 4000.0, d = 10 needs about 4000.00 GB, × 2 threads, but 16.00 GB of memory are available"
    );
    assert!(check_memory("toy", &t, &points, &specs[1..], 2, 16_000_000_000).is_ok());
}

#[test]
fn shards_partition_the_tasks_and_merge_to_the_single_machine_report() {
    use crate::shard::Shard;
    use crate::{merge, run_shard};
    let t = toy(&[1.0, 2.0, 3.0, 5.0], 3);
    let (_, specs) = tasks("toy", &t, Mode::Quick).unwrap();
    let mut seen: Vec<_> = (1..=3)
        .flat_map(|k| {
            Shard::new(k, 3)
                .unwrap()
                .select(&specs, |s| s.point["alpha"].as_f64().unwrap())
        })
        .map(|s| s.key)
        .collect();
    seen.sort();
    let mut all: Vec<_> = specs.iter().map(|s| s.key).collect();
    all.sort();
    assert_eq!(seen, all, "every task in exactly one shard");
    let dir = tmp("shards");
    for k in [2, 1] {
        run_shard(
            "toy",
            &t,
            Mode::Quick,
            &local(1),
            &dir,
            Shard::new(k, 3).unwrap(),
        )
        .unwrap();
    }
    let e = merge("toy", &t, Mode::Quick, &dir)
        .err()
        .unwrap()
        .to_string();
    assert!(e.starts_with("toy: ") && e.contains("missing "), "{e}");
    let r = run_shard(
        "toy",
        &t,
        Mode::Quick,
        &local(2),
        &dir,
        "3/3".parse().unwrap(),
    )
    .unwrap();
    assert_eq!(r.failed, 0);
    let merged = merge("toy", &t, Mode::Quick, &dir).unwrap();
    let single = run("toy", &t, Mode::Quick, &local(2), &CacheOptions::default()).unwrap();
    assert_eq!(merged.report.rows, single.report.rows);
    assert!("0/3".parse::<Shard>().is_err() && "4/3".parse::<Shard>().is_err());
    std::fs::remove_dir_all(dir).unwrap();
}
