//! Shards of one run as one record, exactly. In: the shards' records (each
//! from `harness run --shard I/N`). Out: one record whose histograms are
//! the shards' merged, whose counts are sums, whose stages are aligned by
//! name (each as long as its longest shard) and whose time series is
//! aligned on wall-clock seconds; the server's truth is taken once per
//! distinct instance (shards that read the same target saw the same
//! server) and summed over distinct ones; the SLOs are judged again on
//! the merged data.
//!
//! Refused, naming the culprit: records of different scenarios, seeds or
//! schema versions, a record that is not a shard, shards of different
//! totals, a missing or duplicated shard, starts more than a second apart.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::Error;
use crate::histogram::{merged, EncodedHistogram};
use crate::load::collector::add_errors;
use crate::record::build::rate;
use crate::record::{
    verdict, Latency, PointRecord, RunRecord, SecondRecord, StageRecord, SteadyRecord, TaskRecord,
    Verdict,
};
use crate::server::{self, ServerRecord};

fn refuse(why: String) -> Error {
    Error::Input(format!("cannot merge: {why}"))
}

fn time(s: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(s).ok()
}

/// Checks that `records` are every shard of one run, once each.
fn check(records: &[(PathBuf, RunRecord)]) -> Result<(), Error> {
    let Some((first_path, first)) = records.first() else {
        return Err(refuse("no records given".into()));
    };
    let name = |p: &PathBuf| p.display().to_string();
    let mut seen = BTreeMap::new();
    let mut total = None;
    for (path, r) in records {
        let Some(shard) = r.shard else {
            return Err(refuse(format!(
                "{} is not a shard (run with --shard I/N)",
                name(path)
            )));
        };
        for (what, a, b) in [
            ("scenario", &r.scenario, &first.scenario),
            (
                "schema_version",
                &r.schema_version.to_string(),
                &first.schema_version.to_string(),
            ),
            ("seed", &r.seed.to_string(), &first.seed.to_string()),
        ] {
            if a != b {
                return Err(refuse(format!(
                    "{} has {what} {a}, {} has {b}",
                    name(path),
                    name(first_path)
                )));
            }
        }
        if *total.get_or_insert(shard.total) != shard.total {
            return Err(refuse(format!(
                "{} is a shard of {}, the others of {}",
                name(path),
                shard.total,
                total.unwrap_or_default()
            )));
        }
        if let Some(other) = seen.insert(shard.index, path) {
            return Err(refuse(format!(
                "shard {} appears twice: {} and {}",
                shard.index,
                name(other),
                name(path)
            )));
        }
        let (a, b) = (time(&r.started_at), time(&first.started_at));
        if let (Some(a), Some(b)) = (a, b) {
            let apart = (a - b).num_milliseconds().abs();
            if apart > 1000 {
                return Err(refuse(format!(
                    "{} started {:.1} s apart from {}: shards must start together (--start-at)",
                    name(path),
                    apart as f64 / 1000.0,
                    name(first_path)
                )));
            }
        }
    }
    let total = total.unwrap_or_default();
    if let Some(missing) = (1..=total).find(|i| !seen.contains_key(i)) {
        return Err(refuse(format!("shard {missing} of {total} is missing")));
    }
    Ok(())
}

/// The merged record (see the module's documentation).
pub fn merge(records: &[(PathBuf, RunRecord)]) -> Result<RunRecord, Error> {
    check(records)?;
    let rs: Vec<&RunRecord> = records.iter().map(|(_, r)| r).collect();
    let first = rs[0];
    let stages = stages(&rs);
    let seconds: BTreeMap<&str, f64> = stages
        .iter()
        .map(|s| (s.name.as_str(), s.duration_s))
        .collect();
    let mut tasks: Vec<TaskRecord> = Vec::new();
    for row in rs.iter().flat_map(|r| &r.tasks) {
        match tasks
            .iter_mut()
            .find(|t| t.stage == row.stage && t.name == row.name)
        {
            Some(t) => {
                t.requests += row.requests;
                t.errors += row.errors;
                t.histogram = match (&t.histogram, &row.histogram) {
                    (Some(a), Some(b)) => Some(EncodedHistogram(merged([&a.0, &b.0]))),
                    _ => None,
                };
            }
            None => tasks.push(row.clone()),
        }
    }
    for t in &mut tasks {
        t.rps = rate(
            t.requests,
            seconds.get(t.stage.as_str()).copied().unwrap_or(0.0),
        );
        if let Some(h) = &t.histogram {
            t.latency = Latency::of(&h.0, t.requests, t.errors);
        }
    }
    let steady = steady(&rs, &stages);
    let specs = first.slos.iter().map(|s| s.spec.clone());
    let slos = verdict::evaluate(specs, &stages, &tasks);
    let mut out = first.clone();
    out.shard = None;
    out.label = first.label.clone();
    out.started_at = rs
        .iter()
        .map(|r| r.started_at.clone())
        .min()
        .unwrap_or_default();
    out.ended_at = rs
        .iter()
        .map(|r| r.ended_at.clone())
        .max()
        .unwrap_or_default();
    out.interrupted = rs.iter().any(|r| r.interrupted);
    out.verdict = Verdict::of(&slos);
    crate::record::build::restate_classes(&mut out.classes, &tasks, &stages);
    out.stages = stages;
    out.tasks = tasks;
    out.steady = steady;
    out.slos = slos;
    out.errors = BTreeMap::new();
    out.error_samples = BTreeMap::new();
    for r in &rs {
        add_errors(
            &mut out.errors,
            &mut out.error_samples,
            &r.errors,
            &r.error_samples,
        );
    }
    out.timeseries = timeseries(&rs, &out.started_at);
    out.server = servers(&rs);
    out.connections = crate::record::connections::ConnectionsRecord::merged(
        rs.iter().map(|r| r.connections.as_ref()),
    );
    out.slowest = crate::record::slowest::merged(rs.iter().map(|r| r.slowest.as_slice()));
    Ok(out)
}

