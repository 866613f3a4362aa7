//! The engine: follows the plan with virtual users (closed model) or an
//! arrival scheduler (open model), and sends every result to the collector.
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

use crate::client::{Connection, ConnectionPool, Endpoint, Outcome};
use crate::collector::{Collected, Collector, Live, Msg, Sample};
use crate::plan::{Plan, Target};
use crate::scenario::{Load, Scenario, ThinkTime};
use crate::template::Keys;

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
    endpoint: Arc<Endpoint>,
    /// The target URL's path prefix, without a trailing `/`.
    prefix: String,
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

impl Shared {
    fn pick<R: Rng>(&self, rng: &mut R) -> usize {
        pick_task(&self.cumulative, rng)
    }

    fn stage_at(&self, t: Duration) -> usize {
        self.plan
            .stage_at(t)
            .unwrap_or(self.scenario.stages.len().saturating_sub(1))
    }

    /// Renders task `task`'s path (after the target's prefix) into `path`,
    /// and its body.
    fn render(&self, task: usize, rng: &mut ChaCha8Rng, path: &mut String) -> Option<String> {
        let t = &self.scenario.tasks[task];
        path.clear();
        path.push_str(&self.prefix);
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
    let mut connection = Connection::new(Arc::clone(&sh.endpoint));
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
        let body = sh.render(task, &mut rng, &mut path);
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

async fn open_stage(sh: Arc<Shared>, stage: usize, pool: Arc<ConnectionPool>) {
    let (from, to) = sh.plan.stage_window(stage);
    let permits = Arc::new(Semaphore::new(sh.scenario.max_in_flight));
    let mut rng = ChaCha8Rng::seed_from_u64(sh.seed);
    rng.set_stream((1 << 40) + stage as u64);
    let mut next = from;
    while next < to {
        let rate = match sh.plan.target_at(next) {
            Some((_, Target::Rate(r))) => r,
            _ => break,
        };
        if rate <= 0.0 {
            next += Duration::from_millis(10);
            continue;
        }
        tokio::time::sleep_until(sh.start + next).await;
        let intended = next;
        next += Duration::from_secs_f64(1.0 / rate);
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            let _ = sh.tx.send(Msg::Dropped { stage });
            continue;
        };
        let task = sh.pick(&mut rng);
        let mut path = String::with_capacity(128);
        let body = sh.render(task, &mut rng, &mut path);
        let (sh2, pool) = (Arc::clone(&sh), Arc::clone(&pool));
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

/// Runs the scenario against `base` (e.g. `http://127.0.0.1:8080`) until the
/// plan ends or `stop` turns true.
pub async fn run(
    scenario: &Scenario,
    base: &str,
    seed: u64,
    mut stop: watch::Receiver<bool>,
    live: Arc<Mutex<Live>>,
    stage_changes: Option<mpsc::UnboundedSender<StageChange>>,
) -> RunOutput {
    let plan = Plan::new(scenario);
    let stages = scenario.stages.len();
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut collector = Collector::new(stages, scenario.tasks.len(), live);
    let collecting = tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            collector.add(msg);
        }
        collector.finish()
    });
    let cumulative = cumulative_weights(scenario);
    let base_url = reqwest::Url::parse(base).expect("the runner checked the target URL");
    let endpoint = Arc::new(Endpoint::new(&base_url, scenario.timeout));
    let sh = Arc::new(Shared {
        scenario: scenario.clone(),
        plan: plan.clone(),
        keys: Keys::new(&scenario.keys),
        endpoint: Arc::clone(&endpoint),
        prefix: base_url.path().trim_end_matches('/').to_owned(),
        seed,
        start: Instant::now(),
        tx: tx.clone(),
        cumulative,
        active: AtomicU32::new(0),
        in_flight: AtomicU32::new(0),
    });
    let started_at = Utc::now();
    let (users_tx, users_rx) = watch::channel(0u32);
    let mut vus: Vec<JoinHandle<()>> = Vec::new();
    let mut open: Vec<JoinHandle<()>> = Vec::new();
    let open_pool = Arc::new(ConnectionPool::new(endpoint));
    let mut stage_times: Vec<Option<(DateTime<Utc>, DateTime<Utc>)>> = vec![None; stages];
    let mut current: Option<usize> = None;
    let mut interrupted = false;
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    interrupted = true;
                    break;
                }
            }
        }
        let t = sh.start.elapsed();
        let Some((stage, target)) = plan.target_at(t) else {
            break;
        };
        if current != Some(stage) {
            let now = Utc::now();
            if let Some(prev) = current {
                if let Some((s, _)) = stage_times[prev] {
                    stage_times[prev] = Some((s, now));
                }
            }
            stage_times[stage] = Some((now, now));
            if let Some(tx) = &stage_changes {
                let _ = tx.send(StageChange {
                    from: current,
                    to: Some(stage),
                });
            }
            current = Some(stage);
            if let Load::Rate { .. } = scenario.stages[stage].load {
                open.push(tokio::spawn(open_stage(
                    Arc::clone(&sh),
                    stage,
                    Arc::clone(&open_pool),
                )));
            }
        }
        let users = match target {
            Target::Users(n) => {
                let _ = users_tx.send(n);
                for id in 0..n as usize {
                    if id >= vus.len() {
                        vus.push(tokio::spawn(virtual_user(
                            id as u32,
                            Arc::clone(&sh),
                            users_rx.clone(),
                        )));
                    } else if vus[id].is_finished() {
                        vus[id] = tokio::spawn(virtual_user(
                            id as u32,
                            Arc::clone(&sh),
                            users_rx.clone(),
                        ));
                    }
                }
                sh.active.load(Ordering::Relaxed)
            }
            Target::Rate(_) => {
                let _ = users_tx.send(0);
                sh.in_flight.load(Ordering::Relaxed)
            }
        };
        let _ = tx.send(Msg::Users {
            at: t,
            stage,
            users,
        });
    }

    // Stop: users finish their request in flight, within the request timeout.
    let _ = users_tx.send(0);
    if let Some(tx) = &stage_changes {
        let _ = tx.send(StageChange {
            from: current,
            to: None,
        });
    }
    let ended = Utc::now();
    if let Some(prev) = current {
        if let Some((s, _)) = stage_times[prev] {
            stage_times[prev] = Some((s, ended));
        }
    }
    let grace = if interrupted {
        Duration::from_secs(2)
    } else {
        scenario.timeout
    };
    let deadline = Instant::now() + grace;
    for h in vus.iter_mut().chain(open.iter_mut()) {
        if tokio::time::timeout_at(deadline, &mut *h).await.is_err() {
            h.abort();
        }
    }
    drop(tx);
    drop(sh);
    let collected = collecting.await.expect("the collector does not panic");
    RunOutput {
        collected,
        started_at,
        ended_at: Utc::now(),
        stage_times,
        interrupted,
    }
}
