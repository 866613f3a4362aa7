//! Behaviour the user sets: added latency and faults per route, and the
//! emulated regression causes. Set at start-up (`--behaviour FILE.toml`
//! and flags) and replaced at run time (`PUT /__admin/behaviour`).
//!
//! Every random draw is seeded: the k-th request to a route draws from a
//! generator seeded with (behaviour seed, route, k), so a replay with the
//! same seed gives each route the same sequence of latencies and faults
//! whatever the interleaving of routes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The routes behaviour can be set for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Route {
    GetMission,
    UpdateWaypoint,
    SearchMissions,
    CreateMission,
    DeleteMission,
}

impl Route {
    pub const ALL: [Route; 5] = [
        Route::GetMission,
        Route::UpdateWaypoint,
        Route::SearchMissions,
        Route::CreateMission,
        Route::DeleteMission,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Route::GetMission => "get_mission",
            Route::UpdateWaypoint => "update_waypoint",
            Route::SearchMissions => "search_missions",
            Route::CreateMission => "create_mission",
            Route::DeleteMission => "delete_mission",
        }
    }

    /// The method and path pattern the route serves.
    pub fn pattern(self) -> (&'static str, &'static str) {
        match self {
            Route::GetMission => ("GET", "/api/missions/{id}"),
            Route::UpdateWaypoint => ("PUT", "/api/missions/{id}/waypoints/{wp_id}"),
            Route::SearchMissions => ("GET", "/api/missions"),
            Route::CreateMission => ("POST", "/api/missions"),
            Route::DeleteMission => ("DELETE", "/api/missions/{id}"),
        }
    }

    /// The route serving `method` on the matched path pattern, if any.
    pub fn from_pattern(method: &str, path: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.pattern() == (method, path))
    }

    fn index(self) -> u64 {
        self as u64
    }
}

/// A route name in flags and files: one route, or `all`.
fn parse_routes(s: &str) -> Result<Vec<Route>, String> {
    if s == "all" {
        return Ok(Route::ALL.to_vec());
    }
    Route::ALL
        .into_iter()
        .find(|r| r.as_str() == s)
        .map(|r| vec![r])
        .ok_or_else(|| {
            format!("unknown route {s:?}; expected get_mission, update_waypoint, search_missions, create_mission, delete_mission or all")
        })
}

/// A latency distribution, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dist {
    Fixed(f64),
    Uniform(f64, f64),
    Normal(f64, f64),
    /// Median and 99th percentile.
    LogNormal(f64, f64),
    Exponential(f64),
}

/// The standard normal's 99th percentile.
const Z99: f64 = 2.326_347_874_040_841;

fn standard_normal<R: Rng>(rng: &mut R) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

impl Dist {
    /// One draw, in milliseconds, never below 0.
    pub fn sample<R: Rng>(&self, rng: &mut R) -> f64 {
        let ms = match *self {
            Dist::Fixed(ms) => ms,
            Dist::Uniform(a, b) => a + (b - a) * rng.random::<f64>(),
            Dist::Normal(mean, sd) => mean + sd * standard_normal(rng),
            Dist::LogNormal(median, p99) => {
                let sigma = (p99 / median).ln() / Z99;
                median * (sigma * standard_normal(rng)).exp()
            }
            Dist::Exponential(mean) => -mean * (1.0 - rng.random::<f64>()).ln(),
        };
        ms.max(0.0)
    }

    /// The distribution's true quantile `q` (0..1), in milliseconds, where
    /// it has a closed form (all but `normal` clipped at 0, which is treated as unclipped).
    pub fn quantile(&self, q: f64) -> f64 {
        let z = inverse_normal(q);
        match *self {
            Dist::Fixed(ms) => ms,
            Dist::Uniform(a, b) => a + (b - a) * q,
            Dist::Normal(mean, sd) => (mean + sd * z).max(0.0),
            Dist::LogNormal(median, p99) => median * ((p99 / median).ln() / Z99 * z).exp(),
            Dist::Exponential(mean) => -mean * (1.0 - q).ln(),
        }
    }
}

/// The standard normal's quantile (Acklam's rational approximation, error < 1.2e-9).
pub fn inverse_normal(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let low = 0.02425;
    if p < low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    }
}

fn args<const N: usize>(s: &str, name: &str) -> Option<[f64; N]> {
    let inner = s.strip_prefix(name)?.strip_prefix('(')?.strip_suffix(')')?;
    let nums: Vec<f64> = inner
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    let arr: [f64; N] = nums.try_into().ok()?;
    arr.iter()
        .all(|x| x.is_finite() && *x >= 0.0)
        .then_some(arr)
}

