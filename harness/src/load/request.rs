//! The request a step sends, as hyper's engine takes it. In: the call
//! (method, path, headers) and its body. Out: a `Request` with exactly the
//! headers sent, its path percent-encoded as a browser would
//! ([`PATH_ENCODE`], which the native engine uses too).

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, HOST};
use hyper::{Request, Uri};
use percent_encoding::{AsciiSet, CONTROLS};
use std::borrow::Cow;

use crate::load::client::Call;
use crate::load::endpoint::Endpoint;

/// Bytes percent-encoded in a rendered path and query (as a browser would):
/// controls, space, and characters not allowed there.
pub const PATH_ENCODE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^');

/// The request for `path` (origin form, percent-encoded as a browser
/// would), with exactly the headers sent: hyper keeps the request's header
/// map on the connection for reuse (memory per idle user).
pub(crate) fn request(
    ep: &Endpoint,
    call: &Call<'_>,
    body: Option<String>,
) -> Result<Request<Full<Bytes>>, String> {
    let path: Cow<'_, str> = percent_encoding::utf8_percent_encode(call.path, PATH_ENCODE).into();
    let uri = Uri::try_from(path.as_ref()).map_err(|e| e.to_string())?;
    let mut headers = HeaderMap::with_capacity(2 + call.headers.len());
    headers.insert(HOST, ep.host_header.clone());
    if let Some(tp) = call.traceparent() {
        if let Ok(v) = HeaderValue::from_bytes(tp) {
            headers.insert(HeaderName::from_static("traceparent"), v);
        }
    }
    for (name, value) in call.headers {
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("header {name}: {value:?} is not a valid header value"))?;
        headers.append(name, value);
    }
    let body = match body {
        Some(b) => {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Full::new(Bytes::from(b))
        }
        None => Full::new(Bytes::new()),
    };
    let mut request = Request::new(body);
    *request.method_mut() = call.method.clone();
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    Ok(request)
}
