//! Command-line interface: flags and subcommands (clap), dispatched to the
//! library; a thin layer. Exit codes: 0 all SLOs pass (or no regression),
//! 1 an SLO fails (or a regression), 2 usage, scenario, target or input
//! error.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::adapters::Tool;
use crate::analysis::history::{parse_text_history, read_history, read_records};
use crate::analysis::{self, compare, Run};
use crate::error::{read_file, write_file, Error};
pub use crate::output::Format;
use crate::output::{self, report};
use crate::record::{verdict, RunRecord};
use crate::run;
use crate::scenario::Percentile;
pub use capacity::CapacityArgs;
pub use merge::MergeArgs;
pub use review::{ReviewArgs, ScenariosArgs};
#[cfg(feature = "demo")]
pub use run_args::DemoArgs;
pub use run_args::{RecordArgs, RunArgs};

#[derive(Debug, Parser)]
#[command(
    name = "harness",
    version,
    about = "HTTP load harness: scenarios, stages, SLO verdicts, run records"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario against a target and judge it.
    Run(RunArgs),
    /// Start mock-api in-process and run the built-in scenario against it (about 90 s).
    #[cfg(feature = "demo")]
    Demo(DemoArgs),
    /// Judge a saved run record again on its SLOs; exits 0 or 1 as `run` did.
    Judge(JudgeArgs),
    /// Score a load tool against the known target: what it reports beside the truth.
    Score(ScoreArgs),
    /// List the run records in a folder, oldest first.
    History(HistoryArgs),
    /// Trend, change points, severity and likely causes across runs.
    Analyze(AnalyzeArgs),
    /// Compare two records (or two folders of repeated runs) on their full distributions.
    Compare(CompareArgs),
    /// Write a self-contained HTML report of a record.
    Report(ReportArgs),
    /// Turn other tools' results (Locust, k6, wrk, oha, hey, vegeta, JMeter, Gatling) into run records.
    Import(ImportArgs),
    /// Raise the load step by step until an SLO fails or the target saturates: the capacity, the knee, a USL fit.
    Capacity(CapacityArgs),
    /// Check a scenario (and its target) against the seed document's governance checklist.
    Review(ReviewArgs),
    /// List the built-in scenarios, or print one's TOML.
    Scenarios(ScenariosArgs),
    /// Merge the records of a sharded run (`run --shard I/N`) into one, exactly.
    Merge(MergeArgs),
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The tool that wrote the files.
    #[arg(long, value_enum)]
    pub from: Tool,
    /// Its results: one file per run (Locust: PREFIX_stats.csv and/or
    /// PREFIX_stats_history.csv per run).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The runs' label: fixed for one run, or a pattern with {run} (the
    /// run's order, oldest first, from 1; also written as n in braces) and
    /// {file} (its file name) [default: the file name].
    #[arg(long)]
    pub label: Option<String>,
    /// The folder the records go to.
    #[arg(long)]
    pub out: PathBuf,
    /// A scenario (a file or a built-in's name) whose requirement and SLOs
    /// judge the runs [default: the built-in REQ-PERF-401: p95 < 2000 ms,
    /// no errors].
    #[arg(long, value_name = "NAME|FILE")]
    pub slos_from: Option<crate::scenario::ScenarioRef>,
    /// How the tool loaded, when its files do not say: open (arrivals at a
    /// rate: oha -q with --latency-correction, k6's arrival-rate
    /// executors, Gatling's open injection) or closed [default: closed;
    /// vegeta open; k6 open when it dropped iterations].
    #[arg(long, value_enum)]
    pub model: Option<crate::adapters::LoadModel>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// Folder of run records.
    #[arg(default_value = "results")]
    pub dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// Run records (files or folders), oldest first by their start time.
    pub records: Vec<PathBuf>,
    /// A folder of run records [default when nothing else is given: results].
    #[arg(long, conflicts_with_all = ["records", "text"])]
    pub history: Option<PathBuf>,
    /// A plain history: `Run 1 (baseline): p50=150ms, p95=450ms, p99=800ms` lines, or CSV label,p50_ms,p95_ms,p99_ms.
    #[arg(long, conflicts_with = "records")]
    pub text: Option<PathBuf>,
    /// The percentile that decides the verdict and severity.
    #[arg(long, value_enum, default_value_t = Percentile::P95)]
    pub metric: Percentile,
    /// The threshold [default: the records' p95 SLO bound, else 2000].
    #[arg(long)]
    pub threshold_ms: Option<f64>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// The tool under score (its adapter reads its output).
    #[arg(long, value_enum, required_unless_present_any = ["list_trials", "matrix"])]
    pub tool: Option<Tool>,
    /// A built-in trial (see --list-trials).
    #[arg(long, conflicts_with = "behaviour")]
    pub trial: Option<String>,
    /// A behaviour file (mock-api's TOML) instead of a trial.
    #[arg(long)]
    pub behaviour: Option<PathBuf>,
    /// A running mock-api to score against [default: one started in-process].
    #[arg(long)]
    pub target: Option<String>,
    /// The target's admin token (its behaviour is set and its statistics reset).
    #[arg(long, env = "MOCK_API_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Trust this certificate (PEM) of an https:// --target (the tls and
    /// h2 trials start their own HTTPS target without --target).
    #[arg(long, value_name = "FILE", requires = "target")]
    pub ca_cert: Option<PathBuf>,
    /// Trust any certificate of an https:// --target (never the default).
    #[arg(long, requires = "target")]
    pub insecure: bool,
    /// A figure is within tolerance when its error is at most this share of the truth...
    #[arg(long, default_value_t = 5.0)]
    pub tolerance_pct: f64,
    /// ... or this many ms, whichever is larger.
    #[arg(long, default_value_t = 1.0)]
    pub tolerance_ms: f64,
    /// How much more the tool's max may read than the reference: its worst
    /// sample carries the client machine's own worst scheduling delay.
    #[arg(long, default_value_t = crate::score::card::MAX_CLIENT_MS, allow_negative_numbers = true)]
    pub client_allowance_ms: f64,
    /// How many requests a count may be off by: those in flight when the
    /// tool stops at its deadline [default: the connections].
    #[arg(long)]
    pub count_allowance: Option<u64>,
    /// How the tool loaded, when its output does not say: open (arrivals at
    /// a rate, each sent on schedule: Gatling's open injection, a k6 script
    /// of your own with an arrival-rate executor) or closed [default: read
    /// from the command: oha -q with --latency-correction, k6's default
    /// command with a rate, vegeta with -rate above 0 are open].
    #[arg(long, value_enum)]
    pub model: Option<crate::adapters::LoadModel>,
    /// Override the trial's duration (e.g. 10s).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// Override the trial's connections.
    #[arg(long)]
    pub connections: Option<u32>,
    /// Override (or give) the arrival rate, per second.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Where to write the JSON scorecard (with --suite: a folder; with
    /// --matrix: the HTML page, default truth.html)
    /// [default: results/score-<tool>-<trial>-<UTC timestamp>.json].
    #[arg(short = 'o', long)]
    pub out: Option<PathBuf>,
    /// Write an HTML page [default path: the scorecard's, with .html].
    #[arg(long, num_args = 0..=1)]
    pub report: Option<Option<PathBuf>>,
    /// Every built-in trial with the tool's default command.
    #[arg(long, conflicts_with_all = ["trial", "behaviour"])]
    pub suite: bool,
    /// Where the tool's executable is [default: on PATH].
    #[arg(long)]
    pub tools_dir: Option<PathBuf>,
    /// List the built-in trials and each tool's default command.
    #[arg(long)]
    pub list_trials: bool,
    /// Draw the tools × trials matrix of these scorecards (files, or
    /// folders searched for them, as --suite writes them) as one HTML page
    /// (-o, default truth.html), each cell linking to its card's page.
    #[arg(long, value_name = "CARDS", num_args = 1.., conflicts_with_all = ["tool", "trial", "behaviour", "suite", "list_trials"])]
    pub matrix: Vec<PathBuf>,
    /// The tool's command, after `--`, with placeholders {url} {path} {rate}
    /// {duration} {connections} {out} {locustfile} {k6script}
    /// {artilleryscript} {jmeterplan} [default: the tool's own for the trial].
    #[arg(last = true)]
    pub command: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct JudgeArgs {
    /// The run record to judge.
    pub record: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Baseline: a record or a folder of records.
    pub base: PathBuf,
    /// New: a record or a folder of records.
    pub new: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The run record to report on.
    pub record: PathBuf,
    /// A baseline record (or folder) to compare with.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// A folder of records for the history trend.
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Where to write the HTML.
    #[arg(short = 'o', long = "out", default_value = "report.html")]
    pub out: PathBuf,
}

