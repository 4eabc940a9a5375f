//! The house style, written once: SVG rendering of a [`Plot`] and its PNG rasterisation.
//!
//! - One fixed colour per [`Role`] (algorithm or estimator) in every figure; simulation
//!   markers take their theory line's role, hence its colour. A [`Level`] (size d, width m)
//!   shades the colour from light (smallest) to full (largest) and picks the marker.
//! - Theory: lines (first series on top), an optional shaded band; simulation: markers with
//!   error bars (joined for success curves).
//! - Reference lines ([`Rule`]): thresholds dashed dark, quoted values dash-dotted, window
//!   ends dotted, each labelled in the plot; the grid is a faint solid grey.
//! - Panels in a grid with shared axes where asked; one legend for the figure, right of the
//!   data area; log axes labelled by decades (or 1-2-5 within a short span).
//! - Text is DejaVu Sans (shipped by the `dejavu` crate, measured with `ttf-parser`, loaded
//!   into resvg's font database), so the PNG has the same text on any machine.

use crate::figure::{Result, err};
use gardner_sim::{Axis, Level, Panel, Plot, Role, Rule, RuleKind, Series, Style};
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

/// Width of every figure in px (the PNG is rendered at this size).
pub const WIDTH: f64 = 1100.0;
const FONT: &str = "DejaVu Sans";
const TITLE_SIZE: f64 = 19.0;
const PANEL_TITLE_SIZE: f64 = 15.0;
const NOTE_SIZE: f64 = 12.5;
const LABEL_SIZE: f64 = 14.0;
const TICK_SIZE: f64 = 12.5;
const LEGEND_SIZE: f64 = 13.5;
const RULE_LABEL_SIZE: f64 = 12.5;

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rgb(u8, u8, u8);

impl Rgb {
    fn hex(&self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
    /// Mixed with black: `k` = 0 keeps the colour, 1 is black.
    fn shade(&self, k: f64) -> Rgb {
        let m = |c: u8| (c as f64 * (1.0 - k)).round() as u8;
        Rgb(m(self.0), m(self.1), m(self.2))
    }
    /// Mixed with white: `w` = 0 keeps the colour, 1 is white.
    fn tint(&self, w: f64) -> Rgb {
        let m = |c: u8| (c as f64 + (255.0 - c as f64) * w).round() as u8;
        Rgb(m(self.0), m(self.1), m(self.2))
    }
}

/// The colour of a role, the same in every figure.
fn colour(role: Role) -> Rgb {
    match role {
        Role::Bayes => Rgb(0, 0, 0),
        Role::Gamp => Rgb(0x2b, 0x8c, 0xd0),
        Role::Logistic => Rgb(0xd5, 0x5e, 0x00),
        Role::Ridge => Rgb(0x00, 0x9e, 0x73),
        Role::Hinge => Rgb(0xcc, 0x5c, 0xa0),
        Role::MaxMargin => Rgb(0x8c, 0x56, 0x4b),
        Role::Gd => Rgb(0x00, 0x5a, 0xb5),
        Role::Sgd => Rgb(0xe6, 0x9f, 0x00),
        Role::Psgd => Rgb(0x8e, 0x24, 0xaa),
    }
}

/// The colour of a series: its role's, shaded by its level.
fn series_colour(role: Role, level: Option<Level>) -> Rgb {
    let c = colour(role);
    match level {
        Some(l) if l.count > 1 => {
            // light (first) → full → darker (last): offset 0.6 … −0.35
            let f = 0.6 - 0.95 * l.index as f64 / (l.count - 1) as f64;
            if f >= 0.0 { c.tint(f) } else { c.shade(-f) }
        }
        _ => c,
    }
}

/// Marker shapes, one per level index.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    TriangleDown,
}

fn marker(level: Option<Level>) -> Marker {
    const ALL: [Marker; 5] = [
        Marker::Circle,
        Marker::Square,
        Marker::Triangle,
        Marker::Diamond,
        Marker::TriangleDown,
    ];
    level.map_or(Marker::Circle, |l| ALL[l.index % ALL.len()])
}

