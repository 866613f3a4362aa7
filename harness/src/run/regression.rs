//! `harness demo --regression CAUSE`: the seed document's regression story
//! run for real. In: a cause, the number of runs ("builds"), a scale, a
//! seed and a folder. Out: one run record per build (and their HTML
//! reports) in the folder, the analysis of the history as `harness
//! analyze` prints it, and whether the cause it names first is the one
//! injected.
//!
//! A mock-api starts in-process on a fresh seeded database (admin token
//! set); before each build the cause is made a step worse through the admin
//! API (or, for data growth, missions are added), as a regression creeps
//! in over weeks; each build runs the seed's mix at a steady load.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use super::demo::InProcess;
use super::{run, stamp, RecordOptions, ReportAt, RunOptions, ScenarioSource, Start};
use crate::analysis::{self, Analysis, CauseKind, HistoryVerdict, Run};
use crate::error::Error;
use crate::output::progress::{self, Mode};
use crate::record::RunRecord;
use crate::scenario::{Load, Percentile, Scenario, Stage, ThinkTime};

/// A cause to inject, or none (the control).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Injected {
    /// A growing share of mission reads load their waypoints one query each.
    NPlusOne,
    /// A growing share of searches and waypoint lookups run without indexes.
    MissingIndex,
    /// Each request retains more memory, never freed.
    MemoryLeak,
    /// Mission reads call an upstream service that grows slower.
    SlowDependency,
    /// The missions table grows while the search runs without its index.
    DataGrowth,
    /// Nothing changes between builds: the control.
    None,
}

impl Injected {
    pub fn name(self) -> &'static str {
        match self {
            Injected::NPlusOne => "n-plus-one",
            Injected::MissingIndex => "missing-index",
            Injected::MemoryLeak => "memory-leak",
            Injected::SlowDependency => "slow-dependency",
            Injected::DataGrowth => "data-growth",
            Injected::None => "none",
        }
    }

    /// The cause the analysis should name first (`None`: no cause).
    pub fn expected(self) -> Option<CauseKind> {
        match self {
            Injected::NPlusOne => Some(CauseKind::NPlusOne),
            Injected::MissingIndex | Injected::DataGrowth => Some(CauseKind::MissingIndex),
            Injected::MemoryLeak => Some(CauseKind::MemoryLeak),
            Injected::SlowDependency => Some(CauseKind::SlowDependency),
            Injected::None => None,
        }
    }

    /// The behaviour of build `i` of `runs` (step `s` = i / (runs - 1),
    /// from 0 to 1): the schedule documented in the README.
    pub fn behaviour(self, i: u32, runs: u32, seed: u64) -> Value {
        let s = f64::from(i) / f64::from(runs.saturating_sub(1).max(1));
        let base = json!({ "seed": seed });
        let mut b = base.as_object().cloned().unwrap_or_default();
        let mut set = |k: &str, v: Value| {
            b.insert(k.to_owned(), v);
        };
        match self {
            Injected::NPlusOne => {
                set("emulate", json!(["n-plus-one"]));
                set("n_plus_one_share", json!(s));
                set("db_round_trip_us", json!(DB_ROUND_TRIP_US));
            }
            Injected::MissingIndex => {
                set("emulate", json!(["missing-index"]));
                set("missing_index_share", json!(s));
            }
            Injected::MemoryLeak => {
                set("emulate", json!(["memory-leak"]));
                set("leak_bytes", json!((s * LEAK_BYTES_MAX as f64) as u64));
                set("leak_pause_us_per_mib", json!(LEAK_PAUSE_US_PER_MIB));
            }
            Injected::SlowDependency => {
                set("emulate", json!(["slow-dependency"]));
                set(
                    "dependency_latency",
                    json!(format!("fixed({})", 1.0 + s * DEPENDENCY_MS_MAX)),
                );
            }
            Injected::DataGrowth => set("emulate", json!(["missing-index"])),
            Injected::None => {}
        }
        Value::Object(b)
    }

    /// Missions added before build `i` (data growth only).
    pub fn missions_added(self, i: u32) -> u32 {
        match (self, i) {
            (Injected::DataGrowth, 1..) => MISSIONS_PER_BUILD,
            _ => 0,
        }
    }
}

