//! Writing `data/<id>.{csv,toml,svg,png}` atomically, with provenance, and `--check`.

use crate::figure::{Ctx, Error, Figure, Output, Result, Table, err};
use gardner_sim::{CODE_FINGERPRINT, Mode};
use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};

/// Output directory for a mode: `data/` for the default run, `data/quick/`, `data/full/`.
pub fn data_dir(root: &Path, mode: Mode) -> PathBuf {
    match mode {
        Mode::Default => root.join("data"),
        m => root.join("data").join(m.name()),
    }
}

/// The table of typed rows: the header from the row's field names (serde), `None` as an
/// empty cell, NaN as `NaN`.
pub fn table<R: Serialize>(rows: &[R]) -> Result<Table> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)?;
    }
    let bytes = w.into_inner().map_err(|e| err(e.to_string()))?;
    let mut rd = csv::Reader::from_reader(bytes.as_slice());
    let columns = rd.headers()?.iter().map(String::from).collect();
    let rows = rd
        .records()
        .map(|r| r.map(|r| r.iter().map(String::from).collect()))
        .collect::<std::result::Result<_, _>>()?;
    Ok(Table { columns, rows })
}

/// CSV text of a table.
pub fn csv_text(table: &Table) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&table.columns)?;
    for row in &table.rows {
        w.write_record(row)?;
    }
    String::from_utf8(w.into_inner().map_err(|e| err(e.to_string()))?)
        .map_err(|e| err(e.to_string()))
}

fn git_commit(root: &Path) -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Summary TOML: `[provenance]`, `[headline]`, then the figure's own tables.
pub fn summary_text(
    fig: &dyn Figure,
    ctx: &Ctx,
    out: &Output,
    root: &Path,
    seconds: f64,
) -> Result<String> {
    let mut prov = toml::Table::new();
    let mut put = |k: &str, v: toml::Value| {
        prov.insert(k.into(), v);
    };
    put("figure", fig.id().into());
    put("title", fig.title().into());
    put("paper", fig.paper().into());
    put("mode", ctx.mode.name().into());
    put("git_commit", git_commit(root).into());
    let spec = ctx.spec_path.strip_prefix(root).unwrap_or(&ctx.spec_path);
    put("spec", spec.display().to_string().into());
    put(
        "spec_fnv1a",
        format!("{:016x}", gardner_sim::key::fnv1a(ctx.spec_text.as_bytes())).into(),
    );
    put("code_fingerprint", CODE_FINGERPRINT.into());
    put("gardner_version", env!("CARGO_PKG_VERSION").into());
    put("threads", (ctx.threads as i64).into());
    put("seconds", ((seconds * 10.0).round() / 10.0).into());
    put("tasks", (out.tasks as i64).into());
    put("tasks_failed", (out.failed as i64).into());
    put(
        "task_seconds",
        ((out.task_seconds * 10.0).round() / 10.0).into(),
    );
    let mut doc = toml::Table::new();
    doc.insert("provenance".into(), prov.into());
    let mut head = toml::Table::new();
    for h in &out.headline {
        head.insert(h.name.clone(), h.value.into());
    }
    doc.insert("headline".into(), head.into());
    for (k, v) in &out.summary {
        doc.insert(k.clone(), v.clone());
    }
    Ok(toml::to_string_pretty(&doc)?)
}

/// Write every file to `<path>.tmp` first, then rename them all: an error leaves no partial set.
pub fn write_atomically(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    for (path, text) in files {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(tmp_path(path), text).map_err(|e| err(format!("{}: {e}", path.display())))?;
    }
    for (path, _) in files {
        fs::rename(tmp_path(path), path)?;
    }
    Ok(())
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}

/// Whether two cells agree: equal text, or both numbers within `rel_tol·|old| + 1e-12`
/// (NaN equals NaN).
fn same_cell(old: &str, new: &str, rel_tol: f64) -> bool {
    if old == new {
        return true;
    }
    match (old.parse::<f64>(), new.parse::<f64>()) {
        (Ok(o), Ok(n)) => (o.is_nan() && n.is_nan()) || (n - o).abs() <= rel_tol * o.abs() + 1e-12,
        _ => false,
    }
}

/// Compare a regenerated table with the committed CSV: same columns and rows, text cells
/// equal, numeric cells within `rel_tol`. Returns the list of differences.
pub fn compare(new: &Table, committed_csv: &str, rel_tol: f64) -> Result<Vec<String>> {
    let mut rd = csv::Reader::from_reader(committed_csv.as_bytes());
    let header: Vec<String> = rd.headers()?.iter().map(String::from).collect();
    if header != new.columns {
        return Ok(vec![format!(
            "columns differ: committed {header:?}, new {:?}",
            new.columns
        )]);
    }
    let old: Vec<csv::StringRecord> = rd.records().collect::<std::result::Result<_, _>>()?;
    if old.len() != new.rows.len() {
        return Ok(vec![format!(
            "row count differs: committed {}, new {}",
            old.len(),
            new.rows.len()
        )]);
    }
    let mut diffs = Vec::new();
    for (i, (o, n)) in old.iter().zip(&new.rows).enumerate() {
        for (j, (os, ns)) in o.iter().zip(n).enumerate() {
            if !same_cell(os, ns, rel_tol) {
                diffs.push(format!(
                    "row {} column {}: committed {os}, new {ns}",
                    i + 1,
                    new.columns[j]
                ));
            }
        }
    }
    Ok(diffs)
}

/// Compare the headline numbers with the committed summary's `[headline]` table.
pub fn compare_headline(out: &Output, committed_toml: &str) -> Result<Vec<String>> {
    let doc: toml::Table = toml::from_str(committed_toml).map_err(|e| err(e.to_string()))?;
    let old = doc.get("headline").and_then(|v| v.as_table());
    let mut diffs = Vec::new();
    for h in &out.headline {
        match old.and_then(|t| t.get(&h.name)).and_then(|v| v.as_float()) {
            None => diffs.push(format!(
                "headline {}: missing in the committed summary",
                h.name
            )),
            Some(o) => {
                let same = (o.is_nan() && h.value.is_nan()) || (h.value - o).abs() <= h.abs_tol;
                if !same {
                    diffs.push(format!(
                        "headline {}: committed {o}, new {} (tolerance {:e})",
                        h.name, h.value, h.abs_tol
                    ));
                }
            }
        }
    }
    Ok(diffs)
}

/// Report `--check` differences as an error.
pub fn check_error(fig: &str, diffs: &[String]) -> Error {
    let shown: Vec<&str> = diffs.iter().take(20).map(String::as_str).collect();
    err(format!(
        "{fig}: regenerated results differ from the committed ones in {} place(s):\n  {}",
        diffs.len(),
        shown.join("\n  ")
    ))
}
