//! The wire format between two nodes, and its decoder.
//!
//! A frame on the wire is one version byte ([`VERSION`]) followed by a
//! [`Frame`] in [postcard](https://docs.rs/postcard) (varint integers,
//! length-prefixed strings and byte strings, an enum as its variant index
//! then its fields). A transport message carries exactly one frame: the
//! decoder refuses bytes left over after it.
//!
//! [`Frame::decode`] never panics on its input: every malformed frame is a
//! [`FrameError`]. It checks the size limit before reading anything, and it
//! never allocates more than the input's size plus a small constant: a
//! length prefix is checked against the bytes that remain before anything is
//! allocated for it, so a few bytes that claim a 2^60-byte payload are an
//! error, not an allocation.
//!
//! ```
//! use troupe_remote::frame::{Frame, DEFAULT_MAX_FRAME};
//!
//! let ping = Frame::Ping { seq: 7 };
//! let bytes = ping.encode(DEFAULT_MAX_FRAME)?;
//! assert_eq!(Frame::decode(&bytes, DEFAULT_MAX_FRAME)?, ping);
//! assert_eq!(ping.kind(), "ping");
//! # Ok::<(), troupe_remote::frame::FrameError>(())
//! ```

use serde::{Deserialize, Serialize};
use troupe::{ExitReason, StopReason};

mod bytes;

/// The version of the wire format: the first byte of every frame.
pub const VERSION: u8 = 2;

/// The default limit on the size of one encoded frame (1 MiB), version byte
/// included.
pub const DEFAULT_MAX_FRAME: usize = 1 << 20;

/// Why a request failed, on the wire (mirrors the kinds of
/// [`troupe::RequestError`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireFailure {
    /// The actor is not running.
    Gone,
    /// The actor's mailbox was full.
    Full,
    /// The handler dropped the response token without answering.
    Dropped,
    /// No response came before the deadline.
    Timeout,
    /// The handler returned an error or panicked.
    Failed(String),
    /// The actor does not handle this message type.
    Unhandled,
    /// The receiving node knows no message type of this stable name.
    UnknownMessage(String),
    /// The payload could not be decoded as the named message type.
    Undecodable(String),
    /// The node of the actor is down (or the connection to it was lost).
    NodeDown,
    /// The message or its answer is over the frame size limit.
    TooLarge,
}

/// How a process ended, on the wire (mirrors [`troupe::ExitReason`], plus
/// [`NodeDown`](WireExit::NodeDown)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireExit {
    /// It stopped itself, finished, or accepted a graceful stop.
    Normal,
    /// It was stopped by a tier-2 stop or a shutdown.
    Shutdown,
    /// It was killed.
    Killed,
    /// A handler (or a hook) returned an error or panicked.
    Failed(String),
    /// It failed to start.
    StartFailed(String),
    /// The process was not there (OTP's `noproc`).
    NoProc,
    /// A reason of the program's own.
    Custom(String),
    /// Its node went down or the connection to it was lost (OTP's
    /// `noconnection`); a node reports it for the remote processes it
    /// monitored, it never comes from the process itself.
    NodeDown,
}

impl From<&ExitReason> for WireExit {
    fn from(reason: &ExitReason) -> Self {
        match reason {
            ExitReason::Normal => WireExit::Normal,
            ExitReason::Shutdown => WireExit::Shutdown,
            ExitReason::Killed => WireExit::Killed,
            ExitReason::Failed(why) => WireExit::Failed(why.clone()),
            ExitReason::StartFailed(why) => WireExit::StartFailed(why.clone()),
            ExitReason::NoProc => WireExit::NoProc,
            ExitReason::Custom(why) => WireExit::Custom(why.to_string()),
            ExitReason::NodeDown => WireExit::NodeDown,
        }
    }
}

/// The tiers of a stop, on the wire (mirrors [`troupe::StopReason`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireStop {
    /// Tier 1: the actor may veto.
    Graceful,
    /// Tier 2: no veto, `on_stopped` runs.
    Shutdown,
    /// Tier 3: aborted, no hook runs.
    Kill,
    /// What is queued first, then stop.
    Drain,
}

impl From<StopReason> for WireStop {
    fn from(how: StopReason) -> Self {
        match how {
            StopReason::Graceful => WireStop::Graceful,
            StopReason::Shutdown => WireStop::Shutdown,
            StopReason::Kill => WireStop::Kill,
            StopReason::Drain => WireStop::Drain,
        }
    }
}

