//! Tests of the sweep runner: stderr formula, determinism across thread counts, resume.

use super::*;
use gardner_algorithms::gamp;
use gardner_models::{Gaussian, Probit, data::teacher_data};
use rand::RngExt;
use rand_distr::StandardNormal;
use std::sync::atomic::{AtomicUsize, Ordering};

fn quiet(threads: usize, cache_dir: Option<PathBuf>) -> Options {
    Options {
        threads,
        cache_dir,
        progress: false,
    }
}

/// A fresh, empty directory under the system temp dir.
fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "gardner-sim-test-{tag}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn stderr_formula() {
    let s = Stat::of(&[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(s.count, 4);
    assert_eq!(s.mean, 2.5);
    // unbiased variance 5/3, stderr √(5/3 / 4)
    assert!((s.stderr - (5.0f64 / 12.0).sqrt()).abs() < 1e-15, "{s:?}");
    let one = Stat::of(&[3.0]);
    assert_eq!(one.mean, 3.0);
    assert!(one.stderr.is_nan());
    assert!(Stat::of(&[]).mean.is_nan());
    // NaN propagates (honest: an undefined observable makes an undefined mean).
    assert!(Stat::of(&[1.0, f64::NAN]).mean.is_nan());
}

/// A toy task with a non-trivial use of the stream.
fn toy(task: &Task<'_>, rng: &mut Rng) -> Result<Record, String> {
    let z: f64 = (0..100)
        .map(|_| rng.sample::<f64, _>(StandardNormal))
        .sum::<f64>()
        / 10.0;
    Ok(Record::converged()
        .with("z", z)
        .with("alpha_z", task.point.alpha * z))
}

#[test]
fn identical_for_one_and_two_threads() {
    let grid = Grid::new(&[0.5, 1.0, 1.5, 2.0], &[50, 80], 5, 99).unwrap();
    let a = run_sweep("toy", "v1", &grid, &quiet(1, None), toy).unwrap();
    let b = run_sweep("toy", "v1", &grid, &quiet(2, None), toy).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.points.len(), 8);
    assert_eq!(a.tasks.len(), 40);
    assert_eq!((a.computed, a.cached), (40, 0));
    // bitwise, including the stderr
    let bits = |r: &SweepResult| {
        r.points
            .iter()
            .map(|p| (p.mean("z").to_bits(), p.stderr("z").to_bits()))
            .collect::<Vec<_>>()
    };
    assert_eq!(bits(&a), bits(&b));
    // distinct tasks get distinct streams
    let zs: Vec<f64> = a
        .tasks
        .iter()
        .map(|t| {
            if let Outcome::Done(r) = &t.outcome {
                r.values["z"]
            } else {
                panic!()
            }
        })
        .collect();
    for i in 0..zs.len() {
        for j in 0..i {
            assert_ne!(zs[i], zs[j]);
        }
    }
    // the grid is ordered d-major, α-minor
    assert_eq!((a.points[1].point.alpha, a.points[1].point.d), (1.0, 50));
    assert_eq!((a.points[4].point.alpha, a.points[4].point.d), (0.5, 80));
}

#[test]
fn gamp_sweep_is_thread_independent() {
    let (prior, channel) = (Gaussian::new(1.0).unwrap(), Probit::sign());
    let grid = Grid::new(&[1.0, 2.0], &[200], 3, 5).unwrap();
    let f = |task: &Task<'_>, rng: &mut Rng| {
        let data = teacher_data(&prior, &channel, task.point.d, task.point.alpha, rng)
            .map_err(|e| e.to_string())?;
        let tr = gamp::run(&data, &prior, &channel, &gamp::Config::default(), rng)
            .map_err(|e| e.to_string())?;
        let last = tr.last().ok_or("no iteration")?;
        let rec = if tr.termination == gardner_algorithms::Termination::Converged {
            Record::converged()
        } else {
            Record::not_converged()
        };
        Ok(rec.with("m", last.m).with("gen_error", last.test_error))
    };
    let a = run_sweep("gamp", "perceptron", &grid, &quiet(1, None), f).unwrap();
    let b = run_sweep("gamp", "perceptron", &grid, &quiet(2, None), f).unwrap();
    assert_eq!(a, b);
    assert!(a.points[1].mean("gen_error") < a.points[0].mean("gen_error"));
}

