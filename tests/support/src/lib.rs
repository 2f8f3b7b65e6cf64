//! What Herald's tests that run real processes share: the `herald` binary built by cargo
//! ([`herald_binary`]), `herald serve` on SQLite on a random port ([`Registry`]), the
//! Python virtualenv with Confluent's client ([`interop_python`]), and kafkajs with
//! Confluent's schema-registry client for it ([`interop_node_modules`]).
//!
//! The machine's services' addresses and [`unique`] names are here too.
//!
//! Everything here panics with a message saying what is missing, as a test should.

mod binary;
mod kafka;
mod node;
mod serve;
mod services;
mod venv;

pub use binary::herald_binary;
pub use kafka::{
    KAFKA_BROKERS, KAFKA_URL, TANSU_PRODUCER_SETTINGS, TopicMessage, kafka_required, read_topic,
    read_topic_from,
};
pub use node::interop_node_modules;
pub use serve::Registry;
pub use services::{NATS_URL, POSTGRES_URL, unique};
pub use venv::{VenvError, interop_python, python_venv};
