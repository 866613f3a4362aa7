//! Locust's CSV files (`--csv PREFIX`). In: `PREFIX_stats.csv` (one row
//! per request name and an `Aggregated` row) and `PREFIX_stats_history.csv`
//! (one row per interval). Out: the aggregated requests, failures, the
//! percentile columns (50% ... 99.99%) and the exact maximum; the history
//! as rows.
//!
//! Locust rounds response times before it sorts them into percentiles:
//! whole milliseconds under 100 ms, then to about two significant digits
//! (10 ms steps from 100 ms, 100 ms steps from 1 s), so its percentiles are
//! steps, and its `100%` can differ from its exact `Max Response Time`. It
//! counts a request when it completes: requests still in flight when the
//! run stops are not counted, though the server served them; and it
//! rewrites `_stats.csv` once a second (`CSV_STATS_INTERVAL_SEC` in
//! `locust/stats.py`), its last write up to a second before it stops, so
//! the file misses the requests of that last second (the summary it prints
//! on stdout has them). Users wait for each answer: a closed model.

use std::collections::BTreeMap;

use super::{At, Interval, LoadModel, NamedReport, Reported, Tool, ToolReport};
use crate::error::Error;

/// The percentile columns Locust writes, as quantiles.
const COLUMNS: [(&str, f64); 11] = [
    ("50%", 0.5),
    ("66%", 0.66),
    ("75%", 0.75),
    ("80%", 0.8),
    ("90%", 0.9),
    ("95%", 0.95),
    ("98%", 0.98),
    ("99%", 0.99),
    ("99.9%", 0.999),
    ("99.99%", 0.9999),
    ("100%", 1.0),
];

/// One row of a Locust CSV file, by column name, with its line.
struct Row {
    line: usize,
    cells: BTreeMap<String, String>,
}

impl Row {
    fn get<'a>(&'a self, file: &str, column: &str) -> Result<&'a str, Error> {
        self.cells.get(column).map(String::as_str).ok_or_else(|| {
            At {
                file,
                line: self.line,
            }
            .error(format!("no {column:?} column"))
        })
    }

    /// A number in `column`; `None` for Locust's `N/A`.
    fn number(&self, file: &str, column: &str) -> Result<Option<f64>, Error> {
        let text = self.get(file, column)?.trim();
        if text == "N/A" {
            return Ok(None);
        }
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(Some)
            .ok_or_else(|| {
                At {
                    file,
                    line: self.line,
                }
                .error(format!("{column}: {text:?} is not a number"))
            })
    }

    fn count(&self, file: &str, column: &str) -> Result<u64, Error> {
        let v = self.number(file, column)?.unwrap_or(0.0);
        if v.fract() != 0.0 {
            let at = At {
                file,
                line: self.line,
            };
            return Err(at.error(format!("{column}: {v} is not a count")));
        }
        Ok(v as u64)
    }
}

fn rows(file: &str, text: &str) -> Result<Vec<Row>, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| At { file, line: 1 }.error(format!("not a CSV header: {e}")))?
        .clone();
    let mut out = Vec::new();
    for row in super::csv_records(file, &mut reader) {
        let (at, record) = row?;
        let line = at.line;
        let cells = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.to_owned(), v.to_owned()))
            .collect();
        out.push(Row { line, cells });
    }
    Ok(out)
}

/// A `_stats.csv` row's percentile columns, lowest first, with the exact
/// `Max Response Time` standing for 100% (the rounded `100%` is dropped).
fn row_percentiles(file: &str, row: &Row) -> Result<Vec<Reported>, Error> {
    let mut out = Vec::new();
    for (column, q) in COLUMNS.iter().filter(|(_, q)| *q < 1.0) {
        if let Some(ms) = row.number(file, column)? {
            out.push(Reported { q: *q, ms });
        }
    }
    if let Some(max) = row.number(file, "Max Response Time")? {
        out.push(Reported { q: 1.0, ms: max });
    }
    Ok(out)
}

/// Reads `PREFIX_stats.csv`; `file` names it in errors.
pub fn parse_stats(file: &str, text: &str) -> Result<ToolReport, Error> {
    let rows = rows(file, text)?;
    let Some(all) = rows
        .iter()
        .find(|r| r.cells.get("Name").is_some_and(|n| n == "Aggregated"))
    else {
        return Err(
            At { file, line: 0 }.error("no Aggregated row: not Locust's _stats.csv, or cut short")
        );
    };
    let mut report = ToolReport::new(Tool::Locust, LoadModel::Closed);
    report.requests = Some(all.count(file, "Request Count")?);
    let failures = all.count(file, "Failure Count")?;
    report.errors = Some(failures);
    if failures > 0 {
        report.error_kinds.insert("failures".into(), failures);
    }
    report.percentiles = row_percentiles(file, all)?;
    report.mean_ms = all.number(file, "Average Response Time")?;
    for row in rows
        .iter()
        .filter(|r| r.cells.get("Name").is_some_and(|n| n != "Aggregated"))
    {
        report.names.push(NamedReport {
            name: row.get(file, "Name")?.to_owned(),
            requests: Some(row.count(file, "Request Count")?),
            errors: Some(row.count(file, "Failure Count")?),
            percentiles: row_percentiles(file, row)?,
            mean_ms: row.number(file, "Average Response Time")?,
        });
    }
    report.notes.push(
        "Locust buckets each response time before its percentiles (whole ms below 100 ms, 10 ms below 1 s: about two significant digits), and rewrites _stats.csv once a second (CSV_STATS_INTERVAL_SEC): the requests of its last second or less are not in it".into(),
    );
    Ok(report)
}

