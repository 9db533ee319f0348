//! Configuration per group from a TOML file (feature `config`), validated
//! at start and reloaded at run time in two phases. Modelled on elfo's
//! configurer.
//!
//! The file has one section per group. A group declares its own config
//! type with [`ActorGroup::config_type`](crate::ActorGroup::config_type)
//! (any `serde::Deserialize` type), and its actors read it with
//! [`Context::config`](crate::Context::config). The `system` table of a
//! section is for troupe itself:
//!
//! ```toml
//! [counters]
//! step = 2                  # the group's own keys
//!
//! [counters.system]         # troupe's keys, all optional
//! mailbox_capacity = 128    # at least 1
//! overflow = "wait"         # wait | fail_fast | drop_newest | drop_oldest
//! restart = "on_failure"    # never | on_failure | always
//! max_restarts = 20         # the restart budget:
//! restart_window = "60s"    #   at most 20 restarts in 60 s
//! backoff_min = "10ms"      # backoff between restarts,
//! backoff_max = "10s"       #   doubling from min to max
//! log_level = "info"        # trace | debug | info | warn | error
//! metrics = true
//! ```
//!
//! - **Validated, every error at once.** A section for a group the system
//!   does not have, a key a group's type (or the `system` table) does not
//!   have, a value of the wrong type: each is a [`ConfigProblem`] with its
//!   group and key path, all of them in one [`ConfigError::Invalid`]
//!   (within one group's type, serde stops at its first wrong value; every
//!   unknown key is listed). A group with no config type may have only a
//!   `system` table. [`check`] checks a file without starting anything;
//!   [`check_with`] checks it against a topology's groups.
//! - **At start**: a topology given a file ([`Topology::configure`]) starts
//!   only if the file is valid for every group
//!   ([`InitError::Config`](crate::init::InitError::Config)).
//! - **Reloaded in two phases** ([`reload`], [`reload_file`], and
//!   [`reload_on_sighup`]): first every group validates its new section;
//!   if any refuses, nothing changes anywhere. Then every group takes its
//!   new section: its actors see the new config at their next
//!   `ctx.config()`, the live mailboxes take the new capacity and overflow
//!   policy at once, actors started from then on get the new settings.
//!
//! What each `system` key changes, and when:
//!
//! | key | takes effect |
//! | --- | --- |
//! | `mailbox_capacity`, `overflow` | at once, in every live mailbox of the group (nothing queued is dropped; a smaller mailbox takes no new message until drained below it), and for actors started later |
//! | `restart` | for actors started from then on |
//! | `max_restarts`, `restart_window`, `backoff_*` | when the group's supervisor (re)starts: at start, or after a restart of the group by its parent |
//! | `log_level` | read by [`Context::log_level`](crate::Context::log_level), for the program's `tracing` filter (troupe installs no subscriber) |
//! | `metrics` | read by [`Context::metrics_enabled`](crate::Context::metrics_enabled); troupe's own metrics are not switched per group yet |
//!
//! A key left out of a reloaded file returns to the group's definition.
//!
//! ```
//! use troupe::prelude::*;
//! use troupe::config::{self, ConfigFile, ProblemKind};
//!
//! // No `deny_unknown_fields` needed: unknown keys are reported anyway,
//! // and all of them (serde's attribute would stop at the first).
//! #[derive(serde::Deserialize)]
//! struct CounterConfig { step: u32 }
//!
//! let topology = Topology::empty();
//! topology.local("counters").mount(
//!     ActorGroup::new().config_type::<CounterConfig>().exec(|mut ctx| async move {
//!         while ctx.recv().await.is_some() {}
//!     }),
//! );
//! let file = ConfigFile::parse("[counters]\nstep = \"two\"\nspeed = 3\n").unwrap();
//! let err = config::check_with(&file, &topology).unwrap_err();
//! assert_eq!(err.problems().len(), 2);
//! assert!(err.problems().iter().any(|p| p.key == "speed" && p.kind == ProblemKind::UnknownKey));
//! ```

mod error;
#[cfg(unix)]
mod sighup;
mod system_section;

use std::path::Path;
use std::sync::Arc;

pub use error::{ConfigError, ConfigProblem, ProblemKind};
#[cfg(unix)]
pub use sighup::{reload_on_sighup, SighupReloads};

use crate::core::system::ActorSystem;
use crate::functional::settings::{Decoded, ProblemKind as Found};
use crate::functional::{GroupRuntime, Schema};
use crate::topology::Topology;
use system_section::SystemSection;

/// A parsed configuration file: valid TOML whose top level is a table of
/// group sections. Its content is validated against groups when it is
/// used ([`check_with`], start, [`reload`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigFile {
    table: toml::Table,
    origin: String,
}

impl ConfigFile {
    /// Reads and parses a file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: origin.clone(),
            reason: e.to_string(),
        })?;
        Self::parse_from(&text, origin)
    }

    /// Parses TOML text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        Self::parse_from(text, "<text>".to_owned())
    }

    fn parse_from(text: &str, origin: String) -> Result<Self, ConfigError> {
        match text.parse::<toml::Table>() {
            Ok(table) => Ok(Self { table, origin }),
            Err(e) => Err(ConfigError::Syntax {
                origin,
                message: e.to_string().trim_end().to_owned(),
            }),
        }
    }

    /// Where it came from: a path, or `<text>`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The names of the sections, in the file's order.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.table.keys().map(String::as_str)
    }
}

