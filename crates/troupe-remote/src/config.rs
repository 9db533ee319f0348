//! How a node joins its cluster: endpoints, scouting, the cluster secret,
//! frame and queue limits, the lease that detects a hung peer.

use std::time::Duration;

use crate::frame::DEFAULT_MAX_FRAME;
use crate::RemoteError;

/// How many messages from one node may wait for one full local mailbox
/// (see [`NodeConfig::inlet`]).
pub const DEFAULT_INLET: usize = 256;

/// How a node joins its cluster.
///
/// ```
/// use troupe_remote::NodeConfig;
/// let config = NodeConfig::new("shop", b"cookie")
///     .listen("tcp/127.0.0.1:0")
///     .connect("tcp/127.0.0.1:7447");
/// assert_eq!(config.cluster(), "shop");
/// ```
#[derive(Clone)]
pub struct NodeConfig {
    pub(crate) cluster: String,
    pub(crate) secret: Vec<u8>,
    listen: Vec<String>,
    connect: Vec<String>,
    multicast: bool,
    pub(crate) max_frame: usize,
    pub(crate) lease: Duration,
    pub(crate) inlet: usize,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<Tls>,
}

/// Mutual TLS between the nodes of a cluster (crate feature `tls`): PEM
/// files of the cluster's certificate authority, and of this node's
/// certificate (signed by it, for the host names or addresses the other
/// nodes connect to, with server and client use) and private key (PKCS#8).
///
/// Each side checks the other's certificate, so a node without a
/// certificate of the cluster's authority cannot connect at all, and the
/// traffic is encrypted: this closes what the cookie alone leaves open (a
/// cookie proof seen on the wire could be replayed). The cookie is still
/// checked inside.
#[cfg(feature = "tls")]
#[derive(Clone, Debug)]
pub struct Tls {
    /// The cluster's certificate authority.
    pub ca: std::path::PathBuf,
    /// This node's certificate.
    pub certificate: std::path::PathBuf,
    /// This node's private key.
    pub private_key: std::path::PathBuf,
}

