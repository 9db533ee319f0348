//! The cluster cookie: how two nodes prove to each other that they belong
//! to the same cluster.
//!
//! As Erlang's cookie, every node of a cluster is given the same secret.
//! It never goes on the wire: a node opens a connection with a
//! [`Frame::Hello`] carrying its node id, the cluster's name, a fresh random
//! nonce and a [`proof`], the HMAC-SHA256 of those fields keyed with the
//! secret. The receiving node checks it with [`verify`] and refuses every
//! frame from a peer that did not authenticate this way.
//!
//! This authenticates the peer; it does not encrypt or sign the frames that
//! follow (the transport's own security does that, if configured).
//!
//! ```
//! use troupe_remote::auth::{proof, verify};
//! use troupe_remote::frame::Frame;
//!
//! let secret = b"a cluster secret";
//! let nonce = [42; 16];
//! let hello = Frame::Hello {
//!     node: 3,
//!     cluster: "prod".into(),
//!     nonce,
//!     proof: proof(secret, 3, "prod", &nonce),
//! };
//! assert!(verify(secret, &hello));
//! assert!(!verify(b"another secret", &hello));
//! ```

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::frame::Frame;

type HmacSha256 = Hmac<Sha256>;

/// The keyed MAC over `node || cluster || nonce`, ready to be finalized.
fn mac(secret: &[u8], node: u16, cluster: &str, nonce: &[u8; 16]) -> HmacSha256 {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(&node.to_be_bytes());
    // Unambiguous without a length prefix: the name sits between two
    // fields of fixed size.
    mac.update(cluster.as_bytes());
    mac.update(nonce);
    mac
}

/// The proof of a [`Frame::Hello`]: HMAC-SHA256, keyed with the cluster
/// secret, over `node || cluster || nonce`: the node id (2 bytes,
/// big-endian), the cluster's name (its UTF-8 bytes) and the nonce (16 bytes).
pub fn proof(secret: &[u8], node: u16, cluster: &str, nonce: &[u8; 16]) -> [u8; 32] {
    mac(secret, node, cluster, nonce)
        .finalize()
        .into_bytes()
        .into()
}

/// Whether `hello` is a [`Frame::Hello`] whose proof was made with `secret`.
///
/// The comparison takes the same time wherever the proof differs. Any other
/// kind of frame is `false`.
pub fn verify(secret: &[u8], hello: &Frame) -> bool {
    match hello {
        Frame::Hello {
            node,
            cluster,
            nonce,
            proof,
        } => mac(secret, *node, cluster, nonce)
            .verify_slice(proof)
            .is_ok(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(secret: &[u8]) -> Frame {
        let nonce = [9; 16];
        Frame::Hello {
            node: 12,
            cluster: "staging".into(),
            nonce,
            proof: proof(secret, 12, "staging", &nonce),
        }
    }

    #[test]
    fn a_proof_made_with_the_secret_verifies() {
        assert!(verify(b"s3cret", &hello(b"s3cret")));
        assert!(verify(b"", &hello(b"")));
        let long_key = [7u8; 200];
        assert!(verify(&long_key, &hello(&long_key)));
    }

    #[test]
    fn another_secret_or_a_changed_field_fails() {
        assert!(!verify(b"other", &hello(b"s3cret")));
        let Frame::Hello {
            node,
            cluster,
            nonce,
            proof,
        } = hello(b"s3cret")
        else {
            unreachable!()
        };
        let changed = [
            Frame::Hello {
                node: node + 1,
                cluster: cluster.clone(),
                nonce,
                proof,
            },
            Frame::Hello {
                node,
                cluster: "staginG".into(),
                nonce,
                proof,
            },
            Frame::Hello {
                node,
                cluster: cluster.clone(),
                nonce: [8; 16],
                proof,
            },
            Frame::Hello {
                node,
                cluster,
                nonce,
                proof: {
                    let mut p = proof;
                    p[31] ^= 1;
                    p
                },
            },
        ];
        for frame in &changed {
            assert!(!verify(b"s3cret", frame), "{frame:?}");
        }
    }

    #[test]
    fn only_a_hello_verifies() {
        assert!(!verify(b"s3cret", &Frame::Ping { seq: 1 }));
    }

    #[test]
    fn the_proof_is_hmac_sha256_of_the_documented_bytes() {
        // Computed independently of `proof`: the documented layout.
        let mut message = Vec::new();
        message.extend_from_slice(&12u16.to_be_bytes());
        message.extend_from_slice(b"staging");
        message.extend_from_slice(&[9; 16]);
        let mut mac = <HmacSha256 as Mac>::new_from_slice(b"key").expect("any key length");
        mac.update(&message);
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(proof(b"key", 12, "staging", &[9; 16]), expected);
    }

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        // Test case 2 of RFC 4231, to pin the primitive.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(b"Jefe").expect("any key length");
        mac.update(b"what do ya want for nothing?");
        let tag: [u8; 32] = mac.finalize().into_bytes().into();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
