//! The built-in trials. In: a trial's name. Out: the behaviour the target
//! is given (the admin API's JSON), how long and how hard to load it, and
//! each tool's default command for it.
//!
//! Every trial loads one route, the mission read, on a target seeded as
//! the demo's (1000 missions, seed 42) with its behaviour's draws seeded,
//! and runs long enough for the percentiles it is scored on to be stable:
//! tens of thousands of samples for the tail, three whole stall periods.

use std::time::Duration;

use serde_json::{json, Value};

use crate::adapters::Tool;

/// The path every trial requests.
pub const PATH: &str = "/api/missions/MISSION-0001";

/// A known behaviour, and how to load it.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    pub name: &'static str,
    /// What it checks, in a line.
    pub about: &'static str,
    /// `PUT /__admin/behaviour`'s body.
    pub behaviour: Value,
    pub duration: Duration,
    /// Connections (closed-model tools) or room for requests in flight.
    pub connections: u32,
    /// Arrivals per second for tools that can keep a rate (open model).
    pub rate: Option<f64>,
    /// Whether the percentiles are judged (the error trials judge counts:
    /// at full speed with no added latency, what a client sees is mostly
    /// its own machine's queueing).
    pub judge_latency: bool,
}

/// Every built-in trial.
pub fn all() -> Vec<Trial> {
    let secs = Duration::from_secs;
    vec![
        Trial {
            name: "fixed",
            about: "every mission read takes 50 ms more: the percentiles must all read 50 ms and a little, the max no more than the client's own worst delay above it",
            behaviour: json!({"seed": 1, "latency": {"get_mission": "fixed(50)"}}),
            duration: secs(30),
            // Few connections: with a fixed delay, answers come back in
            // bursts of one per connection, and a tool reads the last of a
            // burst only after the others (docs/scorecard.md).
            connections: 10,
            rate: None,
            judge_latency: true,
        },
        Trial {
            name: "tail",
            about: "lognormal latency, median 20 ms and p99 200 ms: the tail must be measured, not smoothed",
            behaviour: json!({"seed": 1, "latency": {"get_mission": "lognormal(20,200)"}}),
            duration: secs(30),
            connections: 50,
            rate: None,
            judge_latency: true,
        },
        Trial {
            name: "errors",
            about: "5% of mission reads answer 503: errors must be counted as the server counted them",
            behaviour: json!({"seed": 1, "faults": [{"route": "get_mission", "kind": "503", "probability": 0.05}]}),
            duration: secs(15),
            connections: 50,
            rate: None,
            judge_latency: false,
        },
        Trial {
            name: "resets",
            about: "1% of mission reads get a TCP reset before any byte: counted as errors, not lost",
            behaviour: json!({"seed": 1, "faults": [{"route": "get_mission", "kind": "reset", "probability": 0.01}]}),
            duration: secs(15),
            connections: 50,
            rate: None,
            judge_latency: false,
        },
        Trial {
            name: "stall",
            about: "the server stalls 1 s every 10 s at 200 arrivals/s: p95 about 500 ms, p99 about 900 ms for users arriving at that rate",
            behaviour: json!({"seed": 1, "stall": {"every": "10s", "for": "1s", "phase": "0s"}}),
            duration: secs(30),
            connections: 50,
            rate: Some(200.0),
            judge_latency: true,
        },
    ]
}

/// The trial called `name`.
pub fn named(name: &str) -> Option<Trial> {
    all().into_iter().find(|t| t.name == name)
}