impl From<WireStop> for StopReason {
    fn from(how: WireStop) -> Self {
        match how {
            WireStop::Graceful => StopReason::Graceful,
            WireStop::Shutdown => StopReason::Shutdown,
            WireStop::Kill => StopReason::Kill,
            WireStop::Drain => StopReason::Drain,
        }
    }
}

/// One unit on the wire between two nodes.
///
/// Addresses are raw `u64` (`troupe::Addr::into_bits`), trace ids raw `u64`.
/// The order of the variants is part of the wire format (postcard encodes a
/// variant as its index): add new ones at the end only, and bump
/// [`VERSION`] for any other change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frame {
    /// Handshake: who I am and proof that I know the cluster secret (see
    /// [`auth`](crate::auth)).
    Hello {
        /// The sender's node id.
        node: u16,
        /// The cluster's name.
        cluster: String,
        /// A fresh random value of the sender's.
        nonce: [u8; 16],
        /// [`auth::proof`](crate::auth::proof) over the fields above.
        proof: [u8; 32],
    },
    /// Fire-and-forget message `name` (the message type's stable name) with
    /// its encoded payload.
    Tell {
        /// The sending process.
        from: u64,
        /// The receiving process.
        to: u64,
        /// The trace id.
        trace: u64,
        /// The message type's stable name.
        name: String,
        /// The encoded message.
        #[serde(with = "bytes")]
        payload: Vec<u8>,
    },
    /// A request, answered by [`Response`](Frame::Response) or
    /// [`Failure`](Frame::Failure) with the same `id`.
    Request {
        /// The requesting process.
        from: u64,
        /// The process asked.
        to: u64,
        /// The trace id.
        trace: u64,
        /// The request id, unique per sending node and connection.
        id: u64,
        /// The requester's timeout in milliseconds; 0 = none.
        timeout_ms: u64,
        /// The message type's stable name.
        name: String,
        /// The encoded message.
        #[serde(with = "bytes")]
        payload: Vec<u8>,
    },
    /// The answer to request `id`.
    Response {
        /// The request's id.
        id: u64,
        /// The encoded answer.
        #[serde(with = "bytes")]
        payload: Vec<u8>,
    },
    /// Request `id` failed.
    Failure {
        /// The request's id.
        id: u64,
        /// Why it failed.
        failure: WireFailure,
    },
    /// A tell to `to` that the receiving node refused (the sender reports a
    /// dead letter).
    Refused {
        /// The process that sent the tell.
        from: u64,
        /// The process it was for (0: a group).
        to: u64,
        /// The trace the tell belonged to.
        trace: u64,
        /// The message type's stable name.
        name: String,
        /// Why it was refused.
        failure: WireFailure,
    },
    /// Stop the process `to` (answered by [`Stopped`](Frame::Stopped) once
    /// it exited or was already gone).
    Stop {
        /// The stop's id, echoed by `Stopped`.
        id: u64,
        /// The process to stop.
        to: u64,
        /// The tier of the stop.
        how: WireStop,
    },
    /// The reply to [`Stop`](Frame::Stop).
    Stopped {
        /// The stop's id.
        id: u64,
    },
    /// `watcher` monitors `target` with monitor reference `reference`.
    Monitor {
        /// The monitoring process.
        watcher: u64,
        /// The monitored process.
        target: u64,
        /// The monitor reference.
        reference: u64,
    },
    /// Cancels a monitor.
    Demonitor {
        /// The monitoring process.
        watcher: u64,
        /// The monitored process.
        target: u64,
        /// The monitor reference.
        reference: u64,
    },
    /// `target` exited: for the monitor `reference` of `watcher`.
    Down {
        /// The monitoring process.
        watcher: u64,
        /// The process that exited.
        target: u64,
        /// The monitor reference.
        reference: u64,
        /// How it ended.
        reason: WireExit,
    },
    /// Liveness ping with a sequence number.
    Ping {
        /// The sequence number, echoed by `Pong`.
        seq: u64,
    },
    /// Reply to a ping.
    Pong {
        /// The ping's sequence number.
        seq: u64,
    },
    /// Which process is registered as `name` on the receiving node
    /// (Erlang's `whereis` on another node)? Answered by `Found`.
    Lookup {
        /// Pairs the answer with the question.
        id: u64,
        /// The registered name.
        name: String,
    },
    /// The answer to `Lookup`.
    Found {
        /// The lookup's id.
        id: u64,
        /// The address registered under the name, if any.
        addr: Option<u64>,
    },
    /// A fire-and-forget message to the group `group` of the receiving
    /// node, through the group's router.
    GroupTell {
        /// The sending process (raw address).
        from: u64,
        /// The group's name.
        group: String,
        /// The trace id.
        trace: u64,
        /// The message type's stable name.
        name: String,
        /// The encoded message.
        #[serde(with = "bytes")]
        payload: Vec<u8>,
    },
    /// A request to the group `group`, answered by `Response`/`Failure`
    /// with the same `id`.
    GroupRequest {
        /// The sending process (raw address).
        from: u64,
        /// The group's name.
        group: String,
        /// The trace id.
        trace: u64,
        /// Pairs the answer with the request.
        id: u64,
        /// The request's deadline in ms (0: none).
        timeout_ms: u64,
        /// The message type's stable name.
        name: String,
        /// The encoded message.
        #[serde(with = "bytes")]
        payload: Vec<u8>,
    },
    /// Link the receiving node's process `to` to the process `from` of the
    /// sending node (Erlang's `link` across nodes): `from`'s exit reaches
    /// `to` through its proxy there.
    Link {
        /// The process of the sending node.
        from: u64,
        /// The process of the receiving node.
        to: u64,
    },
    /// Remove what `Link` made.
    Unlink {
        /// The process of the sending node.
        from: u64,
        /// The process of the receiving node.
        to: u64,
    },
}