/// SVG of a marker at (x, y), radius r.
fn marker_svg(m: Marker, x: f64, y: f64, r: f64, fill: &str) -> String {
    let style = format!(r##"fill="{fill}" stroke="#ffffff" stroke-width="0.8""##);
    match m {
        Marker::Circle => format!(r#"<circle cx="{x:.2}" cy="{y:.2}" r="{r:.2}" {style}/>"#),
        Marker::Square => {
            let s = r * 0.9;
            format!(
                r#"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" {style}/>"#,
                x - s,
                y - s,
                2.0 * s,
                2.0 * s
            )
        }
        Marker::Triangle | Marker::TriangleDown => {
            let (s, k) = (r * 1.25, if m == Marker::Triangle { 1.0 } else { -1.0 });
            format!(
                r#"<path d="M{:.2},{:.2} L{:.2},{:.2} L{:.2},{:.2} Z" {style}/>"#,
                x,
                y - k * s,
                x + 0.95 * s,
                y + k * 0.6 * s,
                x - 0.95 * s,
                y + k * 0.6 * s
            )
        }
        Marker::Diamond => {
            let s = r * 1.3;
            format!(
                r#"<path d="M{x:.2},{:.2} L{:.2},{y:.2} L{x:.2},{:.2} L{:.2},{y:.2} Z" {style}/>"#,
                y - s,
                x + s,
                y + s,
                x - s
            )
        }
    }
}

// ---------------------------------------------------------------- text

fn face(bold: bool) -> &'static ttf_parser::Face<'static> {
    static REGULAR: OnceLock<ttf_parser::Face<'static>> = OnceLock::new();
    static BOLD: OnceLock<ttf_parser::Face<'static>> = OnceLock::new();
    let (cell, data) = if bold {
        (&BOLD, dejavu::sans::bold())
    } else {
        (&REGULAR, dejavu::sans::regular())
    };
    cell.get_or_init(|| ttf_parser::Face::parse(data, 0).expect("the shipped font parses"))
}

/// Width of plain text at `size` px in DejaVu Sans.
/// Width of plain text at `size` px in DejaVu Sans (bold or regular).
fn plain_width_in(s: &str, size: f64, bold: bool) -> f64 {
    let f = face(bold);
    let em = f.units_per_em() as f64;
    let units: f64 = s
        .chars()
        .map(|c| {
            f.glyph_index(c)
                .and_then(|g| f.glyph_hor_advance(g))
                .map_or(0.6 * em, |a| a as f64)
        })
        .sum();
    units / em * size
}

/// A piece of a label: plain, subscript or superscript.
#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Plain(String),
    Sub(String),
    Sup(String),
}

/// Split `_{…}` and `^{…}` out of a label.
fn segments(s: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut rest = s;
    while !rest.is_empty() {
        let next = rest.find("_{").into_iter().chain(rest.find("^{")).min();
        match next {
            Some(i) if rest[i + 2..].contains('}') => {
                cur.push_str(&rest[..i]);
                if !cur.is_empty() {
                    out.push(Seg::Plain(std::mem::take(&mut cur)));
                }
                let close = i + 2 + rest[i + 2..].find('}').expect("checked");
                let inner = rest[i + 2..close].to_string();
                out.push(if rest[i..].starts_with('_') {
                    Seg::Sub(inner)
                } else {
                    Seg::Sup(inner)
                });
                rest = &rest[close + 1..];
            }
            _ => {
                cur.push_str(rest);
                rest = "";
            }
        }
    }
    if !cur.is_empty() {
        out.push(Seg::Plain(cur));
    }
    out
}

const SCRIPT: f64 = 0.72;

/// Width of a label with sub/superscripts.
fn text_width(s: &str, size: f64) -> f64 {
    text_width_in(s, size, false)
}

/// Width of a label with sub/superscripts, bold or regular.
fn text_width_in(s: &str, size: f64, bold: bool) -> f64 {
    segments(s)
        .iter()
        .map(|g| match g {
            Seg::Plain(t) => plain_width_in(t, size, bold),
            Seg::Sub(t) | Seg::Sup(t) => plain_width_in(t, size * SCRIPT, bold),
        })
        .sum()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The inner tspans of a label (sub/superscripts shifted with `dy`).
fn tspans(s: &str, size: f64) -> String {
    let mut out = String::new();
    let mut shift = 0.0;
    for g in segments(s) {
        let (t, target, sz) = match &g {
            Seg::Plain(t) => (t, 0.0, size),
            Seg::Sub(t) => (t, 0.28 * size, size * SCRIPT),
            Seg::Sup(t) => (t, -0.38 * size, size * SCRIPT),
        };
        let dy = target - shift;
        shift = target;
        let _ = write!(
            out,
            r#"<tspan dy="{dy:.2}" font-size="{sz:.2}">{}</tspan>"#,
            esc(t)
        );
    }
    out
}

/// A `<text>` element.
struct Text<'a> {
    x: f64,
    y: f64,
    size: f64,
    anchor: &'a str,
    fill: &'a str,
    bold: bool,
    /// Rotate by −90° about (x, y) (reads bottom to top).
    vertical: bool,
    /// White outline behind the glyphs (labels over data).
    halo: bool,
}

impl<'a> Text<'a> {
    fn at(x: f64, y: f64, size: f64) -> Self {
        Self {
            x,
            y,
            size,
            anchor: "start",
            fill: "#1a1a1a",
            bold: false,
            vertical: false,
            halo: false,
        }
    }
    fn anchor(mut self, a: &'a str) -> Self {
        self.anchor = a;
        self
    }
    fn fill(mut self, f: &'a str) -> Self {
        self.fill = f;
        self
    }
    fn bold(mut self) -> Self {
        self.bold = true;
        self
    }
    fn vertical(mut self) -> Self {
        self.vertical = true;
        self
    }
    fn halo(mut self) -> Self {
        self.halo = true;
        self
    }
    fn svg(&self, label: &str) -> String {
        let mut attrs = format!(
            r#"x="{:.2}" y="{:.2}" font-family="{FONT}" font-size="{:.2}" text-anchor="{}" fill="{}""#,
            self.x, self.y, self.size, self.anchor, self.fill
        );
        if self.bold {
            attrs.push_str(r#" font-weight="bold""#);
        }
        if self.vertical {
            let _ = write!(
                attrs,
                r#" transform="rotate(-90 {:.2} {:.2})""#,
                self.x, self.y
            );
        }
        if self.halo {
            attrs.push_str(
                r##" stroke="#ffffff" stroke-width="3.5" stroke-linejoin="round" paint-order="stroke""##,
            );
        }
        format!("<text {attrs}>{}</text>\n", tspans(label, self.size))
    }
}

// ---------------------------------------------------------------- axes

/// Map from data to px along one axis.
#[derive(Debug, Clone, Copy)]
struct Scale {
    lo: f64,
    hi: f64,
    log: bool,
    p0: f64,
    p1: f64,
}

impl Scale {
    fn t(&self, v: f64) -> f64 {
        if self.log {
            (v.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }
    fn px(&self, v: f64) -> f64 {
        self.p0 + self.t(v) * (self.p1 - self.p0)
    }
    fn contains(&self, v: f64) -> bool {
        v.is_finite() && (!self.log || v > 0.0) && (-1e-9..=1.0 + 1e-9).contains(&self.t(v))
    }
}

/// Whether `v` can sit on an axis.
fn ok(v: f64, log: bool) -> bool {
    v.is_finite() && (!log || v > 0.0)
}

/// (min, max) of the values on an axis, if any.
fn extent(vals: impl Iterator<Item = f64>, log: bool) -> Option<(f64, f64)> {
    vals.filter(|&v| ok(v, log)).fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((a, b)) => Some((a.min(v), b.max(v))),
    })
}

fn union(a: Option<(f64, f64)>, b: Option<(f64, f64)>) -> Option<(f64, f64)> {
    match (a, b) {
        (Some((a0, a1)), Some((b0, b1))) => Some((a0.min(b0), a1.max(b1))),
        (x, None) | (None, x) => x,
    }
}

/// The data extent of a panel along x (`true`) or y.
fn panel_extent(p: &Panel, along_x: bool) -> Option<(f64, f64)> {
    let log = if along_x { p.x.log } else { p.y.log };
    let mut vals: Vec<f64> = Vec::new();
    for s in &p.series {
        for (i, &(x, y)) in s.points.iter().enumerate() {
            if !(ok(x, p.x.log) && ok(y, p.y.log)) {
                continue;
            }
            if along_x {
                vals.push(x);
            } else {
                vals.push(y);
                if let Some(e) = &s.err {
                    let (lo, hi) = e[i];
                    // an error bar reaching to ≤ 0 on a log axis does not set the range
                    vals.push(if log && lo <= 0.0 { y } else { lo });
                    vals.push(hi);
                }
            }
        }
    }
    let rules = if along_x { &p.vlines } else { &p.hlines };
    vals.extend(rules.iter().map(|r| r.at));
    if along_x {
        vals.extend(p.spans.iter().flat_map(|s| [s.from, s.to]));
    }
    extent(vals.into_iter(), log)
}

/// Padded range of an extent.
fn padded((lo, hi): (f64, f64), log: bool) -> (f64, f64) {
    if log {
        let (l, h) = (lo.ln(), hi.ln());
        let pad = 0.04 * (h - l).max(0.2);
        ((l - pad).exp(), (h + pad).exp())
    } else {
        let span = if hi > lo {
            hi - lo
        } else {
            0.2 * lo.abs().max(1.0)
        };
        (lo - 0.04 * span, hi + 0.04 * span)
    }
}

/// Ranges of every panel's (x, y) axes, with shared axes unified.
fn ranges(plot: &Plot) -> Vec<((f64, f64), (f64, f64))> {
    fn pick(p: &Panel, along_x: bool) -> (&Axis, Option<(f64, f64)>) {
        let a = if along_x { &p.x } else { &p.y };
        (a, panel_extent(p, along_x))
    }
    let mut out = Vec::new();
    for p in &plot.panels {
        let mut r = [(0.0, 1.0); 2];
        for (k, along_x) in [true, false].into_iter().enumerate() {
            let (axis, own) = pick(p, along_x);
            r[k] = match axis.range {
                Some(fixed) => fixed,
                None => {
                    let ext = if axis.shared {
                        plot.panels
                            .iter()
                            .map(|q| pick(q, along_x))
                            .filter(|(a, _)| a.shared && a.label == axis.label && a.log == axis.log)
                            .fold(None, |acc, (_, e)| union(acc, e))
                    } else {
                        own
                    };
                    padded(ext.unwrap_or((1.0, 10.0)), axis.log)
                }
            };
        }
        out.push((r[0], r[1]));
    }
    out
}

/// "Nice" linear ticks inside [lo, hi].
fn linear_ticks(lo: f64, hi: f64) -> (Vec<f64>, f64) {
    let raw = (hi - lo) / 6.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    let ticks = (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            if v.abs() < step * 1e-9 { 0.0 } else { v }
        })
        .collect();
    (ticks, step)
}

/// Labelled and minor ticks of a log axis: decades, or 1-2-5 within ≲ 2 decades; and the
/// step of the linear subdivision labelled below a decade (0 when there is none).
fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>, f64) {
    let (d0, d1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let span = hi.log10() - lo.log10();
    let mut major = Vec::new();
    let mut minor = Vec::new();
    for d in d0..=d1 {
        for m in 1..10 {
            let v = m as f64 * 10f64.powi(d);
            if v < lo * (1.0 - 1e-9) || v > hi * (1.0 + 1e-9) {
                continue;
            }
            let labelled = match m {
                1 => true,
                2 | 5 => span <= 2.2,
                3 | 4 => span <= 1.1,
                _ => span <= 0.7,
            };
            if labelled {
                major.push(v);
            } else {
                minor.push(v);
            }
        }
    }
    let mut lin_step = 0.0;
    if major.len() < 2 {
        // less than a decade: label a linear subdivision as well
        let (lin, step) = linear_ticks(lo, hi);
        lin_step = step;
        major.extend(lin.into_iter().filter(|v| *v > 0.0));
        major.sort_by(f64::total_cmp);
        major.dedup_by(|a, b| (*a - *b).abs() <= 1e-12 * b.abs());
    }
    let step = if span > 6.0 { 2 } else { 1 };
    if step > 1 {
        let keep: Vec<f64> = major
            .iter()
            .copied()
            .filter(|v| (v.log10().round() as i32).rem_euclid(step) == 0)
            .collect();
        minor.extend(major.iter().filter(|v| !keep.contains(v)));
        major = keep;
    }
    (major, minor, lin_step)
}

/// Tick label of `v` (`step`: linear tick spacing, or 0 on a log axis).
fn tick_label(v: f64, step: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let e = a.log10().floor() as i32;
        let m = v / 10f64.powi(e);
        let sup = superscript(e);
        return if (m - 1.0).abs() < 1e-9 {
            format!("10{sup}")
        } else {
            format!("{}·10{sup}", trim(format!("{m:.1}")))
        };
    }
    let decimals = if step > 0.0 {
        (-(step.log10().floor()) as i32).max(0) as usize + usize::from(step_has_half(step))
    } else {
        (-(a.log10().floor()) as i32).max(0) as usize
    };
    trim(format!("{v:.decimals$}"))
}

