//! `seed-data`: generate missions for a seed, as JSON Lines (to a file or
//! stdout) or straight into mock-api's SQLite database, and print their
//! shares with `--stats`. Streams: a million missions never sit in memory.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Parser;
use mock_api::store::{database_path, Store};
use seed_data::{write_jsonl, Generator, Stats};

/// Generate deterministic, realistic, skewed missions.
#[derive(Debug, Parser)]
#[command(name = "seed-data", version)]
struct Cli {
    /// How many missions (MISSION-0001 ..).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    missions: u32,

    /// Seed: the same seed gives byte-identical output.
    #[arg(long, default_value_t = 42)]
    seed: u64,

    /// Write JSON Lines to this file ("-" for stdout).
    #[arg(long, conflicts_with = "database")]
    out: Option<PathBuf>,

    /// Load into this mock-api database (sqlite://PATH); it must hold no missions yet.
    #[arg(long)]
    database: Option<String>,

    /// Print region and status shares and the waypoint spread (to stderr
    /// when writing JSON Lines to stdout).
    #[arg(long)]
    stats: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("seed-data: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    let missions = Generator::new(cli.seed, cli.missions);
    let mut stats = Stats::default();
    let stats_to_stderr;
    if let Some(url) = &cli.database {
        stats_to_stderr = false;
        load(url, missions, &mut stats)?;
    } else {
        let to_stdout = cli.out.as_deref().is_none_or(|p| p.as_os_str() == "-");
        if cli.stats && cli.out.is_none() {
            // Only the statistics were asked for.
            stats_to_stderr = false;
            missions.for_each(|m| stats.add(&m));
        } else {
            stats_to_stderr = to_stdout;
            let (mut sink, name): (Box<dyn Write>, String) = match &cli.out {
                Some(path) if !to_stdout => (
                    Box::new(
                        File::create(path)
                            .with_context(|| format!("cannot create {}", path.display()))?,
                    ),
                    path.display().to_string(),
                ),
                _ => (Box::new(std::io::stdout().lock()), "stdout".to_owned()),
            };
            let mut out = BufWriter::with_capacity(1 << 16, &mut sink);
            write_jsonl(&mut out, missions, |m| stats.add(m))
                .and_then(|_| out.flush())
                .with_context(|| format!("cannot write to {name}"))?;
        }
    }
    if cli.stats {
        if stats_to_stderr {
            eprint!("{stats}");
        } else {
            print!("{stats}");
        }
    }
    Ok(())
}

fn load(url: &str, missions: Generator, stats: &mut Stats) -> anyhow::Result<()> {
    let path = database_path(url).with_context(|| format!("--database {url}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let store = Store::open(&path, 1)
            .await
            .with_context(|| format!("cannot open {}", path.display()))?;
        let existing = store.mission_count().await?;
        if existing > 0 {
            store.close().await;
            bail!(
                "{} already holds {existing} missions; start from an empty file (or run mock-api --reset)",
                path.display()
            );
        }
        let total = missions.len() as u64;
        let missions = missions.inspect(|m| stats.add(m));
        let n = store
            .load(missions, |done| {
                if total >= 100_000 && done % 100_000 < 2_000 {
                    eprintln!("seed-data: {done}/{total} missions loaded");
                }
            })
            .await
            .with_context(|| format!("cannot load into {}", path.display()))?;
        store.close().await;
        eprintln!("seed-data: loaded {n} missions into {}", path.display());
        Ok(())
    })
}