mod capacity;
mod merge;
#[cfg(feature = "demo")]
mod regression;
mod review;
mod run_args;
mod score;

/// Runs a parsed command; returns the exit code.
pub async fn dispatch(cli: Cli) -> Result<u8, Error> {
    let result = match cli.command {
        Command::Run(a) => run::run(&run_args::run_options(a)?).await?,
        #[cfg(feature = "demo")]
        Command::Demo(a) if a.regression.is_some() => {
            return regression::handle_regression(a).await
        }
        #[cfg(feature = "demo")]
        Command::Demo(a) => {
            run::demo::demo(&run::demo::DemoOptions {
                scenario: a.scenario,
                duration_scale: a.duration_scale,
                record: a.record.into(),
            })
            .await?
        }
        Command::Judge(a) => return handle_judge(&a),
        Command::Score(a) => return score::handle_score(&a).await,
        Command::History(a) => return handle_history(&a),
        Command::Analyze(a) => return handle_analyze(&a),
        Command::Compare(a) => return handle_compare(&a),
        Command::Report(a) => return handle_report(&a),
        Command::Import(a) => return handle_import(a),
        Command::Capacity(a) => return capacity::handle_capacity(a).await,
        Command::Review(a) => return review::handle_review(&a).await,
        Command::Scenarios(a) => return review::handle_scenarios(&a),
        Command::Merge(a) => return merge::handle_merge(&a),
    };
    Ok(result.record.verdict.exit_code())
}

