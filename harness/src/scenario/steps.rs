//! A flow's steps (and a one-request task, as one step): raw TOML to
//! [`Step`]s. Templates may use only the variables earlier steps extract:
//! a step that uses another is an error naming file, line and step.

use std::collections::BTreeMap;

use toml::Spanned;

use super::fields::stats_name;
use super::flow::{Check, Extract, ExtractFrom, JsonTest, Pattern, Pointer};
use super::raw::{RawCheck, RawExtract, RawStatuses, RawStep};
use super::spans::Source;
use super::template::{BodyTemplate, KeySpec, PathTemplate};
use super::Step;
use crate::error::ScenarioError;

type Result<T> = std::result::Result<T, ScenarioError>;

/// One request; `vars` are the variables earlier steps extract, and this
/// step's extractions are added to them.
pub(super) fn step(
    at: &str,
    r: &RawStep,
    keys: &BTreeMap<String, KeySpec>,
    vars: &mut Vec<String>,
    src: &Source<'_>,
) -> Result<Step> {
    let field = |f: &str| format!("{at}.{f}");
    let name = stats_name(&r.name, field("name"), false, src)?;
    let in_step = |m: String| format!("step {name:?} {m}");
    let method_text = r.method.as_ref().map_or("GET", |m| m.get_ref().as_str());
    let method =
        hyper::Method::from_bytes(method_text.to_ascii_uppercase().as_bytes()).map_err(|_| {
            let span = r.method.as_ref().map_or(r.name.span(), Spanned::span);
            src.error(
                span,
                field("method"),
                format!("{method_text:?} is not an HTTP method"),
            )
        })?;
    let path = PathTemplate::parse_with_vars(r.path.get_ref(), keys, vars)
        .map_err(|m| src.error(r.path.span(), field("path"), in_step(m)))?;
    let mut headers = Vec::new();
    for (h, v) in &r.headers {
        let f = field(&format!("headers.{h}"));
        let header = hyper::header::HeaderName::from_bytes(h.as_bytes())
            .map_err(|_| src.error(v.span(), &f, format!("{h:?} is not a header name")))?;
        let value = PathTemplate::parse_with_vars(v.get_ref(), keys, vars)
            .map_err(|m| src.error(v.span(), &f, in_step(m)))?;
        headers.push((header, value));
    }
    let body = r
        .body
        .as_ref()
        .map(|b| {
            BodyTemplate::parse_with_vars(b.get_ref(), keys, vars)
                .map_err(|m| src.error(b.span(), field("body"), in_step(m)))
        })
        .transpose()?;
    let mut expect = r
        .expect
        .as_ref()
        .map(|e| statuses(e, &field("expect"), src))
        .transpose()?;
    let mut checks = Vec::new();
    for (k, c) in r.check.iter().enumerate() {
        let f = field(&format!("check[{k}]"));
        match check(c, &f, src)? {
            Err(_) if expect.is_some() => {
                return Err(src.error(
                    c.span(),
                    f,
                    "the status is checked once: by `expect` or by a `status` check, not both",
                ));
            }
            Err(status) => expect = Some(status),
            Ok(c) => checks.push(c),
        }
    }
    let mut extract = Vec::new();
    for (k, e) in r.extract.iter().enumerate() {
        extract.push(extraction(e, &field(&format!("extract[{k}]")), vars, src)?);
    }
    Ok(Step {
        name,
        method,
        path,
        headers,
        body,
        expect: expect.unwrap_or_else(|| vec![200]),
        extract,
        checks,
    })
}

fn statuses(e: &Spanned<RawStatuses>, field: &str, src: &Source<'_>) -> Result<Vec<u16>> {
    let list = match e.get_ref() {
        RawStatuses::One(s) => vec![*s],
        RawStatuses::Many(v) => v.clone(),
    };
    if list.is_empty() || list.iter().any(|s| !(100..=599).contains(s)) {
        return Err(src.error(
            e.span(),
            field,
            "must be an HTTP status (100-599) or a list of them",
        ));
    }
    Ok(list.into_iter().map(|s| s as u16).collect())
}

