//! The scenario file's shapes as written (TOML, with spans for errors).
//! Nothing here is checked beyond its type; [`super::validate`] does that.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The keys of the file's top level. Written after a table header (a
/// classic slip), TOML puts one in that table, where it is unknown.
pub(super) const TOP_LEVEL_KEYS: [&str; 19] = [
    "name",
    "description",
    "requirement",
    "keys",
    "think_time",
    "tasks",
    "stages",
    "slos",
    "timeout",
    "max_in_flight",
    "users",
    "targets",
    "protocol",
    "connection",
    "connections",
    "max_streams",
    "tls_resumption",
    "trace_sample",
    "slowest",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    pub(super) name: String,
    #[serde(default)]
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) requirement: Option<RawRequirement>,
    #[serde(default)]
    pub(super) keys: BTreeMap<String, Spanned<RawKey>>,
    #[serde(default)]
    pub(super) think_time: Option<Spanned<RawThink>>,
    #[serde(default)]
    pub(super) tasks: Option<Spanned<Vec<Spanned<RawTask>>>>,
    #[serde(default)]
    pub(super) users: Option<Spanned<Vec<Spanned<RawClass>>>>,
    #[serde(default)]
    pub(super) targets: BTreeMap<String, Spanned<RawTarget>>,
    pub(super) stages: Spanned<Vec<Spanned<RawStage>>>,
    #[serde(default)]
    pub(super) slos: Vec<Spanned<RawSlo>>,
    #[serde(default)]
    pub(super) timeout: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) max_in_flight: Option<Spanned<u32>>,
    /// `h1` (default) or `h2`.
    #[serde(default)]
    pub(super) protocol: Option<Spanned<String>>,
    /// Every class's connection reuse unless it says: `keep-alive`
    /// (default), `per-iteration`, `per-request`.
    #[serde(default)]
    pub(super) connection: Option<Spanned<String>>,
    /// HTTP/2 connections per target shared by keep-alive users.
    #[serde(default)]
    pub(super) connections: Option<Spanned<u32>>,
    /// Requests in flight at once on one HTTP/2 connection.
    #[serde(default)]
    pub(super) max_streams: Option<Spanned<u32>>,
    /// Resume TLS sessions on new connections (default true).
    #[serde(default)]
    pub(super) tls_resumption: Option<bool>,
    /// The fraction of requests whose `traceparent` says sampled (default 1).
    #[serde(default)]
    pub(super) trace_sample: Option<Spanned<f64>>,
    /// Slowest requests kept per task in the steady window (default 10).
    #[serde(default)]
    pub(super) slowest: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRequirement {
    pub(super) id: String,
    pub(super) text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKey {
    pub(super) distribution: Spanned<String>,
    pub(super) n: Spanned<u64>,
    #[serde(default)]
    pub(super) s: Option<Spanned<f64>>,
    #[serde(default)]
    pub(super) start: Option<u64>,
    #[serde(default)]
    pub(super) format: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawThink {
    pub(super) kind: Spanned<String>,
    #[serde(default)]
    pub(super) min: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) max: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) value: Option<Spanned<String>>,
}

/// A user class (`[[users]]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClass {
    pub(super) name: Spanned<String>,
    #[serde(default)]
    pub(super) weight: Option<Spanned<u32>>,
    #[serde(default)]
    pub(super) count: Option<Spanned<u32>>,
    #[serde(default)]
    pub(super) think_time: Option<Spanned<RawThink>>,
    #[serde(default)]
    pub(super) keys: BTreeMap<String, Spanned<RawKey>>,
    pub(super) tasks: Spanned<Vec<Spanned<RawTask>>>,
    #[serde(default)]
    pub(super) target: Option<Spanned<String>>,
    /// This class's `h1` or `h2`, when not the scenario's.
    #[serde(default)]
    pub(super) protocol: Option<Spanned<String>>,
    /// This class's connection reuse.
    #[serde(default)]
    pub(super) connection: Option<Spanned<String>>,
}

/// A named target (`[targets.NAME]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTarget {
    pub(super) url: Spanned<String>,
}

/// A task: one request (its fields here), or a flow of `steps`.
///
/// The request fields repeat [`RawStep`]'s rather than flattening it in:
/// serde's `deny_unknown_fields` does not work together with `flatten`,
/// and a misspelt field must stay an error that names its line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTask {
    pub(super) name: Spanned<String>,
    #[serde(default = "one")]
    pub(super) weight: Spanned<u32>,
    #[serde(default)]
    pub(super) method: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) path: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) body: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub(super) expect: Option<Spanned<RawStatuses>>,
    #[serde(default)]
    pub(super) headers: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(super) extract: Vec<Spanned<RawExtract>>,
    #[serde(default)]
    pub(super) check: Vec<Spanned<RawCheck>>,
    #[serde(default)]
    pub(super) steps: Option<Spanned<Vec<Spanned<RawStep>>>>,
    #[serde(default)]
    pub(super) on_error: Option<Spanned<String>>,
}

/// One request of a flow (`[[tasks.steps]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub(super) name: Spanned<String>,
    #[serde(default)]
    pub(super) method: Option<Spanned<String>>,
    pub(super) path: Spanned<String>,
    #[serde(default)]
    pub(super) body: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub(super) expect: Option<Spanned<RawStatuses>>,
    #[serde(default)]
    pub(super) headers: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(super) extract: Vec<Spanned<RawExtract>>,
    #[serde(default)]
    pub(super) check: Vec<Spanned<RawCheck>>,
}

/// One status or several (`expect = 200`, `expect = [200, 412]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum RawStatuses {
    One(i64),
    Many(Vec<i64>),
}

/// A value taken from a response into a variable.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExtract {
    pub(super) var: Spanned<String>,
    #[serde(default)]
    pub(super) json: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) header: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) regex: Option<Spanned<String>>,
}

/// A test of a response.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCheck {
    #[serde(default)]
    pub(super) status: Option<Spanned<RawStatuses>>,
    #[serde(default)]
    pub(super) json: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) exists: Option<Spanned<bool>>,
    #[serde(default)]
    pub(super) equals: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub(super) matches: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) body_contains: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) latency_under: Option<Spanned<String>>,
}

fn one() -> Spanned<u32> {
    Spanned::new(0..0, 1)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStage {
    pub(super) name: Spanned<String>,
    #[serde(default)]
    pub(super) users: Option<Spanned<u32>>,
    #[serde(default)]
    pub(super) rate: Option<Spanned<f64>>,
    #[serde(default)]
    pub(super) from_rate: Option<Spanned<f64>>,
    #[serde(default)]
    pub(super) from_users: Option<Spanned<u32>>,
    pub(super) duration: Spanned<String>,
    #[serde(default)]
    pub(super) steady: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSlo {
    #[serde(default)]
    pub(super) id: Option<String>,
    pub(super) metric: Spanned<String>,
    #[serde(default)]
    pub(super) op: Option<Spanned<String>>,
    pub(super) bound: Spanned<f64>,
    #[serde(default)]
    pub(super) stages: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub(super) task: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) class: Option<Spanned<String>>,
}