/// Stages by name in the first record's order: the widest window, the
/// longest duration, users and rates and drops added.
fn stages(rs: &[&RunRecord]) -> Vec<StageRecord> {
    let mut out: Vec<StageRecord> = rs[0].stages.clone();
    for st in &mut out {
        let same: Vec<&StageRecord> = rs
            .iter()
            .flat_map(|r| &r.stages)
            .filter(|s| s.name == st.name)
            .collect();
        st.started_at = same.iter().filter_map(|s| s.started_at.clone()).min();
        st.ended_at = same.iter().filter_map(|s| s.ended_at.clone()).max();
        st.duration_s = same.iter().map(|s| s.duration_s).fold(0.0, f64::max);
        st.users_max = same.iter().map(|s| s.users_max).sum();
        st.dropped = same.iter().map(|s| s.dropped).sum();
        st.target_users = st
            .target_users
            .map(|_| same.iter().filter_map(|s| s.target_users).sum());
        st.target_rate = st
            .target_rate
            .map(|_| same.iter().filter_map(|s| s.target_rate).sum());
    }
    out
}

fn steady(rs: &[&RunRecord], stages: &[StageRecord]) -> SteadyRecord {
    let names: Vec<String> = stages
        .iter()
        .filter(|s| s.steady)
        .map(|s| s.name.clone())
        .collect();
    let requests: u64 = rs.iter().map(|r| r.steady.requests).sum();
    let errors: u64 = rs.iter().map(|r| r.steady.errors).sum();
    let seconds: f64 = stages
        .iter()
        .filter(|s| s.steady)
        .map(|s| s.duration_s)
        .sum();
    let parts: Option<Vec<&hdrhistogram::Histogram<u64>>> = rs
        .iter()
        .map(|r| r.steady.histogram.as_ref().map(|h| &h.0))
        .collect();
    SteadyRecord::of(names, requests, errors, seconds, parts.map(merged))
}

/// Each shard's seconds placed on the merged clock and added; a second's
/// percentiles are the shards' requests-weighted means (the series is for
/// charts; every table comes from the merged histograms).
fn timeseries(rs: &[&RunRecord], start: &str) -> Vec<SecondRecord> {
    let start = time(start);
    let mut by_t: BTreeMap<u32, Vec<&SecondRecord>> = BTreeMap::new();
    for r in rs {
        let offset = match (start, time(&r.started_at)) {
            (Some(a), Some(b)) => {
                ((b - a).num_milliseconds().max(0) as f64 / 1000.0).round() as u32
            }
            _ => 0,
        };
        for p in &r.timeseries {
            by_t.entry(p.t + offset).or_default().push(p);
        }
    }
    by_t.into_iter()
        .map(|(t, ps)| {
            let mut names: Vec<&String> = ps.iter().flat_map(|p| p.tasks.keys()).collect();
            names.sort();
            names.dedup();
            SecondRecord {
                t,
                users: ps.iter().map(|p| p.users).sum(),
                all: point(ps.iter().map(|p| &p.all)),
                tasks: names
                    .into_iter()
                    .map(|n| (n.clone(), point(ps.iter().filter_map(|p| p.tasks.get(n)))))
                    .collect(),
            }
        })
        .collect()
}

fn point<'a>(ps: impl Iterator<Item = &'a PointRecord> + Clone) -> PointRecord {
    let requests: u64 = ps.clone().map(|p| p.requests).sum();
    let weighted = |f: fn(&PointRecord) -> Option<f64>| {
        let (sum, n) = ps
            .clone()
            .filter_map(|p| Some((f(p)? * p.requests as f64, p.requests)))
            .fold((0.0, 0u64), |(s, n), (v, k)| (s + v, n + k));
        (n > 0).then(|| (sum / n as f64 * 1000.0).round() / 1000.0)
    };
    PointRecord {
        requests,
        errors: ps.clone().map(|p| p.errors).sum(),
        p50_ms: weighted(|p| p.p50_ms),
        p95_ms: weighted(|p| p.p95_ms),
        p99_ms: weighted(|p| p.p99_ms),
    }
}

/// One server record per distinct instance (by its stats URL); several
/// instances summed (counts, histograms and memory added).
fn servers(rs: &[&RunRecord]) -> Option<ServerRecord> {
    let mut distinct: BTreeMap<&str, &ServerRecord> = BTreeMap::new();
    for s in rs.iter().filter_map(|r| r.server.as_ref()) {
        distinct.entry(s.source.as_str()).or_insert(s);
    }
    let instances: Vec<&ServerRecord> = distinct.into_values().collect();
    server::sum_instances(&instances)
}
