use super::*;

/// postcard's varint for a `u64`.
fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn failures() -> Vec<WireFailure> {
    vec![
        WireFailure::Gone,
        WireFailure::Full,
        WireFailure::Dropped,
        WireFailure::Timeout,
        WireFailure::Failed("boom".into()),
        WireFailure::Unhandled,
        WireFailure::UnknownMessage("app::Missing".into()),
        WireFailure::Undecodable("bad utf-8".into()),
        WireFailure::NodeDown,
        WireFailure::TooLarge,
    ]
}

fn exits() -> Vec<WireExit> {
    vec![
        WireExit::Normal,
        WireExit::Shutdown,
        WireExit::Killed,
        WireExit::Failed("panicked".into()),
        WireExit::StartFailed("no config".into()),
        WireExit::NoProc,
        WireExit::Custom("lost the lease".into()),
        WireExit::NodeDown,
    ]
}

/// One frame of every variant, and every variant of the enums inside.
fn samples() -> Vec<Frame> {
    let mut frames = vec![
        Frame::Hello {
            node: u16::MAX,
            cluster: "prod-eu".into(),
            nonce: [7; 16],
            proof: [0xa5; 32],
        },
        Frame::Tell {
            from: 1,
            to: u64::MAX,
            trace: 0,
            name: "app::Ping".into(),
            payload: vec![0, 1, 2, 255],
        },
        Frame::Tell {
            from: 0,
            to: 0,
            trace: 0,
            name: String::new(),
            payload: Vec::new(),
        },
        Frame::Request {
            from: 3,
            to: 4,
            trace: 5,
            id: 6,
            timeout_ms: 5_000,
            name: "app::Get".into(),
            payload: vec![9; 300],
        },
        Frame::Response {
            id: 6,
            payload: b"answer".to_vec(),
        },
        Frame::Stopped { id: 9 },
        Frame::Monitor {
            watcher: 1,
            target: 2,
            reference: 3,
        },
        Frame::Demonitor {
            watcher: 1,
            target: 2,
            reference: 3,
        },
        Frame::Ping { seq: 0 },
        Frame::Pong { seq: u64::MAX },
    ];
    for failure in failures() {
        frames.push(Frame::Failure {
            id: 6,
            failure: failure.clone(),
        });
        frames.push(Frame::Refused {
            from: 1,
            to: 2,
            trace: 3,
            name: "app::Ping".into(),
            failure,
        });
    }
    for how in [
        WireStop::Graceful,
        WireStop::Shutdown,
        WireStop::Kill,
        WireStop::Drain,
    ] {
        frames.push(Frame::Stop { id: 8, to: 2, how });
    }
    for reason in exits() {
        frames.push(Frame::Down {
            watcher: 1,
            target: 2,
            reference: 3,
            reason,
        });
    }
    frames
}

#[test]
fn every_variant_round_trips() {
    let mut kinds = std::collections::BTreeSet::new();
    for frame in samples() {
        let bytes = frame.encode(DEFAULT_MAX_FRAME).expect("encodes");
        assert_eq!(bytes[0], VERSION);
        assert_eq!(Frame::decode(&bytes, DEFAULT_MAX_FRAME), Ok(frame.clone()));
        kinds.insert(frame.kind());
    }
    assert_eq!(kinds.len(), 13, "one distinct kind per variant: {kinds:?}");
}

#[test]
fn the_wire_format_is_stable() {
    // Variant index then fields, in postcard; a change here breaks peers.
    let ping = Frame::Ping { seq: 300 };
    assert_eq!(ping.encode(64), Ok(vec![VERSION, 11, 0xac, 0x02]));
    let tell = Frame::Tell {
        from: 1,
        to: 2,
        trace: 3,
        name: "a".into(),
        payload: vec![0xff, 0],
    };
    assert_eq!(
        tell.encode(64),
        Ok(vec![VERSION, 1, 1, 2, 3, 1, b'a', 2, 0xff, 0])
    );
    let down = Frame::Down {
        watcher: 1,
        target: 2,
        reference: 3,
        reason: WireExit::NodeDown,
    };
    assert_eq!(down.encode(64), Ok(vec![VERSION, 10, 1, 2, 3, 7]));
}

#[test]
fn empty_input_is_empty() {
    assert_eq!(
        Frame::decode(&[], DEFAULT_MAX_FRAME),
        Err(FrameError::Empty)
    );
}

#[test]
fn over_the_limit_is_refused_before_decoding() {
    // Not even the version byte is looked at.
    let bytes = vec![0xee; 65];
    assert_eq!(
        Frame::decode(&bytes, 64),
        Err(FrameError::TooLarge { len: 65, max: 64 })
    );
}

#[test]
fn a_frame_at_the_limit_is_accepted() {
    let frame = Frame::Response {
        id: 1,
        payload: vec![1; 100],
    };
    let bytes = frame.encode(DEFAULT_MAX_FRAME).expect("encodes");
    assert_eq!(frame.encode(bytes.len()), Ok(bytes.clone()));
    assert_eq!(Frame::decode(&bytes, bytes.len()), Ok(frame));
}

