//! Field readers every part of a scenario shares, a leaf the validators
//! build on (validate, then classes, then steps, one way): keys, think
//! time, and the names stats rows are reported under. In: raw TOML values
//! with their spans. Out: checked values, or errors naming the field.

use std::collections::BTreeMap;
use std::time::Duration;

use toml::Spanned;

use super::raw::{RawKey, RawThink};
use super::spans::Source;
use super::template::{IdFormat, KeyDistribution, KeySpec};
use super::{ThinkTime, AGGREGATE};
use crate::error::ScenarioError;

type Result<T> = std::result::Result<T, ScenarioError>;

/// A name stats are reported under (a class, a task, a step): trimmed,
/// not empty, not [`AGGREGATE`], and, where it becomes part of a path
/// (`no_slash`, classes), without `/`.
pub(super) fn stats_name(
    name: &Spanned<String>,
    field: String,
    no_slash: bool,
    src: &Source<'_>,
) -> Result<String> {
    let n = name.get_ref().trim();
    if n.is_empty() || n == AGGREGATE || (no_slash && n.contains('/')) {
        let why = match no_slash {
            true => format!("must be non-empty, without '/', and not {AGGREGATE:?}"),
            false => format!("must be non-empty and not {AGGREGATE:?}"),
        };
        return Err(src.error(name.span(), field, why));
    }
    Ok(n.to_owned())
}

pub(super) fn keys(
    raw: &BTreeMap<String, Spanned<RawKey>>,
    src: &Source<'_>,
) -> Result<BTreeMap<String, KeySpec>> {
    raw.iter()
        .map(|(name, key)| Ok((name.clone(), key_spec(name, key, src)?)))
        .collect()
}

fn key_spec(name: &str, key: &Spanned<RawKey>, src: &Source<'_>) -> Result<KeySpec> {
    let field = |f: &str| format!("keys.{name}.{f}");
    let k = key.get_ref();
    let n = *k.n.get_ref();
    if n == 0 {
        return Err(src.error(k.n.span(), field("n"), "must be at least 1"));
    }
    let distribution = match k.distribution.get_ref().as_str() {
        "uniform" => KeyDistribution::Uniform,
        "zipf" => {
            let s = k.s.as_ref().map_or(1.0, |s| *s.get_ref());
            if !(s.is_finite() && s > 0.0) {
                let span = k.s.as_ref().map_or(key.span(), |s| s.span());
                return Err(src.error(span, field("s"), "zipf exponent must be a number above 0"));
            }
            KeyDistribution::Zipf { s }
        }
        other => {
            return Err(src.error(
                k.distribution.span(),
                field("distribution"),
                format!("unknown distribution {other:?}; expected \"uniform\" or \"zipf\""),
            ))
        }
    };
    let format = match &k.format {
        Some(f) => {
            IdFormat::parse(f.get_ref()).map_err(|m| src.error(f.span(), field("format"), m))?
        }
        None => IdFormat::plain(),
    };
    Ok(KeySpec {
        distribution,
        n,
        start: k.start.unwrap_or(1),
        format,
    })
}

pub(super) fn think_time(t: &Spanned<RawThink>, src: &Source<'_>) -> Result<ThinkTime> {
    let r = t.get_ref();
    let need = |v: &Option<Spanned<String>>, name: &str| -> Result<Duration> {
        let field = format!("think_time.{name}");
        match v {
            Some(s) => src.duration(s, &field),
            None => Err(src.error(
                t.span(),
                field,
                format!("think_time of kind {:?} needs {name}", r.kind.get_ref()),
            )),
        }
    };
    Ok(match r.kind.get_ref().as_str() {
        "none" => ThinkTime::None,
        "constant" => ThinkTime::Constant(need(&r.value, "value")?),
        "constant_pacing" => ThinkTime::ConstantPacing(need(&r.value, "value")?),
        "between" => {
            let (min, max) = (need(&r.min, "min")?, need(&r.max, "max")?);
            if min > max {
                let span = r.max.as_ref().map_or(t.span(), |m| m.span());
                return Err(src.error(
                    span,
                    "think_time.max",
                    "must not be below think_time.min",
                ));
            }
            ThinkTime::Between(min, max)
        }
        other => {
            return Err(src.error(
                r.kind.span(),
                "think_time.kind",
                format!("unknown kind {other:?}; expected \"between\", \"constant\", \"constant_pacing\" or \"none\""),
            ))
        }
    })
}
