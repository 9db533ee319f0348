//! What is wrong with a configuration: [`ConfigError`], listing every
//! [`ConfigProblem`] with its group and key path.

use std::fmt;

/// Why a configuration was refused. A refused configuration changes
/// nothing: at start the system does not start, at a reload every group
/// keeps the configuration it had.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The text is not valid TOML.
    #[error("the configuration {origin} is not valid TOML: {message}")]
    Syntax {
        /// The file, or `<text>`.
        origin: String,
        /// The parser's message, with the line and column.
        message: String,
    },
    /// The TOML is valid but its content is not: every problem found, in
    /// file order by group.
    #[error("the configuration has {} problem(s):{}", .0.len(), Listed(.0))]
    Invalid(Vec<ConfigProblem>),
    /// SIGHUP cannot be listened for (see `reload_on_sighup`).
    #[error("cannot listen for SIGHUP: {0}")]
    Signal(String),
}

impl ConfigError {
    /// The problems of an [`ConfigError::Invalid`] configuration (none for
    /// the other errors).
    pub fn problems(&self) -> &[ConfigProblem] {
        match self {
            ConfigError::Invalid(problems) => problems,
            _ => &[],
        }
    }
}

struct Listed<'a>(&'a [ConfigProblem]);

impl fmt::Display for Listed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in self.0 {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

/// One problem of a configuration: where (the group's section and the key
/// path in it) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The group (the top-level section).
    pub group: String,
    /// The dotted key path in the group's section (`system.mailbox_capacity`,
    /// `limits.max`); empty for the section itself.
    pub key: String,
    /// What is wrong.
    pub kind: ProblemKind,
}

/// What is wrong at a key.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// A section for a group the system does not have.
    UnknownGroup,
    /// A key the group's config type (or the `system` section) does not
    /// have: reported, not silently ignored.
    UnknownKey,
    /// A value that does not decode: wrong type, missing key, bad value.
    Invalid(String),
    /// The group's own check refused its decoded config.
    Rejected(String),
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.group)?;
        if !self.key.is_empty() {
            write!(f, " {}", self.key)?;
        }
        match &self.kind {
            ProblemKind::UnknownGroup => write!(f, ": no such group"),
            ProblemKind::UnknownKey => write!(f, ": unknown key"),
            ProblemKind::Invalid(message) => write!(f, ": {message}"),
            ProblemKind::Rejected(reason) => write!(f, ": refused by the group: {reason}"),
        }
    }
}
