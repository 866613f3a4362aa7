//! Latency histograms, one shape for the whole harness: microseconds, 1 µs
//! to 1 h, 3 significant digits. In: recorded values or other histograms.
//! Out: merged histograms, [`Percentiles`], and the wire form every record
//! and server snapshot uses ([`EncodedHistogram`], base64 HdrHistogram V2),
//! so that records from several runs or machines merge exactly.

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Highest latency a histogram holds: one hour, in microseconds.
pub const MAX_LATENCY_US: u64 = 3_600_000_000;

/// A histogram as the records keep them: microseconds, 1 µs to 1 h, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid bounds")
}

/// The one merge: the sum of `parts` (an empty histogram when there are none).
pub fn merged<'a>(parts: impl IntoIterator<Item = &'a Histogram<u64>>) -> Histogram<u64> {
    let mut out = new_histogram();
    for h in parts {
        // Same bounds everywhere; a value past them saturates rather than fails.
        if out.add(h).is_err() {
            for v in h.iter_recorded() {
                out.saturating_record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
    }
    out
}

/// Microseconds as milliseconds.
pub fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Latency percentiles of a histogram, in milliseconds, as records carry them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        Self {
            p50_ms: ms(h.value_at_quantile(0.50)),
            p95_ms: ms(h.value_at_quantile(0.95)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
            mean_ms: h.mean().round() / 1000.0,
        }
    }
}

/// A histogram (microseconds) that serializes as base64 HdrHistogram V2.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "String")]
pub struct EncodedHistogram(pub Histogram<u64>);

/// Why a histogram's wire form did not decode.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("histogram is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("histogram is not HdrHistogram V2: {0:?}")]
    Format(hdrhistogram::serialization::DeserializeError),
}

impl EncodedHistogram {
    pub fn encode(&self) -> String {
        let mut buf = Vec::new();
        V2Serializer::new()
            .serialize(&self.0, &mut buf)
            .expect("serializing to memory does not fail");
        base64::engine::general_purpose::STANDARD.encode(buf)
    }

    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(text)?;
        let h: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(DecodeError::Format)?;
        Ok(Self(h))
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &EncodedHistogram) {
        self.0 = merged([&self.0, &other.0]);
    }

    pub fn percentiles(&self) -> Percentiles {
        Percentiles::of(&self.0)
    }
}

impl Serialize for EncodedHistogram {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.encode())
    }
}

impl TryFrom<String> for EncodedHistogram {
    type Error = DecodeError;
    fn try_from(text: String) -> Result<Self, DecodeError> {
        Self::decode(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_round_trip_through_base64_v2_and_merge_exactly() {
        let mut a = new_histogram();
        let mut b = new_histogram();
        for v in 1..=10_000u64 {
            a.record(v * 7).unwrap();
            b.record(v * 13 + 5).unwrap();
        }
        let ea = EncodedHistogram::decode(&EncodedHistogram(a.clone()).encode()).unwrap();
        assert_eq!(ea.0, a);
        let mut merged = ea.clone();
        merged.merge(&EncodedHistogram(b.clone()));
        assert_eq!(merged.0.len(), a.len() + b.len());
        let mut direct = a.clone();
        direct.add(&b).unwrap();
        assert_eq!(merged.0, direct);
    }
}
