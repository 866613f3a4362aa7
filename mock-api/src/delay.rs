//! Precise delays for injected latency. Tokio's timer has millisecond
//! granularity and rounds up, which would add 0.5-1 ms to every injected
//! delay; a known target must add what it was told to. One dedicated timer
//! thread keeps the pending deadlines in a heap and wakes each waiter from a
//! `recv_timeout` (nanosecond timeouts; tens of microseconds of slack).
//! Waiting holds no database connection and no runtime worker thread.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

type Entry = (Instant, oneshot::Sender<()>);

/// A handle to the timer thread; cheap to clone.
#[derive(Debug, Clone)]
pub struct Delayer {
    tx: mpsc::Sender<Entry>,
}

impl Default for Delayer {
    fn default() -> Self {
        Self::start()
    }
}

impl Delayer {
    /// Starts the timer thread; it ends when every handle is dropped.
    pub fn start() -> Self {
        let (tx, rx) = mpsc::channel::<Entry>();
        std::thread::Builder::new()
            .name("mock-api-delay".into())
            .spawn(move || run(rx))
            .expect("the delay thread starts");
        Self { tx }
    }

    /// Completes at `deadline` (at once if it has passed).
    pub async fn until(&self, deadline: Instant) {
        if deadline <= Instant::now() {
            return;
        }
        let (tx, rx) = oneshot::channel();
        if self.tx.send((deadline, tx)).is_err() {
            // The thread is gone (shutting down): fall back to the runtime's timer.
            tokio::time::sleep_until(deadline.into()).await;
            return;
        }
        let _ = rx.await;
    }

    /// Completes after `d`.
    pub async fn sleep(&self, d: Duration) {
        self.until(Instant::now() + d).await;
    }
}

fn run(rx: mpsc::Receiver<Entry>) {
    let mut heap: BinaryHeap<Reverse<(Instant, u64)>> = BinaryHeap::new();
    let mut waiters: HashMap<u64, oneshot::Sender<()>> = HashMap::new();
    let mut next_id = 0u64;
    loop {
        let received = match heap.peek() {
            None => match rx.recv() {
                Ok(e) => Some(e),
                Err(_) => return,
            },
            Some(Reverse((deadline, _))) => {
                let wait = deadline.saturating_duration_since(Instant::now());
                match rx.recv_timeout(wait) {
                    Ok(e) => Some(e),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
        };
        if let Some((deadline, waiter)) = received {
            heap.push(Reverse((deadline, next_id)));
            waiters.insert(next_id, waiter);
            next_id += 1;
        }
        let now = Instant::now();
        while let Some(Reverse((deadline, id))) = heap.peek().copied() {
            if deadline > now {
                break;
            }
            heap.pop();
            if let Some(w) = waiters.remove(&id) {
                let _ = w.send(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn delays_end_at_their_deadlines_in_order() {
        let d = Delayer::start();
        let start = Instant::now();
        let ((), b) = tokio::join!(d.sleep(Duration::from_millis(30)), async {
            d.sleep(Duration::from_millis(10)).await;
            start.elapsed()
        });
        assert!(b >= Duration::from_millis(10) && b < Duration::from_millis(30));
        assert!(start.elapsed() >= Duration::from_millis(30));
        d.sleep(Duration::ZERO).await;
    }
}
