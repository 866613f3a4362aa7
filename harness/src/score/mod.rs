//! `harness score`: judge a load tool against the known target. In: the
//! tool, a trial (or a behaviour file), its command (or the tool's default
//! one). Out: a [`card::Scorecard`]: what the tool reported beside what the
//! server measured over exactly the same window, and, for an arrival rate
//! with a stall, what users on that schedule experienced.
//!
//! trial behaviour → the target (in-process, or `--target` through its
//! admin API) → the tool's command run with a time limit → its output
//! through its adapter → the server's truth over the window → scorecard.
//!
//! - [`trial`]: the built-in trials and each tool's default command.
//! - [`target`]: the target, its admin API and its truth.
//! - [`command`]: placeholders, running the tool.
//! - [`scripts`]: the k6, Locust and Artillery scripts and the JMeter plan
//!   default commands run.
//! - [`card`]: the scorecard and its arithmetic; [`wire`]: the `tls` and
//!   `h2` trials' judgement of the tool's connections.

pub mod card;
pub mod command;
pub mod scripts;
pub mod target;
pub mod trial;
pub mod wire;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::adapters::{self, LoadModel, Tool, ToolReport};
use crate::error::{read_file, Error};
use card::{Run, Scorecard, Tolerance};
use target::Target;
use trial::Trial;

/// What a score needs, from flags.
#[derive(Debug, Clone)]
pub struct ScoreOptions {
    pub tool: Tool,
    pub trial: Option<String>,
    pub behaviour: Option<PathBuf>,
    pub target: Option<String>,
    pub admin_token: Option<String>,
    /// A percentile is within the larger of this share of the reference
    /// and `tolerance_ms`; `max` may also be `client_allowance_ms` above.
    pub tolerance_pct: f64,
    pub tolerance_ms: f64,
    pub client_allowance_ms: f64,
    /// How far counts may be off [default: the connections].
    pub count_allowance: Option<u64>,
    /// How the tool loaded, when its output and command do not say.
    pub model: Option<LoadModel>,
    /// The tool's executable folder (default: found on PATH).
    pub tools_dir: Option<PathBuf>,
    /// Overrides of the trial's duration, connections and rate.
    pub duration: Option<Duration>,
    pub connections: Option<u32>,
    pub rate: Option<f64>,
    /// Trust this certificate of an `https://` `--target`.
    pub ca_cert: Option<PathBuf>,
    /// Trust any certificate of an `https://` `--target`.
    pub insecure: bool,
    /// The command, with placeholders; empty: the tool's default one.
    pub command: Vec<String>,
}

/// What to load the target with: a trial, or a behaviour file's.
fn plan(opts: &ScoreOptions) -> Result<Trial, Error> {
    match (&opts.trial, &opts.behaviour) {
        (Some(name), None) => trial::named(name).ok_or_else(|| {
            let names: Vec<&str> = trial::all().iter().map(|t| t.name).collect();
            Error::Usage(format!(
                "--trial {name:?}: no such trial; expected one of {}",
                names.join(", ")
            ))
        }),
        (None, Some(file)) => {
            let text = read_file(file)?;
            let value: toml::Value = toml::from_str(&text).map_err(|e| {
                let line = e
                    .span()
                    .map_or(0, |s| text[..s.start].matches('\n').count() + 1);
                Error::ToolOutput {
                    file: file.display().to_string(),
                    line,
                    message: format!("not a behaviour file: {}", e.message()),
                }
            })?;
            let behaviour = serde_json::to_value(value)
                .map_err(|e| Error::Usage(format!("--behaviour {}: {e}", file.display())))?;
            Ok(Trial {
                name: "custom",
                about: "the behaviour file's",
                behaviour,
                duration: Duration::from_secs(15),
                connections: 50,
                rate: None,
                judge_latency: true,
                wire: trial::Wire::Plain,
            })
        }
        (Some(_), Some(_)) => Err(Error::Usage("give --trial or --behaviour, not both".into())),
        (None, None) => Err(Error::Usage(
            "give --trial NAME (see --list-trials) or --behaviour FILE".into(),
        )),
    }
}

/// The tool's executable: in `--tools-dir`, on PATH, or this harness.
fn program(tool: Tool, tools_dir: Option<&Path>) -> String {
    match (tool, tools_dir) {
        (Tool::Harness, _) => std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "harness".into()),
        (_, Some(dir)) => dir.join(tool.name()).display().to_string(),
        (_, None) => tool.name().to_owned(),
    }
}

