//! The seeded generator: realistic, skewed missions, one at a time.
//!
//! Mission number `n` is drawn from its own ChaCha8 stream (`seed`, stream
//! `n`), so it is the same whatever the total count, missions can be made in
//! any order, and nothing needs to be held in memory: [`Generator`] is a
//! plain iterator and a million missions stream through it.
//!
//! The shares below are the documented skew that `seed-data --stats`
//! checks against (see the crate docs for the table).

use fake::faker::name::en::{FirstName, LastName};
use fake::Fake;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::domain::{
    Altitude, Latitude, Longitude, Mission, MissionId, MissionSummary, Priority, Region, Status,
    Timestamp, Waypoint, WaypointId,
};

/// The instant the generated history ends at: 2026-01-01T00:00:00Z. Fixed, so
/// that output does not depend on the day it is made.
pub const REFERENCE_MILLIS: i64 = 1_767_225_600_000;
/// How far back the generated history reaches: three years.
pub const HISTORY_MILLIS: i64 = 3 * 365 * 24 * 3600 * 1000;

/// Region shares in percent (sum 100). CENTCOM is the hot spot.
pub const REGION_SHARES: [(Region, u32); 7] = [
    (Region::Centcom, 34),
    (Region::Indopacom, 22),
    (Region::Eucom, 17),
    (Region::Africom, 11),
    (Region::Northcom, 8),
    (Region::Southcom, 5),
    (Region::Spacecom, 3),
];

/// Status shares in percent (sum 100).
pub const STATUS_SHARES: [(Status, u32); 5] = [
    (Status::Completed, 34),
    (Status::Active, 26),
    (Status::Planned, 20),
    (Status::Draft, 12),
    (Status::Aborted, 8),
];

/// Priority shares in percent for priorities 1..=5.
pub const PRIORITY_SHARES: [u32; 5] = [12, 23, 38, 18, 9];

/// Waypoint-count bands: (lowest, highest, percent of missions). The last
/// band is a Pareto tail (shape [`TAIL_ALPHA`]) cut at its highest value.
pub const WAYPOINT_BANDS: [(u32, u32, u32); 3] = [(3, 15, 92), (16, 60, 6), (61, 400, 2)];
/// Pareto shape of the waypoint tail: most tail missions sit near 61, a few
/// reach the hundreds.
pub const TAIL_ALPHA: f64 = 1.2;

/// Where each region's routes are drawn: (latitude, longitude, spread in degrees).
fn theatre(region: Region) -> (f64, f64, f64) {
    match region {
        Region::Centcom => (29.0, 47.0, 6.0),
        Region::Eucom => (50.0, 15.0, 7.0),
        Region::Indopacom => (15.0, 135.0, 12.0),
        Region::Africom => (5.0, 20.0, 10.0),
        Region::Southcom => (-10.0, -62.0, 10.0),
        Region::Northcom => (40.0, -100.0, 10.0),
        Region::Spacecom => (38.8, -104.8, 25.0),
    }
}

const ADJECTIVES: &[&str] = &[
    "Silent", "Iron", "Crimson", "Northern", "Swift", "Granite", "Steel", "Desert", "Midnight",
    "Thunder", "Frozen", "Golden", "Shadow", "Arctic", "Burning", "Hidden", "Pacific", "Copper",
    "Distant", "Emerald", "Falling", "Rising", "Savage", "Valiant", "Vigilant", "Resolute",
    "Noble", "Restless", "Scarlet", "Urgent", "Eager", "Patient", "Bold", "Black", "White",
];
const NOUNS: &[&str] = &[
    "Falcon", "Anvil", "Trident", "Harbor", "Sentinel", "Lance", "Horizon", "Viper", "Citadel",
    "Eagle", "Guardian", "Tempest", "Spear", "Shield", "Beacon", "Compass", "Hammer", "Archer",
    "Raven", "Osprey", "Piston", "Glacier", "Summit", "Meridian", "Pioneer", "Bastion", "Cobra",
    "Dagger", "Lantern", "Monsoon", "Nomad", "Phoenix", "Rampart", "Talon", "Vanguard",
];
const RANKS: &[&str] = &["Maj.", "Lt. Col.", "Col.", "Capt.", "Cdr.", "Brig. Gen."];
const UNIT_KINDS: &[&str] = &[
    "Infantry Battalion",
    "Fighter Squadron",
    "Airborne Brigade",
    "Special Forces Group",
    "Marine Expeditionary Unit",
    "Carrier Strike Group",
    "Reconnaissance Squadron",
    "Engineer Battalion",
    "Logistics Battalion",
    "Air Refueling Wing",
];
const SPACE_UNIT_KINDS: &[&str] = &[
    "Space Operations Squadron",
    "Space Delta",
    "Space Warning Squadron",
];
const PHONETIC: &[&str] = &[
    "ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT", "GOLF", "HOTEL", "INDIA", "JULIET",
    "KILO", "LIMA", "MIKE", "NOVEMBER", "OSCAR", "PAPA", "QUEBEC", "ROMEO", "SIERRA", "TANGO",
    "UNIFORM", "VICTOR", "WHISKEY", "XRAY", "YANKEE", "ZULU",
];

