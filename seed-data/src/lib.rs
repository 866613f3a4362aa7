//! The mission-planning domain and its seeded data generator.
//!
//! This crate owns the model every other crate uses (missions, waypoints,
//! regions, statuses, coordinates that parse, mission ids) and a
//! deterministic generator of realistic, skewed missions. It knows nothing of
//! HTTP or of the database.
//!
//! # Layout
//! - [`domain`]: value types that parse ([`Latitude`], [`MissionId`], ...),
//!   [`Mission`], [`Waypoint`], [`MissionSummary`].
//! - [`generator`]: [`Generator`], an iterator of missions for a seed.
//! - [`stats`]: shares and spreads of a mission stream, for `--stats`.
//!
//! # Determinism
//! Mission number `n` for seed `s` is drawn from ChaCha8 stream `n` of seed
//! `s`: the same on every run and machine, whatever the total count. Times
//! are spread back from a fixed reference instant (2026-01-01T00:00:00Z), not
//! from "now". Coordinates are rounded to 6 decimals. So the same seed gives
//! byte-identical JSON Lines.
//!
//! # The skew (as production data has it)
//! | what | shares |
//! |---|---|
//! | region | CENTCOM 34%, INDOPACOM 22%, EUCOM 17%, AFRICOM 11%, NORTHCOM 8%, SOUTHCOM 5%, SPACECOM 3% |
//! | status | completed 34%, active 26%, planned 20%, draft 12%, aborted 8% |
//! | priority | 1: 12%, 2: 23%, 3: 38%, 4: 18%, 5: 9% |
//! | waypoints per mission | 3-15: 92% (uniform), 16-60: 6% (uniform), 61-400: 2% (Pareto tail, shape 1.2, cut at 400) |
//! | created_at | over the 3 years before the reference instant, age = 3 y x u^2, so density grows toward the present |
//! | updated_at | after created_at, mostly soon after (fraction v^3 of the time left) |
//! | coordinates | a random walk (0.15 degree steps) starting near the region's theatre |
//!
//! Region and status are drawn independently, so `active` with `CENTCOM`
//! is about 8.8% of missions: about 88 at 1000 (81 for seed 42;
//! the seed document's search always has rows). Every mission has at least
//! three waypoints, so `wp-001` always exists.

pub mod domain;
pub mod generator;
pub mod stats;

pub use domain::{
    parse_text, Altitude, DomainError, Latitude, Longitude, Mission, MissionId, MissionSummary,
    Priority, Region, Status, Timestamp, Waypoint, WaypointId, TEXT_PATTERN,
};
pub use generator::{mission, Generator};
pub use stats::Stats;

/// Writes missions as JSON Lines, one mission per line, streaming.
pub fn write_jsonl<W: std::io::Write>(
    out: &mut W,
    missions: impl IntoIterator<Item = Mission>,
    mut each: impl FnMut(&Mission),
) -> std::io::Result<u64> {
    let mut n = 0;
    for m in missions {
        serde_json::to_writer(&mut *out, &m)?;
        out.write_all(b"\n")?;
        each(&m);
        n += 1;
    }
    Ok(n)
}
