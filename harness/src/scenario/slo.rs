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
