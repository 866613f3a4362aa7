//! `harness score`: flags to a score (or a suite of them), the scorecard
//! written and printed, and the exit code: 0 every scored figure within
//! tolerance, 1 some not, 2 usage, tool failure or unparseable output.

use std::path::{Path, PathBuf};

use super::ScoreArgs;
use crate::error::{write_file, Error};
use crate::output::report::matrix as matrix_page;
use crate::output::report::scorecard as html;
use crate::output::scorecard as text;
use crate::run::stamp;
use crate::score::card::Scorecard;
use crate::score::{self, trial, ScoreOptions};

fn options(a: &ScoreArgs) -> Result<ScoreOptions, Error> {
    for (flag, v) in [
        ("--tolerance-pct", a.tolerance_pct),
        ("--tolerance-ms", a.tolerance_ms),
        ("--client-allowance-ms", a.client_allowance_ms),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(Error::Usage(format!("{flag} must be 0 or more, got {v}")));
        }
    }
    if let Some(r) = a.rate.filter(|r| !(r.is_finite() && *r > 0.0)) {
        return Err(Error::Usage(format!("--rate must be above 0, got {r}")));
    }
    let tool = a
        .tool
        .ok_or_else(|| Error::Usage("--tool is needed".into()))?;
    Ok(ScoreOptions {
        tool,
        trial: a.trial.clone(),
        behaviour: a.behaviour.clone(),
        target: a.target.clone(),
        admin_token: a.admin_token.clone(),
        tolerance_pct: a.tolerance_pct,
        tolerance_ms: a.tolerance_ms,
        client_allowance_ms: a.client_allowance_ms,
        count_allowance: a.count_allowance,
        model: a.model,
        tools_dir: a.tools_dir.clone(),
        duration: a.duration,
        connections: a.connections,
        rate: a.rate,
        ca_cert: a.ca_cert.clone(),
        insecure: a.insecure,
        command: a.command.clone(),
    })
}

/// Writes the scorecard's JSON, and its page when asked.
fn write(
    card: &Scorecard,
    path: &Path,
    report: Option<&Option<PathBuf>>,
) -> Result<Option<PathBuf>, Error> {
    let json = serde_json::to_vec_pretty(card).expect("a scorecard always serializes");
    write_file(path, json)?;
    let page = report.map(|r| r.clone().unwrap_or_else(|| path.with_extension("html")));
    if let Some(page) = &page {
        write_file(page, html::html(card))?;
    }
    Ok(page)
}

pub(super) async fn handle_score(a: &ScoreArgs) -> Result<u8, Error> {
    if a.list_trials {
        print!("{}", text::trials());
        return Ok(0);
    }
    if !a.matrix.is_empty() {
        return matrix(
            &a.matrix,
            a.out.as_deref().unwrap_or(Path::new("truth.html")),
        );
    }
    let opts = options(a)?;
    if a.suite {
        return suite(a, opts).await;
    }
    let card = score::score(&opts).await?;
    let trial = opts.trial.as_deref().unwrap_or("custom");
    let path = a.out.clone().unwrap_or_else(|| {
        Path::new("results").join(format!("score-{}-{trial}-{}.json", opts.tool, stamp()))
    });
    let page = write(&card, &path, a.report.as_ref())?;
    print!("{}", text::render(&card));
    println!("scorecard: {}", path.display());
    if let Some(page) = page {
        println!("report: {}", page.display());
    }
    Ok(card.exit_code())
}

/// Every built-in trial with the tool's default command.
async fn suite(a: &ScoreArgs, opts: ScoreOptions) -> Result<u8, Error> {
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(format!("score-{}-{}", opts.tool, stamp())));
    let mut worst = 0;
    for t in trial::all() {
        let opts = ScoreOptions {
            trial: Some(t.name.to_owned()),
            ..opts.clone()
        };
        // A trial the tool cannot run (HTTP/2 for an HTTP/1.1-only tool)
        // or the target cannot serve (HTTPS on a plain --target) is said
        // and skipped, not failed.
        let remote_plain = opts
            .target
            .as_ref()
            .is_some_and(|u| !u.starts_with("https://"));
        let cannot = if t.wire.needs_tls() && remote_plain {
            Some("the --target is plain HTTP; this trial needs mock-api --tls".to_owned())
        } else if opts.command.is_empty() {
            trial::command_for(opts.tool, opts.tool.name(), t.rate.is_some(), t.wire).err()
        } else {
            None
        };
        if let Some(why) = cannot {
            println!("{:<7} SKIP  {why}", t.name);
            continue;
        }
        // One trial's tool failure is said on its line; the others still run.
        let card = match score::score(&opts).await {
            Ok(card) => card,
            Err(e) => {
                println!(
                    "{:<7} ERROR {}",
                    t.name,
                    e.to_string().lines().next().unwrap_or("")
                );
                eprintln!("harness: trial {}: {e}", t.name);
                worst = 2;
                continue;
            }
        };
        let path = dir.join(format!("{}.json", t.name));
        let report = a.report.as_ref().map(|_| Some(path.with_extension("html")));
        write(&card, &path, report.as_ref())?;
        println!("{}", text::suite_line(&card));
        worst = worst.max(card.exit_code());
    }
    println!("scorecards: {}", dir.display());
    Ok(worst)
}

/// The scorecards in `paths` (files, or folders searched for `*.json`),
/// each with its own page's path when it has one.
fn cards(paths: &[PathBuf]) -> Result<Vec<(PathBuf, Scorecard)>, Error> {
    super::json_files(paths, true)?
        .into_iter()
        .map(|f| {
            let text = crate::error::read_file(&f)?;
            let card: Scorecard = serde_json::from_str(&text).map_err(|e| Error::ToolOutput {
                file: f.display().to_string(),
                line: e.line(),
                message: format!("not a scorecard: {e}"),
            })?;
            Ok((f, card))
        })
        .collect()
}

/// `--matrix`: the tools × trials page of the scorecards.
fn matrix(paths: &[PathBuf], page: &Path) -> Result<u8, Error> {
    let cards = cards(paths)?;
    if cards.is_empty() {
        return Err(Error::Usage(format!(
            "--matrix: no scorecard (*.json) in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let base = page.parent().unwrap_or(Path::new(""));
    let cells: Vec<matrix_page::Cell> = cards
        .iter()
        .map(|(file, card)| {
            let own = file.with_extension("html");
            let link = own.exists().then(|| relative(&own, base));
            matrix_page::Cell { card, link }
        })
        .collect();
    write_file(page, matrix_page::html(&cells))?;
    let tools: std::collections::BTreeSet<_> = cards.iter().map(|(_, c)| c.tool).collect();
    println!(
        "matrix: {} scorecards, {} tools: {}",
        cards.len(),
        tools.len(),
        page.display()
    );
    Ok(0)
}

/// `path` relative to `base` when it lies under it, else as it is.
fn relative(path: &Path, base: &Path) -> String {
    let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let (p, b) = (
        abs(path),
        abs(if base.as_os_str().is_empty() {
            Path::new(".")
        } else {
            base
        }),
    );
    p.strip_prefix(&b)
        .map_or_else(|_| p.display().to_string(), |r| r.display().to_string())
}
