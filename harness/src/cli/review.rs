//! `harness review` and `harness scenarios`: a scenario against the seed
//! document's checklist (exit 0 no fail, 1 a fail, 2 bad input), and the
//! built-in scenarios listed or shown.

use super::Format;
use crate::error::Error;
use crate::output;
use crate::scenario::ScenarioRef;

#[derive(Debug, clap::Args)]
pub struct ReviewArgs {
    /// A scenario file, or a built-in scenario's name (see `harness scenarios`).
    pub scenario: ScenarioRef,
    /// Also read what the target says about itself (data volume, behaviour, API).
    #[arg(long)]
    pub target: Option<String>,
    /// Trust this certificate (PEM) of an https:// --target.
    #[arg(long, value_name = "FILE", requires = "target")]
    pub ca_cert: Option<std::path::PathBuf>,
    /// Trust any certificate of an https:// --target (never the default).
    #[arg(long, requires = "target")]
    pub insecure: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct ScenariosArgs {
    /// Print this built-in scenario's TOML (to copy and adapt).
    #[arg(long, value_name = "NAME")]
    pub show: Option<String>,
}

pub(super) async fn handle_review(a: &ReviewArgs) -> Result<u8, Error> {
    let tls = crate::load::tls::TlsOptions {
        ca_cert: a.ca_cert.clone(),
        insecure: a.insecure,
        ..Default::default()
    };
    let r = crate::review::review(&a.scenario, a.target.as_deref(), &tls).await?;
    let _ = output::review::print_review(&mut std::io::stdout().lock(), &r, a.format);
    Ok(r.exit_code())
}

pub(super) fn handle_scenarios(a: &ScenariosArgs) -> Result<u8, Error> {
    let Some(name) = &a.show else {
        let _ = output::review::print_scenarios(&mut std::io::stdout().lock());
        return Ok(0);
    };
    let names: Vec<&str> = crate::scenario::BUILTINS.iter().map(|b| b.0).collect();
    match crate::scenario::builtin(name) {
        Some((_, _, text)) => {
            use std::io::Write as _;
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            Ok(0)
        }
        None => Err(Error::Usage(format!(
            "--show {name:?}: no such built-in scenario; built-in: {}",
            names.join(", ")
        ))),
    }
}
