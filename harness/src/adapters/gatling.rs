//! Gatling's `simulation.log`, the tab-separated text form Gatling 2 and 3
//! (up to 3.10) write in each run's results folder. In: one `REQUEST` line
//! per request, with its name, start and end (epoch ms) and `OK`/`KO`; a
//! `RUN` line with the run's start. Out: every request (exact percentiles
//! to Gatling's 1 ms), per request name, and failures (a `KO` whose message
//! says `found NNN` counts as `status_NNN`).
//!
//! The line layouts, all read: Gatling 3.4+ `REQUEST groups name start end
//! status message`; 3.0-3.3 `REQUEST userId groups name start end status
//! message`; 2.2-2.3 `REQUEST scenario userId groups name start end status
//! message`; 2.0-2.1 `scenario userId REQUEST groups name requestStart
//! requestEnd responseStart responseEnd status message` (its latency runs
//! from request start to response end). A line is read by finding its
//! status and the two (or four) timestamps before it, so extra fields
//! after the message do not matter. Gatling 3.11 and later write a binary
//! log instead: not read here. Gatling records no status codes in the log
//! (`statuses` are not reported). Nor does the log say how users were
//! injected, so the caller says the model: an open injection profile
//! (`constantUsersPerSec`, `rampUsersPerSec`, ...) starts users at their
//! scheduled times whatever the answers (open), a closed one
//! (`constantConcurrentUsers`, ...) starts one when another ends (closed).

use std::collections::BTreeMap;

use chrono::DateTime;

use super::{At, LoadModel, Sample, Tool, ToolReport};
use crate::error::Error;

/// One `REQUEST` line: name, start and end (epoch ms), OK, message.
struct Request {
    name: String,
    start: i64,
    end: i64,
    ok: bool,
    message: Option<String>,
}

/// Reads a text `simulation.log`; `file` names it in errors; `model` is
/// how its users were injected (the log does not say).
pub fn parse(file: &str, text: &str, model: LoadModel) -> Result<ToolReport, Error> {
    let mut run_start: Option<i64> = None;
    let mut requests = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let at = At { file, line: i + 1 };
        let f: Vec<&str> = line.split('\t').collect();
        let is = |k: &str| f.first() == Some(&k) || f.get(2) == Some(&k);
        if is("REQUEST") {
            requests.push(request(&at, &f)?);
        } else if is("RUN") {
            run_start = f.iter().find_map(|c| epoch_ms(c));
        } else if !(line.trim().is_empty()
            || ["USER", "GROUP", "ERROR", "ASSERTION"]
                .iter()
                .any(|k| is(k)))
        {
            return Err(at.error(format!(
                "not a line of Gatling's text simulation.log: {:?}",
                truncate(line)
            )));
        }
    }
    if requests.is_empty() && run_start.is_none() {
        return Err(At { file, line: 0 }.error(
            "no RUN or REQUEST lines: not Gatling's text simulation.log (3.11+ logs are binary)",
        ));
    }
    Ok(report(&requests, run_start, model))
}

/// A `REQUEST` line, found by its status and the times before it.
fn request(at: &At, f: &[&str]) -> Result<Request, Error> {
    let status = (3..f.len())
        .find(|&j| {
            (f[j] == "OK" || f[j] == "KO")
                && epoch_ms(f[j - 1]).is_some()
                && epoch_ms(f[j - 2]).is_some()
        })
        .ok_or_else(|| at.error("a REQUEST line without start and end times before OK or KO"))?;
    // Gatling 2.0-2.1: four times (request start/end, response start/end).
    let four =
        status >= 5 && epoch_ms(f[status - 3]).is_some() && epoch_ms(f[status - 4]).is_some();
    let (start, name) = if four {
        (f[status - 4], f[status - 5])
    } else {
        (f[status - 2], f[status - 3])
    };
    let start = epoch_ms(start).expect("checked");
    let end = epoch_ms(f[status - 1]).expect("checked");
    if end < start {
        return Err(at.error(format!("ends ({end}) before it starts ({start})")));
    }
    Ok(Request {
        name: name.to_owned(),
        start,
        end,
        ok: f[status] == "OK",
        message: f.get(status + 1).map(|m| m.trim().to_owned()),
    })
}

