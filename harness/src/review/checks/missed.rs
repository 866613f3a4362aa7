//! What generated load tests often miss (the seed document's list). In: a
//! scenario and the target's facts. Out: one finding per item.

use super::*;

/// What generated load tests often miss, where the file can tell.
pub fn often_missed(s: &Scenario, facts: Option<&Facts>) -> Vec<Finding> {
    let flat = s.stages.iter().filter(|st| st.steady).count() == s.stages.len();
    let patterns = if flat {
        (Warn, "one flat level of load: operations have peaks and quiet hours (add ramp and spike stages)".to_owned())
    } else {
        (Pass, format!("{} stages of changing load", s.stages.len()))
    };
    let constrained = facts
        .and_then(|f| f.behaviour_on.as_ref())
        .is_some_and(|on| {
            on.iter().any(|o| {
                o.starts_with("concurrency")
                    || o.starts_with("links")
                    || o.starts_with("dependency_concurrency")
            })
        });
    let infrastructure = if constrained {
        (
            Pass,
            "the target emulates limits (concurrency, links or a dependency ceiling)".to_owned(),
        )
    } else {
        (Warn, "no limits are named: bandwidth, connection pools and memory are the production target's (mock-api emulates them: --concurrency, --link, --dependency-concurrency)".to_owned())
    };
    let skew = if all_keys(s)
        .iter()
        .any(|(_, k)| matches!(k.distribution, KeyDistribution::Zipf { .. }))
    {
        (Pass, "keys drawn with hot spots (zipf)".to_owned())
    } else {
        (
            Warn,
            "no skewed keys: every id as likely as any other".to_owned(),
        )
    };
    let own: Vec<String> = s
        .classes
        .iter()
        .filter_map(|c| c.target.as_ref().map(|t| format!("{} from {t}", c.name)))
        .collect();
    let place = match own.is_empty() {
        true => (
            Warn,
            "every user loads one address: one location (mock-api --link emulates far ones; a class's target = the link's address puts its users there)".to_owned(),
        ),
        false => (Pass, format!("classes load from their own addresses: {}", own.join(", "))),
    };
    let compound = (Warn, "only the API is loaded, not the systems behind it at the same time (mock-api's upstream can be loaded directly)".to_owned());
    vec![
        Finding::of(
            "operational_load_patterns",
            "Actual operational load patterns",
            vec![patterns],
        ),
        Finding::of(
            "infrastructure_constraints",
            "Infrastructure constraints (network bandwidth, database connections, memory limits)",
            vec![infrastructure],
        ),
        Finding::of(
            "realistic_data_distribution",
            "Realistic data distribution (production data skew, hot spots, cache hit rates)",
            vec![skew],
        ),
        Finding::of(
            "geographic_distribution",
            "Geographic distribution (latency from different operational locations)",
            vec![place],
        ),
        Finding::of(
            "compound_stress",
            "Compound stress factors (several systems under load at once)",
            vec![compound],
        ),
    ]
}
