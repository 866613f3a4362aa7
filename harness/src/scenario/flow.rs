//! What a flow's steps take from responses and test in them. In: a
//! response (status, headers, body, latency). Out: extracted values for the
//! user's variables, or why a check or an extraction failed, with a sample
//! of what was received.
//!
//! - An extraction reads a JSON pointer into the body (RFC 6901, with `*`
//!   as a whole segment meaning one element chosen at random among those
//!   for which the rest resolves), a response header, or a regex over the
//!   body (its first group, or the whole match).
//! - A check tests a JSON pointer (exists, equals, matches), that the body
//!   contains a text, or that the latency is under a bound.

use std::time::Duration;

use hyper::header::{HeaderMap, HeaderName};
use rand::Rng;
use serde_json::Value;

/// Characters of the body quoted in a failure's message.
const SAMPLE_CHARS: usize = 200;

/// A regex, compared by its source.
#[derive(Debug, Clone)]
pub struct Pattern(pub regex::Regex);

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl Pattern {
    pub fn parse(s: &str) -> Result<Self, String> {
        regex::Regex::new(s)
            .map(Pattern)
            .map_err(|e| format!("{s:?} is not a regex: {e}"))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    /// `*`: one element (or member value), chosen at random.
    Any,
}

/// A JSON pointer (`/missions/0/id`), where a `*` segment picks one
/// element at random (`/missions/*/id`).
#[derive(Debug, Clone, PartialEq)]
pub struct Pointer {
    text: String,
    segments: Vec<Segment>,
}

impl Pointer {
    pub fn parse(s: &str) -> Result<Self, String> {
        if !(s.is_empty() || s.starts_with('/')) {
            return Err(format!(
                "{s:?} is not a JSON pointer: it must be empty or start with '/' (e.g. \"/missions/0/id\")"
            ));
        }
        let segments = s
            .split('/')
            .skip(1)
            .map(|seg| match seg {
                "*" => Segment::Any,
                _ => Segment::Key(seg.replace("~1", "/").replace("~0", "~")),
            })
            .collect();
        Ok(Pointer {
            text: s.to_owned(),
            segments,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value it points at; `*` picks among the elements for which the
    /// rest of the pointer resolves.
    pub fn resolve<'v, R: Rng + ?Sized>(&self, v: &'v Value, rng: &mut R) -> Option<&'v Value> {
        resolve(&self.segments, v, rng)
    }
}

fn resolve<'v, R: Rng + ?Sized>(
    segments: &[Segment],
    v: &'v Value,
    rng: &mut R,
) -> Option<&'v Value> {
    let Some((first, rest)) = segments.split_first() else {
        return Some(v);
    };
    match first {
        Segment::Key(k) => {
            let next = match v {
                Value::Object(m) => m.get(k),
                Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            }?;
            resolve(rest, next, rng)
        }
        Segment::Any => {
            let items: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                Value::Object(m) => m.values().collect(),
                _ => return None,
            };
            // Without another `*` below, the candidates are fixed: pick one.
            let found: Vec<&Value> = items
                .into_iter()
                .filter_map(|x| resolve(rest, x, rng))
                .collect();
            match found.len() {
                0 => None,
                n => Some(found[rng.random_range(0..n)]),
            }
        }
    }
}

/// Where an extraction reads.
#[derive(Debug, Clone, PartialEq)]
pub enum ExtractFrom {
    Json(Pointer),
    Header(HeaderName),
    Regex(Pattern),
}

/// A value taken into variable `slot` (`var` by name).
#[derive(Debug, Clone, PartialEq)]
pub struct Extract {
    pub var: String,
    pub slot: usize,
    pub from: ExtractFrom,
}

/// What a JSON check asks of the value at its pointer.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonTest {
    /// Present (`true`) or absent (`false`).
    Exists(bool),
    Equals(Value),
    /// Its text (a string as is, anything else as JSON) matches.
    Matches(Pattern),
}

/// A test of a response; failing one is an error of class `check`.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    Json { pointer: Pointer, test: JsonTest },
    BodyContains(String),
    LatencyUnder(Duration),
}

impl Check {
    /// Whether it needs the body.
    pub fn reads_body(&self) -> bool {
        !matches!(self, Check::LatencyUnder(_))
    }
}