/// One interval of `PREFIX_stats_history.csv` (the aggregated row).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    /// Unix seconds.
    pub timestamp: u64,
    pub users: u64,
    pub requests_per_s: f64,
    pub failures_per_s: f64,
    /// The interval's percentiles (Locust's window), where it had any.
    pub percentiles: Vec<Reported>,
    /// Requests and failures since the start.
    pub total_requests: u64,
    pub total_failures: u64,
    /// Since the start: median, mean and maximum response time.
    pub total_median: Option<f64>,
    pub total_mean: Option<f64>,
    pub total_max: Option<f64>,
}

/// Reads `PREFIX_stats_history.csv`: its aggregated rows, in order.
pub fn parse_history(file: &str, text: &str) -> Result<Vec<HistoryRow>, Error> {
    let mut out = Vec::new();
    for row in rows(file, text)? {
        if row.get(file, "Name")? != "Aggregated" {
            continue;
        }
        let mut percentiles = Vec::new();
        for (column, q) in COLUMNS {
            if let Some(ms) = row.number(file, column)? {
                percentiles.push(Reported { q, ms });
            }
        }
        out.push(HistoryRow {
            timestamp: row.count(file, "Timestamp")?,
            users: row.count(file, "User Count")?,
            requests_per_s: row.number(file, "Requests/s")?.unwrap_or(0.0),
            failures_per_s: row.number(file, "Failures/s")?.unwrap_or(0.0),
            percentiles,
            total_requests: row.count(file, "Total Request Count")?,
            total_failures: row.count(file, "Total Failure Count")?,
            total_median: row.number(file, "Total Median Response Time")?,
            total_mean: row.number(file, "Total Average Response Time")?,
            total_max: row.number(file, "Total Max Response Time")?,
        });
    }
    if out.is_empty() {
        return Err(
            At { file, line: 0 }.error("no Aggregated rows: not Locust's _stats_history.csv")
        );
    }
    Ok(out)
}

/// `PREFIX_stats_history.csv` as a run: its intervals, and the run's
/// totals from its last row (requests, failures, median, mean and max:
/// the history has no whole-run p95 or p99, its percentile columns being
/// each moment's recent window).
pub fn parse_history_report(file: &str, text: &str) -> Result<ToolReport, Error> {
    let rows = parse_history(file, text)?;
    let mut r = ToolReport::new(Tool::Locust, LoadModel::Closed);
    let (first, last) = (&rows[0], &rows[rows.len() - 1]);
    r.started_at = chrono::DateTime::from_timestamp(first.timestamp as i64, 0);
    r.duration_s = Some((last.timestamp - first.timestamp) as f64);
    r.requests = Some(last.total_requests);
    r.errors = Some(last.total_failures);
    if last.total_failures > 0 {
        r.error_kinds.insert("failures".into(), last.total_failures);
    }
    if last.total_requests > 0 {
        r.percentiles = [(0.5, last.total_median), (1.0, last.total_max)]
            .into_iter()
            .filter_map(|(q, ms)| Some(Reported { q, ms: ms? }))
            .collect();
        r.mean_ms = last.total_mean;
    }
    let mut before = (0, 0);
    for row in &rows {
        r.intervals.push(Interval {
            t_s: (row.timestamp - first.timestamp) as f64,
            users: row.users,
            requests: row.total_requests.saturating_sub(before.0),
            errors: row.total_failures.saturating_sub(before.1),
            percentiles: row.percentiles.clone(),
        });
        before = (row.total_requests, row.total_failures);
    }
    r.notes.push(
        "Locust's history has each moment's percentiles over its recent window (10 s), and whole-run totals only for the median, mean and max".into(),
    );
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATS: &str = include_str!("../../tests/fixtures/locust_stats.csv");
    const HISTORY: &str = include_str!("../../tests/fixtures/locust_stats_history.csv");

    #[test]
    fn the_aggregated_row_with_its_rounded_percentiles_and_exact_max() {
        let r = parse_stats("l_stats.csv", STATS).unwrap();
        assert_eq!((r.requests, r.errors), (Some(1204), Some(67)));
        assert_eq!(r.quantile(0.5), Some(20.0));
        assert_eq!(r.quantile(0.9), Some(71.0));
        assert_eq!(r.quantile(0.95), Some(110.0));
        assert_eq!(r.quantile(0.99), Some(180.0));
        assert_eq!(r.quantile(1.0), Some(475.94978000051924));
        assert_eq!(r.model, LoadModel::Closed);
    }

    #[test]
    fn the_history_in_order_with_n_a_intervals() {
        let h = parse_history("l_hist.csv", HISTORY).unwrap();
        assert_eq!(h.len(), 5);
        assert!(
            h[0].percentiles.is_empty(),
            "the first interval had no requests"
        );
        assert_eq!((h[4].total_requests, h[4].total_failures), (1204, 67));
        assert_eq!(h[4].users, 10);
        assert!(h.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
    }

    #[test]
    fn malformed_files_name_the_file_and_line() {
        let bad = STATS.replace(",Aggregated,1204,", ",Aggregated,12x4,");
        let e = parse_stats("l.csv", &bad).unwrap_err().to_string();
        assert!(e.starts_with("l.csv:") && e.contains("12x4"), "{e}");
        let cut: String = STATS.lines().take(2).collect::<Vec<_>>().join("\n");
        let e = parse_stats("l.csv", &cut).unwrap_err().to_string();
        assert!(e.contains("l.csv") && e.contains("Aggregated"), "{e}");
        let ragged = format!("{}\nGET,/x,1\n", STATS.lines().next().unwrap());
        let e = parse_stats("l.csv", &ragged).unwrap_err().to_string();
        assert!(e.starts_with("l.csv:2:"), "{e}");
        let e = parse_history("h.csv", "Timestamp,User Count\n1,2\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("h.csv"), "{e}");
    }
}
