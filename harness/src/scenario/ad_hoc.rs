//! The scenario of `harness run --path`, built directly. In: a path, a
//! load (users or an arrival rate) and a duration. Out: a [`Scenario`]
//! with one GET task and one steady stage, as wrk or oha would load a
//! URL: all users from the start, or arrivals at the rate with room in
//! flight for a minute of them.

use std::collections::BTreeMap;
use std::time::Duration;

use super::template::PathTemplate;
use super::{Load, Requirement, Scenario, Share, Stage, Step, Task, ThinkTime, UserClass};
use crate::error::Error;

/// How an ad-hoc run drives load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AdHocLoad {
    /// This many users, each sending its next request when the last is answered.
    Users(u32),
    /// This many arrivals per second, whatever the answers.
    Rate(f64),
}

impl Scenario {
    /// GET `path` for `duration` under `load`, one steady stage named
    /// `hold`; requirement `AD-HOC`, no SLOs (add them with
    /// [`Scenario::with_slos`]).
    pub fn ad_hoc(path: &str, load: AdHocLoad, duration: Duration) -> Result<Self, Error> {
        let usage = |why: String| Error::Usage(why);
        if !path.starts_with('/') {
            return Err(usage(format!("--path {path:?}: must start with /")));
        }
        let template = PathTemplate::parse(path, &BTreeMap::new())
            .map_err(|why| usage(format!("--path {path:?}: {why}")))?;
        if duration.is_zero() {
            return Err(usage("--duration must be above 0".into()));
        }
        let (load, max_in_flight) = match load {
            AdHocLoad::Users(0) => return Err(usage("--users must be at least 1".into())),
            // All users from the start, as wrk or hey start their connections.
            AdHocLoad::Users(n) => (Load::Users { from: n, to: n }, super::DEFAULT_MAX_IN_FLIGHT),
            // Room in flight for a minute of arrivals (a long stall).
            AdHocLoad::Rate(r) if r.is_finite() && r > 0.0 => (
                Load::Rate { from: r, to: r },
                ((r * 60.0).ceil() as usize).max(super::DEFAULT_MAX_IN_FLIGHT),
            ),
            AdHocLoad::Rate(r) => {
                return Err(usage(format!("--rate must be above 0, got {r}")));
            }
        };
        let step = Step {
            name: "GET".into(),
            method: hyper::Method::GET,
            path: template,
            headers: Vec::new(),
            body: None,
            expect: vec![200],
            extract: Vec::new(),
            checks: Vec::new(),
        };
        Ok(Scenario {
            name: "ad-hoc".into(),
            description: None,
            requirement: Requirement {
                id: "AD-HOC".into(),
                text: format!("GET {path}"),
            },
            classes: vec![UserClass {
                name: super::IMPLICIT_CLASS.into(),
                share: Share::Weight(1),
                think_time: ThinkTime::None,
                keys: BTreeMap::new(),
                tasks: vec![Task {
                    name: "GET".into(),
                    weight: 1,
                    steps: vec![step],
                    on_error: super::OnError::Stop,
                    vars: Vec::new(),
                }],
                target: None,
                declared: false,
                protocol: None,
                connection: Default::default(),
            }],
            targets: BTreeMap::new(),
            stages: vec![Stage {
                name: "hold".into(),
                load,
                duration,
                steady: true,
            }],
            slos: Vec::new(),
            timeout: super::DEFAULT_TIMEOUT,
            max_in_flight,
            transport: Default::default(),
            trace: Default::default(),
        })
    }
}
