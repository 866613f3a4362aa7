//! Request templates: keys chosen per request (`uniform` or `zipf` over N
//! ids), path and header templates (`/api/missions/{mission_id}`, a flow's
//! `{vars.etag}`), and JSON body templates with random values
//! (`lat = "38.8977 ± 0.1"`).
//!
//! Templates are parsed once; rendering writes into reusable buffers.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rand::Rng;
use rand_distr::{Distribution, Zipf};

/// How a key's ids are chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KeyDistribution {
    Uniform,
    /// Rank `k` (1 = hottest) with probability proportional to `1 / k^s`.
    Zipf {
        s: f64,
    },
}

/// How a key's number is written: `MISSION-{:04}` → `MISSION-0042`.
#[derive(Debug, Clone, PartialEq)]
pub struct IdFormat {
    prefix: String,
    width: usize,
    suffix: String,
}

impl IdFormat {
    /// Just the number.
    pub fn plain() -> Self {
        Self {
            prefix: String::new(),
            width: 0,
            suffix: String::new(),
        }
    }

    /// Parses `PREFIX{}SUFFIX` or `PREFIX{:0W}SUFFIX`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not an id format like \"MISSION-{{:04}}\" or \"user-{{}}\"");
        let open = s.find('{').ok_or_else(bad)?;
        let close = s[open..].find('}').map(|i| open + i).ok_or_else(bad)?;
        let spec = &s[open + 1..close];
        let width = match spec {
            "" => 0,
            _ => spec
                .strip_prefix(":0")
                .or_else(|| spec.strip_prefix(':'))
                .and_then(|w| w.parse().ok())
                .ok_or_else(bad)?,
        };
        let suffix = &s[close + 1..];
        if suffix.contains('{') || s[..open].contains('}') {
            return Err(bad());
        }
        Ok(Self {
            prefix: s[..open].to_owned(),
            width,
            suffix: suffix.to_owned(),
        })
    }

    pub fn write(&self, out: &mut String, n: u64) {
        out.push_str(&self.prefix);
        let _ = write!(out, "{n:0width$}", width = self.width);
        out.push_str(&self.suffix);
    }
}

/// A key declared under `[keys.NAME]`.
#[derive(Debug, Clone, PartialEq)]
pub struct KeySpec {
    pub distribution: KeyDistribution,
    /// How many ids: `start` .. `start + n - 1`.
    pub n: u64,
    pub start: u64,
    pub format: IdFormat,
}

/// Draws ids for one key; built once per run.
#[derive(Debug, Clone)]
pub struct KeySampler {
    spec: KeySpec,
    zipf: Option<Zipf<f64>>,
}

impl KeySampler {
    pub fn new(spec: &KeySpec) -> Self {
        let zipf = match spec.distribution {
            KeyDistribution::Zipf { s } => Zipf::new(spec.n as f64, s).ok(),
            KeyDistribution::Uniform => None,
        };
        Self {
            spec: spec.clone(),
            zipf,
        }
    }

    /// The 0-based rank drawn (0 is the hottest under zipf).
    pub fn sample_rank<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        match &self.zipf {
            Some(z) => (z.sample(rng) as u64).clamp(1, self.spec.n) - 1,
            None => rng.random_range(0..self.spec.n),
        }
    }

    pub fn write<R: Rng + ?Sized>(&self, out: &mut String, rng: &mut R) {
        let n = self.spec.start + self.sample_rank(rng);
        self.spec.format.write(out, n);
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Key(String),
    /// A flow variable, by its slot in the task.
    Var(usize),
}

/// A user's flow variables by slot (`None`: not extracted in this
/// iteration).
pub type Vars = [Option<String>];

/// A variable a template uses that is not set: its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unresolved(pub usize);

/// A string with `{key}` placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct PathTemplate {
    parts: Vec<Part>,
    source: String,
}

impl PathTemplate {
    /// Parses a template; every `{name}` must be a declared key.
    pub fn parse(s: &str, keys: &BTreeMap<String, KeySpec>) -> Result<Self, String> {
        Self::parse_with_vars(s, keys, &[])
    }

