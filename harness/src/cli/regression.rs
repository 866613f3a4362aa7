//! `harness demo --regression CAUSE`: flags to the story, the analysis
//! printed as `harness analyze` prints it, the line saying whether the
//! injected cause was named first, the HTML report with the history trend,
//! and the exit code (0 named first, or stable for the control; 1 not).

use std::path::Path;

use super::DemoArgs;
use crate::error::{write_file, Error};
use crate::output::{self, report, Format};
use crate::run::regression::{self, Injected, RegressionOptions};
use crate::run::stamp;

pub(super) async fn handle_regression(a: DemoArgs) -> Result<u8, Error> {
    let cause = a.regression.unwrap_or(Injected::None);
    let out = a.record.out.clone().unwrap_or_else(|| {
        Path::new("results").join(format!("regression-{}-{}", cause.name(), stamp()))
    });
    let outcome = regression::regression(&RegressionOptions {
        cause,
        runs: a.runs,
        duration_scale: a.duration_scale.unwrap_or(1.0),
        seed: a.record.seed,
        out: out.clone(),
        quiet: a.record.quiet,
    })
    .await?;
    let mut stdout = std::io::stdout().lock();
    let _ = output::print_analysis(&mut stdout, &outcome.analysis, Format::Text);
    let first = outcome.analysis.likely_causes.first();
    let line = match (cause.expected(), first) {
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
    };
    use std::io::Write as _;
    let _ = writeln!(stdout, "\n{line}");
    let runs = &outcome.runs;
    let page = out.join("report.html");
    if let Some((_, last)) = outcome.records.last() {
        write_file(
            &page,
            report::html(last, None, Some((runs.as_slice(), &outcome.analysis))),
        )?;
    }
    let _ = writeln!(stdout, "records: {}", out.display());
    let _ = writeln!(stdout, "report: {}", page.display());
    Ok(u8::from(!outcome.named))
}
