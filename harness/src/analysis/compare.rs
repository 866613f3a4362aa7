//! `harness compare BASE NEW`. In: two records, or two folders of repeated
//! runs whose histograms are merged. Out: per task and stage, percentile
//! deltas and whether each is a real difference, judged on the full
//! recorded distributions (two-sample Kolmogorov-Smirnov on the merged
//! histograms), not on the percentiles alone.
//!
//! Records imported from summary-only sources have no histograms: such a
//! row is compared on the percentiles its sources reported (the median of
//! each side's runs), and a move counts as real only from
//! [`SUMMARY_MIN_CHANGE_PCT`], as no distribution can back it. Two sides
//! with no stage in common (a tool's import beside a harness run) are
//! compared on their steady windows, as one row named `steady`.

use std::collections::BTreeMap;
use std::path::Path;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::history::{read_history, read_records};
use super::stats::ks_histograms;
use super::HistoryVerdict;
use crate::error::Error;
use crate::histogram::{merged, Percentiles};
use crate::record::{Latency, LatencyBasis, RunRecord, TaskName, TaskRecord};

/// Significance level of the distribution test.
pub const ALPHA: f64 = 0.01;
/// A percentile must also move at least this much (percent) to count.
pub const MIN_CHANGE_PCT: f64 = 5.0;
/// Without distributions (summary-only sources), a percentile must move
/// this much (percent) to count.
pub const SUMMARY_MIN_CHANGE_PCT: f64 = 10.0;
/// The row two sides with no stage in common are compared on.
pub const STEADY_ROW: &str = "steady";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PercentileDelta {
    pub base_ms: f64,
    pub new_ms: f64,
    pub change_pct: f64,
    /// Real: the distributions differ (KS p < 0.01) and this percentile moved at least 5%.
    pub real: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowComparison {
    pub stage: String,
    pub task: TaskName,
    pub base_requests: u64,
    pub new_requests: u64,
    /// `histograms` when both sides have every response's latency;
    /// `reported_percentiles` when a side has only a tool's summary.
    pub basis: LatencyBasis,
    /// The KS statistic and p-value (histograms only).
    pub ks_d: Option<f64>,
    pub ks_p_value: Option<f64>,
    /// Each percentile's move, absent when a side does not report it.
    pub p50: Option<PercentileDelta>,
    pub p95: Option<PercentileDelta>,
    pub p99: Option<PercentileDelta>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub base_runs: usize,
    pub new_runs: usize,
    /// `regression` (a real p95 increase in a steady row), `improvement`, or `stable`.
    pub verdict: HistoryVerdict,
    pub rows: Vec<RowComparison>,
    /// Each side's slowest requests of the steady window, with trace ids
    /// (records of schema 8 on; a side of several runs: the slowest of all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub base_slowest: Vec<crate::record::slowest::SlowRequest>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new_slowest: Vec<crate::record::slowest::SlowRequest>,
}

fn load(path: &Path) -> Result<Vec<RunRecord>, Error> {
    if path.is_dir() {
        let r = read_history(path)?;
        if r.is_empty() {
            return Err(Error::Input(format!("{}: no run records", path.display())));
        }
        Ok(r)
    } else {
        read_records(&[path.to_owned()])
    }
}

/// One (stage, task) row of one side: its runs' histograms merged, or,
/// when a run has none, the median of what each run reported.
struct Side {
    histogram: Option<Histogram<u64>>,
    reported: Latency,
    requests: u64,
    errors: u64,
    steady: bool,
}

/// Each figure's median over the rows that report it in every row.
fn median_reported(rows: &[&TaskRecord]) -> Latency {
    let med = |f: fn(&Latency) -> Option<f64>| -> Option<f64> {
        let mut v: Vec<f64> = rows.iter().map(|r| f(&r.latency)).collect::<Option<_>>()?;
        (!v.is_empty()).then(|| super::stats::median(&mut v))
    };
    Latency {
        p50_ms: med(|l| l.p50_ms),
        p95_ms: med(|l| l.p95_ms),
        p99_ms: med(|l| l.p99_ms),
        max_ms: med(|l| l.max_ms),
        mean_ms: med(|l| l.mean_ms),
    }
}

/// Every (stage, task) row of a side's records, merged across them.
fn sides(records: &[RunRecord]) -> BTreeMap<(String, TaskName), Side> {
    let mut rows: BTreeMap<(String, TaskName), Vec<&TaskRecord>> = BTreeMap::new();
    let mut steady: BTreeMap<String, bool> = BTreeMap::new();
    for r in records {
        for t in &r.tasks {
            rows.entry((t.stage.clone(), t.name.clone()))
                .or_default()
                .push(t);
            steady
                .entry(t.stage.clone())
                .or_insert_with(|| r.is_steady(&t.stage));
        }
    }
    rows.into_iter()
        .map(|(key, rows)| {
            let side = side_of(&rows, steady[&key.0]);
            (key, side)
        })
        .collect()
}

/// Rows of one (stage, task) across a side's records, as one side.
fn side_of(rows: &[&TaskRecord], steady: bool) -> Side {
    let all = rows.iter().all(|t| t.histogram.is_some());
    Side {
        histogram: all.then(|| {
            merged(
                rows.iter()
                    .filter_map(|t| t.histogram.as_ref())
                    .map(|h| &h.0),
            )
        }),
        reported: median_reported(rows),
        requests: rows.iter().map(|t| t.requests).sum(),
        errors: rows.iter().map(|t| t.errors).sum(),
        steady,
    }
}

/// A side's steady windows as one row (`steady`, `ALL`): what two sides
/// share when their stages differ (another tool's import beside a run).
fn steady_side(records: &[RunRecord]) -> Side {
    let rows: Vec<TaskRecord> = records
        .iter()
        .map(|r| TaskRecord {
            class: None,
            name: TaskName::All,
            stage: STEADY_ROW.to_owned(),
            requests: r.steady.requests,
            errors: r.steady.errors,
            rps: r.steady.rps,
            latency: r.steady.latency,
            histogram: r.steady.histogram.clone(),
        })
        .collect();
    side_of(&rows.iter().collect::<Vec<_>>(), true)
}

fn delta(base: f64, new: f64, differ: bool, min_change: f64) -> PercentileDelta {
    let change = if base > 0.0 {
        (new - base) / base * 100.0
    } else {
        0.0
    };
    PercentileDelta {
        base_ms: base,
        new_ms: new,
        change_pct: (change * 10.0).round() / 10.0,
        real: differ && change.abs() >= min_change,
    }
}

/// One row: on the distributions when both sides have histograms, else
/// on the percentiles they reported.
fn row_of(key: &(String, TaskName), base: &Side, new: &Side) -> RowComparison {
    let (stage, task) = (key.0.clone(), key.1.clone());
    let (base_requests, new_requests) = (base.requests, new.requests);
    if let (Some(hb), Some(hn)) = (&base.histogram, &new.histogram) {
        let (d, p) = ks_histograms(hb, hn);
        let differ = p < ALPHA;
        let (pb, pn) = (Percentiles::of(hb), Percentiles::of(hn));
        let pair = |b: f64, n: f64| Some(delta(b, n, differ, MIN_CHANGE_PCT));
        return RowComparison {
            stage,
            task,
            base_requests,
            new_requests,
            basis: LatencyBasis::Histograms,
            ks_d: Some((d * 10_000.0).round() / 10_000.0),
            ks_p_value: Some(p),
            p50: pair(pb.p50_ms, pn.p50_ms),
            p95: pair(pb.p95_ms, pn.p95_ms),
            p99: pair(pb.p99_ms, pn.p99_ms),
        };
    }
    let (lb, ln) = (side_latency(base), side_latency(new));
    let pair = |b: Option<f64>, n: Option<f64>| Some(delta(b?, n?, true, SUMMARY_MIN_CHANGE_PCT));
    RowComparison {
        stage,
        task,
        base_requests,
        new_requests,
        basis: LatencyBasis::ReportedPercentiles,
        ks_d: None,
        ks_p_value: None,
        p50: pair(lb.p50_ms, ln.p50_ms),
        p95: pair(lb.p95_ms, ln.p95_ms),
        p99: pair(lb.p99_ms, ln.p99_ms),
    }
}

pub fn compare(base: &Path, new: &Path) -> Result<Comparison, Error> {
    let (b, n) = (load(base)?, load(new)?);
    let (mut sb, mut sn) = (sides(&b), sides(&n));
    if !sb.keys().any(|k| sn.contains_key(k)) {
        // No stage in common (an import beside a run): their steady windows.
        let key = (STEADY_ROW.to_owned(), TaskName::All);
        sb = BTreeMap::from([(key.clone(), steady_side(&b))]);
        sn = BTreeMap::from([(key, steady_side(&n))]);
    }
    let mut rows = Vec::new();
    let (mut worse, mut better) = (false, false);
    for (key, base) in &sb {
        let Some(new) = sn.get(key) else {
            continue;
        };
        let row = row_of(key, base, new);
        if let Some(p95) = row.p95.as_ref().filter(|d| base.steady && d.real) {
            if p95.change_pct > 0.0 {
                worse = true;
            } else {
                better = true;
            }
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(Error::Input(
            "the two sides share no stage and task to compare".into(),
        ));
    }
    let verdict = if worse {
        HistoryVerdict::Regression
    } else if better {
        HistoryVerdict::Improvement
    } else {
        HistoryVerdict::Stable
    };
    let slowest =
        |rs: &[RunRecord]| crate::record::slowest::merged(rs.iter().map(|r| r.slowest.as_slice()));
    Ok(Comparison {
        base_slowest: slowest(&b),
        new_slowest: slowest(&n),
        base_runs: b.len(),
        new_runs: n.len(),
        verdict,
        rows,
    })
}

/// A side's figures: from its histograms, else as reported.
fn side_latency(side: &Side) -> Latency {
    match &side.histogram {
        Some(h) => Latency::of(h, side.requests, side.errors),
        None => side.reported,
    }
}

impl Comparison {
    /// Exit code of `compare`: 1 when a steady p95 got really worse.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.verdict == HistoryVerdict::Regression)
    }
}
