//! Messages per second, from the processed counters of two snapshots.
//!
//! troupe counts the messages each process handled (a counter it keeps
//! anyway, under the mailbox lock it takes for every message); the
//! observer turns two readings into a rate. Nothing is sampled in the
//! background: a rate is computed when someone asks for a snapshot, so an
//! observer nobody looks at costs the system nothing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use troupe::{Addr, SystemSnapshot};

/// Readings closer together than this keep the previous rates: two pages
/// polling at once do not shorten the interval rates are taken over.
const MIN_INTERVAL: Duration = Duration::from_millis(500);

#[derive(Default)]
struct Inner {
    /// When the baseline was read, and each process's counter then.
    baseline: Option<(Instant, HashMap<Addr, u64>)>,
    /// The rates of the last interval.
    rates: HashMap<Addr, f64>,
    total: Option<f64>,
}

/// The rates of the last sampling interval, renewed by each snapshot
/// taken at least [`MIN_INTERVAL`] after the previous baseline.
#[derive(Default)]
pub(crate) struct Rates {
    inner: Mutex<Inner>,
}

impl Rates {
    /// Updates the rates with `snapshot`, read at `now`; returns the rates
    /// per process and all together.
    pub(crate) fn update(
        &self,
        snapshot: &SystemSnapshot,
        now: Instant,
    ) -> (HashMap<Addr, f64>, Option<f64>) {
        let mut inner = self.inner.lock();
        let due = match &inner.baseline {
            None => true,
            Some((at, _)) => now.saturating_duration_since(*at) >= MIN_INTERVAL,
        };
        if due {
            let counts: HashMap<Addr, u64> = snapshot
                .processes
                .iter()
                .map(|p| (p.addr(), p.status.processed))
                .collect();
            if let Some((at, before)) = inner.baseline.take() {
                let secs = now.saturating_duration_since(at).as_secs_f64();
                let mut rates = HashMap::with_capacity(counts.len());
                let mut total = 0.0;
                for (addr, now_count) in &counts {
                    if let Some(then) = before.get(addr) {
                        let rate = now_count.saturating_sub(*then) as f64 / secs;
                        total += rate;
                        rates.insert(*addr, rate);
                    }
                }
                inner.rates = rates;
                inner.total = Some(total);
            }
            inner.baseline = Some((now, counts));
        }
        (inner.rates.clone(), inner.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use troupe::prelude::*;

    #[message]
    struct Tick;

    struct Counter;
    impl Actor for Counter {}
    impl Handler<Tick> for Counter {
        async fn handle(&mut self, _: Tick, _: &mut ActorContext<Self>) -> HandlerResult {
            Ok(())
        }
    }

    /// A rate is the difference of two readings over the time between
    /// them; readings closer than the minimum interval keep the last one.
    #[tokio::test]
    async fn a_rate_is_the_difference_of_two_readings_over_their_interval() {
        let system = ActorSystem::create("observer-rates").unwrap();
        let counter = Counter.spawn().on_system(&system).await.unwrap();
        let rates = Rates::default();
        let t0 = Instant::now();
        let (first, total) = rates.update(&system.snapshot(), t0);
        assert!(first.is_empty() && total.is_none(), "one reading: no rate");
        for _ in 0..10 {
            counter.notify(Tick).await.unwrap();
        }
        let taken = async {
            while system.process(counter.addr()).unwrap().status.processed < 10 {
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), taken)
            .await
            .expect("the ten are taken");
        let (early, _) = rates.update(&system.snapshot(), t0 + MIN_INTERVAL / 2);
        assert!(early.is_empty(), "too early: the previous rates stay");
        let (second, total) = rates.update(&system.snapshot(), t0 + Duration::from_secs(2));
        let rate = second[&counter.addr()];
        assert_eq!(rate, 5.0, "ten messages in two seconds");
        assert_eq!(total, Some(5.0));
        system.shutdown().await;
    }
}
