//! The relay against the machine's Kafka-protocol broker (Tansu): keys, partitions, headers
//! and order; a new leader resuming from what the broker holds; a broker that stalls for a
//! while and comes back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use herald::projection::CheckpointStore;
use herald::relay::{ConfluentFraming, Relay};
use herald::store::{EventStore, Expected};
use herald::transport::kafka::{KafkaPublisher, partition_for};
use herald::{Avro, Event, NewEvent, RecordedEvent};
use herald_test_support::{KAFKA_BROKERS, TopicMessage, kafka_required, read_topic};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "parcel", version = 1)]
enum ParcelEvent {
    Sent { id: u32 },
    Received { id: u32 },
}

async fn seed<S: EventStore>(store: &S, count: u32) -> Vec<RecordedEvent> {
    for id in 0..count {
        let event = if id % 3 == 0 {
            ParcelEvent::Received { id }
        } else {
            ParcelEvent::Sent { id }
        };
        store
            .append(
                &format!("parcel-{}", id % 5),
                Expected::Any,
                vec![NewEvent::with_codec::<_, Avro>(&event).unwrap()],
            )
            .await
            .unwrap();
    }
    store.read_all(1, 10_000).await.unwrap()
}

fn relay<S: EventStore + CheckpointStore>(
    store: &S,
    brokers: &str,
    topic: &str,
    name: &str,
) -> Relay<S, KafkaPublisher> {
    let publisher = common::kafka_publisher(brokers);
    let topic = topic.to_owned();
    Relay::new(store.clone(), publisher, name)
        .with_topic(move |_| topic.clone())
        .batch_size(8)
}

/// Runs batches until caught up; returns (published, skipped).
async fn drain<S: EventStore + CheckpointStore>(relay: &Relay<S, KafkaPublisher>) -> (u64, u64) {
    let (mut published, mut skipped) = (0, 0);
    loop {
        let stats = relay.run_batch().await.unwrap();
        if stats.last_position == 0 {
            return (published, skipped);
        }
        published += stats.published;
        skipped += stats.skipped;
    }
}

/// The topic holds each event once, on its stream's partition, in stream order per key.
fn assert_each_event_once_in_order(messages: &[TopicMessage], events: &[RecordedEvent]) {
    let ids: Vec<&str> = messages
        .iter()
        .map(|m| m.header("Herald-Event-Id"))
        .collect();
    let distinct: HashSet<&str> = ids.iter().copied().collect();
    let expected: HashSet<String> = events.iter().map(|e| e.event_id.to_string()).collect();
    assert_eq!(ids.len(), events.len(), "messages in the topic");
    assert_eq!(distinct.len(), ids.len(), "no event twice");
    assert_eq!(
        distinct,
        expected.iter().map(String::as_str).collect::<HashSet<_>>()
    );
    let mut last: BTreeMap<&str, u64> = BTreeMap::new();
    for message in messages {
        let key = message.key.as_deref().unwrap();
        assert_eq!(key, message.header("Herald-Stream-Id"));
        assert_eq!(message.partition, partition_for(key.as_bytes(), 3));
        let version: u64 = message.header("Herald-Stream-Version").parse().unwrap();
        let before = last.insert(key, version).unwrap_or(0);
        assert_eq!(version, before + 1, "stream order of {key}");
    }
}

#[tokio::test]
async fn publishes_each_event_once_keyed_by_stream_in_stream_order() {
    kafka_required();
    let (store, _guard) = common::sqlite().await;
    let events = seed(&store, 60).await;
    let topic = herald_test_support::unique("herald_relay");
    let relay = relay(&store, KAFKA_BROKERS, &topic, "relay");
    assert_eq!(drain(&relay).await, (60, 0));
    assert_eq!(relay.checkpoint().await.unwrap(), 60);

    let messages = read_topic(&topic);
    assert_each_event_once_in_order(&messages, &events);
    let by_id: BTreeMap<String, &RecordedEvent> = events
        .iter()
        .map(|event| (event.event_id.to_string(), event))
        .collect();
    for message in &messages {
        let event = by_id[message.header("Herald-Event-Id")];
        assert_eq!(message.header("Herald-Event-Type"), event.event_type);
        assert_eq!(message.header("Herald-Schema-Version"), "1");
        assert_eq!(
            message.header("Herald-Position"),
            event.position.to_string()
        );
        assert_eq!(
            message.header("Herald-Correlation-Id"),
            event.correlation_id.to_string()
        );
        assert_eq!(message.payload, event.payload);
    }
}

