//! hey's per-request CSV (`hey -o csv`). In: one line per answered request
//! (`response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset`,
//! times in seconds). Out: exact percentiles from every line, statuses,
//! and non-2xx responses as errors.
//!
//! hey writes times with 4 decimals (0.1 ms resolution), and only requests
//! that got a response: a request that failed on the connection (a reset,
//! a timeout) is in neither the CSV nor any count it prints with `-o csv`,
//! so its requests and errors can fall short of the server's. hey is a
//! closed-model tool (each worker waits for its answer).

use std::collections::BTreeMap;

use super::{At, LoadModel, Sample, Tool, ToolReport};
use crate::error::Error;

const HEADER: &str =
    "response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset";

/// Reads hey's CSV; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<ToolReport, Error> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.trim() == HEADER => {}
        _ => {
            return Err(At { file, line: 1 }.error(format!(
                "expected hey's CSV header {HEADER:?} (run hey with -o csv)"
            )))
        }
    }
    let mut samples = Vec::new();
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    for (i, line) in lines {
        let at = At { file, line: i + 1 };
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split(',').collect();
        if cols.len() != 8 {
            return Err(at.error(format!("expected 8 columns, got {}", cols.len())));
        }
        let seconds: f64 = cols[0]
            .trim()
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s >= 0.0)
            .ok_or_else(|| {
                at.error(format!(
                    "response-time {:?} is not a number of seconds",
                    cols[0]
                ))
            })?;
        let status = super::http_status(cols[6].trim())
            .ok_or_else(|| at.error(format!("status-code {:?} is not an HTTP status", cols[6])))?;
        let offset: f64 = cols[7]
            .trim()
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s >= 0.0)
            .ok_or_else(|| at.error(format!("offset {:?} is not a number of seconds", cols[7])))?;
        samples.push(Sample {
            name: None,
            offset_s: Some(offset),
            latency_ms: seconds * 1000.0,
            ok: (200..300).contains(&status),
        });
        *statuses.entry(status).or_default() += 1;
    }
    let mut report = ToolReport::new(Tool::Hey, LoadModel::Closed);
    report.set_error_kinds(
        statuses
            .iter()
            .filter(|(s, _)| !(200..300).contains(*s))
            .map(|(s, n)| (format!("status_{s}"), *n))
            .collect(),
    );
    report.statuses = Some(statuses);
    report.set_samples(samples);
    report.notes.push(
        "hey writes times to 0.1 ms and leaves out requests that failed without a response (resets, timeouts)".into(),
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_counts_and_percentiles_are_exact() {
        let text = include_str!("../../tests/fixtures/hey-faults.csv");
        let r = parse("hey.csv", text).unwrap();
        assert_eq!(r.requests, Some(400));
        assert_eq!(r.statuses.as_ref().unwrap()[&503], 21);
        assert_eq!(r.errors, Some(21));
        // Percentiles from the lines themselves, computed here directly.
        let mut ms: Vec<f64> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().parse::<f64>().unwrap() * 1000.0)
            .collect();
        ms.sort_by(f64::total_cmp);
        for q in [0.5, 0.9, 0.95, 0.99] {
            let direct = ms[((q * ms.len() as f64).ceil() as usize).max(1) - 1];
            assert_eq!(r.quantile(q), Some(direct), "q{q}");
        }
        assert_eq!(r.quantile(1.0), Some(*ms.last().unwrap()));
    }

    #[test]
    fn malformed_lines_name_the_file_and_line() {
        let e = parse("h.csv", "nope\n").unwrap_err().to_string();
        assert!(e.starts_with("h.csv:1:"), "{e}");
        let text =
            format!("{HEADER}\n0.0045,0,0,0,0.0032,0.0001,200,0.0176\n0.x,0,0,0,0,0,200,0.1\n");
        let e = parse("h.csv", &text).unwrap_err().to_string();
        assert!(e.starts_with("h.csv:3:") && e.contains("0.x"), "{e}");
        let text = format!("{HEADER}\n0.0045,0,0,0,0.0032,0.0001,200\n");
        let e = parse("h.csv", &text).unwrap_err().to_string();
        assert!(e.starts_with("h.csv:2:") && e.contains("8 columns"), "{e}");
        let text = format!("{HEADER}\n0.0045,0,0,0,0.0032,0.0001,99x,0.1\n");
        assert!(parse("h.csv", &text).is_err());
        // An empty run is a report of nothing, not an error.
        assert_eq!(parse("h.csv", HEADER).unwrap().requests, Some(0));
    }
}
