//! # xtask: reproduce the talk's figures
//!
//! `cargo xtask list`, `cargo xtask reproduce <fig> [--quick|--full] [--check] [--threads N]`,
//! `cargo xtask render [<fig>]` and `cargo xtask report [--check]`. The figures, their
//! registry and the comparison `--check` makes are `gardner_sim::{figs, registry, check}`;
//! this crate holds only the command line, the files (`data/<fig>.csv`, `.toml` with
//! provenance and headline numbers, `.svg` and `.png`, the results page `data/README.md`) and
//! the plot rendering. `render` and `report` rebuild pictures and the page from the
//! committed files.

pub mod figure;
pub mod output;
pub mod plot;
pub mod report;
pub mod slurm;

use figure::{Ctx, Figure, Output, Result, err};
use gardner_sim::check;
use gardner_sim::registry::data_dir;
pub use gardner_sim::{Mode, Shard};
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
    Ok(gardner_sim::registry::find(id)?)
}

/// The context of a run: reads `papers/<id>.toml`; `cache` enables `data/.cache/<id>-<mode>`.
pub fn context(
    root: &Path,
    id: &str,
    mode: Mode,
    threads: usize,
    progress: bool,
    cache: bool,
) -> Result<Ctx> {
    Ok(Ctx::new(root, id, mode, threads, progress, cache)?)
}

/// Compute a figure in memory (used by `reproduce` and by the snapshot tests).
pub use gardner_sim::registry::compute;

/// Directory of the shard records of a figure and mode: `data/.shards/<id>-<mode>/`.
pub fn shard_dir(root: &Path, id: &str, mode: Mode) -> PathBuf {
    root.join("data")
        .join(".shards")
        .join(format!("{id}-{}", mode.name()))
}

/// `reproduce`: compute, then write the three files atomically or (`check`) compare the table
/// and the headline numbers with the committed ones. A run with failed tasks writes its files
/// and then returns an error (non-zero exit).
pub fn reproduce(
    root: &Path,
    id: &str,
    mode: Mode,
    check: bool,
    threads: usize,
    progress: bool,
    cache: bool,
) -> Result<String> {
    // --check recomputes everything: no cached task may stand in for a regenerated one.
    let (ctx, out, secs) = compute(root, id, mode, threads, progress, cache && !check)?;
    publish(root, id, &ctx, &out, secs, check)
}

/// `reproduce --shard K/N`: compute one shard's tasks into [`shard_dir`].
pub fn reproduce_shard(
    root: &Path,
    id: &str,
    mode: Mode,
    shard: Shard,
    threads: usize,
    progress: bool,
) -> Result<String> {
    let ctx = context(root, id, mode, threads, progress, false)?;
    let dir = shard_dir(root, id, mode);
    let r = find(id)?.shard(&ctx, shard, &dir)?;
    let msg = format!(
        "{id}: shard {shard}: {} tasks ({} computed, {} already done) → {}",
        r.tasks,
        r.computed,
        r.cached,
        r.file.display()
    );
    if r.failed > 0 {
        return Err(err(format!("{msg}\n{id}: {} task(s) failed", r.failed)));
    }
    Ok(msg)
}

/// `merge`: build the outputs from every shard's records (nothing computed; missing or failed
/// tasks are an error listing them, and nothing is written).
pub fn merge(root: &Path, id: &str, mode: Mode) -> Result<String> {
    let ctx = context(root, id, mode, 1, false, false)?;
    let t0 = Instant::now();
    let out = find(id)?.merge(&ctx, &shard_dir(root, id, mode))?;
    publish(root, id, &ctx, &out, t0.elapsed().as_secs_f64(), false)
}

