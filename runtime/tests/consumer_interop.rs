//! The consumer's decode path against a real registry (`herald serve`, with basic
//! authentication): messages written by Confluent's Python `AvroSerializer`, and messages
//! Herald's relay frames in the Confluent wire format (JSON and Avro payloads), all read
//! from JetStream into the consumer's current event version; what the relay frames is also
//! read by Confluent's Python `AvroDeserializer` and `JSONDeserializer`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use herald::consumer::{Consumer, ConsumerOptions, Handler, Received};
use herald::projection::HandlerError;
use herald::registry_client::{RegistryClient, RegistryError, SchemaType};
use herald::relay::{ConfluentFraming, Relay};
use herald::store::memory::MemoryStore;
use herald::store::{EventStore, Expected};
use herald::transport::nats::{NatsOptions, NatsPublisher, NatsSubscriber};
use herald::{Avro, Event, Json, NewEvent};
use herald_test_support::{Registry, interop_python};
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
            "INSERT INTO log (sequence, id, event, carrier, version, schema_id) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(message.stream_sequence as i64)
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

/// Consumes every message of `jetstream`'s stream into a fresh `log` table; returns its rows
/// in stream order.
async fn consume(
    jetstream: &common::JetStreamGuard,
    registry: RegistryClient,
    expected: usize,
) -> Vec<Row> {
    let (pool, _dir) = common::sqlite_pool().await;
    sqlx::query(
        "CREATE TABLE log (sequence BIGINT PRIMARY KEY, id TEXT, event TEXT, carrier TEXT, \
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
    let subscriber = NatsSubscriber::bind(
        &jetstream.context,
        &jetstream.name,
        "log",
        NatsOptions::default(),
    )
    .await
    .unwrap();
    let consumer = Consumer::new(subscriber, "log", pool.clone(), Log, options)
        .await
        .unwrap()
        .with_registry(registry);
    let mut applied = 0;
    for _ in 0..50 {
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
    sqlx::query_as("SELECT id, event, carrier, version, schema_id FROM log ORDER BY sequence")
        .fetch_all(&pool)
        .await
        .unwrap()
}

fn client(registry: &Registry) -> RegistryClient {
    RegistryClient::new(&registry.base)
        .unwrap()
        .with_basic_auth("producer", "s3cret")
}

/// Runs `script` of `tests/interop/` with the virtualenv's python, `request` on its stdin;
/// returns what it prints.
async fn run_python(script: &str, request: serde_json::Value) -> serde_json::Value {
    let python = interop_python();
    let script = format!("{}/tests/interop/{script}", env!("CARGO_MANIFEST_DIR"));
    let output = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        serde_json::to_writer(child.stdin.take().unwrap(), &request).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "the Python client failed: {}",
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
    let registry = Registry::start(Some(CREDENTIALS));
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
            .lookup("parcel-lookup", SchemaType::Avro, &schema.schema)
            .await
            .unwrap(),
        None
    );
    writer
        .set_compatibility_group("parcel-lookup", "herald.major")
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
            .lookup("parcel-lookup", SchemaType::Avro, &schema.schema)
            .await
            .unwrap(),
        Some(registered)
    );
    assert!(matches!(
        writer
            .register("parcel-lookup", SchemaType::Avro, "{not avro", &[])
            .await,
        Err(RegistryError::Status { status: 422, .. })
    ));

    // Published as a Confluent producer would: framed bytes, no Herald headers.
    let jetstream = common::JetStreamGuard::create().await;
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
    let rows = consume(&jetstream, registry_client.clone(), 4).await;
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
    let registry = Registry::start(Some(CREDENTIALS));
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
    let jetstream = common::JetStreamGuard::create().await;
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

    let rows = consume(&jetstream, client(&registry), 2).await;
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
