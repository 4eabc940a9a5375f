//! Binding of `cargo xtask reproduce` (the registry of `gardner_sim`): a figure's table
//! computed in memory.

use crate::convert::{Out, runtime_error, value_error};
use crate::interrupt;
use gardner_sim::Mode;
use gardner_sim::registry::{self, Table};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::Path;
use std::path::PathBuf;

/// `quick`, `default` or `full`.
fn parse_mode(mode: &str) -> PyResult<Mode> {
    [Mode::Quick, Mode::Default, Mode::Full]
        .into_iter()
        .find(|m| m.name() == mode)
        .ok_or_else(|| {
            value_error(format!(
                "unknown mode `{mode}`: must be one of `quick`, `default`, `full`"
            ))
        })
}

/// A column's cells as numbers (empty cells → NaN), or `None` if any cell is text.
fn numeric(cells: &[&str]) -> Option<Vec<f64>> {
    cells
        .iter()
        .map(|c| {
            if c.is_empty() {
                Some(f64::NAN)
            } else {
                c.parse().ok()
            }
        })
        .collect()
}

/// The table as a dict: numeric columns as float64 arrays, text columns as lists of str.
fn table_dict<'py>(py: Python<'py>, table: &Table) -> PyResult<Bound<'py, PyDict>> {
    let mut out = Out::new(py);
    for (j, name) in table.columns.iter().enumerate() {
        let cells: Vec<&str> = table.rows.iter().map(|r| r[j].as_str()).collect();
        out = match numeric(&cells) {
            Some(values) if cells.iter().any(|c| !c.is_empty()) => out.floats(name, values)?,
            _ => out.item(name, cells)?,
        };
    }
    Ok(out.finish())
}

/// Compute a figure of the talk (``cargo xtask reproduce <fig>``) in memory.
///
/// Nothing is written: the table, the headline numbers and the paths that
/// ``cargo xtask reproduce`` would write are returned. With ``cache=True`` finished tasks are
/// read from and appended to the task cache ``data/.cache/<fig>-<mode>/`` (as the command
/// line does); by default every task is computed.
///
/// Args:
///     fig: figure id (``fig1``, ``fig3``, … as in ``cargo xtask list``).
///     mode: ``"quick"`` (about a minute), ``"default"`` or ``"full"`` (the papers' sizes).
///     root: the repository (where ``papers/<fig>.toml`` lives); default: the checkout the
///         package was built from.
///     threads: worker threads (default: all cores); results do not depend on it.
///     cache: use the task cache (see above).
///
/// Returns:
///     dict ``table`` (column → float64 array, or list of str for text columns such as
///     ``status``; empty cells are NaN), ``columns`` (their order), ``headline`` (name →
///     value), ``paths`` (``csv``, ``toml``, ``svg`` that the command line would write),
///     ``tasks``, ``computed``, ``cached``, ``failed`` and ``seconds``.
#[pyfunction]
#[pyo3(signature = (fig, mode = "quick", root = None, threads = None, cache = false))]
pub fn reproduce<'py>(
    py: Python<'py>,
    fig: &str,
    mode: &str,
    root: Option<PathBuf>,
    threads: Option<usize>,
    cache: bool,
) -> PyResult<Bound<'py, PyDict>> {
    registry::find(fig).map_err(value_error)?;
    let mode = parse_mode(mode)?;
    let root = root.unwrap_or_else(|| {
        // the checkout the package was built from (this crate is `crates/python`)
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    });
    let spec = root.join("papers").join(format!("{fig}.toml"));
    if !spec.is_file() {
        return Err(value_error(format!(
            "{}: no such file: pass root= the gardner repository",
            spec.display()
        )));
    }
    let threads =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        return Err(value_error("invalid parameter `threads` = 0: must be >= 1"));
    }
    let id = fig.to_string();
    let work_root = root.clone();
    let (_, out, secs) = interrupt::run(py, move || {
        registry::compute(&work_root, &id, mode, threads, false, cache)
    })?
    .map_err(runtime_error)?;
    let dir = registry::data_dir(&root, mode);
    let paths = Out::new(py)
        .item("csv", dir.join(format!("{fig}.csv")))?
        .item("toml", dir.join(format!("{fig}.toml")))?
        .item("svg", dir.join(format!("{fig}.svg")))?
        .finish();
    let headline = PyDict::new(py);
    for h in &out.headline {
        headline.set_item(&h.name, h.value)?;
    }
    Ok(Out::new(py)
        .item("table", table_dict(py, &out.table)?)?
        .item("columns", out.table.columns.clone())?
        .item("headline", headline)?
        .item("paths", paths)?
        .item("tasks", out.tasks)?
        .item("computed", out.computed)?
        .item("cached", out.cached)?
        .item("failed", out.failed)?
        .item("seconds", secs)?
        .finish())
}
