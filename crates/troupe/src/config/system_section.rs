//! The `system` table of a group's section: what troupe applies itself.

use std::str::FromStr;
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::Deserialize;

use super::error::{ConfigProblem, ProblemKind};
use crate::core::config::ActorConfig;
use crate::core::mailbox::OverflowPolicy;
use crate::core::restart::RestartType;
use crate::functional::{GroupRuntime, RestartPolicy, Schema};

/// The `system` table of a group's section. Every key is optional; a key
/// left out keeps the group's definition (its `ActorGroup` settings).
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct SystemSection {
    /// Mailbox capacity of the group's actors (at least 1).
    mailbox_capacity: Option<usize>,
    /// `wait`, `fail_fast`, `drop_newest` or `drop_oldest`.
    overflow: Option<Overflow>,
    /// `never`, `on_failure` or `always` (see `RestartPolicy`).
    restart: Option<Restart>,
    /// The restart budget: at most this many restarts...
    max_restarts: Option<usize>,
    /// ...within this window (`"60s"`, `"500ms"`, `"2m"`, `"1h"`).
    restart_window: Option<Span>,
    /// The backoff between restarts: from this...
    backoff_min: Option<Span>,
    /// ...doubling up to this.
    backoff_max: Option<Span>,
    /// `trace`, `debug`, `info`, `warn` or `error`.
    log_level: Option<Level>,
    /// Whether the group's metrics are on.
    metrics: Option<bool>,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Overflow {
    Wait,
    FailFast,
    DropNewest,
    DropOldest,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Restart {
    Never,
    OnFailure,
    Always,
}

/// A duration written as a number and a unit: `ms`, `s`, `m` or `h`.
#[derive(Clone, Copy, Debug)]
struct Span(Duration);

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_span(&text).map(Span).ok_or_else(|| {
            de::Error::custom(format!(
                "invalid duration {text:?}: expected a number and a unit (ms, s, m, h), as \"10s\""
            ))
        })
    }
}

fn parse_span(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    match unit.trim() {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => n.checked_mul(60).map(Duration::from_secs),
        "h" => n.checked_mul(3600).map(Duration::from_secs),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug)]
struct Level(tracing::Level);

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        tracing::Level::from_str(&text).map(Level).map_err(|_| {
            de::Error::custom(format!(
                "invalid log level {text:?}: expected trace, debug, info, warn or error"
            ))
        })
    }
}

impl SystemSection {
    /// Decodes the `system` table of `group`'s section, reporting every
    /// unknown key and the first value that does not decode, then the
    /// values out of range.
    pub(crate) fn decode(group: &str, value: toml::Value) -> Result<Self, Vec<ConfigProblem>> {
        let problem = |key: String, kind| ConfigProblem {
            group: group.to_owned(),
            key,
            kind,
        };
        let mut unknown = Vec::new();
        let mut note = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
        let ignoring = serde_ignored::Deserializer::new(value, &mut note);
        let decoded: Result<Self, _> = serde_path_to_error::deserialize(ignoring);
        let mut problems: Vec<ConfigProblem> = unknown
            .into_iter()
            .map(|path| problem(format!("system.{path}"), ProblemKind::UnknownKey))
            .collect();
        match decoded {
            Err(e) => {
                let path = e.path().to_string();
                let key = if path == "." {
                    "system".to_owned()
                } else {
                    format!("system.{path}")
                };
                problems.push(problem(
                    key,
                    ProblemKind::Invalid(first_line(e.into_inner().to_string())),
                ));
            }
            Ok(section) => {
                if section.mailbox_capacity == Some(0) {
                    problems.push(problem(
                        "system.mailbox_capacity".into(),
                        ProblemKind::Invalid("must be at least 1".into()),
                    ));
                }
                if let (Some(min), Some(max)) = (section.backoff_min, section.backoff_max) {
                    if min.0 > max.0 {
                        problems.push(problem(
                            "system.backoff_min".into(),
                            ProblemKind::Invalid("must not exceed system.backoff_max".into()),
                        ));
                    }
                }
                if problems.is_empty() {
                    return Ok(section);
                }
            }
        }
        Err(problems)
    }

    /// The mailbox and request settings of the group's actors: the
    /// definition's, with this section's changes.
    fn actor_config(&self, base: ActorConfig) -> ActorConfig {
        let mut config = base;
        if let Some(capacity) = self.mailbox_capacity {
            config = config.with_mailbox_capacity(capacity);
        }
        if let Some(overflow) = self.overflow {
            config = config.with_overflow(match overflow {
                Overflow::Wait => OverflowPolicy::Wait,
                Overflow::FailFast => OverflowPolicy::FailFast,
                Overflow::DropNewest => OverflowPolicy::DropNewest,
                Overflow::DropOldest => OverflowPolicy::DropOldest,
            });
        }
        config
    }

    /// The group's restart policy: the definition's, with this section's
    /// changes.
    fn restart_policy(&self, base: RestartPolicy) -> RestartPolicy {
        let mut policy = base;
        if let Some(restart) = self.restart {
            policy = policy.with_restart_type(match restart {
                Restart::Never => RestartType::Temporary,
                Restart::OnFailure => RestartType::Transient,
                Restart::Always => RestartType::Permanent,
            });
        }
        let (max, within) = policy.budget();
        if self.max_restarts.is_some() || self.restart_window.is_some() {
            policy = policy.with_budget(
                self.max_restarts.unwrap_or(max),
                self.restart_window.map_or(within, |s| s.0),
            );
        }
        if self.backoff_min.is_some() || self.backoff_max.is_some() {
            let min = self
                .backoff_min
                .map_or(crate::defaults::GROUP_BACKOFF_MIN, |s| s.0);
            let max = self
                .backoff_max
                .map_or(crate::defaults::GROUP_BACKOFF_MAX.max(min), |s| s.0);
            policy = policy.with_backoff(min, max);
        }
        policy
    }

    /// Applies the section to a mounted group (the second phase of a
    /// load): the settings of actors started from now on, the capacity and
    /// policy of the live mailboxes, the restart policy, the log level and
    /// the metrics switch. Keys left out return to the definition's.
    pub(crate) fn apply(&self, group: &GroupRuntime) {
        let schema: &Schema = group.schema();
        let base = schema
            .config
            .clone()
            .unwrap_or_else(|| group.system.default_actor_config().clone());
        group.set_actor_config(self.actor_config(base));
        group.set_restart_policy(self.restart_policy(schema.restart));
        group.set_observability(self.log_level.map(|l| l.0), self.metrics);
    }
}

/// The first line of a decoder's message (the key path is given apart).
fn first_line(message: String) -> String {
    match message.split_once('\n') {
        Some((first, _)) => first.trim_end().to_owned(),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_span;
    use std::time::Duration;

    #[test]
    fn durations_have_a_unit() {
        assert_eq!(parse_span("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_span("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_span("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_span("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_span("10"), None);
        assert_eq!(parse_span("s"), None);
        assert_eq!(parse_span("3 days"), None);
    }
}
