//! `harness`: parse flags, run the command, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use harness::cli::{dispatch, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("harness: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("harness: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
