//! `harness review`: the seed document's governance checklist, applied to a
//! scenario before anyone trusts its results. In: a scenario (a file or a
//! built-in name, read leniently so that a missing requirement is a
//! finding, not an error) and, when given, what the target says about
//! itself ([`target::Facts`]). Out: each checklist item and each of the
//! "often missed" factors with pass, warn or fail and its evidence
//! ([`Review`]); exit 0 without a fail, 1 with one.
//!
//! - [`checks`]: one function per item, each on the scenario (and facts).
//! - [`target`]: the target's facts over HTTP: reachable, data volume,
//!   behaviour left on, its API's id paths.

pub mod checks;
pub mod target;

use serde::Serialize;

use crate::error::Error;
use crate::scenario::{Scenario, ScenarioRef};

/// A finding's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One item: what it asks, its verdict, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// A stable key (`requirement_traceable`, `think_time`...).
    pub id: &'static str,
    /// The item as the seed document words it.
    pub title: &'static str,
    pub status: Status,
    /// What in the scenario (or target) shows it, one line each; a warn or
    /// fail line says what to change.
    pub evidence: Vec<String>,
}

impl Finding {
    /// The worst of several checks under one item, their evidence joined.
    fn of(id: &'static str, title: &'static str, parts: Vec<(Status, String)>) -> Self {
        Finding {
            id,
            title,
            status: parts.iter().map(|p| p.0).max().unwrap_or(Status::Pass),
            evidence: parts
                .into_iter()
                .map(|(s, e)| format!("{}: {e}", s.as_str()))
                .collect(),
        }
    }
}

/// `harness review`'s result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    pub schema_version: u32,
    pub scenario: String,
    pub file: String,
    /// The target whose facts were read, if any.
    pub target: Option<String>,
    /// The governance checklist, in the seed document's order.
    pub checklist: Vec<Finding>,
    /// What generated load tests often miss, judged where the file can tell.
    pub often_missed: Vec<Finding>,
    /// The worst status of all.
    pub verdict: Status,
}

impl Review {
    /// 0 without a fail, 1 with one.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.verdict == Status::Fail)
    }
}

/// Version of `harness review --format json`.
pub const SCHEMA_VERSION: u32 = 1;

/// Reviews the scenario `arg` (a file or a built-in), with the facts of
/// `target` when given.
pub async fn review(
    arg: &ScenarioRef,
    target: Option<&str>,
    tls: &crate::load::tls::TlsOptions,
) -> Result<Review, Error> {
    let (file, text) = arg.source()?;
    let scenario = Scenario::parse_untraced(&file, &text)?;
    let facts = match target {
        Some(url) => Some(target::Facts::read(url, tls).await?),
        None => None,
    };
    let checklist = checks::checklist(&scenario, facts.as_ref());
    let often_missed = checks::often_missed(&scenario, facts.as_ref());
    let verdict = checklist
        .iter()
        .chain(&often_missed)
        .map(|f| f.status)
        .max()
        .unwrap_or(Status::Pass);
    Ok(Review {
        schema_version: SCHEMA_VERSION,
        scenario: scenario.name,
        file,
        target: target.map(str::to_owned),
        checklist,
        often_missed,
        verdict,
    })
}
