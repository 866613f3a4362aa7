//! JMeter's results file, CSV form (`jmeter -n -t plan.jmx -l results.jtl`
//! with the default `jmeter.save.saveservice.output_format=csv`). In: one
//! line per sample: `timeStamp,elapsed,label,responseCode,responseMessage,
//! threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,
//! allThreads,URL,Latency,IdleTime,Connect` by default. Out: every sample
//! (exact percentiles), per label, statuses and failures.
//!
//! Columns are found by the header's names, in any order, and all but
//! `elapsed` may be missing (`print_field_names=false` writes no header:
//! JMeter's default order is then assumed). The delimiter is `,` unless the
//! header shows `\t`, `;` or `|` (`default_delimiter`). `elapsed` is whole
//! milliseconds. `timeStamp` is epoch milliseconds (a sample's start, as
//! the shipped `sampleresult.timestamp.start=true` says) or, with
//! `timestamp_format` set, a date written `yyyy/MM/dd HH:mm:ss.SSS`,
//! `yyyy-MM-dd HH:mm:ss.SSS` or ISO 8601, read as UTC when it has no zone.
//! A sample is a failure when `success` is false (without that column, when
//! its `responseCode` is not 2xx/3xx). Parent samples of transaction
//! controllers are samples like any other: import without them (the
//! controller's "Generate parent sample" off) to count each request once.
//! JMeter's threads wait for each answer: a closed model.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime};

use super::{At, LoadModel, Sample, Tool, ToolReport};
use crate::error::Error;

/// JMeter's default columns, in order (when the file has no header).
pub const DEFAULT_COLUMNS: [&str; 17] = [
    "timeStamp",
    "elapsed",
    "label",
    "responseCode",
    "responseMessage",
    "threadName",
    "dataType",
    "success",
    "failureMessage",
    "bytes",
    "sentBytes",
    "grpThreads",
    "allThreads",
    "URL",
    "Latency",
    "IdleTime",
    "Connect",
];

/// Where the columns the adapter reads are.
struct Columns {
    elapsed: usize,
    stamp: Option<usize>,
    label: Option<usize>,
    code: Option<usize>,
    success: Option<usize>,
}

/// One sample line, read.
struct Line {
    sample: Sample,
    /// Epoch ms; `None`: no time, or 0 (never started).
    start: Option<i64>,
    status: Option<u16>,
    /// The failure's kind, if it failed.
    failure: Option<String>,
    /// Whether its time carried a zone (or was epoch ms).
    zoned: bool,
}

/// Reads a CSV JTL; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<ToolReport, Error> {
    let (mut reader, cols) = open(file, text)?;
    let mut lines = Vec::new();
    for row in super::csv_records(file, &mut reader) {
        let (at, record) = row?;
        lines.push(read_line(&at, &record, &cols)?);
    }
    Ok(report(lines, cols.code.is_some()))
}

/// A reader past the header (if any), and where the columns are.
fn open<'a>(file: &str, text: &'a str) -> Result<(csv::Reader<&'a [u8]>, Columns), Error> {
    let head = text.lines().next().unwrap_or("");
    if head.trim_start().starts_with('<') {
        return Err(At { file, line: 1 }
            .error("an XML JTL: save results as CSV (jmeter.save.saveservice.output_format=csv)"));
    }
    let delimiter = [b'\t', b';', b'|']
        .into_iter()
        .find(|d| head.contains("elapsed") && head.as_bytes().contains(d))
        .unwrap_or(b',');
    let has_header = head.split(delimiter as char).any(|c| c.trim() == "elapsed");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(has_header)
        .flexible(true)
        .from_reader(text.as_bytes());
    let names: Vec<String> = if has_header {
        reader
            .headers()
            .map_err(|e| At { file, line: 1 }.error(format!("not a CSV header: {e}")))?
            .iter()
            .map(|h| h.trim().to_owned())
            .collect()
    } else {
        DEFAULT_COLUMNS.iter().map(|c| (*c).to_owned()).collect()
    };
    let col = |name: &str| names.iter().position(|c| c == name);
    let elapsed = col("elapsed").ok_or_else(|| {
        At { file, line: 1 }.error("no \"elapsed\" column: not a JMeter CSV results file")
    })?;
    let cols = Columns {
        elapsed,
        stamp: col("timeStamp"),
        label: col("label"),
        code: col("responseCode"),
        success: col("success"),
    };
    Ok((reader, cols))
}