/// Each query of a mission read pays this round trip (`n-plus-one`), µs:
/// a database a network hop away, where N+1 hurts.
pub const DB_ROUND_TRIP_US: u64 = 500;
/// Pause per MiB retained (`memory-leak`), µs: a managed runtime's pressure.
pub const LEAK_PAUSE_US_PER_MIB: f64 = 20.0;
/// Bytes each request retains in the last build of `memory-leak`.
pub const LEAK_BYTES_MAX: u64 = 256 * 1024;
/// The upstream's latency in the last build of `slow-dependency`, ms above 1.
pub const DEPENDENCY_MS_MAX: f64 = 24.0;
/// Missions added before each build after the first (`data-growth`).
pub const MISSIONS_PER_BUILD: u32 = 4000;
/// The fewest builds the story runs: below it, the trend test cannot
/// show a regression with confidence (see [`too_few_runs`]).
pub const MIN_RUNS: u32 = 6;
/// Builds unless `--runs` says otherwise.
pub const DEFAULT_RUNS: u32 = 8;

/// Why a story of `runs` builds is refused, if it is: Mann-Kendall's
/// exact two-sided p-value over n builds is 2/n! at best (every build
/// slower than the one before). Under 5 builds it never reaches 0.05;
/// at 5 only that perfect order does (p = 0.017), so one pair of builds
/// out of order, which machine noise makes likely, hides the regression;
/// 6 tolerate one such pair (p = 0.017), 8 up to five (p = 0.031).
pub fn too_few_runs(runs: u32) -> Option<String> {
    (runs < MIN_RUNS).then(|| {
        format!(
            "--runs {runs}: the story needs at least {MIN_RUNS} builds. Its trend test (Mann-Kendall, p < 0.05) can call {runs} builds a regression {}; with {MIN_RUNS} it still can when one pair is out of order",
            match runs {
                0..=4 => "never: its smallest p-value over so few is above 0.05".to_owned(),
                _ => format!("only when every build is slower than the one before (p = 2/{}!), so one pair out of order, which a noisy machine makes likely, hides it", runs),
            }
        )
    })
}

/// Users of each build (no think time beyond the pacing below).
pub const USERS: u32 = 20;
/// Each user starts a request every this long (Locust's constant pacing).
pub const PACING: Duration = Duration::from_millis(100);
/// The unrecorded warm-up before the first build.
pub const WARM_UP: Duration = Duration::from_secs(2);
/// A build's length at `--duration-scale 1`.
pub const BUILD: Duration = Duration::from_secs(8);

/// Options of `harness demo --regression`.
#[derive(Debug, Clone)]
pub struct RegressionOptions {
    pub cause: Injected,
    pub runs: u32,
    pub duration_scale: f64,
    /// `out` is the folder of the builds' records [default:
    /// `results/regression-CAUSE-<stamp>`]; builds are labelled `build-N`,
    /// after `label` when given.
    pub record: RecordOptions,
}

impl RegressionOptions {
    /// The folder the builds' records go to.
    pub fn folder(&self) -> PathBuf {
        self.record.out.clone().unwrap_or_else(|| {
            std::path::Path::new("results").join(format!(
                "regression-{}-{}",
                self.cause.name(),
                stamp()
            ))
        })
    }
}

/// What the story ended with.
#[derive(Debug)]
pub struct Outcome {
    pub analysis: Analysis,
    /// The first cause named is the injected one (for `none`: the verdict
    /// is stable).
    pub named: bool,
    /// Each build's record, oldest first, and where it was written.
    pub records: Vec<(PathBuf, RunRecord)>,
    /// The same builds as the analysis read them.
    pub runs: Vec<Run>,
    /// The folder the records went to.
    pub folder: PathBuf,
}

/// The seed's mix (60/20/20, its keys) at a steady, paced load.
pub fn scenario(cause: Injected, duration_scale: f64) -> Scenario {
    let mut s = Scenario::builtin();
    s.name = format!("regression-{}", cause.name());
    for c in &mut s.classes {
        c.think_time = ThinkTime::ConstantPacing(PACING);
    }
    s.stages = vec![Stage {
        name: "steady".into(),
        load: Load::Users {
            from: USERS,
            to: USERS,
        },
        duration: BUILD
            .mul_f64(duration_scale)
            .max(Duration::from_millis(500)),
        steady: true,
    }];
    s
}

/// Runs the story: `runs` builds, each a step worse, then the analysis.
pub async fn regression(opts: &RegressionOptions) -> Result<Outcome, Error> {
    if let Some(why) = too_few_runs(opts.runs) {
        return Err(Error::Usage(why));
    }
    let folder = opts.folder();
    let token = format!("regression-{}", std::process::id());
    let target = InProcess::start(Some(token.clone())).await?;
    super::demo::announce(&target, opts.record.quiet);
    let result = builds(opts, &folder, &target, &token).await;
    target.stop().await;
    let records = result?;
    let runs: Vec<Run> = records.iter().map(|(_, r)| Run::from_record(r)).collect();
    let analysis = analysis::analyze(&runs, Percentile::P95, None)?;
    let first = analysis.likely_causes.first().map(|c| c.cause);
    let named = match opts.cause.expected() {
        Some(kind) => first == Some(kind) && analysis.verdict == HistoryVerdict::Regression,
        None => analysis.verdict == HistoryVerdict::Stable,
    };
    Ok(Outcome {
        analysis,
        named,
        records,
        runs,
        folder,
    })
}

