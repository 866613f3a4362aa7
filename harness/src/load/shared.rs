//! What every virtual user and arrival of a run shares. In: the scenario,
//! the run's target URLs, the seed and the collector's sender. Out:
//! [`Shared`]: each class as the engine runs it ([`ClassRun`]), each
//! destination ([`Destination`]: address, path prefix, the open model's
//! connections), where a user or arrival sends and which task it runs,
//! and the [`Runner`] a flow reports through. Also [`think`], the pause
//! after an iteration.

use std::sync::atomic::{AtomicU32, AtomicU64};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::load::collector::{Msg, Sample};
use crate::load::endpoint::{ConnectionTotals, Endpoint};
use crate::load::flow::{At, Done, Runner};
use crate::load::outcome::Outcome;
use crate::load::placement::{cumulative, pick_task, Placement};
use crate::load::plan::Plan;
use crate::load::pool::ConnectionPool;
use crate::scenario::template::Keys;
use crate::scenario::transport::Transport;
use crate::scenario::{Scenario, ThinkTime};

pub(super) struct Shared {
    pub(super) scenario: Scenario,
    pub(super) plan: Plan,
    pub(super) classes: Vec<ClassRun>,
    /// The run's targets, then each class target's; users and arrivals of
    /// a class without one are spread over the first `spread` round-robin.
    pub(super) targets: Vec<Destination>,
    pub(super) spread: usize,
    /// Users placed by [`Shared::class_of`].
    pub(super) placement: Placement,
    /// Cumulative class weights, for an open-model arrival's class.
    pub(super) class_weights: Vec<u32>,
    pub(super) seed: u64,
    pub(super) start: Instant,
    pub(super) tx: mpsc::UnboundedSender<Msg>,
    pub(super) active: AtomicU32,
    pub(super) in_flight: AtomicU32,
    /// Open-model arrivals due so far (sent or dropped).
    pub(super) arrivals: AtomicU64,
}

/// A class as the engine runs it.
pub(super) struct ClassRun {
    pub(super) keys: Keys,
    /// Cumulative task weights, for picking a task.
    pub(super) cumulative: Vec<u32>,
    /// Each task's first stats row.
    pub(super) first_entry: Vec<usize>,
    /// Its own destinations in [`Shared::targets`] (first, count): its
    /// target, or the run's targets on its own protocol.
    pub(super) target: Option<(usize, usize)>,
}

/// One target: its address, its URL's path prefix (without a trailing
/// `/`), and the connections open-model arrivals share.
pub(super) struct Destination {
    pub(super) endpoint: Arc<Endpoint>,
    pub(super) prefix: String,
    pub(super) pool: Arc<ConnectionPool>,
}

impl Destination {
    pub(super) fn new(base: &reqwest::Url, timeout: Duration, transport: &Transport) -> Self {
        let endpoint = Arc::new(Endpoint::new(base, timeout, transport));
        Destination {
            pool: Arc::new(ConnectionPool::new(Arc::clone(&endpoint))),
            endpoint,
            prefix: base.path().trim_end_matches('/').to_owned(),
        }
    }
}

