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
    /// Something outside the input went wrong (a full disk, a folder that cannot be created).
    #[error("{0}")]
    Fault(String),
    /// A run asked for more work or memory than kervan's stated budget allows.
    #[error("{0}")]
    Budget(String),
    /// The output folder is held by another run.
    #[error("{0}")]
    Busy(String),
    /// The run was stopped by a signal (Ctrl-C, SIGTERM); `code` is the exit code to use.
    #[error("{message}")]
    Interrupted { message: String, code: i32 },
    /// A run failed after its output folder was prepared: says that nothing was written.
    #[error("{source}\nnothing was written to {}: {}", out.display(), if *created { "it was not created" } else { "what was there before is unchanged" })]
    NotWritten {
        out: PathBuf,
        created: bool,
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    /// The process exit code for this error: 2 for bad input, 1 for anything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Scenario { .. } | Error::Usage(_) | Error::Budget(_) => 2,
            Error::Interrupted { code, .. } => *code,
            Error::NotWritten { source, .. } => source.exit_code(),
            _ => 1,
        }
    }

    /// A CSV writer's error while writing `path`.
    pub fn csv(path: impl Into<PathBuf>, e: csv::Error) -> Self {
        let path = path.into();
        match e.into_kind() {
            csv::ErrorKind::Io(source) => Error::Io { path, source },
            other => Error::Invariant(format!("{}: CSV: {other:?}", path.display())),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
