//! The harness's one error type. Every variant is exit code 2 (usage,
//! scenario, target or input); an SLO that fails is not an error but a
//! verdict (exit 1). Variants keep their cause as a `source`, and their
//! message names the flag, file or line at fault.

use std::fmt;
use std::path::{Path, PathBuf};

/// A scenario file that does not validate: where, which field, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub field: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.field, self.message
        )
    }
}

impl std::error::Error for ScenarioError {}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad flag or argument.
    #[error("{0}")]
    Usage(String),
    /// The scenario file is invalid.
    #[error("invalid scenario {0}")]
    Scenario(#[from] Box<ScenarioError>),
    /// The scenario file cannot be read.
    #[error("cannot read scenario {}: {source}", path.display())]
    ScenarioFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Nothing answers at the target when the run starts.
    #[error("cannot reach target {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: std::io::Error,
    },
    /// The in-process target of `demo` did not start.
    #[cfg(feature = "demo")]
    #[error("cannot start the demo mock-api: {0}")]
    Demo(#[source] mock_api::Error),
    /// A file or folder cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file cannot be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A folder cannot be created.
    #[error("cannot create {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A record file is not JSON.
    #[error("{}: not JSON: {source}", path.display())]
    NotJson {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A JSON file without a `schema_version`.
    #[error("{}: not a run record (no schema_version)", path.display())]
    NotARecord { path: PathBuf },
    /// A record of a version this harness does not read.
    #[error("{}: schema_version {found} is not supported (this harness reads 1 to {supported})", path.display())]
    SchemaVersion {
        path: PathBuf,
        found: u64,
        supported: u32,
    },
    /// A record whose fields do not match the schema.
    #[error("{}: {source}", path.display())]
    BadRecord {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A tool under score could not start, failed or hung.
    #[error("{command}: {why}")]
    ToolFailed { command: String, why: String },
    /// Another tool's output that does not parse: the file (or stream) and
    /// line at fault (0: the whole of it).
    #[error("{file}:{line}: {message}")]
    ToolOutput {
        file: String,
        line: usize,
        message: String,
    },
    /// Input that does not parse (a history line, ...), said in words with
    /// its file and line.
    #[error("{0}")]
    Input(String),
}

impl From<ScenarioError> for Error {
    fn from(e: ScenarioError) -> Self {
        Error::Scenario(Box::new(e))
    }
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        2
    }
}

/// Reads a text file.
pub fn read_file(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })
}

/// Writes a file, creating its folder.
pub fn write_file(path: &Path, contents: impl AsRef<[u8]>) -> Result<(), Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::CreateDir {
            path: dir.to_owned(),
            source,
        })?;
    }
    std::fs::write(path, contents).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })
}
