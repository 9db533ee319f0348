//! Group definitions: [`ActorGroup`], routing [`Outcome`]s and the group
//! [`RestartPolicy`].

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use super::Context;
use crate::actor::Actor;
use crate::catch::BoxFuture;
use crate::core::config::ActorConfig;
use crate::core::process::Shared;
use crate::envelope::Envelope;

/// The key of an actor within its group.
pub type Key = Cow<'static, str>;

/// Where a router sends one envelope.
///
/// The gentle outcomes (elfo's `GentleUnicast` and `GentleMulticast`)
/// reach only actors that exist already: a router uses them for messages
/// that concern an actor if it is there, and must not bring one to life
/// (an update about a session, say, after the session ended).
///
/// A request is taken by one actor: of a multicast, the first that is not
/// waiting for a restart (else the first); of a broadcast, any one not
/// waiting for a restart; without dead letters for the others. Through
/// the topology ([`Context::request`](super::Context::request)), an
/// outcome that gives no actor, or only one waiting for a restart, lets
/// the next route take it. [`request(..).all()`](super::RequestBuilder::all)
/// reaches each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// To the actor with this key (started on demand).
    Unicast(Key),
    /// To the actor with this key if it exists (it is alive, or waits for
    /// its restart); none is started. With no such actor, the envelope
    /// goes nowhere, as with [`Outcome::Discard`].
    GentleUnicast(Key),
    /// To each of these actors (started on demand). The message is cloned
    /// for each: a message type that is not `Clone` goes to the last key
    /// only, and the others get a dead letter.
    Multicast(Vec<Key>),
    /// To each of these actors that exists; none is started, the keys
    /// without an actor are skipped. With none, the envelope goes nowhere,
    /// as with [`Outcome::Discard`].
    GentleMulticast(Vec<Key>),
    /// To every actor of the group that is running now.
    Broadcast,
    /// Nowhere: the envelope is reported as a dead letter and a request
    /// resolves with `RequestError::Gone` (a request routed through the
    /// topology moves on to the next route first).
    Discard,
    /// The group's default: the singleton actor `_` for a group without a
    /// router; `Discard` when a router returns it.
    Default,
}

impl Outcome {
    /// To the actor with this key.
    pub fn unicast(key: impl Into<Key>) -> Self {
        Outcome::Unicast(key.into())
    }

    /// To each of these actors.
    pub fn multicast<K: Into<Key>>(keys: impl IntoIterator<Item = K>) -> Self {
        Outcome::Multicast(keys.into_iter().map(Into::into).collect())
    }

    /// To the actor with this key, only if it exists already.
    ///
    /// ```
    /// use troupe::prelude::*;
    /// use troupe::Outcome;
    ///
    /// #[message]
    /// struct Login { user: u32 }
    /// #[message]
    /// struct Notice { user: u32 }
    ///
    /// // A login starts the user's session; a notice reaches a session
    /// // that exists, and becomes a dead letter otherwise.
    /// let schema = ActorGroup::new()
    ///     .router(|envelope| {
    ///         msg!(match envelope {
    ///             Login { user } => Outcome::unicast(user.to_string()),
    ///             Notice { user } => Outcome::gentle_unicast(user.to_string()),
    ///             _ => Outcome::Discard,
    ///         })
    ///     })
    ///     .exec(|mut ctx| async move { while ctx.recv().await.is_some() {} });
    /// # let _ = schema;
    /// ```
    pub fn gentle_unicast(key: impl Into<Key>) -> Self {
        Outcome::GentleUnicast(key.into())
    }

    /// To each of these actors that exists already.
    pub fn gentle_multicast<K: Into<Key>>(keys: impl IntoIterator<Item = K>) -> Self {
        Outcome::GentleMulticast(keys.into_iter().map(Into::into).collect())
    }
}

pub use crate::core::restart::RestartPolicy;

/// What an `exec` function may return: `()` or `Result<(), E>`.
pub trait ExecResult: Send + 'static {
    /// `Err` with a description if the run failed.
    fn into_result(self) -> Result<(), String>;
}

