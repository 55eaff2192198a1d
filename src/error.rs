//! The crate's error type: bad input (exit code 2) versus everything else (exit code 1).

use std::path::PathBuf;

/// Result with the crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where in a scenario file something is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    /// 1-based line and column, when known.
    pub line_col: Option<(usize, usize)>,
    /// Dotted key path, e.g. `rail[swift-usd].hop_fee.flat_usd`, when known.
    pub key: Option<String>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, col)) = self.line_col {
            write!(f, ":{line}:{col}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": key `{key}`")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario (or a file it names) is malformed or inconsistent.
    #[error("{location}: {message}")]
    Scenario { location: Location, message: String },
    /// A command-line argument is invalid.
    #[error("{0}")]
    Usage(String),
    /// An invariant of the model was violated: a bug, never the user's fault.
    #[error("internal check failed: {0}")]
    Invariant(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
}

impl Error {
    /// The process exit code for this error: 2 for bad input, 1 for anything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Scenario { .. } | Error::Usage(_) => 2,
            _ => 1,
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