/// A run of `scenario` against the in-process target, quiet and without
/// its summary (the story prints a line per build), reading the server's
/// statistics unless told not to.
fn options(target: &InProcess, scenario: Scenario, record: RecordOptions) -> RunOptions {
    RunOptions {
        target: target.url.clone(),
        more_targets: Vec::new(),
        server_stats: Vec::new(),
        scenario: ScenarioSource::Given(Box::new(scenario)),
        slos: Vec::new(),
        duration_scale: 1.0,
        record: RecordOptions {
            quiet: true,
            report: ReportAt::Nowhere,
            ..record
        },
        transport: Default::default(),
        junit: None,
        summary: false,
        shard: None,
        start: Start::Now,
    }
}

/// A short unrecorded run first, so that the first build does not pay for
/// cold caches and new connections (which would read as a trend).
async fn warm_up(opts: &RegressionOptions, target: &InProcess) -> Result<(), Error> {
    let dir = tempfile::tempdir().map_err(|source| Error::CreateDir {
        path: std::env::temp_dir(),
        source,
    })?;
    let mut s = scenario(Injected::None, 1.0);
    s.stages[0].duration = WARM_UP;
    let record = RecordOptions {
        out: Some(dir.path().join("warm-up.json")),
        label: Some("warm-up".into()),
        no_server_stats: true,
        ..opts.record.clone()
    };
    run(&options(target, s, record)).await?;
    Ok(())
}

/// Each build: the behaviour a step worse (and missions added), then a run.
async fn builds(
    opts: &RegressionOptions,
    folder: &std::path::Path,
    target: &InProcess,
    token: &str,
) -> Result<Vec<(PathBuf, RunRecord)>, Error> {
    let client = reqwest::Client::new();
    let mode = Mode::detect(opts.record.quiet);
    warm_up(opts, target).await?;
    let build = scenario(opts.cause, opts.duration_scale);
    let mut out = Vec::new();
    let mut added = 0u32;
    for i in 0..opts.runs {
        let behaviour = opts.cause.behaviour(i, opts.runs, opts.record.seed);
        let grow = opts.cause.missions_added(i);
        if grow > 0 {
            let first = target.missions + added + 1;
            target.add_missions(first, first + grow - 1).await?;
            added += grow;
        }
        let put = client
            .put(format!("{}/__admin/behaviour", target.url))
            .bearer_auth(token)
            .json(&behaviour)
            .send()
            .await
            .map_err(|e| Error::Usage(format!("PUT /__admin/behaviour: {e}")))?;
        if !put.status().is_success() {
            return Err(Error::Usage(format!(
                "PUT /__admin/behaviour answered {}: {}",
                put.status(),
                put.text().await.unwrap_or_default()
            )));
        }
        let label = match &opts.record.label {
            Some(l) => format!("{l} build-{}", i + 1),
            None => format!("build-{}", i + 1),
        };
        progress::announce(
            mode,
            format_args!(
                "regression {}: {label}: behaviour {behaviour}{}",
                opts.cause.name(),
                if added > 0 {
                    format!(", {} missions", target.missions + added)
                } else {
                    String::new()
                }
            ),
        );
        let path = folder.join(format!("build-{}.json", i + 1));
        let record = RecordOptions {
            out: Some(path.clone()),
            label: Some(label),
            ..opts.record.clone()
        };
        let result = run(&options(target, build.clone(), record)).await?;
        let l = &result.record.steady.latency;
        let line = format!(
            "{:<8} {} requests, {} errors, p50 {} ms, p95 {} ms, p99 {} ms",
            result.record.label.as_deref().unwrap_or(""),
            result.record.steady.requests,
            result.record.steady.errors,
            crate::output::fmt_opt_ms(l.p50_ms),
            crate::output::fmt_opt_ms(l.p95_ms),
            crate::output::fmt_opt_ms(l.p99_ms)
        );
        // With --format json stdout is the analysis alone.
        match opts.record.format {
            crate::output::Format::Json => eprintln!("{line}"),
            crate::output::Format::Text => println!("{line}"),
        }
        out.push((path, result.record));
    }
    Ok(out)
}