#[tokio::test]
async fn a_new_leader_resumes_from_what_the_broker_holds() {
    kafka_required();
    let (store, _guard) = common::sqlite().await;
    let events = seed(&store, 40).await;
    let topic = herald_test_support::unique("herald_resume");
    let framing = ConfluentFraming::new().with_event::<ParcelEvent, Avro>(1, 77);

    // The first leader publishes a batch and dies before its checkpoint.
    let first =
        relay(&store, KAFKA_BROKERS, &topic, "relay").with_confluent_framing(framing.clone());
    let stats = first.publish_batch().await.unwrap();
    assert_eq!((stats.published, stats.last_position), (8, 8));
    drop(first);

    // The next one reads the partitions' tails: those 8 are skipped, the rest sent once.
    let next = relay(&store, KAFKA_BROKERS, &topic, "relay").with_confluent_framing(framing);
    assert_eq!(drain(&next).await, (32, 8));
    let messages = read_topic(&topic);
    assert_each_event_once_in_order(&messages, &events);
    for message in &messages {
        let (id, _) = ConfluentFraming::unframe(&message.payload).unwrap();
        assert_eq!(id, 77);
    }

    // A checkpoint lost further back changes nothing: everything is found in the broker.
    next.commit(3).await.unwrap();
    assert_eq!(drain(&next).await, (0, 37));
    assert_eq!(read_topic(&topic).len(), 40);
}

/// A broker of the test's own (so that stalling it stops no other test), on a free port.
struct OwnBroker {
    child: Child,
    brokers: String,
}

impl OwnBroker {
    fn start() -> OwnBroker {
        let tansu = std::env::var("HERALD_TANSU")
            .ok()
            .or_else(|| {
                std::env::var("HOME")
                    .ok()
                    .map(|home| format!("{home}/.cache/herald-tansu/bin/tansu"))
            })
            .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(&tansu)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://outage/"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("Tansu is required at {tansu} (scripts/kafka installs it): {error}")
            });
        // Owned before waiting, so that a broker that never listens is killed on the panic.
        let broker = OwnBroker {
            child,
            brokers: format!("127.0.0.1:{port}"),
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(&broker.brokers).is_ok() {
                return broker;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("Tansu did not start on {}", broker.brokers);
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The broker stalls (SIGSTOP) while events are appended and published: the relay keeps
/// retrying, loses nothing, needs no restart, and its lag shows meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_stalls_delays_publishing_and_loses_nothing() {
    let broker = OwnBroker::start();
    let (store, _guard) = common::sqlite().await;
    seed(&store, 20).await;
    let topic = herald_test_support::unique("herald_outage");
    let relay = relay(&store, &broker.brokers, &topic, "relay");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = {
        let relay = relay.clone();
        tokio::spawn(async move {
            relay
                .run(Duration::from_millis(50), async {
                    let _ = stopped.await;
                })
                .await
        })
    };
    wait_for(|| async { relay.lag().await.unwrap().positions == 0 }).await;

    broker.signal("STOP");
    let outage = std::env::var("HERALD_OUTAGE_SECS")
        .ok()
        .and_then(|secs| secs.parse().ok())
        .unwrap_or(30);
    seed(&store, 30).await;
    tokio::time::sleep(Duration::from_secs(outage)).await;
    let lag = relay.lag().await.unwrap();
    println!("lag after {outage} s of outage: {lag:?}");
    assert!(
        lag.positions > 0,
        "nothing can be published while the broker is stopped"
    );
    broker.signal("CONT");

    wait_for(|| async { relay.lag().await.unwrap().positions == 0 }).await;
    let _ = stop.send(());
    let stats = running.await.unwrap().unwrap();
    println!("after the outage: {stats:?}");
    let events = store.read_all(1, 1000).await.unwrap();
    let messages = read_topic_at(&broker.brokers, &topic);
    let ids: Vec<&str> = messages
        .iter()
        .map(|m| m.header("Herald-Event-Id"))
        .collect();
    let distinct: HashSet<&str> = ids.iter().copied().collect();
    println!(
        "{} events, {} messages, {} duplicates",
        events.len(),
        ids.len(),
        ids.len() - distinct.len()
    );
    assert_eq!(distinct.len(), events.len(), "every event is in the topic");
}

fn read_topic_at(brokers: &str, topic: &str) -> Vec<TopicMessage> {
    herald_test_support::read_topic_from(brokers, topic)
}

async fn wait_for<F, Fut>(done: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
