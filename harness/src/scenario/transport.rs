//! How a scenario's requests travel: the HTTP version, when a connection
//! is made anew, the TLS trust and session resumption, and HTTP/2's
//! connections and streams. In: the scenario file's `protocol`,
//! `connections`, `max_streams`, `tls_resumption` and each class's
//! `protocol` and `connection`, then the command line's `--http2`,
//! `--ca-cert`, `--insecure`. Out: plain values the load engine follows.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The HTTP version requests use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// HTTP/1.1: one request at a time per connection.
    #[default]
    H1,
    /// HTTP/2: requests multiplexed over shared connections (over TLS by
    /// ALPN, or h2c with prior knowledge on `http://`).
    H2,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::H1 => "h1",
            Protocol::H2 => "h2",
        }
    }

    /// `h1` or `h2`, as scenario files write it.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "h1" => Some(Protocol::H1),
            "h2" => Some(Protocol::H2),
            _ => None,
        }
    }
}

/// Which HTTP/1.1 engine sends the requests (HTTP/2 is always hyper's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// The harness's own: no task, channel or timer per connection, one
    /// fixed buffer per exchange, bodies counted and dropped.
    #[default]
    Native,
    /// hyper's client connection: the reference the native one is
    /// tested against.
    Hyper,
}

impl Engine {
    pub const ALL: [Engine; 2] = [Engine::Native, Engine::Hyper];

    pub fn name(self) -> &'static str {
        match self {
            Engine::Native => "native",
            Engine::Hyper => "hyper",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Engine::ALL.into_iter().find(|e| e.name() == s)
    }
}

/// When a user's connection is closed and a new one made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reuse {
    /// Kept for the next request (a service, a returning browser).
    #[default]
    KeepAlive,
    /// A new connection for each iteration of a task (a new visitor).
    PerIteration,
    /// A new connection for each request.
    PerRequest,
}

impl Reuse {
    pub const ALL: [Reuse; 3] = [Reuse::KeepAlive, Reuse::PerIteration, Reuse::PerRequest];

    pub fn name(self) -> &'static str {
        match self {
            Reuse::KeepAlive => "keep-alive",
            Reuse::PerIteration => "per-iteration",
            Reuse::PerRequest => "per-request",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Reuse::ALL.into_iter().find(|r| r.name() == s)
    }
}

/// How the harness trusts and resumes TLS sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsOptions {
    /// Trust only this file's certificates (PEM) rather than the platform's.
    pub ca_cert: Option<PathBuf>,
    /// Trust any certificate: never the default, always said.
    pub insecure: bool,
    /// Resume TLS sessions on new connections (tickets or session ids).
    pub resumption: bool,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            ca_cert: None,
            insecure: false,
            resumption: true,
        }
    }
}

/// How a run connects: protocol, TLS trust, HTTP/2's connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transport {
    pub protocol: Protocol,
    /// The HTTP/1.1 engine.
    pub engine: Engine,
    pub tls: TlsOptions,
    /// HTTP/2 connections per target that keep-alive users share.
    pub h2_connections: u32,
    /// Requests in flight at once on one HTTP/2 connection.
    pub max_streams: u32,
}

impl Default for Transport {
    fn default() -> Self {
        Transport {
            protocol: Protocol::H1,
            engine: Engine::default(),
            tls: TlsOptions::default(),
            h2_connections: 1,
            max_streams: 100,
        }
    }
}

/// What the command line says of the transport, over the scenario's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransportFlags {
    /// `--http2`: every class on HTTP/2.
    pub http2: bool,
    pub ca_cert: Option<PathBuf>,
    pub insecure: bool,
    /// `--no-tls-resumption`.
    pub no_resumption: bool,
    /// `--connections N` (HTTP/2).
    pub connections: Option<u32>,
    /// `--max-streams N` (HTTP/2).
    pub max_streams: Option<u32>,
    /// `--connection REUSE`: every class's.
    pub connection: Option<Reuse>,
    /// `--engine`.
    pub engine: Option<Engine>,
}

impl TransportFlags {
    /// Sets `scenario`'s transport (and with `--connection`, every
    /// class's reuse) from these flags over the file's.
    pub fn apply_to(&self, scenario: &mut super::Scenario) {
        scenario.transport = self.apply(scenario.transport.clone());
        if let Some(reuse) = self.connection {
            for class in &mut scenario.classes {
                class.connection = reuse;
            }
        }
    }

    /// The scenario's transport with these flags on top.
    pub fn apply(&self, mut t: Transport) -> Transport {
        if self.http2 {
            t.protocol = Protocol::H2;
        }
        if self.ca_cert.is_some() {
            t.tls.ca_cert = self.ca_cert.clone();
        }
        t.tls.insecure |= self.insecure;
        if self.no_resumption {
            t.tls.resumption = false;
        }
        if let Some(n) = self.connections {
            t.h2_connections = n;
        }
        if let Some(n) = self.max_streams {
            t.max_streams = n;
        }
        if let Some(e) = self.engine {
            t.engine = e;
        }
        t
    }
}
