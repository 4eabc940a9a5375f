//! Plot descriptions (data only; `xtask` renders them as SVG). Series are built from typed
//! rows through closures, so a plot names fields, never column indices.

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    /// Theory: a line.
    Line,
    /// Simulation: markers, with error bars when given.
    Points,
}

/// One curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub style: Style,
    /// (x, y); non-finite points are skipped in the plot (they stay in the table).
    pub points: Vec<(f64, f64)>,
    /// Optional (lower, upper) ends of an error bar per point.
    pub err: Option<Vec<(f64, f64)>>,
    /// Join the markers with a thin line (success curves).
    pub joined: bool,
}

impl Series {
    /// A theory line through `f(row)` for every row where it is `Some`.
    pub fn line<R>(label: &str, rows: &[R], f: impl Fn(&R) -> Option<(f64, f64)>) -> Self {
        Self {
            label: label.into(),
            style: Style::Line,
            points: rows.iter().filter_map(f).collect(),
            err: None,
            joined: false,
        }
    }
    /// Markers y ± e from `f(row) = Some((x, y, e))`.
    pub fn points<R>(label: &str, rows: &[R], f: impl Fn(&R) -> Option<(f64, f64, f64)>) -> Self {
        let v: Vec<(f64, f64, f64)> = rows.iter().filter_map(f).collect();
        Self {
            label: label.into(),
            style: Style::Points,
            points: v.iter().map(|&(x, y, _)| (x, y)).collect(),
            err: Some(v.iter().map(|&(_, y, e)| (y - e, y + e)).collect()),
            joined: false,
        }
    }
    /// Joined markers with (possibly asymmetric) intervals, `f(row) = Some((x, y, lo, hi))`.
    pub fn interval<R>(
        label: &str,
        rows: &[R],
        f: impl Fn(&R) -> Option<(f64, f64, f64, f64)>,
    ) -> Self {
        let v: Vec<(f64, f64, f64, f64)> = rows.iter().filter_map(f).collect();
        Self {
            label: label.into(),
            style: Style::Points,
            points: v.iter().map(|&(x, y, _, _)| (x, y)).collect(),
            err: Some(v.iter().map(|&(_, _, lo, hi)| (lo, hi)).collect()),
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
