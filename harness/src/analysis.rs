//! Regression analysis across runs: a history of steady p50/p95/p99 (from
//! run records, a folder of them, or plain text in the seed document's form
//! or CSV) → trend (Mann-Kendall, Sen's slope), change points, verdict,
//! severity against the threshold, and likely causes with their evidence.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Error;
use crate::record::RunRecord;
use crate::stats::{change_points, mann_kendall, median, noise_sd, sen_slope_fast};

/// The threshold used when neither a flag nor the records give one: REQ-PERF-401's p95 bound.
pub const DEFAULT_THRESHOLD_MS: f64 = 2000.0;
/// Significance level of the trend test.
pub const TREND_ALPHA: f64 = 0.05;
/// Significance level of the change-point permutation test.
pub const CHANGE_ALPHA: f64 = 0.01;
/// Histories at least this long are searched for change points.
pub const CHANGE_POINT_MIN_RUNS: usize = 8;

/// What the server measured in one run (steady window, all routes together).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerPoint {
    pub db_queries_per_request: f64,
    pub db_ms_per_request: f64,
    pub upstream_ms_per_request: f64,
    pub rss_bytes_start: u64,
    pub rss_bytes_end: u64,
    pub missions: u64,
    /// Per route: (db queries, db ms, upstream ms) per request.
    pub routes: BTreeMap<String, (f64, f64, f64)>,
}

/// One run of a history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub label: String,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub error_rate: Option<f64>,
    pub started_at: Option<String>,
    pub scenario: Option<String>,
    pub verdict: Option<String>,
    pub threshold_ms: Option<f64>,
    pub server: Option<ServerPoint>,
}

impl Run {
    pub fn from_record(r: &RunRecord) -> Self {
        let server = r.server.as_ref().map(|s| {
            let count: u64 = s.routes.values().map(|w| w.count).sum();
            let weighted = |f: fn(&crate::server::RouteWindow) -> f64| -> f64 {
                if count == 0 {
                    0.0
                } else {
                    s.routes
                        .values()
                        .map(|w| f(w) * w.count as f64)
                        .sum::<f64>()
                        / count as f64
                }
            };
            ServerPoint {
                db_queries_per_request: weighted(|w| w.db_queries_per_request),
                db_ms_per_request: weighted(|w| w.db_ms_per_request),
                upstream_ms_per_request: weighted(|w| w.upstream_ms_per_request),
                rss_bytes_start: s.rss_bytes_start,
                rss_bytes_end: s.rss_bytes_end,
                missions: s.missions,
                routes: s
                    .routes
                    .iter()
                    .filter(|(_, w)| w.count > 0)
                    .map(|(k, w)| {
                        (
                            k.clone(),
                            (
                                w.db_queries_per_request,
                                w.db_ms_per_request,
                                w.upstream_ms_per_request,
                            ),
                        )
                    })
                    .collect(),
            }
        });
        Self {
            label: r.label.clone().unwrap_or_else(|| r.started_at.clone()),
            p50: r.steady.latency.p50_ms,
            p95: r.steady.latency.p95_ms,
            p99: r.steady.latency.p99_ms,
            error_rate: Some(r.steady.error_rate),
            started_at: Some(r.started_at.clone()),
            scenario: Some(r.scenario.clone()),
            verdict: Some(r.verdict.clone()),
            threshold_ms: r.slos.iter().find(|s| s.metric == "p95").map(|s| s.bound),
            server,
        }
    }
}

/// Run records in a folder, oldest first (by `started_at`).
pub fn read_history(dir: &Path) -> Result<Vec<RunRecord>, Error> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::Io(format!("cannot read {}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut records = paths
        .iter()
        .map(|p| RunRecord::read(p))
        .collect::<Result<Vec<_>, _>>()?;
    records.sort_by(|a, b| a.started_at.cmp(&b.started_at));
    Ok(records)
}

/// Records from files and folders, oldest first.
pub fn read_records(paths: &[PathBuf]) -> Result<Vec<RunRecord>, Error> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            out.extend(read_history(p)?);
        } else {
            out.push(RunRecord::read(p)?);
        }
    }
    out.sort_by(|a, b| a.started_at.cmp(&b.started_at));
    Ok(out)
}

fn parse_ms(v: &str) -> Option<f64> {
    let v = v.trim();
    let (num, scale) = if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (v, 1.0)
    };
    num.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x >= 0.0)
        .map(|x| x * scale)
}

