//! One request: send it, read the whole body, classify the outcome.

use std::time::Duration;

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
    Status4xx,
    /// A 5xx status other than the expected one.
    Status5xx,
    /// Another unexpected status (1xx-3xx).
    StatusOther,
    /// The body could not be read to its end.
    Body,
    /// Any other transport failure (reset, protocol error).
    Request,
}

impl ErrorClass {
    pub const ALL: [ErrorClass; 7] = [
        ErrorClass::Connect,
        ErrorClass::Timeout,
        ErrorClass::Status4xx,
        ErrorClass::Status5xx,
        ErrorClass::StatusOther,
        ErrorClass::Body,
        ErrorClass::Request,
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
        }
    }

    /// Whether the server answered (so the latency is a response time).
    pub fn has_response(self) -> bool {
        matches!(
            self,
            ErrorClass::Status4xx | ErrorClass::Status5xx | ErrorClass::StatusOther
        )
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

/// A client with one keep-alive connection, as one real user has.
pub fn user_client(timeout: Duration) -> reqwest::Client {
    client(timeout, 1)
}

/// A client shared by open-model arrivals, with up to `connections` connections.
pub fn shared_client(timeout: Duration, connections: usize) -> reqwest::Client {
    client(timeout, connections)
}

fn client(timeout: Duration, idle_per_host: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(idle_per_host)
        .pool_idle_timeout(None)
        .http1_only()
        .tcp_nodelay(true)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client with these settings always builds")
}

fn classify(e: &reqwest::Error) -> ErrorClass {
    if e.is_timeout() {
        ErrorClass::Timeout
    } else if e.is_connect() {
        ErrorClass::Connect
    } else if e.is_body() || e.is_decode() {
        ErrorClass::Body
    } else {
        ErrorClass::Request
    }
}

fn describe(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

/// Sends one request and reads its body to the end.
pub async fn execute(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: reqwest::Url,
    body: Option<String>,
    expect: u16,
) -> Outcome {
    let mut req = client.request(method.clone(), url);
    if let Some(body) = body {
        req = req.header("content-type", "application/json").body(body);
    }
    let mut res = match req.send().await {
        Ok(res) => res,
        Err(e) => {
            let url = e.url().map(|u| u.to_string()).unwrap_or_default();
            return Outcome::Error(classify(&e), format!("{method} {url}: {}", describe(&e)));
        }
    };
    let status = res.status().as_u16();
    loop {
        match res.chunk().await {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                let class = if e.is_timeout() {
                    ErrorClass::Timeout
                } else {
                    ErrorClass::Body
                };
                return Outcome::Error(
                    class,
                    format!(
                        "{method} {}: status {status}, body: {}",
                        res.url(),
                        describe(&e)
                    ),
                );
            }
        }
    }
    if status == expect {
        return Outcome::Ok;
    }
    let class = match status {
        400..=499 => ErrorClass::Status4xx,
        500..=599 => ErrorClass::Status5xx,
        _ => ErrorClass::StatusOther,
    };
    Outcome::Error(
        class,
        format!("{method} {}: status {status}, expected {expect}", res.url()),
    )
}
