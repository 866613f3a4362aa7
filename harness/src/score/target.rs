//! The known target of a score. In: `--target URL --admin-token T`, or
//! nothing (a mock-api started in-process on 127.0.0.1 port 0 over a fresh
//! seeded database, as `demo` does). Out: a [`Target`] whose behaviour is
//! set and statistics reset through its admin API, and the server's truth
//! over a window (`/__admin/stats` before and after, subtracted).

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::Value;

use crate::error::Error;
use crate::histogram::merged;
use crate::load::tls::TlsOptions;
use crate::server::stats_source::StatsSource;
use crate::server::{subtract, StatsSnapshot};

/// What the server saw over a window, all routes together.
#[derive(Debug, Clone)]
pub struct Truth {
    /// Requests received, answered or not.
    pub requests: u64,
    /// Responses sent, by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no response, by why (`reset`).
    pub no_response: BTreeMap<String, u64>,
    /// Service times, µs.
    pub histogram: Histogram<u64>,
    /// Connections, TLS handshakes and requests by protocol.
    pub connections: crate::server::connections::ConnectionCounts,
}

impl Truth {
    /// Requests that failed: answers other than 2xx, and those that got
    /// no answer at all.
    pub fn errors(&self) -> u64 {
        let failed: u64 = self
            .statuses
            .iter()
            .filter(|(s, _)| !(200..300).contains(*s))
            .map(|(_, n)| n)
            .sum();
        failed + self.no_response.values().sum::<u64>()
    }
}

/// A target being scored against.
#[derive(Debug)]
pub struct Target {
    pub url: String,
    token: String,
    client: reqwest::Client,
    stats: StatsSource,
    /// How the target is trusted (its certificate, under TLS).
    pub tls: TlsOptions,
    /// The in-process mock-api, stopped when dropped.
    #[cfg(feature = "demo")]
    _in_process: Option<crate::in_process::InProcess>,
}

fn target_error(url: &str, what: &str) -> Error {
    Error::Usage(format!("target {url}: {what}"))
}

impl Target {
    /// The target at `url`, driven with `token`.
    pub async fn remote(url: &str, token: Option<&str>, tls: &TlsOptions) -> Result<Self, Error> {
        let token = token.ok_or_else(|| {
            Error::Usage("--target needs --admin-token: scoring sets the target's behaviour and resets its statistics".into())
        })?;
        let url = url.trim_end_matches('/').to_owned();
        let stats = StatsSource::probe(&url, tls).await.ok_or_else(|| {
            target_error(&url, "no statistics at /__admin/stats (is it a mock-api?)")
        })?;
        Ok(Target {
            client: client(tls)?,
            tls: tls.clone(),
            token: token.to_owned(),
            url,
            stats,
            #[cfg(feature = "demo")]
            _in_process: None,
        })
    }

    /// A mock-api started here on 127.0.0.1 port 0, fresh database, seed 42.
    #[cfg(feature = "demo")]
    pub async fn in_process(tls: bool) -> Result<Self, Error> {
        let token = format!("score-{}", std::process::id());
        let server = crate::in_process::InProcess::start_with(Some(token.clone()), tls).await?;
        let url = server.url.clone();
        let tls = TlsOptions {
            ca_cert: server.tls_cert.clone(),
            ..TlsOptions::default()
        };
        let stats = StatsSource::probe(&url, &tls)
            .await
            .ok_or_else(|| target_error(&url, "the in-process mock-api does not answer"))?;
        Ok(Target {
            client: client(&tls)?,
            tls,
            token,
            url,
            stats,
            _in_process: Some(server),
        })
    }

    /// Gives the target `behaviour` (the admin API's JSON) and resets its
    /// statistics.
    pub async fn configure(&self, behaviour: &Value) -> Result<(), Error> {
        let put = self
            .client
            .put(format!("{}/__admin/behaviour", self.url))
            .bearer_auth(&self.token)
            .json(behaviour);
        self.admin(put, "PUT /__admin/behaviour").await?;
        let reset = self
            .client
            .post(format!("{}/__admin/reset", self.url))
            .bearer_auth(&self.token);
        self.admin(reset, "POST /__admin/reset").await
    }

    async fn admin(&self, req: reqwest::RequestBuilder, what: &str) -> Result<(), Error> {
        let res = req
            .send()
            .await
            .map_err(|e| target_error(&self.url, &format!("{what}: {e}")))?;
        let status = res.status().as_u16();
        let detail = || async {
            let body: Value = res.json().await.unwrap_or_default();
            body["detail"].as_str().unwrap_or("").to_owned()
        };
        match status {
            200..=299 => Ok(()),
            404 => Err(target_error(&self.url, &format!("{what}: 404, the target has no admin token configured (start mock-api with --admin-token)"))),
            401 => Err(target_error(&self.url, &format!("{what}: 401, the admin token was refused"))),
            _ => Err(target_error(&self.url, &format!("{what}: {status}: {}", detail().await))),
        }
    }

    /// The server's cumulative statistics now.
    pub async fn snapshot(&self) -> Result<StatsSnapshot, Error> {
        self.stats
            .snapshot()
            .await
            .ok_or_else(|| target_error(&self.url, "/__admin/stats stopped answering"))
    }
}

fn client(tls: &TlsOptions) -> Result<reqwest::Client, Error> {
    crate::load::tls::reqwest_builder(tls)?
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| Error::Usage(format!("cannot build an HTTP client: {e}")))
}

/// What the server saw between two snapshots, every route together.
pub fn truth(start: &StatsSnapshot, end: &StatsSnapshot) -> Result<Truth, Error> {
    let window = subtract(start, end).map_err(|lost| {
        Error::Usage(format!(
            "the target's statistics cannot be trusted over the run ({lost}): the window is lost"
        ))
    })?;
    let mut statuses = BTreeMap::new();
    let mut no_response = BTreeMap::new();
    for route in window.routes.values() {
        for (code, n) in &route.statuses {
            *statuses.entry(*code).or_insert(0) += n;
        }
        for (why, n) in &route.no_response {
            *no_response.entry(why.clone()).or_insert(0) += n;
        }
    }
    Ok(Truth {
        requests: window.routes.values().map(|r| r.count).sum(),
        statuses,
        no_response,
        histogram: merged(window.routes.values().map(|r| &r.histogram.0)),
        connections: end.connections.since(&start.connections),
    })
}