/// Parses a plain history: the seed document's form (`Run 1 (baseline):
/// p50=150ms, p95=450ms, p99=800ms`, the label optional) or CSV
/// (`label,p50_ms,p95_ms,p99_ms`, a header line allowed). Blank lines and
/// lines starting with `#` are skipped; anything else malformed is an error
/// naming the line.
pub fn parse_text_history(file: &str, text: &str) -> Result<Vec<Run>, Error> {
    let mut runs = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let n = i + 1;
        if line.is_empty() || line.starts_with('#') || line.starts_with("```") {
            continue;
        }
        let bad = |why: &str| Error::Input(format!("{file}:{n}: {why}: {line:?}"));
        if line.to_ascii_lowercase().starts_with("label,") {
            continue;
        }
        let (label, p50, p95, p99) = if line.contains('=') {
            let (head, tail) = line
                .split_once(':')
                .ok_or_else(|| bad("expected 'Run N (label): p50=..ms, p95=..ms, p99=..ms'"))?;
            let label = match (head.find('('), head.rfind(')')) {
                (Some(a), Some(b)) if b > a => {
                    format!("{} ({})", head[..a].trim(), head[a + 1..b].trim())
                }
                _ => head.trim().to_owned(),
            };
            let mut vals: BTreeMap<&str, f64> = BTreeMap::new();
            for part in tail.split(',') {
                let (k, v) = part
                    .split_once('=')
                    .ok_or_else(|| bad("expected key=value pairs"))?;
                let k = k.trim();
                if !matches!(k, "p50" | "p95" | "p99") {
                    return Err(bad(&format!(
                        "unknown percentile {k:?}; expected p50, p95, p99"
                    )));
                }
                vals.insert(
                    k,
                    parse_ms(v)
                        .ok_or_else(|| bad(&format!("{k}: {v:?} is not a duration in ms")))?,
                );
            }
            let get = |k: &str| {
                vals.get(k)
                    .copied()
                    .ok_or_else(|| bad(&format!("missing {k}")))
            };
            (label, get("p50")?, get("p95")?, get("p99")?)
        } else {
            let cols: Vec<&str> = line.split(',').map(str::trim).collect();
            if cols.len() != 4 {
                return Err(bad("expected 4 CSV columns: label,p50_ms,p95_ms,p99_ms"));
            }
            let num = |i: usize, name: &str| {
                parse_ms(cols[i])
                    .ok_or_else(|| bad(&format!("{name}: {:?} is not a number", cols[i])))
            };
            (
                cols[0].to_owned(),
                num(1, "p50_ms")?,
                num(2, "p95_ms")?,
                num(3, "p99_ms")?,
            )
        };
        runs.push(Run {
            label,
            p50,
            p95,
            p99,
            error_rate: None,
            started_at: None,
            scenario: None,
            verdict: None,
            threshold_ms: None,
            server: None,
        });
    }
    if runs.is_empty() {
        return Err(Error::Input(format!("{file}: no runs found")));
    }
    Ok(runs)
}

/// The trend and shifts of one percentile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricAnalysis {
    pub baseline_ms: f64,
    pub latest_ms: f64,
    pub change_pct: f64,
    /// `increasing`, `decreasing` or `none`.
    pub trend: String,
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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cause {
    pub cause: String,
    pub evidence: String,
    /// `high`, `medium`, `low`, or `guess` when no server metrics back it.
    pub confidence: String,
}

/// The analysis, as `--format json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub verdict: String,
    pub severity: String,
    pub metric: String,
    pub threshold_ms: f64,
    pub threshold_source: String,
    pub runs: usize,
    pub labels: Vec<String>,
    pub metrics: BTreeMap<String, MetricAnalysis>,
    pub runs_to_threshold: Option<u64>,
    pub likely_causes: Vec<Cause>,
    pub causes_are_guesses: bool,
}

fn pct(from: f64, to: f64) -> f64 {
    if from == 0.0 {
        0.0
    } else {
        (to - from) / from * 100.0
    }
}