const HARNESS_ARGS: [&str; 11] = [
    "run",
    "--target",
    "{url}",
    "--path",
    "{path}",
    "--duration",
    "{duration}",
    "--quiet",
    "--no-server-stats",
    "--out",
    "{out}",
];
const WRK_ARGS: [&str; 5] = [
    "-t1",
    "-c{connections}",
    "-d{duration}",
    "--latency",
    "{url}{path}",
];
const OHA_ARGS: [&str; 8] = [
    "-c",
    "{connections}",
    "-z",
    "{duration}",
    "--no-tui",
    "--output-format",
    "json",
    "{url}{path}",
];
const HEY_ARGS: [&str; 7] = [
    "-z",
    "{duration}",
    "-c",
    "{connections}",
    "-o",
    "csv",
    "{url}{path}",
];
const LOCUST_ARGS: [&str; 16] = [
    "-f",
    "{locustfile}",
    "--headless",
    "-u",
    "{connections}",
    "-r",
    "{connections}",
    "-t",
    "{duration}",
    "--host",
    "{url}",
    "--csv",
    "{out}",
    "--only-summary",
    // Locust exits 1 when any request failed (its default
    // --exit-code-on-error): the errors trial is meant to have them.
    "--exit-code-on-error",
    "0",
];
const K6_ARGS: [&str; 11] = [
    "run",
    "--quiet",
    // Every request's samples, timed to the microsecond (the summary has
    // only the few percentiles summaryTrendStats asks for).
    "--out",
    "csv=fileName={out},timeFormat=unix_micro",
    "-e",
    "URL={url}{path}",
    "-e",
    "VUS={connections}",
    "-e",
    "DURATION={duration}",
    "{k6script}",
];

const JMETER_ARGS: [&str; 8] = [
    "-n",
    "-t",
    "{jmeterplan}",
    "-l",
    "{out}",
    // No shutdown listener on a fixed port; a header naming the columns.
    "-Jjmeterengine.nongui.port=0",
    "-Jjmeter.save.saveservice.output_format=csv",
    "-Jjmeter.save.saveservice.print_field_names=true",
];
const ARTILLERY_ARGS: [&str; 5] = ["run", "--quiet", "--output", "{out}", "{artilleryscript}"];
const AUTOCANNON_ARGS: [&str; 6] = [
    "-c",
    "{connections}",
    "-d",
    "{duration}",
    "--json",
    "{url}{path}",
];

/// `tool`'s default command, with its placeholders (`{url}`, `{path}`,
/// `{rate}`, `{duration}`, `{connections}`, `{out}`, `{locustfile}`,
/// `{k6script}`, `{artilleryscript}`, `{jmeterplan}`). `program` is the tool's executable; `rate` says whether
/// the trial has an arrival rate (tools that can keep one are then run
/// open). `None` for Gatling, whose runs need a simulation of the user's
/// own: give its command after `--`.
pub fn default_command(tool: Tool, program: &str, rate: bool) -> Option<Vec<String>> {
    let vegeta_load = if rate {
        "-rate={rate}"
    } else {
        "-rate=0 -max-workers={connections}"
    };
    let vegeta = format!(
        "echo 'GET {{url}}{{path}}' | {program} attack {vegeta_load} -duration={{duration}} -connections={{connections}} | {program} report -type=json > {{out}}"
    );
    let args: &[&str] = match tool {
        Tool::Harness => &HARNESS_ARGS,
        Tool::Wrk => &WRK_ARGS,
        Tool::Oha => &OHA_ARGS,
        Tool::Hey => &HEY_ARGS,
        Tool::Locust => &LOCUST_ARGS,
        Tool::K6 => &K6_ARGS,
        Tool::Vegeta => {
            return Some(vec!["sh".to_owned(), "-c".to_owned(), vegeta]);
        }
        Tool::Artillery => &ARTILLERY_ARGS,
        Tool::Autocannon => &AUTOCANNON_ARGS,
        Tool::Jmeter => &JMETER_ARGS,
        Tool::Gatling => return None,
    };
    let mut c: Vec<&str> = std::iter::once(program)
        .chain(args.iter().copied())
        .collect();
    match (tool, rate) {
        (Tool::Harness, true) => c.extend(["--rate", "{rate}"]),
        (Tool::Harness, false) => c.extend(["--users", "{connections}"]),
        (Tool::Oha, true) => c
            .splice(1..1, ["-q", "{rate}", "--latency-correction"])
            .for_each(drop),
        (Tool::K6, true) => c.splice(11..11, ["-e", "RATE={rate}"]).for_each(drop),
        (Tool::Autocannon, true) => c.splice(6..6, ["--overallRate", "{rate}"]).for_each(drop),
        // No telemetry sent from a lab's runs.
        (Tool::Artillery, _) => c
            .splice(0..0, ["env", "ARTILLERY_DISABLE_TELEMETRY=true"])
            .for_each(drop),
        _ => {}
    }
    Some(c.into_iter().map(str::to_owned).collect())
}
