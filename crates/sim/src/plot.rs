//! Plot descriptions (data only; `xtask` renders them as SVG and PNG in one house style).
//!
//! A [`Plot`] is a grid of [`Panel`]s (small multiples share axes when their [`Axis`] says
//! so). A [`Series`] names *what* it shows, never how it looks: its [`Role`] (the algorithm or
//! estimator: one fixed colour in every figure), its [`Style`] (theory line or simulation
//! markers) and optionally its [`Level`] in an ordered family (sizes d, widths m: a shade and
//! a marker). Series are built from typed rows through closures, so a plot names fields,
//! never column indices.

/// The algorithm or estimator a series shows. The renderer gives each one fixed colour in
/// every figure; a simulation takes the role of the theory line it is compared with, so its
/// markers have that line's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Bayes-optimal estimator (MMSE, Bayes-optimal error).
    Bayes,
    /// (G)AMP and its state evolution.
    Gamp,
    /// Logistic regression (ERM).
    Logistic,
    /// Ridge regression (square-loss ERM).
    Ridge,
    /// Hinge-loss ERM (SVM).
    Hinge,
    /// The max-margin classifier.
    MaxMargin,
    /// Gradient descent (full batch).
    Gd,
    /// Stochastic gradient descent.
    Sgd,
    /// Persistent SGD.
    Psgd,
}

impl Role {
    /// Every role, in legend order.
    pub const ALL: [Role; 9] = [
        Role::Bayes,
        Role::Gamp,
        Role::Logistic,
        Role::Ridge,
        Role::Hinge,
        Role::MaxMargin,
        Role::Gd,
        Role::Sgd,
        Role::Psgd,
    ];
    /// Short display name (`GD`, `p-SGD`, `Bayes-optimal`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Role::Bayes => "Bayes-optimal",
            Role::Gamp => "GAMP",
            Role::Logistic => "logistic",
            Role::Ridge => "ridge",
            Role::Hinge => "hinge",
            Role::MaxMargin => "max-margin",
            Role::Gd => "GD",
            Role::Sgd => "SGD",
            Role::Psgd => "p-SGD",
        }
    }
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    /// Theory: a line (with an optional shaded band).
    Line,
    /// Simulation: markers, with error bars when given.
    Points,
}

/// The place of a series in an ordered family of `count` (sizes d or widths m, smallest
/// first): the renderer shades its role's colour from light (first) to full (last) and
/// gives each index its own marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub index: usize,
    pub count: usize,
}

/// One curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub role: Role,
    pub style: Style,
    pub level: Option<Level>,
    /// Draw a line dashed (e.g. a reference estimator drawn over another).
    pub dashed: bool,
    /// (x, y); non-finite points are skipped in the plot (they stay in the table).
    pub points: Vec<(f64, f64)>,
    /// Optional (lower, upper) ends of an error bar per point (markers) or of a shaded band
    /// (lines).
    pub err: Option<Vec<(f64, f64)>>,
    /// Join the markers with a thin line (success curves).
    pub joined: bool,
}

impl Series {
    fn new(role: Role, label: &str, style: Style) -> Self {
        Self {
            label: label.into(),
            role,
            style,
            level: None,
            dashed: false,
            points: Vec::new(),
            err: None,
            joined: false,
        }
    }
    /// A theory line through `f(row)` for every row where it is `Some`.
    pub fn line<R>(
        role: Role,
        label: &str,
        rows: &[R],
        f: impl Fn(&R) -> Option<(f64, f64)>,
    ) -> Self {
        Self {
            points: rows.iter().filter_map(f).collect(),
            ..Self::new(role, label, Style::Line)
        }
    }
    /// A theory line with a shaded band, `f(row) = Some((x, y, lo, hi))`.
    pub fn band<R>(
        role: Role,
        label: &str,
        rows: &[R],
        f: impl Fn(&R) -> Option<(f64, f64, f64, f64)>,
    ) -> Self {
        let v: Vec<(f64, f64, f64, f64)> = rows.iter().filter_map(f).collect();
        Self {
            points: v.iter().map(|&(x, y, _, _)| (x, y)).collect(),
            err: Some(v.iter().map(|&(_, _, lo, hi)| (lo, hi)).collect()),
            ..Self::new(role, label, Style::Line)
        }
    }
    /// Markers y ± e from `f(row) = Some((x, y, e))`.
    pub fn points<R>(
        role: Role,
        label: &str,
        rows: &[R],
        f: impl Fn(&R) -> Option<(f64, f64, f64)>,
    ) -> Self {
        let v: Vec<(f64, f64, f64)> = rows.iter().filter_map(f).collect();
        Self {
            points: v.iter().map(|&(x, y, _)| (x, y)).collect(),
            err: Some(v.iter().map(|&(_, y, e)| (y - e, y + e)).collect()),
            ..Self::new(role, label, Style::Points)
        }
    }
    /// Joined markers with (possibly asymmetric) intervals, `f(row) = Some((x, y, lo, hi))`.
    pub fn interval<R>(
        role: Role,
        label: &str,
        rows: &[R],
        f: impl Fn(&R) -> Option<(f64, f64, f64, f64)>,
    ) -> Self {
        let v: Vec<(f64, f64, f64, f64)> = rows.iter().filter_map(f).collect();
        Self {
            points: v.iter().map(|&(x, y, _, _)| (x, y)).collect(),
            err: Some(v.iter().map(|&(_, _, lo, hi)| (lo, hi)).collect()),
            joined: true,
            ..Self::new(role, label, Style::Points)
        }
    }
    /// The same series at place `index` of an ordered family of `count`.
    pub fn level(mut self, index: usize, count: usize) -> Self {
        self.level = Some(Level { index, count });
        self
    }
    /// The same line, dashed.
    pub fn dashed(mut self) -> Self {
        self.dashed = true;
        self
    }
    /// The points with finite coordinates (and, on a log axis, positive ones).
    pub fn finite_points(&self, log_x: bool, log_y: bool) -> usize {
        self.points
            .iter()
            .filter(|&&(x, y)| {
                x.is_finite() && y.is_finite() && (!log_x || x > 0.0) && (!log_y || y > 0.0)
            })
            .count()
    }
}

