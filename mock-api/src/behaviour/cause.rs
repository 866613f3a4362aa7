//! The emulated regression causes, decided in one spot. In: the behaviour
//! in force and the route of a request. Out: the request's [`Effects`]:
//! the query path the store takes (`missing-index`, `n-plus-one`), whether
//! a mission read calls the upstream service (`slow-dependency`), and the
//! bytes to retain (`memory-leak`, applied by the [`Leak`]). Each effect is
//! applied in one place: the store runs the plan, the mission handler calls
//! upstream, the request layer leaks.

use std::convert::Infallible;
use std::str::FromStr;
use std::sync::Mutex;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};

use super::Behaviour;
use crate::route::Route;
use crate::store::QueryPlan;

/// An emulated regression cause: a switch that changes what the server really does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// Search and waypoint lookups run without their indexes (`NOT INDEXED`).
    MissingIndex,
    /// A mission read loads its waypoints one query each.
    NPlusOne,
    /// Each request retains `leak_bytes` that are never freed (up to the cap).
    MemoryLeak,
    /// Each mission read calls the emulated upstream service over loopback.
    SlowDependency,
}

impl Cause {
    pub const ALL: [Cause; 4] = [
        Cause::MissingIndex,
        Cause::NPlusOne,
        Cause::MemoryLeak,
        Cause::SlowDependency,
    ];

    /// The behaviour field that holds its share of requests.
    pub fn share_field(self) -> &'static str {
        match self {
            Cause::MissingIndex => "missing_index_share",
            Cause::NPlusOne => "n_plus_one_share",
            Cause::MemoryLeak => "memory_leak_share",
            Cause::SlowDependency => "slow_dependency_share",
        }
    }
}

impl FromStr for Cause {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.trim() {
            "missing-index" => Cause::MissingIndex,
            "n-plus-one" => Cause::NPlusOne,
            "memory-leak" => Cause::MemoryLeak,
            "slow-dependency" => Cause::SlowDependency,
            other => return Err(format!("unknown cause {other:?}; expected missing-index, n-plus-one, memory-leak or slow-dependency")),
        })
    }
}

/// Bytes to retain for one request, up to a cap in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeakAmount {
    pub bytes: u64,
    pub cap: u64,
    /// Wait per MiB retained so far, ns (the emulated pressure).
    pub pause_ns_per_mib: u64,
}

/// What the emulated causes change for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Effects {
    /// The query path the store takes.
    pub plan: QueryPlan,
    /// Call the emulated upstream service (mission reads).
    pub upstream: bool,
    /// Retain memory, never freed.
    pub leak: Option<LeakAmount>,
}

impl Effects {
    /// What the causes in `b` do to the `k`-th request to `route` (each
    /// cause within its share of requests).
    pub fn of(b: &Behaviour, route: Route, k: u64) -> Self {
        Effects {
            plan: QueryPlan {
                missing_index: b.affects(Cause::MissingIndex, route, k),
                n_plus_one: b.affects(Cause::NPlusOne, route, k),
                round_trip: match route {
                    Route::GetMission => std::time::Duration::from_micros(b.db_round_trip_us),
                    _ => std::time::Duration::ZERO,
                },
            },
            upstream: route == Route::GetMission && b.affects(Cause::SlowDependency, route, k),
            leak: b
                .affects(Cause::MemoryLeak, route, k)
                .then_some(LeakAmount {
                    bytes: b.leak_bytes,
                    cap: b.leak_cap_bytes,
                    pause_ns_per_mib: (b.leak_pause_us_per_mib * 1000.0) as u64,
                }),
        }
    }
}

tokio::task_local! {
    /// The effects decided for the request being served.
    static EFFECTS: Effects;
}

impl Effects {
    /// Runs `f` (the rest of the request) with these effects in force.
    pub async fn scope<F: std::future::Future>(self, f: F) -> F::Output {
        EFFECTS.scope(self, f).await
    }
}

/// Handlers read the effects the request layer decided (none when a
/// handler runs without it). A task-local rather than a request extension:
/// nothing allocated per request.
impl<S: Send + Sync> FromRequestParts<S> for Effects {
    type Rejection = Infallible;

    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(EFFECTS.try_with(|e| *e).unwrap_or_default())
    }
}

/// Bytes retained on purpose by the `memory-leak` emulation; never freed.
#[derive(Debug, Default)]
pub struct Leak {
    kept: Mutex<Vec<Box<[u8]>>>,
    total: std::sync::atomic::AtomicU64,
}

impl Leak {
    /// Retains `amount.bytes` more (written to, so they are resident), up
    /// to `amount.cap` in all.
    pub fn leak(&self, amount: LeakAmount) {
        let LeakAmount { bytes, cap, .. } = amount;
        use std::sync::atomic::Ordering;
        let total = self.total.load(Ordering::Relaxed);
        let n = bytes.min(cap.saturating_sub(total));
        if n == 0 {
            return;
        }
        // A size the machine cannot give is skipped, not a crash.
        let mut block = Vec::new();
        if block.try_reserve_exact(n as usize).is_err() {
            tracing::warn!(bytes = n, "memory-leak emulation: allocation refused");
            return;
        }
        block.resize(n as usize, 0xA5u8);
        let block = block.into_boxed_slice();
        if let Ok(mut kept) = self.kept.lock() {
            kept.push(block);
            self.total.fetch_add(n, Ordering::Relaxed);
        }
    }

    pub fn total(&self) -> u64 {
        self.total.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The emulated pressure of what is retained now, at `amount`'s rate.
    pub fn pause(&self, amount: LeakAmount) -> std::time::Duration {
        std::time::Duration::from_nanos(amount.pause_ns_per_mib.saturating_mul(self.total() >> 20))
    }
}
