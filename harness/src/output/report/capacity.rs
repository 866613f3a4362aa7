//! The report's capacity section, for a record written by `harness
//! capacity`. In: its `capacity` section. Out: the findings, the step
//! table and three charts: throughput against load, latency against load
//! with the knee, and the USL fit over the measured points.

use std::fmt::Write as _;

use super::svg::{line_chart, Series};
use super::{esc, fmt_num, table, verdict_badge};
use crate::analysis::capacity::usl;
use crate::output::capacity::render;
use crate::record::capacity::CapacityRecord;
use crate::record::{Model, RunRecord};
use crate::scenario::Metric;

/// Appends the section when the record is a capacity search's.
pub(super) fn section(body: &mut String, r: &RunRecord) {
    let Some(c) = &r.capacity else {
        return;
    };
    let unit = c.unit();
    let found = match c.capacity {
        Some(cap) => format!(
            "{}{} {unit}",
            if c.at_least { "at least " } else { "" },
            fmt_num(cap)
        ),
        None => "none".to_owned(),
    };
    let _ = write!(
        body,
        "<h2>Capacity: {} {}</h2><pre>{}</pre>",
        esc(&found),
        verdict_badge(c.met),
        esc(&render(c))
    );
    body.push_str(&steps_table(c));
    let loads = |f: &dyn Fn(&crate::record::capacity::CapacityStep) -> f64| -> Vec<(f64, f64)> {
        c.steps.iter().map(|s| (s.load, f(s))).collect()
    };
    let mut throughput: Vec<Series> = vec![("achieved req/s".into(), loads(&|s| s.achieved_rps))];
    if c.model == Model::Open {
        throughput.push(("offered req/s".into(), loads(&|s| s.load)));
    }
    let cap_line = c
        .capacity_rps
        .map(|x| (x, format!("capacity {} req/s", fmt_num(x))));
    body.push_str(&line_chart(
        &format!("Throughput against load ({unit})"),
        "req/s",
        &throughput,
        cap_line.as_ref().map(|(x, l)| (*x, l.as_str())),
        None,
    ));
    body.push_str(&latency_chart(c, r));
    body.push_str(&usl_chart(c));
}

fn steps_table(c: &CapacityRecord) -> String {
    let rows = c
        .steps
        .iter()
        .map(|s| {
            let result = match (s.slos_passed, s.saturated.is_some()) {
                (true, false) => verdict_badge(true),
                _ => s.detail.clone(),
            };
            vec![
                s.stage.clone(),
                fmt_num(s.load),
                fmt_num(s.achieved_rps),
                fmt_num(s.p95_ms),
                fmt_num(s.mean_ms),
                fmt_num(s.concurrency),
                s.errors.to_string(),
                s.dropped.to_string(),
                result,
            ]
        })
        .collect();
    let load = format!("load ({})", c.unit());
    let head = [
        "step",
        load.as_str(),
        "achieved req/s",
        "p95 ms",
        "mean ms",
        "in progress (Little)",
        "errors",
        "dropped",
        "result",
    ];
    table(&head, rows)
}

/// p95 and mean against load, the knee as its own point; the p95 bound as
/// a line only when it does not flatten the curve (else in the title).
fn latency_chart(c: &CapacityRecord, r: &RunRecord) -> String {
    let mut series: Vec<Series> = vec![
        (
            "p95 ms".into(),
            c.steps.iter().map(|s| (s.load, s.p95_ms)).collect(),
        ),
        (
            "mean ms".into(),
            c.steps.iter().map(|s| (s.load, s.mean_ms)).collect(),
        ),
    ];
    if let Some(k) = &c.knee {
        series.push((
            format!("knee ({})", fmt_num(k.load)),
            vec![(k.load, k.p95_ms)],
        ));
    }
    let highest = c.steps.iter().map(|s| s.p95_ms).fold(0.0, f64::max);
    let bound = r
        .slos
        .iter()
        .find(|s| s.spec.metric == Metric::P95)
        .map(|s| s.spec.bound);
    let mut title = format!("Latency against load ({})", c.unit());
    let shown = match bound {
        Some(b) if b <= 3.0 * highest.max(1.0) => Some((b, format!("p95 bound {}", fmt_num(b)))),
        Some(b) => {
            let _ = write!(title, ", p95 bound {} ms (off the scale)", fmt_num(b));
            None
        }
        None => None,
    };
    line_chart(
        &title,
        "ms",
        &series,
        shown.as_ref().map(|(b, l)| (*b, l.as_str())),
        None,
    )
}

/// Measured throughput against concurrency (Little's law), and the USL
/// curve fitted to it, drawn a little past the measured range (to the
/// predicted peak when there is one).
fn usl_chart(c: &CapacityRecord) -> String {
    let measured: Vec<(f64, f64)> = c
        .steps
        .iter()
        .map(|s| (s.concurrency, s.achieved_rps))
        .collect();
    let mut series: Vec<Series> = vec![("measured".into(), measured)];
    let mut title = "Throughput against requests in progress".to_owned();
    if let Some(u) = &c.usl {
        let reach = c.steps.iter().map(|s| s.concurrency).fold(0.0, f64::max) * 1.3;
        let until = u.peak_concurrency.map_or(reach, |p| reach.max(p * 1.2));
        let curve = (1..=60)
            .map(|i| until * f64::from(i) / 60.0)
            .map(|n| (n, usl(u.lambda, u.sigma, u.kappa, n)))
            .collect();
        series.push(("USL fit".into(), curve));
        title.push_str(if u.poor.is_some() {
            ", and the USL fit (poor)"
        } else {
            ", and the USL fit"
        });
    }
    line_chart(&title, "req/s", &series, None, None)
}
