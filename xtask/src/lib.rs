//! # xtask: reproduce the talk's figures
//!
//! `cargo xtask list` and `cargo xtask reproduce <fig> [--quick|--full] [--check] [--threads N]`.
//! Each figure reads `papers/<fig>.toml`, compares theory with simulation and writes
//! `data/<fig>.csv` (table), `data/<fig>.toml` (provenance, headline numbers, agreement) and
//! `data/<fig>.svg` (plot); `--quick` and `--full` write under `data/quick/` and `data/full/`.
//! `--check` regenerates and compares with the committed table instead of writing.

pub mod figs;
pub mod figure;
pub mod output;
pub mod plot;

use figure::{Ctx, Figure, Mode, Output, Result, err};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The workspace root (parent of the xtask package).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Look a figure up by id; the error lists the valid ids.
pub fn find(id: &str) -> Result<&'static dyn Figure> {
    figs::all()
        .into_iter()
        .find(|f| f.id() == id)
        .ok_or_else(|| {
            let ids: Vec<&str> = figs::all().iter().map(|f| f.id()).collect();
            err(format!(
                "unknown figure `{id}`: expected one of {}",
                ids.join(", ")
            ))
        })
}

/// Build the context of a run: reads `papers/<id>.toml`.
pub fn context(
    root: &Path,
    fig: &dyn Figure,
    mode: Mode,
    threads: usize,
    progress: bool,
    cache: bool,
) -> Result<Ctx> {
    let spec_path = root.join("papers").join(format!("{}.toml", fig.id()));
    let spec_text = std::fs::read_to_string(&spec_path)
        .map_err(|e| err(format!("{}: {e}", spec_path.display())))?;
    Ok(Ctx {
        mode,
        threads,
        progress,
        spec_path,
        spec_text,
        cache_dir: cache.then(|| {
            root.join("data")
                .join(".cache")
                .join(format!("{}-{}", fig.id(), mode.name()))
        }),
    })
}

/// Compute a figure in memory (used by `reproduce` and by the snapshot tests); `cache`
/// enables the resumable per-task cache under `data/.cache/`.
pub fn compute(
    root: &Path,
    id: &str,
    mode: Mode,
    threads: usize,
    progress: bool,
    cache: bool,
) -> Result<(Ctx, Output, f64)> {
    let fig = find(id)?;
    let ctx = context(root, fig, mode, threads, progress, cache)?;
    let t0 = Instant::now();
    let out = fig.run(&ctx)?;
    Ok((ctx, out, t0.elapsed().as_secs_f64()))
}

/// `reproduce`: compute, then write the three files atomically or (`check`) compare.
/// `cache`: reuse finished tasks from `data/.cache/` (keyed by the spec, not by the code:
/// after changing an algorithm, pass `cache = false`, i.e. `--no-cache`).
/// Returns a human-readable report of what was written or checked.
pub fn reproduce(
    root: &Path,
    id: &str,
    mode: Mode,
    check: bool,
    threads: usize,
    progress: bool,
    cache: bool,
) -> Result<String> {
    let fig = find(id)?;
    // --check recomputes everything: no cached task may stand in for a regenerated one.
    let (ctx, out, secs) = compute(root, id, mode, threads, progress, cache && !check)?;
    let dir = output::data_dir(root, mode);
    let csv = output::csv_text(&out.table)?;
    let summary = output::summary_text(fig, &ctx, &out, root, secs)?;
    let svg = plot::svg(&out.plot)?;
    let csv_path = dir.join(format!("{id}.csv"));
    if check {
        let committed = std::fs::read_to_string(&csv_path).map_err(|e| {
            err(format!(
                "--check needs the committed {}: {e}",
                csv_path.display()
            ))
        })?;
        let diffs = output::compare(&out.table, &committed, out.check_rel_tol)?;
        let scratch = root.join("target").join("xtask-check").join(mode.name());
        output::write_atomically(&[
            (scratch.join(format!("{id}.csv")), csv),
            (scratch.join(format!("{id}.toml")), summary),
            (scratch.join(format!("{id}.svg")), svg),
        ])?;
        if !diffs.is_empty() {
            return Err(output::check_error(id, &diffs));
        }
        return Ok(format!(
            "{id}: regenerated table matches {} (relative tolerance {:e}, {} rows) in {secs:.1} s",
            csv_path.display(),
            out.check_rel_tol,
            out.table.rows.len()
        ));
    }
    let files = [
        (csv_path.clone(), csv),
        (dir.join(format!("{id}.toml")), summary),
        (dir.join(format!("{id}.svg")), svg),
    ];
    output::write_atomically(&files)?;
    let bad = out
        .table
        .rows
        .iter()
        .filter(|r| r.last().is_some_and(|c| c.to_string() != "ok"))
        .count();
    Ok(format!(
        "{id}: wrote {}, .toml, .svg ({} rows, {bad} with status != ok) in {secs:.1} s",
        csv_path.display(),
        out.table.rows.len()
    ))
}

/// Round every numeric cell of a CSV table to `sig` significant digits (snapshot tests).
pub fn rounded_csv(table: &figure::Table, sig: usize) -> Result<String> {
    let mut t = table.clone();
    for row in &mut t.rows {
        for c in row.iter_mut() {
            if let figure::Cell::Num(v) = c {
                *c = figure::Cell::Text(round_sig(*v, sig));
            }
        }
    }
    output::csv_text(&t)
}

/// `v` with `sig` significant digits in scientific notation (`NaN`, `inf` kept).
pub fn round_sig(v: f64, sig: usize) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == 0.0 {
        return "0".into();
    }
    format!("{:.*e}", sig.saturating_sub(1), v)
}
