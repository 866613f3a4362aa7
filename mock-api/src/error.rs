//! The crate's one error type and its mapping to `application/problem+json`
//! (RFC 9457) responses. Each variant's doc names the status it becomes.
//! Internal causes (SQL, I/O) are logged, never sent to the client. The
//! store has its own error (`StoreError`), which knows nothing of HTTP; it
//! becomes one of these where the routes meet the store
//! (`From<StoreError>` in `routes`), so neither module imports the other.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use seed_data::DomainError;
use serde::Serialize;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 404: the resource (mission, waypoint) does not exist.
    #[error("{0}")]
    NotFound(String),
    /// 404: no route has this path.
    #[error("no route for {0}")]
    RouteNotFound(String),
    /// 405: the path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 412: `If-Match` named a version that is not the current one.
    #[error("the mission is at version {current}; If-Match asked for {expected}")]
    PreconditionFailed { expected: String, current: i64 },
    /// 422: a value parsed but is not valid in the domain (out-of-range
    /// coordinate, unknown status or region, ...).
    #[error("{field}: {source}")]
    Invalid {
        field: String,
        #[source]
        source: DomainError,
    },
    /// 422: a value outside what the endpoint accepts (a query parameter, a
    /// list too long), said in words.
    #[error("{0}")]
    Unprocessable(String),
    /// 400, 413, 415 or 422, as the body, path or query extractor decided.
    #[error("{detail}")]
    Rejected { status: StatusCode, detail: String },
    /// 400: a header is malformed.
    #[error("{0}")]
    BadHeader(String),
    /// 401: an admin endpoint without the right bearer token.
    #[error("this admin endpoint needs Authorization: Bearer <the --admin-token>")]
    Unauthorized,
    /// 502: the upstream service failed; the cause is logged.
    #[error("the upstream deconfliction service failed")]
    Upstream(#[source] reqwest::Error),
    /// 503: the database did not answer in time.
    #[error("the database is busy; retry shortly")]
    Busy,
    /// 503: the database refused a write for a storage reason (full,
    /// read-only, I/O), said in words; reads are still served.
    #[error("the database is not accepting writes ({0}); reads are still served; retry later")]
    Storage(String),
    /// 500: a failure of the database or its driver; the cause is
    /// logged (and printed at start-up), not returned.
    #[error("database error: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Start-up only: a bad flag or behaviour file (exit 2).
    #[error("{0}")]
    Config(String),
    /// 500 (start-up and shutdown): an I/O step failed; `what` says which.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// 500: a bug; the cause is logged, not returned.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// An I/O failure of the step `what` (e.g. "cannot listen on 127.0.0.1:80").
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }

    pub fn invalid(field: impl Into<String>, source: DomainError) -> Self {
        Self::Invalid {
            field: field.into(),
            source,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::NotFound(_) | Error::RouteNotFound(_) => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            Error::Invalid { .. } | Error::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Rejected { status, .. } => *status,
            Error::BadHeader(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::Upstream(_) => StatusCode::BAD_GATEWAY,
            Error::Busy | Error::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Database(_) | Error::Internal(_) | Error::Io { .. } | Error::Config(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// What the client is told: the error's own text for client errors, a
    /// generic sentence for server errors.
    fn detail(&self) -> String {
        match self.status() {
            StatusCode::INTERNAL_SERVER_ERROR => {
                "the server failed to handle this request; it has been logged".to_owned()
            }
            StatusCode::SERVICE_UNAVAILABLE => match self {
                Error::Storage(_) => self.to_string(),
                _ => Error::Busy.to_string(),
            },
            StatusCode::BAD_GATEWAY => {
                if let Error::Upstream(cause) = self {
                    tracing::warn!(error = %cause, "upstream call failed");
                }
                self.to_string()
            }
            _ => self.to_string(),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status and title say what kind of problem it is.
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's reason phrase.
    pub title: String,
    pub status: u16,
    /// What went wrong with this request, in words.
    pub detail: String,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        res
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        let mut res = Problem::new(status, self.detail()).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Self {
        if body_timed_out(&rejection) {
            return Error::Rejected {
                status: StatusCode::REQUEST_TIMEOUT,
                detail: "the request body did not arrive in time (--body-timeout)".to_owned(),
            };
        }
        Error::Rejected {
            status: rejection.status(),
            detail: rejection.body_text(),
        }
    }
}

/// Whether reading the body failed because it did not arrive in time.
fn body_timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = e.source();
    }
    false
}

impl From<PathRejection> for Error {
    fn from(rejection: PathRejection) -> Self {
        Error::Rejected {
            status: StatusCode::BAD_REQUEST,
            detail: rejection.body_text(),
        }
    }
}

impl From<QueryRejection> for Error {
    fn from(rejection: QueryRejection) -> Self {
        Error::Rejected {
            status: StatusCode::BAD_REQUEST,
            detail: rejection.body_text(),
        }
    }
}
