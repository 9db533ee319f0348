//! Between troupe's types and their wire forms.

use troupe::{ExitReason, RequestError, StopReason};

use crate::frame::{WireExit, WireFailure, WireStop};

pub(crate) fn exit_to_wire(reason: &ExitReason) -> WireExit {
    match reason {
        ExitReason::Normal => WireExit::Normal,
        ExitReason::Shutdown => WireExit::Shutdown,
        ExitReason::Killed => WireExit::Killed,
        ExitReason::Failed(e) => WireExit::Failed(e.clone()),
        ExitReason::StartFailed(e) => WireExit::StartFailed(e.clone()),
        ExitReason::NoProc => WireExit::NoProc,
        ExitReason::Custom(r) => WireExit::Custom(r.to_string()),
        ExitReason::NodeDown => WireExit::NodeDown,
    }
}

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
        RequestError::Gone => WireFailure::Gone,
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
        WireFailure::Gone => RequestError::Gone,
        WireFailure::Full => RequestError::Full,
        WireFailure::Dropped => RequestError::Dropped,
        WireFailure::Timeout => RequestError::Timeout(std::time::Duration::ZERO),
        WireFailure::Failed(e) => RequestError::Failed(e),
        WireFailure::Unhandled => RequestError::Unhandled("a message the remote actor does not handle"),
        WireFailure::UnknownMessage(name) => {
            RequestError::Failed(format!("the remote node does not know the message type {name}"))
        }
        WireFailure::Undecodable(e) => RequestError::Failed(format!("undecodable on the remote node: {e}")),
        WireFailure::NodeDown => RequestError::NodeDown,
        WireFailure::TooLarge => RequestError::Failed("the request exceeds the maximum frame size".into()),
    }
}

pub(crate) fn stop_to_wire(how: StopReason) -> WireStop {
    match how {
        StopReason::Graceful => WireStop::Graceful,
        StopReason::Shutdown => WireStop::Shutdown,
        StopReason::Kill => WireStop::Kill,
        StopReason::Drain => WireStop::Drain,
    }
}

pub(crate) fn stop_from_wire(how: WireStop) -> StopReason {
    match how {
        WireStop::Graceful => StopReason::Graceful,
        WireStop::Shutdown => StopReason::Shutdown,
        WireStop::Kill => StopReason::Kill,
        WireStop::Drain => StopReason::Drain,
    }
}
