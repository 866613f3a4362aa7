//! Charts as inline SVG (no script, nothing fetched). In: named series of
//! points. Out: an `<svg>` element as text.

use std::fmt::Write as _;

use super::{esc, fmt_num};

const COLORS: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// A named line of points.
pub type Series = (String, Vec<(f64, f64)>);

/// The chart's size, margins and scales.
struct Frame {
    w: f64,
    h: f64,
    l: f64,
    r: f64,
    t: f64,
    b: f64,
    xmin: f64,
    xmax: f64,
    ymax: f64,
}

impl Frame {
    fn new(series: &[Series], hline: Option<(f64, &str)>) -> Self {
        let pts = || series.iter().flat_map(|s| s.1.iter().copied());
        let xmax = pts().map(|p| p.0).fold(1.0f64, f64::max);
        let xmin = pts().map(|p| p.0).fold(xmax, f64::min).min(0.0);
        let ymax = pts()
            .map(|p| p.1)
            .chain(hline.map(|h| h.0))
            .fold(0.0f64, f64::max);
        Frame {
            w: 760.0,
            h: 260.0,
            l: 60.0,
            r: 160.0,
            t: 30.0,
            b: 40.0,
            xmin,
            xmax,
            ymax: if ymax <= 0.0 { 1.0 } else { ymax * 1.1 },
        }
    }

    fn x(&self, x: f64) -> f64 {
        self.l + (x - self.xmin) / (self.xmax - self.xmin).max(1e-9) * (self.w - self.l - self.r)
    }

    fn y(&self, y: f64) -> f64 {
        self.h - self.b - y / self.ymax * (self.h - self.t - self.b)
    }
}

/// A line chart as inline SVG: each series is (name, points); an optional
/// horizontal line (value, label), e.g. a threshold.
pub fn line_chart(
    title: &str,
    y_label: &str,
    series: &[Series],
    hline: Option<(f64, &str)>,
    x_labels: Option<&[String]>,
) -> String {
    let f = Frame::new(series, hline);
    let mut svg = String::new();
    let x = x_labels.map_or(XAxis::Numeric, XAxis::Labels);
    axes(&mut svg, &f, title, y_label, x);
    for (i, (name, points)) in series.iter().enumerate() {
        let pixels: Vec<(f64, f64)> = points.iter().map(|&(x, y)| (f.x(x), f.y(y))).collect();
        line(&mut svg, f.w - f.r, f.t, i, name, &pixels);
    }
    if let Some((v, label)) = hline {
        bound_line(&mut svg, &f, v, label);
    }
    svg.push_str("</svg>");
    svg
}

/// How the x axis is labelled.
#[derive(Debug, Clone, Copy)]
enum XAxis<'a> {
    /// Plain numbers.
    Numeric,
    /// One label per index (runs of a history).
    Labels(&'a [String]),
    /// Seconds since the start, as `m:ss`.
    Elapsed,
}

/// `m:ss` (or `h:mm:ss`).
pub fn elapsed(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match s / 3600 {
        0 => format!("{}:{:02}", s / 60, s % 60),
        h => format!("{h}:{:02}:{:02}", (s % 3600) / 60, s % 60),
    }
}

/// Round steps for an elapsed-time axis: the first giving at most 8 ticks.
fn time_ticks(from: f64, to: f64) -> Vec<f64> {
    let span = (to - from).max(1.0);
    let steps = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
    ];
    let step = steps
        .iter()
        .copied()
        .find(|s| span / s <= 8.0)
        .unwrap_or(7200.0);
    let mut t = (from / step).ceil() * step;
    let mut ticks = Vec::new();
    while t <= to + 1e-9 {
        ticks.push(t);
        t += step;
    }
    ticks
}

