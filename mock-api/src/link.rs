//! Carrying a connection across an emulated link, in user space. In: a
//! socket accepted on a link's listener, the link's name, the behaviour in
//! force (its `links` entry, read for every chunk, so an admin change
//! applies at once), the truth. Out: the server's end of an in-memory pipe
//! that hyper serves as it would the socket; bytes cross each way after
//! the link's delay ([`schedule`]), in order, and the truth records it.
//!
//! Each direction reads what arrives and hands it on at its due time: the
//! moment the link is free to send it (bandwidth: the chunk's bits at the
//! link's rate, after what it sends already), plus half the RTT, plus a
//! jitter draw, plus one retransmission timeout per lost segment (TCP
//! hides loss from the application, so loss is emulated as what it
//! costs), never before the chunk ahead of it. A reset fault on a link
//! connection closes the socket with a TCP RST when the response would
//! have crossed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::behaviour::{LinkSpec, SharedBehaviour};
use crate::listener::ConnReset;
use crate::truth::{Direction, Truth};

/// TCP's usual segment payload on Ethernet: loss is drawn per segment.
pub const SEGMENT: usize = 1460;
/// Bytes read at once from either side.
const CHUNK: usize = 16 * 1024;
/// Chunks on their way across one direction at once (a socket buffer's worth).
const IN_FLIGHT: usize = 64;

/// The link a request came through (in the request's extensions).
#[derive(Debug, Clone)]
pub struct LinkName(pub Arc<str>);

impl LinkName {
    pub fn of(link: &Link) -> Self {
        Self(Arc::clone(&link.name))
    }
}

/// One link's listener side: where its connections' bytes are delayed.
#[derive(Debug)]
pub struct Link {
    name: Arc<str>,
    behaviour: SharedBehaviour,
    truth: Arc<Truth>,
    connections: AtomicU64,
}

/// A direction's state across chunks.
#[derive(Debug)]
pub struct Wire {
    /// When the link has sent everything handed to it so far.
    free_at: Instant,
    /// When the last chunk is delivered (nothing overtakes it).
    last_due: Instant,
    rng: ChaCha8Rng,
}

impl Wire {
    pub fn new(now: Instant, seed: u64) -> Self {
        Self {
            free_at: now,
            last_due: now,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }
}

/// When `bytes` that arrived at `now` are delivered across `spec`.
pub fn schedule(spec: &LinkSpec, wire: &mut Wire, now: Instant, bytes: usize) -> Instant {
    let serial = spec.bandwidth_bps.map_or(Duration::ZERO, |bps| {
        Duration::from_secs_f64(bytes as f64 * 8.0 / bps as f64)
    });
    wire.free_at = wire.free_at.max(now) + serial;
    let mut one_way = spec.rtt.as_secs_f64() / 2.0;
    if !spec.jitter.is_zero() {
        let j = spec.jitter.as_secs_f64();
        one_way += wire.rng.random_range(-j..=j);
    }
    let mut due = wire.free_at + Duration::from_secs_f64(one_way.max(0.0));
    if spec.loss > 0.0 {
        let lost = (0..bytes.div_ceil(SEGMENT))
            .filter(|_| wire.rng.random::<f64>() < spec.loss)
            .count();
        due += spec.rto() * lost as u32;
    }
    wire.last_due = wire.last_due.max(due);
    wire.last_due
}

impl Link {
    pub fn new(name: &str, behaviour: SharedBehaviour, truth: Arc<Truth>) -> Arc<Self> {
        Arc::new(Self {
            name: name.into(),
            behaviour,
            truth,
            connections: AtomicU64::new(0),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The link's parameters now (none: a link the behaviour no longer names).
    fn spec(&self) -> LinkSpec {
        self.behaviour
            .current()
            .links
            .get(&*self.name)
            .copied()
            .unwrap_or_default()
    }

    /// Takes over `socket`; returns the end the server reads and writes.
    pub fn carry(self: &Arc<Self>, socket: TcpStream, reset: ConnReset) -> DuplexStream {
        let (server, near) = tokio::io::duplex(CHUNK * 4);
        let k = self.connections.fetch_add(1, Ordering::Relaxed);
        self.truth.link_connection(&self.name);
        let seed = self.behaviour.current().seed ^ name_hash(&self.name) ^ k.wrapping_mul(2);
        let (socket_r, socket_w) = socket.into_split();
        let (near_r, near_w) = tokio::io::split(near);
        let inbound =
            tokio::spawn(Arc::clone(self).cross(socket_r, near_w, Direction::Inbound, seed, None));
        let link = Arc::clone(self);
        tokio::spawn(async move {
            let outbound = link.cross(near_r, socket_w, Direction::Outbound, seed ^ 1, Some(reset));
            if let Some(writer) = outbound.await {
                // The reset fault: RST rather than the response.
                let _ = socket2::SockRef::from(writer.as_ref()).set_linger(Some(Duration::ZERO));
                inbound.abort();
                let _ = inbound.await;
                writer.forget();
            }
        });
        server
    }

    /// Carries one direction until either side ends; returns the writer
    /// when a reset fault stopped it.
    async fn cross<R, W>(
        self: Arc<Self>,
        mut from: R,
        to: W,
        direction: Direction,
        seed: u64,
        reset: Option<ConnReset>,
    ) -> Option<W>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (tx, rx) = mpsc::channel::<(Instant, Bytes)>(IN_FLIGHT);
        let delivering = tokio::spawn(deliver(rx, to, reset));
        let mut wire = Wire::new(Instant::now(), seed);
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let now = Instant::now();
            let due = schedule(&self.spec(), &mut wire, now, n);
            self.truth
                .link_carried(&self.name, direction, n, due.saturating_duration_since(now));
            let chunk = Bytes::copy_from_slice(&buf[..n]);
            if tx.send((due, chunk)).await.is_err() {
                break;
            }
        }
        drop(tx);
        delivering.await.ok().flatten()
    }
}

/// Writes each chunk at its due time; closes the writing side at the end.
/// Returns the writer instead when a reset fault was triggered.
async fn deliver<W: AsyncWrite + Unpin>(
    mut rx: mpsc::Receiver<(Instant, Bytes)>,
    mut to: W,
    reset: Option<ConnReset>,
) -> Option<W> {
    while let Some((due, chunk)) = rx.recv().await {
        tokio::time::sleep_until(due).await;
        if reset.as_ref().is_some_and(ConnReset::triggered) {
            return Some(to);
        }
        if to.write_all(&chunk).await.is_err() {
            return None;
        }
    }
    let _ = to.shutdown().await;
    None
}

fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> LinkSpec {
        s.parse().unwrap()
    }

