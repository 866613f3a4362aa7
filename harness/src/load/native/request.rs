//! A request written as HTTP/1.1 bytes. In: the call (method, path,
//! headers), its body and the endpoint's `Host`. Out: the head (and the
//! body, when it fits) written into the exchange buffer, with no
//! allocation; a path or header value that cannot be sent is an error in
//! the words hyper's engine uses.

use std::io::Write;

use hyper::Method;

use crate::load::client::Call;
use crate::load::endpoint::Endpoint;
use crate::load::request::PATH_ENCODE;

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
    if let Some(tp) = call.traceparent() {
        w.write_all(b"traceparent: ").map_err(too_big)?;
        w.write_all(tp).map_err(too_big)?;
        w.write_all(b"\r\n").map_err(too_big)?;
    }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hyper::header::HeaderName;

    use super::*;

    fn endpoint() -> Endpoint {
        let url = reqwest::Url::parse("http://127.0.0.1:8080").unwrap();
        Endpoint::new(&url, Duration::from_secs(1), &Default::default())
    }

    fn call<'a>(
        method: &'a Method,
        path: &'a str,
        headers: &'a [(HeaderName, String)],
    ) -> Call<'a> {
        Call {
            method,
            path,
            headers,
            expect: &[200],
            keep: false,
            trace: None,
        }
    }

    #[test]
    fn heads_are_written_as_a_browser_would_send_them() {
        let mut buf = [0u8; 1024];
        let h = [(HeaderName::from_static("x-run"), "a b".to_owned())];
        let (n, inline) = write_head(
            &mut buf,
            &endpoint(),
            &call(&Method::GET, "/a b/é?q=1", &h),
            None,
        )
        .unwrap();
        assert!(inline);
        assert_eq!(
            std::str::from_utf8(&buf[..n]).unwrap(),
            "GET /a%20b/%C3%A9?q=1 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nx-run: a b\r\n\r\n"
        );
        let (n, _) =
            write_head(&mut buf, &endpoint(), &call(&Method::POST, "/x", &[]), None).unwrap();
        assert!(std::str::from_utf8(&buf[..n])
            .unwrap()
            .ends_with("content-length: 0\r\n\r\n"));
        let (n, inline) = write_head(
            &mut buf,
            &endpoint(),
            &call(&Method::PUT, "/x", &[]),
            Some("{}"),
        )
        .unwrap();
        assert!(inline);
        assert!(std::str::from_utf8(&buf[..n])
            .unwrap()
            .ends_with("content-type: application/json\r\ncontent-length: 2\r\n\r\n{}"));
    }

    #[test]
    fn a_body_too_big_for_the_buffer_is_sent_after_it_and_bad_input_is_an_error() {
        let mut buf = [0u8; 256];
        let big = "x".repeat(1000);
        let (n, inline) = write_head(
            &mut buf,
            &endpoint(),
            &call(&Method::PUT, "/x", &[]),
            Some(&big),
        )
        .unwrap();
        assert!(!inline);
        assert!(std::str::from_utf8(&buf[..n])
            .unwrap()
            .ends_with("content-length: 1000\r\n\r\n"));
        let h = [(HeaderName::from_static("x-bad"), "a\r\nb".to_owned())];
        let e = write_head(&mut buf, &endpoint(), &call(&Method::GET, "/x", &h), None).unwrap_err();
        assert!(
            e.contains("x-bad") && e.contains("not a valid header value"),
            "{e}"
        );
        let long = format!("/{}", "p".repeat(300));
        let e =
            write_head(&mut buf, &endpoint(), &call(&Method::GET, &long, &[]), None).unwrap_err();
        assert!(e.contains("request head over"), "{e}");
        assert!(write_head(&mut buf, &endpoint(), &call(&Method::GET, "x", &[]), None).is_err());
    }
}
