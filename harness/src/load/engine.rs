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
//! - User classes: in the closed model user `id`'s class is fixed: the
//!   first users go to classes with a `count`, the rest follow the
//!   weighted classes in smooth weighted round-robin order (as Locust
//!   places weighted users), so any number of users splits as evenly as
//!   the weights allow. In the open model each arrival draws its class by
//!   weight. A class with its own `target` sends there; the others are
//!   spread over the run's targets round-robin.
//!
//! Everything random draws from ChaCha8 streams of the run's seed (one per
//! user, one per open stage), so a run can be replayed.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::load::client::Connection;
use crate::load::collector::{Collected, Collector, Live, Msg, Shape, Watcher};
use crate::load::endpoint::ConnectionTotals;
use crate::load::flow::{self, Scratch};
use crate::load::placement::pick_task;
use crate::load::plan::Target;
use crate::load::shared::{think, Shared};
use crate::load::trace::TraceIds;
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
    /// Connections and TLS handshakes made.
    pub connections: ConnectionTotals,
}

async fn virtual_user(id: u32, sh: Arc<Shared>, mut users: watch::Receiver<u32>) {
    let Some(class) = sh.placement.class_of(id) else {
        return;
    };
    let to = sh.destination(class, id as usize);
    let think_time = sh.scenario.classes[class].think_time;
    let mut connection = Connection::new(Arc::clone(&sh.targets[to].endpoint));
    connection.set_reuse(sh.scenario.classes[class].connection);
    let mut rng = ChaCha8Rng::seed_from_u64(sh.seed);
    rng.set_stream(u64::from(id) + 1);
    let mut scratch = Scratch::new(TraceIds::new(sh.seed, u64::from(id) + 1));
    sh.active.fetch_add(1, Ordering::Relaxed);
    loop {
        if *users.borrow() <= id {
            break;
        }
        // Read only when pacing needs it (a clock read per request).
        let iteration = matches!(think_time, ThinkTime::ConstantPacing(_)).then(Instant::now);
        let (at, task) = sh.pick(class, to, &mut rng);
        let task = &sh.scenario.classes[class].tasks[task];
        // Not boxed: the iteration's state (about 1.2 KB, the rare and
        // large parts, opening a connection and hyper's exchange, boxed
        // where they happen) stays in the user's task, rather than a box
        // allocated, moved into and freed on every iteration
        // (BENCHMARKS.md, the native engine).
        flow::iterate(
            &*sh,
            at,
            task,
            &mut connection,
            &mut rng,
            &mut scratch,
            None,
        )
        .await;
        connection.end_iteration();
        let wait = think(think_time, iteration, &mut rng);
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
        sh.arrivals.fetch_add(1, Ordering::Relaxed);
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            let _ = sh.tx.send(Msg::Dropped { stage });
            continue;
        };
        let class = pick_task(&sh.class_weights, &mut rng);
        let to = sh.destination(class, sent);
        sent += 1;
        let (at, task) = sh.pick(class, to, &mut rng);
        // The arrival's own stream, so that its flow's draws do not depend
        // on when other arrivals finish.
        let own_seed: u64 = rng.random();
        let mut own = ChaCha8Rng::seed_from_u64(own_seed);
        let (sh2, pool) = (Arc::clone(&sh), Arc::clone(&sh.targets[to].pool));
        sh.in_flight.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            let task = &sh2.scenario.classes[class].tasks[task];
            let mut connection = pool.take();
            connection.set_reuse(sh2.scenario.classes[class].connection);
            let mut scratch = Scratch::new(TraceIds::new(sh2.seed, own_seed));
            let intended = Some(intended);
            flow::iterate(
                &*sh2,
                at,
                task,
                &mut connection,
                &mut own,
                &mut scratch,
                intended,
            )
            .await;
            connection.end_iteration();
            pool.give_back(connection);
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
        let in_flight = sh.in_flight.load(Ordering::Relaxed);
        let users = match target {
            Target::Users(n) => {
                self.users.follow(n, sh);
                sh.active.load(Ordering::Relaxed)
            }
            Target::Rate(_) => {
                self.users.follow(0, sh);
                in_flight
            }
        };
        let _ = sh.tx.send(Msg::Users {
            at: t,
            stage,
            users,
            in_flight,
            arrivals: sh.arrivals.load(Ordering::Relaxed),
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
    export: Option<Box<dyn Watcher>>,
    stage_changes: Option<mpsc::UnboundedSender<StageChange>>,
) -> RunOutput {
    let (tx, collecting) = collect(scenario, live, export);
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
    let sh = Arc::clone(&controller.sh);
    let stage_times = controller.stop(grace).await;
    let connections = sh.connection_counts();
    drop(sh);
    let collected = collecting.await.expect("the collector does not panic");
    RunOutput {
        collected,
        started_at,
        ended_at: Utc::now(),
        stage_times,
        interrupted,
        connections,
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
    export: Option<Box<dyn Watcher>>,
) -> (mpsc::UnboundedSender<Msg>, JoinHandle<Collected>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let entries = scenario.entries().len();
    let mut collector = Collector::new(
        Shape {
            steady: scenario.stages.iter().map(|s| s.steady).collect(),
            rows: entries,
            slowest: scenario.trace.slowest,
        },
        live,
        export,
    );
    let collecting = tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            collector.add(msg);
        }
        collector.finish()
    });
    (tx, collecting)
}
