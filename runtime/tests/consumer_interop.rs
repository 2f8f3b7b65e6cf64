//! Interop with the clients people already run, against a real registry (`herald serve`,
//! with basic authentication). Over JetStream: messages written by Confluent's Python
//! `AvroSerializer`, and messages Herald's relay frames in the Confluent wire format (JSON and
//! Avro payloads), all read into the consumer's current event version; what the relay frames
//! is also read by Confluent's Python `AvroDeserializer` and `JSONDeserializer`. Over the
//! machine's Kafka-protocol broker: Confluent's Python `DeserializingConsumer` (Avro, JSON
//! Schema and Protobuf) and kafkajs with `@kafkajs/confluent-schema-registry` read every
//! message the relay wrote, and what Confluent's `SerializingProducer` writes is decoded and
//! upcast by Herald's consumer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use herald::consumer::{Consumer, ConsumerOptions, Handler, Received};
use herald::projection::HandlerError;
use herald::registry_client::{RegistryClient, RegistryError, SchemaType, SubjectConfig};
use herald::relay::{ConfluentFraming, Relay};
use herald::store::memory::MemoryStore;
use herald::store::{EventStore, Expected};
use herald::transport::Subscriber;
use herald::transport::kafka::{KafkaOptions, KafkaSubscriber};
use herald::transport::nats::{NatsOptions, NatsPublisher, NatsSubscriber};
use herald::{Avro, Event, Json, NewEvent, RecordedEvent};
use herald_test_support::{
    HeraldServe, KAFKA_BROKERS, ServeSettings, TestDatabase, interop_node_modules, interop_python,
    kafka_required,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

const CREDENTIALS: &str = "producer:s3cret:write\n";

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "shipment", version = 1)]
enum ShipmentV1 {
    Booked { id: String },
    Delivered { id: String },
}

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "shipment", version = 2, upcast_from = ShipmentV1)]
enum Shipment {
    Booked { id: String, carrier: String },
    Delivered { id: String },
}

impl From<ShipmentV1> for Shipment {
    fn from(old: ShipmentV1) -> Self {
        match old {
            ShipmentV1::Booked { id } => Shipment::Booked {
                id,
                carrier: "unknown".into(),
            },
            ShipmentV1::Delivered { id } => Shipment::Delivered { id },
        }
    }
}

/// Records every message: the event as the handler sees it and what wrote it.
struct Log;

/// (shipment, event, carrier, writer's schema version, writer's registry id).
type Row = (String, String, Option<String>, i64, Option<i64>);

impl Handler<sqlx::Sqlite> for Log {
    type Event = Shipment;

