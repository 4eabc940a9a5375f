//! `cargo xtask slurm`: a ready `sbatch` job array over the shards of a figure and a merge
//! job that depends on it (`afterok`). Nothing home-made in between: SLURM schedules, the
//! shards write JSON lines under `data/.shards/` on the shared file system, `merge` builds
//! the same files as a single-machine run.

use crate::figure::{Result, err};
use gardner_sim::Mode;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Options of the generated scripts (`None`: the cluster's default).
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub array: usize,
    pub partition: Option<String>,
    pub time: Option<String>,
    pub cpus_per_task: usize,
    pub mem: Option<String>,
}

fn mode_flag(mode: Mode) -> &'static str {
    match mode {
        Mode::Quick => " --quick",
        Mode::Default => "",
        Mode::Full => " --full",
    }
}

fn header(name: &str, o: &Options, log: &Path, extra: &str) -> String {
    let mut s = format!(
        "#!/bin/bash\n#SBATCH --job-name={name}\n#SBATCH --cpus-per-task={}\n#SBATCH --output={}\n",
        o.cpus_per_task,
        log.display()
    );
    for (k, v) in [
        ("partition", &o.partition),
        ("time", &o.time),
        ("mem", &o.mem),
    ] {
        if let Some(v) = v {
            s.push_str(&format!("#SBATCH --{k}={v}\n"));
        }
    }
    // every #SBATCH line must come before the first command
    s.push_str(extra);
    s.push_str("set -euo pipefail\n");
    s
}

/// The array script (one task per shard) and the merge script, as text.
pub fn scripts(root: &Path, id: &str, mode: Mode, o: &Options) -> Result<(String, String)> {
    if o.array == 0 || o.cpus_per_task == 0 {
        return Err(err(format!(
            "invalid parameter `--array`/`--cpus-per-task` = {}/{}: must be >= 1",
            o.array, o.cpus_per_task
        )));
    }
    let bin = root.join("target").join("release").join("xtask");
    let logs = root.join("target").join("slurm");
    let m = mode_flag(mode);
    let name = format!("{id}-{}", mode.name());
    let log = logs.join(format!("{name}-%A_%a.log"));
    let mut array = header(&name, o, &log, &format!("#SBATCH --array=1-{}\n", o.array));
    array.push_str(&format!(
        "cd {root}\n{bin} reproduce {id}{m} --shard \"$SLURM_ARRAY_TASK_ID/{n}\" --threads {c} --no-progress\n",
        n = o.array,
        root = root.display(),
        bin = bin.display(),
        c = o.cpus_per_task,
    ));
    let one = Options {
        cpus_per_task: 1,
        ..o.clone()
    };
    let log = logs.join(format!("{name}-merge-%j.log"));
    let mut merge = header(&format!("{name}-merge"), &one, &log, "");
    merge.push_str(&format!(
        "cd {}\n{} merge {id}{m}\n",
        root.display(),
        bin.display()
    ));
    Ok((array, merge))
}

/// Write the two scripts under `target/slurm/` and return their paths.
pub fn write(root: &Path, id: &str, mode: Mode, o: &Options) -> Result<(PathBuf, PathBuf)> {
    let (a, m) = scripts(root, id, mode, o)?;
    let dir = root.join("target").join("slurm");
    std::fs::create_dir_all(&dir)?;
    let pa = dir.join(format!("{id}-{}-array.sbatch", mode.name()));
    let pm = dir.join(format!("{id}-{}-merge.sbatch", mode.name()));
    std::fs::write(&pa, a)?;
    std::fs::write(&pm, m)?;
    Ok((pa, pm))
}

fn sbatch(args: &[&str]) -> Result<String> {
    let out = Command::new("sbatch")
        .args(args)
        .output()
        .map_err(|e| err(format!("sbatch: {e} (is SLURM installed on this machine?)")))?;
    if !out.status.success() {
        return Err(err(format!(
            "sbatch {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(text.split(';').next().unwrap_or("").to_string())
}

/// Submit the array, then the merge with `--dependency=afterok:<array job>`; returns both ids.
pub fn submit(array: &Path, merge: &Path) -> Result<(String, String)> {
    let a = sbatch(&["--parsable", &array.display().to_string()])?;
    let dep = format!("--dependency=afterok:{a}");
    let m = sbatch(&["--parsable", &dep, &merge.display().to_string()])?;
    Ok((a, m))
}
