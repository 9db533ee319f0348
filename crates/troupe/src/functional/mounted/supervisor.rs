//! The supervisor of a mounted group: a root process prepared and started
//! by a topology, or a child of another supervisor (`ChildSpec::group`).

use std::borrow::Cow;
use std::sync::Arc;

use parking_lot::Mutex;

use super::GroupRuntime;
use crate::actor::{Actor, ActorContext, ActorStart};
use crate::catch::BoxFuture;
use crate::core::config::ActorConfig;
use crate::core::introspect::ProcessKind;
use crate::core::process::Shared;
use crate::core::restart::{ChildSpec, Link, ShutdownStrategy, Start, SupervisorError};
use crate::error::HandlerResult;
use crate::functional::Schema;

/// The supervisor of a mounted group: a struct actor without messages of
/// its own, whose children are the group's keyed actors.
pub(crate) struct GroupSupervisor {
    group: Arc<GroupRuntime>,
}

impl Actor for GroupSupervisor {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.shared().set_kind(ProcessKind::GROUP);
        *self.group.supervisor.lock() = Arc::downgrade(ctx.shared());
        // A restarted group starts afresh.
        self.group.actors.lock().retain(|_, a| a.is_alive());
        self.group.start_singleton();
        Ok(())
    }
}

impl GroupSupervisor {
    /// Prepares the supervisor of a group mounted by a topology (a root
    /// process): from now on the group takes messages, before its
    /// supervisor runs (an actor a message starts waits in the
    /// supervisor's system channel to be adopted). A topology prepares
    /// every group's supervisor before it starts any: otherwise the actor
    /// of a group started first could send to a group declared after it
    /// whose supervisor did not exist yet, and the message became a dead
    /// letter while its sender was told it was delivered.
    pub(crate) fn prepare_root(group: &Arc<GroupRuntime>) -> Arc<Shared> {
        let shared = crate::actor::prepare_keyed::<GroupSupervisor>(
            &group.system,
            group.name.to_string(),
            &ActorConfig::default().with_mailbox_capacity(1),
        );
        *group.supervisor.lock() = Arc::downgrade(&shared);
        shared
    }

    /// Starts a supervisor [`prepare_root`](Self::prepare_root) prepared,
    /// without waiting for it to run.
    pub(crate) fn start_root(
        group: &Arc<GroupRuntime>,
        shared: Arc<Shared>,
    ) -> Result<(), crate::error::SpawnError> {
        let config = group.restart_policy().supervisor_config();
        let actor = GroupSupervisor {
            group: group.clone(),
        };
        crate::actor::start_in(actor, shared, Some(config)).map(drop)
    }
}

impl ChildSpec {
    /// An actor group as a child of a supervisor: the group's supervisor
    /// process is the child, restarted (with every actor of the group) by
    /// its parent's strategy; it gives up, and its parent sees it exit,
    /// when the group's restart budget is exceeded. The group is mounted in
    /// the system under `name` ([`ActorSystem::group`](crate::ActorSystem::group)).
    pub fn group(name: impl Into<String>, schema: Schema) -> Self {
        let name: String = name.into();
        let start = GroupStart {
            name: Cow::Owned(name.clone()),
            schema: Mutex::new(Some(schema)),
            mounted: Mutex::new(None),
        };
        Self::new(
            Arc::from(name),
            ShutdownStrategy::Infinity,
            None,
            true,
            Arc::new(start),
        )
    }
}

/// Starts a group's supervisor under a parent supervisor, mounting the
/// group in the system the first time.
struct GroupStart {
    name: Cow<'static, str>,
    schema: Mutex<Option<Schema>>,
    mounted: Mutex<Option<Arc<GroupRuntime>>>,
}

impl Start for GroupStart {
    fn start(&self, link: Link) -> BoxFuture<'static, Result<Arc<Shared>, SupervisorError>> {
        let group = {
            let mut mounted = self.mounted.lock();
            match &*mounted {
                Some(g) => Some(g.clone()),
                None => self.schema.lock().take().map(|schema| {
                    let g = GroupRuntime::new(self.name.clone(), schema, link.system.clone());
                    link.system.mount(self.name.to_string(), g.clone());
                    *mounted = Some(g.clone());
                    g
                }),
            }
        };
        let Some(group) = group else {
            let err = link.failed("the group's definition was lost");
            return Box::pin(async move { Err(err) });
        };
        let config = group.restart_policy().supervisor_config();
        let start = ActorStart {
            factory: Arc::new(move || GroupSupervisor {
                group: group.clone(),
            }),
            registered: None,
            key: Some(self.name.to_string()),
            config: Some(ActorConfig::default().with_mailbox_capacity(1)),
            supervision: Some(config),
        };
        start.start(link)
    }
}
