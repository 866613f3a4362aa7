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
    /// How the tool reaches the target.
    pub wire: Wire,
}

/// How a trial's requests travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// Plain HTTP/1.1.
    Plain,
    /// HTTPS, a new connection for every request.
    Tls,
    /// HTTPS over HTTP/2.
    Http2,
}

impl Wire {
    /// Whether the target must serve HTTPS.
    pub fn needs_tls(self) -> bool {
        self != Wire::Plain
    }
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
            wire: Wire::Plain,
        },
        Trial {
            name: "tail",
            about: "lognormal latency, median 20 ms and p99 200 ms: the tail must be measured, not smoothed",
            behaviour: json!({"seed": 1, "latency": {"get_mission": "lognormal(20,200)"}}),
            duration: secs(30),
            connections: 50,
            rate: None,
            judge_latency: true,
            wire: Wire::Plain,
        },
        Trial {
            name: "errors",
            about: "5% of mission reads answer 503: errors must be counted as the server counted them",
            behaviour: json!({"seed": 1, "faults": [{"route": "get_mission", "kind": "503", "probability": 0.05}]}),
            duration: secs(15),
            connections: 50,
            rate: None,
            judge_latency: false,
            wire: Wire::Plain,
        },
        Trial {
            name: "resets",
            about: "1% of mission reads get a TCP reset before any byte: counted as errors, not lost",
            behaviour: json!({"seed": 1, "faults": [{"route": "get_mission", "kind": "reset", "probability": 0.01}]}),
            duration: secs(15),
            connections: 50,
            rate: None,
            judge_latency: false,
            wire: Wire::Plain,
        },
        Trial {
            name: "stall",
            about: "the server stalls 1 s every 10 s at 200 arrivals/s: p95 about 500 ms, p99 about 900 ms for users arriving at that rate",
            behaviour: json!({"seed": 1, "stall": {"every": "10s", "for": "1s", "phase": "0s"}}),
            duration: secs(30),
            connections: 50,
            rate: Some(200.0),
            judge_latency: true,
            wire: Wire::Plain,
        },
        Trial {
            name: "tls",
            about: "HTTPS, 20 ms added to every TLS handshake, a new connection per request: requests counted as the server counted them, and latencies that include the handshakes the tool made (the server counts them and knows the delay)",
            behaviour: json!({"seed": 1, "tls_handshake_delay": "fixed(20)"}),
            duration: secs(15),
            connections: 10,
            rate: None,
            // The reference (service time) excludes the handshakes: the
            // connection line judges what they add.
            judge_latency: false,
            wire: Wire::Tls,
        },
        Trial {
            name: "h2",
            about: "HTTPS asked over HTTP/2, every mission read 50 ms more: every request must arrive as HTTP/2 (the server counts them by protocol) and the percentiles read 50 ms and a little",
            behaviour: json!({"seed": 1, "latency": {"get_mission": "fixed(50)"}}),
            duration: secs(15),
            connections: 10,
            rate: None,
            judge_latency: true,
            wire: Wire::Http2,
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

/// `tool`'s default command for `wire`: the plain one with what makes it
/// trust the target's certificate (`{cacert}`), make a new connection per
/// request (`Wire::Tls`) or speak HTTP/2 (`Wire::Http2`). `Err` says why
/// the tool has none here (it cannot speak HTTP/2, say).
pub fn command_for(
    tool: Tool,
    program: &str,
    rate: bool,
    wire: Wire,
) -> Result<Vec<String>, String> {
    let plain = default_command(tool, program, rate).ok_or_else(|| {
        format!("{tool} has no default command here (its runs need your simulation): give yours after --, writing a copy of its simulation.log to {{out}}")
    })?;
    if wire == Wire::Plain {
        return Ok(plain);
    }
    let cannot = |why: &str| {
        Err(format!(
            "{tool} has no default command for the {} trial: {why}",
            match wire {
                Wire::Tls => "tls",
                _ => "h2",
            }
        ))
    };
    let mut c = plain;
    let at = |c: &[String], arg: &str| c.iter().position(|a| a == arg).map_or(1, |i| i + 1);
    let insert = |c: &mut Vec<String>, i: usize, args: &[&str]| {
        c.splice(i..i, args.iter().map(|a| (*a).to_owned()))
            .for_each(drop);
    };
    match (tool, wire) {
        (Tool::Harness, Wire::Tls) => c.extend(["--ca-cert", "{cacert}", "--connection", "per-request"].map(String::from)),
        (Tool::Harness, _) => c.extend(["--ca-cert", "{cacert}", "--http2"].map(String::from)),
        (Tool::Oha, Wire::Tls) => insert(&mut c, 1, &["--cacert", "{cacert}", "--disable-keepalive"]),
        (Tool::Oha, _) => insert(&mut c, 1, &["--cacert", "{cacert}", "--http2"]),
        // hey does not check certificates.
        (Tool::Hey, Wire::Tls) => insert(&mut c, 1, &["-disable-keepalive"]),
        (Tool::Hey, _) => insert(&mut c, 1, &["-h2"]),
        // wrk does not check certificates; a `Connection: close` request
        // makes the server close each connection after its answer.
        (Tool::Wrk, Wire::Tls) => insert(&mut c, 1, &["-H", "Connection: close"]),
        (Tool::Wrk, _) => return cannot("wrk speaks HTTP/1.1 only"),
        // k6 negotiates HTTP/2 by ALPN on its own.
        (Tool::K6, Wire::Tls) => {
            let i = at(&c, "--quiet");
            insert(&mut c, i, &["--insecure-skip-tls-verify", "--no-connection-reuse"])
        }
        (Tool::K6, _) => {
            let i = at(&c, "--quiet");
            insert(&mut c, i, &["--insecure-skip-tls-verify"])
        }
        // Locust (requests) trusts what REQUESTS_CA_BUNDLE names and keeps
        // its connections alive.
        (Tool::Locust, Wire::Tls) => insert(&mut c, 0, &["env", "REQUESTS_CA_BUNDLE={cacert}"]),
        (Tool::Locust, _) => return cannot("Locust's HttpUser speaks HTTP/1.1 only"),
        (Tool::Autocannon, _) => return cannot("autocannon speaks HTTP/1.1 only and does not check certificates in a way its options set"),
        _ => return cannot("not written yet; give your command after --"),
    }
    Ok(c)
}

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
