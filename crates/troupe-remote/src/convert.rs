//! Between troupe's types and their wire forms.

use troupe::{ExitReason, RequestError};

use crate::frame::{WireExit, WireFailure};

pub(crate) fn exit_from_wire(reason: WireExit) -> ExitReason {
    match reason {
        WireExit::Normal => ExitReason::Normal,
        WireExit::Shutdown => ExitReason::Shutdown,
        WireExit::Killed => ExitReason::Killed,
        WireExit::Failed(e) => ExitReason::Failed(e),
        WireExit::StartFailed(e) => ExitReason::StartFailed(e),
        WireExit::NoProc => ExitReason::NoProc,
        WireExit::Custom(r) => ExitReason::custom(r),
        WireExit::NodeDown => ExitReason::NodeDown,
    }
}

pub(crate) fn failure_to_wire(err: &RequestError) -> WireFailure {
    match err {
        // The exit reason stays on its node (the wire carries none).
        RequestError::Gone { .. } => WireFailure::Gone,
        RequestError::Full => WireFailure::Full,
        RequestError::Dropped => WireFailure::Dropped,
        RequestError::Timeout(_) => WireFailure::Timeout,
        RequestError::Failed(e) => WireFailure::Failed(e.clone()),
        RequestError::Unhandled(_) => WireFailure::Unhandled,
        RequestError::CallingSelf => WireFailure::Failed("a process cannot request itself".into()),
        RequestError::NodeDown => WireFailure::NodeDown,
    }
}

pub(crate) fn failure_from_wire(failure: WireFailure) -> RequestError {
    match failure {
        WireFailure::Gone => RequestError::gone(),
        WireFailure::Full => RequestError::Full,
        WireFailure::Dropped => RequestError::Dropped,
        WireFailure::Timeout => RequestError::Timeout(std::time::Duration::ZERO),
        WireFailure::Failed(e) => RequestError::Failed(e),
        WireFailure::Unhandled => {
            RequestError::Unhandled("a message the remote actor does not handle")
        }
        WireFailure::UnknownMessage(name) => RequestError::Failed(format!(
            "the remote node does not know the message type {name}"
        )),
        WireFailure::Undecodable(e) => {
            RequestError::Failed(format!("undecodable on the remote node: {e}"))
        }
        WireFailure::NodeDown => RequestError::NodeDown,
        WireFailure::TooLarge => {
            RequestError::Failed("the request exceeds the maximum frame size".into())
        }
    }
}
