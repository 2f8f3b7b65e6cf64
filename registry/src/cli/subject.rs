//! Subject naming strategies: which registry subject an event's snapshots go to.

use clap::ValueEnum;
use herald_registry::schema::SchemaType;
use serde_json::Value;

/// How a subject is named from an event (Confluent's strategies, with the event name standing
/// for the topic).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum SubjectStrategy {
    /// `<event>-value` (Confluent's TopicNameStrategy, the default).
    #[default]
    Topic,
    /// The schema's full record name: the Avro record's `namespace.name`, or the JSON
    /// Schema's `title`; the event name when the schema has neither (an Avro union).
    Record,
    /// `<event>-<record name>` (Confluent's TopicRecordNameStrategy).
    TopicRecord,
}

impl SubjectStrategy {
    /// The subject for `event`'s snapshots of `schema_type` whose text is `text`.
    pub(crate) fn subject(self, event: &str, schema_type: SchemaType, text: &str) -> String {
        match self {
            SubjectStrategy::Topic => herald_protocol::push::topic_subject(event),
            SubjectStrategy::Record => {
                record_name(schema_type, text).unwrap_or_else(|| event.to_owned())
            }
            SubjectStrategy::TopicRecord => {
                let record = record_name(schema_type, text).unwrap_or_else(|| event.to_owned());
                format!("{event}-{record}")
            }
        }
    }
}

/// The full record name of a schema, when it has one.
fn record_name(schema_type: SchemaType, text: &str) -> Option<String> {
    if schema_type == SchemaType::Protobuf {
        // Confluent's record name for Protobuf: the first message's full name.
        let schema = herald_registry::schema::Schema::parse(schema_type, text).ok()?;
        return schema.protobuf_messages().into_iter().next();
    }
    let value: Value = serde_json::from_str(text).ok()?;
    match schema_type {
        SchemaType::Avro => {
            let name = value.get("name")?.as_str()?;
            if name.contains('.') {
                return Some(name.to_owned());
            }
            match value.get("namespace").and_then(Value::as_str) {
                Some(ns) if !ns.is_empty() => Some(format!("{ns}.{name}")),
                _ => Some(name.to_owned()),
            }
        }
        SchemaType::Json | SchemaType::Protobuf => value.get("title")?.as_str().map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AVRO: &str = r#"{"type":"record","name":"Placed","namespace":"order","fields":[]}"#;
    const UNION: &str = r#"[{"type":"record","name":"Placed","namespace":"order","fields":[]}]"#;
    const JSON: &str = r#"{"title":"CustomerRegistered","type":"object"}"#;

    #[test]
    fn strategies_name_subjects() {
        let s = SubjectStrategy::Topic;
        assert_eq!(s.subject("order", SchemaType::Avro, AVRO), "order-value");
        let s = SubjectStrategy::Record;
        assert_eq!(s.subject("order", SchemaType::Avro, AVRO), "order.Placed");
        assert_eq!(s.subject("order", SchemaType::Avro, UNION), "order");
        assert_eq!(
            s.subject("customer", SchemaType::Json, JSON),
            "CustomerRegistered"
        );
        let s = SubjectStrategy::TopicRecord;
        assert_eq!(
            s.subject("order", SchemaType::Avro, AVRO),
            "order-order.Placed"
        );
    }
}