    /// Parses a template in which `{vars.NAME}` may name one of `vars`
    /// (the variables earlier steps extract; the slot is its index).
    pub fn parse_with_vars(
        s: &str,
        keys: &BTreeMap<String, KeySpec>,
        vars: &[String],
    ) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = s;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let close = rest[open..]
                .find('}')
                .map(|i| open + i)
                .ok_or_else(|| format!("unclosed '{{' in {s:?}"))?;
            let name = &rest[open + 1..close];
            if let Some(var) = name.strip_prefix("vars.") {
                let Some(slot) = vars.iter().position(|v| v == var) else {
                    return Err(format!(
                        "uses {{vars.{var}}}, which no earlier step extracts (extracted before it: {vars:?})"
                    ));
                };
                parts.push(Part::Var(slot));
                rest = &rest[close + 1..];
                continue;
            }
            if !keys.contains_key(name) {
                let declared: Vec<&str> = keys.keys().map(String::as_str).collect();
                return Err(format!(
                    "{{{name}}} is not a declared key (declared under [keys.NAME]: {declared:?})"
                ));
            }
            parts.push(Part::Key(name.to_owned()));
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Self {
            parts,
            source: s.to_owned(),
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn render<R: Rng + ?Sized>(&self, out: &mut String, keys: &Keys, rng: &mut R) {
        let _ = self.render_with(out, keys, &[], rng);
    }

    /// Renders with a flow's variables; a variable not set is an error
    /// (and what was written so far is not to be sent).
    pub fn render_with<R: Rng + ?Sized>(
        &self,
        out: &mut String,
        keys: &Keys,
        vars: &Vars,
        rng: &mut R,
    ) -> Result<(), Unresolved> {
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Key(k) => keys.write(k, out, rng),
                Part::Var(slot) => match vars.get(*slot) {
                    Some(Some(v)) => out.push_str(v),
                    _ => return Err(Unresolved(*slot)),
                },
            }
        }
        Ok(())
    }

    /// The variable slots it uses.
    pub fn vars(&self) -> impl Iterator<Item = usize> + '_ {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(slot) => Some(*slot),
            _ => None,
        })
    }
}

/// The samplers of a run's keys.
#[derive(Debug, Clone, Default)]
pub struct Keys(BTreeMap<String, KeySampler>);

impl Keys {
    pub fn new(specs: &BTreeMap<String, KeySpec>) -> Self {
        Self(
            specs
                .iter()
                .map(|(k, v)| (k.clone(), KeySampler::new(v)))
                .collect(),
        )
    }

    fn write<R: Rng + ?Sized>(&self, key: &str, out: &mut String, rng: &mut R) {
        if let Some(s) = self.0.get(key) {
            s.write(out, rng);
        }
    }

    pub fn get(&self, key: &str) -> Option<&KeySampler> {
        self.0.get(key)
    }
}

/// A JSON body with random values.
#[derive(Debug, Clone, PartialEq)]
pub enum BodyTemplate {
    Object(Vec<(String, BodyTemplate)>),
    Array(Vec<BodyTemplate>),
    /// A string, with `{key}` placeholders.
    Text(PathTemplate),
    Integer(i64),
    Float(f64),
    Bool(bool),
    /// Uniform in `[center - spread, center + spread]`: `"38.8977 ± 0.1"`
    /// (or `+-`).
    Around {
        center: f64,
        spread: f64,
    },
}

impl BodyTemplate {
    pub fn parse(v: &toml::Value, keys: &BTreeMap<String, KeySpec>) -> Result<Self, String> {
        Self::parse_with_vars(v, keys, &[])
    }

    /// Parses a body in whose strings `{vars.NAME}` may name one of `vars`.
    pub fn parse_with_vars(
        v: &toml::Value,
        keys: &BTreeMap<String, KeySpec>,
        vars: &[String],
    ) -> Result<Self, String> {
        Ok(match v {
            toml::Value::String(s) => match parse_around(s) {
                Some((center, spread)) => BodyTemplate::Around { center, spread },
                None => BodyTemplate::Text(PathTemplate::parse_with_vars(s, keys, vars)?),
            },
            toml::Value::Integer(i) => BodyTemplate::Integer(*i),
            toml::Value::Float(f) => BodyTemplate::Float(*f),
            toml::Value::Boolean(b) => BodyTemplate::Bool(*b),
            toml::Value::Array(a) => BodyTemplate::Array(
                a.iter()
                    .map(|x| Self::parse_with_vars(x, keys, vars))
                    .collect::<Result<_, _>>()?,
            ),
            toml::Value::Table(t) => BodyTemplate::Object(
                t.iter()
                    .map(|(k, x)| Ok((k.clone(), Self::parse_with_vars(x, keys, vars)?)))
                    .collect::<Result<_, String>>()?,
            ),
            toml::Value::Datetime(d) => {
                BodyTemplate::Text(PathTemplate::parse_with_vars(&d.to_string(), keys, vars)?)
            }
        })
    }

    /// Writes the JSON text of one random instance.
    pub fn render<R: Rng + ?Sized>(&self, out: &mut String, keys: &Keys, rng: &mut R) {
        let _ = self.render_with(out, keys, &[], rng);
    }

