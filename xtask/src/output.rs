//! Writing `data/<id>.{csv,toml,svg}` atomically, with provenance, and `--check`.

use crate::figure::{Cell, Ctx, Error, Figure, Mode, Output, Result, Table, err};
use std::fs;
use std::path::{Path, PathBuf};

/// Output directory for a mode: `data/` for the default run, `data/quick/`, `data/full/`.
pub fn data_dir(root: &Path, mode: Mode) -> PathBuf {
    match mode {
        Mode::Default => root.join("data"),
        m => root.join("data").join(m.name()),
    }
}

/// CSV text of a table.
pub fn csv_text(table: &Table) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&table.columns)?;
    for row in &table.rows {
        w.write_record(row.iter().map(|c| c.to_string()))?;
    }
    String::from_utf8(w.into_inner().map_err(|e| err(e.to_string()))?)
        .map_err(|e| err(e.to_string()))
}

/// 64-bit FNV-1a hash (spec provenance).
pub fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
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

/// Summary TOML: `[provenance]` followed by the figure's own tables.
pub fn summary_text(
    fig: &dyn Figure,
    ctx: &Ctx,
    out: &Output,
    root: &Path,
    seconds: f64,
) -> Result<String> {
    let mut prov = toml::Table::new();
    prov.insert("figure".into(), fig.id().into());
    prov.insert("title".into(), fig.title().into());
    prov.insert("paper".into(), fig.paper().into());
    prov.insert("mode".into(), ctx.mode.name().into());
    prov.insert("git_commit".into(), git_commit(root).into());
    prov.insert(
        "spec".into(),
        ctx.spec_path
            .strip_prefix(root)
            .unwrap_or(&ctx.spec_path)
            .display()
            .to_string()
            .into(),
    );
    prov.insert(
        "spec_fnv1a".into(),
        format!("{:016x}", fnv1a(&ctx.spec_text)).into(),
    );
    prov.insert("gardner_version".into(), env!("CARGO_PKG_VERSION").into());
    prov.insert("threads".into(), (ctx.threads as i64).into());
    prov.insert("seconds".into(), ((seconds * 10.0).round() / 10.0).into());
    let mut doc = toml::Table::new();
    doc.insert("provenance".into(), prov.into());
    for (k, v) in &out.summary {
        doc.insert(k.clone(), v.clone());
    }
    Ok(toml::to_string_pretty(&doc)?)
}

/// Write every file to `<path>.tmp` first, then rename them all: an error leaves no partial set.
pub fn write_atomically(files: &[(PathBuf, String)]) -> Result<()> {
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

/// Compare a regenerated table with the committed CSV: same columns and rows, text cells
/// equal, numeric cells within `rel_tol·|old| + 1e-12`. Returns the list of differences.
pub fn compare(new: &Table, committed_csv: &str, rel_tol: f64) -> Result<Vec<String>> {
    let mut rd = csv::Reader::from_reader(committed_csv.as_bytes());
    let header: Vec<String> = rd.headers()?.iter().map(String::from).collect();
    let mut diffs = Vec::new();
    if header != new.columns {
        diffs.push(format!(
            "columns differ: committed {header:?}, new {:?}",
            new.columns
        ));
        return Ok(diffs);
    }
    let old: Vec<csv::StringRecord> = rd.records().collect::<std::result::Result<_, _>>()?;
    if old.len() != new.rows.len() {
        diffs.push(format!(
            "row count differs: committed {}, new {}",
            old.len(),
            new.rows.len()
        ));
        return Ok(diffs);
    }
    for (i, (o, n)) in old.iter().zip(&new.rows).enumerate() {
        for (j, (os, nc)) in o.iter().zip(n).enumerate() {
            let col = &new.columns[j];
            let same = match nc {
                Cell::Num(v) => match os.parse::<f64>() {
                    Ok(ov) => {
                        (ov.is_nan() && v.is_nan()) || (v - ov).abs() <= rel_tol * ov.abs() + 1e-12
                    }
                    Err(_) => false,
                },
                other => other.to_string() == os,
            };
            if !same {
                diffs.push(format!(
                    "row {} column {col}: committed {os}, new {nc}",
                    i + 1
                ));
            }
        }
    }
    Ok(diffs)
}

/// Report `--check` differences as an error.
pub fn check_error(fig: &str, diffs: &[String]) -> Error {
    let shown: Vec<&str> = diffs.iter().take(20).map(String::as_str).collect();
    err(format!(
        "{fig}: regenerated table differs from the committed one in {} cell(s):\n  {}",
        diffs.len(),
        shown.join("\n  ")
    ))
}