/// Write (or, with `check`, compare) `data/<id>.{csv,toml,svg,png}`. The plot is built from
/// the CSV and TOML text exactly as `render` builds it from the committed files.
fn publish(
    root: &Path,
    id: &str,
    ctx: &Ctx,
    out: &Output,
    secs: f64,
    check: bool,
) -> Result<String> {
    let fig = find(id)?;
    let mode = ctx.mode;
    let dir = data_dir(root, mode);
    let csv = check::csv_text(&out.table)?;
    let summary = output::summary_text(fig, ctx, out, root, secs)?;
    let (svg, png) = picture(fig, ctx, &csv, &summary)?;
    let csv_path = dir.join(format!("{id}.csv"));
    let toml_path = dir.join(format!("{id}.toml"));
    if check {
        let read = |p: &Path| {
            std::fs::read_to_string(p)
                .map_err(|e| err(format!("--check needs the committed {}: {e}", p.display())))
        };
        let mut diffs = check::compare(&out.table, &read(&csv_path)?, out.check_rel_tol)?;
        diffs.extend(check::compare_headline(out, &read(&toml_path)?)?);
        let scratch = root.join("target").join("xtask-check").join(mode.name());
        output::write_atomically(&[
            (scratch.join(format!("{id}.csv")), csv.into_bytes()),
            (scratch.join(format!("{id}.toml")), summary.into_bytes()),
            (scratch.join(format!("{id}.svg")), svg.into_bytes()),
            (scratch.join(format!("{id}.png")), png),
        ])?;
        if !diffs.is_empty() {
            return Err(check::check_error(id, &diffs).into());
        }
        return Ok(format!(
            "{id}: regenerated table matches {} (relative tolerance {:e}, {} rows) and {} headline numbers, in {secs:.1} s",
            csv_path.display(),
            out.check_rel_tol,
            out.table.rows.len(),
            out.headline.len()
        ));
    }
    output::write_atomically(&[
        (csv_path.clone(), csv.into_bytes()),
        (toml_path, summary.into_bytes()),
        (dir.join(format!("{id}.svg")), svg.into_bytes()),
        (dir.join(format!("{id}.png")), png),
    ])?;
    let status = out.table.columns.iter().position(|c| c == "status");
    let bad = out
        .table
        .rows
        .iter()
        .filter(|r| status.is_some_and(|j| r[j] != "ok"))
        .count();
    let mut msg = format!(
        "{id}: wrote {}, .toml, .svg, .png ({} rows, {bad} with status != ok; {} tasks: {} computed, {} cached) in {secs:.1} s",
        csv_path.display(),
        out.table.rows.len(),
        out.tasks,
        out.computed,
        out.cached
    );
    // the results page reads the default runs: keep it current
    if mode == Mode::Default {
        match report::report(root, false) {
            Ok(m) => msg = format!("{msg}\n{m}"),
            Err(e) => eprintln!("warning: data/README.md not rewritten: {e}"),
        }
    }
    if out.failed > 0 {
        return Err(err(format!(
            "{msg}\n{id}: {} task(s) failed (see the status column)",
            out.failed
        )));
    }
    Ok(msg)
}

/// The SVG and PNG of a figure from its table (CSV text) and summary (TOML text).
pub fn picture(fig: &dyn Figure, ctx: &Ctx, csv: &str, summary: &str) -> Result<(String, Vec<u8>)> {
    let plot = fig.plot(ctx, csv, summary)?;
    let svg = plot::svg(&plot).map_err(|e| err(format!("{}: {e}", fig.id())))?;
    let png = plot::png(&svg).map_err(|e| err(format!("{}: {e}", fig.id())))?;
    Ok((svg, png))
}

/// The committed table and summary of a figure in a mode (`data/<id>.csv`, `.toml`).
pub fn committed(root: &Path, id: &str, mode: Mode) -> Result<(String, String)> {
    let dir = data_dir(root, mode);
    let read = |ext: &str| {
        let p = dir.join(format!("{id}.{ext}"));
        std::fs::read_to_string(&p).map_err(|e| err(format!("{}: {e}", p.display())))
    };
    Ok((read("csv")?, read("toml")?))
}

