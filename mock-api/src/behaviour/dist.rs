//! Latency distributions, in milliseconds: parsed from `fixed(50)`,
//! `lognormal(20,200)` and the like, sampled from a seeded generator, and
//! with their true quantiles (the truth a load tool is checked against).

use std::fmt;
use std::str::FromStr;

use rand::Rng;

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

string_serde!(Dist);