/// An integer in superscript digits.
fn superscript(e: i32) -> String {
    e.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            _ => '⁹',
        })
        .collect()
}

fn step_has_half(step: f64) -> bool {
    let m = step / 10f64.powf(step.log10().floor());
    (m - 2.5).abs() < 1e-9
}

fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Ticks of an axis: (labelled, their labels, minor).
fn ticks(lo: f64, hi: f64, log: bool) -> (Vec<f64>, Vec<String>, Vec<f64>) {
    if log {
        let (major, minor, lin_step) = log_ticks(lo, hi);
        // below a decade the labels need the linear subdivision's decimals (39.5, 40, 40.5)
        let mut labels: Vec<String> = major.iter().map(|&v| tick_label(v, lin_step)).collect();
        // one notation per axis: powers of ten for all decades if any label needs one
        if labels
            .iter()
            .any(|l| l.contains('⁰') || l.contains('¹') || l.contains('⁻'))
        {
            labels = major
                .iter()
                .map(|&v| {
                    let e = v.log10().round();
                    if (v / 10f64.powf(e) - 1.0).abs() < 1e-9 {
                        format!("10{}", superscript(e as i32))
                    } else {
                        tick_label(v, 0.0)
                    }
                })
                .collect();
        }
        (major, labels, minor)
    } else {
        let (major, step) = linear_ticks(lo, hi);
        let labels = major.iter().map(|&v| tick_label(v, step)).collect();
        (major, labels, Vec::new())
    }
}

