//! What a validated scenario's users do. In: nothing (types only, built by
//! `validate` and `classes`). Out: [`UserClass`] with its [`Share`] and
//! [`Task`]s, each task's [`Step`]s, what a flow does on error
//! ([`OnError`]), and a stats row's place ([`Entry`]).

use std::collections::BTreeMap;

use super::flow;
use super::template::{BodyTemplate, KeySpec, PathTemplate};
use super::ThinkTime;

/// One request of a task: a task without `steps` is one step of the
/// task's own name.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The name its stats are reported under (unique in the scenario).
    pub name: String,
    pub method: hyper::Method,
    pub path: PathTemplate,
    pub headers: Vec<(hyper::header::HeaderName, PathTemplate)>,
    pub body: Option<BodyTemplate>,
    /// The statuses a success has.
    pub expect: Vec<u16>,
    pub extract: Vec<flow::Extract>,
    pub checks: Vec<flow::Check>,
}

impl Step {
    /// Whether the response must be kept to extract from or check.
    pub fn reads_response(&self) -> bool {
        !self.extract.is_empty() || self.checks.iter().any(flow::Check::reads_body)
    }
}

/// What a flow does after a step fails (a check, an extraction, an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// End this iteration of the flow.
    Stop,
    /// Go on with the next step whose variables are all set.
    Continue,
}

/// What a user does in one iteration: one request, or a flow of steps
/// that carry values from one to the next in the user's variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub name: String,
    pub weight: u32,
    pub steps: Vec<Step>,
    pub on_error: OnError,
    /// The variables its steps extract, by slot.
    pub vars: Vec<String>,
}

impl Task {
    /// Whether it is a flow (declared with `steps`), not one request.
    pub fn is_flow(&self) -> bool {
        !self.vars.is_empty() || self.steps.len() > 1 || self.steps[0].name != self.name
    }
}

/// How a class's users are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Share {
    /// A share of each stage's users (or arrivals) by weight.
    Weight(u32),
    /// This many users whatever the stage asks (closed model), placed first.
    Count(u32),
}

impl Share {
    /// Its weight among the weighted classes (a counted class has none: it
    /// is placed first, not drawn by weight).
    pub fn weight(self) -> u32 {
        match self {
            Share::Weight(w) => w,
            Share::Count(_) => 0,
        }
    }

    /// Its part of the users, with a count standing for as many weights.
    pub fn part(self) -> u32 {
        match self {
            Share::Weight(n) | Share::Count(n) => n,
        }
    }
}

/// A kind of user: its share of the load, its tasks, think time and keys,
/// and optionally its own target.
#[derive(Debug, Clone, PartialEq)]
pub struct UserClass {
    pub name: String,
    pub share: Share,
    pub think_time: ThinkTime,
    /// The scenario's keys and the class's own (which win).
    pub keys: BTreeMap<String, KeySpec>,
    pub tasks: Vec<Task>,
    /// Where its users send requests: a URL (a `[targets.NAME]` resolved);
    /// `None`: the run's `--target`.
    pub target: Option<String>,
    /// Declared with `[[users]]`; `false` for the one implicit class of a
    /// scenario with top-level `tasks`.
    pub declared: bool,
    /// Its own HTTP version, when not the scenario's.
    pub protocol: Option<super::transport::Protocol>,
    /// When its users' connections are made anew.
    pub connection: super::transport::Reuse,
}

/// One stats row's place: class, task and step indexes, and its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    pub class: usize,
    pub task: usize,
    pub step: usize,
    pub name: &'a str,
}
