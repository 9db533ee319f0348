//! Reloading on SIGHUP.

use std::path::PathBuf;

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{reload_file, ConfigError};
use crate::core::system::ActorSystem;

/// Reloads `path` into `system` at each SIGHUP, the Unix convention for
/// "read your configuration again", until the system is asked to
/// terminate or the returned handle is dropped. Each outcome is logged
/// (an error at error level, naming every problem) and given to the
/// handle's [`SighupReloads::next`].
///
/// Must be called inside a Tokio runtime.
///
/// ```no_run
/// use troupe::prelude::*;
///
/// # async fn run(system: ActorSystem) -> Result<(), troupe::config::ConfigError> {
/// let mut reloads = troupe::config::reload_on_sighup(&system, "app.toml")?;
/// // `kill -HUP <pid>`, then:
/// reloads.next().await;
/// # Ok(()) }
/// ```
pub fn reload_on_sighup(
    system: &ActorSystem,
    path: impl Into<PathBuf>,
) -> Result<SighupReloads, ConfigError> {
    let mut hangups =
        signal(SignalKind::hangup()).map_err(|e| ConfigError::Signal(e.to_string()))?;
    let path = path.into();
    let system = system.clone();
    let (tx, outcomes) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = system.terminated() => return,
                got = hangups.recv() => {
                    if got.is_none() {
                        return;
                    }
                    let outcome = reload_file(&system, &path);
                    if let Err(e) = &outcome {
                        tracing::error!(path = %path.display(), error = %e, "SIGHUP: configuration refused");
                    }
                    let _ = tx.send(outcome);
                }
            }
        }
    });
    Ok(SighupReloads { task, outcomes })
}

/// The reloads [`reload_on_sighup`] makes; dropping it stops listening.
#[derive(Debug)]
pub struct SighupReloads {
    task: JoinHandle<()>,
    outcomes: mpsc::UnboundedReceiver<Result<(), ConfigError>>,
}

impl SighupReloads {
    /// The outcome of the next reload; `None` once listening has ended.
    pub async fn next(&mut self) -> Option<Result<(), ConfigError>> {
        self.outcomes.recv().await
    }
}

impl Drop for SighupReloads {
    fn drop(&mut self) {
        self.task.abort();
    }
}
