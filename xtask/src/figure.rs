//! What a figure is: a spec file in `papers/`, a computation, and its outputs
//! (a table, a summary and a plot), written by [`crate::output`].

use serde::de::DeserializeOwned;
use std::fmt;
use std::path::{Path, PathBuf};

/// One-line error of the xtask (printed as `error: …`, exit code 1).
#[derive(Debug)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// Build an [`Error`] from anything displayable.
pub fn err(msg: impl fmt::Display) -> Error {
    Error(msg.to_string())
}

macro_rules! from_display {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self { Error(e.to_string()) }
        }
    )*};
}
from_display!(
    std::io::Error,
    csv::Error,
    toml::ser::Error,
    gardner_models::Error,
    gardner_algorithms::Error,
    String
);

/// Result of the xtask.
pub type Result<T> = std::result::Result<T, Error>;

/// Size of a run. `Quick` (~1 min, CI and snapshots), `Default` (paper quality in minutes),
/// `Full` (the papers' sizes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Quick,
    Default,
    Full,
}

impl Mode {
    /// The spec section name and output sub-directory (`""` for the default run).
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Quick => "quick",
            Mode::Default => "default",
            Mode::Full => "full",
        }
    }
}

/// Everything a figure's computation may use.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Run size.
    pub mode: Mode,
    /// Worker threads for simulations (results do not depend on it).
    pub threads: usize,
    /// Show progress bars.
    pub progress: bool,
    /// Path of `papers/<id>.toml`.
    pub spec_path: PathBuf,
    /// Text of `papers/<id>.toml`.
    pub spec_text: String,
    /// Directory for resumable per-task results (`data/.cache/<id>-<mode>`); `None` under
    /// `--check` and in tests, which must recompute everything.
    pub cache_dir: Option<PathBuf>,
}

impl Ctx {
    /// Parse the spec file into the figure's spec struct (use `#[serde(deny_unknown_fields)]`).
    /// A malformed or misspelt key gives a one-line error naming the file, line and key.
    pub fn spec<T: DeserializeOwned>(&self) -> Result<T> {
        parse_toml(&self.spec_path, &self.spec_text)
    }
}

/// Parse TOML text with a one-line error `path:line: message`.
pub fn parse_toml<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        let msg = e.message().replace('\n', " ");
        match line {
            Some(l) => err(format!("{}:{l}: {msg}", path.display())),
            None => err(format!("{}: {msg}", path.display())),
        }
    })
}

/// One table cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Num(f64),
    Int(i64),
    Text(String),
}

impl From<f64> for Cell {
    fn from(v: f64) -> Self {
        Cell::Num(v)
    }
}
impl From<usize> for Cell {
    fn from(v: usize) -> Self {
        Cell::Int(v as i64)
    }
}
impl From<String> for Cell {
    fn from(v: String) -> Self {
        Cell::Text(v)
    }
}
impl From<&str> for Cell {
    fn from(v: &str) -> Self {
        Cell::Text(v.to_string())
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // shortest representation that round-trips; NaN is written as NaN, never hidden
            Cell::Num(v) => write!(f, "{v}"),
            Cell::Int(v) => write!(f, "{v}"),
            Cell::Text(s) => f.write_str(s),
        }
    }
}

/// A table: named columns, one row per point.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// Empty table with the given columns.
    pub fn new(columns: &[&str]) -> Self {
        Self {
            columns: columns.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }
    /// Append a row (panics on a length mismatch: a programming error).
    pub fn push(&mut self, row: Vec<Cell>) {
        assert_eq!(
            row.len(),
            self.columns.len(),
            "row length vs columns {:?}",
            self.columns
        );
        self.rows.push(row);
    }
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    /// Theory: a line.
    Line,
    /// Simulation: markers, with error bars when given.
    Points,
}

