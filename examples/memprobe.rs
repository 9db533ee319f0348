//! Where an idle actor's heap goes: spawns `n` struct actors (default
//! 10,000) on a current-thread runtime, tells each one message, and with
//! all of them idle prints the live heap growth per actor, split by
//! allocation size.
//!
//! `cargo run --release --example memprobe -- [n]`

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use troupe::prelude::*;

/// Counts live bytes and, while `TRACK` is set, live allocations per size.
struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);
static TRACK: AtomicBool = AtomicBool::new(false);
const SIZES: usize = 4096;
static BY_SIZE: [AtomicI64; SIZES] = [const { AtomicI64::new(0) }; SIZES];

fn record(size: usize, delta: i64) {
    LIVE.fetch_add(delta * size as i64, Ordering::Relaxed);
    if TRACK.load(Ordering::Relaxed) {
        BY_SIZE[size.min(SIZES - 1)].fetch_add(delta, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size(), 1);
        // SAFETY: same layout as the caller's, forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        record(layout.size(), -1);
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(layout.size(), -1);
        record(new_size, 1);
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

#[message]
struct Hello;

struct Idle;

impl Actor for Idle {}

/// Actors that have not handled their `Hello` yet; the last one to handle
/// it wakes the driver.
static PENDING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static ALL_GREETED: tokio::sync::Notify = tokio::sync::Notify::const_new();

impl Handler<Hello> for Idle {
    async fn handle(&mut self, _: Hello, _: &mut ActorContext<Self>) -> HandlerResult {
        if PENDING.fetch_sub(1, Ordering::AcqRel) == 1 {
            ALL_GREETED.notify_one();
        }
        Ok(())
    }
}

/// Spawns `n` actors and tells each a `Hello`; returns once all have
/// handled it.
async fn greet(
    n: usize,
    actors: &mut Vec<ActorRef<Idle>>,
) -> Result<(), Box<dyn std::error::Error>> {
    PENDING.store(n, Ordering::Release);
    for _ in 0..n {
        let a = Idle.spawn().await?;
        a.notify(Hello).await?;
        actors.push(a);
    }
    ALL_GREETED.notified().await;
    Ok(())
}

async fn run(n: usize) -> Result<(), Box<dyn std::error::Error>> {
    // One actor first, so that lazily built system state is not counted.
    let mut first = Vec::with_capacity(1);
    greet(1, &mut first).await?;
    let mut actors = Vec::with_capacity(n);
    TRACK.store(true, Ordering::Relaxed);
    let before = LIVE.load(Ordering::Relaxed);
    greet(n, &mut actors).await?;
    let after = LIVE.load(Ordering::Relaxed);
    TRACK.store(false, Ordering::Relaxed);
    let handles = (n * std::mem::size_of::<ActorRef<Idle>>()) as i64;
    println!(
        "{n} idle actors: {:.1} B per actor ({} B of it the handles' Vec)",
        (after - before) as f64 / n as f64,
        handles as f64 / n as f64
    );
    let mut rows = BTreeMap::new();
    for (size, count) in BY_SIZE.iter().enumerate() {
        let live = count.load(Ordering::Relaxed);
        if live != 0 {
            rows.insert(size, live);
        }
    }
    println!("{:>8} {:>12} {:>14}", "size", "live/actor", "bytes/actor");
    for (size, live) in rows {
        let per = live as f64 / n as f64;
        if per.abs() >= 0.01 {
            println!("{size:>8} {per:>12.2} {:>14.1}", per * size as f64);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(n))
}
