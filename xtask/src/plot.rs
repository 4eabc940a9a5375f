//! SVG rendering of a [`Plot`]: theory as lines, simulation as markers with error bars.

use crate::figure::{Result, err};
use gardner_sim::{Plot, Style};
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

/// Ten distinct colours (tab10); series beyond ten switch from circles to triangles.
const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// (x, y, lower, upper) of every finite point (lower = upper = y without an error bar).
fn finite_points(plot: &Plot) -> impl Iterator<Item = (f64, f64, f64, f64)> + '_ {
    plot.series
        .iter()
        .flat_map(|s| {
            s.points.iter().enumerate().map(move |(i, &(x, y))| {
                let (lo, hi) = s.err.as_ref().map_or((y, y), |e| e[i]);
                (x, y, lo, hi)
            })
        })
        .filter(|&(x, y, lo, hi)| {
            x.is_finite() && y.is_finite() && lo.is_finite() && hi.is_finite()
        })
}

/// Data range padded by 3 % (multiplicatively on log axes).
fn range(lo: f64, hi: f64, log: bool) -> (f64, f64) {
    if log {
        let (l, h) = (lo.max(1e-300).ln(), hi.max(1e-300).ln());
        let pad = 0.03 * (h - l).max(1e-3);
        ((l - pad).exp(), (h + pad).exp())
    } else {
        let pad = 0.03 * (hi - lo).max(1e-9 * hi.abs().max(1.0));
        (lo - pad, hi + pad)
    }
}

/// Tick label: 4 significant digits, trailing zeros trimmed; scientific outside [1e-3, 1e4).
fn tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        return "0".into();
    }
    if !(1e-3..1e4).contains(&a) {
        return format!("{v:.1e}");
    }
    let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Render the plot to an SVG string.
pub fn svg(plot: &Plot) -> Result<String> {
    let pts: Vec<(f64, f64, f64, f64)> = finite_points(plot)
        .filter(|&(x, y, _, _)| (!plot.log_x || x > 0.0) && (!plot.log_y || y > 0.0))
        .collect();
    if pts.is_empty() {
        return Err(err(format!("plot `{}` has no finite point", plot.title)));
    }
    let xl = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let xh = pts.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let yl = pts
        .iter()
        .map(|p| if plot.log_y && p.2 <= 0.0 { p.1 } else { p.2 })
        .fold(f64::INFINITY, f64::min);
    let yh = pts.iter().map(|p| p.3).fold(f64::NEG_INFINITY, f64::max);
    let (x0, x1) = range(xl, xh, plot.log_x);
    let (y0, y1) = range(yl, yh, plot.log_y);
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (800, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        match (plot.log_x, plot.log_y) {
            (false, false) => draw(&root, plot, x0..x1, y0..y1),
            (true, false) => draw(&root, plot, (x0..x1).log_scale(), y0..y1),
            (false, true) => draw(&root, plot, x0..x1, (y0..y1).log_scale()),
            (true, true) => draw(&root, plot, (x0..x1).log_scale(), (y0..y1).log_scale()),
        }?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(text)
}

fn draw<XR, YR>(
    root: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    plot: &Plot,
    xr: XR,
    yr: YR,
) -> Result<()>
where
    XR: AsRangedCoord<Value = f64>,
    YR: AsRangedCoord<Value = f64>,
    XR::CoordDescType: ValueFormatter<f64>,
    YR::CoordDescType: ValueFormatter<f64>,
{
    let e = |e: plotters::drawing::DrawingAreaErrorKind<std::io::Error>| err(e.to_string());
    let mut ch = ChartBuilder::on(root)
        .caption(&plot.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(xr, yr)
        .map_err(e)?;
    ch.configure_mesh()
        .x_desc(&plot.x_label)
        .y_desc(&plot.y_label)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()
        .map_err(e)?;
    let (ylo, yhi) = {
        let r = ch.y_range();
        (r.start, r.end)
    };
    for (x, label) in &plot.vlines {
        ch.draw_series(LineSeries::new(
            vec![(*x, ylo), (*x, yhi)],
            BLACK.mix(0.4).stroke_width(1),
        ))
        .map_err(e)?
        .label(label.clone())
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.4)));
    }
    for (k, s) in plot.series.iter().enumerate() {
        let c = COLORS[k % COLORS.len()];
        let ok = |&(x, y): &(f64, f64)| {
            x.is_finite() && y.is_finite() && (!plot.log_x || x > 0.0) && (!plot.log_y || y > 0.0)
        };
        match s.style {
            Style::Line => {
                // break the line at missing points
                let mut seg: Vec<(f64, f64)> = Vec::new();
                let mut first = true;
                let mut flush =
                    |seg: &mut Vec<(f64, f64)>, ch: &mut ChartContext<_, _>| -> Result<()> {
                        if seg.len() > 1 {
                            let a = ch
                                .draw_series(LineSeries::new(seg.clone(), c.stroke_width(2)))
                                .map_err(e)?;
                            if first {
                                a.label(s.label.clone()).legend(move |(x, y)| {
                                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                                });
                                first = false;
                            }
                        }
                        seg.clear();
                        Ok(())
                    };
                for p in &s.points {
                    if ok(p) {
                        seg.push(*p);
                    } else {
                        flush(&mut seg, &mut ch)?;
                    }
                }
                flush(&mut seg, &mut ch)?;
            }
            Style::Points => {
                let errs = s
                    .err
                    .clone()
                    .unwrap_or_else(|| s.points.iter().map(|&(_, y)| (y, y)).collect());
                let items: Vec<((f64, f64), (f64, f64))> = s
                    .points
                    .iter()
                    .copied()
                    .zip(errs)
                    .filter(|&(p, (lo, hi))| ok(&p) && lo.is_finite() && hi.is_finite())
                    .collect();
                if s.joined && items.len() > 1 {
                    ch.draw_series(LineSeries::new(
                        items.iter().map(|&(p, _)| p),
                        c.mix(0.6).stroke_width(1),
                    ))
                    .map_err(e)?;
                }
                ch.draw_series(items.iter().filter(|(_, (lo, hi))| hi > lo).map(
                    |&((x, y), (lo, hi))| {
                        let lo = if plot.log_y { lo.max(y * 1e-3) } else { lo };
                        ErrorBar::new_vertical(x, lo, y, hi, c.filled(), 6)
                    },
                ))
                .map_err(e)?;
                let triangle = (k / COLORS.len()) % 2 == 1;
                let marker =
                    move |(x, y): (f64, f64)| -> DynElement<'static, SVGBackend, (f64, f64)> {
                        if triangle {
                            TriangleMarker::new((x, y), 5, c.filled()).into_dyn()
                        } else {
                            Circle::new((x, y), 3, c.filled()).into_dyn()
                        }
                    };
                ch.draw_series(items.iter().map(|&(p, _)| marker(p)))
                    .map_err(e)?
                    .label(s.label.clone())
                    .legend(move |(x, y)| {
                        if triangle {
                            TriangleMarker::new((x + 10, y), 5, c.filled()).into_dyn()
                        } else {
                            Circle::new((x + 10, y), 3, c.filled()).into_dyn()
                        }
                    });
            }
        }
    }
    ch.configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.85))
        .draw()
        .map_err(e)?;
    Ok(())
}