impl NodeConfig {
    /// A node of cluster `cluster`, whose nodes share `secret` (the cluster
    /// cookie: frames from a node that did not prove it knows the secret
    /// are refused). No endpoint, multicast scouting off.
    pub fn new(cluster: impl Into<String>, secret: impl AsRef<[u8]>) -> Self {
        Self {
            cluster: cluster.into(),
            secret: secret.as_ref().to_vec(),
            listen: Vec::new(),
            connect: Vec::new(),
            multicast: false,
            max_frame: DEFAULT_MAX_FRAME,
            lease: Duration::from_secs(2),
            inlet: DEFAULT_INLET,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Listens on a Zenoh endpoint (`tcp/127.0.0.1:7447`; port 0 picks one).
    pub fn listen(mut self, endpoint: impl Into<String>) -> Self {
        self.listen.push(endpoint.into());
        self
    }

    /// Connects to a peer's endpoint at start.
    pub fn connect(mut self, endpoint: impl Into<String>) -> Self {
        self.connect.push(endpoint.into());
        self
    }

    /// Turns multicast scouting on (off by default: explicit endpoints).
    pub fn multicast(mut self, on: bool) -> Self {
        self.multicast = on;
        self
    }

    /// The largest frame sent or accepted (1 MiB by default).
    pub fn max_frame(mut self, bytes: usize) -> Self {
        self.max_frame = bytes;
        self
    }

    /// How long a silent peer link lives before its node counts as down
    /// (2 s by default): what detects a hung node. A crashed one is seen at
    /// once, when its connections close.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How many messages from one node may wait for one local process or
    /// group whose mailbox is full ([`DEFAULT_INLET`] by default; at least
    /// 1).
    ///
    /// A message for a full mailbox whose overflow policy is to wait waits
    /// in an inlet of its own, per sending node and target, so that the
    /// node's messages to other targets go on (no head-of-line blocking);
    /// messages to the same target queue behind it, in order. When an
    /// inlet is full too, the node stops reading from that peer until it
    /// has room: the push-back reaches the senders through the network, and
    /// no queue grows without bound on either side. (Erlang's distribution
    /// has one such limit per connection, its busy port.) A request waits
    /// in an inlet no longer than its deadline.
    pub fn inlet(mut self, messages: usize) -> Self {
        self.inlet = messages.max(1);
        self
    }

    /// Mutual TLS between nodes (crate feature `tls`). Every endpoint must
    /// then be a TLS one (`tls/127.0.0.1:7447`): a plain `tcp/` endpoint is
    /// refused at start, since it would let nodes in without certificates.
    ///
    /// ```
    /// # #[cfg(feature = "tls")] {
    /// use troupe_remote::{NodeConfig, Tls};
    /// let config = NodeConfig::new("shop", b"cookie")
    ///     .tls(Tls {
    ///         ca: "certs/ca.pem".into(),
    ///         certificate: "certs/node.pem".into(),
    ///         private_key: "certs/node.key".into(),
    ///     })
    ///     .listen("tls/127.0.0.1:7447");
    /// # }
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: Tls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The cluster's name.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    pub(crate) fn zenoh(&self) -> Result<zenoh::Config, RemoteError> {
        let mut c = zenoh::Config::default();
        let json = |v: &[String]| serde_json_list(v);
        let set = |c: &mut zenoh::Config, key: &str, value: String| {
            c.insert_json5(key, &value)
                .map_err(|e| RemoteError::Config(format!("{key}: {e}")))
        };
        set(&mut c, "mode", "\"peer\"".into())?;
        set(&mut c, "listen/endpoints", json(&self.listen))?;
        set(&mut c, "connect/endpoints", json(&self.connect))?;
        set(
            &mut c,
            "scouting/multicast/enabled",
            self.multicast.to_string(),
        )?;
        set(
            &mut c,
            "transport/link/tx/lease",
            self.lease.as_millis().max(1).to_string(),
        )?;
        // Four keep-alives per lease: a hung peer is seen within one lease.
        set(&mut c, "transport/link/tx/keep_alive", "4".into())?;
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            self.tls_into(&mut c, tls)?;
        }
        Ok(c)
    }
}

#[cfg(feature = "tls")]
impl NodeConfig {
    /// Zenoh's TLS settings: mutual, names checked on connect.
    fn tls_into(&self, c: &mut zenoh::Config, tls: &Tls) -> Result<(), RemoteError> {
        if let Some(plain) = self
            .listen
            .iter()
            .chain(&self.connect)
            .find(|e| !e.starts_with("tls/"))
        {
            return Err(RemoteError::Config(format!(
                "with TLS every endpoint must be tls/..., not {plain}"
            )));
        }
        let path = |p: &std::path::Path| -> Result<String, RemoteError> {
            std::fs::metadata(p)
                .map_err(|e| RemoteError::Config(format!("TLS file {}: {e}", p.display())))?;
            Ok(format!("{:?}", p.display().to_string()))
        };
        let (ca, cert, key) = (
            path(&tls.ca)?,
            path(&tls.certificate)?,
            path(&tls.private_key)?,
        );
        for (key_path, value) in [
            ("transport/link/tls/root_ca_certificate", ca),
            ("transport/link/tls/listen_certificate", cert.clone()),
            ("transport/link/tls/listen_private_key", key.clone()),
            ("transport/link/tls/connect_certificate", cert),
            ("transport/link/tls/connect_private_key", key),
            ("transport/link/tls/enable_mtls", "true".into()),
            ("transport/link/tls/verify_name_on_connect", "true".into()),
        ] {
            c.insert_json5(key_path, &value)
                .map_err(|e| RemoteError::Config(format!("{key_path}: {e}")))?;
        }
        Ok(())
    }
}

fn serde_json_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(","))
}

impl std::fmt::Debug for NodeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeConfig")
            .field("cluster", &self.cluster)
            .field("listen", &self.listen)
            .field("connect", &self.connect)
            .field("multicast", &self.multicast)
            .field("max_frame", &self.max_frame)
            .field("lease", &self.lease)
            .field("inlet", &self.inlet)
            .finish_non_exhaustive()
    }
}
