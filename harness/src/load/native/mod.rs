//! The native HTTP/1.1 engine: one request on a user's own connection,
//! with no task, channel or timer of its own. In: the request (method,
//! path, headers, body), the user's connection if one is open, the
//! endpoint. Out: the outcome classed as the hyper engine classes it, the
//! phases, what a flow's step keeps, and the connection if it may carry
//! the next request.
//!
//! The request is written from, and the response read into, one buffer
//! of [`BUFFER`] bytes, taken from a per-thread stash for the exchange and
//! given back after it: an idle connection holds no buffer, and a body of
//! any size passes through the same bytes, counted and dropped (up to
//! [`KEPT_BODY_MAX`] kept when a step asks; a rare response head longer
//! than the buffer is read on the heap, up to hyper's own bound). Heads are parsed by
//! `httparse` (hyper's own parser) and bodies framed by [`framing`].

pub mod framing;
mod request;

use std::cell::RefCell;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::Poll;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::time::Instant;

use crate::load::client::{Call, Kept, KEPT_BODY_MAX};
use crate::load::endpoint::Endpoint;
use crate::load::outcome::ErrorClass;
use crate::load::transport::{self, Phases, Stream};
use framing::{BodyDecoder, Parsed};

/// The exchange buffer's size: a request head must fit in it; a longer
/// response head goes on the heap, up to [`MAX_HEAD`].
pub const BUFFER: usize = 16 * 1024;

/// The longest response head read (on the heap past [`BUFFER`]): hyper's
/// own bound, so that both engines refuse the same heads.
pub const MAX_HEAD: usize = 8192 + 4096 * 100;

/// Buffers stashed per thread for the next exchange.
const STASHED: usize = 64;

thread_local! {
    static STASH: RefCell<Vec<Box<[u8]>>> = const { RefCell::new(Vec::new()) };
}

/// One exchange buffer, back to the stash when dropped.
struct Buffer(Option<Box<[u8]>>);

impl Buffer {
    fn take() -> Buffer {
        let stashed = STASH.with(|s| s.borrow_mut().pop());
        Buffer(Some(
            stashed.unwrap_or_else(|| vec![0u8; BUFFER].into_boxed_slice()),
        ))
    }

    fn bytes(&mut self) -> &mut [u8] {
        self.0.as_deref_mut().unwrap_or_default()
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        if let Some(b) = self.0.take() {
            STASH.with(|s| {
                let mut s = s.borrow_mut();
                if s.len() < STASHED {
                    s.push(b);
                }
            });
        }
    }
}

type Failure = (ErrorClass, String);

/// Sends `call` on `conn` (opening one if it is `None`, or if the server
/// has closed it since its last answer: the request then goes, unsent
/// until now, on a new connection, as hyper's engine does) and reads the
/// answer; the status, or the failure classed. `conn` is left `Some` only
/// if it may carry the next request.
pub async fn exchange(
    conn: &mut Option<Stream>,
    ep: &Endpoint,
    call: &Call<'_>,
    body: Option<&str>,
    phases: &mut Phases,
) -> (Result<u16, Failure>, Option<Kept>) {
    let mut buffer = Buffer::take();
    let buf = buffer.bytes();
    let (head_len, body_inline) = match request::write_head(buf, ep, call, body) {
        Ok(written) => written,
        Err(e) => return (Err((ErrorClass::Request, e)), None),
    };
    let kept_alive = match conn.take() {
        Some(mut s) => still_open(&mut s).await.then_some(s),
        None => None,
    };
    let mut stream = match kept_alive {
        Some(s) => s,
        // Boxed: opening (a TLS handshake's state among it) is rare and
        // large; the exchange's own future stays small.
        None => match Box::pin(transport::open(ep, ep.connect_timeout)).await {
            Ok(opened) => {
                *phases = opened.phases;
                opened.stream
            }
            Err(e) => return (Err(e), None),
        },
    };
    let start = Instant::now();
    let rest = body.filter(|_| !body_inline).unwrap_or_default();
    if let Err(e) = send(&mut stream, &buf[..head_len], rest.as_bytes()).await {
        let msg = format!("sending the request: {e}");
        return (Err((ErrorClass::Request, msg)), None);
    }
    let mut kept = call.keep.then(Kept::default);
    let is_head = call.method == hyper::Method::HEAD;
    let headers = kept.as_mut().map(|k| &mut k.headers);
    let mut spill = Vec::new();
    let (head, end) = match read_head(&mut stream, buf, &mut spill, is_head, headers).await {
        Ok(read) => read,
        Err(e) => return (Err((ErrorClass::Request, e)), None),
    };
    // A head longer than the buffer was read on the heap: the body follows
    // it there.
    let buf: &mut [u8] = if spill.is_empty() { buf } else { &mut spill };
    let head_at = Instant::now();
    phases.waiting = head_at - start;
    if let Some(k) = kept.as_mut() {
        k.status = head.status;
    }
    let read = read_body(
        &mut stream,
        buf,
        (head.len, end),
        head.framing,
        kept.as_mut(),
    )
    .await;
    phases.receiving = head_at.elapsed();
    match read {
        Ok(clean) => {
            if head.keep_alive && clean {
                *conn = Some(stream);
            }
            (Ok(head.status), kept)
        }
        Err(e) => {
            let msg = format!("status {}, body: {e}", head.status);
            (Err((ErrorClass::Body, msg)), kept)
        }
    }
}

