"""Produces events to a Kafka-protocol broker with Confluent's SerializingProducer.

Reads a JSON request on stdin:
  {"brokers": "host:port", "url": ..., "auth": "user:password", "topic": ...,
   "schema": "<Avro schema text>",
   "messages": [{"key": ..., "record": "<full record name>", "fields": {...}}, ...]}
creates the topic (3 partitions; the test broker does not create topics on first use),
registers the schema under `<topic>-value` (auto.register.schemas, Confluent's
TopicNameStrategy), produces each message with an AvroSerializer (a union value in fastavro's
tuple notation `(record name, fields)`) through the idempotent producer, waits for every
delivery and prints {"delivered": n, "schema_id": id}.
"""

import json
import sys

from confluent_kafka import SerializingProducer
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import StringSerializer


def main():
    request = json.load(sys.stdin)
    admin = AdminClient({"bootstrap.servers": request["brokers"]})
    for created in admin.create_topics([NewTopic(request["topic"], 3, 1)]).values():
        created.result()
    client = SchemaRegistryClient({"url": request["url"], "basic.auth.user.info": request["auth"]})
    producer = SerializingProducer(
        {
            "bootstrap.servers": request["brokers"],
            "enable.idempotence": True,
            "key.serializer": StringSerializer("utf_8"),
            "value.serializer": AvroSerializer(
                client, request["schema"], conf={"auto.register.schemas": True}
            ),
        }
    )
    failures = []

    def delivered(error, _message):
        if error is not None:
            failures.append(str(error))

    for message in request["messages"]:
        producer.produce(
            request["topic"],
            key=message["key"],
            value=(message["record"], message["fields"]),
            on_delivery=delivered,
        )
    if producer.flush(30) != 0:
        raise SystemExit("messages still queued after 30 s")
    if failures:
        raise SystemExit(f"delivery failed: {failures}")
    schema_id = client.get_latest_version(f"{request['topic']}-value").schema_id
    print(json.dumps({"delivered": len(request["messages"]), "schema_id": schema_id}))


if __name__ == "__main__":
    main()