impl Shared {
    pub(super) fn new(
        scenario: &Scenario,
        bases: &[reqwest::Url],
        seed: u64,
        tx: mpsc::UnboundedSender<Msg>,
    ) -> Self {
        let mut targets: Vec<Destination> = bases
            .iter()
            .map(|base| Destination::new(base, scenario.timeout, &scenario.transport))
            .collect();
        let mut entry = 0;
        let classes = scenario
            .classes
            .iter()
            .map(|c| {
                // A class with its own target or protocol has its own
                // destinations: its target, or each of the run's.
                let transport = Transport {
                    protocol: c.protocol.unwrap_or(scenario.transport.protocol),
                    ..scenario.transport.clone()
                };
                let own: Vec<reqwest::Url> = match &c.target {
                    // Checked when the scenario was read.
                    Some(url) => reqwest::Url::parse(url).ok().into_iter().collect(),
                    None if transport != scenario.transport => bases.to_vec(),
                    None => Vec::new(),
                };
                let target = (!own.is_empty()).then_some((targets.len(), own.len()));
                for base in &own {
                    targets.push(Destination::new(base, scenario.timeout, &transport));
                }
                let first_entry = c
                    .tasks
                    .iter()
                    .map(|t| {
                        entry += t.steps.len();
                        entry - t.steps.len()
                    })
                    .collect();
                ClassRun {
                    keys: Keys::new(&c.keys),
                    cumulative: cumulative(c.tasks.iter().map(|t| t.weight)),
                    first_entry,
                    target,
                }
            })
            .collect();
        let class_weights = cumulative(scenario.classes.iter().map(|c| c.share.weight()));
        Shared {
            scenario: scenario.clone(),
            plan: Plan::new(scenario),
            classes,
            spread: bases.len().max(1),
            targets,
            placement: Placement::new(scenario),
            class_weights,
            seed,
            start: Instant::now(),
            tx,
            active: AtomicU32::new(0),
            in_flight: AtomicU32::new(0),
            arrivals: AtomicU64::new(0),
        }
    }

    pub(super) fn stage_at(&self, t: Duration) -> usize {
        self.plan
            .stage_at(t)
            .unwrap_or(self.scenario.stages.len().saturating_sub(1))
    }

    /// Where class `class`'s `n`-th user or arrival sends.
    pub(super) fn destination(&self, class: usize, n: usize) -> usize {
        match self.classes[class].target {
            Some((first, count)) => first + n % count,
            None => n % self.spread,
        }
    }

    /// Connections and TLS handshakes made to every destination so far.
    pub(super) fn connection_counts(&self) -> ConnectionTotals {
        let mut t = ConnectionTotals::default();
        for d in &self.targets {
            let c = &d.endpoint.counts;
            t.opened += c.opened.load(std::sync::atomic::Ordering::Relaxed);
            t.tls_full += c.tls_full.load(std::sync::atomic::Ordering::Relaxed);
            t.tls_resumed += c.tls_resumed.load(std::sync::atomic::Ordering::Relaxed);
        }
        t
    }

    /// Picks a task of `class`: where the iteration runs, and the task.
    pub(super) fn pick(&self, class: usize, to: usize, rng: &mut ChaCha8Rng) -> (At, usize) {
        let c = &self.classes[class];
        let task = pick_task(&c.cumulative, rng);
        let at = At {
            class,
            to,
            entry: c.first_entry[task],
        };
        (at, task)
    }
}

impl Runner for Shared {
    fn keys(&self, class: usize) -> &Keys {
        &self.classes[class].keys
    }

    fn prefix(&self, to: usize) -> &str {
        &self.targets[to].prefix
    }

    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn trace_sample(&self) -> f64 {
        self.scenario.trace.sample
    }

    fn report(&self, entry: usize, started: Duration, outcome: Outcome, done: Done) {
        let now = self.start.elapsed();
        let error = match outcome {
            Outcome::Ok => None,
            Outcome::Error(class, msg) => Some((class, msg)),
        };
        let _ = self.tx.send(Msg::Sample(Sample {
            task: entry,
            stage: self.stage_at(started),
            done_at: now,
            latency: now.saturating_sub(started),
            error,
            phases: done.phases,
            status: done.status,
            trace_id: done.trace_id,
        }));
    }
}

pub(super) fn think(
    t: ThinkTime,
    iteration_started: Option<Instant>,
    rng: &mut ChaCha8Rng,
) -> Duration {
    match t {
        ThinkTime::None => Duration::ZERO,
        ThinkTime::Constant(d) => d,
        ThinkTime::Between(a, b) if b > a => {
            Duration::from_secs_f64(rng.random_range(a.as_secs_f64()..=b.as_secs_f64()))
        }
        ThinkTime::Between(a, _) => a,
        ThinkTime::ConstantPacing(d) => {
            d.saturating_sub(iteration_started.map_or(Duration::ZERO, |i| i.elapsed()))
        }
    }
}