impl FromStr for Dist {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let d = if let Some([ms]) = args::<1>(s, "fixed") {
            Dist::Fixed(ms)
        } else if let Some([a, b]) = args::<2>(s, "uniform") {
            if a > b {
                return Err(format!("{s}: uniform(min,max) needs min <= max"));
            }
            Dist::Uniform(a, b)
        } else if let Some([m, sd]) = args::<2>(s, "normal") {
            Dist::Normal(m, sd)
        } else if let Some([median, p99]) = args::<2>(s, "lognormal") {
            if !(median > 0.0 && p99 > median) {
                return Err(format!("{s}: lognormal(median,p99) needs 0 < median < p99"));
            }
            Dist::LogNormal(median, p99)
        } else if let Some([mean]) = args::<1>(s, "exponential") {
            Dist::Exponential(mean)
        } else {
            return Err(format!(
                "{s:?} is not a distribution; expected fixed(MS), uniform(MIN,MAX), normal(MEAN,SD), lognormal(MEDIAN,P99) or exponential(MEAN), in ms, not negative"
            ));
        };
        Ok(d)
    }
}

impl fmt::Display for Dist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dist::Fixed(a) => write!(f, "fixed({a})"),
            Dist::Uniform(a, b) => write!(f, "uniform({a},{b})"),
            Dist::Normal(a, b) => write!(f, "normal({a},{b})"),
            Dist::LogNormal(a, b) => write!(f, "lognormal({a},{b})"),
            Dist::Exponential(a) => write!(f, "exponential({a})"),
        }
    }
}

macro_rules! string_serde {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?
                    .parse()
                    .map_err(serde::de::Error::custom)
            }
        }
    };
}
string_serde!(Dist);

/// What a fault does instead of (or to) the response.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultKind {
    /// 500 problem+json, the handler not run.
    Status500,
    /// 503 problem+json with `Retry-After: 1`, the handler not run.
    Status503,
    /// The connection is reset (TCP RST) before any byte of a response.
    Reset,
    /// No answer until the client gives up (at most 5 minutes, or shutdown).
    Hang,
    /// The real response, its body dribbled out over this many milliseconds.
    Dribble(u64),
}

impl FromStr for FaultKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.trim() {
            "500" => FaultKind::Status500,
            "503" => FaultKind::Status503,
            "reset" => FaultKind::Reset,
            "hang" => FaultKind::Hang,
            other => {
                match other
                    .strip_prefix("dribble(")
                    .and_then(|r| r.strip_suffix(')'))
                    .and_then(|n| n.trim().parse().ok())
                {
                    Some(ms) => FaultKind::Dribble(ms),
                    None => {
                        return Err(format!(
                        "unknown fault {other:?}; expected 500, 503, reset, hang or dribble(MS)"
                    ))
                    }
                }
            }
        })
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultKind::Status500 => f.write_str("500"),
            FaultKind::Status503 => f.write_str("503"),
            FaultKind::Reset => f.write_str("reset"),
            FaultKind::Hang => f.write_str("hang"),
            FaultKind::Dribble(ms) => write!(f, "dribble({ms})"),
        }
    }
}
string_serde!(FaultKind);

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

/// A fault with its probability, on a route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// A route name or `all`.
    pub route: String,
    pub kind: FaultKind,
    pub probability: f64,
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
    pub faults: Vec<FaultRule>,
    pub emulate: BTreeSet<Cause>,
    pub leak_bytes: u64,
    pub leak_cap_bytes: u64,
    /// Latency of the emulated upstream service.
    pub dependency_latency: Dist,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            seed: 0,
            latency: BTreeMap::new(),
            faults: Vec::new(),
            emulate: BTreeSet::new(),
            leak_bytes: DEFAULT_LEAK_BYTES,
            leak_cap_bytes: DEFAULT_LEAK_CAP,
            dependency_latency: Dist::Fixed(20.0),
        }
    }
}

/// What the behaviour decides for one request.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Decision {
    pub delay: Option<Duration>,
    pub fault: Option<FaultKind>,
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

    fn latency_for(&self, route: Route) -> Option<Dist> {
        self.latency
            .get(route.as_str())
            .or_else(|| self.latency.get("all"))
            .copied()
    }

    /// The decision for the `k`-th request (0-based) to `route`.
    pub fn decide(&self, route: Route, k: u64) -> Decision {
        let latency = self.latency_for(route);
        let faults: Vec<&FaultRule> = self
            .faults
            .iter()
            .filter(|f| f.route == "all" || f.route == route.as_str())
            .collect();
        if latency.is_none() && faults.is_empty() {
            return Decision::default();
        }
        let mut rng = ChaCha8Rng::seed_from_u64(mix(self.seed ^ mix(route.index() + 1)));
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
        Decision { delay, fault }
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
