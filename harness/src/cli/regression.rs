//! `harness demo --regression CAUSE`: flags to the story, the analysis
//! printed as `harness analyze` prints it, the line saying whether the
//! injected cause was named first, the HTML report with the history trend,
//! and the exit code (0 named first, or stable for the control; 1 not).

use serde::Serialize;

use super::DemoArgs;
use crate::analysis::Analysis;
use crate::error::{write_file, Error};
use crate::output::{self, report, Format};
use crate::run::regression::{self, Injected, Outcome, RegressionOptions};
use crate::run::{RecordOptions, ReportAt};

/// What `harness demo --regression CAUSE --format json` prints.
#[derive(Debug, Serialize)]
struct StoryJson<'a> {
    injected: &'a str,
    /// The first cause named is the injected one (the control: the verdict
    /// is stable): what the exit code says.
    named: bool,
    records: &'a std::path::Path,
    report: &'a std::path::Path,
    analysis: &'a Analysis,
}

pub(super) async fn handle_regression(a: DemoArgs) -> Result<u8, Error> {
    let cause = a.regression.unwrap_or(Injected::None);
    let record: RecordOptions = a.record.into();
    let (format, report_at) = (record.format, record.report.clone());
    let outcome = regression::regression(&RegressionOptions {
        cause,
        runs: a.runs,
        duration_scale: a.duration_scale.unwrap_or(1.0),
        record,
    })
    .await?;
    let page = match report_at {
        ReportAt::At(path) => path,
        _ => outcome.folder.join("report.html"),
    };
    let runs = &outcome.runs;
    if let Some((_, last)) = outcome.records.last() {
        write_file(
            &page,
            report::html(last, None, Some((runs.as_slice(), &outcome.analysis))),
        )?;
    }
    let mut stdout = std::io::stdout().lock();
    if format == Format::Json {
        let _ = output::json(
            &mut stdout,
            &StoryJson {
                injected: cause.name(),
                named: outcome.named,
                records: &outcome.folder,
                report: &page,
                analysis: &outcome.analysis,
            },
        );
        return Ok(u8::from(!outcome.named));
    }
    let _ = output::print_analysis(&mut stdout, &outcome.analysis, Format::Text);
    use std::io::Write as _;
    let _ = writeln!(stdout, "\n{}", verdict_line(cause, &outcome));
    let _ = writeln!(stdout, "records: {}", outcome.folder.display());
    let _ = writeln!(stdout, "report: {}", page.display());
    Ok(u8::from(!outcome.named))
}

/// Whether the story told itself: the cause named first, or the control stable.
fn verdict_line(cause: Injected, outcome: &Outcome) -> String {
    let first = outcome.analysis.likely_causes.first();
    match (cause.expected(), first) {
        (Some(_), Some(named)) if outcome.named => format!(
            "injected: {}; named first: {} ({}): the injected cause",
            cause.name(),
            named.cause,
            named.confidence
        ),
        (Some(kind), Some(named)) => format!(
            "injected: {}; named first: {}: NOT the injected cause ({kind}){}",
            cause.name(),
            named.cause,
            if outcome.named {
                ""
            } else {
                " or no regression found"
            }
        ),
        (Some(kind), None) => format!(
            "injected: {}; no cause named: NOT the injected cause ({kind})",
            cause.name()
        ),
        (None, _) if outcome.named => {
            "injected: none (the control); verdict stable, as it should be".to_owned()
        }
        (None, _) => format!(
            "injected: none (the control); verdict {}: NOT stable",
            outcome.analysis.verdict
        ),
    }
}