    async fn handle(
        &self,
        connection: &mut sqlx::SqliteConnection,
        message: &Received<Shipment>,
    ) -> Result<(), HandlerError> {
        let (id, event, carrier) = match &message.event {
            Shipment::Booked { id, carrier } => (id, "booked", Some(carrier)),
            Shipment::Delivered { id } => (id, "delivered", None),
        };
        sqlx::query(
            "INSERT INTO log (id, event, carrier, version, schema_id) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(event)
        .bind(carrier)
        .bind(i64::from(message.schema_version))
        .bind(message.schema_id.map(i64::from))
        .execute(&mut *connection)
        .await?;
        Ok(())
    }
}

/// Consumes `expected` messages from `subscriber` into a fresh `log` table; returns its rows
/// in the order they were applied.
async fn consume<T: Subscriber>(
    subscriber: T,
    registry: RegistryClient,
    expected: usize,
) -> Vec<Row> {
    let (pool, _dir) = herald_test_support::sqlite_pool().await;
    sqlx::query(
        "CREATE TABLE log (applied INTEGER PRIMARY KEY, id TEXT, event TEXT, carrier TEXT, \
         version BIGINT, schema_id BIGINT)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let options = ConsumerOptions {
        max_attempts: 1,
        fetch_wait: Duration::from_millis(300),
        ..ConsumerOptions::default()
    };
    let consumer = Consumer::new(subscriber, "log", pool.clone(), Log, options)
        .await
        .unwrap()
        .with_registry(registry);
    let mut applied = 0;
    for _ in 0..100 {
        let stats = consumer.run_batch().await.unwrap();
        assert_eq!(
            stats.dead_lettered,
            0,
            "{:?}",
            consumer.dead_letters().await
        );
        applied += stats.applied;
        if applied as usize == expected {
            break;
        }
    }
    assert_eq!(applied as usize, expected);
    sqlx::query_as("SELECT id, event, carrier, version, schema_id FROM log ORDER BY applied")
        .fetch_all(&pool)
        .await
        .unwrap()
}

/// A durable consumer of `jetstream`'s stream.
async fn nats_subscriber(jetstream: &herald_test_support::JetStreamGuard) -> NatsSubscriber {
    NatsSubscriber::bind(
        &jetstream.context,
        &jetstream.name,
        "log",
        NatsOptions::default(),
    )
    .await
    .unwrap()
}

fn client(registry: &HeraldServe) -> RegistryClient {
    RegistryClient::new(&registry.base)
        .unwrap()
        .with_basic_auth("producer", "s3cret")
}

/// Runs `script` of `tests/interop/` with the virtualenv's python, `request` on its stdin;
/// returns what it prints.
async fn run_python(script: &str, request: serde_json::Value) -> serde_json::Value {
    run_script(&interop_python(), script, &[], request).await
}

/// Runs `script` of `tests/interop/` with node and the interop packages, `request` on its
/// stdin; returns what it prints.
async fn run_node(script: &str, request: serde_json::Value) -> serde_json::Value {
    let modules = interop_node_modules();
    run_script(
        Path::new("node"),
        script,
        &[("NODE_PATH", &modules)],
        request,
    )
    .await
}

async fn run_script(
    program: &Path,
    script: &str,
    env: &[(&str, &Path)],
    request: serde_json::Value,
) -> serde_json::Value {
    let mut command = Command::new(program);
    command
        .arg(format!(
            "{}/tests/interop/{script}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().unwrap();
        serde_json::to_writer(child.stdin.take().unwrap(), &request).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn row(id: &str, event: &str, carrier: Option<&str>, version: i64, schema: u32) -> Row {
    (
        id.into(),
        event.into(),
        carrier.map(Into::into),
        version,
        Some(i64::from(schema)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_what_confluents_python_avro_serializer_writes() {
    let registry = ServeSettings::new()
        .users(CREDENTIALS)
        .start_on(TestDatabase::sqlite());
    let v1 = ShipmentV1::export_avro_schema().unwrap().to_string();
    let v2 = Shipment::export_avro_schema().unwrap().to_string();
    let request = json!({
        "url": registry.base,
        "auth": "producer:s3cret",
        "schemas": { "shipments-v1": v1, "shipments-v2": v2 },
        "messages": [
            { "topic": "shipments-v1", "record": "shipment.Booked", "fields": { "id": "s-1" } },
            { "topic": "shipments-v2", "record": "shipment.Booked",
              "fields": { "id": "s-2", "carrier": "dhl" } },
            { "topic": "shipments-v2", "record": "shipment.Delivered", "fields": { "id": "s-1" } },
            { "topic": "shipments-v1", "record": "shipment.Delivered", "fields": { "id": "s-3" } },
        ],
    });
    let answer = run_python("avro_producer.py", request).await;
    let messages: Vec<Vec<u8>> = answer["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hex| {
            let hex = hex.as_str().unwrap();
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect()
        })
        .collect();
    let ids: Vec<u32> = messages
        .iter()
        .map(|message| ConfluentFraming::unframe(message).unwrap().0)
        .collect();
    assert_eq!(ids[0], ids[3]);
    assert_eq!(ids[1], ids[2]);
    assert_ne!(ids[0], ids[1]);

    // The registry asks for credentials, and the client sends them.
    let anonymous = RegistryClient::new(&registry.base).unwrap();
    assert!(matches!(
        anonymous.schema(ids[0]).await,
        Err(RegistryError::Unauthorized { status: 401, .. })
    ));
    assert!(matches!(
        client(&registry).schema(999_999).await,
        Err(RegistryError::NotFound { id: 999_999, .. })
    ));
    let schema = client(&registry).schema(ids[1]).await.unwrap();
    assert_eq!(schema.schema_type, SchemaType::Avro);

    // Lookups and registrations through the same client.
    let writer = client(&registry);
    assert_eq!(
        writer
            .lookup("parcel-lookup", SchemaType::Avro, &schema.schema, &[])
            .await
            .unwrap(),
        None
    );
    let group = SubjectConfig {
        level: None,
        group: Some("herald.major".to_owned()),
    };
    writer
        .update_subject_config("parcel-lookup", &group)
        .await
        .unwrap();
    let properties = [("herald.major", "1")];
    let registered = writer
        .register(
            "parcel-lookup",
            SchemaType::Avro,
            &schema.schema,
            &properties,
        )
        .await
        .unwrap();
    let again = writer
        .register(
            "parcel-lookup",
            SchemaType::Avro,
            &schema.schema,
            &properties,
        )
        .await
        .unwrap();
    assert_eq!(again, registered, "registering it again keeps its id");
    assert_eq!(
        writer
            .lookup(
                "parcel-lookup",
                SchemaType::Avro,
                &schema.schema,
                &properties
            )
            .await
            .unwrap()
            .map(|found| found.id),
        Some(registered)
    );
    assert!(matches!(
        writer
            .register("parcel-lookup", SchemaType::Avro, "{not avro", &[])
            .await,
        Err(RegistryError::Status { status: 422, .. })
    ));

    // Published as a Confluent producer would: framed bytes, no Herald headers.
    let jetstream = herald_test_support::JetStreamGuard::create().await;
    for message in messages {
        jetstream
            .context
            .publish(format!("{}.shipment", jetstream.name), message.into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let registry_client = client(&registry);
    let rows = consume(
        nats_subscriber(&jetstream).await,
        registry_client.clone(),
        4,
    )
    .await;
    assert_eq!(
        rows,
        [
            row("s-1", "booked", Some("unknown"), 1, ids[0]),
            row("s-2", "booked", Some("dhl"), 2, ids[1]),
            row("s-1", "delivered", None, 2, ids[1]),
            row("s-3", "delivered", None, 1, ids[0]),
        ]
    );
    // One fetch per schema id.
    assert_eq!(registry_client.cached(), 2);
}

/// Relays a store holding version 1 and version 2 events, framed with the ids of their
/// `schema_type` schemas, and consumes them.
async fn relay_framed(schema_type: &str) {
    let registry = ServeSettings::new()
        .users(CREDENTIALS)
        .start_on(TestDatabase::sqlite());
    let avro = schema_type == "AVRO";
    let text = |value: serde_json::Value| value.to_string();
    let (v1, v2) = if avro {
        (
            text(ShipmentV1::export_avro_schema().unwrap()),
            text(Shipment::export_avro_schema().unwrap()),
        )
    } else {
        (
            text(ShipmentV1::export_json_schema().unwrap()),
            text(Shipment::export_json_schema().unwrap()),
        )
    };
    let kind = if avro {
        SchemaType::Avro
    } else {
        SchemaType::Json
    };
    let writer = client(&registry);
    let id1 = writer
        .register("shipment-v1-value", kind, &v1, &[])
        .await
        .unwrap();
    let id2 = writer
        .register("shipment-v2-value", kind, &v2, &[])
        .await
        .unwrap();
    let store = MemoryStore::new();
    let events = if avro {
        vec![
            NewEvent::with_codec::<_, Avro>(&ShipmentV1::Booked { id: "s-1".into() }).unwrap(),
            NewEvent::with_codec::<_, Avro>(&Shipment::Delivered { id: "s-1".into() }).unwrap(),
        ]
    } else {
        vec![
            NewEvent::new(&ShipmentV1::Booked { id: "s-1".into() }).unwrap(),
            NewEvent::new(&Shipment::Delivered { id: "s-1".into() }).unwrap(),
        ]
    };
    store
        .append("shipment-s-1", Expected::NoStream, events)
        .await
        .unwrap();
    let jetstream = herald_test_support::JetStreamGuard::create().await;
    let framing = if avro {
        ConfluentFraming::new()
            .with_event::<ShipmentV1, Avro>(1, id1)
            .with_event::<Shipment, Avro>(2, id2)
    } else {
        ConfluentFraming::new()
            .with_event::<ShipmentV1, Json>(1, id1)
            .with_event::<Shipment, Json>(2, id2)
    };
    let relay = Relay::new(
        store,
        NatsPublisher::new(jetstream.context.clone(), jetstream.name.clone()),
        "relay",
    )
    .with_confluent_framing(framing);
    assert_eq!(relay.run_batch().await.unwrap().published, 2);

    // Confluent's own deserializers read what the relay framed with the registered schemas.
    let messages: Vec<serde_json::Value> = jetstream
        .messages()
        .await
        .iter()
        .map(|message| {
            json!({
                "format": schema_type,
                "topic": message.subject.as_str(),
                "hex": hex(&message.payload),
            })
        })
        .collect();
    let request = json!({ "url": registry.base, "auth": "producer:s3cret", "messages": messages });
    let answer = run_python("deserializer.py", request).await;
    let expected = if avro {
        json!([
            ["shipment.Booked", { "id": "s-1" }],
            ["shipment.Delivered", { "id": "s-1" }],
        ])
    } else {
        json!([{ "id": "s-1" }, { "id": "s-1" }])
    };
    assert_eq!(answer["values"], expected);

    let rows = consume(nats_subscriber(&jetstream).await, client(&registry), 2).await;
    assert_eq!(
        rows,
        [
            row("s-1", "booked", Some("unknown"), 1, id1),
            row("s-1", "delivered", None, 2, id2),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_json_payloads_the_relay_frames() {
    relay_framed("JSON").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_avro_payloads_the_relay_frames() {
    relay_framed("AVRO").await;
}

/// Relays `events` (appended in order, each to its stream) from a store of their own to a
/// fresh Kafka topic, framed with `framing`; returns the topic and the stored events.
async fn relay_to_kafka(
    events: Vec<(&str, NewEvent)>,
    framing: ConfluentFraming,
) -> (String, Vec<RecordedEvent>) {
    kafka_required();
    let store = MemoryStore::new();
    for (stream, event) in events {
        store
            .append(stream, Expected::Any, vec![event])
            .await
            .unwrap();
    }
    let topic = herald_test_support::unique("herald_interop");
    let publisher = common::kafka_publisher(KAFKA_BROKERS);
    let name = topic.clone();
    let relay = Relay::new(store.clone(), publisher, "relay")
        .with_topic(move |_| name.clone())
        .with_confluent_framing(framing);
    while relay.run_batch().await.unwrap().last_position > 0 {}
    (topic, store.read_all(1, 100).await.unwrap())
}

/// Three shipment events in two streams, two of version 2 and one of version 1, encoded
/// with `C`.
fn shipments<C: herald::Codec>() -> Vec<(&'static str, NewEvent)> {
    vec![
        (
            "shipment-s-1",
            NewEvent::with_codec::<_, C>(&ShipmentV1::Booked { id: "s-1".into() }).unwrap(),
        ),
        (
            "shipment-s-2",
            NewEvent::with_codec::<_, C>(&Shipment::Booked {
                id: "s-2".into(),
                carrier: "dhl".into(),
            })
            .unwrap(),
        ),
        (
            "shipment-s-1",
            NewEvent::with_codec::<_, C>(&Shipment::Delivered { id: "s-1".into() }).unwrap(),
        ),
    ]
}

/// Registers the two shipment versions' schemas in `kind`, the language of codec `C`, and
/// relays [`shipments`] encoded with `C` and framed with their ids to a fresh topic.
async fn relay_shipments<C: herald::Codec>(
    registry: &HeraldServe,
    kind: SchemaType,
) -> (String, Vec<RecordedEvent>) {
    let (id1, id2) = register_shipments(registry, kind).await;
    let framing = ConfluentFraming::new()
        .with_event::<ShipmentV1, C>(1, id1)
        .with_event::<Shipment, C>(2, id2);
    relay_to_kafka(shipments::<C>(), framing).await
}

/// Registers the two shipment versions' schemas of one language; returns their ids.
async fn register_shipments(registry: &HeraldServe, kind: SchemaType) -> (u32, u32) {
    let (v1, v2) = match kind {
        SchemaType::Avro => (
            ShipmentV1::export_avro_schema().unwrap(),
            Shipment::export_avro_schema().unwrap(),
        ),
        _ => (
            ShipmentV1::export_json_schema().unwrap(),
            Shipment::export_json_schema().unwrap(),
        ),
    };
    let writer = client(registry);
    let subject = |version: u32| format!("shipment-{kind:?}-v{version}-value");
    let id1 = writer
        .register(&subject(1), kind, &v1.to_string(), &[])
        .await
        .unwrap();
    let id2 = writer
        .register(&subject(2), kind, &v2.to_string(), &[])
        .await
        .unwrap();
    (id1, id2)
}

/// The messages one client read, by key in the order read (one key's messages share a
/// partition, so their order is the topic's), checked against the stored events: every
/// event once, its Herald headers, its value as the client decoded it.
fn by_key(
    read: &serde_json::Value,
    events: &[RecordedEvent],
) -> BTreeMap<String, Vec<serde_json::Value>> {
    let read = read.as_array().unwrap();
    assert_eq!(read.len(), events.len(), "{read:?}");
    let mut values: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for (message, event) in read.iter().zip(sorted_like(read, events)) {
        let headers = &message["headers"];
        assert_eq!(message["key"], json!(event.stream_id));
        assert_eq!(
            headers["Herald-Event-Id"],
            json!(event.event_id.to_string())
        );
        assert_eq!(headers["Herald-Event-Type"], json!(event.event_type));
        assert_eq!(
            headers["Herald-Schema-Version"],
            json!(event.schema_version.to_string())
        );
        assert_eq!(
            headers["Herald-Stream-Version"],
            json!(event.stream_version.to_string())
        );
        let key = message["key"].as_str().unwrap().to_owned();
        values
            .entry(key)
            .or_default()
            .push(message["value"].clone());
    }
    values
}

/// The stored event of each message read, found by its event id header (each exactly once).
fn sorted_like<'e>(
    read: &[serde_json::Value],
    events: &'e [RecordedEvent],
) -> Vec<&'e RecordedEvent> {
    let found: Vec<&RecordedEvent> = read
        .iter()
        .map(|message| {
            let id = message["headers"]["Herald-Event-Id"].as_str().unwrap();
            events
                .iter()
                .find(|event| event.event_id.to_string() == id)
                .unwrap_or_else(|| panic!("no stored event has id {id}"))
        })
        .collect();
    let mut ids: Vec<_> = found.iter().map(|event| event.event_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), events.len(), "an event was read twice");
    found
}

/// A Protobuf message of string fields, encoded by hand (field number, value).
fn protobuf(fields: &[(u8, &str)]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (number, value) in fields {
        assert!(value.len() < 128);
        bytes.push((number << 3) | 2);
        bytes.push(value.len() as u8);
        bytes.extend_from_slice(value.as_bytes());
    }
    bytes
}

const PARCEL_PROTO: &str = r#"syntax = "proto3";
package herald.interop;

message Sent {
  string id = 1;
  string carrier = 2;
}

message Returned {
  string id = 1;
  string reason = 2;
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn confluents_python_deserializing_consumer_reads_avro_json_and_protobuf_from_the_relay() {
    let registry = ServeSettings::new()
        .users(CREDENTIALS)
        .start_on(TestDatabase::sqlite());
    let (avro_topic, avro_events) = relay_shipments::<Avro>(&registry, SchemaType::Avro).await;
    let (json_topic, json_events) = relay_shipments::<Json>(&registry, SchemaType::Json).await;
    // A service that stores its events as Protobuf messages: `Sent` is the file's message 0,
    // `Returned` its message 1.
    let proto_id = client(&registry)
        .register("parcel-value", SchemaType::Protobuf, PARCEL_PROTO, &[])
        .await
        .unwrap();
    let raw =
        |event_type: &str, fields: &[(u8, &str)]| NewEvent::raw(event_type, 1, protobuf(fields));
    let (proto_topic, proto_events) = relay_to_kafka(
        vec![
            ("parcel-p-1", raw("parcel.sent", &[(1, "p-1"), (2, "ups")])),
            (
                "parcel-p-1",
                raw("parcel.returned", &[(1, "p-1"), (2, "damaged")]),
            ),
            ("parcel-p-2", raw("parcel.sent", &[(1, "p-2"), (2, "dhl")])),
        ],
        ConfluentFraming::new()
            .with_protobuf("parcel.sent", 1, proto_id, vec![0])
            .with_protobuf("parcel.returned", 1, proto_id, vec![1]),
    )
    .await;
    let proto_dir = tempfile::tempdir().unwrap();
    let proto = proto_dir.path().join("parcel.proto");
    std::fs::write(&proto, PARCEL_PROTO).unwrap();

    let answer = run_python(
        "kafka_consumer.py",
        json!({
            "brokers": KAFKA_BROKERS,
            "url": registry.base,
            "auth": "producer:s3cret",
            "proto": proto,
            "topics": [
                { "topic": avro_topic, "format": "AVRO", "count": 3 },
                { "topic": json_topic, "format": "JSON", "count": 3 },
                { "topic": proto_topic, "format": "PROTOBUF", "count": 3 },
            ],
        }),
    )
    .await;
    assert_eq!(
        by_key(&answer[&avro_topic], &avro_events),
        BTreeMap::from([
            (
                "shipment-s-1".to_owned(),
                vec![
                    json!(["shipment.Booked", { "id": "s-1" }]),
                    json!(["shipment.Delivered", { "id": "s-1" }]),
                ]
            ),
            (
                "shipment-s-2".to_owned(),
                vec![json!(["shipment.Booked", { "id": "s-2", "carrier": "dhl" }])]
            ),
        ])
    );
    assert_eq!(
        by_key(&answer[&json_topic], &json_events),
        BTreeMap::from([
            (
                "shipment-s-1".to_owned(),
                vec![json!({ "id": "s-1" }), json!({ "id": "s-1" })]
            ),
            (
                "shipment-s-2".to_owned(),
                vec![json!({ "id": "s-2", "carrier": "dhl" })]
            ),
        ])
    );
    assert_eq!(
        by_key(&answer[&proto_topic], &proto_events),
        BTreeMap::from([
            (
                "parcel-p-1".to_owned(),
                vec![
                    json!(["Sent", { "id": "p-1", "carrier": "ups" }]),
                    json!(["Returned", { "id": "p-1", "reason": "damaged" }]),
                ]
            ),
            (
                "parcel-p-2".to_owned(),
                vec![json!(["Sent", { "id": "p-2", "carrier": "dhl" }])]
            ),
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kafkajs_with_confluents_schema_registry_client_reads_the_relays_avro() {
    let registry = ServeSettings::new()
        .users(CREDENTIALS)
        .start_on(TestDatabase::sqlite());
    let (topic, events) = relay_shipments::<Avro>(&registry, SchemaType::Avro).await;
    let answer = run_node(
        "kafkajs_consumer.js",
        json!({
            "brokers": KAFKA_BROKERS,
            "url": registry.base,
            "auth": { "username": "producer", "password": "s3cret" },
            "topic": topic,
            "count": 3,
        }),
    )
    .await;
    // avsc, under kafkajs' registry client, gives a union of records as
    // `{ "<record name>": fields }`.
    assert_eq!(
        by_key(&answer["messages"], &events),
        BTreeMap::from([
            (
                "shipment-s-1".to_owned(),
                vec![
                    json!({ "shipment.Booked": { "id": "s-1" } }),
                    json!({ "shipment.Delivered": { "id": "s-1" } }),
                ]
            ),
            (
                "shipment-s-2".to_owned(),
                vec![json!({ "shipment.Booked": { "id": "s-2", "carrier": "dhl" } })]
            ),
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn herald_consumes_and_upcasts_what_confluents_python_serializing_producer_writes() {
    kafka_required();
    let registry = ServeSettings::new()
        .users(CREDENTIALS)
        .start_on(TestDatabase::sqlite());
    let v1_topic = herald_test_support::unique("herald_interop_v1");
    let v2_topic = herald_test_support::unique("herald_interop_v2");
    let produce = |topic: &str, schema: serde_json::Value, messages: serde_json::Value| {
        json!({
            "brokers": KAFKA_BROKERS,
            "url": registry.base,
            "auth": "producer:s3cret",
            "topic": topic,
            "schema": schema.to_string(),
            "messages": messages,
        })
    };
    let v1 = run_python(
        "kafka_producer.py",
        produce(
            &v1_topic,
            ShipmentV1::export_avro_schema().unwrap(),
            json!([
                { "key": "s-1", "record": "shipment.Booked", "fields": { "id": "s-1" } },
                { "key": "s-1", "record": "shipment.Delivered", "fields": { "id": "s-1" } },
            ]),
        ),
    )
    .await;
    let v2 = run_python(
        "kafka_producer.py",
        produce(
            &v2_topic,
            Shipment::export_avro_schema().unwrap(),
            json!([
                { "key": "s-2", "record": "shipment.Booked",
                  "fields": { "id": "s-2", "carrier": "dhl" } },
            ]),
        ),
    )
    .await;
    assert_eq!(
        (v1["delivered"].as_u64(), v2["delivered"].as_u64()),
        (Some(2), Some(1))
    );
    let (id1, id2) = (
        v1["schema_id"].as_u64().unwrap() as u32,
        v2["schema_id"].as_u64().unwrap() as u32,
    );
    assert_ne!(id1, id2);

    let subscriber = KafkaSubscriber::join(
        KafkaOptions::new(KAFKA_BROKERS),
        &herald_test_support::unique("interop"),
        &[v1_topic.as_str(), v2_topic.as_str()],
    )
    .await
    .unwrap();
    let registry_client = client(&registry);
    let mut rows = consume(subscriber, registry_client.clone(), 3).await;
    rows.sort();
    assert_eq!(
        rows,
        [
            row("s-1", "booked", Some("unknown"), 1, id1),
            row("s-1", "delivered", None, 1, id1),
            row("s-2", "booked", Some("dhl"), 2, id2),
        ]
    );
    assert_eq!(registry_client.cached(), 2);
}
