//! Field encryption interoperable with Confluent's Python client, against a real
//! `herald serve` (its DEK registry, with `HERALD_LOCAL_KMS_SECRET`) over JetStream: what
//! Confluent's `AvroSerializer` and `FieldEncryptionExecutor` encrypt with the local KMS,
//! Herald's consumer decrypts into the Rust type; what Herald's relay encrypts, Confluent's
//! `AvroDeserializer` decrypts. The tagged fields' plaintext is never on the wire, and the
//! rest of the message is.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use herald::consumer::{Consumer, ConsumerOptions, Handler, Received};
use herald::contract::{Contract, FieldEncryption, LocalKms};
use herald::projection::HandlerError;
use herald::registry_client::RegistryClient;
use herald::relay::{ConfluentFraming, Relay};
use herald::store::memory::MemoryStore;
use herald::store::{EventStore, Expected};
use herald::transport::nats::{NatsOptions, NatsPublisher, NatsSubscriber};
use herald::{Avro, Event, NewEvent};
use herald_test_support::{
    HeraldServe, JetStreamGuard, ServeSettings, TestDatabase, interop_python,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const SECRET: &str = "field-encryption-test-secret";

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "customer", version = 1)]
struct CustomerRegistered {
    customer_id: String,
    #[event(tags("PII"))]
    email: String,
    #[event(tags("PII"))]
    phone: Option<String>,
}

fn customers() -> Vec<CustomerRegistered> {
    vec![
        CustomerRegistered {
            customer_id: "c-1".into(),
            email: "ada@example.com".into(),
            phone: Some("+44 20 7946 0000".into()),
        },
        CustomerRegistered {
            customer_id: "c-2".into(),
            email: "bob@example.com".into(),
            phone: None,
        },
    ]
}

/// `herald serve` with the local KMS's secret.
fn registry() -> HeraldServe {
    ServeSettings::new()
        .env("HERALD_LOCAL_KMS_SECRET", SECRET)
        .start_on(TestDatabase::sqlite())
}

/// Registers the event's Avro schema under `subject` with an ENCRYPT rule on `PII` fields
/// (KEK `kek`, local KMS); returns its id.
async fn register(registry: &HeraldServe, subject: &str, kek: &str) -> u32 {
    register_with(registry, subject, kek, json!({})).await
}

/// [`register`] with more rule parameters.
async fn register_with(registry: &HeraldServe, subject: &str, kek: &str, more: Value) -> u32 {
    let mut params = json!({
        "encrypt.kek.name": kek,
        "encrypt.kms.type": "local-kms",
        "encrypt.kms.key.id": "herald-test",
    });
    for (key, value) in more.as_object().unwrap() {
        params[key] = value.clone();
    }
    let body = json!({
        "schemaType": "AVRO",
        "schema": CustomerRegistered::export_avro_schema().unwrap().to_string(),
        "ruleSet": {"domainRules": [{
            "name": "encrypt-pii",
            "kind": "TRANSFORM",
            "mode": "WRITEREAD",
            "type": "ENCRYPT",
            "tags": ["PII"],
            "params": params,
        }]},
    });
    let (status, answer) = registry
        .post(&format!("/subjects/{subject}/versions"), body)
        .await;
    assert_eq!(status, 200, "{answer}");
    answer["id"].as_u64().unwrap() as u32
}

fn contract(registry: &HeraldServe) -> Arc<Contract> {
    let client = RegistryClient::new(&registry.base).unwrap();
    let encryption = FieldEncryption::new(client.clone()).with_kms(LocalKms::new(SECRET));
    Arc::new(Contract::new(client).with_executor(encryption))
}

/// Records every event the consumer decodes.
struct Log;

impl Handler<sqlx::Sqlite> for Log {
    type Event = CustomerRegistered;

    async fn handle(
        &self,
        connection: &mut sqlx::SqliteConnection,
        message: &Received<CustomerRegistered>,
    ) -> Result<(), HandlerError> {
        sqlx::query("INSERT INTO log (event) VALUES ($1)")
            .bind(serde_json::to_string(&message.event).unwrap())
            .execute(&mut *connection)
            .await?;
        Ok(())
    }
}

