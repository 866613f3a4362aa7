//! `harness compare BASE NEW`: per task and stage, percentile deltas and
//! whether each is a real difference, judged on the full recorded
//! distributions (two-sample Kolmogorov-Smirnov on the merged histograms),
//! not on the percentiles alone. BASE and NEW are a record each, or a folder
//! of repeated runs whose histograms are merged.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::analysis::{read_history, read_records};
use crate::collector::new_histogram;
use crate::error::Error;
use crate::record::{Percentiles, RunRecord};
use crate::stats::ks_histograms;

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
    pub task: String,
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
    pub verdict: String,
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

/// Merged histograms per (stage, task), and whether the stage is steady.
fn merged(records: &[RunRecord]) -> BTreeMap<(String, String), (Histogram<u64>, u64, bool)> {
    let mut out: BTreeMap<(String, String), (Histogram<u64>, u64, bool)> = BTreeMap::new();
    for r in records {
        for t in &r.tasks {
            let steady = r.stages.iter().any(|s| s.name == t.stage && s.steady);
            let e = out
                .entry((t.stage.clone(), t.name.clone()))
                .or_insert_with(|| (new_histogram(), 0, steady));
            let _ = e.0.add(&t.histogram.0);
            e.1 += t.requests;
        }
    }
    out
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
    let (mb, mn) = (merged(&b), merged(&n));
    let mut rows = Vec::new();
    let (mut worse, mut better) = (false, false);
    for (key, (hb, reqs_b, steady)) in &mb {
        let Some((hn, reqs_n, _)) = mn.get(key) else {
            continue;
        };
        let (d, p) = ks_histograms(hb, hn);
        let differ = p < ALPHA;
        let (pb, pn) = (Percentiles::of(hb), Percentiles::of(hn));
        let row = RowComparison {
            stage: key.0.clone(),
            task: key.1.clone(),
            base_requests: *reqs_b,
            new_requests: *reqs_n,
            ks_d: (d * 10_000.0).round() / 10_000.0,
            ks_p_value: p,
            p50: delta(pb.p50_ms, pn.p50_ms, differ),
            p95: delta(pb.p95_ms, pn.p95_ms, differ),
            p99: delta(pb.p99_ms, pn.p99_ms, differ),
        };
        if *steady && row.p95.real {
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
    Ok(Comparison {
        base_runs: b.len(),
        new_runs: n.len(),
        verdict: if worse {
            "regression"
        } else if better {
            "improvement"
        } else {
            "stable"
        }
        .to_owned(),
        rows,
    })
}

pub fn render_text(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "base: {} run(s), new: {} run(s); a difference is real when the distributions differ (KS p < {ALPHA}) and the percentile moved {MIN_CHANGE_PCT}% or more\n", c.base_runs, c.new_runs);
    let _ = writeln!(
        out,
        "{:<14} {:<18} {:>9} {:>9} {:>26} {:>26} {:>26}",
        "stage", "task", "base n", "new n", "p50 ms", "p95 ms", "p99 ms"
    );
    let cell = |d: &PercentileDelta| {
        format!(
            "{:.1}->{:.1} {:+.0}%{}",
            d.base_ms,
            d.new_ms,
            d.change_pct,
            if d.real { " *" } else { "" }
        )
    };
    for r in &c.rows {
        let _ = writeln!(
            out,
            "{:<14} {:<18} {:>9} {:>9} {:>26} {:>26} {:>26}",
            r.stage,
            r.task,
            r.base_requests,
            r.new_requests,
            cell(&r.p50),
            cell(&r.p95),
            cell(&r.p99)
        );
    }
    let _ = writeln!(
        out,
        "\n* real difference.  verdict: {}",
        c.verdict.to_uppercase()
    );
    out
}
