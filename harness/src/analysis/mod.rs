//! Judging across runs. In: a history of runs ([`history`]) or two sets of
//! records ([`compare`]). Out: an [`Analysis`] (trend by Mann-Kendall and
//! Sen's slope, change points, verdict, severity against the threshold,
//! likely causes with their evidence) or a [`compare::Comparison`].
//!
//! - [`history`]: records, folders and text histories → runs.
//! - [`stats`]: the statistics, pure functions.
//! - [`causes`]: likely causes from the server's metrics, or guesses from
//!   the shape of the change.
//! - [`compare`]: two records (or folders) on their full distributions.
//! - [`capacity`]: the knee of a load-against-p95 curve and a fit of the
//!   Universal Scalability Law, for capacity planning.

pub mod capacity;
pub mod causes;
pub mod compare;
pub mod history;
pub mod stats;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

pub use causes::{Cause, CauseKind, Confidence};
pub use history::{Run, ServerPoint};

use crate::error::Error;
use crate::scenario::Percentile;
use stats::{change_points, mann_kendall, median, noise_sd, sen_slope_fast};

/// The threshold used when neither a flag nor the records give one: REQ-PERF-401's p95 bound.
pub const DEFAULT_THRESHOLD_MS: f64 = 2000.0;
/// Significance level of the trend test.
pub const TREND_ALPHA: f64 = 0.05;
/// Significance level of the change-point permutation test.
pub const CHANGE_ALPHA: f64 = 0.01;
/// Histories at least this long are searched for change points.
pub const CHANGE_POINT_MIN_RUNS: usize = 8;

/// Which way things went, beyond the noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HistoryVerdict {
    Regression,
    Improvement,
    Stable,
}

impl fmt::Display for HistoryVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HistoryVerdict::Regression => "regression",
            HistoryVerdict::Improvement => "improvement",
            HistoryVerdict::Stable => "stable",
        })
    }
}

/// How urgent a history's state is, against its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        })
    }
}

/// A monotonic trend (Mann-Kendall, p < [`TREND_ALPHA`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    Increasing,
    Decreasing,
    None,
}

impl fmt::Display for Trend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Trend::Increasing => "increasing",
            Trend::Decreasing => "decreasing",
            Trend::None => "none",
        })
    }
}

/// The trend and shifts of one percentile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricAnalysis {
    pub baseline_ms: f64,
    pub latest_ms: f64,
    pub change_pct: f64,
    pub trend: Trend,
    pub p_value: f64,
    /// Sen's slope, ms per run.
    pub slope_ms_per_run: f64,
    pub change_points: Vec<ChangePointOut>,
    /// Run-to-run noise (2 standard deviations) in percent of the median level; `None` under 4 runs.
    pub noise_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangePointOut {
    /// 1-based run where the shift begins.
    pub run: usize,
    pub label: String,
    pub before_ms: f64,
    pub after_ms: f64,
    pub change_pct: f64,
    pub p_value: f64,
}

/// The analysis, as `--format json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub verdict: HistoryVerdict,
    pub severity: Severity,
    pub metric: Percentile,
    pub threshold_ms: f64,
    pub threshold_source: String,
    pub runs: usize,
    pub labels: Vec<String>,
    pub metrics: BTreeMap<Percentile, MetricAnalysis>,
    pub runs_to_threshold: Option<u64>,
    pub likely_causes: Vec<Cause>,
    pub causes_are_guesses: bool,
}

impl Analysis {
    /// Exit code of `analyze`: 1 for a regression or a broken threshold, else 0.
    pub fn exit_code(&self) -> u8 {
        let bad = self.verdict == HistoryVerdict::Regression || self.severity == Severity::Critical;
        u8::from(bad)
    }
}