/// A chart over elapsed time (x: seconds since the start, ticks `m:ss`),
/// each stage's start marked by a dashed line with its name. A bound is
/// drawn as a line only when it lies within 3 times the highest point;
/// farther away it would flatten the data, so it is noted at the top.
pub fn time_chart(
    title: &str,
    y_label: &str,
    series: &[Series],
    stages: &[(f64, String)],
    bound: Option<(f64, &str)>,
) -> String {
    let highest = series
        .iter()
        .flat_map(|s| s.1.iter().map(|p| p.1))
        .fold(0.0f64, f64::max);
    let (hline, off_scale) = match bound {
        Some((v, _)) if v > 3.0 * highest.max(f64::MIN_POSITIVE) => (None, bound),
        b => (b, None),
    };
    let f = Frame::new(series, hline);
    let mut svg = String::new();
    axes(&mut svg, &f, title, y_label, XAxis::Elapsed);
    for (i, (t, name)) in stages.iter().enumerate() {
        if *t < f.xmin || *t > f.xmax {
            continue;
        }
        let x = f.x(*t);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{}" y2="{}" stroke="#999" stroke-dasharray="3 3"/><text x="{:.1}" y="{}" font-size="9" fill="#666">{}</text>"##,
            f.t,
            f.h - f.b,
            x + 2.0,
            f.t + 10.0 + (i % 2) as f64 * 10.0,
            esc(name)
        );
    }
    for (i, (name, points)) in series.iter().enumerate() {
        let pixels: Vec<(f64, f64)> = points.iter().map(|&(x, y)| (f.x(x), f.y(y))).collect();
        line(&mut svg, f.w - f.r, f.t, i, name, &pixels);
    }
    if let Some((v, label)) = hline {
        bound_line(&mut svg, &f, v, label);
    }
    if let Some((v, label)) = off_scale {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" font-size="10" fill="#d62728" text-anchor="end">&#9650; {} {} (above the scale)</text>"##,
            f.w - f.r - 4.0,
            f.t - 4.0,
            esc(label),
            fmt_num(v)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn bound_line(svg: &mut String, f: &Frame, v: f64, label: &str) {
    let py = f.y(v);
    let _ = write!(
        svg,
        r##"<line x1="{}" x2="{}" y1="{py:.1}" y2="{py:.1}" stroke="#d62728" stroke-dasharray="6 4"/><text x="{}" y="{:.1}" font-size="10" fill="#d62728" text-anchor="end">{}</text>"##,
        f.l,
        f.w - f.r,
        f.w - f.r - 4.0,
        py - 4.0,
        esc(label)
    );
}

/// The opening tag, title, frame, grid and axis labels.
fn axes(svg: &mut String, f: &Frame, title: &str, y_label: &str, x: XAxis<'_>) {
    let (w, h, l, r, t, b) = (f.w, f.h, f.l, f.r, f.t, f.b);
    open(svg, title, w, h, l, r, t, b);
    for i in 0..=4 {
        let y = f.ymax * i as f64 / 4.0;
        let py = f.y(y);
        let _ = write!(
            svg,
            r##"<line x1="{l}" x2="{}" y1="{py:.1}" y2="{py:.1}" stroke="#eee"/><text x="{}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"##,
            w - r,
            l - 4.0,
            py + 3.0,
            fmt_num(y)
        );
    }
    let ticks: Vec<(f64, String)> = match x {
        XAxis::Labels(labels) => {
            let every = (labels.len() / 10).max(1);
            let ticks = labels.iter().enumerate().step_by(every);
            ticks.map(|(i, lab)| (i as f64, lab.clone())).collect()
        }
        XAxis::Numeric => (0..=5)
            .map(|i| f.xmin + (f.xmax - f.xmin) * i as f64 / 5.0)
            .map(|x| (x, fmt_num(x)))
            .collect(),
        XAxis::Elapsed => {
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle" fill="#555">elapsed (m:ss)</text>"##,
                (f.l + f.w - f.r) / 2.0,
                h - 8.0
            );
            time_ticks(f.xmin, f.xmax)
                .into_iter()
                .map(|t| (t, elapsed(t)))
                .collect()
        }
    };
    for (x, text) in ticks {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle">{}</text>"#,
            f.x(x),
            h - b + 14.0,
            esc(&text)
        );
    }
    let _ = write!(
        svg,
        r#"<text x="12" y="{}" font-size="10" transform="rotate(-90 12 {})">{}</text>"#,
        h / 2.0,
        h / 2.0,
        esc(y_label)
    );
}

/// Series `i`, already in pixels: its line, its points when there are
/// few, its legend entry right of the plot (`right`: the plot's right
/// edge, `top`: its top).
fn line(svg: &mut String, right: f64, top: f64, i: usize, name: &str, pixels: &[(f64, f64)]) {
    let color = COLORS[i % COLORS.len()];
    if !pixels.is_empty() {
        let path: Vec<String> = pixels
            .iter()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{}"/>"#,
            path.join(" ")
        );
        if pixels.len() <= 40 {
            for (x, y) in pixels {
                let _ = write!(
                    svg,
                    r#"<circle cx="{x:.1}" cy="{y:.1}" r="2.5" fill="{color}"/>"#
                );
            }
        }
    }
    let ly = top + 14.0 + i as f64 * 16.0;
    let _ = write!(
        svg,
        r#"<rect x="{}" y="{}" width="10" height="10" fill="{color}"/><text x="{}" y="{}" font-size="11">{}</text>"#,
        right + 10.0,
        ly - 9.0,
        right + 24.0,
        ly,
        esc(name)
    );
}

/// The opening tag, the title and the plot's frame.
#[allow(clippy::too_many_arguments)]
fn open(svg: &mut String, title: &str, w: f64, h: f64, l: f64, r: f64, t: f64, b: f64) {
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{}">"#,
        esc(title)
    );
    let _ = write!(
        svg,
        r#"<text x="{l}" y="18" font-size="14" font-weight="bold">{}</text>"#,
        esc(title)
    );
    let _ = write!(
        svg,
        r##"<rect x="{l}" y="{t}" width="{}" height="{}" fill="none" stroke="#ccc"/>"##,
        w - l - r,
        h - t - b
    );
}

