//! JUnit XML, so any CI shows the verdict. In: a record. Out: one test
//! suite (the requirement), one test case per SLO, and the rows (stage x
//! class x task), classes, connections and each task's phases as the
//! suite's `system-out`.

use std::fmt::Write as _;

use super::esc;
use crate::record::RunRecord;

/// JUnit XML: one test suite (the requirement), one test case per SLO.
pub fn junit(r: &RunRecord) -> String {
    let failures = r.slos.iter().filter(|s| !s.passed).count();
    // A run without SLOs is one skipped case (not judged).
    let tests = r.slos.len().max(1);
    let skipped = usize::from(r.slos.is_empty());
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"harness\" tests=\"{tests}\" failures=\"{failures}\" skipped=\"{skipped}\">"
    );
    let _ = writeln!(
        x,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" timestamp=\"{}\">",
        esc(&format!("{} {}", r.requirement.id, r.scenario)),
        esc(&r.started_at)
    );
    if r.slos.is_empty() {
        // Nothing was judged: one skipped case says so, so a CI shows the
        // run as neither passed nor failed.
        let _ = writeln!(
            x,
            "    <testcase classname=\"{}\" name=\"verdict\">\n      <skipped message=\"NOT JUDGED (no SLOs)\"/>\n    </testcase>",
            esc(&r.requirement.id)
        );
    }
    for s in &r.slos {
        let name = s.describe();
        let _ = write!(
            x,
            "    <testcase classname=\"{}\" name=\"{}\"",
            esc(&r.requirement.id),
            esc(&name)
        );
        if s.passed {
            x.push_str("/>\n");
        } else {
            let observed = s
                .observed
                .map_or_else(|| "not reported".to_owned(), |o| o.to_string());
            let message = match s.observed {
                Some(o) => format!("observed {o} {} {} is false", s.spec.op, s.spec.bound),
                None => "the record's source does not report this metric".to_owned(),
            };
            let _ = writeln!(
                x,
                ">\n      <failure message=\"{}\" type=\"SLO\">observed {} over stages {}</failure>\n    </testcase>",
                esc(&message),
                esc(&observed),
                esc(&s.spec.stages.join(", "))
            );
        }
    }
    let mut table = Vec::new();
    let _ = crate::output::summary::write_rows(&mut table, r);
    // How the run connected and where each task's time went.
    let _ = crate::output::connections::write_connections(&mut table, r);
    let _ = writeln!(
        x,
        "    <system-out>{}</system-out>",
        esc(String::from_utf8_lossy(&table).trim_start())
    );
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}
