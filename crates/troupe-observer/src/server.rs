//! The HTTP side: the routes, the Host check, and the read-only handlers
//! of the API (actions are in `actions.rs`, live updates in `live.rs`,
//! what they share in `state.rs`).

use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::actions::{self, error, parse_addr, Failure};
use crate::api::{self, ProcessDetail, ProcessView, Snapshot};
use crate::live;
use crate::state::Shared;

/// The observer page: one static file, embedded in the binary.
const PAGE: &str = include_str!("../assets/observer.html");

/// The routes of an observer.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/metrics", get(metrics))
        .route("/api/v1/snapshot", get(snapshot))
        .route("/api/v1/system", get(system))
        .route("/api/v1/processes", get(processes))
        .route("/api/v1/processes/{node}/{id}", get(process))
        .route("/api/v1/processes/{node}/{id}/stop", post(actions::stop))
        .route("/api/v1/processes/{node}/{id}/kill", post(actions::kill))
        .route("/api/v1/tree", get(tree))
        .route("/api/v1/dead-letters", get(dead_letters))
        .route("/api/v1/events", get(live::events))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), check_host))
        .with_state(shared)
}

/// On a loopback listener, answers only requests addressed to a loopback
/// host (`127.0.0.1`, `localhost`, `[::1]`) on its port: a page of another
/// site whose name was made to resolve to 127.0.0.1 (DNS rebinding) gets
/// nothing from it.
async fn check_host(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let Some(port) = shared.loopback_port else {
        return next.run(req).await;
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if is_loopback_host(host, port) {
        next.run(req).await
    } else {
        error(
            StatusCode::FORBIDDEN,
            "bad_host",
            "this observer answers requests to its loopback address only",
        )
    }
}

/// Whether `host` (a Host header) names a loopback host on `port`.
pub(crate) fn is_loopback_host(host: &str, port: u16) -> bool {
    let (name, given_port) = match host.rsplit_once(':') {
        Some((name, p)) if !name.is_empty() && !p.contains(']') => (name, Some(p)),
        _ => (host, None),
    };
    let port_ok = given_port.is_none_or(|p| p.parse::<u16>() == Ok(port));
    let name_ok = name.eq_ignore_ascii_case("localhost")
        || name == "[::1]"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    port_ok && name_ok
}

async fn page() -> Response {
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
            ),
        ],
        Html(PAGE),
    )
        .into_response()
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such page or endpoint",
    )
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    match &shared.prometheus {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "no_metrics",
            "no Prometheus recorder is attached to this observer",
        ),
    }
}

async fn snapshot(State(shared): State<Arc<Shared>>) -> Json<Snapshot> {
    Json(shared.snapshot())
}

async fn system(State(shared): State<Arc<Shared>>) -> Json<api::SystemView> {
    let (s, rates, total) = shared.read();
    Json(api::system_view(&s, &shared.extras(&rates, total)))
}

/// The query of `GET /api/v1/processes`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    sort: Option<String>,
    limit: Option<usize>,
}

async fn processes(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<ProcessView>>, Failure> {
    let (s, rates, total) = shared.read();
    let mut views = api::process_views(&s, &shared.extras(&rates, total));
    // Stable sorts: equal rows stay in spawn order.
    match q.sort.as_deref() {
        None | Some("addr") => {}
        Some("mailbox") => views.sort_by_key(|v| std::cmp::Reverse(v.mailbox_len)),
        Some("rate") => {
            views.sort_by(|a, b| b.rate.unwrap_or(0.0).total_cmp(&a.rate.unwrap_or(0.0)))
        }
        Some("restarts") => views.sort_by_key(|v| std::cmp::Reverse(v.restarts)),
        Some(other) => {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                "bad_query",
                format!("cannot sort by {other:?} (mailbox, rate, restarts or addr)"),
            ))
        }
    }
    if let Some(limit) = q.limit {
        views.truncate(limit);
    }
    Ok(Json(views))
}

async fn process(
    State(shared): State<Arc<Shared>>,
    Path((node, id)): Path<(String, String)>,
) -> Result<Json<ProcessDetail>, Failure> {
    let addr = parse_addr(&node, &id)?;
    let (s, rates, total) = shared.read();
    let x = shared.extras(&rates, total);
    let view = |p: &troupe::ProcessInfo| ProcessView::new(p, x.rates.get(&p.addr()).copied());
    let Some(p) = s.get(addr) else {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            "no_process",
            format!("no process lives at {addr}"),
        ));
    };
    Ok(Json(ProcessDetail {
        process: view(p),
        parent: p.parent.and_then(|a| s.get(a)).map(view),
        children: s.children_of(addr).map(view).collect(),
    }))
}

async fn tree(State(shared): State<Arc<Shared>>) -> Json<Vec<api::TreeNode>> {
    Json(api::tree(&shared.system.snapshot()))
}

async fn dead_letters(State(shared): State<Arc<Shared>>) -> Json<Vec<crate::DeadLetterView>> {
    Json(shared.recent_dead_letters())
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn only_loopback_hosts_on_the_port_pass() {
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST:8080",
            "[::1]:8080",
            "127.0.0.1",
            "127.1.2.3:8080",
        ] {
            assert!(is_loopback_host(ok, 8080), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "127.0.0.1:8081",
            "10.0.0.1:8080",
            "",
            ":8080",
            "[::1]:80",
            "localhost.evil:8080",
        ] {
            assert!(!is_loopback_host(bad, 8080), "{bad}");
        }
    }
}
