//! The engine. In: a scenario, the target and a seed. Out: [`RunOutput`]
//! (what the collector gathered, and when each stage ran). It follows the
//! plan with virtual users (closed model) or an arrival scheduler (open
//! model), and sends every result to the collector.
//!
//! - Closed model: each virtual user is a tokio task with its own keep-alive
//!   connection. A controller checks the plan every 100 ms and adds users,
//!   or lowers the target so that users above it stop (at once if thinking,
//!   after their request if one is in flight).
//! - Open model: arrivals are scheduled at fixed spacing from the stage's
//!   rate; each request's latency is measured from its *intended* start (no
//!   coordinated omission). An arrival that finds `max_in_flight` requests
//!   already running is not sent and is counted as dropped.
//!
//! Everything random draws from ChaCha8 streams of the run's seed (one per
//! user, one per open stage), so a run can be replayed.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::load::client::{Connection, ConnectionPool, Outcome};
use crate::load::collector::{Collected, Collector, Live, Msg, Sample};
use crate::load::endpoint::Endpoint;
use crate::load::plan::{Plan, Target};
use crate::scenario::template::Keys;
use crate::scenario::{Load, Scenario, ThinkTime};

/// How often the controller follows the plan.
const TICK: Duration = Duration::from_millis(100);

/// A stage transition: `from` ended and `to` began (`None` before the
/// first stage and after the last).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageChange {
    pub from: Option<usize>,
    pub to: Option<usize>,
}

/// What the engine hands on.
#[derive(Debug)]
pub struct RunOutput {
    pub collected: Collected,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    /// Wall-clock start and end of each stage that ran.
    pub stage_times: Vec<Option<(DateTime<Utc>, DateTime<Utc>)>>,
    /// Stopped early (Ctrl-C).
    pub interrupted: bool,
}

struct Shared {
    scenario: Scenario,
    plan: Plan,
    keys: Keys,
    /// The targets users and arrivals are spread over, round-robin.
    targets: Vec<Destination>,
    seed: u64,
    start: Instant,
    tx: mpsc::UnboundedSender<Msg>,
    /// Cumulative task weights, for picking a task.
    cumulative: Vec<u32>,
    active: AtomicU32,
    in_flight: AtomicU32,
}

/// Cumulative weights of tasks, for [`pick_task`].
pub fn cumulative_weights(scenario: &Scenario) -> Vec<u32> {
    scenario
        .tasks
        .iter()
        .scan(0u32, |acc, t| {
            *acc += t.weight;
            Some(*acc)
        })
        .collect()
}

/// Picks a task index by weight from cumulative weights.
pub fn pick_task<R: Rng>(cumulative: &[u32], rng: &mut R) -> usize {
    let total = *cumulative.last().unwrap_or(&1);
    let x = rng.random_range(0..total.max(1));
    cumulative.partition_point(|&c| c <= x)
}

/// One target: its address, its URL's path prefix (without a trailing
/// `/`), and the connections open-model arrivals share.
struct Destination {
    endpoint: Arc<Endpoint>,
    prefix: String,
    pool: Arc<ConnectionPool>,
}

impl Shared {
    fn new(
        scenario: &Scenario,
        bases: &[reqwest::Url],
        seed: u64,
        tx: mpsc::UnboundedSender<Msg>,
    ) -> Self {
        let targets = bases
            .iter()
            .map(|base| {
                let endpoint = Arc::new(Endpoint::new(base, scenario.timeout));
                Destination {
                    pool: Arc::new(ConnectionPool::new(Arc::clone(&endpoint))),
                    endpoint,
                    prefix: base.path().trim_end_matches('/').to_owned(),
                }
            })
            .collect();
        Shared {
            scenario: scenario.clone(),
            plan: Plan::new(scenario),
            keys: Keys::new(&scenario.keys),
            targets,
            seed,
            start: Instant::now(),
            tx,
            cumulative: cumulative_weights(scenario),
            active: AtomicU32::new(0),
            in_flight: AtomicU32::new(0),
        }
    }

    fn pick<R: Rng>(&self, rng: &mut R) -> usize {
        pick_task(&self.cumulative, rng)
    }

    fn stage_at(&self, t: Duration) -> usize {
        self.plan
            .stage_at(t)
            .unwrap_or(self.scenario.stages.len().saturating_sub(1))
    }

    /// Renders task `task`'s path (after target `to`'s prefix) into
    /// `path`, and its body.
    fn render(
        &self,
        task: usize,
        to: usize,
        rng: &mut ChaCha8Rng,
        path: &mut String,
    ) -> Option<String> {
        let t = &self.scenario.tasks[task];
        path.clear();
        path.push_str(&self.targets[to].prefix);
        t.path.render(path, &self.keys, rng);
        t.body.as_ref().map(|b| {
            let mut s = String::with_capacity(64);
            b.render(&mut s, &self.keys, rng);
            s
        })
    }

    fn report(&self, task: usize, started: Duration, outcome: Outcome) {
        let done = self.start.elapsed();
        let error = match outcome {
            Outcome::Ok => None,
            Outcome::Error(class, msg) => Some((class, msg)),
        };
        let _ = self.tx.send(Msg::Sample(Sample {
            task,
            stage: self.stage_at(started),
            done_at: done,
            latency: done.saturating_sub(started),
            error,
        }));
    }
}

