//! JetStream streams of a test's own on the machine's NATS server.

use crate::services::clean_up;
use crate::{NATS_URL, unique};

/// A JetStream stream of its own (subjects `<name>.>`), deleted on drop.
pub struct JetStreamGuard {
    /// The JetStream context.
    pub context: async_nats::jetstream::Context,
    /// The stream's name, also the subject prefix.
    pub name: String,
}

impl JetStreamGuard {
    /// Connects to NATS and creates the stream; panics with an explanation if NATS is down.
    pub async fn create() -> JetStreamGuard {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(std::time::Duration::from_secs(5))
            .connect(NATS_URL)
            .await
            .unwrap_or_else(|error| {
                panic!("NATS with JetStream is required at {NATS_URL} and is not reachable: {error}. Start it; these tests never skip.")
            });
        let context = async_nats::jetstream::new(client);
        let name = unique("herald_relay");
        context
            .create_stream(async_nats::jetstream::stream::Config {
                name: name.clone(),
                subjects: vec![format!("{name}.>")],
                ..Default::default()
            })
            .await
            .unwrap_or_else(|error| panic!("cannot create a JetStream stream (is JetStream enabled on {NATS_URL}?): {error}"));
        JetStreamGuard { context, name }
    }

    /// Every message of the stream, in stream order.
    pub async fn messages(&self) -> Vec<async_nats::jetstream::message::StreamMessage> {
        let mut stream = self
            .context
            .get_stream(&self.name)
            .await
            .expect("the stream");
        let count = stream
            .info()
            .await
            .expect("the stream's info")
            .state
            .messages;
        let mut messages = Vec::new();
        for sequence in 1..=count {
            messages.push(
                stream
                    .get_raw_message(sequence)
                    .await
                    .expect("a message of the stream"),
            );
        }
        messages
    }
}

impl Drop for JetStreamGuard {
    fn drop(&mut self) {
        let name = self.name.clone();
        clean_up(async move {
            if let Ok(client) = async_nats::connect(NATS_URL).await {
                let _ = async_nats::jetstream::new(client)
                    .delete_stream(&name)
                    .await;
            }
        });
    }
}
