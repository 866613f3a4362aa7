//! The scripts the tools' default commands run. In: the trial's path, its
//! rate, connections and length. Out: a k6 script, a Locust file and an
//! Artillery script, written into the score's work folder.

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
}