#[test]
fn encode_refuses_a_frame_over_the_limit() {
    let frame = Frame::Response {
        id: 1,
        payload: vec![1; 100],
    };
    let len = frame.encode(DEFAULT_MAX_FRAME).expect("encodes").len();
    assert_eq!(
        frame.encode(len - 1),
        Err(FrameError::TooLarge { len, max: len - 1 })
    );
    let big = Frame::Response {
        id: 1,
        payload: vec![0; DEFAULT_MAX_FRAME],
    };
    assert!(matches!(
        big.encode(DEFAULT_MAX_FRAME),
        Err(FrameError::TooLarge {
            max: DEFAULT_MAX_FRAME,
            ..
        })
    ));
}

#[test]
fn a_wrong_version_is_refused() {
    let mut bytes = Frame::Ping { seq: 1 }.encode(64).expect("encodes");
    bytes[0] = VERSION + 1;
    assert_eq!(
        Frame::decode(&bytes, 64),
        Err(FrameError::Version {
            found: VERSION + 1,
            expected: VERSION
        })
    );
}

#[test]
fn malformed_frames_are_typed_errors() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("version byte only", vec![VERSION]),
        ("unknown variant", vec![VERSION, 13, 0]),
        (
            "huge variant index",
            vec![VERSION, 0xff, 0xff, 0xff, 0xff, 0x0f],
        ),
        ("truncated varint", vec![VERSION, 11, 0x80]),
        (
            "u64 varint overflow",
            vec![
                VERSION, 11, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
            ],
        ),
        // A node id of 2^21 - 1, then a valid rest of a hello.
        ("u16 overflow", {
            let mut hello = vec![VERSION, 0, 0xff, 0xff, 0x7f, 0];
            hello.extend([0; 48]);
            hello
        }),
        ("string not utf-8", vec![VERSION, 1, 1, 2, 3, 1, 0xff, 0]),
        ("payload cut short", vec![VERSION, 3, 1, 5, 1, 2]),
        ("unknown stop tier", vec![VERSION, 6, 1, 2, 4]),
        ("unknown exit reason", vec![VERSION, 10, 1, 2, 3, 8]),
        ("unknown failure", vec![VERSION, 4, 1, 10]),
        ("hello nonce cut short", vec![VERSION, 0, 1, 0, 1, 2, 3]),
    ];
    for (what, bytes) in cases {
        match Frame::decode(&bytes, DEFAULT_MAX_FRAME) {
            Err(FrameError::Malformed(why)) => assert!(!why.is_empty(), "{what}"),
            other => panic!("{what}: expected Malformed, got {other:?}"),
        }
    }
}

#[test]
fn trailing_bytes_are_refused() {
    let mut bytes = Frame::Pong { seq: 5 }.encode(64).expect("encodes");
    bytes.extend_from_slice(&[0, 0, 0]);
    assert_eq!(
        Frame::decode(&bytes, 64),
        Err(FrameError::Trailing { extra: 3 })
    );
}

#[test]
fn a_huge_length_prefix_is_an_error_not_an_allocation() {
    // A tell whose payload claims 2^60 bytes and carries four.
    let mut bytes = vec![VERSION, 1, 1, 2, 3, 0];
    bytes.extend(varint(1 << 60));
    bytes.extend_from_slice(&[1, 2, 3, 4]);
    assert!(matches!(
        Frame::decode(&bytes, DEFAULT_MAX_FRAME),
        Err(FrameError::Malformed(_))
    ));
    // The same for the name, and for a length past `usize` / `u64`.
    let mut bytes = vec![VERSION, 1, 1, 2, 3];
    bytes.extend(varint(1 << 60));
    bytes.extend_from_slice(b"abcd");
    assert!(matches!(
        Frame::decode(&bytes, DEFAULT_MAX_FRAME),
        Err(FrameError::Malformed(_))
    ));
    let mut bytes = vec![VERSION, 3, 1];
    bytes.extend([0xff; 10]);
    assert!(matches!(
        Frame::decode(&bytes, DEFAULT_MAX_FRAME),
        Err(FrameError::Malformed(_))
    ));
}

#[test]
fn errors_read_well() {
    assert_eq!(
        FrameError::TooLarge { len: 9, max: 8 }.to_string(),
        "frame of 9 bytes is over the limit of 8"
    );
    assert_eq!(
        FrameError::Version {
            found: 2,
            expected: 1
        }
        .to_string(),
        "frame version 2, expected 1"
    );
}

#[test]
fn stop_tiers_and_exit_reasons_convert() {
    for how in [
        StopReason::Graceful,
        StopReason::Shutdown,
        StopReason::Kill,
        StopReason::Drain,
    ] {
        assert_eq!(StopReason::from(WireStop::from(how)), how);
    }
    assert_eq!(
        WireExit::from(&ExitReason::custom("lease")),
        WireExit::Custom("lease".into())
    );
    assert_eq!(
        WireExit::from(&ExitReason::Failed("x".into())),
        WireExit::Failed("x".into())
    );
    assert_eq!(WireExit::from(&ExitReason::NoProc), WireExit::NoProc);
}