/// A response as a step sees it.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    pub status: u16,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub latency: Duration,
}

impl Received<'_> {
    /// `status 200, body: {"missions":[...` (the body's first characters).
    pub fn sample(&self) -> String {
        let text = String::from_utf8_lossy(self.body);
        let mut cut: String = text.chars().take(SAMPLE_CHARS).collect();
        if text.chars().nth(SAMPLE_CHARS).is_some() {
            cut.push('…');
        }
        format!("status {}, body: {cut}", self.status)
    }
}

/// The body parsed as JSON once, when first asked.
#[derive(Debug, Default)]
pub struct ParsedBody(Option<Option<Value>>);

impl ParsedBody {
    fn get(&mut self, body: &[u8]) -> Option<&Value> {
        self.0
            .get_or_insert_with(|| serde_json::from_slice(body).ok())
            .as_ref()
    }
}

/// A value as a variable holds it: a string as is, anything else as JSON.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Extract {
    /// The value taken, or why none could be.
    pub fn apply<R: Rng + ?Sized>(
        &self,
        r: &Received<'_>,
        json: &mut ParsedBody,
        rng: &mut R,
    ) -> Result<String, String> {
        let missing = |what: String| format!("extract {}: {what}; {}", self.var, r.sample());
        match &self.from {
            ExtractFrom::Json(p) => {
                let Some(doc) = json.get(r.body) else {
                    return Err(missing("the body is not JSON".to_owned()));
                };
                p.resolve(doc, rng)
                    .map(text_of)
                    .ok_or_else(|| missing(format!("nothing at {}", p.as_str())))
            }
            ExtractFrom::Header(h) => r
                .headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .ok_or_else(|| missing(format!("no {h} header"))),
            ExtractFrom::Regex(re) => {
                let text = String::from_utf8_lossy(r.body);
                re.0.captures(&text)
                    .and_then(|c| c.get(1).or_else(|| c.get(0)))
                    .map(|m| m.as_str().to_owned())
                    .ok_or_else(|| missing(format!("no match for /{}/", re.0.as_str())))
            }
        }
    }
}

