//! The harness's one error type. Each variant says its exit code: 2 for
//! usage, scenario and target errors (an SLO failure is not an error: it is
//! a verdict, exit 1).

use std::fmt;

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

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Exit 2: a bad flag or argument.
    #[error("{0}")]
    Usage(String),
    /// Exit 2: the scenario file is invalid.
    #[error("invalid scenario {0}")]
    Scenario(ScenarioError),
    /// Exit 2: the target cannot be reached at start.
    #[error("{0}")]
    Target(String),
    /// Exit 2: a record or input file cannot be read or written.
    #[error("{0}")]
    Io(String),
    /// Exit 2: a record or input file does not parse.
    #[error("{0}")]
    Input(String),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        2
    }
}