impl ExecResult for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: fmt::Display + Send + 'static> ExecResult for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// The never type `!`, named on stable Rust through a function pointer's
/// return type.
trait FnOutput {
    type Output;
}

impl<T> FnOutput for fn() -> T {
    type Output = T;
}

type Never = <fn() -> ! as FnOutput>::Output;

/// An `exec` that never returns (`|_| async { panic!() }`, a `loop` without
/// `break`): its output type is `!`, which must be an `ExecResult` for such a
/// closure to compile. (`FnOutput` stays private: it only names the type.)
#[allow(private_interfaces)]
impl ExecResult for Never {
    fn into_result(self) -> Result<(), String> {
        self
    }
}

pub(crate) type ExecFn =
    Arc<dyn Fn(Context) -> BoxFuture<'static, Result<(), String>> + Send + Sync>;
pub(crate) type RouterFn = Arc<dyn Fn(&Envelope) -> Outcome + Send + Sync>;

/// The definition of a group of functional actors: how each runs (`exec`),
/// how envelopes are routed to keys, and when actors restart.
///
/// ```
/// use troupe::prelude::*;
/// use troupe::{ActorGroup, Outcome, RestartPolicy, Schema};
///
/// #[message]
/// struct Increment { delta: u32 }
///
/// #[message(ret = u32)]
/// struct GetValue;
///
/// pub fn counter() -> Schema {
///     ActorGroup::new()
///         .restart_policy(RestartPolicy::on_failure())
///         .exec(|mut ctx| async move {
///             let mut value = 0;
///             while let Some(envelope) = ctx.recv().await {
///                 msg!(match envelope {
///                     Increment { delta } => value += delta,
///                     (GetValue, token) => {
///                         ctx.respond(token, value);
///                     }
///                 })
///             }
///         })
/// }
/// ```
#[derive(Default)]
pub struct ActorGroup {
    router: Option<RouterFn>,
    restart: RestartPolicy,
    config: Option<ActorConfig>,
    termination: super::TerminationPolicy,
    #[cfg(feature = "config")]
    settings: Option<super::settings::DecodeFn>,
}

impl ActorGroup {
    /// A group with a single actor (key `_`), restarted on failure.
    pub fn new() -> Self {
        Self::default()
    }

    /// Routes each incoming envelope to keys; keyed actors start on demand.
    pub fn router(mut self, router: impl Fn(&Envelope) -> Outcome + Send + Sync + 'static) -> Self {
        self.router = Some(Arc::new(router));
        self
    }

    /// Sets when actors of this group restart.
    pub fn restart_policy(mut self, policy: RestartPolicy) -> Self {
        self.restart = policy;
        self
    }

