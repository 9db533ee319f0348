//! A Prometheus scrape of the `observer` example, parsed as the Prometheus
//! text format: the `troupe_*` series the core emits are there, with their
//! labels. The example runs in this process (its code is compiled in), with
//! the global recorder this test binary installs; the scrape is a real
//! HTTP request to the port it bound.

mod common;

#[path = "../examples/observer.rs"]
mod example;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use hyper::StatusCode;
use prometheus_parse::{Sample, Scrape, Value};
use tokio::time::timeout;

fn parse(text: &str) -> Scrape {
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    Scrape::parse(lines).unwrap_or_else(|e| panic!("not the text format ({e}):\n{text}"))
}

fn counter(sample: &Sample) -> f64 {
    match sample.value {
        Value::Counter(v) | Value::Untyped(v) => v,
        ref other => panic!("{} is not a counter: {other:?}", sample.metric),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_of_the_example_has_the_troupe_series_and_labels() {
    let metrics = troupe_observer::install_prometheus().expect("the only recorder here");
    let options = example::Options {
        // Fills at once, then the stuck actor's own timer drops ticks.
        stuck_capacity: 4,
        feed_every: Duration::from_millis(20),
        crash_every: Duration::from_secs(1),
        ..example::Options::default()
    };
    let demo = example::start(&options, Some(metrics), "observer-scrape")
        .await
        .expect("the example starts");
    let at = demo.observer.local_addr();

    let wanted = |scrape: &Scrape| {
        let names: BTreeSet<&str> = scrape.samples.iter().map(|s| s.metric.as_str()).collect();
        let reasons: BTreeSet<&str> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == "troupe_dead_letters_total")
            .filter_map(|s| s.labels.get("reason"))
            .collect();
        names.contains("troupe_timer_ticks_dropped_total")
            && names.contains("troupe_messages_handled_total")
            && names.contains("troupe_mailbox_depth")
            && names.contains("troupe_restarts_total")
            && names.contains("troupe_live_processes")
            && reasons.contains("no_recipient")
            && reasons.contains("overflow")
    };
    let scrape = timeout(Duration::from_secs(30), async {
        loop {
            let answer = get(at, "/metrics").await;
            assert_eq!(answer.status, StatusCode::OK);
            assert!(answer.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain"));
            let scrape = parse(&answer.text());
            if wanted(&scrape) {
                return scrape;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the series appear");

    for sample in scrape
        .samples
        .iter()
        .filter(|s| s.metric.starts_with("troupe_"))
    {
        match sample.metric.as_str() {
            "troupe_dead_letters_total" => {
                let reason = sample.labels.get("reason").expect("a reason label");
                assert!(
                    [
                        "actor_stopped",
                        "overflow",
                        "unhandled",
                        "no_recipient",
                        "undecodable"
                    ]
                    .contains(&reason),
                    "unknown reason {reason}"
                );
                assert!(counter(sample) >= 1.0);
            }
            "troupe_timer_ticks_dropped_total" => {
                assert!(counter(sample) >= 1.0);
            }
            // Per group, never per actor unless a group opts in.
            "troupe_messages_sent_total"
            | "troupe_messages_handled_total"
            | "troupe_mailbox_depth"
            | "troupe_live_processes" => {
                assert!(sample.labels.get("group").is_some(), "{sample:?}");
                assert!(sample.labels.get("actor").is_none(), "{sample:?}");
            }
            "troupe_restarts_total" | "troupe_exits_total" => {
                assert!(sample.labels.get("group").is_some(), "{sample:?}");
                assert!(sample.labels.get("reason").is_some(), "{sample:?}");
            }
            _ => {}
        }
    }
    // The example's system is what the page shows: the stuck actor's
    // mailbox is full, and crashy has been restarted.
    let snap = get_until(at, "/api/v1/snapshot", |s| {
        let find = |name: &str| {
            s["processes"]
                .as_array()
                .and_then(|ps| ps.iter().find(|p| p["name"] == name).cloned())
        };
        let full = find("stuck").is_some_and(|p| p["mailbox_len"] == 4);
        let restarted = find("crashy").is_some_and(|p| p["restarts"].as_u64() >= Some(1));
        full && restarted
    })
    .await;
    assert_eq!(snap["system"]["metrics_enabled"], true);
    demo.stop().await;
}
