//! Actions: stopping and killing a process from the page or the API.
//!
//! Off unless the observer was built with
//! [`Observer::enable_actions`](crate::Observer::enable_actions), and then
//! only for a request that carries the bearer token
//! (`Authorization: Bearer TOKEN`). A refused action is answered 403
//! (`actions_disabled`) or 401 (`unauthorized`, with a
//! `WWW-Authenticate: Bearer` header), and touches nothing.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use troupe::{Addr, NodeNo, StopError, StopReason};

use crate::api::ApiError;
use crate::state::Shared;

/// The shortest bearer token accepted: 16 bytes.
pub const MIN_TOKEN_LEN: usize = 16;

/// A JSON error answer with its status.
pub(crate) fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = ApiError {
        error: code.to_owned(),
        message: message.into(),
    };
    (status, Json(body)).into_response()
}

/// A refused request: its status, code and message, answered as JSON.
#[derive(Debug)]
pub(crate) struct Failure {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Failure {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        error(self.status, self.code, self.message)
    }
}

/// The address `node/id` of a path, or a 400 answer.
pub(crate) fn parse_addr(node: &str, id: &str) -> Result<Addr, Failure> {
    match (node.parse::<u16>(), id.parse::<u64>()) {
        (Ok(node), Ok(id)) if id > 0 && id < (1 << 48) => Ok(Addr::new(NodeNo(node), id)),
        _ => Err(Failure::new(
            StatusCode::BAD_REQUEST,
            "bad_address",
            format!("{node}/{id} is not a process address (node/id)"),
        )),
    }
}

/// `POST /api/v1/processes/{node}/{id}/stop`.
pub(crate) async fn stop(
    State(shared): State<Arc<Shared>>,
    Path((node, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    act(&shared, &node, &id, &headers, StopReason::Graceful).await
}

/// `POST /api/v1/processes/{node}/{id}/kill`.
pub(crate) async fn kill(
    State(shared): State<Arc<Shared>>,
    Path((node, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    act(&shared, &node, &id, &headers, StopReason::Kill).await
}

async fn act(
    shared: &Shared,
    node: &str,
    id: &str,
    headers: &HeaderMap,
    how: StopReason,
) -> Response {
    let Some(token) = &shared.token else {
        return error(
            StatusCode::FORBIDDEN,
            "actions_disabled",
            "stop and kill are disabled on this observer",
        );
    };
    if !token.accepts(headers) {
        let mut response = error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this action needs the observer's bearer token",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    let addr = match parse_addr(node, id) {
        Ok(addr) => addr,
        Err(failure) => return failure.into_response(),
    };
    let verb = if how == StopReason::Kill {
        "kill"
    } else {
        "stop"
    };
    tracing::info!(%addr, action = verb, "observer action");
    match shared.system.stop_process_with(addr, how).await {
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({ "ok": true, "addr": addr.to_string(), "action": verb })),
        )
            .into_response(),
        Err(StopError::NoProcess(_)) => error(
            StatusCode::NOT_FOUND,
            "no_process",
            format!("no process lives at {addr}"),
        ),
        Err(StopError::Vetoed) => error(
            StatusCode::CONFLICT,
            "vetoed",
            format!("{addr} vetoed the graceful stop"),
        ),
        Err(e @ StopError::Timeout(_)) => {
            error(StatusCode::GATEWAY_TIMEOUT, "timeout", e.to_string())
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "failed", e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_as_node_and_id() {
        assert_eq!(parse_addr("0", "42").ok(), Some(Addr::new(NodeNo(0), 42)));
        assert!(parse_addr("0", "0").is_err(), "the null address");
        assert!(parse_addr("x", "1").is_err());
        assert!(parse_addr("70000", "1").is_err());
        assert!(parse_addr("0", "281474976710656").is_err(), "past 48 bits");
    }
}
