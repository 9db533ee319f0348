//! Every actor runs inside a `tracing` span carrying its group, key and address.

use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;
use troupe::prelude::*;

#[derive(Default, Clone)]
struct Spans(Arc<Mutex<Vec<(String, String)>>>);

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        let mut fields = Fields(String::new());
        attrs.record(&mut fields);
        self.0
            .lock()
            .unwrap()
            .push((attrs.metadata().name().to_owned(), fields.0));
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        // Record which span each "started" event happened in.
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        if fields.0.contains("started") {
            let span = ctx.event_span(event).map(|s| s.name().to_owned());
            self.0
                .lock()
                .unwrap()
                .push(("event-in".into(), span.unwrap_or_default()));
        }
    }
}

struct Named;
impl Actor for Named {}

#[test]
fn actors_run_in_a_span_with_their_name_and_address() {
    let spans = Spans::default();
    let subscriber = tracing_subscriber::registry().with(spans.clone());
    let _guard = tracing::subscriber::set_default(subscriber);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr = rt.block_on(async {
        let system = ActorSystem::create("spans").unwrap();
        let h = Named
            .spawn()
            .named("the-name")
            .on_system(&system)
            .await
            .unwrap();
        let addr = h.addr();
        system.shutdown().await;
        addr
    });
    let recorded = spans.0.lock().unwrap().clone();
    let actor_span = recorded
        .iter()
        .find(|(name, _)| name == "actor")
        .expect("an actor span");
    assert!(actor_span.1.contains("group=Named"), "{}", actor_span.1);
    assert!(actor_span.1.contains("key=the-name"), "{}", actor_span.1);
    assert!(
        actor_span.1.contains(&format!("addr={addr}")),
        "{}",
        actor_span.1
    );
    assert!(
        recorded
            .iter()
            .any(|(k, v)| k == "event-in" && v == "actor"),
        "the started event is inside the actor span: {recorded:?}"
    );
}