    #[test]
    fn delay_is_half_the_rtt_plus_serialisation_in_order() {
        let now = Instant::now();
        let mut wire = Wire::new(now, 1);
        let s = spec("0:rtt(300ms),bandwidth(1mbit)");
        // 12,500 bytes at 1 Mbit/s: 100 ms on the wire, then 150 ms across.
        let due = schedule(&s, &mut wire, now, 12_500);
        assert_eq!(due - now, Duration::from_millis(250));
        // The next chunk waits for the link to be free.
        let due2 = schedule(&s, &mut wire, now, 12_500);
        assert_eq!(due2 - now, Duration::from_millis(350));
        // Without bandwidth, just the one-way delay.
        let mut wire = Wire::new(now, 1);
        let due = schedule(&spec("0:rtt(40ms)"), &mut wire, now, 100);
        assert_eq!(due - now, Duration::from_millis(20));
    }

    #[test]
    fn jitter_stays_in_bounds_and_never_reorders() {
        let now = Instant::now();
        let mut wire = Wire::new(now, 7);
        let s = spec("0:rtt(100ms),jitter(40ms)");
        let mut last = now;
        for i in 0..1000u64 {
            let at = now + Duration::from_micros(i * 100);
            let due = schedule(&s, &mut wire, at, 100);
            assert!(due >= last, "in order");
            assert!(due - at <= Duration::from_millis(90), "{:?}", due - at);
            last = due;
        }
    }

    #[test]
    fn each_lost_segment_costs_a_retransmission_timeout() {
        let now = Instant::now();
        let mut wire = Wire::new(now, 3);
        let all = spec("0:rtt(10ms),loss(100%)");
        // Two segments, both lost: two timeouts of at least 200 ms.
        let due = schedule(&all, &mut wire, now, 2 * SEGMENT);
        assert_eq!(due - now, Duration::from_millis(5 + 400));
        // At 10% about a tenth of the segments pay.
        let mut wire = Wire::new(now, 3);
        let some = spec("0:loss(10%)");
        let paid = (0..2000)
            .filter(|_| {
                let before = wire.last_due;
                schedule(&some, &mut wire, before, SEGMENT) > before
            })
            .count();
        assert!((150..=250).contains(&paid), "{paid}");
    }
}