/// The `[provenance]` value `key` of a summary, as text (empty when absent).
pub fn provenance(summary: &str, key: &str) -> String {
    let doc: toml::Table = toml::from_str(summary).unwrap_or_default();
    match doc.get("provenance").and_then(|p| p.get(key)) {
        Some(toml::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    }
}

/// `render`: rebuild `data/<id>.{svg,png}` from the committed CSV and TOML (nothing is
/// recomputed), for one figure or, with `None`, every figure that has committed files in
/// `mode`. Warns on stderr when `papers/<id>.toml` changed since the data were computed.
pub fn render(root: &Path, id: Option<&str>, mode: Mode) -> Result<String> {
    let figs: Vec<&dyn Figure> = match id {
        Some(id) => vec![find(id)?],
        None => figure::all()
            .iter()
            .copied()
            .filter(|f| {
                data_dir(root, mode)
                    .join(format!("{}.csv", f.id()))
                    .is_file()
            })
            .collect(),
    };
    let mut done = Vec::new();
    for fig in figs {
        let id = fig.id();
        let ctx = context(root, id, mode, 1, false, false)?;
        let (csv, summary) = committed(root, id, mode)?;
        let spec_hash = format!("{:016x}", gardner_sim::key::fnv1a(ctx.spec_text.as_bytes()));
        let committed_hash = provenance(&summary, "spec_fnv1a");
        if committed_hash != spec_hash {
            eprintln!(
                "warning: {id}: papers/{id}.toml changed since data was computed (spec hash {committed_hash}, now {spec_hash}): labels from the current spec"
            );
        }
        let (svg, png) = picture(fig, &ctx, &csv, &summary)?;
        let dir = data_dir(root, mode);
        output::write_atomically(&[
            (dir.join(format!("{id}.svg")), svg.into_bytes()),
            (dir.join(format!("{id}.png")), png),
        ])?;
        done.push(id);
    }
    if done.is_empty() {
        return Err(err(format!(
            "no committed figure under {}",
            data_dir(root, mode).display()
        )));
    }
    Ok(format!(
        "rendered {} under {} from the committed tables",
        done.join(", "),
        data_dir(root, mode).display()
    ))
}

/// `dmft <config.toml>`: solve one user-written DMFT case (keys: `gardner_theory::dmft::Config`)
/// and return the CSV `time,m,q,train_loss,gen_error,m_stderr,q_stderr,train_loss_stderr,status`,
/// one row per requested time reached (the standard errors are filled with `replicas` > 1;
/// the header alone when no requested time was reached), and the failure of a run that
/// diverged (`config: failed: … (t = …)`), which the caller reports after the rows.
/// Shows a progress bar over the time steps (stderr).
pub fn dmft(config: &Path) -> Result<(String, Option<String>)> {
    let text =
        std::fs::read_to_string(config).map_err(|e| err(format!("{}: {e}", config.display())))?;
    let cfg: gardner_theory::dmft::Config = figure::parse_toml(config, &text)?;
    let est = gardner_theory::dmft::estimate(&cfg)
        .map_err(|e| err(format!("{}: {e}", config.display())))?;
    eprintln!(
        "dmft: estimated peak memory {:.3} GB, {:.1} CPU-s",
        est.bytes as f64 / 1e9,
        est.cpu_seconds
    );
    let bar = gardner_sim::executor::progress_bar("dmft", "time steps", 0, true);
    let sol = gardner_theory::dmft::solve_with_progress(&cfg, &mut |k, steps| {
        bar.set_length(steps as u64);
        bar.set_position(k as u64);
    })
    .map_err(|e| err(format!("{}: {e}", config.display())))?;
    bar.finish_and_clear();
    if let Some(e) = sol.error_estimate {
        eprintln!("dmft: estimated discretisation error {e:.1e} (largest over m, q, train_loss)");
    }
    if let Some(ess) = sol.response_ess {
        let n = cfg
            .particles
            .unwrap_or(gardner_theory::dmft::config::DEFAULT_PARTICLES);
        eprintln!(
            "dmft: memory kernel M_R carried by {:.0} effective particles of {n} at its worst row (t = {:.2}), {:.0} at its first{}",
            ess.particles,
            ess.time,
            ess.first,
            if ess.ratio() < ESS_WARNING {
                " (heavy-tailed responses: the particle mean of M_R is biased, and more particles barely help; ARCHITECTURE.md, \"Accuracy of the particle DMFT for phase retrieval\")"
            } else {
                ""
            }
        );
    }
    let mut table = check::table(&sol.rows)?;
    if sol.rows.is_empty() {
        table.columns = gardner_theory::dmft::SolutionRow::COLUMNS
            .iter()
            .map(|c| c.to_string())
            .collect();
    }
    let csv = check::csv_text(&table)?;
    let failure =
        (!sol.termination.converged()).then(|| format!("{}: {}", config.display(), sol.status));
    Ok((csv, failure))
}

/// Worst-to-first ratio of the effective number of particles of M_R below which the responses
/// are reported as heavy-tailed ([`gardner_theory::dmft::ResponseEss::ratio`]): the square
/// loss keeps 0.9, phase retrieval at N ≥ 1000 falls to 0.03–0.3.
pub const ESS_WARNING: f64 = 0.5;

/// `cargo xtask simulate`: the config's algorithm at dimension `d` over `seeds` instances
/// ([`gardner_sim::case`]), as the CSV of [`dmft`].
pub fn simulate(config: &Path, d: usize, seeds: usize, threads: Option<usize>) -> Result<String> {
    let text =
        std::fs::read_to_string(config).map_err(|e| err(format!("{}: {e}", config.display())))?;
    let cfg: gardner_theory::dmft::Config = figure::parse_toml(config, &text)?;
    let inst = gardner_sim::case::Instances::new(d, seeds, cfg.seed.unwrap_or(0))?;
    let bar = gardner_sim::executor::progress_bar("simulate", "seeds", seeds as u64, true);
    let rows =
        gardner_sim::case::simulate(&cfg, &inst, threads, &|k, _| bar.set_position(k as u64))
            .map_err(|e| err(format!("{}: {e}", config.display())))?;
    bar.finish_and_clear();
    Ok(check::csv_text(&check::table(&rows)?)?)
}

/// Round every numeric cell to `sig` significant digits (snapshot tests).
pub fn rounded_csv(table: &figure::Table, sig: usize) -> Result<String> {
    let mut t = table.clone();
    for row in &mut t.rows {
        for c in row.iter_mut() {
            if let Ok(v) = c.parse::<f64>() {
                *c = round_sig(v, sig);
            }
        }
    }
    Ok(check::csv_text(&t)?)
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