// ---------------------------------------------------------------- legend

/// One legend entry (series of equal label are one entry; of different roles, neutral).
#[derive(Debug, Clone)]
struct Entry {
    label: String,
    colour: Rgb,
    style: Style,
    marker: Marker,
    dashed: bool,
    band: bool,
    joined: bool,
}

fn legend(plot: &Plot) -> Vec<Entry> {
    let mut out: Vec<(Entry, Role)> = Vec::new();
    for s in plot.panels.iter().flat_map(|p| &p.series) {
        let e = Entry {
            label: s.label.clone(),
            colour: series_colour(s.role, s.level),
            style: s.style,
            marker: marker(s.level),
            dashed: s.dashed,
            band: s.style == Style::Line && s.err.is_some(),
            joined: s.joined,
        };
        match out.iter_mut().find(|(o, _)| o.label == e.label) {
            Some((o, role)) => {
                if *role != s.role {
                    o.colour = Rgb(0x55, 0x55, 0x55);
                }
            }
            None => out.push((e, s.role)),
        }
    }
    out.into_iter().map(|(e, _)| e).collect()
}

fn legend_glyph(e: &Entry, x: f64, y: f64) -> String {
    let c = e.colour.hex();
    let mut s = String::new();
    match e.style {
        Style::Line => {
            if e.band {
                let _ = write!(
                    s,
                    r#"<rect x="{x:.2}" y="{:.2}" width="30" height="10" fill="{c}" fill-opacity="0.2"/>"#,
                    y - 5.0
                );
            }
            let dash = if e.dashed {
                r#" stroke-dasharray="7,4""#
            } else {
                ""
            };
            let _ = write!(
                s,
                r#"<line x1="{x:.2}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="{c}" stroke-width="2.4"{dash}/>"#,
                x + 30.0
            );
        }
        Style::Points => {
            if e.joined {
                let _ = write!(
                    s,
                    r#"<line x1="{x:.2}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="{c}" stroke-width="1.3"/>"#,
                    x + 30.0
                );
            } else {
                let _ = write!(
                    s,
                    r#"<line x1="{:.2}" y1="{:.2}" x2="{:.2}" y2="{:.2}" stroke="{c}" stroke-width="1.3"/>"#,
                    x + 15.0,
                    y - 7.0,
                    x + 15.0,
                    y + 7.0
                );
            }
            s.push_str(&marker_svg(e.marker, x + 15.0, y, 4.5, &c));
        }
    }
    s.push('\n');
    s
}

// ---------------------------------------------------------------- panels

