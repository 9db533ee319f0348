//! A small HTTP/1.1 client over loopback for the observer's tests, every
//! call bounded in time.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::timeout;

/// How long any one exchange may take.
pub const BOUND: Duration = Duration::from_secs(10);

/// An answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// Sends one request and returns the response with its body unread.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Response<Incoming> {
    let stream = timeout(BOUND, TcpStream::connect(addr))
        .await
        .expect("connect in time")
        .expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let mut req = Request::builder().method(method).uri(path);
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req = req.header("host", addr.to_string());
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Empty::<Bytes>::new()).expect("a request");
    timeout(BOUND, sender.send_request(req))
        .await
        .expect("an answer in time")
        .expect("an answer")
}

/// Sends one request and reads its whole answer.
pub async fn call(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    let res = send(addr, method, path, headers).await;
    let (parts, body) = res.into_parts();
    let body = timeout(BOUND, body.collect())
        .await
        .expect("the body in time")
        .expect("a body")
        .to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// `GET path`.
pub async fn get(addr: SocketAddr, path: &str) -> Answer {
    call(addr, "GET", path, &[]).await
}

/// Polls `GET path` (JSON) until `done` says yes, within [`BOUND`].
pub async fn get_until(
    addr: SocketAddr,
    path: &str,
    mut done: impl FnMut(&serde_json::Value) -> bool,
) -> serde_json::Value {
    timeout(BOUND, async {
        loop {
            let answer = get(addr, path).await;
            let value = answer.json();
            if done(&value) {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{path} never met the condition"))
}