/// Where a quantile sits on a percentile chart: its "nines"
/// (-log10(1 - q)); the maximum one step past 99.99%.
fn nines(q: f64) -> f64 {
    if q >= 1.0 {
        5.0
    } else {
        -(1.0 - q).log10()
    }
}

/// Percentile curves (quantile, ms) on log scales: quantiles by their
/// nines (50%, 90%, 99%, 99.9% equally spaced), latency by powers of ten.
pub fn percentile_chart(title: &str, series: &[Series]) -> String {
    let (w, h, l, r, t, b) = (760.0, 300.0, 60.0, 160.0, 30.0, 40.0);
    let ys: Vec<f64> = series
        .iter()
        .flat_map(|s| s.1.iter().map(|p| p.1))
        .filter(|v| *v > 0.0)
        .collect();
    // No positive value at all (a tool with no answer): the axis starts
    // where zeros are drawn, 0.001 ms. (An empty fold's infinity once made
    // the tick loop below endless.)
    let lo = match ys.iter().copied().reduce(f64::min) {
        Some(min) => min.max(0.001).log10().floor(),
        None => -3.0,
    };
    let hi = ys
        .iter()
        .copied()
        .fold(0.001, f64::max)
        .log10()
        .ceil()
        .max(lo + 1.0);
    let sx = |q: f64| l + nines(q) / 5.0 * (w - l - r);
    let sy = |ms: f64| h - b - (ms.max(0.001).log10() - lo) / (hi - lo) * (h - t - b);
    let mut svg = String::new();
    open(&mut svg, title, w, h, l, r, t, b);
    let mut power = lo;
    while power <= hi {
        let y = sy(10f64.powf(power));
        let _ = write!(
            svg,
            r##"<line x1="{l}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#eee"/><text x="{}" y="{:.1}" font-size="10" text-anchor="end">{} ms</text>"##,
            w - r,
            l - 4.0,
            y + 3.0,
            fmt_num(10f64.powf(power))
        );
        power += 1.0;
    }
    for (q, label) in [
        (0.5, "50%"),
        (0.9, "90%"),
        (0.99, "99%"),
        (0.999, "99.9%"),
        (0.9999, "99.99%"),
        (1.0, "max"),
    ] {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle">{label}</text>"#,
            sx(q),
            h - b + 14.0
        );
    }
    for (i, (name, points)) in series.iter().enumerate() {
        let pixels: Vec<(f64, f64)> = points
            .iter()
            .filter(|(q, _)| *q >= 0.5)
            .map(|&(q, ms)| (sx(q), sy(ms)))
            .collect();
        line(&mut svg, w - r, t, i, name, &pixels);
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_percentile_chart_of_no_positive_value_is_drawn_and_ends() {
        // A scorecard of a tool the server never heard from: every figure 0.
        let zeros: Series = ("server".into(), vec![(0.5, 0.0), (1.0, 0.0)]);
        let svg = percentile_chart("nothing", &[zeros, ("tool".into(), Vec::new())]);
        assert!(svg.len() < 20_000, "{} bytes", svg.len());
        // The zeros sit on the chart's floor, not below it.
        assert!(svg.contains("points=\"92.5,260.0 600.0,260.0\""), "{svg}");
    }

    #[test]
    fn elapsed_time_reads_as_minutes_and_seconds() {
        assert_eq!(elapsed(0.0), "0:00");
        assert_eq!(elapsed(95.0), "1:35");
        assert_eq!(elapsed(3725.0), "1:02:05");
        assert_eq!(
            time_ticks(0.0, 2400.0),
            [0.0, 300.0, 600.0, 900.0, 1200.0, 1500.0, 1800.0, 2100.0, 2400.0]
        );
        assert_eq!(time_ticks(0.0, 10.0).len(), 6);
    }

    #[test]
    fn a_far_bound_is_noted_not_drawn_and_stages_are_marked() {
        let series: Vec<Series> = vec![("p95".into(), vec![(0.0, 50.0), (60.0, 55.0)])];
        let stages = [(0.0, "warm".to_owned()), (30.0, "hold".to_owned())];
        let far = time_chart("t", "ms", &series, &stages, Some((2000.0, "p95 bound")));
        assert!(far.contains("above the scale") && !far.contains("stroke-dasharray=\"6 4\""));
        assert!(
            far.contains(">hold</text>")
                && far.contains("elapsed (m:ss)")
                && far.contains(">1:00<")
        );
        let near = time_chart("t", "ms", &series, &stages, Some((100.0, "p95 bound")));
        assert!(near.contains("stroke-dasharray=\"6 4\"") && !near.contains("above the scale"));
    }
}
