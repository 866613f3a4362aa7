//! Tools × trials on one page. In: scorecards, each with the path of its
//! own page (for a link). Out: a self-contained HTML table, one row per
//! tool and one column per trial, each cell the card's verdict and its
//! worst signed error (the judged figure furthest from its reference,
//! measured in its own tolerance), linking to the card's page.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::scorecard::{badge, EXTRA};
use super::{esc, fmt_num, STYLE};
use crate::score::card::Scorecard;
use crate::score::trial;

/// A card and the page it links to (relative to the matrix page).
pub struct Cell<'a> {
    pub card: &'a Scorecard,
    pub link: Option<String>,
}

/// The judged figure furthest outside (or nearest the edge of) its
/// tolerance, as `name +error`; `None` when nothing was judged.
pub fn worst(c: &Scorecard) -> Option<(String, bool)> {
    let mut best: Option<(f64, String, bool)> = None;
    let mut consider = |ratio: f64, text: String, within: bool| {
        if best.as_ref().is_none_or(|b| ratio > b.0) {
            best = Some((ratio, text, within));
        }
    };
    for l in &c.counts {
        if let (Some(d), Some(w)) = (l.difference, l.within) {
            consider(
                d.unsigned_abs() as f64 / (l.allowance.max(1)) as f64,
                format!("{} {d:+}", l.name),
                w,
            );
        }
    }
    for l in &c.percentiles {
        if let (Some(e), Some(w)) = (l.error_ms, l.within) {
            let reference = l.expected_ms.unwrap_or(l.server_ms);
            let margin = c.tolerance.margin(reference).max(f64::MIN_POSITIVE);
            let sign = if e >= 0.0 { "+" } else { "" };
            consider(
                e.abs() / margin,
                format!("{} {sign}{} ms", l.name, fmt_num(e)),
                w,
            );
        }
    }
    best.map(|(_, text, within)| (text, within))
}

/// The page.
pub fn html(cells: &[Cell]) -> String {
    // Trials in the built-in order, then any other (custom) by name.
    let mut trials: Vec<String> = trial::all().iter().map(|t| t.name.to_owned()).collect();
    for c in cells {
        let name = c.card.trial.clone().unwrap_or_else(|| "custom".into());
        if !trials.contains(&name) {
            trials.push(name);
        }
    }
    trials.retain(|t| {
        cells
            .iter()
            .any(|c| c.card.trial.as_deref().unwrap_or("custom") == t)
    });
    let mut rows: BTreeMap<String, BTreeMap<String, &Cell>> = BTreeMap::new();
    for c in cells {
        let trial = c.card.trial.clone().unwrap_or_else(|| "custom".into());
        rows.entry(c.card.tool.name().to_owned())
            .or_default()
            .insert(trial, c);
    }
    let mut body = String::from("<h1>Load tools against the known target</h1><p class=\"meta\">Each cell: the tool's verdict on the trial and its worst figure (the judged count or percentile furthest from the server's truth, in its own tolerance). Click a cell for its scorecard.</p><table class=\"matrix\"><tr><th>tool</th>");
    for t in &trials {
        let _ = write!(body, "<th>{}</th>", esc(t));
    }
    body.push_str("</tr>");
    for (tool, by_trial) in &rows {
        let _ = write!(body, "<tr><td>{}</td>", esc(tool));
        for t in &trials {
            let Some(cell) = by_trial.get(t) else {
                body.push_str("<td class=\"shown\">not run</td>");
                continue;
            };
            let worst = worst(cell.card).map_or_else(
                || "nothing judged".to_owned(),
                |(text, within)| {
                    let class = if within { "" } else { " class=\"offtext\"" };
                    format!("<span{class}>{}</span>", esc(&text))
                },
            );
            let inner = format!("{}<br>{worst}", badge(cell.card.verdict));
            match &cell.link {
                Some(href) => {
                    let _ = write!(body, "<td><a href=\"{}\">{inner}</a></td>", esc(href));
                }
                None => {
                    let _ = write!(body, "<td>{inner}</td>");
                }
            }
        }
        body.push_str("</tr>");
    }
    body.push_str("</table>");
    let mut days: Vec<&str> = Vec::new();
    for c in cells {
        let v = c.card.started_at.get(..10).unwrap_or("");
        if !days.contains(&v) {
            days.push(v);
        }
    }
    let _ = write!(
        body,
        "<p class=\"meta\">{} scorecards, run on {}.</p>",
        cells.len(),
        esc(&days.join(", "))
    );
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Load tools against the known target</title><style>{STYLE}{EXTRA}{MATRIX}</style></head><body>{body}<footer>harness {}</footer></body></html>\n",
        env!("CARGO_PKG_VERSION")
    )
}

const MATRIX: &str = "table.matrix th,table.matrix td{text-align:center;min-width:120px}table.matrix td:first-child{text-align:left;font-weight:bold}table.matrix a{color:inherit;text-decoration:none;display:block}.offtext{color:#b00}";
