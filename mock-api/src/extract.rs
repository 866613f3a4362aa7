//! Extractors whose rejections are problem+json, and header parsing shared by routes.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};

use crate::error::Error;

/// `axum::Json`, with rejections as [`Error`] (400 malformed, 413 too large,
/// 415 wrong content type, 422 wrong shape).
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct AppJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Path`, with rejections as [`Error`].
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Error))]
pub struct ApiPath<T>(pub T);

/// `axum::extract::Query`, with rejections as [`Error`].
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct ApiQuery<T>(pub T);

/// The strong entity tag of a mission version: `"3"`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// What an `If-Match` header may be, as an OpenAPI `pattern`: empty (no
/// condition), `*`, or one entity tag of a mission version (strong or
/// weak), up to 18 digits.
pub const IF_MATCH_PATTERN: &str = r#"^(|\*|(W/)?"[0-9]{1,18}")$"#;

/// The version an `If-Match` header asks for: `None` without the header,
/// with an empty one (an empty list of tags) or with `*`; an error for anything that is not one entity tag (exactly
/// [`IF_MATCH_PATTERN`]).
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, Error> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let bad = || {
        Error::BadHeader(format!(
            "If-Match must be one entity tag from the mission's ETag, e.g. \"3\", or *; got {value:?}"
        ))
    };
    let text = value.to_str().map_err(|_| bad())?;
    if text == "*" || text.is_empty() {
        return Ok(None);
    }
    let tag = text.strip_prefix("W/").unwrap_or(text);
    let inner = tag
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|d| (1..=18).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(bad)?;
    inner.parse().map(Some).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::IF_MATCH, HeaderValue::from_static(v));
        h
    }

    #[test]
    fn if_match_forms() {
        assert_eq!(if_match(&HeaderMap::new()).unwrap(), None);
        assert_eq!(if_match(&with("*")).unwrap(), None);
        assert_eq!(if_match(&with("\"7\"")).unwrap(), Some(7));
        assert_eq!(if_match(&with("W/\"7\"")).unwrap(), Some(7));
        assert!(if_match(&with("7")).is_err());
        assert!(if_match(&with("\"7\", \"8\"")).is_err());
        assert!(if_match(&with("\"+7\"")).is_err());
        assert!(if_match(&with("\"-7\"")).is_err());
        assert!(if_match(&with("\"1234567890123456789\"")).is_err());
    }

    #[test]
    fn the_pattern_accepts_exactly_what_parses() {
        let pattern = regex::Regex::new(IF_MATCH_PATTERN).unwrap();
        for v in [
            "",
            "*",
            "**",
            "\"1\"",
            "W/\"1\"",
            "w/\"1\"",
            "\"\"",
            "\"01\"",
            "\"-1\"",
            "\"+1\"",
            "1",
            "\"1",
            "\"1\" ",
            " \"1\"",
            "\"1\", \"2\"",
            "\"123456789012345678\"",
            "\"1234567890123456789\"",
            "null",
            "W/*",
        ] {
            let mut h = HeaderMap::new();
            h.insert(header::IF_MATCH, HeaderValue::from_str(v).unwrap());
            assert_eq!(pattern.is_match(v), if_match(&h).is_ok(), "{v:?}");
        }
    }
}