fn handle_judge(a: &JudgeArgs) -> Result<u8, Error> {
    let record = RunRecord::read(&a.record)?;
    let judged = verdict::judge(&record);
    let _ = output::print_judgement(
        &mut std::io::stdout().lock(),
        &a.record,
        &record,
        &judged,
        a.format,
    );
    Ok(judged.verdict.exit_code())
}

fn handle_import(a: ImportArgs) -> Result<u8, Error> {
    let done = crate::import::import(&crate::import::ImportOptions {
        from: a.from,
        files: a.files,
        label: a.label,
        out: a.out,
        slos_from: a.slos_from,
        model: a.model,
    })?;
    let _ = output::print_imported(&mut std::io::stdout().lock(), &done, a.format);
    Ok(0)
}

fn handle_history(a: &HistoryArgs) -> Result<u8, Error> {
    let records = read_history(&a.dir)?;
    let _ = output::print_history(&mut std::io::stdout().lock(), &records, &a.dir);
    Ok(0)
}

fn handle_analyze(a: &AnalyzeArgs) -> Result<u8, Error> {
    let runs: Vec<Run> = if let Some(text) = &a.text {
        parse_text_history(&text.display().to_string(), &read_file(text)?)?
    } else {
        let paths = match (&a.history, a.records.is_empty()) {
            (Some(dir), _) => vec![dir.clone()],
            (None, false) => a.records.clone(),
            (None, true) => vec![PathBuf::from("results")],
        };
        read_records(&paths)?.iter().map(Run::from_record).collect()
    };
    let result = analysis::analyze(&runs, a.metric, a.threshold_ms)?;
    let _ = output::print_analysis(&mut std::io::stdout().lock(), &result, a.format);
    Ok(result.exit_code())
}

fn handle_compare(a: &CompareArgs) -> Result<u8, Error> {
    let c = compare::compare(&a.base, &a.new)?;
    let _ = output::print_comparison(&mut std::io::stdout().lock(), &c, a.format);
    Ok(c.exit_code())
}

fn handle_report(a: &ReportArgs) -> Result<u8, Error> {
    let record = RunRecord::read(&a.record)?;
    let baseline = a
        .baseline
        .as_ref()
        .map(|b| compare::compare(b, &a.record))
        .transpose()?;
    let history = match &a.history {
        Some(dir) => {
            let runs: Vec<Run> = read_history(dir)?.iter().map(Run::from_record).collect();
            let analysis = analysis::analyze(&runs, Percentile::P95, None)?;
            Some((runs, analysis))
        }
        None => None,
    };
    let history = history.as_ref().map(|(r, a)| (r.as_slice(), a));
    write_file(&a.out, report::html(&record, baseline.as_ref(), history))?;
    let _ = output::print_report_written(&mut std::io::stdout().lock(), &a.out);
    Ok(0)
}

/// The JSON files named by `paths`: files as given, folders' `.json` files
/// sorted (with `recurse`, their subfolders' too, as `score --suite`
/// leaves them, one folder per tool).
fn json_files(paths: &[PathBuf], recurse: bool) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(|source| Error::Read {
                path: p.clone(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        let (dirs, files): (Vec<PathBuf>, Vec<PathBuf>) =
            entries.into_iter().partition(|e| e.is_dir());
        out.extend(
            files
                .into_iter()
                .filter(|f| f.extension().is_some_and(|x| x == "json")),
        );
        if recurse {
            out.extend(json_files(&dirs, true)?);
        }
    }
    Ok(out)
}
