//! Live progress: a redrawn line on a terminal, a plain line every few
//! seconds otherwise, nothing when quiet. Reads the collector's [`Live`]
//! view; measures nothing.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinHandle;

use crate::load::collector::Live;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Tty,
    Plain,
    Quiet,
}

impl Mode {
    pub fn detect(quiet: bool) -> Self {
        if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Tty
        } else {
            Mode::Plain
        }
    }
}

fn line(live: &Live, stages: &[String], total: Duration) -> String {
    format!(
        "[{:>4}s/{:>4}s] stage {} ({}/{}) | users {:>5} | {:>7.1} req/s | p95 {:>8.2} ms | requests {} | errors {}",
        live.elapsed.as_secs(),
        total.as_secs(),
        stages.get(live.stage).map(String::as_str).unwrap_or("-"),
        live.stage + 1,
        stages.len(),
        live.users,
        live.rps,
        live.p95_ms,
        live.requests,
        live.errors
    )
}

/// The line a run starts with, unless quiet (on stderr, like progress).
pub fn announce(mode: Mode, line: std::fmt::Arguments<'_>) {
    if mode != Mode::Quiet {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

/// A running progress display; [`Progress::stop`] ends it and clears the line.
#[derive(Debug)]
pub struct Progress {
    task: Option<JoinHandle<()>>,
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn stop(self) {
        if let Some(t) = self.task {
            t.abort();
        }
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}

/// Starts showing progress.
pub fn spawn(mode: Mode, live: Arc<Mutex<Live>>, stages: Vec<String>, total: Duration) -> Progress {
    match mode {
        Mode::Quiet => Progress {
            task: None,
            bar: None,
        },
        Mode::Tty => {
            let bar = ProgressBar::with_draw_target(
                Some(total.as_secs().max(1)),
                ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                ProgressStyle::with_template("{bar:20.cyan/blue} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let b = bar.clone();
            let task = tokio::spawn(async move {
                loop {
                    let snapshot = live.lock().map(|l| l.clone()).unwrap_or_default();
                    b.set_position(snapshot.elapsed.as_secs());
                    b.set_message(line(&snapshot, &stages, total));
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            });
            Progress {
                task: Some(task),
                bar: Some(bar),
            }
        }
        Mode::Plain => {
            let task = tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(5));
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let snapshot = live.lock().map(|l| l.clone()).unwrap_or_default();
                    let mut err = std::io::stderr().lock();
                    let _ = writeln!(err, "{}", line(&snapshot, &stages, total));
                }
            });
            Progress {
                task: Some(task),
                bar: None,
            }
        }
    }
}
