//! The message types a node can send and receive, by stable name: how each
//! is encoded (postcard), and how a request's answer comes back.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use troupe::{Addr, Envelope, Message, RequestError, ResponseToken, TraceId};

/// A request that went to another node, waiting for its answer.
pub(crate) trait Pending: Send {
    /// Answers it with the encoded response or the error that came back.
    fn answer(self: Box<Self>, res: Result<&[u8], RequestError>);
    /// Whether its requester still waits (it may have given up: deadline).
    fn is_waiting(&self) -> bool;
}

/// A pending request, boxed.
pub(crate) type Answer = Box<dyn Pending>;

/// The pending request of a message type `M`.
struct Waiting<M: Message> {
    token: ResponseToken<M::Response>,
}

impl<M> Pending for Waiting<M>
where
    M: Message,
    M::Response: DeserializeOwned,
{
    fn answer(self: Box<Self>, res: Result<&[u8], RequestError>) {
        let token = self.token;
        match res {
            Ok(bytes) => match postcard::from_bytes::<M::Response>(bytes) {
                Ok(response) => {
                    token.respond(response);
                }
                Err(e) => token.fail(RequestError::Failed(format!(
                    "the response to {} does not decode: {e}",
                    M::NAME
                ))),
            },
            Err(err) => token.fail(err),
        }
    }

    fn is_waiting(&self) -> bool {
        self.token.is_waiting()
    }
}

/// A boxed future of a request's encoded response.
pub(crate) type Answering = Pin<Box<dyn Future<Output = Result<Vec<u8>, RequestError>> + Send>>;

/// An envelope taken apart for the wire.
pub(crate) enum Encoded {
    /// A fire-and-forget message.
    Tell(Vec<u8>),
    /// A request: its payload, how its answer reaches the requester, and
    /// the requester's deadline.
    Request(Vec<u8>, Answer, Option<tokio::time::Instant>),
}

/// Why an envelope or a payload could not be carried.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CodecError {
    /// No registered message type has this name.
    #[error("no message type is registered as {0:?}")]
    Unknown(String),
    /// The payload did not decode as the named type.
    #[error("{name} does not decode: {reason}")]
    Undecodable {
        /// The message type's name.
        name: String,
        /// The decoder's error.
        reason: String,
    },
    /// The message did not encode.
    #[error("{name} does not encode: {reason}")]
    Unencodable {
        /// The message type's name.
        name: String,
        /// The encoder's error.
        reason: String,
    },
}

/// Decodes a request's payload: the envelope and the future of its answer.
type DecodeRequest =
    fn(&[u8], Addr, TraceId, Option<tokio::time::Instant>) -> Result<(Envelope, Answering), String>;

#[derive(Clone)]
struct Codec {
    encode: fn(Envelope) -> Result<Result<Encoded, CodecError>, Envelope>,
    decode_tell: fn(&[u8], Addr, TraceId) -> Result<Envelope, String>,
    decode_request: DecodeRequest,
}

/// The message types that cross the network, each under its stable name
/// ([`Message::NAME`]). Both nodes must register a type for it to travel;
/// anything else is refused with a typed error on the sending side
/// ([`CodecError::Unknown`]) and becomes a dead letter.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use troupe::prelude::*;
/// use troupe_remote::Messages;
///
/// #[message(ret = u64)]
/// #[derive(Serialize, Deserialize)]
/// struct Add(u64);
///
/// let messages = Messages::new().with::<Add>();
/// assert!(messages.knows(<Add as Message>::NAME));
/// assert_eq!(messages.len(), 1);
/// ```
#[derive(Clone, Default)]
pub struct Messages {
    codecs: Arc<HashMap<&'static str, Codec>>,
}

/// The link-time list of message types (see
/// [`remote_messages!`](crate::remote_messages)).
#[linkme::distributed_slice]
pub static REMOTE_MESSAGES: [fn(Messages) -> Messages];

impl Messages {
    /// No message type yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every type declared with [`remote_messages!`](crate::remote_messages)
    /// anywhere in the program.
    pub fn linked() -> Self {
        REMOTE_MESSAGES.iter().fold(Self::new(), |m, add| add(m))
    }

    /// Registers `M` (and its response type), which must be serde-serializable.
    pub fn with<M>(mut self) -> Self
    where
        M: Message + Serialize + DeserializeOwned,
        M::Response: Serialize + DeserializeOwned,
    {
        let codecs = Arc::make_mut(&mut self.codecs);
        codecs.insert(
            M::NAME,
            Codec {
                encode: encode::<M>,
                decode_tell: decode_tell::<M>,
                decode_request: decode_request::<M>,
            },
        );
        self
    }

    /// Whether a type is registered under `name`.
    pub fn knows(&self, name: &str) -> bool {
        self.codecs.contains_key(name)
    }

