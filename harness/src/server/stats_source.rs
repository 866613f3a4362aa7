//! Reading a target's statistics over HTTP. In: the target's base URL.
//! Out: [`StatsSnapshot`]s of its `/__admin/stats`, or nothing when it
//! offers none.

use std::time::Duration;

use super::StatsSnapshot;

/// Reads a target's statistics endpoint.
#[derive(Debug, Clone)]
pub struct StatsSource {
    client: reqwest::Client,
    url: String,
}

impl StatsSource {
    /// The target's `/__admin/stats`, if it answers with statistics.
    pub async fn probe(base: &str, tls: &crate::load::tls::TlsOptions) -> Option<Self> {
        let client = crate::load::tls::reqwest_builder(tls)
            .ok()?
            .timeout(Duration::from_secs(10))
            .build()
            .ok()?;
        let src = Self {
            client,
            url: format!("{}/__admin/stats", base.trim_end_matches('/')),
        };
        src.snapshot().await.map(|_| src)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The target's statement kinds with their query plans
    /// (`/__admin/queries`, beside `/__admin/stats`); empty when it has none.
    pub async fn queries(&self) -> Vec<crate::server::QueryKind> {
        #[derive(serde::Deserialize)]
        struct List {
            kinds: Vec<crate::server::QueryKind>,
        }
        let url = self.url.replace("/__admin/stats", "/__admin/queries");
        let Ok(res) = self.client.get(&url).send().await else {
            return Vec::new();
        };
        if !res.status().is_success() {
            return Vec::new();
        }
        res.json::<List>()
            .await
            .map(|l| l.kinds)
            .unwrap_or_default()
    }

    pub async fn snapshot(&self) -> Option<StatsSnapshot> {
        let res = self.client.get(&self.url).send().await.ok()?;
        if !res.status().is_success() {
            return None;
        }
        res.json().await.ok()
    }
}
