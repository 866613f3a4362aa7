//! One iteration of a task. In: a user's class and task, its connection,
//! random stream and variables. Out: one [`Sample`](super::collector::Sample)
//! per step sent, through the engine's reporter.
//!
//! A one-request task is one step. A flow's steps run in order: each
//! renders its path, headers and body with the user's variables, sends,
//! then (when it asks) checks the response and extracts values into the
//! variables. A failed check or a missing value is an error of class
//! `check` with a sample of what was received; the flow then stops for this
//! iteration, or (`on_error = "continue"`) goes on with the steps whose
//! variables are all set. A step with a variable not set is never sent.

use std::time::Duration;

use hyper::header::HeaderName;
use rand_chacha::ChaCha8Rng;

use crate::load::client::{Call, Connection, ErrorClass, Kept, Outcome, Phases};
use crate::load::trace::TraceIds;
use crate::scenario::flow::{ParsedBody, Received};
use crate::scenario::template::{Keys, Vars};
use crate::scenario::{OnError, Step, Task};

/// What a flow needs from the engine: where to send, how to report.
pub(super) trait Runner {
    /// The class's keys.
    fn keys(&self, class: usize) -> &Keys;
    /// Target `to`'s path prefix.
    fn prefix(&self, to: usize) -> &str;
    /// The time since the run's start.
    fn now(&self) -> Duration;
    /// The fraction of requests whose trace context says sampled.
    fn trace_sample(&self) -> f64;
    /// Reports stats row `entry`'s request, started at `started`.
    fn report(&self, entry: usize, started: Duration, outcome: Outcome, done: Done);
}

/// What a finished request leaves besides its outcome.
#[derive(Debug, Clone, Copy)]
pub(super) struct Done {
    pub phases: Phases,
    /// The response's status (0: none came).
    pub status: u16,
    /// The trace id it carried.
    pub trace_id: u128,
}

/// Where one iteration runs: the user's class, target and first stats row
/// of the task.
#[derive(Debug, Clone, Copy)]
pub(super) struct At {
    pub class: usize,
    pub to: usize,
    /// The stats row of the task's first step.
    pub entry: usize,
}

/// A user's buffers, kept from one iteration to the next.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    /// The flow's variables by slot.
    vars: Vec<Option<String>>,
    /// The rendered path and query.
    path: String,
    /// The user's (or arrival's) trace ids.
    trace: TraceIds,
}

impl Scratch {
    /// Empty buffers, and trace ids from `ids`.
    pub(super) fn new(ids: TraceIds) -> Self {
        Scratch {
            trace: ids,
            ..Scratch::default()
        }
    }
}

/// Runs one iteration of `task`. The first step's latency counts from
/// `intended` when given (an open-model arrival's due time).
pub(super) async fn iterate<R: Runner>(
    r: &R,
    at: At,
    task: &Task,
    connection: &mut Connection,
    rng: &mut ChaCha8Rng,
    scratch: &mut Scratch,
    mut intended: Option<Duration>,
) {
    let Scratch { vars, path, trace } = scratch;
    vars.clear();
    vars.resize(task.vars.len(), None);
    for (k, step) in task.steps.iter().enumerate() {
        let Some((headers, body)) = render(r, at, step, vars, rng, path) else {
            // A variable an earlier, failed step should have set.
            continue;
        };
        let started = intended.take().unwrap_or_else(|| r.now());
        let context = trace.next(r.trace_sample());
        let traceparent = context.header();
        let call = Call {
            method: &step.method,
            path,
            headers: &headers,
            expect: &step.expect,
            keep: step.reads_response(),
            trace: Some(&traceparent),
        };
        let (mut outcome, kept) = connection.call(call, body).await;
        if let (Outcome::Ok, Some(kept)) = (&outcome, &kept) {
            let latency = r.now().saturating_sub(started);
            if let Err(why) = read(step, kept, latency, vars, rng) {
                let what = format!("{} {}", step.method, path);
                outcome = Outcome::Error(ErrorClass::Check, format!("{what}: {why}"));
            }
        }
        let failed = !matches!(outcome, Outcome::Ok);
        let done = Done {
            phases: connection.phases(),
            status: connection.status(),
            trace_id: context.trace_id,
        };
        r.report(at.entry + k, started, outcome, done);
        if failed {
            for e in &step.extract {
                vars[e.slot] = None;
            }
            if task.on_error == OnError::Stop {
                break;
            }
        }
    }
}

type Rendered = (Vec<(HeaderName, String)>, Option<String>);

/// The step's path (into `path`), headers and body; `None` when one uses
/// a variable that is not set.
fn render<R: Runner>(
    r: &R,
    at: At,
    step: &Step,
    vars: &Vars,
    rng: &mut ChaCha8Rng,
    path: &mut String,
) -> Option<Rendered> {
    let keys = r.keys(at.class);
    path.clear();
    path.push_str(r.prefix(at.to));
    step.path.render_with(path, keys, vars, rng).ok()?;
    let mut headers = Vec::with_capacity(step.headers.len());
    for (name, template) in &step.headers {
        let mut value = String::new();
        template.render_with(&mut value, keys, vars, rng).ok()?;
        headers.push((name.clone(), value));
    }
    let body = match &step.body {
        Some(b) => {
            let mut s = String::with_capacity(64);
            b.render_with(&mut s, keys, vars, rng).ok()?;
            Some(s)
        }
        None => None,
    };
    Some((headers, body))
}

/// Runs the step's checks, then its extractions into `vars`; the first
/// failure says why.
fn read(
    step: &Step,
    kept: &Kept,
    latency: Duration,
    vars: &mut [Option<String>],
    rng: &mut ChaCha8Rng,
) -> Result<(), String> {
    let received = Received {
        status: kept.status,
        headers: &kept.headers,
        body: &kept.body,
        latency,
    };
    let mut json = ParsedBody::default();
    for c in &step.checks {
        c.apply(&received, &mut json, rng)?;
    }
    for e in &step.extract {
        vars[e.slot] = Some(e.apply(&received, &mut json, rng)?);
    }
    Ok(())
}