/// The (quoted) `stall` of a behaviour, as (every, for).
fn stall_of(behaviour: &Value) -> Option<(Duration, Duration)> {
    let stall = behaviour.get("stall")?;
    let d = |k: &str| humantime::parse_duration(stall.get(k)?.as_str()?).ok();
    Some((d("every")?, d("for")?))
}

/// Runs one score: the tool against the target under the trial.
pub async fn score(opts: &ScoreOptions) -> Result<Scorecard, Error> {
    let plan = plan(opts)?;
    let tls = crate::load::tls::TlsOptions {
        ca_cert: opts.ca_cert.clone(),
        insecure: opts.insecure,
        ..Default::default()
    };
    let target = match &opts.target {
        Some(url) => {
            if plan.wire.needs_tls() && !url.starts_with("https://") {
                return Err(Error::Usage(format!(
                    "--trial {}: the target must serve HTTPS (start it with mock-api --tls and give its https:// URL and --ca-cert)",
                    plan.name
                )));
            }
            Target::remote(url, opts.admin_token.as_deref(), &tls).await?
        }
        None => in_process(plan.wire.needs_tls()).await?,
    };
    let work = tempfile::tempdir().map_err(|source| Error::CreateDir {
        path: std::env::temp_dir(),
        source,
    })?;
    let rate = opts.rate.or(plan.rate);
    let values = command::Values {
        url: target.url.clone(),
        path: trial::PATH.to_owned(),
        rate: rate.unwrap_or(0.0),
        duration: opts.duration.unwrap_or(plan.duration),
        connections: opts.connections.unwrap_or(plan.connections),
        // Artillery takes an --output without an extension for a folder.
        out: work
            .path()
            .join(match opts.tool {
                Tool::Artillery => "out.json",
                _ => "out",
            })
            .display()
            .to_string(),
        locustfile: work.path().join("locustfile.py").display().to_string(),
        k6script: work.path().join("trial.js").display().to_string(),
        artilleryscript: work.path().join("trial.yml").display().to_string(),
        jmeterplan: work.path().join("trial.jmx").display().to_string(),
        cacert: target
            .tls
            .ca_cert
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    };
    match opts.tool {
        Tool::Locust => crate::error::write_file(
            Path::new(&values.locustfile),
            scripts::locustfile(trial::PATH),
        )?,
        Tool::K6 => crate::error::write_file(Path::new(&values.k6script), scripts::K6_SCRIPT)?,
        Tool::Artillery => crate::error::write_file(
            Path::new(&values.artilleryscript),
            scripts::artillery(
                &values.url,
                trial::PATH,
                scripts::artillery_rate(rate, values.connections),
                values.duration,
            ),
        )?,
        Tool::Jmeter => crate::error::write_file(
            Path::new(&values.jmeterplan),
            scripts::jmeter_plan(
                &values.url,
                trial::PATH,
                values.connections,
                values.duration,
            ),
        )?,
        _ => {}
    }
    let template = if opts.command.is_empty() {
        let program = program(opts.tool, opts.tools_dir.as_deref());
        trial::command_for(opts.tool, &program, rate.is_some(), plan.wire).map_err(Error::Usage)?
    } else {
        opts.command.clone()
    };
    let argv: Vec<String> = template.iter().map(|a| command::fill(a, &values)).collect();
    target.configure(&plan.behaviour).await?;
    let start = target.snapshot().await?;
    let started_at = chrono::Utc::now().to_rfc3339();
    let limit = values.duration * 2 + Duration::from_secs(60);
    let ran = command::run(&argv, work.path(), limit).await?;
    let end = target.snapshot().await?;
    let default = opts.command.is_empty();
    let report = read_report(opts.tool, &argv, default, &ran, &values.out, opts.model)
        .map_err(|e| with_last_lines(e, &ran))?;
    let truth = target::truth(&start, &end)?;
    let run = Run {
        trial: opts.trial.clone(),
        stall: stall_of(&plan.behaviour),
        behaviour: plan.behaviour,
        target: target.url.clone(),
        command: argv,
        started_at,
        duration: values.duration,
        connections: values.connections,
        rate,
        tolerance: Tolerance {
            pct: opts.tolerance_pct,
            ms: opts.tolerance_ms,
            max_client_ms: opts.client_allowance_ms,
            in_flight: opts
                .count_allowance
                .unwrap_or(u64::from(values.connections)),
        },
        judge_latency: plan.judge_latency,
        wire: plan.wire,
    };
    Ok(card::build(run, &report, &truth))
}