/// A frame could not be encoded or decoded.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    /// Zero bytes.
    #[error("empty frame")]
    Empty,
    /// The frame is over the size limit (checked before anything is decoded).
    #[error("frame of {len} bytes is over the limit of {max}")]
    TooLarge {
        /// The frame's size in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The first byte is not the version this node speaks.
    #[error("frame version {found}, expected {expected}")]
    Version {
        /// The frame's version byte.
        found: u8,
        /// [`VERSION`].
        expected: u8,
    },
    /// The bytes after the version byte are not a frame (postcard's error,
    /// as text). Encoding reports it too if postcard ever refuses a frame.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// Bytes are left after a complete frame.
    #[error("{extra} bytes after the end of the frame")]
    Trailing {
        /// How many.
        extra: usize,
    },
}

impl Frame {
    /// Encodes the frame: the version byte, then the frame in postcard.
    ///
    /// Fails with [`FrameError::TooLarge`] if the result is over `max` bytes.
    pub fn encode(&self, max: usize) -> Result<Vec<u8>, FrameError> {
        let out = postcard::to_extend(self, vec![VERSION])
            .map_err(|e| FrameError::Malformed(e.to_string()))?;
        if out.len() > max {
            return Err(FrameError::TooLarge {
                len: out.len(),
                max,
            });
        }
        Ok(out)
    }

    /// Decodes one frame from exactly `bytes`.
    ///
    /// Checks, in order: not empty, at most `max` bytes, the version byte,
    /// a well-formed frame, nothing after it. Never panics, and allocates at
    /// most about `bytes.len()` bytes (the strings and payloads it returns)
    /// plus the text of an error.
    pub fn decode(bytes: &[u8], max: usize) -> Result<Frame, FrameError> {
        let Some((&version, body)) = bytes.split_first() else {
            return Err(FrameError::Empty);
        };
        if bytes.len() > max {
            return Err(FrameError::TooLarge {
                len: bytes.len(),
                max,
            });
        }
        if version != VERSION {
            return Err(FrameError::Version {
                found: version,
                expected: VERSION,
            });
        }
        let (frame, rest) = postcard::take_from_bytes::<Frame>(body)
            .map_err(|e| FrameError::Malformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(FrameError::Trailing { extra: rest.len() });
        }
        Ok(frame)
    }

    /// Short name of the kind (`"tell"`, `"request"`, ...), for metrics and
    /// logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Frame::Hello { .. } => "hello",
            Frame::Tell { .. } => "tell",
            Frame::Request { .. } => "request",
            Frame::Response { .. } => "response",
            Frame::Failure { .. } => "failure",
            Frame::Refused { .. } => "refused",
            Frame::Stop { .. } => "stop",
            Frame::Stopped { .. } => "stopped",
            Frame::Monitor { .. } => "monitor",
            Frame::Demonitor { .. } => "demonitor",
            Frame::Down { .. } => "down",
            Frame::Ping { .. } => "ping",
            Frame::Pong { .. } => "pong",
            Frame::Lookup { .. } => "lookup",
            Frame::Found { .. } => "found",
            Frame::GroupTell { .. } => "group_tell",
            Frame::GroupRequest { .. } => "group_request",
            Frame::Link { .. } => "link",
            Frame::Unlink { .. } => "unlink",
        }
    }
}

#[cfg(test)]
mod tests;
