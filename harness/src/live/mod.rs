//! Watching a run as it goes: `--metrics-listen ADDR` on `run`,
//! `capacity` and `demo`. In: the address, then each run's scenario
//! ([`LiveExport::begin`]) and its results through the collector
//! ([`Exporter`]). Out: one HTTP listener serving the Prometheus/OpenMetrics
//! exposition at `/metrics`, the live state as JSON at `/live.json` and a
//! self-contained dashboard at `/` that polls it.

pub mod metrics;
mod server;
pub mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use prometheus_client::registry::Registry;

pub use metrics::{BUCKETS, BUCKET_FACTOR, FIRST_BUCKET_S};
pub use state::{LiveState, Phase, SloNow, SloState};

use crate::error::Error;
use crate::load::client::ErrorClass;
use crate::load::collector::{Point, Tally, Watcher};
use crate::record::Shard;
use crate::scenario::Scenario;
use metrics::{Families, Handles, RunLabels};
use state::LiveSlo;

/// The listener's shared side: the registry and the live state.
#[derive(Debug)]
pub struct LiveExport {
    registry: Registry,
    families: Families,
    state: Mutex<LiveState>,
    addr: SocketAddr,
}

impl LiveExport {
    /// Binds `addr` and serves until the [`Listening`] is dropped; prints
    /// `metrics listening on http://IP:PORT` on stderr.
    pub async fn listen(addr: SocketAddr) -> Result<Listening, Error> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Error::Usage(format!("--metrics-listen {addr}: cannot listen: {e}")))?;
        let bound = listener
            .local_addr()
            .map_err(|e| Error::Usage(format!("--metrics-listen {addr}: {e}")))?;
        let mut registry = Registry::default();
        let families = Families::register(&mut registry);
        let export = Arc::new(LiveExport {
            registry,
            families,
            state: Mutex::new(LiveState::default()),
            addr: bound,
        });
        let (stop, stopped) = tokio::sync::oneshot::channel();
        server::spawn(listener, Arc::clone(&export), stopped);
        eprintln!("metrics listening on http://{bound}");
        Ok(Listening {
            export,
            _stop: stop,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A run of `scenario` begins: fresh live state, the run's series.
    pub fn begin(
        self: &Arc<Self>,
        scenario: &Scenario,
        seed: u64,
        shard: Option<Shard>,
    ) -> Exporter {
        let shard_label = shard.map(|s| format!("{}/{}", s.index, s.total));
        let labels = RunLabels {
            scenario: scenario.name.clone(),
            stages: scenario
                .stages
                .iter()
                .map(|s| (s.name.clone(), s.steady))
                .collect(),
            rows: scenario
                .entries()
                .iter()
                .map(|e| e.name.to_string())
                .collect(),
            shard: shard_label.clone().unwrap_or_default(),
        };
        let state = LiveState::begin(scenario, seed, shard_label);
        let slos = LiveSlo::of(scenario);
        if let Ok(mut s) = self.state.lock() {
            *s = state;
            s.slos = slos.iter().map(|l| l.now(&[], &[])).collect();
        }
        Exporter {
            handles: self.families.handles(&labels),
            slos,
            seconds: vec![0; scenario.stages.len()],
            export: Arc::clone(self),
        }
    }

    fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    fn state_json(&self) -> String {
        let state = self.state.lock().map(|s| s.clone()).unwrap_or_default();
        serde_json::to_string(&state).unwrap_or_else(|_| "{}".to_string())
    }
}

/// A listener serving: it stops (and frees its port) when this is dropped.
#[derive(Debug)]
pub struct Listening {
    pub export: Arc<LiveExport>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// One run's side, owned by the collector: every result goes through it.
#[derive(Debug)]
pub struct Exporter {
    handles: Handles,
    slos: Vec<LiveSlo>,
    seconds: Vec<u64>,
    export: Arc<LiveExport>,
}

impl Exporter {
    /// Each SLO over `cells` and the seconds its stages have run.
    fn slo_states(&self, cells: &[Vec<Tally>]) -> Vec<SloState> {
        self.slos
            .iter()
            .map(|l| l.now(cells, &self.seconds))
            .collect()
    }
}

impl Watcher for Exporter {
    fn sample(
        &mut self,
        stage: usize,
        row: usize,
        response_us: Option<u64>,
        error: Option<ErrorClass>,
    ) {
        let s = response_us.map(|us| us as f64 / 1e6);
        self.handles.sample(stage, row, s, error);
    }

    fn tick(&mut self, stage: usize, users: u32, in_flight: u32, arrivals: u64) {
        self.handles.tick(stage, users, in_flight, arrivals);
    }

    fn dropped(&mut self, stage: usize) {
        self.handles.dropped(stage);
    }

    /// A second closed, in `stage`; `cells` the run's so far.
    fn second(&mut self, point: &Point, stage: Option<usize>, cells: &[Vec<Tally>]) {
        if let Some(n) = stage.and_then(|s| self.seconds.get_mut(s)) {
            *n += 1;
        }
        let slos = self.slo_states(cells);
        if let Ok(mut s) = self.export.state.lock() {
            s.push(point, stage);
            s.requests = cells.iter().flatten().map(|t| t.requests).sum();
            s.errors = cells.iter().flatten().map(|t| t.errors).sum();
            s.slos = slos;
        }
    }

    /// The run ended.
    fn finish(&mut self, cells: &[Vec<Tally>]) {
        self.handles.finish();
        let slos = self.slo_states(cells);
        if let Ok(mut s) = self.export.state.lock() {
            s.phase = Phase::Done;
            s.stage = None;
            s.slos = slos;
        }
    }
}
