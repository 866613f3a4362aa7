//! wrk's text report with `--latency` (wrk 4.x). In: the report as wrk
//! prints it on stdout. Out: requests, errors (socket errors by kind and
//! non-2xx/3xx responses), p50/p75/p90/p99 and the maximum.
//!
//! wrk is a closed-model tool: each connection sends its next request when
//! the previous one is answered, and latency is measured from when a
//! request was sent, so a stalled server shows as fewer requests rather
//! than as latency (coordinated omission). Its latency statistics cover
//! requests that got a response (any status); requests that failed on the
//! socket or timed out are counted as errors only. wrk reports no p95.
//!
//! Before printing, wrk 4 "corrects" its histogram (`stats_correct` in
//! `src/wrk.c`, wg/wrk#326 and #485): with `interval` = run time divided by
//! requests per connection (the mean time between a connection's
//! requests), every sample at or above twice the interval gets synthetic
//! companions at itself minus 1, 2, ... intervals. That fills in the
//! requests a stall kept from being sent, but on a target whose latency is
//! legitimately wide (a lognormal tail) it adds samples nobody waited for
//! and inflates every percentile above the interval.

use super::{duration_ms, At, LoadModel, Reported, Tool, ToolReport};
use crate::error::Error;

/// Reads wrk's report; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<ToolReport, Error> {
    let mut report = ToolReport::new(Tool::Wrk, LoadModel::Closed);
    report.notes.push(
        "wrk measures from when each request was sent (closed model), then adds synthetic samples below each latency of twice its mean interval or more (stats_correct, wg/wrk#326): a stall is filled in, but a wide tail is inflated".into(),
    );
    let mut max = None;
    let mut in_distribution = false;
    let mut socket_errors = 0;
    for (i, line) in text.lines().enumerate() {
        let at = At { file, line: i + 1 };
        let t = line.trim();
        let words: Vec<&str> = t.split_whitespace().collect();
        match words.as_slice() {
            ["Latency", _avg, _stdev, m, ..] if !in_distribution => {
                max = Some(
                    duration_ms(m).ok_or_else(|| at.error(format!("{m:?} is not a latency")))?,
                );
            }
            ["Latency", "Distribution"] => in_distribution = true,
            [pct, value] if in_distribution && pct.ends_with('%') => {
                let q: f64 = pct
                    .trim_end_matches('%')
                    .parse()
                    .map_err(|_| at.error(format!("{pct:?} is not a percentile")))?;
                let ms = duration_ms(value)
                    .ok_or_else(|| at.error(format!("{value:?} is not a latency")))?;
                report.percentiles.push(Reported { q: q / 100.0, ms });
            }
            [n, "requests", "in", span, ..] => {
                in_distribution = false;
                report.duration_s = duration_ms(span.trim_end_matches(',')).map(|ms| ms / 1000.0);
                report.requests = Some(
                    n.parse()
                        .map_err(|_| at.error(format!("{n:?} is not a request count")))?,
                );
            }
            ["Socket", "errors:", rest @ ..] => {
                for pair in rest.join(" ").split(',') {
                    let (kind, n) = pair.trim().split_once(' ').ok_or_else(|| {
                        at.error("expected `connect N, read N, write N, timeout N`")
                    })?;
                    let n: u64 = n
                        .trim()
                        .parse()
                        .map_err(|_| at.error(format!("{n:?} is not a count")))?;
                    socket_errors += n;
                    if n > 0 {
                        report.error_kinds.insert(kind.to_owned(), n);
                    }
                }
            }
            ["Non-2xx", "or", "3xx", "responses:", n] => {
                let n: u64 = n
                    .parse()
                    .map_err(|_| at.error(format!("{n:?} is not a count")))?;
                report.error_kinds.insert("non_2xx_3xx".into(), n);
            }
            _ => {}
        }
    }
    let requests = report.requests.ok_or_else(|| {
        At { file, line: 0 }.error("no `N requests in` line: not wrk's report, or cut short")
    })?;
    if report.percentiles.is_empty() {
        return Err(At { file, line: 0 }.error("no latency distribution: run wrk with --latency"));
    }
    if let Some(max) = max {
        report.percentiles.push(Reported { q: 1.0, ms: max });
    }
    // wrk's request count includes the non-2xx responses but not the
    // requests that failed on the socket.
    let non_2xx = report.error_kinds.get("non_2xx_3xx").copied().unwrap_or(0);
    report.requests = Some(requests + socket_errors);
    report.errors = Some(non_2xx + socket_errors);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_with_faults() {
        let r = parse(
            "wrk-faults.txt",
            include_str!("../../tests/fixtures/wrk-faults.txt"),
        )
        .unwrap();
        assert_eq!(r.requests, Some(3806 + 35));
        assert_eq!(r.errors, Some(216 + 35));
        assert_eq!(r.error_kinds["read"], 35);
        assert_eq!(r.error_kinds["non_2xx_3xx"], 216);
        assert_eq!(r.quantile(0.5), Some(3.61));
        assert_eq!(r.quantile(0.99), Some(32.56));
        assert_eq!(r.quantile(1.0), Some(76.58));
        assert_eq!(r.quantile(0.95), None, "wrk reports no p95");
        assert_eq!(r.model, LoadModel::Closed);
    }

    #[test]
    fn reports_without_errors_and_in_seconds() {
        let r = parse(
            "wrk-fixed.txt",
            include_str!("../../tests/fixtures/wrk-fixed.txt"),
        )
        .unwrap();
        assert_eq!((r.requests, r.errors), (Some(152), Some(0)));
        assert_eq!(r.quantile(0.9), Some(53.78));
        let r = parse(
            "wrk-seconds.txt",
            include_str!("../../tests/fixtures/wrk-seconds.txt"),
        )
        .unwrap();
        assert_eq!(r.error_kinds["timeout"], 7);
        assert_eq!((r.requests, r.errors), (Some(15), Some(7)));
        assert_eq!(r.quantile(0.5), Some(900.74));
    }

    #[test]
    fn malformed_or_cut_reports_name_the_file_and_line() {
        let text = include_str!("../../tests/fixtures/wrk-faults.txt");
        let bad = text.replace("90%   11.08ms", "90%   eleven");
        let e = parse("w.txt", &bad).unwrap_err().to_string();
        assert!(e.starts_with("w.txt:9:") && e.contains("eleven"), "{e}");
        let cut: String = text.lines().take(9).collect::<Vec<_>>().join("\n");
        let e = parse("w.txt", &cut).unwrap_err().to_string();
        assert!(e.contains("w.txt") && e.contains("requests in"), "{e}");
        let e = parse("w.txt", "").unwrap_err().to_string();
        assert!(e.contains("w.txt"), "{e}");
        let no_latency = text.replace("Latency Distribution", "").replace("50%", "x");
        assert!(parse("w.txt", &no_latency).is_err());
    }
}