/// Whether a kept-alive connection is still open: nothing to read yet
/// (an end, an error or bytes nobody asked for say it is not).
async fn still_open(stream: &mut Stream) -> bool {
    poll_fn(|cx| {
        let mut probe = [0u8; 1];
        let mut probe = ReadBuf::new(&mut probe);
        Poll::Ready(
            Pin::new(&mut *stream)
                .poll_read(cx, &mut probe)
                .is_pending(),
        )
    })
    .await
}

async fn send(stream: &mut Stream, head: &[u8], body: &[u8]) -> std::io::Result<()> {
    stream.write_all(head).await?;
    if !body.is_empty() {
        stream.write_all(body).await?;
    }
    stream.flush().await
}

/// Reads up to a final response head (interim `1xx` ones skipped) into
/// `buf`, or, for a head longer than it, into `spill` on the heap (up to
/// [`MAX_HEAD`]); the head and where the bytes read end.
async fn read_head(
    stream: &mut Stream,
    buf: &mut [u8],
    spill: &mut Vec<u8>,
    is_head: bool,
    mut headers: Option<&mut hyper::HeaderMap>,
) -> Result<(framing::Head, usize), String> {
    let mut end = 0;
    loop {
        let bytes: &mut [u8] = if spill.is_empty() { buf } else { spill };
        if end > 0 {
            match framing::parse_head(&bytes[..end], is_head, headers.as_deref_mut())? {
                Parsed::Final(head) => return Ok((head, end)),
                Parsed::Interim(len) => {
                    bytes.copy_within(len..end, 0);
                    end -= len;
                    continue;
                }
                Parsed::Partial => {}
            }
        }
        if end == bytes.len() {
            if end >= MAX_HEAD {
                return Err(format!("response head over {} KiB", MAX_HEAD / 1024));
            }
            if spill.is_empty() {
                spill.extend_from_slice(&buf[..end]);
            }
            spill.resize((end * 2).min(MAX_HEAD), 0);
            continue;
        }
        let n = stream
            .read(&mut bytes[end..])
            .await
            .map_err(|e| format!("reading the response head: {e}"))?;
        if n == 0 {
            return Err(match end {
                0 => "connection closed before the response".to_owned(),
                _ => "connection closed inside the response head".to_owned(),
            });
        }
        end += n;
    }
}

/// Reads the body to its end through `buf`, whose bytes `at.0..at.1` were
/// read past the head; `Ok(true)` if nothing followed it.
async fn read_body(
    stream: &mut Stream,
    buf: &mut [u8],
    at: (usize, usize),
    framing: framing::Framing,
    mut kept: Option<&mut Kept>,
) -> Result<bool, String> {
    let (mut at, mut end) = at;
    let mut body = BodyDecoder::new(framing);
    let mut got = 0u64;
    loop {
        while at < end && !body.is_done() {
            let step = body.step(&buf[at..end])?;
            if step.used == 0 {
                break;
            }
            let data = &buf[at..at + step.data];
            got += data.len() as u64;
            if let Some(k) = kept.as_deref_mut() {
                let room = KEPT_BODY_MAX.saturating_sub(k.body.len());
                k.body.extend_from_slice(&data[..data.len().min(room)]);
            }
            at += step.used;
        }
        if body.is_done() {
            return Ok(at == end);
        }
        // A line not whole yet stays, moved to the front.
        buf.copy_within(at..end, 0);
        end -= at;
        at = 0;
        if end == buf.len() {
            return Err("a chunked body's line fills the buffer".to_owned());
        }
        let n = match stream.read(&mut buf[end..]).await {
            Ok(n) => n,
            Err(e) => return Err(format!("{e}, after {got} bytes")),
        };
        if n == 0 {
            if body.ends_at_close() {
                return Ok(false);
            }
            return Err(match framing {
                framing::Framing::Length(n) => {
                    format!("connection closed after {got} of {n} bytes")
                }
                _ => format!("connection closed after {got} bytes, before the body's end"),
            });
        }
        end += n;
    }
}
