//! What became of one request. In: a status and the statuses expected, or a
//! transport failure. Out: an [`Outcome`], its error classified
//! ([`ErrorClass`], the names records and reports use).

use serde::{Deserialize, Serialize};

/// Why a request counted as an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The connection could not be made.
    Connect,
    /// No complete answer within the scenario's timeout.
    Timeout,
    /// A 4xx status other than the expected one.
    #[serde(rename = "status_4xx")]
    Status4xx,
    /// A 5xx status other than the expected one.
    #[serde(rename = "status_5xx")]
    Status5xx,
    /// Another unexpected status (1xx-3xx).
    StatusOther,
    /// The body could not be read to its end.
    Body,
    /// Any other transport failure (reset, protocol error).
    Request,
    /// The expected status, but a flow's check failed or a value to
    /// extract was missing.
    Check,
}

impl ErrorClass {
    pub const ALL: [ErrorClass; 8] = [
        ErrorClass::Connect,
        ErrorClass::Timeout,
        ErrorClass::Status4xx,
        ErrorClass::Status5xx,
        ErrorClass::StatusOther,
        ErrorClass::Body,
        ErrorClass::Request,
        ErrorClass::Check,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Connect => "connect",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Status4xx => "status_4xx",
            ErrorClass::Status5xx => "status_5xx",
            ErrorClass::StatusOther => "status_other",
            ErrorClass::Body => "body",
            ErrorClass::Request => "request",
            ErrorClass::Check => "check",
        }
    }

    /// Whether the server answered (so the latency is a response time).
    pub fn has_response(self) -> bool {
        matches!(
            self,
            ErrorClass::Status4xx
                | ErrorClass::Status5xx
                | ErrorClass::StatusOther
                | ErrorClass::Check
        )
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What became of one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The expected status, body read to its end.
    Ok,
    /// An error of `class`, with a message for the samples.
    Error(ErrorClass, String),
}

/// The error class of an answer with `status` when one of `expect` was
/// wanted.
pub(crate) fn status_class(status: u16, expect: &[u16]) -> Option<ErrorClass> {
    match status {
        s if expect.contains(&s) => None,
        400..=499 => Some(ErrorClass::Status4xx),
        500..=599 => Some(ErrorClass::Status5xx),
        _ => Some(ErrorClass::StatusOther),
    }
}
