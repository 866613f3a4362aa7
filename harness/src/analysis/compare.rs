//! `harness compare BASE NEW`. In: two records, or two folders of repeated
//! runs whose histograms are merged. Out: per task and stage, percentile
//! deltas and whether each is a real difference, judged on the full
//! recorded distributions (two-sample Kolmogorov-Smirnov on the merged
//! histograms), not on the percentiles alone.

use std::collections::BTreeMap;
use std::path::Path;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::history::{read_history, read_records};
use super::stats::ks_histograms;
use super::HistoryVerdict;
use crate::error::Error;
use crate::histogram::{merged, Percentiles};
use crate::record::{RunRecord, TaskName};

/// Significance level of the distribution test.
pub const ALPHA: f64 = 0.01;
/// A percentile must also move at least this much (percent) to count.
pub const MIN_CHANGE_PCT: f64 = 5.0;

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
    pub ks_d: f64,
    pub ks_p_value: f64,
    pub p50: PercentileDelta,
    pub p95: PercentileDelta,
    pub p99: PercentileDelta,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub base_runs: usize,
    pub new_runs: usize,
    /// `regression` (a real p95 increase in a steady row), `improvement`, or `stable`.
    pub verdict: HistoryVerdict,
    pub rows: Vec<RowComparison>,
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

/// One (stage, task) row of one side, its runs' histograms merged.
struct Side {
    histogram: Histogram<u64>,
    requests: u64,
    steady: bool,
}

/// Every (stage, task) row of a side's records, merged across them.
fn sides(records: &[RunRecord]) -> BTreeMap<(String, TaskName), Side> {
    let mut rows: BTreeMap<(String, TaskName), Vec<&crate::record::TaskRecord>> = BTreeMap::new();
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
            let side = Side {
                histogram: merged(rows.iter().map(|t| &t.histogram.0)),
                requests: rows.iter().map(|t| t.requests).sum(),
                steady: steady[&key.0],
            };
            (key, side)
        })
        .collect()
}

fn delta(base: f64, new: f64, differ: bool) -> PercentileDelta {
    let change = if base > 0.0 {
        (new - base) / base * 100.0
    } else {
        0.0
    };
    PercentileDelta {
        base_ms: base,
        new_ms: new,
        change_pct: (change * 10.0).round() / 10.0,
        real: differ && change.abs() >= MIN_CHANGE_PCT,
    }
}

pub fn compare(base: &Path, new: &Path) -> Result<Comparison, Error> {
    let (b, n) = (load(base)?, load(new)?);
    let (sb, sn) = (sides(&b), sides(&n));
    let mut rows = Vec::new();
    let (mut worse, mut better) = (false, false);
    for (key, base) in &sb {
        let Some(new) = sn.get(key) else {
            continue;
        };
        let (hb, hn) = (&base.histogram, &new.histogram);
        let (d, p) = ks_histograms(hb, hn);
        let differ = p < ALPHA;
        let (pb, pn) = (Percentiles::of(hb), Percentiles::of(hn));
        let row = RowComparison {
            stage: key.0.clone(),
            task: key.1.clone(),
            base_requests: base.requests,
            new_requests: new.requests,
            ks_d: (d * 10_000.0).round() / 10_000.0,
            ks_p_value: p,
            p50: delta(pb.p50_ms, pn.p50_ms, differ),
            p95: delta(pb.p95_ms, pn.p95_ms, differ),
            p99: delta(pb.p99_ms, pn.p99_ms, differ),
        };
        if base.steady && row.p95.real {
            if row.p95.change_pct > 0.0 {
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
    Ok(Comparison {
        base_runs: b.len(),
        new_runs: n.len(),
        verdict,
        rows,
    })
}

impl Comparison {
    /// Exit code of `compare`: 1 when a steady p95 got really worse.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.verdict == HistoryVerdict::Regression)
    }
}
