//! Behaviour the user sets. In: the behaviour file, flags, or the admin
//! API's JSON. Out: for each request, a [`Decision`]: its added latency,
//! its fault, and the emulated causes' [`Effects`]. Set at start-up
//! (`--behaviour FILE.toml` and flags) and replaced at run time (`PUT
//! /__admin/behaviour`).
//!
//! - [`dist`]: latency distributions. [`fault`]: faults and their
//!   responses. [`cause`]: emulated regression causes, decided here and
//!   applied each in one place. [`shared`]: the behaviour in force.
//!
//! Every random draw is seeded: the k-th request to a route draws from a
//! generator seeded with (behaviour seed, route, k), so a replay with the
//! same seed gives each route the same sequence of latencies and faults
//! whatever the interleaving of routes.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Serde through `Display` and `FromStr`: `"fixed(50)"`, `"503"`.
macro_rules! string_serde {
    ($t:ty) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <String as serde::Deserialize>::deserialize(d)?
                    .parse()
                    .map_err(serde::de::Error::custom)
            }
        }
    };
}

pub mod cause;
pub mod ceiling;
pub mod dist;
pub mod fault;
pub mod link;
pub mod shared;
pub mod stall;

pub use cause::{Cause, Effects, Leak};
pub use ceiling::Gates;
pub use dist::Dist;
pub use fault::{FaultKind, FaultRule};
pub use link::LinkSpec;
pub use shared::SharedBehaviour;
pub use stall::Stall;

use crate::route::Route;
use crate::store::StorageFault;

/// A route name in flags and files: one route, or `all`.
fn parse_routes(s: &str) -> Result<Vec<Route>, String> {
    if s == "all" {
        return Ok(Route::ALL.to_vec());
    }
    Route::named(s).map(|r| vec![r]).ok_or_else(|| {
        let names: Vec<&str> = Route::ALL.iter().map(|r| r.name()).collect();
        format!("unknown route {s:?}; expected {} or all", names.join(", "))
    })
}

/// Default bytes retained per request by `memory-leak`.
pub const DEFAULT_LEAK_BYTES: u64 = 64 * 1024;
/// Default cap on leaked bytes: 512 MiB.
pub const DEFAULT_LEAK_CAP: u64 = 512 * 1024 * 1024;

/// The whole behaviour, as the file, the flags and the admin API carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Behaviour {
    /// Seed of every latency and fault draw.
    pub seed: u64,
    /// Added latency per route (`all` for every route; a route's own entry wins).
    pub latency: BTreeMap<String, Dist>,
    /// Requests a route serves at once; the others wait in arrival order
    /// (`all` for every route; a route's own entry wins). See [`ceiling`].
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub concurrency: BTreeMap<String, u32>,
    pub faults: Vec<FaultRule>,
    pub emulate: BTreeSet<Cause>,
    pub leak_bytes: u64,
    pub leak_cap_bytes: u64,
    /// Latency of the emulated upstream service.
    pub dependency_latency: Dist,
    /// Calls the upstream service serves at once; the others wait in
    /// arrival order (none: unlimited). With a ceiling, load sent to the
    /// upstream directly slows the mission reads that call it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dependency_concurrency: Option<u32>,
    /// The upstream service's address (read-only: set by mock-api, shown
    /// by `GET /__admin/behaviour`, ignored when given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// Stall windows: requests reaching a handler in one wait until it ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stall: Option<Stall>,
    /// The share of requests each emulated cause affects (0 to 1, default
    /// 1: all), drawn per request from the seed: `n_plus_one_share = 0.3`.
    pub n_plus_one_share: f64,
    pub missing_index_share: f64,
    pub slow_dependency_share: f64,
    pub memory_leak_share: f64,
    /// Each query of a mission read waits this many µs, as a round trip to
    /// a database over a network would (0: in-process only). N+1 reads pay
    /// it once per waypoint.
    pub db_round_trip_us: u64,
    /// Under `memory-leak`, each leaking request also waits this many µs
    /// per MiB retained so far: the allocator or garbage-collector pressure
    /// a managed runtime would show (0: none).
    pub leak_pause_us_per_mib: f64,
    /// An emulated storage condition: `none`, `full` (writes needing a new
    /// page fail) or `read-only` (every write fails); writes it refuses are
    /// 503, reads go on, `/readyz` says so.
    #[serde(skip_serializing_if = "StorageFault::is_none")]
    pub storage: StorageFault,
    /// Emulated network paths by name: extra listeners whose connections
    /// cross a link (see [`link`]): `far = "0:rtt(300ms),bandwidth(2mbit)"`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub links: BTreeMap<String, LinkSpec>,
    /// Added to each TLS handshake (under `--tls`) after the client's hello,
    /// before the server's answer: a far or slow TLS terminator. Drawn per
    /// handshake from the seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_handshake_delay: Option<Dist>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            seed: 0,
            latency: BTreeMap::new(),
            concurrency: BTreeMap::new(),
            faults: Vec::new(),
            emulate: BTreeSet::new(),
            leak_bytes: DEFAULT_LEAK_BYTES,
            leak_cap_bytes: DEFAULT_LEAK_CAP,
            dependency_latency: Dist::Fixed(20.0),
            dependency_concurrency: None,
            upstream: None,
            stall: None,
            n_plus_one_share: 1.0,
            missing_index_share: 1.0,
            slow_dependency_share: 1.0,
            memory_leak_share: 1.0,
            db_round_trip_us: 0,
            leak_pause_us_per_mib: 0.0,
            storage: StorageFault::None,
            links: BTreeMap::new(),
            tls_handshake_delay: None,
        }
    }
}

