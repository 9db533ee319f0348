//! Mutual TLS between nodes (crate feature `tls`): nodes with certificates
//! of the cluster's authority talk; a node with a certificate of another
//! authority never joins; a plain TCP endpoint beside TLS is refused.
#![cfg(feature = "tls")]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::*;
use tokio::time::timeout;
use troupe::prelude::*;
use troupe_remote::{Node, NodeConfig, RemoteError, Tls};

fn cert(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/certs")
        .join(file)
}

/// The cluster's TLS settings for a node holding `name`.pem/.key, trusting
/// `ca`.
fn tls(ca: &str, name: &str) -> Tls {
    Tls {
        ca: cert(ca),
        certificate: cert(&format!("{name}.pem")),
        private_key: cert(&format!("{name}.key")),
    }
}

async fn start(system: &ActorSystem, config: NodeConfig) -> Node {
    Node::start(system, config, messages())
        .await
        .expect("the node starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_with_the_clusters_certificates_talk_and_a_rogue_one_never_joins() {
    let port = free_port();
    let endpoint = format!("tls/127.0.0.1:{port}");
    let (s1, s2, s3) = (system(1), system(2), system(3));
    let n1 = start(
        &s1,
        NodeConfig::new("tls", b"secret")
            .tls(tls("ca.pem", "node"))
            .listen(endpoint.clone()),
    )
    .await;
    let n2 = start(
        &s2,
        NodeConfig::new("tls", b"secret")
            .tls(tls("ca.pem", "node"))
            .connect(endpoint.clone()),
    )
    .await;
    up(&n1, 2).await;
    up(&n2, 1).await;
    let counter = Counter::default().spawn().on_system(&s1).await.unwrap();
    let there = s2.remote_ref::<Counter>(counter.addr()).expect("a proxy");
    there.notify(Add(2)).await.unwrap();
    assert_eq!(
        timeout(BOUND, there.send(Get)).await.expect("in time"),
        Ok(2)
    );

    // The right cookie, a certificate of another authority: the TLS
    // handshake fails, so node 3 is never up on node 1.
    let n3 = start(
        &s3,
        NodeConfig::new("tls", b"secret")
            .tls(tls("rogue-ca.pem", "rogue"))
            .connect(endpoint),
    )
    .await;
    let joined = timeout(Duration::from_secs(2), up(&n1, 3)).await;
    assert!(
        joined.is_err(),
        "a node without the cluster's certificate joined"
    );
    assert_eq!(n1.peers(), vec![troupe::NodeNo(2)]);
    n3.close().await;
    n2.close().await;
    n1.close().await;
}

#[tokio::test]
async fn tls_settings_that_cannot_work_are_refused_at_start() {
    let system = system(4);
    let plain = NodeConfig::new("tls", b"secret")
        .tls(tls("ca.pem", "node"))
        .listen("tcp/127.0.0.1:0");
    let err = Node::start(&system, plain, messages()).await.unwrap_err();
    assert!(
        matches!(&err, RemoteError::Config(e) if e.contains("tcp/127.0.0.1:0")),
        "{err}"
    );
    let missing = NodeConfig::new("tls", b"secret")
        .tls(tls("ca.pem", "absent"))
        .listen("tls/127.0.0.1:0");
    let err = Node::start(&system, missing, messages()).await.unwrap_err();
    assert!(
        matches!(&err, RemoteError::Config(e) if e.contains("absent.pem")),
        "{err}"
    );
}