/// Streams missions `MISSION-0001` .. `MISSION-{count}` for one seed.
#[derive(Debug, Clone)]
pub struct Generator {
    seed: u64,
    next: u32,
    last: u32,
}

impl Generator {
    /// Missions numbered 1 to `count`.
    pub fn new(seed: u64, count: u32) -> Self {
        Self::range(seed, 1, count)
    }

    /// Missions numbered `first` to `last` inclusive (for chunked or parallel loading).
    pub fn range(seed: u64, first: u32, last: u32) -> Self {
        Self {
            seed,
            next: first.max(1),
            last,
        }
    }
}

impl Iterator for Generator {
    type Item = Mission;

    fn next(&mut self) -> Option<Mission> {
        if self.next > self.last {
            return None;
        }
        let n = self.next;
        self.next += 1;
        Some(mission(self.seed, n))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.last + 1).saturating_sub(self.next) as usize;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Generator {}

/// Picks from `(item, weight)` pairs.
fn weighted<T: Copy, R: Rng>(rng: &mut R, shares: &[(T, u32)]) -> T {
    let total: u32 = shares.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    for &(item, w) in shares {
        if pick < w {
            return item;
        }
        pick -= w;
    }
    shares[shares.len() - 1].0
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// A standard normal draw (Box-Muller), so that no distribution crate's
/// version can change the output.
fn normal<R: Rng>(rng: &mut R) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// How many waypoints a mission has: banded, heavy-tailed.
pub fn waypoint_count<R: Rng>(rng: &mut R) -> u32 {
    let bands = WAYPOINT_BANDS.map(|(lo, hi, share)| ((lo, hi), share));
    let (lo, hi) = weighted(rng, &bands);
    if hi == WAYPOINT_BANDS[WAYPOINT_BANDS.len() - 1].1 {
        let u: f64 = 1.0 - rng.random::<f64>();
        let x = f64::from(lo) * u.powf(-1.0 / TAIL_ALPHA);
        (x.floor() as u32).clamp(lo, hi)
    } else {
        rng.random_range(lo..=hi)
    }
}

/// Mission number `n` for `seed`: the same every time.
pub fn mission(seed: u64, n: u32) -> Mission {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(u64::from(n));

    let id = MissionId::new(n).expect("mission numbers start at 1");
    let region = weighted(&mut rng, &REGION_SHARES);
    let status = weighted(&mut rng, &STATUS_SHARES);
    let priority_shares = [1, 2, 3, 4, 5].map(|p: i64| (p, PRIORITY_SHARES[p as usize - 1]));
    let priority = Priority::parse(weighted(&mut rng, &priority_shares)).expect("1..=5");

    let name = format!(
        "Operation {} {}",
        ADJECTIVES.choose(&mut rng).expect("non-empty"),
        NOUNS.choose(&mut rng).expect("non-empty")
    );
    let first: String = FirstName().fake_with_rng(&mut rng);
    let last: String = LastName().fake_with_rng(&mut rng);
    let commander = format!(
        "{} {first} {last}",
        RANKS.choose(&mut rng).expect("non-empty")
    );
    let kinds = if region == Region::Spacecom {
        SPACE_UNIT_KINDS
    } else {
        UNIT_KINDS
    };
    let unit = format!(
        "{} {}",
        ordinal(rng.random_range(1..=120)),
        kinds.choose(&mut rng).expect("non-empty")
    );

    // Age ~ HISTORY * u^2: the density grows toward the present, so recent
    // missions are denser, as in a live system.
    let u: f64 = rng.random();
    let age = (HISTORY_MILLIS as f64 * u * u) as i64;
    let created = REFERENCE_MILLIS - age;
    let v: f64 = rng.random();
    let updated = created + ((REFERENCE_MILLIS - created) as f64 * v * v * v) as i64;
    let edits = (-(1.0 - rng.random::<f64>()).ln() * 3.0) as i64;

    let count = waypoint_count(&mut rng);
    let waypoints = route(&mut rng, region, count);
    MissionSummary {
        id,
        name,
        status,
        region,
        priority,
        commander,
        unit,
        created_at: Timestamp::from_millis(created / 1000 * 1000),
        updated_at: Timestamp::from_millis(updated / 1000 * 1000),
        version: 1 + edits,
        waypoint_count: count,
    }
    .with_waypoints(waypoints)
}

/// `count` waypoints: a random walk (0.15 degree steps) from near the
/// region's theatre, aloft for most missions and for every space mission.
fn route<R: Rng>(rng: &mut R, region: Region, count: u32) -> Vec<Waypoint> {
    let (clat, clon, spread) = theatre(region);
    let mut lat = clat + normal(rng) * spread / 2.0;
    let mut lon = clon + normal(rng) * spread;
    let aloft = region == Region::Spacecom || rng.random_bool(0.6);
    (1..=count)
        .map(|seq| {
            lat = (lat + normal(rng) * 0.15).clamp(-89.9, 89.9);
            lon += normal(rng) * 0.15;
            if lon > 180.0 {
                lon -= 360.0;
            } else if lon < -180.0 {
                lon += 360.0;
            }
            let alt = aloft.then(|| {
                let metres = if region == Region::Spacecom {
                    rng.random_range(300_000.0..2_000_000.0)
                } else {
                    rng.random_range(50.0..12_000.0)
                };
                Altitude::parse((metres / 10.0_f64).round() * 10.0).expect("in range")
            });
            let letter = PHONETIC[((seq - 1) as usize) % PHONETIC.len()];
            Waypoint {
                id: WaypointId::new(seq).expect("seq starts at 1"),
                name: format!("{letter}-{seq}"),
                lat: Latitude::parse(round6(lat)).expect("clamped"),
                lon: Longitude::parse(round6(lon)).expect("wrapped"),
                alt_m: alt,
            }
        })
        .collect()
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_missions_whatever_the_count() {
        let a: Vec<_> = Generator::new(42, 50).collect();
        let b: Vec<_> = Generator::new(42, 500).take(50).collect();
        assert_eq!(a, b);
        assert_eq!(mission(42, 17), a[16]);
        assert_ne!(mission(43, 17), a[16]);
    }

    #[test]
    fn every_mission_is_well_formed() {
        for m in Generator::new(7, 2000) {
            assert!(!m.waypoints.is_empty());
            assert_eq!(m.waypoints[0].id.to_string(), "wp-001");
            for (i, wp) in m.waypoints.iter().enumerate() {
                assert_eq!(wp.id.seq() as usize, i + 1);
            }
            let s = &m.summary;
            assert!(s.updated_at >= s.created_at);
            assert!(s.created_at.millis() >= REFERENCE_MILLIS - HISTORY_MILLIS);
            assert!(s.version >= 1);
        }
    }

    #[test]
    fn ordinals() {
        assert_eq!(ordinal(1), "1st");
        assert_eq!(ordinal(12), "12th");
        assert_eq!(ordinal(22), "22nd");
        assert_eq!(ordinal(113), "113th");
    }

    #[test]
    fn shares_sum_to_one_hundred() {
        assert_eq!(REGION_SHARES.iter().map(|s| s.1).sum::<u32>(), 100);
        assert_eq!(STATUS_SHARES.iter().map(|s| s.1).sum::<u32>(), 100);
        assert_eq!(PRIORITY_SHARES.iter().sum::<u32>(), 100);
        assert_eq!(WAYPOINT_BANDS.iter().map(|s| s.2).sum::<u32>(), 100);
    }
}