fn read_line(at: &At, record: &csv::StringRecord, cols: &Columns) -> Result<Line, Error> {
    let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).map(str::trim);
    let ms = cell(Some(cols.elapsed))
        .ok_or_else(|| at.error("no elapsed value: the line is cut short"))?;
    let ms: u64 = ms
        .parse()
        .map_err(|_| at.error(format!("elapsed {ms:?} is not whole milliseconds")))?;
    let (start, zoned) = match cell(cols.stamp) {
        None => (None, true),
        Some(t) => {
            timestamp(t).ok_or_else(|| at.error(format!("timeStamp {t:?} is not a time")))?
        }
    };
    let code = cell(cols.code);
    let status = code.and_then(|c| c.parse::<u16>().ok());
    let ok = match cell(cols.success) {
        Some(s) if s.eq_ignore_ascii_case("true") => true,
        Some(s) if s.eq_ignore_ascii_case("false") => false,
        Some(s) => return Err(at.error(format!("success {s:?} is neither true nor false"))),
        None => status.is_some_and(|s| (200..400).contains(&s)),
    };
    let failure = (!ok).then(|| match (status, code) {
        (Some(s), _) => format!("status_{s}"),
        (None, Some(c)) if !c.is_empty() => "non_http".to_owned(),
        _ => "failed".to_owned(),
    });
    Ok(Line {
        sample: Sample {
            name: cell(cols.label)
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
            offset_s: None,
            latency_ms: ms as f64,
            ok,
        },
        start,
        status,
        failure,
        zoned,
    })
}

/// The lines as a report: times from the first start, statuses when the
/// file has them, failures by kind.
fn report(lines: Vec<Line>, has_code: bool) -> ToolReport {
    let mut r = ToolReport::new(Tool::Jmeter, LoadModel::Closed);
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for l in &lines {
        if let Some(s) = l.status {
            *statuses.entry(s).or_default() += 1;
        }
        if let Some(k) = &l.failure {
            *kinds.entry(k.clone()).or_default() += 1;
        }
    }
    let first = lines.iter().filter_map(|l| l.start).min();
    if lines.iter().any(|l| l.start.is_none()) {
        r.notes.push(
            "some samples have no start time (timeStamp 0 or none): they count, but in no second of the time series".into(),
        );
    }
    if lines.iter().any(|l| !l.zoned) {
        r.notes
            .push("timeStamp written as a date without a zone: read as UTC".into());
    }
    let samples: Vec<Sample> = lines
        .into_iter()
        .map(|l| Sample {
            offset_s: first.zip(l.start).map(|(f, t)| (t - f) as f64 / 1000.0),
            ..l.sample
        })
        .collect();
    r.started_at = first.and_then(DateTime::from_timestamp_millis);
    if has_code {
        r.statuses = Some(statuses);
    }
    r.set_error_kinds(kinds);
    r.set_samples(samples);
    r.notes
        .push("JMeter's elapsed is whole milliseconds: percentiles exact to 1 ms".into());
    r
}

