//! HTTP/1.1 response framing, with no I/O. In: the bytes read so far.
//! Out: a parsed response head ([`Head`]: status, how its body is framed,
//! whether the connection stays open) or an interim `1xx` to skip; then,
//! fed the bytes that follow, a [`BodyDecoder`] that says which of them
//! are body data and when the body ends (`Content-Length`, chunked with
//! its trailers, or the connection's close), without copying or keeping
//! anything.

use hyper::header::{HeaderMap, HeaderName, HeaderValue};

/// The most header lines a response head may have (as hyper).
const MAX_HEADERS: usize = 100;

/// The longest chunk-size line or trailer line accepted.
const MAX_LINE: usize = 4096;

/// How a response's body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body: `HEAD`, `204`, `304`.
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`, trailers after the last chunk.
    Chunked,
    /// Up to the server's close of the connection.
    Close,
}

/// A final response's head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    pub framing: Framing,
    /// The connection may carry the next request once the body is read.
    pub keep_alive: bool,
    /// The head's length in bytes.
    pub len: usize,
}

/// What the bytes so far hold.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Not a whole head yet.
    Partial,
    /// An interim `1xx` head of this many bytes: skip it, read on.
    Interim(usize),
    /// A final head.
    Final(Head),
}

/// Parses a response head at the start of `buf`. `head_request`: the
/// request was a `HEAD` (no body follows, whatever the head says).
/// `headers`, when given, receives the head's header lines.
pub fn parse_head(
    buf: &[u8],
    head_request: bool,
    headers: Option<&mut HeaderMap>,
) -> Result<Parsed, String> {
    // Not initialised: 100 empty headers are 3.2 KB to clear per answer.
    let mut lines =
        [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        buf,
        &mut lines,
    );
    let len = match parsed {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(Parsed::Partial),
        Err(e) => return Err(format!("invalid response head: {e}")),
    };
    let status = response.code.unwrap_or(0);
    if (100..200).contains(&status) && status != 101 {
        return Ok(Parsed::Interim(len));
    }
    let http11 = response.version == Some(1);
    let (mut close, mut keep_alive_token) = (false, false);
    let mut length: Option<u64> = None;
    let mut transfer: Option<&[u8]> = None;
    for h in response.headers.iter() {
        let name = h.name.as_bytes();
        if name.eq_ignore_ascii_case(b"content-length") {
            let n = parse_length(h.value)?;
            if length.is_some_and(|m| m != n) {
                return Err("invalid response head: Content-Length values differ".to_owned());
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            transfer = Some(h.value);
        } else if name.eq_ignore_ascii_case(b"connection") {
            for token in h.value.split(|&b| b == b',') {
                let token = token.trim_ascii();
                close |= token.eq_ignore_ascii_case(b"close");
                keep_alive_token |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        }
    }
    let framing = if head_request || status == 204 || status == 304 || status == 101 {
        Framing::Empty
    } else if let Some(te) = transfer {
        // The last coding says: chunked, or the body runs to the close.
        let last = te.rsplit(|&b| b == b',').next().unwrap_or_default();
        if last.trim_ascii().eq_ignore_ascii_case(b"chunked") {
            Framing::Chunked
        } else {
            Framing::Close
        }
    } else if let Some(n) = length {
        Framing::Length(n)
    } else {
        Framing::Close
    };
    let keep_alive =
        framing != Framing::Close && status != 101 && !close && (http11 || keep_alive_token);
    if let Some(map) = headers {
        for h in response.headers.iter() {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(h.name.as_bytes()),
                HeaderValue::from_bytes(h.value),
            ) {
                map.append(name, value);
            }
        }
    }
    Ok(Parsed::Final(Head {
        status,
        framing,
        keep_alive,
        len,
    }))
}

fn parse_length(value: &[u8]) -> Result<u64, String> {
    let digits = value.trim_ascii();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(format!(
            "invalid response head: Content-Length {:?}",
            String::from_utf8_lossy(value)
        ));
    }
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| "invalid response head: Content-Length too large".to_owned())
}

/// Where a chunked body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk {
    /// At a chunk-size line.
    Size,
    /// Inside a chunk, this many bytes left.
    Data(u64),
    /// At the CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk: trailer lines up to an empty one.
    Trailers,
}

/// Splits the bytes after a head into body data and framing, as they
/// arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyDecoder {
    Length(u64),
    Chunked(Chunk),
    Close,
    Done,
}

/// One step of decoding.
#[derive(Debug, PartialEq, Eq)]
pub struct Step {
    /// Bytes of the input used (framing and data).
    pub used: usize,
    /// How many of them, from the input's start, are body data.
    pub data: usize,
}

/// Up to `left` bytes of `input` as data: the step, and what is left.
fn take(input: &[u8], left: u64) -> (Step, u64) {
    let n = input.len().min(usize::try_from(left).unwrap_or(usize::MAX));
    (Step { used: n, data: n }, left - n as u64)
}

impl BodyDecoder {
    pub fn new(framing: Framing) -> BodyDecoder {
        match framing {
            Framing::Empty | Framing::Length(0) => BodyDecoder::Done,
            Framing::Length(n) => BodyDecoder::Length(n),
            Framing::Chunked => BodyDecoder::Chunked(Chunk::Size),
            Framing::Close => BodyDecoder::Close,
        }
    }

    pub fn is_done(&self) -> bool {
        *self == BodyDecoder::Done
    }

    /// Whether the connection's close ends the body well.
    pub fn ends_at_close(&self) -> bool {
        matches!(self, BodyDecoder::Close | BodyDecoder::Done)
    }

    /// Decodes from the start of `input`: at most one piece of data or of
    /// framing. `used == 0` means more bytes are needed (a line not whole
    /// yet); an error is a malformed chunked body.
    pub fn step(&mut self, input: &[u8]) -> Result<Step, String> {
        let none = |used| Ok(Step { used, data: 0 });
        match *self {
            BodyDecoder::Done => none(0),
            BodyDecoder::Close => Ok(Step {
                used: input.len(),
                data: input.len(),
            }),
            BodyDecoder::Length(left) => {
                let (step, left) = take(input, left);
                *self = if left == 0 {
                    BodyDecoder::Done
                } else {
                    BodyDecoder::Length(left)
                };
                Ok(step)
            }
            BodyDecoder::Chunked(Chunk::Size) => match httparse::parse_chunk_size(input) {
                Ok(httparse::Status::Complete((used, 0))) => {
                    *self = BodyDecoder::Chunked(Chunk::Trailers);
                    none(used)
                }
                Ok(httparse::Status::Complete((used, size))) => {
                    *self = BodyDecoder::Chunked(Chunk::Data(size));
                    none(used)
                }
                Ok(httparse::Status::Partial) if input.len() >= MAX_LINE => {
                    Err("chunk size line too long".to_owned())
                }
                Ok(httparse::Status::Partial) => none(0),
                Err(_) => Err(format!(
                    "invalid chunk size line {:?}",
                    String::from_utf8_lossy(&input[..input.len().min(40)])
                )),
            },
            BodyDecoder::Chunked(Chunk::Data(left)) => {
                let (step, left) = take(input, left);
                *self = BodyDecoder::Chunked(if left == 0 {
                    Chunk::DataEnd
                } else {
                    Chunk::Data(left)
                });
                Ok(step)
            }
            BodyDecoder::Chunked(Chunk::DataEnd) => match input {
                [b'\r', b'\n', ..] => {
                    *self = BodyDecoder::Chunked(Chunk::Size);
                    none(2)
                }
                [] | [b'\r'] => none(0),
                _ => Err("no CRLF after a chunk's data".to_owned()),
            },
            BodyDecoder::Chunked(Chunk::Trailers) => {
                let Some(end) = input.windows(2).position(|w| w == b"\r\n") else {
                    if input.len() >= MAX_LINE {
                        return Err("trailer line too long".to_owned());
                    }
                    return none(0);
                };
                if end == 0 {
                    *self = BodyDecoder::Done;
                }
                none(end + 2)
            }
        }
    }
}

#[cfg(test)]
#[path = "framing_tests.rs"]
mod tests;