#[test]
fn resume_skips_finished_tasks() {
    let dir = temp_dir("resume");
    let grid = Grid::new(&[0.5, 1.0, 2.0], &[10], 4, 1).unwrap();
    let calls = AtomicUsize::new(0);
    let counted = |t: &Task<'_>, r: &mut Rng| {
        calls.fetch_add(1, Ordering::SeqCst);
        toy(t, r)
    };
    let reference = run_sweep("toy", "v1", &grid, &quiet(2, None), toy).unwrap();

    let first = run_sweep("toy", "v1", &grid, &quiet(2, Some(dir.clone())), counted).unwrap();
    assert_eq!(calls.swap(0, Ordering::SeqCst), 12);
    assert_eq!((first.computed, first.cached), (12, 0));
    let path = first.cache_file.clone().unwrap();
    assert_eq!(path, cache_path(&dir, "toy", &"v1", &grid).unwrap());

    // Rerun: everything from the cache, same table (exact float round trip).
    let second = run_sweep("toy", "v1", &grid, &quiet(1, Some(dir.clone())), counted).unwrap();
    assert_eq!(calls.swap(0, Ordering::SeqCst), 0);
    assert_eq!((second.computed, second.cached), (0, 12));
    assert_eq!(second.points, reference.points);

    // Simulated interruption: keep 5 lines and a half-written sixth.
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 12);
    let mut cut = lines[..5].join("\n");
    cut.push('\n');
    cut.push_str(&lines[5][..lines[5].len() / 2]);
    std::fs::write(&path, cut).unwrap();
    let third = run_sweep("toy", "v1", &grid, &quiet(2, Some(dir.clone())), counted).unwrap();
    assert_eq!(calls.swap(0, Ordering::SeqCst), 7);
    assert_eq!((third.computed, third.cached), (7, 5));
    assert_eq!(third.points, reference.points);
    // The cache is whole again (the half line is terminated and ignored).
    let fourth = run_sweep("toy", "v1", &grid, &quiet(2, Some(dir.clone())), counted).unwrap();
    assert_eq!(calls.swap(0, Ordering::SeqCst), 0);
    assert_eq!(fourth.points, reference.points);

    // Another spec or grid: another cache file, nothing reused.
    let other = run_sweep("toy", "v2", &grid, &quiet(2, Some(dir.clone())), counted).unwrap();
    assert_eq!(calls.swap(0, Ordering::SeqCst), 12);
    assert_ne!(other.cache_file, first.cache_file);
    let grid2 = Grid::new(&[0.5, 1.0, 2.0], &[10], 5, 1).unwrap();
    run_sweep("toy", "v1", &grid2, &quiet(2, Some(dir.clone())), counted).unwrap();
    assert_eq!(calls.swap(0, Ordering::SeqCst), 15);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn statuses_are_never_dropped() {
    let dir = temp_dir("status");
    let grid = Grid::new(&[1.0, 2.0, 3.0, 4.0], &[10], 4, 3).unwrap();
    let calls = AtomicUsize::new(0);
    let f = |t: &Task<'_>, _: &mut Rng| {
        calls.fetch_add(1, Ordering::SeqCst);
        match (t.point_index, t.seed_index) {
            (1, 0) | (1, 2) => Ok(Record::not_converged().with("x", 1.0)),
            (2, 3) => Err("diverged at iteration 7".to_string()),
            (3, 1) => panic!("boom"),
            _ => Ok(Record::converged().with("x", 1.0).with("nan", f64::NAN)),
        }
    };
    let out = run_sweep("status", "v1", &grid, &quiet(2, Some(dir.clone())), f).unwrap();
    let st: Vec<&str> = out.points.iter().map(|p| p.status.as_str()).collect();
    assert_eq!(
        st,
        [
            "ok",
            "not_converged: 2/4 seeds",
            "failed: 1/4 seeds: diverged at iteration 7",
            "failed: 1/4 seeds: panic: boom"
        ]
    );
    assert_eq!(
        out.points[1].stats["x"].count, 4,
        "non-converged seeds are averaged"
    );
    assert_eq!(out.points[2].stats["x"].count, 3, "failed seeds are not");
    assert!(out.points[0].mean("nan").is_nan());
    assert_eq!(calls.swap(0, Ordering::SeqCst), 16);
    // Errors are cached (deterministic), panics are retried; NaN survives the cache.
    let again = run_sweep("status", "v1", &grid, &quiet(1, Some(dir.clone())), f).unwrap();
    assert_eq!(calls.swap(0, Ordering::SeqCst), 1);
    // (Debug text: NaN != NaN under PartialEq)
    assert_eq!(format!("{:?}", again.points), format!("{:?}", out.points));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_inputs_name_the_field() {
    let e = Grid::new(&[1.0, -0.5], &[10], 2, 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`alpha`") && e.contains("-0.5"), "{e}");
    let e = Grid::new(&[1.0], &[10], 0, 0).unwrap_err().to_string();
    assert!(e.contains("`seeds`"), "{e}");
    let e = Grid::new(&[1.0], &[0], 1, 0).unwrap_err().to_string();
    assert!(e.contains("`d`"), "{e}");
    let grid = Grid::new(&[1.0], &[10], 1, 0).unwrap();
    let e = run_sweep("x", "v", &grid, &quiet(0, None), toy)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`threads`"), "{e}");
}

#[test]
fn fnv_is_stable() {
    // Reference values of 64-bit FNV-1a.
    assert_eq!(fnv1a(b""), 0xcbf29ce484222325);
    assert_eq!(fnv1a(b"a"), 0xaf63dc4c8601ec8c);
    assert_eq!(fnv1a(b"foobar"), 0x85944171f73967e8);
}
