//! What the live dashboard and `/live.json` show. In: the scenario when a
//! run begins, then each closed second and the cells so far from the
//! collector. Out: [`LiveState`], serialized as JSON (`schema_version` 1):
//! the stages, the per-second series and each SLO's state over what has
//! run of its stages.

use serde::Serialize;

use crate::histogram::{merged, Percentiles};
use crate::load::collector::{Point, Tally};
use crate::scenario::{Metric, Scenario, Slo};

/// Points kept in the series (two hours); older ones are dropped.
pub const SERIES_MAX: usize = 7200;

/// The JSON endpoint's document.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LiveState {
    pub schema_version: u32,
    pub scenario: String,
    pub requirement: String,
    pub seed: u64,
    pub shard: Option<String>,
    pub stages: Vec<StageInfo>,
    /// `waiting` (no run yet), `running`, `done`.
    pub phase: Phase,
    pub stage: Option<String>,
    pub elapsed_s: u64,
    pub requests: u64,
    pub errors: u64,
    pub series: Vec<SeriesPoint>,
    pub slos: Vec<SloState>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    #[default]
    Waiting,
    Running,
    Done,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageInfo {
    pub name: String,
    pub duration_s: f64,
    pub steady: bool,
}

/// One second of the run.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesPoint {
    pub t: u32,
    pub stage: Option<String>,
    pub users: u32,
    pub rps: u64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

/// An SLO now: `waiting` until its stages have answered requests.
#[derive(Debug, Clone, Serialize)]
pub struct SloState {
    pub slo: String,
    pub stages: Vec<String>,
    pub observed: Option<f64>,
    pub state: SloNow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SloNow {
    Waiting,
    Holding,
    Breached,
}

/// One SLO resolved to the cells it reads.
#[derive(Debug, Clone)]
pub struct LiveSlo {
    slo: Slo,
    stages: Vec<usize>,
    rows: Vec<usize>,
}

impl LiveSlo {
    /// Each SLO of `scenario`, with the stage and row indexes it reads
    /// (rows as the record names them: step names, with their class).
    pub fn of(scenario: &Scenario) -> Vec<LiveSlo> {
        let entries = scenario.entries();
        scenario
            .slos
            .iter()
            .map(|slo| {
                let stages = scenario
                    .stages
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| slo.stages.contains(&s.name))
                    .map(|(i, _)| i)
                    .collect();
                let rows = entries
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| {
                        let class = &scenario.classes[e.class];
                        let named = slo.task.as_deref().is_none_or(|t| t == e.name);
                        match &slo.class {
                            None => named,
                            Some(c) => class.declared && &class.name == c && named,
                        }
                    })
                    .map(|(i, _)| i)
                    .collect();
                LiveSlo {
                    slo: slo.clone(),
                    stages,
                    rows,
                }
            })
            .collect()
    }

    /// Its state over `cells` (`[stage][row]`), its stages having run
    /// `seconds[stage]` seconds so far.
    pub fn now(&self, cells: &[Vec<Tally>], seconds: &[u64]) -> SloState {
        let chosen: Vec<&Tally> = self
            .stages
            .iter()
            .filter_map(|&s| cells.get(s))
            .flat_map(|row| self.rows.iter().filter_map(|&r| row.get(r)))
            .collect();
        let requests: u64 = chosen.iter().map(|t| t.requests).sum();
        let errors: u64 = chosen.iter().map(|t| t.errors).sum();
        let ran: u64 = self.stages.iter().filter_map(|&s| seconds.get(s)).sum();
        let observed = if requests == 0 {
            None
        } else {
            match self.slo.metric {
                Metric::P50 | Metric::P95 | Metric::P99 | Metric::Max => {
                    let h = merged(chosen.iter().map(|t| &t.histogram));
                    let q = Percentiles::of(&h);
                    Some(match self.slo.metric {
                        Metric::P50 => q.p50_ms,
                        Metric::P95 => q.p95_ms,
                        Metric::P99 => q.p99_ms,
                        _ => q.max_ms,
                    })
                }
                Metric::Errors => Some(errors as f64),
                Metric::ErrorRate => Some(errors as f64 / requests as f64),
                Metric::Rps if ran > 0 => Some(requests as f64 / ran as f64),
                Metric::Rps => None,
            }
        };
        let state = match observed {
            None => SloNow::Waiting,
            Some(o) if self.slo.op.holds(o, self.slo.bound) => SloNow::Holding,
            Some(_) => SloNow::Breached,
        };
        SloState {
            slo: self.slo.describe(),
            stages: self.slo.stages.clone(),
            observed: observed.map(|o| (o * 1000.0).round() / 1000.0),
            state,
        }
    }
}

impl LiveState {
    /// A run of `scenario` begins.
    pub fn begin(scenario: &Scenario, seed: u64, shard: Option<String>) -> Self {
        LiveState {
            schema_version: 1,
            scenario: scenario.name.clone(),
            requirement: scenario.requirement.id.clone(),
            seed,
            shard,
            stages: scenario
                .stages
                .iter()
                .map(|s| StageInfo {
                    name: s.name.clone(),
                    duration_s: s.duration.as_secs_f64(),
                    steady: s.steady,
                })
                .collect(),
            phase: Phase::Running,
            ..LiveState::default()
        }
    }

    /// A second closed.
    pub fn push(&mut self, p: &Point, stage: Option<usize>) {
        let stage = stage
            .and_then(|s| self.stages.get(s))
            .map(|s| s.name.clone());
        self.elapsed_s = u64::from(p.t) + 1;
        self.stage.clone_from(&stage);
        if self.series.len() >= SERIES_MAX {
            self.series.remove(0);
        }
        self.series.push(SeriesPoint {
            t: p.t,
            stage,
            users: p.users,
            rps: p.all.requests,
            errors: p.all.errors,
            p50_ms: p.all.p50_ms,
            p95_ms: p.all.p95_ms,
            p99_ms: p.all.p99_ms,
        });
    }
}