/// The plot area of a panel in px.
#[derive(Debug, Clone, Copy)]
struct Area {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

fn rule_style(kind: RuleKind) -> (&'static str, &'static str, f64) {
    match kind {
        RuleKind::Threshold => ("#202020", "8,4", 1.6),
        RuleKind::Reference => ("#6b5a3a", "10,3,2,3", 1.5),
        RuleKind::Boundary => ("#707070", "2,3", 1.6),
    }
}

fn polyline(pts: &[(f64, f64)], stroke: &str, width: f64, dash: Option<&str>) -> String {
    let d: String = pts
        .iter()
        .enumerate()
        .map(|(i, (x, y))| format!("{}{x:.2},{y:.2}", if i == 0 { "M" } else { " L" }))
        .collect();
    let dash = dash.map_or(String::new(), |d| format!(r#" stroke-dasharray="{d}""#));
    format!(
        r#"<path d="{d}" fill="none" stroke="{stroke}" stroke-width="{width}" stroke-linejoin="round" stroke-linecap="round"{dash}/>"#
    ) + "\n"
}

/// Draw one series' data (clipped by the caller).
fn draw_series(s: &Series, sx: &Scale, sy: &Scale, area: &Area, dodge: f64, out: &mut String) {
    let c = series_colour(s.role, s.level).hex();
    let good = |&(x, y): &(f64, f64)| ok(x, sx.log) && ok(y, sy.log);
    // y of an error-bar end, clamped below the area on a log axis when ≤ 0
    let ypx = |v: f64| {
        if sy.log && v <= 0.0 {
            area.bottom + 20.0
        } else {
            sy.px(v)
        }
    };
    match s.style {
        Style::Line => {
            if let Some(err) = &s.err {
                // band: one polygon per run of finite points
                let mut run: Vec<(f64, f64, f64)> = Vec::new();
                let flush = |run: &mut Vec<(f64, f64, f64)>, out: &mut String| {
                    if run.len() > 1 {
                        let upper: Vec<String> = run
                            .iter()
                            .map(|(x, _, hi)| format!("{x:.2},{hi:.2}"))
                            .collect();
                        let lower: Vec<String> = run
                            .iter()
                            .rev()
                            .map(|(x, lo, _)| format!("{x:.2},{lo:.2}"))
                            .collect();
                        let _ = writeln!(
                            out,
                            r#"<polygon points="{} {}" fill="{c}" fill-opacity="0.2" stroke="none"/>"#,
                            upper.join(" "),
                            lower.join(" ")
                        );
                    }
                    run.clear();
                };
                for (p, &(lo, hi)) in s.points.iter().zip(err) {
                    if good(p) && lo.is_finite() && hi.is_finite() {
                        run.push((sx.px(p.0), ypx(lo), ypx(hi)));
                    } else {
                        flush(&mut run, out);
                    }
                }
                flush(&mut run, out);
            }
            let mut seg: Vec<(f64, f64)> = Vec::new();
            let dash = s.dashed.then_some("8,4");
            for p in &s.points {
                if good(p) {
                    seg.push((sx.px(p.0), sy.px(p.1)));
                } else {
                    if seg.len() > 1 {
                        out.push_str(&polyline(&seg, &c, 2.4, dash));
                    }
                    seg.clear();
                }
            }
            if seg.len() > 1 {
                out.push_str(&polyline(&seg, &c, 2.4, dash));
            } else if seg.len() == 1 {
                let (x, y) = seg[0];
                let _ = writeln!(
                    out,
                    r#"<circle cx="{x:.2}" cy="{y:.2}" r="2.5" fill="{c}"/>"#
                );
            }
        }
        Style::Points => {
            type Item = ((f64, f64), Option<(f64, f64)>);
            let items: Vec<Item> = s
                .points
                .iter()
                .enumerate()
                .filter(|(_, p)| good(p))
                .map(|(i, &p)| (p, s.err.as_ref().map(|e| e[i])))
                .collect();
            if s.joined && items.len() > 1 {
                let pts: Vec<(f64, f64)> = items
                    .iter()
                    .map(|((x, y), _)| (sx.px(*x) + dodge, sy.px(*y)))
                    .collect();
                out.push_str(&polyline(&pts, &c, 1.3, None));
            }
            for &((x, _), e) in &items {
                if let Some((lo, hi)) = e
                    && lo.is_finite()
                    && hi.is_finite()
                    && hi > lo
                {
                    let (px, a, b) = (sx.px(x) + dodge, ypx(lo), ypx(hi));
                    let _ = writeln!(
                        out,
                        r#"<path d="M{px:.2},{a:.2} L{px:.2},{b:.2} M{:.2},{a:.2} L{:.2},{a:.2} M{:.2},{b:.2} L{:.2},{b:.2}" stroke="{c}" stroke-width="1.3" fill="none"/>"#,
                        px - 3.0,
                        px + 3.0,
                        px - 3.0,
                        px + 3.0
                    );
                }
            }
            let m = marker(s.level);
            for &((x, y), _) in &items {
                out.push_str(&marker_svg(m, sx.px(x) + dodge, sy.px(y), 4.2, &c));
                out.push('\n');
            }
        }
    }
}

/// Data points of a panel in px (to keep labels off the data).
fn data_px(p: &Panel, sx: &Scale, sy: &Scale) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for s in &p.series {
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|&&(x, y)| ok(x, sx.log) && ok(y, sy.log))
            .map(|&(x, y)| (sx.px(x), sy.px(y)))
            .collect();
        // lines: also their midpoints, so a sparse line still counts where it runs
        for w in pts.windows(2) {
            for k in 1..4 {
                let t = k as f64 / 4.0;
                out.push((
                    w[0].0 + t * (w[1].0 - w[0].0),
                    w[0].1 + t * (w[1].1 - w[0].1),
                ));
            }
        }
        out.extend(pts);
    }
    out
}

/// A box (x0, y0, x1, y1) in px.
type Box4 = (f64, f64, f64, f64);

/// Data points inside a box (x0, y0, x1, y1), padded by 4 px.
fn crowding(pts: &[(f64, f64)], b: (f64, f64, f64, f64)) -> usize {
    pts.iter()
        .filter(|(x, y)| *x >= b.0 - 4.0 && *x <= b.2 + 4.0 && *y >= b.1 - 4.0 && *y <= b.3 + 4.0)
        .count()
}

/// The label of a rule, beside its line inside the area, on the side with the least data.
#[allow(clippy::too_many_arguments)]
fn rule_label(
    r: &Rule,
    vertical: bool,
    s: &Scale,
    area: &Area,
    pts: &[(f64, f64)],
    taken: &mut Vec<(f64, f64, f64, f64)>,
    lines: &[(bool, f64)],
    out: &mut String,
) {
    let own = (vertical, s.px(r.at));
    let overlaps = |b: (f64, f64, f64, f64), taken: &[(f64, f64, f64, f64)]| {
        let labels = taken
            .iter()
            .filter(|t| b.0 < t.2 + 3.0 && t.0 < b.2 + 3.0 && b.1 < t.3 + 3.0 && t.1 < b.3 + 3.0)
            .count();
        // other reference lines through the label
        let crossed = lines
            .iter()
            .filter(|&&(v, at)| {
                (v, at) != own
                    && if v {
                        b.0 - 1.0 < at && at < b.2 + 1.0
                    } else {
                        b.1 - 1.0 < at && at < b.3 + 1.0
                    }
            })
            .count();
        labels * 10_000 + crossed * 1_000
    };
    if r.label.is_empty() || !s.contains(r.at) {
        return;
    }
    let (colour, _, _) = rule_style(r.kind);
    let p = s.px(r.at);
    let w = text_width(&r.label, RULE_LABEL_SIZE);
    let asc = 0.76 * RULE_LABEL_SIZE;
    if vertical {
        // (baseline x, glyph box x0..x1, from the top?) for right/left of the line × top/bottom
        let mut best: Option<(usize, f64, bool, Box4)> = None;
        for (right, top) in [(true, true), (false, true), (true, false), (false, false)] {
            let (x0, x1) = if right {
                (p + 4.0, p + 4.0 + asc)
            } else {
                (p - 4.0 - asc, p - 4.0)
            };
            if x0 < area.left || x1 > area.right {
                continue;
            }
            let (y0, y1) = if top {
                (area.top + 6.0, area.top + 6.0 + w)
            } else {
                (area.bottom - 6.0 - w, area.bottom - 6.0)
            };
            let b = (x0, y0, x1, y1);
            let n = crowding(pts, b) + overlaps(b, taken);
            if best.is_none_or(|x| n < x.0) {
                best = Some((n, x1, top, b));
            }
        }
        let Some((_, x, top, b)) = best else { return };
        taken.push(b);
        let (y, anchor) = if top {
            (area.top + 6.0, "end")
        } else {
            (area.bottom - 6.0, "start")
        };
        out.push_str(
            &Text::at(x, y, RULE_LABEL_SIZE)
                .anchor(anchor)
                .fill(colour)
                .vertical()
                .halo()
                .svg(&r.label),
        );
    } else {
        let mut best: Option<(usize, f64, f64, &str, Box4)> = None;
        for (right, above) in [(true, true), (false, true), (true, false), (false, false)] {
            let (x0, x1) = if right {
                (area.right - 6.0 - w, area.right - 6.0)
            } else {
                (area.left + 6.0, area.left + 6.0 + w)
            };
            let base = if above { p - 5.0 } else { p + 3.0 + asc };
            if base - asc < area.top || base > area.bottom {
                continue;
            }
            let b = (x0, base - asc, x1, base + 2.0);
            let n = crowding(pts, b) + overlaps(b, taken);
            if best.is_none_or(|x| n < x.0) {
                let (x, anchor) = if right { (x1, "end") } else { (x0, "start") };
                best = Some((n, x, base, anchor, b));
            }
        }
        let Some((_, x, y, anchor, b)) = best else {
            return;
        };
        taken.push(b);
        out.push_str(
            &Text::at(x, y, RULE_LABEL_SIZE)
                .anchor(anchor)
                .fill(colour)
                .halo()
                .svg(&r.label),
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn draw_panel(
    p: &Panel,
    k: usize,
    (xr, yr): ((f64, f64), (f64, f64)),
    area: Area,
    header: &Header,
    header_top: f64,
    out: &mut String,
) {
    let sx = Scale {
        lo: xr.0,
        hi: xr.1,
        log: p.x.log,
        p0: area.left,
        p1: area.right,
    };
    let sy = Scale {
        lo: yr.0,
        hi: yr.1,
        log: p.y.log,
        p0: area.bottom,
        p1: area.top,
    };
    // header
    let mut hy = header_top;
    for l in &header.title {
        hy += PANEL_TITLE_SIZE + 4.0;
        out.push_str(&Text::at(area.left, hy, PANEL_TITLE_SIZE).bold().svg(l));
    }
    for l in &header.notes {
        hy += NOTE_SIZE + 4.0;
        out.push_str(&Text::at(area.left, hy, NOTE_SIZE).fill("#444444").svg(l));
    }
    let (w, h) = (area.right - area.left, area.bottom - area.top);
    let _ = writeln!(
        out,
        r#"<clipPath id="clip{k}"><rect x="{:.2}" y="{:.2}" width="{w:.2}" height="{h:.2}"/></clipPath>"#,
        area.left, area.top
    );
    let _ = writeln!(
        out,
        r##"<rect x="{:.2}" y="{:.2}" width="{w:.2}" height="{h:.2}" fill="#ffffff" stroke="none"/>"##,
        area.left, area.top
    );
    // spans
    for s in &p.spans {
        let (a, b) = (sx.px(s.from.max(sx.lo)), sx.px(s.to.min(sx.hi)));
        if b > a {
            let _ = writeln!(
                out,
                r##"<rect x="{a:.2}" y="{:.2}" width="{:.2}" height="{h:.2}" fill="#8a8a8a" fill-opacity="0.16"/>"##,
                area.top,
                b - a
            );
        }
    }
    // grid and ticks
    let (xt, xl, xm) = ticks(sx.lo, sx.hi, sx.log);
    let (yt, yl, ym) = ticks(sy.lo, sy.hi, sy.log);
    for &v in xm.iter().filter(|v| sx.contains(**v)) {
        let x = sx.px(v);
        let _ = writeln!(
            out,
            r##"<line x1="{x:.2}" y1="{:.2}" x2="{x:.2}" y2="{:.2}" stroke="#f1f1f1" stroke-width="1"/>"##,
            area.top, area.bottom
        );
    }
    for &v in ym.iter().filter(|v| sy.contains(**v)) {
        let y = sy.px(v);
        let _ = writeln!(
            out,
            r##"<line x1="{:.2}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="#f1f1f1" stroke-width="1"/>"##,
            area.left, area.right
        );
    }
    for (&v, l) in xt.iter().zip(&xl).filter(|(v, _)| sx.contains(**v)) {
        let x = sx.px(v);
        let _ = writeln!(
            out,
            r##"<line x1="{x:.2}" y1="{:.2}" x2="{x:.2}" y2="{:.2}" stroke="#e2e2e2" stroke-width="1"/>"##,
            area.top, area.bottom
        );
        let _ = writeln!(
            out,
            r##"<line x1="{x:.2}" y1="{:.2}" x2="{x:.2}" y2="{:.2}" stroke="#555555" stroke-width="1"/>"##,
            area.bottom,
            area.bottom + 4.0
        );
        out.push_str(
            &Text::at(x, area.bottom + 6.0 + TICK_SIZE, TICK_SIZE)
                .anchor("middle")
                .fill("#333333")
                .svg(l),
        );
    }
    for (&v, l) in yt.iter().zip(&yl).filter(|(v, _)| sy.contains(**v)) {
        let y = sy.px(v);
        let _ = writeln!(
            out,
            r##"<line x1="{:.2}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="#e2e2e2" stroke-width="1"/>"##,
            area.left, area.right
        );
        let _ = writeln!(
            out,
            r##"<line x1="{:.2}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="#555555" stroke-width="1"/>"##,
            area.left - 4.0,
            area.left
        );
        out.push_str(
            &Text::at(area.left - 7.0, y + 0.36 * TICK_SIZE, TICK_SIZE)
                .anchor("end")
                .fill("#333333")
                .svg(l),
        );
    }
    // axis labels
    out.push_str(
        &Text::at(
            (area.left + area.right) / 2.0,
            area.bottom + 12.0 + TICK_SIZE + LABEL_SIZE,
            LABEL_SIZE,
        )
        .anchor("middle")
        .svg(&p.x.label),
    );
    let ylab_w = yl
        .iter()
        .map(|l| text_width(l, TICK_SIZE))
        .fold(0.0, f64::max);
    out.push_str(
        &Text::at(
            area.left - ylab_w - 14.0,
            (area.top + area.bottom) / 2.0,
            LABEL_SIZE,
        )
        .anchor("middle")
        .vertical()
        .svg(&p.y.label),
    );
    // data, clipped
    let _ = writeln!(out, r#"<g clip-path="url(#clip{k})">"#);
    for (rules, vertical) in [(&p.vlines, true), (&p.hlines, false)] {
        for r in rules {
            let (c, dash, width) = rule_style(r.kind);
            let s = if vertical { &sx } else { &sy };
            if !s.contains(r.at) {
                continue;
            }
            let v = s.px(r.at);
            let (x1, y1, x2, y2) = if vertical {
                (v, area.top, v, area.bottom)
            } else {
                (area.left, v, area.right, v)
            };
            let _ = writeln!(
                out,
                r#"<line x1="{x1:.2}" y1="{y1:.2}" x2="{x2:.2}" y2="{y2:.2}" stroke="{c}" stroke-width="{width}" stroke-dasharray="{dash}"/>"#
            );
        }
    }
    // lines below markers; earlier series on top
    for s in p.series.iter().rev().filter(|s| s.style == Style::Line) {
        draw_series(s, &sx, &sy, &area, 0.0, out);
    }
    // simulations with error bars side by side (3.5 px apart) so their bars stay apart
    let points: Vec<&Series> = p
        .series
        .iter()
        .filter(|s| s.style == Style::Points)
        .collect();
    let barred = points.iter().filter(|s| s.err.is_some()).count();
    let step = if barred > 1 {
        (12.0 / (barred as f64 - 1.0)).min(3.5)
    } else {
        0.0
    };
    let mut j = 0usize;
    let mut offsets = Vec::new();
    for s in &points {
        if s.err.is_some() {
            offsets.push((j as f64 - (barred as f64 - 1.0) / 2.0) * step);
            j += 1;
        } else {
            offsets.push(0.0);
        }
    }
    for (s, dx) in points.iter().zip(&offsets).rev() {
        draw_series(s, &sx, &sy, &area, *dx, out);
    }
    out.push_str("</g>\n");
    let _ = writeln!(
        out,
        r##"<rect x="{:.2}" y="{:.2}" width="{w:.2}" height="{h:.2}" fill="none" stroke="#9a9a9a" stroke-width="1"/>"##,
        area.left, area.top
    );
    // rule and span labels on top
    let pts = data_px(p, &sx, &sy);
    let mut taken = Vec::new();
    let lines: Vec<(bool, f64)> = p
        .vlines
        .iter()
        .filter(|r| sx.contains(r.at))
        .map(|r| (true, sx.px(r.at)))
        .chain(
            p.hlines
                .iter()
                .filter(|r| sy.contains(r.at))
                .map(|r| (false, sy.px(r.at))),
        )
        .collect();
    for s in &p.spans {
        let (a, b) = (sx.px(s.from.max(sx.lo)), sx.px(s.to.min(sx.hi)));
        if b > a && !s.label.is_empty() {
            let w = text_width(&s.label, RULE_LABEL_SIZE);
            let cx = (a + b) / 2.0;
            let mid = (area.top + area.bottom) / 2.0;
            let y = [area.bottom - 8.0, area.top + 8.0 + RULE_LABEL_SIZE, mid]
                .into_iter()
                .min_by_key(|&y| {
                    crowding(
                        &pts,
                        (cx - w / 2.0, y - RULE_LABEL_SIZE, cx + w / 2.0, y + 2.0),
                    )
                })
                .expect("three candidates");
            taken.push((cx - w / 2.0, y - RULE_LABEL_SIZE, cx + w / 2.0, y + 2.0));
            out.push_str(
                &Text::at(cx, y, RULE_LABEL_SIZE)
                    .anchor("middle")
                    .fill("#505050")
                    .halo()
                    .svg(&s.label),
            );
        }
    }
    for r in &p.vlines {
        rule_label(r, true, &sx, &area, &pts, &mut taken, &lines, out);
    }
    for r in &p.hlines {
        rule_label(r, false, &sy, &area, &pts, &mut taken, &lines, out);
    }
}

/// Render the plot to an SVG string ([`WIDTH`] px wide). Fails on a plot without panels or
/// with a series that has no finite point ([`Plot::empty_series`]).
pub fn svg(plot: &Plot) -> Result<String> {
    if plot.panels.is_empty() {
        return Err(err(format!("plot `{}` has no panel", plot.title)));
    }
    let empty = plot.empty_series();
    if !empty.is_empty() {
        return Err(err(format!(
            "plot `{}`: series without a finite point: {}",
            plot.title,
            empty.join("; ")
        )));
    }
    let entries = legend(plot);
    let cols = plot.columns.max(1).min(plot.panels.len());
    let rows = plot.panels.len().div_ceil(cols);
    let rng = ranges(plot);
    // uniform margins so the plot areas of small multiples align
    let tick_w = plot
        .panels
        .iter()
        .zip(&rng)
        .map(|(p, (_, yr))| {
            let (_, labels, _) = ticks(yr.0, yr.1, p.y.log);
            labels
                .iter()
                .map(|l| text_width(l, TICK_SIZE))
                .fold(0.0, f64::max)
        })
        .fold(0.0, f64::max);
    let left = tick_w + 14.0 + LABEL_SIZE + 12.0;
    let right = 14.0;
    let cell_w = (WIDTH - 8.0) / cols as f64;
    let area_w = cell_w - left - right;
    let headers: Vec<Header> = plot
        .panels
        .iter()
        .map(|p| Header {
            title: wrap_bold(&p.title, PANEL_TITLE_SIZE, area_w + left - 20.0),
            notes: p
                .notes
                .iter()
                .flat_map(|n| wrap(n, NOTE_SIZE, area_w + left - 20.0))
                .collect(),
        })
        .collect();
    // header height per row of panels
    let header_of = |h: &Header| {
        h.title.len() as f64 * (PANEL_TITLE_SIZE + 4.0)
            + h.notes.len() as f64 * (NOTE_SIZE + 4.0)
            + 10.0
    };
    let row_header: Vec<f64> = (0..rows)
        .map(|r| {
            headers
                .iter()
                .skip(r * cols)
                .take(cols)
                .map(header_of)
                .fold(0.0, f64::max)
        })
        .collect();
    let bottom = 12.0 + TICK_SIZE + LABEL_SIZE + 16.0;
    let area_h = match rows {
        1 => 390.0,
        2 => 280.0,
        _ => 230.0,
    };
    let row_top = |r: usize| -> f64 {
        row_header[..r]
            .iter()
            .map(|h| h + area_h + bottom)
            .sum::<f64>()
    };
    let grid_h = row_top(rows);
    let title_lines = wrap_bold(&plot.title, TITLE_SIZE, WIDTH - 40.0);
    let top = 12.0 + title_lines.len() as f64 * (TITLE_SIZE + 6.0);
    // the legend: in the first empty cell of the grid, or below the grid
    let empty_cell = plot.panels.len() < rows * cols;
    let (legend_svg, legend_h) = if empty_cell {
        let k = plot.panels.len();
        let (x0, y0) = (
            (k % cols) as f64 * cell_w + 24.0,
            top + row_top(k / cols) + row_header[k / cols],
        );
        let (svg, _) = legend_box(&entries, x0, y0, cell_w - 40.0, 1);
        (svg, 0.0)
    } else {
        let col_w = entries
            .iter()
            .map(|e| text_width(&e.label, LEGEND_SIZE) + 56.0)
            .fold(0.0, f64::max)
            .min(WIDTH - 40.0);
        let ncols = (((WIDTH - 40.0) / col_w).floor() as usize).clamp(1, 4);
        let y0 = top + grid_h + 4.0;
        legend_box(&entries, 24.0, y0, (WIDTH - 40.0) / ncols as f64, ncols)
    };
    let height = (top + grid_h + legend_h + 8.0).ceil();

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}">"#
    );
    let _ = writeln!(
        out,
        r##"<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>"##
    );
    for (i, l) in title_lines.iter().enumerate() {
        out.push_str(
            &Text::at(
                20.0,
                10.0 + TITLE_SIZE + i as f64 * (TITLE_SIZE + 6.0),
                TITLE_SIZE,
            )
            .bold()
            .svg(l),
        );
    }
    for (k, ((p, r), h)) in plot.panels.iter().zip(&rng).zip(&headers).enumerate() {
        let (row, col) = (k / cols, k % cols);
        let x0 = 4.0 + col as f64 * cell_w;
        let y0 = top + row_top(row);
        let area = Area {
            left: x0 + left,
            top: y0 + row_header[row],
            right: x0 + cell_w - right,
            bottom: y0 + row_header[row] + area_h,
        };
        draw_panel(p, k, *r, area, h, y0, &mut out);
    }
    out.push_str(&legend_svg);
    out.push_str("</svg>\n");
    Ok(out)
}

/// A panel's title and notes, wrapped to its width.
struct Header {
    title: Vec<String>,
    notes: Vec<String>,
}

/// The legend at (x0, y0) in `ncols` columns of width `col_w` (labels wrapped to fit);
/// returns its SVG and height.
fn legend_box(entries: &[Entry], x0: f64, y0: f64, col_w: f64, ncols: usize) -> (String, f64) {
    let line_h = LEGEND_SIZE + 5.0;
    let wrapped: Vec<Vec<String>> = entries
        .iter()
        .map(|e| wrap(&e.label, LEGEND_SIZE, col_w - 50.0))
        .collect();
    let per_col = entries.len().div_ceil(ncols.max(1));
    let mut out = String::new();
    let mut height: f64 = 0.0;
    for c in 0..ncols {
        let mut y = y0 + 10.0;
        for (e, lines) in entries.iter().zip(&wrapped).skip(c * per_col).take(per_col) {
            let x = x0 + c as f64 * col_w;
            out.push_str(&legend_glyph(e, x, y));
            for (i, l) in lines.iter().enumerate() {
                out.push_str(
                    &Text::at(
                        x + 38.0,
                        y + 0.36 * LEGEND_SIZE + i as f64 * line_h,
                        LEGEND_SIZE,
                    )
                    .fill("#1a1a1a")
                    .svg(l),
                );
            }
            y += lines.len() as f64 * line_h + 5.0;
        }
        height = height.max(y - y0);
    }
    (out, height)
}

/// Split bold text into lines of at most `width` px (at spaces).
fn wrap_bold(text: &str, size: f64, width: f64) -> Vec<String> {
    wrap_in(text, size, width, true)
}

/// Split text into lines of at most `width` px (at spaces).
fn wrap(text: &str, size: f64, width: f64) -> Vec<String> {
    wrap_in(text, size, width, false)
}

fn wrap_in(text: &str, size: f64, width: f64, bold: bool) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let last = lines.last_mut().expect("non-empty");
        let candidate = if last.is_empty() {
            word.to_string()
        } else {
            format!("{last} {word}")
        };
        if text_width_in(&candidate, size, bold) > width && !last.is_empty() {
            lines.push(word.to_string());
        } else {
            *last = candidate;
        }
    }
    lines
}

fn fontdb() -> Arc<resvg::usvg::fontdb::Database> {
    static DB: OnceLock<Arc<resvg::usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = resvg::usvg::fontdb::Database::new();
        db.load_font_data(dejavu::sans::regular().to_vec());
        db.load_font_data(dejavu::sans::bold().to_vec());
        db.set_sans_serif_family(FONT);
        Arc::new(db)
    })
    .clone()
}

