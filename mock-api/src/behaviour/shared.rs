//! The behaviour in force, replaceable at run time. In: a [`Behaviour`]
//! (at start-up, or from `PUT /__admin/behaviour`). Out: for each request,
//! its route's draw index, the behaviour to decide it with, and its
//! route's concurrency gate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use tokio::sync::Semaphore;

use super::{Behaviour, Gates};
use crate::route::Route;

/// Readers take an `Arc` of the current value; a replacement restarts the
/// per-route draw counts, so that replaying after a `PUT` repeats the same
/// draws.
#[derive(Debug, Clone, Default)]
pub struct SharedBehaviour {
    current: Arc<RwLock<Arc<Behaviour>>>,
    draws: Arc<[AtomicU64; Route::COUNT]>,
    /// Rebuilt with each behaviour: requests admitted by the old gates
    /// finish under them; new ones queue at the new.
    gates: Arc<RwLock<Arc<Gates>>>,
}

impl SharedBehaviour {
    pub fn new(b: Behaviour) -> Self {
        Self {
            gates: Arc::new(RwLock::new(Arc::new(Gates::of(&b)))),
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
        if let Ok(mut gates) = self.gates.write() {
            *gates = Arc::new(Gates::of(&b));
        }
        if let Ok(mut cur) = self.current.write() {
            *cur = Arc::new(b);
            for d in self.draws.iter() {
                d.store(0, Ordering::Relaxed);
            }
        }
    }

    /// The emulated upstream service's gate, if it has a ceiling.
    pub fn dependency_gate(&self) -> Option<Arc<Semaphore>> {
        self.gates.read().ok().and_then(|g| g.dependency())
    }

    /// The concurrency gate of `route`, if it has a ceiling.
    pub fn gate(&self, route: Route) -> Option<Arc<Semaphore>> {
        self.gates.read().ok().and_then(|g| g.get(route))
    }

    /// The 0-based index of this request among `route`'s requests since the
    /// behaviour was set.
    pub fn next_draw(&self, route: Route) -> u64 {
        self.draws[route.index()].fetch_add(1, Ordering::Relaxed)
    }
}