/// A check, or (as `Err`) a `status` check's statuses.
fn check(
    c: &Spanned<RawCheck>,
    field: &str,
    src: &Source<'_>,
) -> Result<std::result::Result<Check, Vec<u16>>> {
    let r = c.get_ref();
    let kinds = [
        r.status.is_some(),
        r.json.is_some(),
        r.body_contains.is_some(),
        r.latency_under.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err(src.error(
            c.span(),
            field,
            "a check tests one thing: status, json (with exists, equals or matches), body_contains or latency_under",
        ));
    }
    if let Some(s) = &r.status {
        return Ok(Err(statuses(s, &format!("{field}.status"), src)?));
    }
    if let Some(t) = &r.body_contains {
        return Ok(Ok(Check::BodyContains(t.get_ref().clone())));
    }
    if let Some(l) = &r.latency_under {
        let bound = src.duration(l, &format!("{field}.latency_under"))?;
        return Ok(Ok(Check::LatencyUnder(bound)));
    }
    let p = r.json.as_ref().expect("one kind is set");
    let pointer =
        Pointer::parse(p.get_ref()).map_err(|m| src.error(p.span(), format!("{field}.json"), m))?;
    let tests = [r.exists.is_some(), r.equals.is_some(), r.matches.is_some()];
    if tests.iter().filter(|t| **t).count() != 1 {
        return Err(src.error(
            c.span(),
            field,
            "a json check needs one of exists, equals or matches",
        ));
    }
    let test = if let Some(e) = &r.exists {
        JsonTest::Exists(*e.get_ref())
    } else if let Some(v) = &r.equals {
        let json = serde_json::to_value(v.get_ref())
            .map_err(|e| src.error(v.span(), format!("{field}.equals"), e.to_string()))?;
        JsonTest::Equals(json)
    } else {
        let m = r.matches.as_ref().expect("one test is set");
        JsonTest::Matches(
            Pattern::parse(m.get_ref())
                .map_err(|e| src.error(m.span(), format!("{field}.matches"), e))?,
        )
    };
    Ok(Ok(Check::Json { pointer, test }))
}

fn extraction(
    e: &Spanned<RawExtract>,
    field: &str,
    vars: &mut Vec<String>,
    src: &Source<'_>,
) -> Result<Extract> {
    let r = e.get_ref();
    let var = r.var.get_ref().trim().to_owned();
    let is_ident = var
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !is_ident {
        return Err(src.error(
            r.var.span(),
            format!("{field}.var"),
            format!(
                "{var:?} is not a variable name (letters, digits and _, not starting with a digit)"
            ),
        ));
    }
    let from = match (&r.json, &r.header, &r.regex) {
        (Some(p), None, None) => ExtractFrom::Json(
            Pointer::parse(p.get_ref())
                .map_err(|m| src.error(p.span(), format!("{field}.json"), m))?,
        ),
        (None, Some(h), None) => ExtractFrom::Header(
            hyper::header::HeaderName::from_bytes(h.get_ref().trim().as_bytes()).map_err(|_| {
                src.error(
                    h.span(),
                    format!("{field}.header"),
                    format!("{:?} is not a header name", h.get_ref()),
                )
            })?,
        ),
        (None, None, Some(re)) => ExtractFrom::Regex(
            Pattern::parse(re.get_ref())
                .map_err(|m| src.error(re.span(), format!("{field}.regex"), m))?,
        ),
        _ => {
            return Err(src.error(
                e.span(),
                field,
                "an extraction reads one of json (a JSON pointer), header or regex",
            ))
        }
    };
    let slot = match vars.iter().position(|v| *v == var) {
        Some(slot) => slot,
        None => {
            vars.push(var.clone());
            vars.len() - 1
        }
    };
    Ok(Extract { var, slot, from })
}