/// Consumes the stream with `contract` (or with a bare registry client when `None`); returns
/// the events decoded and how many messages were dead-lettered.
async fn consume(
    jetstream: &JetStreamGuard,
    registry: &HeraldServe,
    contract: Option<Arc<Contract>>,
    expected: u64,
) -> (Vec<CustomerRegistered>, u64) {
    let (pool, _dir) = herald_test_support::sqlite_pool().await;
    sqlx::query("CREATE TABLE log (applied INTEGER PRIMARY KEY, event TEXT)")
        .execute(&pool)
        .await
        .unwrap();
    let subscriber = NatsSubscriber::bind(
        &jetstream.context,
        &jetstream.name,
        &herald_test_support::unique("log"),
        NatsOptions::default(),
    )
    .await
    .unwrap();
    let options = ConsumerOptions {
        max_attempts: 1,
        fetch_wait: Duration::from_millis(300),
        ..ConsumerOptions::default()
    };
    let consumer = Consumer::new(subscriber, "log", pool.clone(), Log, options)
        .await
        .unwrap();
    let consumer = match contract {
        Some(contract) => consumer.with_contract(contract),
        None => consumer.with_registry(RegistryClient::new(&registry.base).unwrap()),
    };
    let (mut seen, mut dead) = (0, 0);
    for _ in 0..50 {
        let stats = consumer.run_batch().await.unwrap();
        seen += stats.applied + stats.dead_lettered;
        dead += stats.dead_lettered;
        if seen >= expected {
            break;
        }
    }
    assert_eq!(seen, expected);
    let rows: Vec<(String,)> = sqlx::query_as("SELECT event FROM log ORDER BY applied")
        .fetch_all(&pool)
        .await
        .unwrap();
    let events = rows
        .into_iter()
        .map(|(event,)| serde_json::from_str(&event).unwrap())
        .collect();
    (events, dead)
}

