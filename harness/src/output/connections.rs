//! The summary's connection lines. In: a record's `connections` section.
//! Out: how the run connected (protocol, TLS, handshakes, resumption),
//! `--insecure` said loudly, and one line per task saying where its time
//! went (mean ms per phase).

use std::io::{self, Write};

use crate::load::phases::PHASE_NAMES;
use crate::record::RunRecord;

pub fn write_connections(out: &mut dyn Write, r: &RunRecord) -> io::Result<()> {
    let Some(c) = &r.connections else {
        return Ok(());
    };
    let scheme = if c.tls { "HTTPS" } else { "plain HTTP" };
    let tls = if c.tls {
        format!(
            " (TLS handshakes: {} full, {} resumed; resumption {})",
            c.tls_full,
            c.tls_resumed,
            if c.tls_resumption { "on" } else { "off" }
        )
    } else {
        String::new()
    };
    let reuse: Vec<String> = c
        .reuse
        .iter()
        .map(|(class, how)| format!("{class} {how}"))
        .collect();
    writeln!(
        out,
        "\nconnections: {scheme} over {}, {} opened{tls}; reuse: {}",
        c.protocol.name(),
        c.opened,
        reuse.join(", ")
    )?;
    if c.insecure {
        writeln!(
            out,
            "WARNING: --insecure: the target's TLS certificate was NOT checked"
        )?;
    }
    if c.phases.is_empty() {
        return Ok(());
    }
    let w = c.phases.keys().map(|k| k.len()).max().unwrap_or(4).max(4);
    writeln!(
        out,
        "where the time went (mean ms): {:<w$}  {}",
        "task",
        PHASE_NAMES.map(|p| format!("{p:>9}")).join(" "),
        w = w
    )?;
    for task in r.task_names() {
        if let Some(means) = c.means(&task) {
            writeln!(
                out,
                "                               {task:<w$}  {}",
                means.map(|m| format!("{m:>9.3}")).join(" ")
            )?;
        }
    }
    Ok(())
}