fn think(t: ThinkTime, iteration_started: Instant, rng: &mut ChaCha8Rng) -> Duration {
    match t {
        ThinkTime::None => Duration::ZERO,
        ThinkTime::Constant(d) => d,
        ThinkTime::Between(a, b) if b > a => {
            Duration::from_secs_f64(rng.random_range(a.as_secs_f64()..=b.as_secs_f64()))
        }
        ThinkTime::Between(a, _) => a,
        ThinkTime::ConstantPacing(d) => d.saturating_sub(iteration_started.elapsed()),
    }
}

async fn virtual_user(id: u32, sh: Arc<Shared>, mut users: watch::Receiver<u32>) {
    let to = id as usize % sh.targets.len();
    let mut connection = Connection::new(Arc::clone(&sh.targets[to].endpoint));
    let mut rng = ChaCha8Rng::seed_from_u64(sh.seed);
    rng.set_stream(u64::from(id) + 1);
    let mut path = String::with_capacity(128);
    sh.active.fetch_add(1, Ordering::Relaxed);
    loop {
        if *users.borrow() <= id {
            break;
        }
        let iteration = Instant::now();
        let task = sh.pick(&mut rng);
        let body = sh.render(task, to, &mut rng, &mut path);
        let t = &sh.scenario.tasks[task];
        let started = sh.start.elapsed();
        // Boxed, so that a thinking user's task does not keep room for a
        // request's state (memory per idle user).
        let outcome = Box::pin(connection.execute(&t.method, &path, body, t.expect)).await;
        sh.report(task, started, outcome);
        let wait = think(sh.scenario.think_time, iteration, &mut rng);
        if !wait.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = users.wait_for(|n| *n <= id) => break,
            }
        }
    }
    sh.active.fetch_sub(1, Ordering::Relaxed);
}

/// The arrival times of open stage `stage` (offsets from the run's start),
/// sent as each comes due. They are timed on a thread of their own with
/// the operating system's sleep (tens of microseconds late) rather than
/// Tokio's timer, which wakes on the next millisecond and would add up to
/// a millisecond or two to every latency measured from its intended start.
/// The thread ends with the stage, or when nobody listens any more.
fn arrivals(sh: &Arc<Shared>, stage: usize) -> mpsc::UnboundedReceiver<Duration> {
    let (tx, rx) = mpsc::unbounded_channel();
    let (plan, start) = (sh.plan.clone(), sh.start.into_std());
    let (from, to) = plan.stage_window(stage);
    let spawned = std::thread::Builder::new()
        .name(format!("arrivals-{stage}"))
        .spawn(move || {
            let mut next = from;
            while next < to {
                let rate = match plan.target_at(next) {
                    Some((_, Target::Rate(r))) => r,
                    _ => break,
                };
                if rate <= 0.0 {
                    next += Duration::from_millis(10);
                    continue;
                }
                let due = start + next;
                let now = std::time::Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
                if tx.send(next).is_err() {
                    break;
                }
                next += Duration::from_secs_f64(1.0 / rate);
            }
        });
    if spawned.is_err() {
        tracing::warn!(
            stage,
            "could not start the arrivals thread: the stage sends nothing"
        );
    }
    rx
}

async fn open_stage(sh: Arc<Shared>, stage: usize) {
    let permits = Arc::new(Semaphore::new(sh.scenario.max_in_flight));
    let mut rng = ChaCha8Rng::seed_from_u64(sh.seed);
    rng.set_stream((1 << 40) + stage as u64);
    let mut due = arrivals(&sh, stage);
    let mut sent = 0usize;
    while let Some(intended) = due.recv().await {
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            let _ = sh.tx.send(Msg::Dropped { stage });
            continue;
        };
        let task = sh.pick(&mut rng);
        let to = sent % sh.targets.len();
        sent += 1;
        let mut path = String::with_capacity(128);
        let body = sh.render(task, to, &mut rng, &mut path);
        let (sh2, pool) = (Arc::clone(&sh), Arc::clone(&sh.targets[to].pool));
        sh.in_flight.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            let t = &sh2.scenario.tasks[task];
            let mut connection = pool.take();
            let outcome = connection.execute(&t.method, &path, body, t.expect).await;
            pool.give_back(connection);
            sh2.report(task, intended, outcome);
            sh2.in_flight.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
    }
    // Let the stage's requests finish (bounded by the request timeout).
    let _ = tokio::time::timeout(
        sh.scenario.timeout,
        permits.acquire_many(sh.scenario.max_in_flight as u32),
    )
    .await;
}

/// The stage times and transitions as the run goes.
struct Stages {
    times: Vec<Option<(DateTime<Utc>, DateTime<Utc>)>>,
    current: Option<usize>,
    changes: Option<mpsc::UnboundedSender<StageChange>>,
}

