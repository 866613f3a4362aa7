//! What every handler shares: the store, the behaviour in force, the
//! ground-truth statistics, the leak, the upstream client, the admin token.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use tokio::sync::watch;

use crate::behaviour::{Behaviour, Route};
use crate::delay::Delayer;
use crate::store::{QueryPlan, Store};
use crate::truth::{Leak, Truth};
use crate::upstream::Upstream;

/// The behaviour in force, replaceable at run time. Readers take an `Arc`
/// of the current value; a replacement restarts the per-route draw counts,
/// so that replaying after a `PUT` repeats the same draws.
#[derive(Debug, Clone, Default)]
pub struct SharedBehaviour {
    current: Arc<RwLock<Arc<Behaviour>>>,
    draws: Arc<[AtomicU64; 5]>,
}

impl SharedBehaviour {
    pub fn new(b: Behaviour) -> Self {
        Self {
            current: Arc::new(RwLock::new(Arc::new(b))),
            draws: Arc::default(),
        }
    }

    pub fn current(&self) -> Arc<Behaviour> {
        self.current
            .read()
            .map(|b| Arc::clone(&b))
            .unwrap_or_default()
    }

    pub fn replace(&self, b: Behaviour) {
        if let Ok(mut cur) = self.current.write() {
            *cur = Arc::new(b);
            for d in self.draws.iter() {
                d.store(0, Ordering::Relaxed);
            }
        }
    }

    /// The 0-based index of this request among `route`'s requests since the
    /// behaviour was set.
    pub fn next_draw(&self, route: Route) -> u64 {
        let i = Route::ALL.iter().position(|r| *r == route).unwrap_or(0);
        self.draws[i].fetch_add(1, Ordering::Relaxed)
    }

    /// Which query path the store takes under the emulated causes in force.
    pub fn query_plan(&self) -> QueryPlan {
        let b = self.current();
        QueryPlan {
            missing_index: b.is_on(crate::behaviour::Cause::MissingIndex),
            n_plus_one: b.is_on(crate::behaviour::Cause::NPlusOne),
        }
    }
}

/// What handlers share, behind one `Arc`: axum clones the state for every
/// request (and every extractor), so a clone is one reference count.
#[derive(Debug, Clone)]
pub struct AppState(Arc<AppStateInner>);

impl AppState {
    pub fn new(inner: AppStateInner) -> Self {
        Self(Arc::new(inner))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

#[derive(Debug)]
pub struct AppStateInner {
    pub store: Store,
    pub behaviour: SharedBehaviour,
    pub truth: Arc<Truth>,
    pub leak: Arc<Leak>,
    pub upstream: Upstream,
    /// When set, the writing admin endpoints exist and demand it as a bearer token.
    pub admin_token: Option<String>,
    /// Turns true when the server starts shutting down (ends `hang` faults).
    pub shutdown: watch::Receiver<bool>,
    /// Precise timer for injected latency.
    pub delayer: Delayer,
}
