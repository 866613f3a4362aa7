//! A request written as HTTP/1.1 bytes. In: the call (method, path,
//! headers), its body and the endpoint's `Host`. Out: the head (and the
//! body, when it fits) written into the exchange buffer, with no
//! allocation; a path or header value that cannot be sent is an error in
//! the words hyper's engine uses.

use std::io::Write;

use hyper::Method;

use crate::load::client::{Call, PATH_ENCODE};
use crate::load::endpoint::Endpoint;

/// Writes `call`'s head into `buf`, and `body` after it when it fits:
/// the bytes written and whether the body is among them.
pub(super) fn write_head(
    buf: &mut [u8],
    ep: &Endpoint,
    call: &Call<'_>,
    body: Option<&str>,
) -> Result<(usize, bool), String> {
    let size = buf.len();
    let mut w = &mut buf[..];
    let too_big = |_| format!("request head over {} KiB", size / 1024);
    w.write_all(call.method.as_str().as_bytes())
        .map_err(too_big)?;
    w.write_all(b" ").map_err(too_big)?;
    if !call.path.starts_with('/') {
        return Err(format!("{:?} is not an origin-form path", call.path));
    }
    for piece in percent_encoding::utf8_percent_encode(call.path, PATH_ENCODE) {
        w.write_all(piece.as_bytes()).map_err(too_big)?;
    }
    w.write_all(b" HTTP/1.1\r\nhost: ").map_err(too_big)?;
    w.write_all(ep.host_header.as_bytes()).map_err(too_big)?;
    w.write_all(b"\r\n").map_err(too_big)?;
    for (name, value) in call.headers {
        if body.is_some()
            && (name == hyper::header::CONTENT_TYPE || name == hyper::header::CONTENT_LENGTH)
        {
            continue;
        }
        if !value
            .bytes()
            .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
        {
            return Err(format!(
                "header {name}: {value:?} is not a valid header value"
            ));
        }
        write!(w, "{name}: {value}\r\n").map_err(too_big)?;
    }
    match body {
        Some(b) => write!(
            w,
            "content-type: application/json\r\ncontent-length: {}\r\n\r\n",
            b.len()
        ),
        None if matches!(*call.method, Method::POST | Method::PUT | Method::PATCH) => {
            w.write_all(b"content-length: 0\r\n\r\n")
        }
        None => w.write_all(b"\r\n"),
    }
    .map_err(too_big)?;
    let body = body.unwrap_or_default().as_bytes();
    let inline = w.len() >= body.len();
    if inline {
        w.write_all(body).map_err(too_big)?;
    }
    let left = w.len();
    Ok((size - left, inline))
}