/// What the behaviour decides for one request.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Decision {
    pub delay: Option<Duration>,
    pub fault: Option<FaultKind>,
    pub effects: Effects,
    /// The stall windows in force (whether this request waits depends on
    /// when it reaches its handler).
    pub stall: Option<Stall>,
}

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Behaviour {
    /// Checks names and numbers; the message names the field at fault.
    pub fn validate(&self) -> Result<(), String> {
        for route in self.latency.keys() {
            parse_routes(route).map_err(|e| format!("latency: {e}"))?;
        }
        for (i, f) in self.faults.iter().enumerate() {
            parse_routes(&f.route).map_err(|e| format!("faults[{i}].route: {e}"))?;
            if !(0.0..=1.0).contains(&f.probability) {
                return Err(format!(
                    "faults[{i}].probability must be from 0 to 1, got {}",
                    f.probability
                ));
            }
        }
        if let Some(stall) = &self.stall {
            stall.validate()?;
        }
        self.validate_concurrency()?;
        self.validate_links()?;
        if self.db_round_trip_us > 1_000_000 {
            return Err(format!(
                "db_round_trip_us must be at most 1000000 (1 s), got {}",
                self.db_round_trip_us
            ));
        }
        if !(self.leak_pause_us_per_mib.is_finite()
            && (0.0..=1000.0).contains(&self.leak_pause_us_per_mib))
        {
            return Err(format!(
                "leak_pause_us_per_mib must be from 0 to 1000, got {}",
                self.leak_pause_us_per_mib
            ));
        }
        for cause in Cause::ALL {
            let share = self.share(cause);
            if !(0.0..=1.0).contains(&share) {
                return Err(format!(
                    "{} must be from 0 to 1, got {share}",
                    cause.share_field()
                ));
            }
        }
        Ok(())
    }

    /// Parses `ROUTE=DIST` (the `--latency` flag) into this behaviour.
    pub fn add_latency_flag(&mut self, flag: &str) -> Result<(), String> {
        let (route, dist) = flag.split_once('=').ok_or_else(|| {
            format!("--latency {flag:?}: expected ROUTE=DIST, e.g. get_mission=fixed(50)")
        })?;
        parse_routes(route.trim()).map_err(|e| format!("--latency {flag:?}: {e}"))?;
        let dist: Dist = dist
            .parse()
            .map_err(|e| format!("--latency {flag:?}: {e}"))?;
        self.latency.insert(route.trim().to_owned(), dist);
        Ok(())
    }

    /// Parses `ROUTE=KIND:PROBABILITY` (the `--fault` flag) into this behaviour.
    pub fn add_fault_flag(&mut self, flag: &str) -> Result<(), String> {
        let bad = |e: String| format!("--fault {flag:?}: {e}");
        let (route, rest) = flag
            .split_once('=')
            .ok_or_else(|| bad("expected ROUTE=KIND:PROBABILITY, e.g. all=503:0.05".into()))?;
        let (kind, p) = rest
            .rsplit_once(':')
            .ok_or_else(|| bad("expected KIND:PROBABILITY, e.g. 503:0.05".into()))?;
        parse_routes(route.trim()).map_err(bad)?;
        let kind: FaultKind = kind.parse().map_err(bad)?;
        let probability: f64 = p
            .trim()
            .parse()
            .map_err(|_| bad(format!("{p:?} is not a probability")))?;
        if !(0.0..=1.0).contains(&probability) {
            return Err(bad(format!(
                "probability must be from 0 to 1, got {probability}"
            )));
        }
        self.faults.push(FaultRule {
            route: route.trim().to_owned(),
            kind,
            probability,
        });
        Ok(())
    }

    pub fn is_on(&self, cause: Cause) -> bool {
        self.emulate.contains(&cause)
    }

    /// The share of requests `cause` affects when it is on.
    pub fn share(&self, cause: Cause) -> f64 {
        match cause {
            Cause::NPlusOne => self.n_plus_one_share,
            Cause::MissingIndex => self.missing_index_share,
            Cause::SlowDependency => self.slow_dependency_share,
            Cause::MemoryLeak => self.memory_leak_share,
        }
    }

    /// Whether `cause` affects the `k`-th request to `route`: on, and
    /// within its share by a draw from the seed (the same on every replay).
    pub fn affects(&self, cause: Cause, route: Route, k: u64) -> bool {
        if !self.is_on(cause) {
            return false;
        }
        let share = self.share(cause);
        if share >= 1.0 {
            return true;
        }
        let draw =
            mix(self.seed ^ mix(0x5ca1e ^ ((cause as u64) << 8) ^ route.index() as u64) ^ mix(k));
        ((draw >> 11) as f64 / (1u64 << 53) as f64) < share
    }

    fn latency_for(&self, route: Route) -> Option<Dist> {
        self.latency
            .get(route.name())
            .or_else(|| self.latency.get("all"))
            .copied()
    }

    /// The decision for the `k`-th request (0-based) to `route`.
    pub fn decide(&self, route: Route, k: u64) -> Decision {
        let effects = Effects::of(self, route, k);
        let latency = self.latency_for(route);
        let faults: Vec<&FaultRule> = self
            .faults
            .iter()
            .filter(|f| f.route == "all" || f.route == route.name())
            .collect();
        if latency.is_none() && faults.is_empty() {
            return Decision {
                effects,
                stall: self.stall,
                ..Decision::default()
            };
        }
        let mut rng = ChaCha8Rng::seed_from_u64(mix(self.seed ^ mix(route.index() as u64 + 1)));
        rng.set_stream(k);
        let delay = latency.map(|d| Duration::from_secs_f64(d.sample(&mut rng) / 1000.0));
        let mut fault = None;
        for f in faults {
            // Each rule draws, so adding a rule does not shift the others' draws.
            let hit = rng.random::<f64>() < f.probability;
            if hit && fault.is_none() {
                fault = Some(f.kind);
            }
        }
        Decision {
            delay,
            fault,
            effects,
            stall: self.stall,
        }
    }

    /// One draw of the upstream service's latency, for its `k`-th call.
    pub fn dependency_delay(&self, k: u64) -> Duration {
        let mut rng = ChaCha8Rng::seed_from_u64(mix(self.seed ^ 0xdeb7_u64));
        rng.set_stream(k);
        Duration::from_secs_f64(self.dependency_latency.sample(&mut rng) / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distributions_parse_and_print() {
        for s in [
            "fixed(50)",
            "uniform(10,90)",
            "normal(50,5)",
            "lognormal(20,200)",
            "exponential(30)",
        ] {
            let d: Dist = s.parse().unwrap();
            assert_eq!(d.to_string(), s);
        }
        for bad in [
            "fixed(-1)",
            "uniform(9,1)",
            "lognormal(20,10)",
            "pareto(1)",
            "fixed(x)",
            "fixed(1,2)",
        ] {
            assert!(bad.parse::<Dist>().is_err(), "{bad}");
        }
    }

    #[test]
    fn lognormal_quantiles_match_median_and_p99() {
        let d: Dist = "lognormal(20,200)".parse().unwrap();
        assert!((d.quantile(0.5) - 20.0).abs() < 1e-6);
        assert!((d.quantile(0.99) - 200.0).abs() < 1e-4);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut xs: Vec<f64> = (0..200_000).map(|_| d.sample(&mut rng)).collect();
        xs.sort_by(f64::total_cmp);
        let q = |p: f64| xs[(p * xs.len() as f64) as usize];
        assert!((q(0.5) / 20.0 - 1.0).abs() < 0.02);
        assert!((q(0.99) / 200.0 - 1.0).abs() < 0.04);
        assert!((q(0.95) / d.quantile(0.95) - 1.0).abs() < 0.03);
    }

    #[test]
    fn flags_parse_into_the_behaviour() {
        let mut b = Behaviour::default();
        b.add_latency_flag("get_mission=fixed(50)").unwrap();
        b.add_fault_flag("all=503:0.05").unwrap();
        b.add_fault_flag("search_missions=dribble(200):0.5")
            .unwrap();
        assert_eq!(b.latency["get_mission"], Dist::Fixed(50.0));
        assert_eq!(b.faults[1].kind, FaultKind::Dribble(200));
        assert!(b
            .add_latency_flag("nowhere=fixed(1)")
            .unwrap_err()
            .contains("nowhere"));
        assert!(b.add_fault_flag("all=418:0.1").unwrap_err().contains("418"));
        assert!(b.add_fault_flag("all=503:1.5").is_err());
    }

    #[test]
    fn decisions_replay_per_route_and_hit_the_probability() {
        let mut b = Behaviour {
            seed: 9,
            ..Behaviour::default()
        };
        b.add_fault_flag("all=503:0.05").unwrap();
        b.add_latency_flag("all=uniform(1,9)").unwrap();
        let a: Vec<_> = (0..1000).map(|k| b.decide(Route::GetMission, k)).collect();
        let again: Vec<_> = (0..1000).map(|k| b.decide(Route::GetMission, k)).collect();
        assert_eq!(a, again);
        let hits = (0..100_000)
            .filter(|&k| b.decide(Route::SearchMissions, k).fault.is_some())
            .count();
        assert!((4_700..5_300).contains(&hits), "{hits}");
        assert!(Behaviour::default().decide(Route::GetMission, 0) == Decision::default());
    }

    #[test]
    fn a_share_picks_that_share_of_requests_and_the_others_are_untouched() {
        let b = Behaviour {
            seed: 4,
            emulate: [Cause::NPlusOne, Cause::SlowDependency].into(),
            n_plus_one_share: 0.3,
            slow_dependency_share: 0.0,
            ..Behaviour::default()
        };
        let hit = |k| b.decide(Route::GetMission, k).effects;
        let n = (0..100_000).filter(|&k| hit(k).plan.n_plus_one).count();
        assert!((29_000..31_000).contains(&n), "{n}");
        assert!((0..10_000).all(|k| !hit(k).upstream), "share 0: none");
        assert!((0..10_000).all(|k| !hit(k).plan.missing_index), "not on");
        let full = Behaviour {
            emulate: [Cause::NPlusOne].into(),
            ..Behaviour::default()
        };
        assert!((0..1000).all(|k| full.decide(Route::GetMission, k).effects.plan.n_plus_one));
        let bad = Behaviour {
            memory_leak_share: -0.1,
            ..Behaviour::default()
        };
        assert!(bad.validate().unwrap_err().contains("memory_leak_share"));
    }

    #[test]
    fn files_parse_with_the_same_settings() {
        let b: Behaviour = toml::from_str(
            r#"
seed = 7
emulate = ["n-plus-one", "slow-dependency"]
leak_bytes = 1024
dependency_latency = "fixed(30)"
[latency]
get_mission = "lognormal(20,200)"
[[faults]]
route = "all"
kind = "503"
probability = 0.05
"#,
        )
        .unwrap();
        b.validate().unwrap();
        assert!(b.is_on(Cause::NPlusOne) && b.is_on(Cause::SlowDependency));
        assert_eq!(
            b.latency_for(Route::GetMission),
            Some(Dist::LogNormal(20.0, 200.0))
        );
        assert_eq!(b.latency_for(Route::SearchMissions), None);
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(serde_json::from_str::<Behaviour>(&json).unwrap(), b);
    }
}