fn analyze_metric(values: &[f64], labels: &[String], seed: u64) -> MetricAnalysis {
    let n = values.len();
    let baseline = values[0];
    let latest = values[n - 1];
    let mk = mann_kendall(values);
    let (slope, _) = sen_slope_fast(values);
    let level = median(&mut values.to_vec());
    let noise_pct = noise_sd(values, slope).map(|sd| 2.0 * sd / level.max(1e-9) * 100.0);
    let threshold = noise_pct.unwrap_or(5.0).max(1e-9);
    let trend = if mk.p_value < TREND_ALPHA && slope != 0.0 {
        if slope > 0.0 {
            "increasing"
        } else {
            "decreasing"
        }
    } else {
        "none"
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
        trend: trend.to_owned(),
        p_value: (mk.p_value * 10_000.0).round() / 10_000.0,
        slope_ms_per_run: round2(slope),
        change_points,
        noise_pct: noise_pct.map(round1),
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Which way a metric moved beyond its noise: +1 worse, -1 better, 0 neither.
fn direction(m: &MetricAnalysis, values: &[f64]) -> i32 {
    let noise = m.noise_pct.unwrap_or(5.0);
    let (slope, intercept) = sen_slope_fast(values);
    let fitted_start = intercept;
    let fitted_change = pct(fitted_start, intercept + slope * (values.len() - 1) as f64);
    let mut score = 0;
    if m.trend != "none" && fitted_change.abs() >= noise {
        score = if fitted_change > 0.0 { 1 } else { -1 };
    }
    if let Some(last) = m.change_points.last() {
        score = if last.change_pct > 0.0 { 1 } else { -1 };
    }
    // Under 5 runs Mann-Kendall cannot reach p < 0.05 (4 runs: p >= 2/24):
    // a change beyond the noise, in the direction of the runs' order, counts.
    let consistent =
        values.len() < 3 || mann_kendall(values).s.signum() == (m.change_pct.signum() as i64);
    if score == 0 && values.len() < 5 && consistent && m.change_pct.abs() >= noise.max(5.0) {
        score = if m.change_pct > 0.0 { 1 } else { -1 };
    }
    score
}

/// Analyses a history (oldest first) against a threshold on `metric`.
pub fn analyze(runs: &[Run], metric: &str, threshold_ms: Option<f64>) -> Result<Analysis, Error> {
    if runs.is_empty() {
        return Err(Error::Input("no runs to analyse".into()));
    }
    if !matches!(metric, "p50" | "p95" | "p99") {
        return Err(Error::Usage(format!(
            "--metric must be p50, p95 or p99, got {metric:?}"
        )));
    }
    let (threshold, source) = match threshold_ms {
        Some(t) => (t, "--threshold-ms".to_owned()),
        None => match runs.iter().rev().find_map(|r| r.threshold_ms) {
            Some(t) => (t, "the records' p95 SLO bound".to_owned()),
            None => (
                DEFAULT_THRESHOLD_MS,
                "default (REQ-PERF-401: p95 < 2000 ms)".to_owned(),
            ),
        },
    };
    let labels: Vec<String> = runs.iter().map(|r| r.label.clone()).collect();
    let series = |name: &str| -> Vec<f64> {
        runs.iter()
            .map(|r| match name {
                "p50" => r.p50,
                "p95" => r.p95,
                _ => r.p99,
            })
            .collect()
    };
    let mut metrics = BTreeMap::new();
    let mut directions = BTreeMap::new();
    for (i, name) in ["p50", "p95", "p99"].iter().enumerate() {
        let values = series(name);
        let m = analyze_metric(&values, &labels, 0x5eed + i as u64);
        directions.insert(*name, direction(&m, &values));
        metrics.insert(name.to_string(), m);
    }
    let main = &metrics[metric];
    let values = series(metric);
    let dir = directions[metric];
    let verdict = match dir {
        1 => "regression",
        -1 => "improvement",
        _ => "stable",
    };
    let (slope, intercept) = sen_slope_fast(&values);
    let n = values.len();
    let latest = main.latest_ms;
    let fitted_latest = intercept + slope * (n - 1) as f64;
    let runs_to_threshold = if latest >= threshold {
        Some(0)
    } else if slope > 0.0 {
        Some(
            ((threshold - fitted_latest.max(latest)) / slope)
                .ceil()
                .max(1.0) as u64,
        )
    } else {
        None
    };
    let total_change = pct(intercept, fitted_latest)
        .abs()
        .max(main.change_pct.abs());
    let severity = if latest >= threshold {
        "critical"
    } else if verdict != "regression" {
        "none"
    } else if latest >= 0.75 * threshold || runs_to_threshold.is_some_and(|r| r <= 5) {
        "high"
    } else if main.trend == "increasing" && total_change < 10.0 {
        "low"
    } else {
        "medium"
    };
    let (likely_causes, guesses) = likely_causes(runs, &metrics, verdict == "regression");
    Ok(Analysis {
        verdict: verdict.to_owned(),
        severity: severity.to_owned(),
        metric: metric.to_owned(),
        threshold_ms: threshold,
        threshold_source: source,
        runs: runs.len(),
        labels,
        metrics,
        runs_to_threshold,
        likely_causes,
        causes_are_guesses: guesses,
    })
}

fn ratio(a: f64, b: f64) -> f64 {
    if a <= 0.0 {
        if b > 0.0 {
            f64::INFINITY
        } else {
            1.0
        }
    } else {
        b / a
    }
}

/// Ranks causes: from the server's metrics when the history has them
/// (baseline vs latest), else from the shape of the change (a guess).
fn likely_causes(
    runs: &[Run],
    metrics: &BTreeMap<String, MetricAnalysis>,
    regression: bool,
) -> (Vec<Cause>, bool) {
    let servers: Vec<&ServerPoint> = runs.iter().filter_map(|r| r.server.as_ref()).collect();
    if servers.len() >= 2 {
        let (first, last) = (servers[0], servers[servers.len() - 1]);
        // The route whose figure moved most.
        let route_change = |f: fn(&(f64, f64, f64)) -> f64| -> Option<(String, f64, f64)> {
            last.routes
                .iter()
                .filter_map(|(k, v)| first.routes.get(k).map(|b| (k.clone(), f(b), f(v))))
                .max_by(|a, b| (a.2 - a.1).total_cmp(&(b.2 - b.1)))
        };
        let mut found: Vec<(f64, Cause)> = Vec::new();
        if let Some((route, a, b)) = route_change(|v| v.0) {
            if b >= a * 1.5 && b - a >= 1.0 {
                found.push((ratio(a, b), Cause {
                    cause: "N+1 queries".into(),
                    evidence: format!("{route}: db_queries_per_request {a:.1} -> {b:.1} ({:.1}x) from the first run to the latest", ratio(a, b)),
                    confidence: "high".into(),
                }));
            }
        }
        let q_ratio = ratio(first.db_queries_per_request, last.db_queries_per_request);
        if let Some((route, a, b)) = route_change(|v| v.1) {
            if b >= a * 1.5 && b - a >= 0.2 && (0.8..=1.25).contains(&q_ratio) {
                let growth = if last.missions > first.missions {
                    format!("; missions {} -> {}", first.missions, last.missions)
                } else {
                    String::new()
                };
                found.push((ratio(a, b), Cause {
                    cause: "missing index / data growth".into(),
                    evidence: format!("{route}: db_ms_per_request {a:.2} -> {b:.2} ms at the same query count{growth}"),
                    confidence: "high".into(),
                }));
            }
        }
        let rss: Vec<f64> = servers.iter().map(|s| s.rss_bytes_end as f64).collect();
        let within: Vec<f64> = servers
            .iter()
            .map(|s| s.rss_bytes_end as f64 - s.rss_bytes_start as f64)
            .collect();
        let growth = rss[rss.len() - 1] - rss[0];
        let mib = |b: f64| b / 1024.0 / 1024.0;
        if growth > 64.0 * 1024.0 * 1024.0
            || within.last().is_some_and(|w| *w > 64.0 * 1024.0 * 1024.0)
        {
            found.push((1.0 + mib(growth.max(*within.last().unwrap_or(&0.0))) / 64.0, Cause {
                cause: "memory leak / GC pressure".into(),
                evidence: format!(
                    "rss_bytes climbing: {:.0} MiB at the end of the first run, {:.0} MiB at the end of the latest ({:+.0} MiB within the latest steady window)",
                    mib(rss[0]),
                    mib(rss[rss.len() - 1]),
                    mib(*within.last().unwrap_or(&0.0))
                ),
                confidence: "high".into(),
            }));
        }
        if let Some((route, a, b)) = route_change(|v| v.2) {
            if b - a >= 2.0 && b >= a * 1.5 {
                found.push((
                    ratio(a.max(0.5), b),
                    Cause {
                        cause: "slow dependency".into(),
                        evidence: format!("{route}: upstream_ms_per_request {a:.1} -> {b:.1} ms"),
                        confidence: "high".into(),
                    },
                ));
            }
        }
        found.sort_by(|a, b| b.0.total_cmp(&a.0));
        return (found.into_iter().map(|(_, c)| c).collect(), false);
    }
    if !regression {
        return (Vec::new(), true);
    }
    let p50 = metrics["p50"].change_pct;
    let p99 = metrics["p99"].change_pct;
    let tails_faster = p99 > p50 * 1.3 && p99 > 0.0;
    let shape = format!("p50 {p50:+.0}%, p99 {p99:+.0}%");
    let mut causes = vec![
        ("missing index / data growth", "Data growth without proper indexing: check query plans and database time per request", "all percentiles rising points to more work per request"),
        ("memory leak / GC pressure", "Memory leak causing GC or allocator pressure: review heap/RSS trends", "tails growing faster than the median point to pauses or memory pressure"),
        ("N+1 queries", "Inefficient queries introduced in recent changes: check N+1 query patterns (queries per request)", "more work per request raises every percentile"),
        ("slow dependency", "Increased external API latency: review dependency response times", "a slower dependency adds to every request that calls it"),
        ("contention / queueing", "Contention or queueing (locks, pools, CPU): compare throughput and saturation", "tails growing faster than the median point to waiting"),
    ];
    if tails_faster {
        causes.sort_by_key(|c| match c.0 {
            "memory leak / GC pressure" => 0,
            "missing index / data growth" => 1,
            "contention / queueing" => 2,
            "N+1 queries" => 3,
            _ => 4,
        });
    }
    let list = causes
        .into_iter()
        .map(|(cause, what, why)| Cause {
            cause: cause.into(),
            evidence: format!("{what}. Shape of the change ({shape}): {why}. No server metrics in the history: this is a guess."),
            confidence: "guess".into(),
        })
        .collect();
    (list, true)
}

/// The text report, in the seed document's style.
pub fn render_text(a: &Analysis) -> String {
    let mut out = String::new();
    let headline = match a.verdict.as_str() {
        "regression" => "PERFORMANCE REGRESSION DETECTED",
        "improvement" => "PERFORMANCE IMPROVEMENT",
        _ => "NO SIGNIFICANT CHANGE",
    };
    let _ = writeln!(out, "{headline}\n");
    let directions: Vec<&str> = a.metrics.values().map(|m| m.trend.as_str()).collect();
    let summary = if directions.iter().all(|d| *d == "increasing") {
        "steady degradation across all percentiles"
    } else if directions.iter().all(|d| *d == "decreasing") {
        "steady improvement across all percentiles"
    } else if directions.iter().all(|d| *d == "none") {
        "no significant trend"
    } else {
        "mixed"
    };
    let _ = writeln!(
        out,
        "Trend over {} runs ({} -> {}): {summary}",
        a.runs,
        a.labels[0],
        a.labels[a.runs - 1]
    );
    for (name, m) in &a.metrics {
        let verb = if m.change_pct >= 0.0 {
            "increased"
        } else {
            "decreased"
        };
        let _ = write!(
            out,
            "- {name} {verb} {:.0}% ({:.0}ms -> {:.0}ms); trend {} (Mann-Kendall p={:.3}, Sen slope {:+.1} ms/run)",
            m.change_pct.abs(),
            m.baseline_ms,
            m.latest_ms,
            m.trend,
            m.p_value,
            m.slope_ms_per_run
        );
        if let Some(noise) = m.noise_pct {
            let _ = write!(out, ", run-to-run noise ±{noise:.1}%");
        }
        let _ = writeln!(out);
        for c in &m.change_points {
            let _ = writeln!(
                out,
                "    shift at run {} ({}): {:.0}ms -> {:.0}ms ({:+.0}%)",
                c.run, c.label, c.before_ms, c.after_ms, c.change_pct
            );
        }
    }
    let main = &a.metrics[&a.metric];
    let share = main.latest_ms / a.threshold_ms * 100.0;
    let crossing = match a.runs_to_threshold {
        Some(0) => "the threshold is already broken".to_owned(),
        Some(r) => format!("at the fitted rate it would cross the threshold in {r} runs"),
        None => "the trend does not approach the threshold".to_owned(),
    };
    let _ = writeln!(
        out,
        "\nSeverity: {} ({} {:.0}ms is {share:.0}% of the {:.0}ms threshold; {crossing})",
        a.severity.to_uppercase(),
        a.metric,
        main.latest_ms,
        a.threshold_ms
    );
    if !a.likely_causes.is_empty() {
        let _ = writeln!(
            out,
            "\nLikely causes to investigate{}:",
            if a.causes_are_guesses {
                " (ranked by the shape of the change; no server metrics: guesses)"
            } else {
                " (from the server's own metrics)"
            }
        );
        for (i, c) in a.likely_causes.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}. {} [{}]: {}",
                i + 1,
                c.cause,
                c.confidence,
                c.evidence
            );
        }
    }
    let rec = match (a.verdict.as_str(), a.severity.as_str()) {
        (_, "critical") => "Act now: the requirement's threshold is broken. Bisect the builds since the last good run.",
        ("regression", "high") => "Investigate immediately: the threshold is near. Correlate with deployment history.",
        ("regression", _) => "Investigate before degradation impacts operations. Correlate with deployment history and review the server's metrics.",
        ("improvement", _) => "Confirm the improvement is intended and update the baseline.",
        _ => "No action needed; keep tracking.",
    };
    let _ = writeln!(out, "\nRecommendation: {rec}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    const SEED_DOC: &str = "Run 1 (baseline):  p50=150ms, p95=450ms, p99=800ms
Run 2 (+1 week):   p50=155ms, p95=460ms, p99=810ms
Run 3 (+2 weeks):  p50=165ms, p95=520ms, p99=950ms
Run 4 (+3 weeks):  p50=180ms, p95=600ms, p99=1100ms
Run 5 (+4 weeks):  p50=210ms, p95=750ms, p99=1400ms
";

    #[test]
    fn the_seed_documents_five_runs() {
        let runs = parse_text_history("doc.txt", SEED_DOC).unwrap();
        assert_eq!(runs[0].label, "Run 1 (baseline)");
        let a = analyze(&runs, "p95", None).unwrap();
        assert_eq!(a.verdict, "regression");
        assert_eq!(a.severity, "medium");
        assert_eq!(a.threshold_ms, 2000.0);
        assert_eq!(a.metrics["p50"].change_pct.round(), 40.0);
        assert_eq!(a.metrics["p95"].change_pct.round(), 67.0);
        assert_eq!(a.metrics["p99"].change_pct.round(), 75.0);
        assert!(a.causes_are_guesses);
        let causes: Vec<&str> = a.likely_causes.iter().map(|c| c.cause.as_str()).collect();
        for c in [
            "missing index / data growth",
            "memory leak / GC pressure",
            "N+1 queries",
            "slow dependency",
        ] {
            assert!(causes.contains(&c), "{c} missing from {causes:?}");
        }
        assert!(a.likely_causes.iter().all(|c| c.confidence == "guess"));
        let text = render_text(&a);
        assert!(text.starts_with("PERFORMANCE REGRESSION DETECTED"));
        assert!(
            text.contains("p95 increased 67% (450ms -> 750ms)"),
            "{text}"
        );
        assert!(text.contains("Severity: MEDIUM"), "{text}");
    }

    #[test]
    fn csv_and_errors_name_the_line() {
        let runs = parse_text_history(
            "h.csv",
            "label,p50_ms,p95_ms,p99_ms\nb1,10,20,30\nb2,11,21,31\n",
        )
        .unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[1].p99, 31.0);
        let e = parse_text_history("h.csv", "b1,10,20,30\nb2,11,x,31\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("h.csv:2") && e.contains("p95_ms"), "{e}");
        let e = parse_text_history("d.txt", "Run 1: p50=1ms, p95=2ms\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("d.txt:1") && e.contains("p99"), "{e}");
        let e = parse_text_history("d.txt", "\n\nRun 3: p50=1ms, p95=2ms, p999=3ms\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("d.txt:3"), "{e}");
    }

    fn runs_of(values: &[f64]) -> Vec<Run> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Run {
                label: format!("run {}", i + 1),
                p50: v * 0.5,
                p95: *v,
                p99: v * 1.5,
                error_rate: None,
                started_at: None,
                scenario: None,
                verdict: None,
                threshold_ms: None,
                server: None,
            })
            .collect()
    }

    #[test]
    fn pure_noise_is_stable_in_at_least_95_of_100_trials() {
        let mut stable = 0;
        for trial in 0..100u64 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(trial);
            let values: Vec<f64> = (0..20)
                .map(|_| 500.0 * (1.0 + rng.random_range(-0.05..=0.05)))
                .collect();
            let a = analyze(&runs_of(&values), "p95", Some(2000.0)).unwrap();
            stable += (a.verdict == "stable") as u32;
        }
        assert!(stable >= 95, "{stable} of 100 stable");
    }

    #[test]
    fn a_20_percent_step_at_run_11_is_found_there_in_at_least_95_of_100_trials() {
        let mut found = 0;
        for trial in 0..100u64 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1000 + trial);
            let values: Vec<f64> = (0..20)
                .map(|i| {
                    let level = if i >= 10 { 600.0 } else { 500.0 };
                    level * (1.0 + rng.random_range(-0.05..=0.05))
                })
                .collect();
            let a = analyze(&runs_of(&values), "p95", Some(2000.0)).unwrap();
            let cps = &a.metrics["p95"].change_points;
            if a.verdict == "regression" && cps.iter().any(|c| (10..=12).contains(&c.run)) {
                found += 1;
            }
        }
        assert!(found >= 95, "{found} of 100");
    }

    #[test]
    fn a_history_over_the_threshold_is_critical() {
        let a = analyze(
            &runs_of(&[2100.0, 2150.0, 2080.0, 2120.0, 2200.0]),
            "p95",
            Some(2000.0),
        )
        .unwrap();
        assert_eq!(a.severity, "critical");
        assert_eq!(a.runs_to_threshold, Some(0));
    }

    #[test]
    fn a_steep_trend_near_the_threshold_is_high() {
        let a = analyze(
            &runs_of(&[1000.0, 1200.0, 1400.0, 1600.0]),
            "p95",
            Some(2000.0),
        )
        .unwrap();
        assert_eq!(a.verdict, "regression");
        assert_eq!(a.severity, "high");
        assert_eq!(a.runs_to_threshold, Some(2));
    }

    fn with_server(
        p95: f64,
        queries: f64,
        db_ms: f64,
        upstream_ms: f64,
        rss_mib: u64,
        missions: u64,
    ) -> Run {
        let mut r = runs_of(&[p95]).remove(0);
        r.server = Some(ServerPoint {
            db_queries_per_request: queries,
            db_ms_per_request: db_ms,
            upstream_ms_per_request: upstream_ms,
            rss_bytes_start: rss_mib << 20,
            rss_bytes_end: (rss_mib + 1) << 20,
            missions,
            routes: BTreeMap::from([("get_mission".to_owned(), (queries, db_ms, upstream_ms))]),
        });
        r
    }

    #[test]
    fn server_metrics_name_the_cause_with_its_evidence() {
        // Database time up at the same query count, with the data grown: missing index / data growth.
        let runs = vec![
            with_server(100.0, 1.0, 0.2, 0.0, 50, 1_000),
            with_server(300.0, 1.0, 5.0, 0.0, 52, 100_000),
        ];
        let a = analyze(&runs, "p95", Some(2000.0)).unwrap();
        assert_eq!(a.likely_causes[0].cause, "missing index / data growth");
        assert!(
            a.likely_causes[0]
                .evidence
                .contains("missions 1000 -> 100000"),
            "{:?}",
            a.likely_causes
        );
        assert!(!a.causes_are_guesses);
        // RSS climbing run over run: memory leak.
        let runs = vec![
            with_server(100.0, 1.0, 0.2, 0.0, 50, 1_000),
            with_server(130.0, 1.0, 0.2, 0.0, 400, 1_000),
        ];
        let a = analyze(&runs, "p95", Some(2000.0)).unwrap();
        assert_eq!(a.likely_causes[0].cause, "memory leak / GC pressure");
        // Nothing moved on the server: no cause is claimed from its metrics.
        let runs = vec![
            with_server(100.0, 1.0, 0.2, 0.0, 50, 1_000),
            with_server(101.0, 1.0, 0.2, 0.0, 50, 1_000),
        ];
        assert!(analyze(&runs, "p95", Some(2000.0))
            .unwrap()
            .likely_causes
            .is_empty());
    }

    #[test]
    fn an_improvement_is_not_a_regression() {
        let a = analyze(&runs_of(&[800.0, 700.0, 600.0, 500.0, 400.0]), "p95", None).unwrap();
        assert_eq!(a.verdict, "improvement");
        assert_eq!(a.severity, "none");
    }
}
