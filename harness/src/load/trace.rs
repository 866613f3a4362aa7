//! W3C trace context on every request. In: the user's (or arrival's)
//! seed-derived base and its request count. Out: a [`TraceParent`], whose
//! `traceparent` header value the engines send and whose trace id the
//! collector keeps for the slowest requests. Ids come from the run's seed,
//! so a replayed run sends the same ids.

/// A request's trace context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: u128,
    pub span_id: u64,
    pub sampled: bool,
}

/// `00-` + 32 + `-` + 16 + `-` + 2.
pub const HEADER_LEN: usize = 55;

const HEX: &[u8; 16] = b"0123456789abcdef";

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One user's (or open-model arrival's) sequence of trace ids.
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceIds {
    base: u64,
    n: u64,
}

impl TraceIds {
    /// The sequence of the user or arrival whose stream is `stream`, in a
    /// run seeded `seed`.
    pub fn new(seed: u64, stream: u64) -> Self {
        TraceIds {
            base: splitmix(seed ^ splitmix(stream)),
            n: 0,
        }
    }

    /// The next request's context; `sample` the fraction sampled (0 to 1).
    pub fn next(&mut self, sample: f64) -> TraceParent {
        self.n += 1;
        let hi = splitmix(self.base.wrapping_add(self.n));
        let lo = splitmix(hi ^ self.base.rotate_left(17));
        let span = splitmix(lo ^ self.n) | 1;
        // Never all zeros (W3C: an invalid id).
        let trace_id = ((u128::from(hi) << 64) | u128::from(lo)).max(1);
        let sampled = ((lo >> 11) as f64 / (1u64 << 53) as f64) < sample;
        TraceParent {
            trace_id,
            span_id: span,
            sampled,
        }
    }
}

impl TraceParent {
    /// `00-<trace id>-<span id>-<01|00>`.
    pub fn header(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[..3].copy_from_slice(b"00-");
        hex_into(&mut out[3..35], self.trace_id.to_be_bytes().as_slice());
        out[35] = b'-';
        hex_into(&mut out[36..52], self.span_id.to_be_bytes().as_slice());
        out[52] = b'-';
        out[53] = b'0';
        out[54] = if self.sampled { b'1' } else { b'0' };
        out
    }
}

fn hex_into(out: &mut [u8], bytes: &[u8]) {
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 15)];
    }
}

/// A trace id as W3C and every tracing backend write it: 32 lowercase hex digits.
pub fn trace_id_hex(id: u128) -> String {
    format!("{id:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_w3c_shaped_and_replays_with_the_seed() {
        let mut a = TraceIds::new(42, 7);
        let mut b = TraceIds::new(42, 7);
        let (x, y) = (a.next(1.0), b.next(1.0));
        assert_eq!(x, y);
        let h = String::from_utf8(x.header().to_vec()).unwrap();
        let re = regex::Regex::new("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$").unwrap();
        assert!(re.is_match(&h), "{h}");
        assert!(h.contains(&trace_id_hex(x.trace_id)));
        assert_ne!(a.next(1.0).trace_id, x.trace_id);
        assert_ne!(TraceIds::new(43, 7).next(1.0).trace_id, x.trace_id);
        assert_ne!(TraceIds::new(42, 8).next(1.0).trace_id, x.trace_id);
    }

    #[test]
    fn the_sampled_fraction_is_what_was_asked() {
        let mut ids = TraceIds::new(1, 1);
        let sampled = (0..10_000).filter(|_| ids.next(0.25).sampled).count();
        assert!((2300..2700).contains(&sampled), "{sampled}");
        assert!(!TraceIds::new(1, 2).next(0.0).sampled);
        let h = TraceIds::new(1, 2).next(0.0).header();
        assert_eq!(&h[52..], b"-00");
    }
}