/// One curve of a plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub style: Style,
    /// (x, y) points; non-finite points are skipped in the plot (they stay in the table).
    pub points: Vec<(f64, f64)>,
    /// Optional error bar per point, as absolute (lower, upper) ends.
    pub err: Option<Vec<(f64, f64)>>,
    /// Join the markers with a thin line (success curves).
    pub joined: bool,
}

impl Series {
    /// A theory line.
    pub fn line(label: &str, points: Vec<(f64, f64)>) -> Self {
        Self {
            label: label.into(),
            style: Style::Line,
            points,
            err: None,
            joined: false,
        }
    }
    /// Simulation markers with symmetric error bars y ± `err`.
    pub fn points(label: &str, points: Vec<(f64, f64)>, err: Vec<f64>) -> Self {
        let ranges = points
            .iter()
            .zip(&err)
            .map(|(&(_, y), &e)| (y - e, y + e))
            .collect();
        Self {
            label: label.into(),
            style: Style::Points,
            points,
            err: Some(ranges),
            joined: false,
        }
    }
    /// Simulation markers joined by a thin line, with (possibly asymmetric) intervals
    /// such as Wilson score intervals.
    pub fn interval(label: &str, points: Vec<(f64, f64)>, ranges: Vec<(f64, f64)>) -> Self {
        Self {
            label: label.into(),
            style: Style::Points,
            points,
            err: Some(ranges),
            joined: true,
        }
    }
}

/// A 2-D plot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    /// Vertical reference lines (x, label), e.g. thresholds.
    pub vlines: Vec<(f64, String)>,
    pub series: Vec<Series>,
}

/// What a figure's computation returns.
#[derive(Debug, Clone)]
pub struct Output {
    /// `data/<id>.csv`: one row per point, theory and simulation side by side, a `status` column.
    pub table: Table,
    /// `data/<id>.toml` body: parameters, headline numbers, `[agreement]`; provenance is added.
    pub summary: toml::Table,
    /// `data/<id>.svg`.
    pub plot: Plot,
    /// Relative tolerance for `--check` on numeric columns (absolute floor 1e-12).
    pub check_rel_tol: f64,
}

/// A reproducible figure.
pub trait Figure: Sync {
    /// `fig1`, `fig2`, …
    fn id(&self) -> &'static str;
    /// One-line title.
    fn title(&self) -> &'static str;
    /// Source paper(s).
    fn paper(&self) -> &'static str;
    /// Compute the figure.
    fn run(&self, ctx: &Ctx) -> Result<Output>;
}

/// `[agreement]` table: deviation of simulation from theory in units of
/// σ = max(standard error, `resolution`), over points with a finite theory value and mean and
/// a positive standard error. `resolution` is the smallest difference the simulation resolves
/// (e.g. set by its convergence tolerance): at perfect recovery the seeds agree to 1e-10 and a
/// residual of 1e-9 would otherwise count as "20 standard errors".
/// Keys: `points`, `max_dev_in_stderr`, `mean_dev_in_stderr`, `max_abs_dev`, `resolution`.
pub fn agreement(pairs: impl IntoIterator<Item = (f64, f64, f64)>, resolution: f64) -> toml::Table {
    let mut devs = Vec::new();
    let mut max_abs: f64 = 0.0;
    for (theory, mean, stderr) in pairs {
        if theory.is_finite() && mean.is_finite() && stderr.is_finite() && stderr > 0.0 {
            devs.push((theory - mean).abs() / stderr.max(resolution));
            max_abs = max_abs.max((theory - mean).abs());
        }
    }
    let mut t = toml::Table::new();
    t.insert("points".into(), (devs.len() as i64).into());
    let max = devs.iter().copied().fold(0.0, f64::max);
    let mean = if devs.is_empty() {
        f64::NAN
    } else {
        devs.iter().sum::<f64>() / devs.len() as f64
    };
    t.insert("max_dev_in_stderr".into(), max.into());
    t.insert("mean_dev_in_stderr".into(), mean.into());
    t.insert("max_abs_dev".into(), max_abs.into());
    t.insert("resolution".into(), resolution.into());
    t
}
