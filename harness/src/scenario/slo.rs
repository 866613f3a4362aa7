//! SLOs. In: nothing (types only, read from a scenario or a record). Out:
//! [`Slo`] (`metric op bound` over stages, for a task, class or all), its
//! [`Metric`] and [`Op`], and the [`Percentile`] a history is judged on.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

/// What an SLO measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    P50,
    P95,
    P99,
    Max,
    ErrorRate,
    Errors,
    Rps,
}

impl Metric {
    pub const ALL: [Metric; 7] = [
        Metric::P50,
        Metric::P95,
        Metric::P99,
        Metric::Max,
        Metric::ErrorRate,
        Metric::Errors,
        Metric::Rps,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::P50 => "p50",
            Metric::P95 => "p95",
            Metric::P99 => "p99",
            Metric::Max => "max",
            Metric::ErrorRate => "error_rate",
            Metric::Errors => "errors",
            Metric::Rps => "rps",
        }
    }

    /// The comparison used when the scenario names none: latencies and
    /// errors are upper bounds, throughput a lower one.
    pub fn default_op(self) -> Op {
        match self {
            Metric::P50 | Metric::P95 | Metric::P99 | Metric::Max => Op::Lt,
            Metric::ErrorRate | Metric::Errors => Op::Le,
            Metric::Rps => Op::Ge,
        }
    }

    /// The unit of the bound and the observed value.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::P50 | Metric::P95 | Metric::P99 | Metric::Max => "ms",
            Metric::ErrorRate | Metric::Errors => "",
            Metric::Rps => "req/s",
        }
    }

    /// Whether the metric is a latency (milliseconds).
    pub fn is_latency(self) -> bool {
        self.unit() == "ms"
    }
}

impl FromStr for Metric {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Metric::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown metric {s:?}; expected p50, p95, p99, max, error_rate, errors or rps"
                )
            })
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A latency percentile a history is judged on (`harness analyze --metric`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[derive(clap::ValueEnum)]
pub enum Percentile {
    P50,
    P95,
    P99,
}

impl Percentile {
    pub const ALL: [Percentile; 3] = [Percentile::P50, Percentile::P95, Percentile::P99];

    pub fn as_str(self) -> &'static str {
        Metric::from(self).as_str()
    }
}

impl From<Percentile> for Metric {
    fn from(p: Percentile) -> Metric {
        match p {
            Percentile::P50 => Metric::P50,
            Percentile::P95 => Metric::P95,
            Percentile::P99 => Metric::P99,
        }
    }
}

impl fmt::Display for Percentile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An SLO's comparison: `observed OP bound` must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
}

impl Op {
    pub fn holds(self, observed: f64, bound: f64) -> bool {
        match self {
            Op::Lt => observed < bound,
            Op::Le => observed <= bound,
            Op::Gt => observed > bound,
            Op::Ge => observed >= bound,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

impl FromStr for Op {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [Op::Lt, Op::Le, Op::Gt, Op::Ge]
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| format!("unknown comparison {s:?}; expected <, <=, > or >="))
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an SLO asks: `metric op bound` over some stages, for one task or
/// all. Records carry it as it is, so they can be judged again.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct Slo {
    pub id: String,
    pub metric: Metric,
    pub op: Op,
    pub bound: f64,
    /// The stages it applies to (the steady ones unless named).
    pub stages: Vec<String>,
    /// The task (or step) it is limited to, if any.
    pub task: Option<String>,
    /// The user class it is limited to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
}

impl Slo {
    /// `p95 < 2000`, with ` (task)` or ` (class/task)` when limited.
    pub fn describe(&self) -> String {
        let mut s = format!("{} {} {}", self.metric, self.op, self.bound);
        match (&self.class, &self.task) {
            (Some(c), Some(t)) => s.push_str(&format!(" ({c}/{t})")),
            (Some(c), None) => s.push_str(&format!(" ({c})")),
            (None, Some(t)) => s.push_str(&format!(" ({t})")),
            (None, None) => {}
        }
        s
    }
}

/// An SLO as written on the command line (`--slo 'p95<200ms'`, `--slo
/// 'errors<=0'`, `--slo 'rps>=100 task="get mission"'`): the same metrics
/// and comparisons as a file's `[[slos]]`, a bound with an optional unit
/// (latencies `us`, `ms` (the default) or `s`; `error_rate` a fraction or
/// `%`; `rps` an optional `/s`), then optional `task=NAME` and `class=NAME`
/// (quoted when the name has spaces), separated by spaces or commas.
#[derive(Debug, Clone, PartialEq)]
pub struct SloExpr {
    /// The text as given, for errors.
    pub text: String,
    pub metric: Metric,
    pub op: Op,
    /// In the metric's unit (ms, a fraction, a count, req/s).
    pub bound: f64,
    pub task: Option<String>,
    pub class: Option<String>,
}

impl FromStr for SloExpr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let s = text.trim();
        let metric_end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        if metric_end == 0 {
            return Err(format!(
                "{text:?}: expected METRIC OP BOUND, e.g. p95<200ms, errors<=0 or rps>=100"
            ));
        }
        let metric: Metric = s[..metric_end].parse()?;
        let rest = s[metric_end..].trim_start();
        let op_len = match rest.as_bytes() {
            [b'<' | b'>', b'=', ..] => 2,
            [b'<' | b'>', ..] => 1,
            _ => {
                return Err(format!(
                    "{text:?}: expected a comparison (<, <=, > or >=) after {metric}"
                ))
            }
        };
        let op: Op = rest[..op_len].parse()?;
        let rest = rest[op_len..].trim_start();
        if rest.starts_with(['<', '>', '=']) {
            return Err(format!(
                "{text:?}: {op}{} is not a comparison; expected <, <=, > or >=",
                &rest[..1]
            ));
        }
        let bound_end = rest
            .find(|c: char| c.is_whitespace() || c == ',')
            .unwrap_or(rest.len());
        let bound = bound(metric, &rest[..bound_end]).map_err(|why| format!("{text:?}: {why}"))?;
        let mut expr = SloExpr {
            text: text.to_owned(),
            metric,
            op,
            bound,
            task: None,
            class: None,
        };
        for (key, value) in
            qualifiers(&rest[bound_end..]).map_err(|why| format!("{text:?}: {why}"))?
        {
            let slot = match key.as_str() {
                "task" => &mut expr.task,
                "class" => &mut expr.class,
                other => {
                    return Err(format!(
                        "{text:?}: unknown qualifier {other:?}; expected task=NAME or class=NAME"
                    ))
                }
            };
            if slot.replace(value).is_some() {
                return Err(format!("{text:?}: {key}= is given twice"));
            }
        }
        Ok(expr)
    }
}

