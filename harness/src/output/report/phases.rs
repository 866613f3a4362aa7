//! The report's "where the time went" section. In: a record's
//! `connections` section. Out: how the run connected, and one stacked bar
//! per task of its mean time per phase (DNS, connect, TLS, waiting,
//! receiving), with the figures in a table beside it.

use std::fmt::Write as _;

use super::{esc, fmt_num, table};
use crate::load::phases::PHASE_NAMES;
use crate::record::RunRecord;

const COLOURS: [&str; 5] = ["#9467bd", "#ff7f0e", "#d62728", "#1f77b4", "#2ca02c"];

/// Appends the section; nothing for a record without `connections`.
pub(super) fn section(body: &mut String, r: &RunRecord) {
    let Some(c) = &r.connections else {
        return;
    };
    body.push_str("<h2>Connections and where the time went</h2>");
    let _ = write!(
        body,
        "<p class=\"meta\">{} over {}: {} connections opened, TLS handshakes {} full and {} resumed{}</p>",
        if c.tls { "HTTPS" } else { "plain HTTP" },
        c.protocol.name(),
        c.opened,
        c.tls_full,
        c.tls_resumed,
        if c.insecure {
            " &middot; <span class=\"fail\">--insecure: certificates NOT checked</span>"
        } else {
            ""
        }
    );
    let tasks: Vec<(String, [f64; 5])> = r
        .task_names()
        .into_iter()
        .filter_map(|t| c.means(&t).map(|m| (t, m)))
        .collect();
    if tasks.is_empty() {
        return;
    }
    let widest = tasks
        .iter()
        .map(|(_, m)| m.iter().sum::<f64>())
        .fold(0.0, f64::max)
        .max(1e-9);
    let (label_w, bar_w, row_h) = (180.0, 600.0, 22.0);
    let height = row_h * tasks.len() as f64 + 30.0;
    let _ = write!(
        body,
        "<svg width=\"{}\" height=\"{height}\" role=\"img\" aria-label=\"mean time per phase, each task\">",
        label_w + bar_w + 20.0
    );
    for (i, (task, means)) in tasks.iter().enumerate() {
        let y = i as f64 * row_h;
        let _ = write!(
            body,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text>",
            y + 15.0,
            esc(task)
        );
        let mut x = label_w;
        for (k, m) in means.iter().enumerate() {
            let w = m / widest * bar_w;
            if w > 0.0 {
                let _ = write!(
                    body,
                    "<rect x=\"{x:.1}\" y=\"{}\" width=\"{w:.1}\" height=\"16\" fill=\"{}\"><title>{} {} ms</title></rect>",
                    y + 3.0,
                    COLOURS[k],
                    PHASE_NAMES[k],
                    fmt_num(*m)
                );
            }
            x += w;
        }
    }
    let y = row_h * tasks.len() as f64 + 18.0;
    for (k, name) in PHASE_NAMES.iter().enumerate() {
        let x = label_w + k as f64 * 100.0;
        let _ = write!(
            body,
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{y}\" font-size=\"12\">{name}</text>",
            y - 9.0,
            COLOURS[k],
            x + 14.0
        );
    }
    body.push_str("</svg>");
    let head = [
        "task",
        "dns ms",
        "connect ms",
        "tls ms",
        "waiting ms",
        "receiving ms",
    ];
    let rows = tasks
        .into_iter()
        .map(|(t, m)| {
            std::iter::once(t)
                .chain(m.iter().map(|v| fmt_num(*v)))
                .collect()
        })
        .collect();
    body.push_str(&table(&head, rows));
    body.push_str("<p class=\"meta\">Means over every answered request of the run; a request on a reused connection adds 0 to dns, connect and tls.</p>");
}