pub(crate) fn pct(from: f64, to: f64) -> f64 {
    if from == 0.0 {
        0.0
    } else {
        (to - from) / from * 100.0
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn analyze_metric(values: &[f64], labels: &[String], seed: u64) -> MetricAnalysis {
    let n = values.len();
    let (baseline, latest) = (values[0], values[n - 1]);
    let mk = mann_kendall(values);
    let (slope, _) = sen_slope_fast(values);
    let level = median(&mut values.to_vec());
    let noise_pct = noise_sd(values, slope).map(|sd| 2.0 * sd / level.max(1e-9) * 100.0);
    let threshold = noise_pct.unwrap_or(5.0).max(1e-9);
    let trend = match (mk.p_value < TREND_ALPHA, slope) {
        (true, s) if s > 0.0 => Trend::Increasing,
        (true, s) if s < 0.0 => Trend::Decreasing,
        _ => Trend::None,
    };
    let change_points = if n >= CHANGE_POINT_MIN_RUNS {
        change_points(values, CHANGE_ALPHA, seed)
            .into_iter()
            .filter(|c| pct(c.before, c.after).abs() >= threshold)
            .map(|c| ChangePointOut {
                run: c.index + 1,
                label: labels[c.index].clone(),
                before_ms: round2(c.before),
                after_ms: round2(c.after),
                change_pct: round1(pct(c.before, c.after)),
                p_value: c.p_value,
            })
            .collect()
    } else {
        Vec::new()
    };
    MetricAnalysis {
        baseline_ms: baseline,
        latest_ms: latest,
        change_pct: round1(pct(baseline, latest)),
        trend,
        p_value: (mk.p_value * 10_000.0).round() / 10_000.0,
        slope_ms_per_run: round2(slope),
        change_points,
        noise_pct: noise_pct.map(round1),
    }
}

/// The change the fitted line (Sen's slope) makes over the history, in
/// percent of where it starts: its sign is the slope's. The start is the
/// line's own when positive, else the first run's: a line steeper than its
/// start is high (a regression that accelerates) has a negative fitted
/// start, which would flip the sign.
fn fitted_change_pct(values: &[f64], slope: f64, intercept: f64) -> f64 {
    let rise = slope * values.len().saturating_sub(1) as f64;
    let start = if intercept > 0.0 {
        intercept
    } else {
        values.first().copied().unwrap_or(0.0)
    };
    if start > 0.0 {
        rise / start * 100.0
    } else {
        0.0
    }
}

/// Which way a metric moved beyond its noise.
fn direction(m: &MetricAnalysis, values: &[f64]) -> HistoryVerdict {
    let noise = m.noise_pct.unwrap_or(5.0);
    let (slope, intercept) = sen_slope_fast(values);
    let fitted_change = fitted_change_pct(values, slope, intercept);
    let by_sign = |x: f64| {
        if x > 0.0 {
            HistoryVerdict::Regression
        } else {
            HistoryVerdict::Improvement
        }
    };
    let mut verdict = HistoryVerdict::Stable;
    if m.trend != Trend::None && fitted_change.abs() >= noise {
        verdict = by_sign(fitted_change);
    }
    if let Some(last) = m.change_points.last() {
        verdict = by_sign(last.change_pct);
    }
    // Under 5 runs Mann-Kendall cannot reach p < 0.05 (4 runs: p >= 2/24):
    // a change beyond the noise, in the direction of the runs' order, counts.
    let consistent =
        values.len() < 3 || mann_kendall(values).s.signum() == (m.change_pct.signum() as i64);
    if verdict == HistoryVerdict::Stable
        && values.len() < 5
        && consistent
        && m.change_pct.abs() >= noise.max(5.0)
    {
        verdict = by_sign(m.change_pct);
    }
    verdict
}

/// Where the threshold comes from: the flag, the records' p95 SLO, or REQ-PERF-401's.
fn threshold(runs: &[Run], flag: Option<f64>) -> (f64, String) {
    match flag {
        Some(t) => (t, "--threshold-ms".to_owned()),
        None => match runs.iter().rev().find_map(|r| r.threshold_ms) {
            Some(t) => (t, "the records' p95 SLO bound".to_owned()),
            None => (
                DEFAULT_THRESHOLD_MS,
                "default (REQ-PERF-401: p95 < 2000 ms)".to_owned(),
            ),
        },
    }
}

/// Analyses a history (oldest first) against a threshold on `metric`.
pub fn analyze(
    runs: &[Run],
    metric: Percentile,
    threshold_ms: Option<f64>,
) -> Result<Analysis, Error> {
    if runs.is_empty() {
        return Err(Error::Input("no runs to analyse".into()));
    }
    let (threshold, threshold_source) = threshold(runs, threshold_ms);
    let labels: Vec<String> = runs.iter().map(|r| r.label.clone()).collect();
    // A percentile is analysed when every run reports it (imported runs
    // may not); the one deciding the verdict must be.
    let series = |p: Percentile| -> Option<Vec<f64>> { runs.iter().map(|r| r.get(p)).collect() };
    if series(metric).is_none() {
        let missing = runs
            .iter()
            .find(|r| r.get(metric).is_none())
            .expect("one lacks it");
        return Err(Error::Input(format!(
            "run {:?} has no {metric}: its source did not report it, or none of its requests succeeded; analyse another percentile (--metric)",
            missing.label
        )));
    }
    let mut metrics = BTreeMap::new();
    let mut verdict = HistoryVerdict::Stable;
    for (i, p) in Percentile::ALL.into_iter().enumerate() {
        let Some(values) = series(p) else {
            continue;
        };
        let m = analyze_metric(&values, &labels, 0x5eed + i as u64);
        if p == metric {
            verdict = direction(&m, &values);
        }
        metrics.insert(p, m);
    }
    let main = &metrics[&metric];
    let values = series(metric).expect("checked above");
    let (slope, intercept) = sen_slope_fast(&values);
    let latest = main.latest_ms;
    let fitted_latest = intercept + slope * (values.len() - 1) as f64;
    let runs_to_threshold = if latest >= threshold {
        Some(0)
    } else if slope > 0.0 {
        let runs = ((threshold - fitted_latest.max(latest)) / slope).ceil();
        Some(runs.max(1.0) as u64)
    } else {
        None
    };
    let total_change = fitted_change_pct(&values, slope, intercept)
        .abs()
        .max(main.change_pct.abs());
    let severity = if latest >= threshold {
        Severity::Critical
    } else if verdict != HistoryVerdict::Regression {
        Severity::None
    } else if latest >= 0.75 * threshold || runs_to_threshold.is_some_and(|r| r <= 5) {
        Severity::High
    } else if main.trend == Trend::Increasing && total_change < 10.0 {
        Severity::Low
    } else {
        Severity::Medium
    };
    let regression = verdict == HistoryVerdict::Regression;
    let (likely_causes, guesses) = causes::likely(runs, &metrics, regression);
    Ok(Analysis {
        verdict,
        severity,
        metric,
        threshold_ms: threshold,
        threshold_source,
        runs: runs.len(),
        labels,
        metrics,
        runs_to_threshold,
        likely_causes,
        causes_are_guesses: guesses,
    })
}

#[cfg(test)]
pub(crate) mod tests;