/// A bound and its unit, in the metric's unit.
fn bound(metric: Metric, s: &str) -> Result<f64, String> {
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("the bound {s:?} is not a number (with an optional unit)"))?;
    let scale = match (metric, unit) {
        (Metric::P50 | Metric::P95 | Metric::P99 | Metric::Max, "" | "ms") => 1.0,
        (Metric::P50 | Metric::P95 | Metric::P99 | Metric::Max, "s") => 1000.0,
        (Metric::P50 | Metric::P95 | Metric::P99 | Metric::Max, "us" | "µs") => 0.001,
        (Metric::ErrorRate, "") | (Metric::Errors, "") | (Metric::Rps, "" | "/s") => 1.0,
        (Metric::ErrorRate, "%") => 0.01,
        (_, unit) => {
            let units = match metric {
                Metric::P50 | Metric::P95 | Metric::P99 | Metric::Max => "us, ms or s",
                Metric::ErrorRate => "none (a fraction) or %",
                Metric::Errors => "none (a count)",
                Metric::Rps => "none or /s",
            };
            return Err(format!("{metric} takes {units}, not {unit:?}"));
        }
    };
    let value = value * scale;
    match metric {
        Metric::ErrorRate if value > 1.0 => Err(format!("error_rate is at most 1 (100%), got {s}")),
        Metric::Errors if value.fract() != 0.0 => Err(format!("errors is a whole count, got {s}")),
        _ => Ok(value),
    }
}

/// `key=value` pairs, separated by spaces or commas; a value may be quoted
/// with `"` or `'`.
fn qualifiers(mut s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if s.is_empty() {
            return Ok(out);
        }
        let (key, rest) = s
            .split_once('=')
            .ok_or_else(|| format!("expected task=NAME or class=NAME, got {s:?}"))?;
        let key = key.trim().to_owned();
        let rest = rest.trim_start();
        let (value, after) = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let close = rest[1..]
                    .find(q)
                    .ok_or_else(|| format!("{key}= has an unclosed {q}"))?;
                (&rest[1..1 + close], &rest[close + 2..])
            }
            _ => {
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == ',')
                    .unwrap_or(rest.len());
                rest.split_at(end)
            }
        };
        if value.trim().is_empty() {
            return Err(format!("{key}= needs a name"));
        }
        out.push((key, value.to_owned()));
        s = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> SloExpr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn command_line_slos_read_units_and_qualifiers() {
        let e = parse("p95<200ms");
        assert_eq!((e.metric, e.op, e.bound), (Metric::P95, Op::Lt, 200.0));
        assert_eq!(parse("p99 <= 1.5s").bound, 1500.0);
        assert_eq!(parse("max<250us").bound, 0.25);
        assert_eq!(parse("p50<20").bound, 20.0);
        assert_eq!(parse("error_rate<1%").bound, 0.01);
        assert_eq!(parse("error_rate<0.02").bound, 0.02);
        let e = parse("rps>=100/s");
        assert_eq!((e.op, e.bound), (Op::Ge, 100.0));
        let e = parse("errors<=0, task=\"get mission\" class='planner'");
        assert_eq!((e.metric, e.bound), (Metric::Errors, 0.0));
        assert_eq!(e.task.as_deref(), Some("get mission"));
        assert_eq!(e.class.as_deref(), Some("planner"));
        assert_eq!(e.text, "errors<=0, task=\"get mission\" class='planner'");
    }

    #[test]
    fn command_line_slos_that_cannot_be_read_say_why() {
        for (s, says) in [
            ("", "expected METRIC OP BOUND"),
            ("p95", "expected a comparison"),
            ("p95=200", "expected a comparison"),
            ("p95<=<200", "is not a comparison"),
            ("p95<", "is not a number"),
            ("p95<-5ms", "is not a number"),
            ("p95<5kb", "us, ms or s"),
            ("errors<1%", "none (a count)"),
            ("errors<1.5", "whole count"),
            ("error_rate<2", "at most 1"),
            ("rps>1/min", "none or /s"),
            ("p95<5 task", "expected task=NAME"),
            ("p95<5 task=", "needs a name"),
            ("p95<5 task=\"a b", "unclosed"),
            ("p95<5 task=a task=b", "given twice"),
            ("p95<5 route=x", "unknown qualifier"),
        ] {
            let e = s.parse::<SloExpr>().unwrap_err();
            assert!(e.contains(says), "{s:?}: {e}");
        }
    }
}