/// Checks a file without starting anything: that it reads, that it is
/// TOML, that each top-level entry is a group's section and that each
/// `system` table is valid. The groups' own keys need the groups' types:
/// see [`check_with`].
pub fn check(path: impl AsRef<Path>) -> Result<ConfigFile, ConfigError> {
    let file = ConfigFile::load(path)?;
    let mut problems = Vec::new();
    for (group, section) in &file.table {
        match section.as_table() {
            None => problems.push(not_a_table(group)),
            Some(table) => {
                if let Some(system) = table.get("system") {
                    if let Err(found) = SystemSection::decode(group, system.clone()) {
                        problems.extend(found);
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(file)
    } else {
        Err(ConfigError::Invalid(problems))
    }
}

/// Checks a file against the groups of a topology, without starting it:
/// every problem [`Topology::configure`] would refuse the start for.
pub fn check_with(file: &ConfigFile, topology: &Topology) -> Result<(), ConfigError> {
    let def = topology.def.lock();
    let groups = def
        .groups
        .iter()
        .filter(|g| g.node.is_none())
        .filter_map(|g| Some((&*g.name, g.schema.as_ref()?)));
    validate(file, groups).map(drop)
}

impl Topology {
    /// Starts the topology's groups with this configuration (feature
    /// `config`): the start fails with every problem of the file if it is
    /// not valid for every group. Reload it later with [`reload`].
    pub fn configure(self, file: ConfigFile) -> Self {
        self.def.lock().file = Some(Box::new(file));
        self
    }
}

/// Reloads a running system's configuration in two phases: every group
/// validates its section, then, if none refused, every group takes it. A
/// refused configuration changes no group: all or nothing, as elfo's
/// configurer (whose phases are the same: validate everywhere, then
/// update everywhere).
pub fn reload(system: &ActorSystem, file: &ConfigFile) -> Result<(), ConfigError> {
    // Two reloads at once would interleave their second phases.
    static RELOADING: parking_lot::Mutex<()> = parking_lot::Mutex::new(());
    let _one_at_a_time = RELOADING.lock();
    let groups: Vec<Arc<GroupRuntime>> = system
        .mounted_names()
        .iter()
        .filter_map(|name| system.mounted::<GroupRuntime>(name))
        .collect();
    let plans = validate(file, groups.iter().map(|g| (&*g.name, g.schema())))?;
    for (group, plan) in groups.iter().zip(plans) {
        plan.apply(group);
    }
    tracing::info!(
        origin = file.origin(),
        system = system.name(),
        "configuration reloaded"
    );
    Ok(())
}

/// Reads a file and [`reload`]s it.
pub fn reload_file(system: &ActorSystem, path: impl AsRef<Path>) -> Result<(), ConfigError> {
    reload(system, &ConfigFile::load(path)?)
}

/// Validates and applies a file to the groups of a starting system.
pub(crate) fn apply_at_start(
    file: &ConfigFile,
    groups: &[Arc<GroupRuntime>],
) -> Result<(), ConfigError> {
    let plans = validate(file, groups.iter().map(|g| (&*g.name, g.schema())))?;
    for (group, plan) in groups.iter().zip(plans) {
        plan.apply(group);
    }
    Ok(())
}

/// What one group takes in the second phase.
struct Plan {
    config: Option<Decoded>,
    system: SystemSection,
}

impl Plan {
    fn apply(self, group: &GroupRuntime) {
        if let Some(config) = self.config {
            group.set_config(config);
        }
        self.system.apply(group);
    }
}

fn not_a_table(group: &str) -> ConfigProblem {
    ConfigProblem {
        group: group.to_owned(),
        key: String::new(),
        kind: ProblemKind::Invalid("a group's section must be a table".into()),
    }
}

/// The first phase: decodes every group's section (one plan per group, in
/// order), or lists every problem.
fn validate<'a>(
    file: &ConfigFile,
    groups: impl Iterator<Item = (&'a str, &'a Schema)>,
) -> Result<Vec<Plan>, ConfigError> {
    let groups: Vec<(&str, &Schema)> = groups.collect();
    let mut problems = Vec::new();
    for name in file.table.keys() {
        if !groups.iter().any(|(g, _)| g == name) {
            problems.push(ConfigProblem {
                group: name.clone(),
                key: String::new(),
                kind: ProblemKind::UnknownGroup,
            });
        }
    }
    let mut plans = Vec::with_capacity(groups.len());
    for (name, schema) in groups {
        let mut section = match file.table.get(name) {
            None => toml::Table::new(),
            Some(toml::Value::Table(t)) => t.clone(),
            Some(_) => {
                problems.push(not_a_table(name));
                continue;
            }
        };
        let system = match section.remove("system") {
            None => Some(SystemSection::default()),
            Some(value) => match SystemSection::decode(name, value) {
                Ok(s) => Some(s),
                Err(found) => {
                    problems.extend(found);
                    None
                }
            },
        };
        let config = match &schema.settings {
            Some(decode) => match decode(toml::Value::Table(section)) {
                Ok(decoded) => Some(decoded),
                Err(found) => {
                    problems.extend(found.into_iter().map(|p| ConfigProblem {
                        group: name.to_owned(),
                        key: p.path,
                        kind: match p.kind {
                            Found::Unknown => ProblemKind::UnknownKey,
                            Found::Invalid(m) => ProblemKind::Invalid(m),
                            Found::Rejected(r) => ProblemKind::Rejected(r),
                        },
                    }));
                    None
                }
            },
            None => {
                problems.extend(section.keys().map(|key| ConfigProblem {
                    group: name.to_owned(),
                    key: key.clone(),
                    kind: ProblemKind::UnknownKey,
                }));
                None
            }
        };
        if let Some(system) = system {
            plans.push(Plan { config, system });
        }
    }
    if problems.is_empty() {
        Ok(plans)
    } else {
        Err(ConfigError::Invalid(problems))
    }
}
