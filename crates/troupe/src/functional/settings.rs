//! A group's own configuration type (feature `config`): how its section of
//! a configuration file is decoded and checked, type-erased so that a
//! [`Schema`](super::Schema) can carry it.

use std::any::Any;
use std::sync::Arc;

use serde::de::DeserializeOwned;

/// A problem found in a group's own section: the key path (dotted, empty
/// for the section itself) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) path: String,
    pub(crate) kind: ProblemKind,
}

/// What is wrong at a key path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ProblemKind {
    /// The config type has no such key.
    Unknown,
    /// The value does not decode (wrong type, missing key, bad value).
    Invalid(String),
    /// The group's own check refused the decoded config.
    Rejected(String),
}

/// A decoded and checked config, ready to be installed.
pub(crate) type Decoded = Arc<dyn Any + Send + Sync>;

/// Decodes a group's section (without its `system` table).
pub(crate) type DecodeFn = Arc<dyn Fn(toml::Value) -> Result<Decoded, Vec<Problem>> + Send + Sync>;

/// Decodes `value` as a `C`, reporting every key `C` does not know and
/// the first value that does not decode, with their key paths; then runs
/// the group's own `check`.
pub(crate) fn decoder<C, F>(check: F) -> DecodeFn
where
    C: DeserializeOwned + Send + Sync + 'static,
    F: Fn(&C) -> Result<(), String> + Send + Sync + 'static,
{
    Arc::new(move |value: toml::Value| {
        let mut problems = Vec::new();
        let mut unknown = Vec::new();
        let mut note = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
        let ignoring = serde_ignored::Deserializer::new(value, &mut note);
        let decoded: Result<C, _> = serde_path_to_error::deserialize(ignoring);
        problems.extend(unknown.into_iter().map(|path| Problem {
            path,
            kind: ProblemKind::Unknown,
        }));
        match decoded {
            Err(e) => {
                let path = e.path().to_string();
                problems.push(Problem {
                    path: if path == "." { String::new() } else { path },
                    kind: ProblemKind::Invalid(first_line(e.into_inner().to_string())),
                });
            }
            Ok(config) => {
                if problems.is_empty() {
                    return match check(&config) {
                        Ok(()) => Ok(Arc::new(config) as Decoded),
                        Err(reason) => Err(vec![Problem {
                            path: String::new(),
                            kind: ProblemKind::Rejected(reason),
                        }]),
                    };
                }
            }
        }
        Err(problems)
    })
}

/// The first line of a decoder's message (the key path is given apart).
fn first_line(message: String) -> String {
    match message.split_once('\n') {
        Some((first, _)) => first.trim_end().to_owned(),
        None => message,
    }
}
