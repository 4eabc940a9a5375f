//! Writing `data/<id>.{csv,toml,svg,png}` atomically, with provenance (the `--check` comparison
//! is `gardner_sim::check`).

use crate::figure::{Ctx, Figure, Output, Result, err};
use gardner_sim::CODE_FINGERPRINT;
use std::fs;
use std::path::{Path, PathBuf};

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
    put("title", fig.identity().title.into());
    put("paper", fig.identity().paper.into());
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