/// One axis: its label (symbol and meaning), log or linear, an optional fixed range.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Axis {
    pub label: String,
    pub log: bool,
    /// Fixed range; `None`: the data's, padded.
    pub range: Option<(f64, f64)>,
    /// Panels whose axes are `shared` and carry the same label get one common range.
    pub shared: bool,
}

impl Axis {
    /// A linear axis.
    pub fn linear(label: &str) -> Self {
        Self {
            label: label.into(),
            ..Self::default()
        }
    }
    /// A logarithmic axis.
    pub fn log(label: &str) -> Self {
        Self {
            label: label.into(),
            log: true,
            ..Self::default()
        }
    }
    /// With a fixed range.
    pub fn range(mut self, lo: f64, hi: f64) -> Self {
        self.range = Some((lo, hi));
        self
    }
    /// Shared with the other panels' axes of the same label.
    pub fn shared(mut self) -> Self {
        self.shared = true;
        self
    }
}

/// What a reference line marks (drawn distinct from the grid, labelled in the plot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// A theoretical threshold or limit (α_IT, α_AMP, α = 2, an asymptote).
    Threshold,
    /// A value quoted for comparison (the talk's number, a literature value).
    Reference,
    /// The end of a computed window (e.g. where the DMFT stops).
    Boundary,
}

/// A vertical (at x) or horizontal (at y) reference line with its label.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub at: f64,
    pub label: String,
    pub kind: RuleKind,
}

impl Rule {
    /// A threshold line.
    pub fn threshold(at: f64, label: impl Into<String>) -> Self {
        Self {
            at,
            label: label.into(),
            kind: RuleKind::Threshold,
        }
    }
    /// A reference value.
    pub fn reference(at: f64, label: impl Into<String>) -> Self {
        Self {
            at,
            label: label.into(),
            kind: RuleKind::Reference,
        }
    }
    /// The end of a window.
    pub fn boundary(at: f64, label: impl Into<String>) -> Self {
        Self {
            at,
            label: label.into(),
            kind: RuleKind::Boundary,
        }
    }
}

/// A shaded x-interval with a label (e.g. the hard phase α_IT < α < α_AMP).
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub from: f64,
    pub to: f64,
    pub label: String,
}

/// One panel: axes, series, reference lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Panel {
    pub title: String,
    /// Short lines under the title (what is shown where, what a line means).
    pub notes: Vec<String>,
    pub x: Axis,
    pub y: Axis,
    pub series: Vec<Series>,
    /// Vertical lines at x.
    pub vlines: Vec<Rule>,
    /// Horizontal lines at y.
    pub hlines: Vec<Rule>,
    pub spans: Vec<Span>,
}

impl Panel {
    /// A panel with these axes.
    pub fn new(title: impl Into<String>, x: Axis, y: Axis) -> Self {
        Self {
            title: title.into(),
            x,
            y,
            ..Self::default()
        }
    }
}

/// A figure: a title and panels in a grid of `columns` (one legend for all, outside the
/// data area). Labels may use `_{…}` and `^{…}` for sub- and superscripts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plot {
    pub title: String,
    pub panels: Vec<Panel>,
    pub columns: usize,
}

impl Plot {
    /// A figure of `panels` in `columns` columns.
    pub fn new(title: impl Into<String>, columns: usize, panels: Vec<Panel>) -> Self {
        Self {
            title: title.into(),
            panels,
            columns: columns.max(1),
        }
    }
    /// Every series that would draw nothing: no point, or no finite one (positive on a log
    /// axis), as `panel title: series label`.
    pub fn empty_series(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.panels {
            if p.series.is_empty() {
                out.push(format!("{}: no series", p.title));
            }
            for s in &p.series {
                if s.finite_points(p.x.log, p.y.log) == 0 {
                    out.push(format!("{}: {}", p.title, s.label));
                }
            }
        }
        out
    }
}