/// Rasterise an SVG of [`svg`] to PNG bytes at its own size (text in the shipped font).
pub fn png(svg: &str) -> Result<Vec<u8>> {
    let opt = resvg::usvg::Options {
        fontdb: fontdb(),
        font_family: FONT.into(),
        ..resvg::usvg::Options::default()
    };
    let tree = resvg::usvg::Tree::from_str(svg, &opt).map_err(|e| err(format!("svg: {e}")))?;
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| err("png: empty image"))?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| err(format!("png: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_segments() {
        assert_eq!(
            segments("α_{IT} = 1"),
            vec![
                Seg::Plain("α".into()),
                Seg::Sub("IT".into()),
                Seg::Plain(" = 1".into())
            ]
        );
        assert_eq!(segments("10^{-3}")[1], Seg::Sup("-3".into()));
        assert_eq!(segments("a_{b"), vec![Seg::Plain("a_{b".into())]);
    }

    #[test]
    fn tick_labels() {
        assert_eq!(tick_label(0.25, 0.25), "0.25");
        assert_eq!(tick_label(2.0, 0.5), "2");
        assert_eq!(tick_label(1e-4, 0.0), "10⁻⁴");
        assert_eq!(tick_label(0.01, 0.0), "0.01");
        let (major, _, _) = log_ticks(0.2, 12.0);
        assert!(major.contains(&1.0) && major.contains(&10.0) && major.contains(&0.5));
        // a log axis narrower than a decade (one size, padded): labels stay distinct
        let (_, labels, _) = ticks(39.5, 40.5, true);
        assert!(labels.len() >= 2, "{labels:?}");
        assert!(labels.windows(2).all(|w| w[0] != w[1]), "{labels:?}");
    }

    #[test]
    fn text_is_measured_in_the_shipped_font() {
        let w = text_width("α = n/d", 14.0);
        assert!(w > 30.0 && w < 80.0, "{w}");
        assert!(text_width("α_{AMP}", 14.0) < text_width("αAMP", 14.0));
    }
}
