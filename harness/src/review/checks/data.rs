//! The checklist's data item. In: a scenario's keys and the target's
//! facts. Out: whether the data is realistic and skewed.

use super::*;

/// Key distributions and key ranges against the target's data.
pub(super) fn data(s: &Scenario, facts: Option<&Facts>) -> Vec<Part> {
    let mut parts = Vec::new();
    let keys = all_keys(s);
    if keys.is_empty() {
        parts.push((
            Warn,
            "no keys: every request reads the same paths (a cache sees one hot item)".into(),
        ));
    }
    for (name, k) in keys {
        match k.distribution {
            KeyDistribution::Uniform => parts.push((Warn, format!(
                "key {name} is uniform over {} ids: production traffic has hot spots (distribution = \"zipf\")",
                k.n
            ))),
            KeyDistribution::Zipf { s: exp } => parts.push((Pass, format!(
                "key {name}: zipf (s = {exp}) over {} ids, hot spots as in production",
                k.n
            ))),
        }
        let Some(held) = facts.and_then(|f| f.missions) else {
            continue;
        };
        let last = k.start + k.n - 1;
        if last > held {
            parts.push((Fail, format!(
                "key {name} draws ids up to {last}, the target holds {held}: {} of them do not exist (404s, not the work the SLO is about)",
                last - held
            )));
        } else if k.n * 100 < held {
            parts.push((Warn, format!(
                "key {name} draws {} of the target's {held} ids: a tiny slice that caches hold whole",
                k.n
            )));
        } else {
            parts.push((
                Pass,
                format!("key {name}: {} of the target's {held} ids", k.n),
            ));
        }
    }
    parts
}
