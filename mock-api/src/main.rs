//! `mock-api`: parse flags, build the application, print the address, serve.

use std::io::Write;

use clap::Parser;
use mock_api::{telemetry, Application, Config};

/// mimalloc rather than the system allocator: the mission read allocates
/// small strings per row and a response buffer over 1 KiB, and glibc's
/// consolidation on such requests showed in profiles; side by side on the
/// mission read under wrk, mimalloc served about 10% more (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Log lines at `info` unless `RUST_LOG` says otherwise.
const LOG_FILTER: &str = "info,sqlx=warn";

fn main() -> std::process::ExitCode {
    let config = Config::parse();
    // Before the runtime: the OTLP exporter's client has a runtime of its
    // own, and it is flushed when dropped, after this one has stopped.
    let _exporting = match &config.otlp_endpoint {
        Some(url) => match telemetry::init_exporting(LOG_FILTER, url) {
            Ok(e) => Some(e),
            Err(e) => {
                eprintln!("mock-api: {e}");
                return std::process::ExitCode::from(2);
            }
        },
        None => {
            telemetry::init(LOG_FILTER);
            None
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mock-api: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(config))
}

async fn serve(config: Config) -> std::process::ExitCode {
    let app = match Application::build(&config).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("mock-api: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "listening on {}", app.base_url());
    if let Some(cert) = app.tls_cert() {
        let _ = writeln!(stdout, "certificate {}", cert.display());
    }
    if let Some(admin) = app.admin_addr() {
        let _ = writeln!(stdout, "admin listening on http://{admin}");
    }
    let _ = writeln!(stdout, "upstream listening on {}", app.upstream_url());
    for (name, addr) in app.link_addrs() {
        let _ = writeln!(stdout, "link {name} listening on {}://{addr}", app.scheme());
    }
    let _ = stdout.flush();
    match app.run_until_stopped().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-api: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
