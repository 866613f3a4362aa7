//! A history of runs. In: run records (files or folders) or plain text in
//! the seed document's form or CSV. Out: [`Run`]s, oldest first: each
//! run's steady p50/p95/p99 and, from records, the server's metrics.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Error;
use crate::record::RunRecord;
use crate::scenario::Percentile;
use crate::server::RouteWindow;

/// What one route cost per request, as the server measured it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RouteCost {
    pub db_queries_per_request: f64,
    pub db_ms_per_request: f64,
    pub upstream_ms_per_request: f64,
}

impl RouteCost {
    fn of(w: &RouteWindow) -> Self {
        Self {
            db_queries_per_request: w.db_queries_per_request,
            db_ms_per_request: w.db_ms_per_request,
            upstream_ms_per_request: w.upstream_ms_per_request,
        }
    }
}

/// What the server measured in one run (steady window, all routes together).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerPoint {
    /// All routes together, weighted by their requests.
    #[serde(flatten)]
    pub overall: RouteCost,
    pub rss_bytes_start: u64,
    pub rss_bytes_end: u64,
    pub missions: u64,
    /// Per route that served requests.
    pub routes: BTreeMap<String, RouteCost>,
    /// Per statement kind, its query plan's lines at the run's end (records
    /// of schema 8 against a target serving `/__admin/queries`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub plans: BTreeMap<String, Vec<String>>,
}

/// One run of a history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub label: String,
    /// Each percentile, absent when the run's source did not report it.
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub error_rate: Option<f64>,
    pub started_at: Option<String>,
    pub scenario: Option<String>,
    pub verdict: Option<String>,
    pub threshold_ms: Option<f64>,
    pub server: Option<ServerPoint>,
}

impl Run {
    /// A run known only by its percentiles.
    pub fn of_percentiles(label: String, p50: f64, p95: f64, p99: f64) -> Self {
        Self {
            label,
            p50: Some(p50),
            p95: Some(p95),
            p99: Some(p99),
            error_rate: None,
            started_at: None,
            scenario: None,
            verdict: None,
            threshold_ms: None,
            server: None,
        }
    }

    pub fn from_record(r: &RunRecord) -> Self {
        let server = r.server.as_ref().map(|s| {
            let count: u64 = s.routes.values().map(|w| w.count).sum();
            let weighted = |f: fn(&RouteWindow) -> f64| -> f64 {
                if count == 0 {
                    return 0.0;
                }
                let total: f64 = s.routes.values().map(|w| f(w) * w.count as f64).sum();
                total / count as f64
            };
            ServerPoint {
                overall: RouteCost {
                    db_queries_per_request: weighted(|w| w.db_queries_per_request),
                    db_ms_per_request: weighted(|w| w.db_ms_per_request),
                    upstream_ms_per_request: weighted(|w| w.upstream_ms_per_request),
                },
                rss_bytes_start: s.rss_bytes_start,
                rss_bytes_end: s.rss_bytes_end,
                missions: s.missions,
                routes: s
                    .routes
                    .iter()
                    .filter(|(_, w)| w.count > 0)
                    .map(|(k, w)| (k.clone(), RouteCost::of(w)))
                    .collect(),
                plans: s
                    .queries
                    .iter()
                    .map(|q| {
                        let lines = q.plans.iter().flatten().map(|l| l.trim().to_owned());
                        (q.kind.clone(), lines.collect())
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
            verdict: Some(r.verdict.to_string()),
            threshold_ms: r.p95_bound(),
            server,
        }
    }

    /// The run's value of `p`, in milliseconds, if its source reported it.
    pub fn get(&self, p: Percentile) -> Option<f64> {
        match p {
            Percentile::P50 => self.p50,
            Percentile::P95 => self.p95,
            Percentile::P99 => self.p99,
        }
    }
}

/// Run records in a folder, oldest first (by `started_at`).
pub fn read_history(dir: &Path) -> Result<Vec<RunRecord>, Error> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Read {
        path: dir.to_owned(),
        source,
    })?;
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
        if line.is_empty()
            || line.starts_with('#')
            || line.starts_with("```")
            || line.to_ascii_lowercase().starts_with("label,")
        {
            continue;
        }
        let bad = |why: &str| Error::Input(format!("{file}:{}: {why}: {line:?}", i + 1));
        let run = if line.contains('=') {
            seed_document_line(line, &bad)?
        } else {
            csv_line(line, &bad)?
        };
        runs.push(run);
    }
    if runs.is_empty() {
        return Err(Error::Input(format!("{file}: no runs found")));
    }
    Ok(runs)
}

/// `Run 1 (baseline): p50=150ms, p95=450ms, p99=800ms`.
fn seed_document_line(line: &str, bad: &dyn Fn(&str) -> Error) -> Result<Run, Error> {
    let (head, tail) = line
        .split_once(':')
        .ok_or_else(|| bad("expected 'Run N (label): p50=..ms, p95=..ms, p99=..ms'"))?;
    let label = match (head.find('('), head.rfind(')')) {
        (Some(a), Some(b)) if b > a => {
            format!("{} ({})", head[..a].trim(), head[a + 1..b].trim())
        }
        _ => head.trim().to_owned(),
    };
    let mut vals: BTreeMap<Percentile, f64> = BTreeMap::new();
    for part in tail.split(',') {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| bad("expected key=value pairs"))?;
        let k = k.trim();
        let p = Percentile::ALL
            .into_iter()
            .find(|p| p.as_str() == k)
            .ok_or_else(|| bad(&format!("unknown percentile {k:?}; expected p50, p95, p99")))?;
        let ms = parse_ms(v).ok_or_else(|| bad(&format!("{k}: {v:?} is not a duration in ms")))?;
        vals.insert(p, ms);
    }
    let get = |p: Percentile| {
        vals.get(&p)
            .copied()
            .ok_or_else(|| bad(&format!("missing {p}")))
    };
    Ok(Run::of_percentiles(
        label,
        get(Percentile::P50)?,
        get(Percentile::P95)?,
        get(Percentile::P99)?,
    ))
}

/// `label,p50_ms,p95_ms,p99_ms`.
fn csv_line(line: &str, bad: &dyn Fn(&str) -> Error) -> Result<Run, Error> {
    let cols: Vec<&str> = line.split(',').map(str::trim).collect();
    if cols.len() != 4 {
        return Err(bad("expected 4 CSV columns: label,p50_ms,p95_ms,p99_ms"));
    }
    let num = |i: usize, name: &str| {
        parse_ms(cols[i]).ok_or_else(|| bad(&format!("{name}: {:?} is not a number", cols[i])))
    };
    Ok(Run::of_percentiles(
        cols[0].to_owned(),
        num(1, "p50_ms")?,
        num(2, "p95_ms")?,
        num(3, "p99_ms")?,
    ))
}