    /// How many types are registered.
    pub fn len(&self) -> usize {
        self.codecs.len()
    }

    /// Whether no type is registered.
    pub fn is_empty(&self) -> bool {
        self.codecs.is_empty()
    }

    /// Takes `env` apart for the wire; hands it back (with the reason) when
    /// its type is not registered or does not encode.
    pub(crate) fn encode(&self, env: Envelope) -> Result<Encoded, Box<(Envelope, CodecError)>> {
        let name = env.message_name();
        let Some(codec) = self.codecs.get(name) else {
            return Err(Box::new((env, CodecError::Unknown(name.to_string()))));
        };
        match (codec.encode)(env) {
            Ok(Ok(encoded)) => Ok(encoded),
            Ok(Err(e)) => Err(Box::new((
                Envelope::new(Unsent, Addr::NULL, TraceId::generate()),
                e,
            ))),
            Err(env) => Err(Box::new((env, CodecError::Unknown(name.to_string())))),
        }
    }

    /// An envelope for the tell `name` with `payload`.
    pub(crate) fn decode_tell(
        &self,
        name: &str,
        payload: &[u8],
        from: Addr,
        trace: TraceId,
    ) -> Result<Envelope, CodecError> {
        let codec = self.codec(name)?;
        (codec.decode_tell)(payload, from, trace).map_err(|reason| CodecError::Undecodable {
            name: name.to_string(),
            reason,
        })
    }

    /// An envelope for the request `name` with `payload`, and the future
    /// of its encoded answer.
    pub(crate) fn decode_request(
        &self,
        name: &str,
        payload: &[u8],
        from: Addr,
        trace: TraceId,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<(Envelope, Answering), CodecError> {
        let codec = self.codec(name)?;
        (codec.decode_request)(payload, from, trace, deadline).map_err(|reason| {
            CodecError::Undecodable {
                name: name.to_string(),
                reason,
            }
        })
    }

    /// The registered type's own name for `name` (`None` if unknown).
    pub(crate) fn static_name(&self, name: &str) -> Option<&'static str> {
        self.codecs.get_key_value(name).map(|(k, _)| *k)
    }

    fn codec(&self, name: &str) -> Result<&Codec, CodecError> {
        self.codecs
            .get(name)
            .ok_or_else(|| CodecError::Unknown(name.to_string()))
    }
}

impl fmt::Debug for Messages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<_> = self.codecs.keys().collect();
        names.sort();
        f.debug_struct("Messages").field("types", &names).finish()
    }
}

/// Stands for a message that could not be encoded: the envelope was taken
/// apart already, so what goes to the dead letters is this marker.
struct Unsent;

impl Message for Unsent {
    const NAME: &'static str = "troupe_remote::Unsent";
    type Response = ();
}

fn encode<M>(env: Envelope) -> Result<Result<Encoded, CodecError>, Envelope>
where
    M: Message + Serialize + DeserializeOwned,
    M::Response: Serialize + DeserializeOwned,
{
    let failed = |e: postcard::Error| CodecError::Unencodable {
        name: M::NAME.to_string(),
        reason: e.to_string(),
    };
    let env = match env.downcast_request::<M>() {
        Ok((msg, token)) => {
            return Ok(match postcard::to_stdvec(&msg) {
                Ok(bytes) => {
                    let deadline = token.deadline();
                    let answer: Answer = Box::new(Waiting::<M> { token });
                    Ok(Encoded::Request(bytes, answer, deadline))
                }
                Err(e) => {
                    token.fail(RequestError::Failed(format!(
                        "{} does not encode: {e}",
                        M::NAME
                    )));
                    Err(failed(e))
                }
            });
        }
        Err(env) => env,
    };
    let msg = env.downcast::<M>()?;
    Ok(postcard::to_stdvec(&msg).map(Encoded::Tell).map_err(failed))
}

fn decode_tell<M>(payload: &[u8], from: Addr, trace: TraceId) -> Result<Envelope, String>
where
    M: Message + DeserializeOwned,
{
    let msg: M = postcard::from_bytes(payload).map_err(|e| e.to_string())?;
    Ok(Envelope::new(msg, from, trace))
}

fn decode_request<M>(
    payload: &[u8],
    from: Addr,
    trace: TraceId,
    deadline: Option<tokio::time::Instant>,
) -> Result<(Envelope, Answering), String>
where
    M: Message + DeserializeOwned,
    M::Response: Serialize,
{
    let msg: M = postcard::from_bytes(payload).map_err(|e| e.to_string())?;
    let (env, answer) = troupe::request_envelope(msg, from, trace, deadline);
    let answering: Answering = Box::pin(async move {
        let response = answer.await?;
        postcard::to_stdvec(&response).map_err(|e| {
            RequestError::Failed(format!("the response to {} does not encode: {e}", M::NAME))
        })
    });
    Ok((env, answering))
}
