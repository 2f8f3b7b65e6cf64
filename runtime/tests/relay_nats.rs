//! The relay against the machine's NATS JetStream.

mod common;

use herald::relay::{ConfluentFraming, Relay, RelayError};
use herald::store::{EventStore, Expected};
use herald::transport::nats::NatsPublisher;
use herald::{Avro, Event, Json, NewEvent};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "parcel", version = 1)]
enum ParcelEvent {
    Sent { id: u32 },
    Received { id: u32 },
}

async fn seed<S: EventStore>(store: &S, count: u32) -> Vec<herald::RecordedEvent> {
    for id in 0..count {
        let event = if id % 3 == 0 {
            ParcelEvent::Received { id }
        } else {
            ParcelEvent::Sent { id }
        };
        store
            .append(
                &format!("parcel-{}", id % 4),
                Expected::Any,
                vec![NewEvent::new(&event).unwrap()],
            )
            .await
            .unwrap();
    }
    store.read_all(1, 1000).await.unwrap()
}

fn header(message: &async_nats::jetstream::message::StreamMessage, name: &str) -> String {
    message
        .headers
        .get(name)
        .map(|value| value.as_str().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn publishes_in_order_once_even_when_resent() {
    let (store, _guard) = common::sqlite().await;
    let jetstream = herald_test_support::JetStreamGuard::create().await;
    let events = seed(&store, 30).await;
    let relay = Relay::new(
        store.clone(),
        NatsPublisher::new(jetstream.context.clone(), jetstream.name.clone()),
        "relay",
    )
    .batch_size(8);

    let mut published = 0;
    loop {
        let stats = relay.run_batch().await.unwrap();
        if stats.published == 0 {
            break;
        }
        assert_eq!(stats.duplicates, 0);
        published += stats.published;
    }
    assert_eq!(published, 30);
    assert_eq!(relay.checkpoint().await.unwrap(), 30);
    assert_eq!(relay.lag().await.unwrap().positions, 0);

    // A relay that crashed after publishing but before checkpointing re-sends: JetStream
    // drops the copies.
    relay.commit(10).await.unwrap();
    let mut duplicates = 0;
    loop {
        let stats = relay.run_batch().await.unwrap();
        if stats.published == 0 {
            break;
        }
        duplicates += stats.duplicates;
    }
    assert_eq!(duplicates, 20);

    let messages = jetstream.messages().await;
    assert_eq!(messages.len(), 30);
    for (message, event) in messages.iter().zip(&events) {
        let msg_id = message
            .headers
            .get(async_nats::header::NATS_MESSAGE_ID)
            .unwrap();
        assert_eq!(msg_id.as_str(), event.event_id.to_string());
        assert_eq!(
            header(message, "Herald-Position"),
            event.position.to_string()
        );
        assert_eq!(header(message, "Herald-Event-Type"), event.event_type);
        assert_eq!(
            message.subject.as_str(),
            format!("{}.{}", jetstream.name, event.event_type)
        );
        assert_eq!(message.payload.as_ref(), event.payload.as_slice());
    }
}

#[tokio::test]
async fn frames_payloads_in_the_confluent_wire_format() {
    let (store, _guard) = common::memory().await;
    let jetstream = herald_test_support::JetStreamGuard::create().await;
    let events = seed(&store, 5).await;

    let unframed = Relay::new(
        store.clone(),
        NatsPublisher::new(jetstream.context.clone(), jetstream.name.clone()),
        "no-ids",
    )
    .with_confluent_framing(ConfluentFraming::new());
    assert!(matches!(
        unframed.run_batch().await,
        Err(RelayError::NoSchemaId {
            schema_version: 1,
            ..
        })
    ));

    let framing = ConfluentFraming::new().with_event::<ParcelEvent, Json>(1, 4242);
    assert_eq!(framing.id_of("parcel.sent", 1), Some(4242));
    assert_eq!(framing.id_of("parcel.sent", 2), None);
    let relay = Relay::new(
        store.clone(),
        NatsPublisher::new(jetstream.context.clone(), jetstream.name.clone()),
        "framed",
    )
    .with_confluent_framing(framing);
    assert_eq!(relay.run_batch().await.unwrap().published, 5);
    let messages = jetstream.messages().await;
    assert_eq!(messages.len(), 5);
    for (message, event) in messages.iter().zip(&events) {
        assert_eq!(message.payload[0], 0);
        let (id, payload) = ConfluentFraming::unframe(&message.payload).unwrap();
        assert_eq!(id, 4242);
        assert_eq!(payload, event.payload.as_slice());
    }
    assert_eq!(ConfluentFraming::unframe(b"{}"), None);
}

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "label", version = 1)]
struct Label {
    text: String,
}

/// An Avro-coded payload under its version's union id is a union datum: the magic byte, the
/// id, the event type's branch (its position in the version: `parcel.received` is branch 1,
/// zigzag `0x02`), then the stored record. A struct's Avro schema is its record: no branch.
#[tokio::test]
async fn frames_avro_payloads_as_union_datums() {
    let (store, _guard) = common::memory().await;
    let jetstream = herald_test_support::JetStreamGuard::create().await;
    let events = vec![
        NewEvent::with_codec::<_, Avro>(&ParcelEvent::Sent { id: 7 }).unwrap(),
        NewEvent::with_codec::<_, Avro>(&ParcelEvent::Received { id: 7 }).unwrap(),
        NewEvent::with_codec::<_, Avro>(&Label {
            text: "fragile".into(),
        })
        .unwrap(),
    ];
    store
        .append("parcel-7", Expected::NoStream, events)
        .await
        .unwrap();
    let framing = ConfluentFraming::new()
        .with_event::<ParcelEvent, Avro>(1, 0x0102_0304)
        .with_event::<Label, Avro>(1, 9);
    let relay = Relay::new(
        store.clone(),
        NatsPublisher::new(jetstream.context.clone(), jetstream.name.clone()),
        "avro",
    )
    .with_confluent_framing(framing);
    assert_eq!(relay.run_batch().await.unwrap().published, 3);
    let stored = store.read_all(1, 10).await.unwrap();
    // The records as Avro writes them: `id` 7 is the zigzag long 14, "fragile" is its
    // length 7 (zigzag 14) and its bytes.
    assert_eq!(stored[0].payload, [14]);
    assert_eq!(stored[2].payload, b"\x0efragile");
    let payloads: Vec<Vec<u8>> = jetstream
        .messages()
        .await
        .iter()
        .map(|message| message.payload.to_vec())
        .collect();
    assert_eq!(
        payloads,
        [
            vec![0, 1, 2, 3, 4, 0, 14],
            vec![0, 1, 2, 3, 4, 2, 14],
            [&[0, 0, 0, 0, 9][..], b"\x0efragile"].concat(),
        ]
    );
}