    /// As [`BodyTemplate::render`], with a flow's variables.
    pub fn render_with<R: Rng + ?Sized>(
        &self,
        out: &mut String,
        keys: &Keys,
        vars: &Vars,
        rng: &mut R,
    ) -> Result<(), Unresolved> {
        match self {
            BodyTemplate::Object(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    push_json_string(out, k);
                    out.push(':');
                    v.render_with(out, keys, vars, rng)?;
                }
                out.push('}');
            }
            BodyTemplate::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.render_with(out, keys, vars, rng)?;
                }
                out.push(']');
            }
            BodyTemplate::Text(t) => {
                let mut s = String::new();
                t.render_with(&mut s, keys, vars, rng)?;
                push_json_string(out, &s);
            }
            BodyTemplate::Integer(i) => {
                let _ = write!(out, "{i}");
            }
            BodyTemplate::Float(f) => push_f64(out, *f),
            BodyTemplate::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            BodyTemplate::Around { center, spread } => {
                let x = if *spread > 0.0 {
                    center + rng.random_range(-spread..=*spread)
                } else {
                    *center
                };
                push_f64(out, x);
            }
        }
        Ok(())
    }

    /// The variable slots it uses.
    pub fn vars(&self) -> Vec<usize> {
        match self {
            BodyTemplate::Object(fields) => fields.iter().flat_map(|(_, v)| v.vars()).collect(),
            BodyTemplate::Array(items) => items.iter().flat_map(BodyTemplate::vars).collect(),
            BodyTemplate::Text(t) => t.vars().collect(),
            _ => Vec::new(),
        }
    }
}

fn push_f64(out: &mut String, f: f64) {
    if f.is_finite() {
        let _ = write!(out, "{f}");
    } else {
        out.push_str("null");
    }
}

fn push_json_string(out: &mut String, s: &str) {
    out.push_str(&serde_json::Value::String(s.to_owned()).to_string());
}

/// `"38.8977 ± 0.1"` or `"38.8977 +- 0.1"`.
fn parse_around(s: &str) -> Option<(f64, f64)> {
    let (a, b) = s.split_once('±').or_else(|| s.split_once("+-"))?;
    let center: f64 = a.trim().parse().ok()?;
    let spread: f64 = b.trim().parse().ok()?;
    (center.is_finite() && spread.is_finite() && spread >= 0.0).then_some((center, spread))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn keys(dist: KeyDistribution) -> BTreeMap<String, KeySpec> {
        BTreeMap::from([(
            "mission_id".to_owned(),
            KeySpec {
                distribution: dist,
                n: 1000,
                start: 1,
                format: IdFormat::parse("MISSION-{:04}").unwrap(),
            },
        )])
    }

    #[test]
    fn paths_render_keys_in_their_format() {
        let specs = keys(KeyDistribution::Uniform);
        let t = PathTemplate::parse("/api/missions/{mission_id}/x", &specs).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut out = String::new();
        t.render(&mut out, &Keys::new(&specs), &mut rng);
        let id = out
            .strip_prefix("/api/missions/MISSION-")
            .unwrap()
            .strip_suffix("/x")
            .unwrap();
        assert_eq!(id.len(), 4);
        let n: u32 = id.parse().unwrap();
        assert!((1..=1000).contains(&n));
        assert!(PathTemplate::parse("/{nope}", &specs).is_err());
        assert!(PathTemplate::parse("/{mission_id", &specs).is_err());
    }

    #[test]
    fn zipf_keys_are_skewed_toward_low_ranks_and_uniform_ones_are_not() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let z = KeySampler::new(&keys(KeyDistribution::Zipf { s: 1.0 })["mission_id"]);
        let u = KeySampler::new(&keys(KeyDistribution::Uniform)["mission_id"]);
        let (mut z_top, mut u_top) = (0, 0);
        for _ in 0..100_000 {
            z_top += (z.sample_rank(&mut rng) < 10) as u32;
            u_top += (u.sample_rank(&mut rng) < 10) as u32;
        }
        // Zipf(s=1, n=1000): the top 10 ranks hold H(10)/H(1000), about 39%.
        assert!((37_000..41_000).contains(&z_top), "{z_top}");
        assert!((800..1_200).contains(&u_top), "{u_top}");
    }

    #[test]
    fn bodies_render_random_values_within_their_spread() {
        let specs = keys(KeyDistribution::Uniform);
        let v: toml::Value = toml::from_str(
            r#"lat = "38.8977 ± 0.1"
lon = "-77.0365 +- 0.1"
tag = "m-{mission_id}"
n = 3
ok = true"#,
        )
        .unwrap();
        let t = BodyTemplate::parse(&v, &specs).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..1000 {
            let mut out = String::new();
            t.render(&mut out, &Keys::new(&specs), &mut rng);
            let j: serde_json::Value = serde_json::from_str(&out).unwrap();
            let lat = j["lat"].as_f64().unwrap();
            let lon = j["lon"].as_f64().unwrap();
            assert!((38.7977..=38.9977).contains(&lat), "{lat}");
            assert!((-77.1365..=-76.9365).contains(&lon), "{lon}");
            assert!(j["tag"].as_str().unwrap().starts_with("m-MISSION-"));
            assert_eq!(j["n"], 3);
            assert_eq!(j["ok"], true);
        }
    }

    #[test]
    fn id_formats() {
        let mut s = String::new();
        IdFormat::parse("user-{}").unwrap().write(&mut s, 7);
        assert_eq!(s, "user-7");
        s.clear();
        IdFormat::parse("MISSION-{:04}")
            .unwrap()
            .write(&mut s, 12345);
        assert_eq!(s, "MISSION-12345");
        assert!(IdFormat::parse("no-brace").is_err());
        assert!(IdFormat::parse("x-{:q}").is_err());
    }
}
