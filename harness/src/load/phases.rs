//! Where a request's time went. In: each answered request's [`Phases`].
//! Out: per stats row, one histogram (µs) per phase: name resolution,
//! TCP connect, TLS handshake, waiting for the first byte, receiving the
//! body. A request on a reused connection adds zero to the connection
//! phases, so their histograms say how often connections were made and
//! what it cost.

use hdrhistogram::Histogram;

use crate::histogram::MAX_LATENCY_US;
pub use crate::load::transport::Phases;

/// The phases, in order, as records and reports name them.
pub const PHASE_NAMES: [&str; 5] = ["dns", "connect", "tls", "waiting", "receiving"];

/// One stats row's phase histograms.
#[derive(Debug, Clone)]
pub struct PhaseTally {
    /// In [`PHASE_NAMES`] order.
    pub histograms: [Histogram<u64>; 5],
}

impl Default for PhaseTally {
    fn default() -> Self {
        PhaseTally {
            // Two significant digits: 1% is fine for a share of the time,
            // and five rows of three-digit histograms per task would cost
            // more than the task's own.
            histograms: std::array::from_fn(|_| {
                Histogram::new_with_bounds(1, MAX_LATENCY_US, 2).expect("valid bounds")
            }),
        }
    }
}

impl Phases {
    /// The phases in [`PHASE_NAMES`] order.
    pub fn in_order(&self) -> [std::time::Duration; 5] {
        [
            self.dns,
            self.connect,
            self.tls,
            self.waiting,
            self.receiving,
        ]
    }
}

impl PhaseTally {
    pub fn add(&mut self, p: &Phases) {
        for (h, d) in self.histograms.iter_mut().zip(p.in_order()) {
            h.saturating_record((d.as_micros() as u64).min(MAX_LATENCY_US));
        }
    }

    /// Adds another tally's requests (runs joined or merged).
    pub fn add_all(&mut self, other: &PhaseTally) {
        for (h, o) in self.histograms.iter_mut().zip(&other.histograms) {
            let _ = h.add(o);
        }
    }

    /// Requests counted.
    pub fn len(&self) -> u64 {
        self.histograms[0].len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