/// Runs `script` of `tests/interop/` with the virtualenv's python, `request` on its stdin;
/// returns what it prints.
async fn run_python(script: &str, request: Value) -> Value {
    let mut command = Command::new(interop_python());
    command
        .arg(format!(
            "{}/tests/interop/{script}",
            env!("CARGO_MANIFEST_DIR")
        ))
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

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// Asserts that the tagged fields' plaintext is not in `message` and the untagged field's is.
fn assert_encrypted(message: &[u8], customer: &CustomerRegistered) {
    assert!(contains(message, &customer.customer_id));
    assert!(!contains(message, &customer.email), "{message:?}");
    if let Some(phone) = &customer.phone {
        assert!(!contains(message, phone), "{message:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn herald_decrypts_what_confluents_python_serializer_encrypts() {
    let registry = registry();
    let jetstream = JetStreamGuard::create().await;
    let topic = format!("{}.customer", jetstream.name);
    let id = register(&registry, &format!("{topic}-value"), "python-kek").await;
    let request = json!({
        "url": registry.base,
        "secret": SECRET,
        "topic": topic,
        "values": customers(),
    });
    let answer = run_python("encrypting_producer.py", request).await;
    let messages: Vec<Vec<u8>> = answer["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hex| unhex(hex.as_str().unwrap()))
        .collect();
    assert_eq!(messages.len(), 2);
    for (message, customer) in messages.iter().zip(customers()) {
        assert_eq!(ConfluentFraming::unframe(message).unwrap().0, id);
        assert_encrypted(message, &customer);
    }
    // Python created the KEK (not shared) and the subject's DEK, wrapped with the local KMS.
    let (status, dek) = registry
        .get(&format!(
            "/dek-registry/v1/keks/python-kek/deks/{topic}-value/versions/1"
        ))
        .await;
    assert_eq!(status, 200, "{dek}");
    assert_eq!(dek["algorithm"], "AES256_GCM");

    for message in messages {
        jetstream
            .context
            .publish(topic.clone(), message.into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    // Without a contract the consumer refuses the messages rather than decode ciphertext.
    let (events, dead) = consume(&jetstream, &registry, None, 2).await;
    assert_eq!((events.len(), dead), (0, 2));
    let (events, dead) = consume(&jetstream, &registry, Some(contract(&registry)), 2).await;
    assert_eq!(dead, 0);
    assert_eq!(events, customers());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn confluents_python_deserializer_decrypts_what_herald_relays() {
    let registry = registry();
    let jetstream = JetStreamGuard::create().await;
    // The relay publishes a struct event to `<stream>.customer`; the DEK's subject is
    // `<topic>-value`, as Confluent's deserializer of that topic expects.
    let topic = format!("{}.customer", jetstream.name);
    let id = register(&registry, &format!("{topic}-value"), "herald-kek").await;
    let store = MemoryStore::new();
    let events = customers()
        .iter()
        .map(|customer| NewEvent::with_codec::<_, Avro>(customer).unwrap())
        .collect();
    store
        .append("customers", Expected::NoStream, events)
        .await
        .unwrap();
    let relay = Relay::new(
        store,
        NatsPublisher::new(jetstream.context.clone(), jetstream.name.clone()),
        "relay",
    )
    .with_confluent_framing(ConfluentFraming::new().with_event::<CustomerRegistered, Avro>(1, id))
    .with_contract(contract(&registry));
    assert_eq!(relay.run_batch().await.unwrap().published, 2);

    let published = jetstream.messages().await;
    assert_eq!(published.len(), 2);
    for (message, customer) in published.iter().zip(customers()) {
        assert_eq!(message.subject.as_str(), topic);
        assert_encrypted(&message.payload, &customer);
    }
    // Herald created the KEK, not shared, and the DEK wrapped with the local KMS.
    let (status, kek) = registry.get("/dek-registry/v1/keks/herald-kek").await;
    assert_eq!(
        (status, &kek["kmsType"], &kek["shared"]),
        (200, &json!("local-kms"), &json!(false))
    );

    let request = json!({
        "url": registry.base,
        "secret": SECRET,
        "messages": published
            .iter()
            .map(|message| json!({
                "topic": message.subject.as_str(),
                "hex": message.payload.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            }))
            .collect::<Vec<_>>(),
    });
    let answer = run_python("decrypting_deserializer.py", request).await;
    assert_eq!(answer["values"], json!(customers()));

    // And Herald's consumer reads them back.
    let (events, dead) = consume(&jetstream, &registry, Some(contract(&registry)), 2).await;
    assert_eq!((events, dead), (customers(), 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deleting_a_data_subjects_key_shreds_their_fields_and_only_theirs() {
    use herald::Codec;
    use herald::contract::Mode;

    let registry = registry();
    let subject = "customers-value";
    let id = register_with(
        &registry,
        subject,
        "shred-kek",
        json!({"herald.encrypt.subject.field": "customer_id"}),
    )
    .await;
    // Messages as published: each customer's fields under a DEK of their own.
    let writer = contract(&registry);
    let mut published = Vec::new();
    for customer in customers() {
        let datum = Avro::encode(&customer).unwrap();
        let sealed = writer.run(Mode::Write, subject, id, datum).await.unwrap();
        assert_encrypted(&sealed, &customer);
        published.push(sealed);
    }
    for customer_id in ["c-1", "c-2"] {
        let (status, dek) = registry
            .get(&format!(
                "/dek-registry/v1/keks/shred-kek/deks/{subject}:{customer_id}/versions/1"
            ))
            .await;
        assert_eq!(status, 200, "{dek}");
    }
    // A soft delete keeps the key readable; a permanent one shreds c-1.
    let deks = format!("/dek-registry/v1/keks/shred-kek/deks/{subject}:c-1");
    assert_eq!(registry.delete(&deks).await.0, 204);
    let read = |contract: Arc<Contract>, published: Vec<Vec<u8>>| async move {
        let mut events = Vec::new();
        for sealed in published {
            let datum = contract.run(Mode::Read, subject, id, sealed).await.unwrap();
            events.push(CustomerRegistered::decode_with::<Avro>("customer", 1, &datum).unwrap());
        }
        events
    };
    assert_eq!(
        read(contract(&registry), published.clone()).await,
        customers()
    );
    assert_eq!(
        registry.delete(&format!("{deks}?permanent=true")).await.0,
        204
    );
    // A reader without the key in its cache: c-1's tagged fields are gone, the rest of the
    // event decodes, and c-2 is untouched.
    let shredded = read(contract(&registry), published).await;
    let mut expected = customers();
    expected[0].email = String::new();
    expected[0].phone = None;
    assert_eq!(shredded, expected);
}