/// The requests as a report, times from the run's start (the `RUN` line,
/// or the first request when that is earlier or missing).
fn report(requests: &[Request], run_start: Option<i64>, model: LoadModel) -> ToolReport {
    let mut r = ToolReport::new(Tool::Gatling, model);
    let first = requests.iter().map(|x| x.start).min();
    let origin = match (run_start, first) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(0),
    };
    r.started_at = DateTime::from_timestamp_millis(origin);
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for x in requests.iter().filter(|x| !x.ok) {
        *kinds.entry(kind_of(x.message.as_deref())).or_default() += 1;
    }
    r.set_error_kinds(kinds);
    r.set_samples(
        requests
            .iter()
            .map(|x| Sample {
                name: Some(x.name.clone()),
                offset_s: Some((x.start - origin) as f64 / 1000.0),
                latency_ms: (x.end - x.start) as f64,
                ok: x.ok,
            })
            .collect(),
    );
    r.notes.push(
        "Gatling logs epoch milliseconds: latencies exact to 1 ms; no status codes in its log"
            .into(),
    );
    r.notes.push(match model {
        LoadModel::Open => "read as an open injection (users started on schedule), as told: its log does not say".into(),
        LoadModel::Closed => "read as a closed injection (a user starts when another ends): its log does not say; give --model open for an open injection profile".into(),
    });
    r
}

/// A 13-digit-or-so epoch millisecond time.
fn epoch_ms(c: &str) -> Option<i64> {
    let c = c.trim();
    if c.len() < 12 || !c.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    c.parse().ok()
}

/// A KO's kind: `status_NNN` when its message says what it found.
fn kind_of(message: Option<&str>) -> String {
    let found = message
        .and_then(|m| m.rsplit_once("found "))
        .and_then(|(_, rest)| rest.get(..3))
        .and_then(|code| code.parse::<u16>().ok())
        .filter(|c| (100..=599).contains(c));
    match found {
        Some(code) => format!("status_{code}"),
        None => "ko".to_owned(),
    }
}

fn truncate(line: &str) -> String {
    line.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = include_str!("../../tests/fixtures/gatling-simulation.log");

    #[test]
    fn requests_by_name_with_kos_and_exact_latencies() {
        let r = parse("simulation.log", LOG, LoadModel::Closed).unwrap();
        // The log does not say how users were injected: the caller does.
        assert_eq!(r.model, LoadModel::Closed);
        let open = parse("simulation.log", LOG, LoadModel::Open).unwrap();
        assert_eq!(open.model, LoadModel::Open);
        assert!(open.notes.iter().any(|n| n.contains("open injection")));
        assert_eq!(r.requests, Some(8));
        assert_eq!(r.errors, Some(2));
        assert_eq!(r.error_kinds["status_503"], 1);
        assert_eq!(r.error_kinds["ko"], 1);
        assert_eq!(r.statuses, None);
        assert_eq!(r.quantile(0.5), Some(12.0));
        assert_eq!(r.quantile(1.0), Some(1_204.0));
        assert_eq!(r.started_at.unwrap().timestamp_millis(), 1_795_168_800_000);
        let searches = r
            .samples
            .iter()
            .filter(|s| s.name.as_deref() == Some("search"));
        assert_eq!(searches.count(), 3);
    }

    #[test]
    fn older_layouts_read_the_same() {
        let v33 = "RUN\tsim.Ops\tops-1\t1795168800000\t \t3.3.1\nREQUEST\t1\t\tread\t1795168800010\t1795168800022\tOK\t \n";
        let v22 = "REQUEST\tops\t1\t\tread\t1795168800010\t1795168800022\tOK\t \n";
        let v20 = "ops\t1\tREQUEST\t\tread\t1795168800010\t1795168800011\t1795168800020\t1795168800022\tOK\t \n";
        for (label, text) in [("3.3", v33), ("2.2", v22), ("2.0", v20)] {
            let r = parse("s.log", text, LoadModel::Closed).unwrap();
            assert_eq!(r.quantile(1.0), Some(12.0), "{label}");
            assert_eq!(r.samples[0].name.as_deref(), Some("read"), "{label}");
        }
    }

    #[test]
    fn malformed_lines_name_the_file_and_line() {
        let bad = LOG.replacen("\tOK\t", "\tMAYBE\t", 1);
        let e = parse("s.log", &bad, LoadModel::Closed)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s.log:3:") && e.contains("OK or KO"), "{e}");
        let e = parse("s.log", "hello\tworld\n", LoadModel::Closed)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s.log:1:"), "{e}");
        let e = parse("s.log", "", LoadModel::Closed)
            .unwrap_err()
            .to_string();
        assert!(e.contains("binary"), "{e}");
        let back = "REQUEST\t\tread\t1795168800022\t1795168800010\tOK\t \n";
        assert!(parse("s.log", back, LoadModel::Closed)
            .unwrap_err()
            .to_string()
            .contains("before it starts"));
    }
}
