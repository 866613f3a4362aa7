//! Concurrency ceilings: a known capacity. A route serves at most N
//! requests at once; the others wait in arrival order, and the wait is
//! part of their measured service time. In: `[concurrency]` in the
//! behaviour file or the admin API's JSON (`get_mission = 4`, or `all`
//! for every route without its own entry), or `--concurrency ROUTE=N`.
//! Out: per route, a first-come first-served gate ([`Gates`]) the request
//! layer holds from before the added latency until the response is built.
//!
//! With `--latency get_mission=fixed(50) --concurrency get_mission=4` the
//! route serves at most 4 / 50 ms = 80 requests/s, whatever the load.

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::{parse_routes, Behaviour};
use crate::route::Route;

/// Most requests a ceiling may admit at once.
pub const MAX_CONCURRENCY: u32 = 100_000;

/// One gate per route that has a ceiling, and one for the emulated
/// upstream service when it has one (`dependency_concurrency`).
#[derive(Debug, Default)]
pub struct Gates {
    routes: [Option<Arc<Semaphore>>; Route::COUNT],
    dependency: Option<Arc<Semaphore>>,
}

impl Gates {
    /// Fresh gates for `behaviour`'s ceilings.
    pub fn of(behaviour: &Behaviour) -> Self {
        let gate = |n: u32| Some(Arc::new(Semaphore::new(n as usize)));
        let mut routes: [Option<Arc<Semaphore>>; Route::COUNT] = Default::default();
        for route in Route::ALL {
            if let Some(n) = behaviour.concurrency_for(route) {
                routes[route.index()] = gate(n);
            }
        }
        Self {
            routes,
            dependency: behaviour.dependency_concurrency.and_then(gate),
        }
    }

    /// The gate of `route`, if it has a ceiling.
    pub fn get(&self, route: Route) -> Option<Arc<Semaphore>> {
        self.routes[route.index()].clone()
    }

    /// The upstream service's gate, if it has a ceiling.
    pub fn dependency(&self) -> Option<Arc<Semaphore>> {
        self.dependency.clone()
    }
}

impl Behaviour {
    /// The ceiling of `route`: its own entry, else `all`'s.
    pub fn concurrency_for(&self, route: Route) -> Option<u32> {
        self.concurrency
            .get(route.name())
            .or_else(|| self.concurrency.get("all"))
            .copied()
    }

    /// Parses `ROUTE=N` (the `--concurrency` flag) into this behaviour.
    pub fn add_concurrency_flag(&mut self, flag: &str) -> Result<(), String> {
        let bad = |e: String| format!("--concurrency {flag:?}: {e}");
        let (route, n) = flag
            .split_once('=')
            .ok_or_else(|| bad("expected ROUTE=N, e.g. get_mission=4".into()))?;
        parse_routes(route.trim()).map_err(bad)?;
        let n: u32 = n
            .trim()
            .parse()
            .map_err(|_| bad(format!("{n:?} is not a whole number")))?;
        self.concurrency.insert(route.trim().to_owned(), n);
        self.validate_concurrency().map_err(bad)
    }

    /// Known routes, and ceilings from 1 to [`MAX_CONCURRENCY`].
    pub(super) fn validate_concurrency(&self) -> Result<(), String> {
        if let Some(n) = self.dependency_concurrency {
            if !(1..=MAX_CONCURRENCY).contains(&n) {
                return Err(format!(
                    "dependency_concurrency must be from 1 to {MAX_CONCURRENCY}, got {n}"
                ));
            }
        }
        for (route, n) in &self.concurrency {
            parse_routes(route).map_err(|e| format!("concurrency: {e}"))?;
            if !(1..=MAX_CONCURRENCY).contains(n) {
                return Err(format!(
                    "concurrency.{route} must be from 1 to {MAX_CONCURRENCY}, got {n}"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_parse_per_route_with_all_as_the_default() {
        let mut b = Behaviour::default();
        b.add_concurrency_flag("get_mission=4").unwrap();
        b.add_concurrency_flag("all=16").unwrap();
        assert_eq!(b.concurrency_for(Route::GetMission), Some(4));
        assert_eq!(b.concurrency_for(Route::SearchMissions), Some(16));
        let gates = Gates::of(&b);
        let gate = gates.get(Route::GetMission).unwrap();
        assert_eq!(gate.available_permits(), 4);
        for bad in [
            "get_mission",
            "nowhere=3",
            "get_mission=0",
            "get_mission=x",
            "all=-1",
        ] {
            let e = Behaviour::default().add_concurrency_flag(bad).unwrap_err();
            assert!(e.contains("--concurrency"), "{bad}: {e}");
        }
        assert!(Gates::of(&Behaviour::default())
            .get(Route::GetMission)
            .is_none());
    }
}
