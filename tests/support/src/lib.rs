//! What Herald's tests share, process by process and database by database: the machine's
//! services' addresses and [`unique`] names, databases of a test's own ([`TestDatabase`],
//! [`PgSchema`], [`sqlite_pool`]) and JetStream streams ([`JetStreamGuard`]), the `herald`
//! binary built by cargo ([`herald_binary`]), `herald serve` on a random port
//! ([`HeraldServe`]) with a JSON [`Client`], the Kafka test broker, the Python virtualenv
//! with Confluent's client ([`interop_python`]), test CAs and certificates ([`TestCa`]), and kafkajs with Confluent's
//! schema-registry client for it ([`interop_node_modules`]).
//!
//! It depends on neither `herald` nor `herald-registry`: what needs their types stays in
//! the `tests/common` module of that crate.
//!
//! Everything here panics with a message saying what is missing, as a test should.

mod certificates;
mod database;
mod herald_binary;
mod kafka;
mod nats;
mod node;
mod serve;
mod services;
mod venv;

pub use certificates::{CertifiedKey, TestCa};
pub use database::{Backend, PgSchema, TestDatabase, sqlite_pool};
pub use herald_binary::herald_binary;
pub use kafka::{
    KAFKA_BROKERS, KAFKA_URL, TANSU_PRODUCER_SETTINGS, TopicMessage, kafka_required, read_topic,
    read_topic_from,
};
pub use nats::JetStreamGuard;
pub use node::interop_node_modules;
pub use serve::{Client, HeraldServe, ServeSettings};
pub use services::{NATS_URL, POSTGRES_URL, unique};
pub use venv::{VenvError, interop_python, python_venv};