impl Stages {
    /// Moves to stage `to` (`None`: the run ended), noting the times and
    /// telling whoever listens.
    fn enter(&mut self, to: Option<usize>) {
        let now = Utc::now();
        if let Some(prev) = self.current {
            if let Some((s, _)) = self.times[prev] {
                self.times[prev] = Some((s, now));
            }
        }
        if let Some(stage) = to {
            self.times[stage] = Some((now, now));
        }
        if let Some(tx) = &self.changes {
            let _ = tx.send(StageChange {
                from: self.current,
                to,
            });
        }
        self.current = to;
    }
}

/// The closed model's users: spawned up to the target, stopped above it.
struct Users {
    target: watch::Sender<u32>,
    handles: Vec<JoinHandle<()>>,
}

impl Users {
    /// Sets the target to `n` users, starting any that are missing.
    fn follow(&mut self, n: u32, sh: &Arc<Shared>) {
        // Stored even while no user listens yet (`send` would drop it).
        self.target.send_replace(n);
        for id in 0..n as usize {
            let missing = self.handles.get(id).is_none_or(JoinHandle::is_finished);
            if missing {
                let user = tokio::spawn(virtual_user(
                    id as u32,
                    Arc::clone(sh),
                    self.target.subscribe(),
                ));
                match self.handles.get_mut(id) {
                    Some(h) => *h = user,
                    None => self.handles.push(user),
                }
            }
        }
    }
}

/// What follows the plan: stage changes, the closed model's users, the
/// open model's stages.
struct Controller {
    sh: Arc<Shared>,
    stages: Stages,
    users: Users,
    open: Vec<JoinHandle<()>>,
}

impl Controller {
    /// Follows the plan at this moment; `false` once it is over.
    fn tick(&mut self) -> bool {
        let sh = &self.sh;
        let t = sh.start.elapsed();
        let Some((stage, target)) = sh.plan.target_at(t) else {
            return false;
        };
        if self.stages.current != Some(stage) {
            self.stages.enter(Some(stage));
            if let Load::Rate { .. } = sh.scenario.stages[stage].load {
                self.open
                    .push(tokio::spawn(open_stage(Arc::clone(sh), stage)));
            }
        }
        let users = match target {
            Target::Users(n) => {
                self.users.follow(n, sh);
                sh.active.load(Ordering::Relaxed)
            }
            Target::Rate(_) => {
                self.users.follow(0, sh);
                sh.in_flight.load(Ordering::Relaxed)
            }
        };
        let _ = sh.tx.send(Msg::Users {
            at: t,
            stage,
            users,
        });
        true
    }

    /// Stops the users and lets requests in flight finish within `grace`;
    /// returns when each stage ran.
    async fn stop(mut self, grace: Duration) -> Vec<Option<(DateTime<Utc>, DateTime<Utc>)>> {
        self.users.target.send_replace(0);
        self.stages.enter(None);
        let tasks = self.users.handles.iter_mut().chain(self.open.iter_mut());
        wind_down(tasks, grace).await;
        self.stages.times
    }
}

/// Runs the scenario against `bases` (checked `http://` URLs: users and
/// arrivals spread over them round-robin) until the plan ends or `stop`
/// turns true.
pub async fn run(
    scenario: &Scenario,
    bases: &[reqwest::Url],
    seed: u64,
    mut stop: watch::Receiver<bool>,
    live: Arc<Mutex<Live>>,
    stage_changes: Option<mpsc::UnboundedSender<StageChange>>,
) -> RunOutput {
    let (tx, collecting) = collect(scenario, live);
    let sh = Arc::new(Shared::new(scenario, bases, seed, tx));
    let started_at = Utc::now();
    let mut controller = Controller {
        sh,
        stages: Stages {
            times: vec![None; scenario.stages.len()],
            current: None,
            changes: stage_changes,
        },
        users: Users {
            target: watch::channel(0u32).0,
            handles: Vec::new(),
        },
        open: Vec::new(),
    };
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let interrupted = loop {
        tokio::select! {
            _ = ticker.tick() => {
                if !controller.tick() {
                    break false;
                }
            }
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break true;
                }
            }
        }
    };
    let grace = if interrupted {
        Duration::from_secs(2)
    } else {
        scenario.timeout
    };
    let stage_times = controller.stop(grace).await;
    let collected = collecting.await.expect("the collector does not panic");
    RunOutput {
        collected,
        started_at,
        ended_at: Utc::now(),
        stage_times,
        interrupted,
    }
}

/// Lets users and open stages finish their requests in flight within
/// `grace`, then stops what is left.
async fn wind_down(tasks: impl Iterator<Item = &mut JoinHandle<()>>, grace: Duration) {
    let deadline = Instant::now() + grace;
    for h in tasks {
        if tokio::time::timeout_at(deadline, &mut *h).await.is_err() {
            h.abort();
        }
    }
}

/// Starts the collector's task; results go in through the sender.
fn collect(
    scenario: &Scenario,
    live: Arc<Mutex<Live>>,
) -> (mpsc::UnboundedSender<Msg>, JoinHandle<Collected>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut collector = Collector::new(scenario.stages.len(), scenario.tasks.len(), live);
    let collecting = tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            collector.add(msg);
        }
        collector.finish()
    });
    (tx, collecting)
}