impl Check {
    /// `Ok` when the response passes, or why it does not.
    pub fn apply<R: Rng + ?Sized>(
        &self,
        r: &Received<'_>,
        json: &mut ParsedBody,
        rng: &mut R,
    ) -> Result<(), String> {
        let fail = |what: String| Err(format!("check {what}; {}", r.sample()));
        match self {
            Check::LatencyUnder(bound) if r.latency < *bound => Ok(()),
            Check::LatencyUnder(bound) => Err(format!(
                "check latency under {}: took {:.1} ms",
                humantime::format_duration(*bound),
                r.latency.as_secs_f64() * 1e3
            )),
            Check::BodyContains(text) => match String::from_utf8_lossy(r.body).contains(text) {
                true => Ok(()),
                false => fail(format!("body contains {text:?}: it does not")),
            },
            Check::Json { pointer, test } => {
                let p = pointer.as_str();
                let Some(doc) = json.get(r.body) else {
                    return fail(format!("{p}: the body is not JSON"));
                };
                let found = pointer.resolve(doc, rng);
                match (test, found) {
                    (JsonTest::Exists(true), Some(_)) | (JsonTest::Exists(false), None) => Ok(()),
                    (JsonTest::Exists(true), None) => fail(format!("{p} exists: it does not")),
                    (JsonTest::Exists(false), Some(v)) => {
                        fail(format!("{p} absent: it is {}", text_of(v)))
                    }
                    (JsonTest::Equals(want), Some(v)) if v == want => Ok(()),
                    (JsonTest::Equals(want), v) => fail(format!(
                        "{p} equals {want}: it is {}",
                        v.map_or("absent".to_owned(), |v| v.to_string())
                    )),
                    (JsonTest::Matches(re), Some(v)) if re.0.is_match(&text_of(v)) => Ok(()),
                    (JsonTest::Matches(re), v) => fail(format!(
                        "{p} matches /{}/: it is {}",
                        re.0.as_str(),
                        v.map_or("absent".to_owned(), |v| v.to_string())
                    )),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn received<'a>(headers: &'a HeaderMap, body: &'a str) -> Received<'a> {
        Received {
            status: 200,
            headers,
            body: body.as_bytes(),
            latency: Duration::from_millis(12),
        }
    }

    #[test]
    fn pointers_follow_rfc_6901_and_a_star_picks_any_element_that_resolves() {
        let doc: Value = serde_json::from_str(
            r#"{"missions":[{"id":"M-1"},{"x":1},{"id":"M-3"}],"a/b":{"~c":5}}"#,
        )
        .unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let p = Pointer::parse("/missions/0/id").unwrap();
        assert_eq!(p.resolve(&doc, &mut rng), Some(&Value::from("M-1")));
        let p = Pointer::parse("/a~1b/~0c").unwrap();
        assert_eq!(p.resolve(&doc, &mut rng), Some(&Value::from(5)));
        let any = Pointer::parse("/missions/*/id").unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..100 {
            seen.insert(any.resolve(&doc, &mut rng).unwrap().to_string());
        }
        // The element without an id is never the one picked.
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(
            Pointer::parse("/missions/*/nope")
                .unwrap()
                .resolve(&doc, &mut rng),
            None
        );
        assert!(Pointer::parse("missions").is_err());
    }

    #[test]
    fn extractions_read_json_headers_and_regexes_or_say_what_was_received() {
        let mut headers = HeaderMap::new();
        headers.insert("etag", "\"7\"".parse().unwrap());
        let r = received(&headers, r#"{"id":"MISSION-0042","n":3}"#);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let ex = |from| Extract {
            var: "v".into(),
            slot: 0,
            from,
        };
        let mut json = ParsedBody::default();
        let json_ptr = ex(ExtractFrom::Json(Pointer::parse("/n").unwrap()));
        assert_eq!(json_ptr.apply(&r, &mut json, &mut rng).unwrap(), "3");
        let etag = ex(ExtractFrom::Header(HeaderName::from_static("etag")));
        assert_eq!(etag.apply(&r, &mut json, &mut rng).unwrap(), "\"7\"");
        let re = ex(ExtractFrom::Regex(
            Pattern::parse("MISSION-(\\d+)").unwrap(),
        ));
        assert_eq!(re.apply(&r, &mut json, &mut rng).unwrap(), "0042");
        let missing = ex(ExtractFrom::Json(Pointer::parse("/missing").unwrap()));
        let e = missing.apply(&r, &mut json, &mut rng).unwrap_err();
        assert!(e.contains("nothing at /missing"), "{e}");
        assert!(
            e.contains("status 200, body: {\"id\":\"MISSION-0042\""),
            "{e}"
        );
    }

    #[test]
    fn checks_pass_or_fail_with_what_was_there() {
        let headers = HeaderMap::new();
        let r = received(&headers, r#"{"status":"active","total":12}"#);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut json = ParsedBody::default();
        let json_check = |p: &str, test| Check::Json {
            pointer: Pointer::parse(p).unwrap(),
            test,
        };
        let pass = [
            json_check("/status", JsonTest::Equals(Value::from("active"))),
            json_check(
                "/total",
                JsonTest::Matches(Pattern::parse("^[1-9]").unwrap()),
            ),
            json_check("/total", JsonTest::Exists(true)),
            json_check("/gone", JsonTest::Exists(false)),
            Check::BodyContains("active".into()),
            Check::LatencyUnder(Duration::from_millis(50)),
        ];
        for c in &pass {
            assert_eq!(c.apply(&r, &mut json, &mut rng), Ok(()), "{c:?}");
        }
        let e = json_check("/total", JsonTest::Equals(Value::from(5)))
            .apply(&r, &mut json, &mut rng)
            .unwrap_err();
        assert!(
            e.starts_with("check /total equals 5: it is 12; status 200"),
            "{e}"
        );
        let e = Check::LatencyUnder(Duration::from_millis(10))
            .apply(&r, &mut json, &mut rng)
            .unwrap_err();
        assert!(e.contains("took 12.0 ms"), "{e}");
        let e = Check::BodyContains("planned".into())
            .apply(&r, &mut json, &mut rng)
            .unwrap_err();
        assert!(e.contains("body contains \"planned\""), "{e}");
    }
}
