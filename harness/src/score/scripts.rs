//! The scripts the tools' default commands run. In: the trial's path, its
//! rate, connections and length. Out: a k6 script, a Locust file, an
//! Artillery script and a JMeter test plan, written into the score's work
//! folder.

use std::time::Duration;

/// The k6 script the default command runs: `vus` users for `duration`, or
/// a constant arrival rate when `RATE` is set, each iteration one GET.
pub const K6_SCRIPT: &str = r#"import http from 'k6/http';

const rate = __ENV.RATE ? Number(__ENV.RATE) : 0;
const vus = Number(__ENV.VUS || 10);

export const options = rate > 0
  ? {
      scenarios: {
        trial: {
          executor: 'constant-arrival-rate',
          rate: rate,
          timeUnit: '1s',
          duration: __ENV.DURATION,
          preAllocatedVUs: vus,
          // Enough VUs for two seconds of arrivals in flight: an iteration
          // that finds none free is dropped, neither sent nor timed.
          maxVUs: Math.max(vus * 4, Math.ceil(rate * 2)),
        },
      },
      summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
    }
  : {
      vus: vus,
      duration: __ENV.DURATION,
      summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
    };

export default function () {
  http.get(__ENV.URL);
}
"#;

/// The Locust file the default command runs: one user class reading the
/// trial's path, with Locust's fast HTTP client.
pub fn locustfile(path: &str) -> String {
    format!(
        "from locust import task\nfrom locust.contrib.fasthttp import FastHttpUser\n\n\nclass Reader(FastHttpUser):\n    @task\n    def read(self):\n        self.client.get({path:?})\n"
    )
}

/// Artillery's arrivals per second for a trial without a rate: ten per
/// connection the closed-model tools get (Artillery has no closed model:
/// it launches users at a rate).
pub fn artillery_rate(rate: Option<f64>, connections: u32) -> u64 {
    rate.map_or(u64::from(connections) * 10, |r| r.ceil().max(1.0) as u64)
}

/// The Artillery script the default command runs: one phase of
/// `arrivals` virtual users a second for `duration`, each reading `path`
/// once on a connection of its own (Artillery's default).
pub fn artillery(url: &str, path: &str, arrivals: u64, duration: Duration) -> String {
    format!(
        "# Written by harness score: one phase, each virtual user one GET.\nconfig:\n  target: {url:?}\n  phases:\n    - name: trial\n      duration: {}\n      arrivalRate: {arrivals}\nscenarios:\n  - name: trial\n    flow:\n      - get:\n          url: {path:?}\n",
        duration.as_secs().max(1)
    )
}

/// The JMeter test plan the default command runs: a thread group of
/// `threads` users looping one GET of `path` for `duration` (a closed
/// model: each waits for its answer), keep-alive on. Written in the
/// `.jmx` form JMeter 2.13 reads and later versions still load.
pub fn jmeter_plan(url: &str, path: &str, threads: u32, duration: Duration) -> String {
    let (protocol, rest) = url.split_once("://").unwrap_or(("http", url));
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => (h, p.to_owned()),
        _ => (
            rest,
            if protocol == "https" { "443" } else { "80" }.to_owned(),
        ),
    };
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by harness score: {threads} threads, each looping one GET, for {secs} s. -->
<jmeterTestPlan version="1.2" properties="2.8">
  <hashTree>
    <TestPlan guiclass="TestPlanGui" testclass="TestPlan" testname="trial" enabled="true">
      <elementProp name="TestPlan.user_defined_variables" elementType="Arguments">
        <collectionProp name="Arguments.arguments"/>
      </elementProp>
      <boolProp name="TestPlan.functional_mode">false</boolProp>
      <boolProp name="TestPlan.serialize_threadgroups">false</boolProp>
    </TestPlan>
    <hashTree>
      <ThreadGroup guiclass="ThreadGroupGui" testclass="ThreadGroup" testname="users" enabled="true">
        <stringProp name="ThreadGroup.on_sample_error">continue</stringProp>
        <elementProp name="ThreadGroup.main_controller" elementType="LoopController">
          <boolProp name="LoopController.continue_forever">false</boolProp>
          <intProp name="LoopController.loops">-1</intProp>
        </elementProp>
        <stringProp name="ThreadGroup.num_threads">{threads}</stringProp>
        <stringProp name="ThreadGroup.ramp_time">0</stringProp>
        <boolProp name="ThreadGroup.scheduler">true</boolProp>
        <stringProp name="ThreadGroup.duration">{secs}</stringProp>
        <stringProp name="ThreadGroup.delay">0</stringProp>
      </ThreadGroup>
      <hashTree>
        <HTTPSamplerProxy guiclass="HttpTestSampleGui" testclass="HTTPSamplerProxy" testname="read" enabled="true">
          <elementProp name="HTTPsampler.Arguments" elementType="Arguments">
            <collectionProp name="Arguments.arguments"/>
          </elementProp>
          <stringProp name="HTTPSampler.domain">{host}</stringProp>
          <stringProp name="HTTPSampler.port">{port}</stringProp>
          <stringProp name="HTTPSampler.protocol">{protocol}</stringProp>
          <stringProp name="HTTPSampler.path">{path}</stringProp>
          <stringProp name="HTTPSampler.method">GET</stringProp>
          <boolProp name="HTTPSampler.follow_redirects">false</boolProp>
          <boolProp name="HTTPSampler.use_keepalive">true</boolProp>
        </HTTPSamplerProxy>
        <hashTree/>
      </hashTree>
    </hashTree>
  </hashTree>
</jmeterTestPlan>
"#,
        secs = duration.as_secs().max(1),
        host = esc(host.trim_start_matches('[').trim_end_matches(']')),
        protocol = esc(protocol),
        path = esc(path),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_artillery_script_has_the_trials_rate_or_ten_per_connection() {
        assert_eq!(artillery_rate(Some(200.0), 50), 200);
        assert_eq!(artillery_rate(Some(2.5), 50), 3);
        assert_eq!(artillery_rate(None, 10), 100);
        let s = artillery("http://127.0.0.1:9", "/x", 100, Duration::from_secs(30));
        assert!(s.contains("target: \"http://127.0.0.1:9\""), "{s}");
        assert!(s.contains("duration: 30\n      arrivalRate: 100"), "{s}");
        assert!(s.contains("url: \"/x\""), "{s}");
    }

    #[test]
    fn the_jmeter_plan_splits_the_url_and_escapes_the_path() {
        let p = jmeter_plan(
            "http://127.0.0.1:4000",
            "/a?b=1&c=2",
            10,
            Duration::from_secs(30),
        );
        assert!(
            p.contains("<stringProp name=\"HTTPSampler.domain\">127.0.0.1<"),
            "{p}"
        );
        assert!(
            p.contains("<stringProp name=\"HTTPSampler.port\">4000<"),
            "{p}"
        );
        assert!(p.contains("/a?b=1&amp;c=2"), "{p}");
        assert!(
            p.contains("<stringProp name=\"ThreadGroup.num_threads\">10<"),
            "{p}"
        );
        assert!(
            p.contains("<stringProp name=\"ThreadGroup.duration\">30<"),
            "{p}"
        );
        let p = jmeter_plan("https://[::1]", "/", 1, Duration::from_secs(1));
        assert!(
            p.contains(">::1<") && p.contains(">443<") && p.contains(">https<"),
            "{p}"
        );
    }
}
