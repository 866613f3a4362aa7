//! What every handler shares: the store, the behaviour in force, the
//! ground-truth statistics, the leak, the upstream client, the admin token.
//! (Everything here is built in [`crate::startup`]; nothing here imports
//! the routes or the request layer.)

use std::sync::Arc;

use tokio::sync::watch;

use crate::behaviour::{Leak, SharedBehaviour};
use crate::delay::Delayer;
use crate::store::Store;
use crate::truth::Truth;
use crate::upstream::Upstream;

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
    pub admin_token: Option<crate::config::Secret>,
    /// Turns true when the server starts shutting down (ends `hang` faults).
    pub shutdown: watch::Receiver<bool>,
    /// Precise timer for injected latency.
    pub delayer: Delayer,
    /// When the server started (stall windows are counted from it).
    pub started: std::time::Instant,
    /// The emulated links opened at start-up, by name, with their ports
    /// (the admin API may change their parameters, not open or move one).
    pub links: std::collections::BTreeMap<String, u16>,
}
