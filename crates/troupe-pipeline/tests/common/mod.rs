//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::sync::mpsc::{Receiver, Sender};
use std::time::Duration;

use troupe_pipeline::{Flow, Reader, Sink, Source, Writer};

/// Bound of every wait in the tests: generous, so that a slow machine does
/// not fail them, yet a hang fails fast enough.
pub const WAIT: Duration = Duration::from_secs(5);

/// A source that writes `items` without losing any (it waits for room), then
/// finishes.
pub fn emit<T: Send + 'static>(items: Vec<T>) -> impl Source<T> {
    let mut items = items.into_iter();
    move |out: &mut Writer<T>| {
        while !out.is_full() {
            match items.next() {
                Some(item) => {
                    out.push(item);
                }
                None => return Flow::Done,
            }
        }
        Flow::Continue
    }
}

/// A sink that collects everything and sends it once its input is closed.
pub fn collect<T: Send + 'static>(tx: Sender<Vec<T>>) -> impl Sink<T> {
    let mut got = Vec::new();
    move |input: &mut Reader<T>| {
        got.extend(input.drain());
        if input.is_closed() {
            let _ = tx.send(std::mem::take(&mut got));
            return Flow::Done;
        }
        Flow::Continue
    }
}

/// Receives one value within [`WAIT`], or fails the test.
pub fn recv<T>(rx: &Receiver<T>) -> T {
    match rx.recv_timeout(WAIT) {
        Ok(value) => value,
        Err(e) => panic!("nothing received within {WAIT:?}: {e}"),
    }
}
