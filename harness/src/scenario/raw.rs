//! The scenario file's shapes as written (TOML, with spans for errors).
//! Nothing here is checked beyond its type; [`super::validate`] does that.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The keys of the file's top level. Written after a table header (a
/// classic slip), TOML puts one in that table, where it is unknown.
pub(super) const TOP_LEVEL_KEYS: [&str; 10] = [
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
    pub(super) tasks: Spanned<Vec<Spanned<RawTask>>>,
    pub(super) stages: Spanned<Vec<Spanned<RawStage>>>,
    #[serde(default)]
    pub(super) slos: Vec<Spanned<RawSlo>>,
    #[serde(default)]
    pub(super) timeout: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) max_in_flight: Option<Spanned<u32>>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTask {
    pub(super) name: Spanned<String>,
    #[serde(default = "one")]
    pub(super) weight: Spanned<u32>,
    #[serde(default = "get")]
    pub(super) method: Spanned<String>,
    pub(super) path: Spanned<String>,
    #[serde(default)]
    pub(super) body: Option<Spanned<toml::Value>>,
    #[serde(default = "ok")]
    pub(super) expect: Spanned<u16>,
}

fn one() -> Spanned<u32> {
    Spanned::new(0..0, 1)
}
fn get() -> Spanned<String> {
    Spanned::new(0..0, "GET".to_owned())
}
fn ok() -> Spanned<u16> {
    Spanned::new(0..0, 200)
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
}