#[cfg(feature = "demo")]
async fn in_process(tls: bool) -> Result<Target, Error> {
    Target::in_process(tls).await
}

#[cfg(not(feature = "demo"))]
async fn in_process(_tls: bool) -> Result<Target, Error> {
    Err(Error::Usage(
        "this harness was built without the demo feature: give --target URL --admin-token T".into(),
    ))
}

/// An unparseable report's error, with what the tool printed last.
fn with_last_lines(e: Error, ran: &command::Ran) -> Error {
    match e {
        Error::ToolOutput {
            file,
            line,
            message,
        } => Error::ToolOutput {
            file,
            line,
            message: format!(
                "{message}\nthe tool's last lines:\n{}",
                command::tail(&format!("{}\n{}", ran.stdout, ran.stderr), 8)
            ),
        },
        other => other,
    }
}

/// How the tool loaded: `--model` when given, else what its command says
/// for the tools whose output does not (oha with `-q` and
/// `--latency-correction`, k6 given a `RATE` (its default script then runs
/// an arrival-rate executor), vegeta at a rate above 0 are open); `None`:
/// the adapter's own reading (the harness's record says; wrk, hey, Locust,
/// autocannon and JMeter thread groups are closed; Gatling is closed unless
/// told; Artillery is open, its way, noted as a guess, unless `default`:
/// the default command ran, whose script launches users at a rate).
fn model_of(
    tool: Tool,
    argv: &[String],
    default: bool,
    given: Option<LoadModel>,
) -> Option<LoadModel> {
    let open = |yes: bool| {
        Some(if yes {
            LoadModel::Open
        } else {
            LoadModel::Closed
        })
    };
    let has = |flag: &str| argv.iter().any(|a| a == flag);
    given.or_else(|| match tool {
        Tool::Oha => open((has("-q") || has("--query-per-second")) && has("--latency-correction")),
        Tool::K6 => open(argv.iter().any(|a| {
            a.strip_prefix("RATE=")
                .and_then(|r| r.parse::<f64>().ok())
                .is_some_and(|r| r > 0.0)
        })),
        Tool::Vegeta => open(!argv.iter().any(|a| a.contains("-rate=0 "))),
        Tool::Artillery if default => open(true),
        _ => None,
    })
}

/// The tool's output through its adapter: stdout, or the file it wrote.
fn read_report(
    tool: Tool,
    argv: &[String],
    default: bool,
    ran: &command::Ran,
    out: &str,
    model: Option<LoadModel>,
) -> Result<ToolReport, Error> {
    let stdout = format!("{} (stdout)", argv.first().map_or("tool", String::as_str));
    let told = model_of(tool, argv, default, model);
    let model = told.unwrap_or(LoadModel::Closed);
    let mut report = match tool {
        Tool::Harness => adapters::harness::read(Path::new(out))?,
        Tool::Wrk => adapters::wrk::parse(&stdout, &ran.stdout)?,
        Tool::Hey => adapters::hey::parse(&stdout, &ran.stdout)?,
        Tool::Oha => adapters::oha::parse(&stdout, &ran.stdout, model)?,
        Tool::Locust => {
            let file = format!("{out}_stats.csv");
            adapters::locust::parse_stats(&file, &read_file(Path::new(&file))?)?
        }
        Tool::K6 => adapters::k6::parse(out, &read_file(Path::new(out))?, told)?,
        Tool::Vegeta => adapters::vegeta::parse(out, &read_file(Path::new(out))?)?,
        Tool::Jmeter => adapters::jmeter::parse(out, &read_file(Path::new(out))?)?,
        Tool::Gatling => adapters::gatling::parse(out, &read_file(Path::new(out))?, model)?,
        Tool::Artillery => adapters::artillery::parse(out, &read_file(Path::new(out))?, told)?,
        Tool::Autocannon => {
            let rated = argv.iter().any(|a| {
                ["-R", "--overallRate", "-r", "--connectionRate"].contains(&a.as_str())
                    || a.starts_with("--overallRate=")
                    || a.starts_with("--connectionRate=")
            });
            adapters::autocannon::parse(&stdout, &ran.stdout, Some(rated))?
        }
    };
    // A model given or read from the command stands for the tools whose
    // output cannot say it (k6's dropped iterations already said open).
    if let Some(m) = told.filter(|_| matches!(tool, Tool::Vegeta | Tool::Jmeter)) {
        report.model = m;
    }
    Ok(report)
}