/// A `timeStamp` as epoch ms (`None`: 0, the sample never started), and
/// whether it carried its zone.
fn timestamp(t: &str) -> Option<(Option<i64>, bool)> {
    if let Ok(ms) = t.parse::<i64>() {
        return Some(((ms > 0).then_some(ms), true));
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some((Some(d.timestamp_millis()), true));
    }
    [
        "%Y/%m/%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
    .map(|n| (Some(n.and_utc().timestamp_millis()), false))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JTL: &str = include_str!("../../tests/fixtures/jmeter-results.jtl");

    #[test]
    fn every_sample_with_labels_statuses_and_failures() {
        let r = parse("r.jtl", JTL).unwrap();
        assert_eq!(r.requests, Some(12));
        assert_eq!(r.errors, Some(3));
        assert_eq!(r.error_kinds["status_503"], 2);
        assert_eq!(r.error_kinds["non_http"], 1);
        assert_eq!(r.statuses.as_ref().unwrap()[&200], 9);
        let mut direct: Vec<f64> = JTL
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
            .collect();
        direct.sort_by(f64::total_cmp);
        assert_eq!(r.latencies_ms.as_deref(), Some(direct.as_slice()));
        let searches = r
            .samples
            .iter()
            .filter(|s| s.name.as_deref() == Some("search"));
        assert_eq!(searches.count(), 4);
        assert_eq!(r.started_at.unwrap().timestamp_millis(), 1_795_168_800_000);
        assert_eq!(r.samples[11].offset_s, Some(2.5));
    }

    #[test]
    fn other_delimiters_missing_columns_no_header_and_dates() {
        let tabs =
            "timeStamp\telapsed\tsuccess\n1795168800000\t12\ttrue\n1795168800100\t30\tfalse\n";
        let r = parse("t.jtl", tabs).unwrap();
        assert_eq!((r.requests, r.errors), (Some(2), Some(1)));
        assert_eq!(
            r.statuses, None,
            "no responseCode column: statuses not reported"
        );
        let bare = "1795168800000,7,read,200,OK,g 1-1,text,true,,10,0,1,1,http://x/,6,0,1\n";
        let r = parse("b.jtl", bare).unwrap();
        assert_eq!(r.quantile(1.0), Some(7.0));
        assert_eq!(r.samples[0].name.as_deref(), Some("read"));
        let dated = "timeStamp,elapsed,responseCode\n2026/11/20 10:00:00.250,5,200\n2026/11/20 10:00:01.250,9,500\n";
        let r = parse("d.jtl", dated).unwrap();
        assert_eq!(r.errors, Some(1), "no success column: a 500 is a failure");
        assert_eq!(r.samples[1].offset_s, Some(1.0));
        assert!(r.notes.iter().any(|n| n.contains("UTC")));
    }

    #[test]
    fn malformed_lines_name_the_file_and_line() {
        let bad = JTL.replacen("\n1795168800250,14,", "\n1795168800250,1.4x,", 1);
        let e = parse("r.jtl", &bad).unwrap_err().to_string();
        assert!(e.starts_with("r.jtl:3:") && e.contains("1.4x"), "{e}");
        let e = parse("r.jtl", "timeStamp,label\n1,a\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("r.jtl:1:") && e.contains("elapsed"), "{e}");
        let e = parse("r.jtl", "<?xml version=\"1.0\"?>\n<testResults/>")
            .unwrap_err()
            .to_string();
        assert!(e.contains("XML"), "{e}");
        let bad = "timeStamp,elapsed,success\nyesterday,4,true\n";
        let e = parse("r.jtl", bad).unwrap_err().to_string();
        assert!(e.starts_with("r.jtl:2:") && e.contains("yesterday"), "{e}");
        let bad = "timeStamp,elapsed,success\n1,4,maybe\n";
        assert!(parse("r.jtl", bad)
            .unwrap_err()
            .to_string()
            .contains("maybe"));
    }

    #[test]
    fn real_jmeter_2_13_output_counts_503s_and_no_response_as_failures() {
        let text = include_str!("../../tests/fixtures/jmeter-2.13-faults.jtl");
        let r = parse("j.jtl", text).unwrap();
        assert_eq!(r.requests, Some(244));
        assert_eq!(r.errors, Some(26));
        assert_eq!(r.statuses.as_ref().unwrap()[&503], 18);
        assert_eq!(r.samples.len(), 244);
    }
}