    /// Sets the mailbox and request settings of this group's actors.
    pub fn config(mut self, config: ActorConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// Sets what a [`Terminate`](super::Terminate) does to this group's
    /// actors (elfo's `termination_policy`; default
    /// [`TerminationPolicy::closing`](super::TerminationPolicy::closing)).
    /// An actor can change its own with
    /// [`Context::set_termination_policy`].
    pub fn termination_policy(mut self, policy: super::TerminationPolicy) -> Self {
        self.termination = policy;
        self
    }

    /// Declares the group's own configuration type (feature `config`): its
    /// section of a configuration file (see [`troupe::config`](crate::config))
    /// is decoded as a `C` when the system starts and at each reload, and
    /// the group's actors read it with [`Context::config`]. Keys `C` does
    /// not know are reported, not ignored.
    ///
    /// ```
    /// use troupe::prelude::*;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct CounterConfig { step: u32 }
    ///
    /// let schema = ActorGroup::new()
    ///     .config_type::<CounterConfig>()
    ///     .exec(|mut ctx| async move {
    ///         while let Some(envelope) = ctx.recv().await {
    ///             let step = ctx.config::<CounterConfig>().map_or(1, |c| c.step);
    ///             # let _ = (envelope, step);
    ///         }
    ///     });
    /// # let _ = schema;
    /// ```
    #[cfg(feature = "config")]
    pub fn config_type<C>(self) -> Self
    where
        C: serde::de::DeserializeOwned + Send + Sync + 'static,
    {
        self.checked_config::<C>(|_| Ok(()))
    }

    /// Like [`ActorGroup::config_type`], with a check of the decoded
    /// config: a config it refuses (`Err` with the reason) is reported as
    /// an error of this group, and a reload it refuses changes no group
    /// (the first phase of a reload, see [`troupe::config`](crate::config)).
    #[cfg(feature = "config")]
    pub fn checked_config<C>(
        mut self,
        check: impl Fn(&C) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self
    where
        C: serde::de::DeserializeOwned + Send + Sync + 'static,
    {
        self.settings = Some(super::settings::decoder::<C, _>(check));
        self
    }

    /// Sets the function each actor of the group runs, completing the
    /// definition.
    pub fn exec<F, Fut>(self, exec: F) -> Schema
    where
        F: Fn(Context) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: ExecResult,
    {
        let exec: ExecFn = Arc::new(move |ctx| {
            let fut = exec(ctx);
            Box::pin(async move { fut.await.into_result() })
        });
        Schema {
            body: Body::Exec(exec),
            router: self.router,
            restart: self.restart,
            config: self.config,
            termination: self.termination,
            #[cfg(feature = "config")]
            settings: self.settings,
        }
    }

    /// Makes each actor of the group a struct actor built by `factory`
    /// from its key, completing the definition: envelopes routed to the
    /// group (by the topology, a [`GroupRef`](crate::GroupRef), a router)
    /// reach the actor's `Handler<M>` for every `M` it declares with
    /// [`handles!`](crate::handles), as any envelope sent by address.
    ///
    /// ```
    /// use troupe::prelude::*;
    ///
    /// #[message]
    /// struct Put(u32);
    ///
    /// #[derive(Default)]
    /// struct Store(u32);
    /// impl Actor for Store {
    ///     troupe::handles!(Put);
    /// }
    /// impl Handler<Put> for Store {
    ///     async fn handle(&mut self, msg: Put, _: &mut ActorContext<Self>) -> HandlerResult {
    ///         self.0 += msg.0;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let schema = ActorGroup::new().actor(|_key| Store::default());
    /// # let _ = schema;
    /// ```
    pub fn actor<A: Actor>(self, factory: impl Fn(&str) -> A + Send + Sync + 'static) -> Schema {
        let start: StartFn = Arc::new(move |shared| {
            let actor = factory(&shared.meta.key);
            crate::actor::start_in(actor, shared, None).map(drop)
        });
        Schema {
            body: Body::Actor(start),
            router: self.router,
            restart: self.restart,
            config: self.config,
            termination: self.termination,
            #[cfg(feature = "config")]
            settings: self.settings,
        }
    }
}

/// Starts a struct actor in a prepared process.
pub(crate) type StartFn =
    Arc<dyn Fn(Arc<Shared>) -> Result<(), crate::error::SpawnError> + Send + Sync>;

/// What each actor of a group runs.
pub(crate) enum Body {
    /// A functional actor's `exec`.
    Exec(ExecFn),
    /// A struct actor.
    Actor(StartFn),
}

/// A complete group definition, ready to be mounted in a topology.
pub struct Schema {
    pub(crate) body: Body,
    pub(crate) router: Option<RouterFn>,
    pub(crate) restart: RestartPolicy,
    pub(crate) config: Option<ActorConfig>,
    pub(crate) termination: super::TerminationPolicy,
    /// Decodes the group's own section of a configuration file.
    #[cfg(feature = "config")]
    pub(crate) settings: Option<super::settings::DecodeFn>,
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schema")
            .field("routed", &self.router.is_some())
            .field("restart", &self.restart)
            .finish()
    }
}

impl std::fmt::Debug for ActorGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActorGroup").finish_non_exhaustive()
    }
}
