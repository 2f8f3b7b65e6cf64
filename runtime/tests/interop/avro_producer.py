"""Serializes events with Confluent's Python AvroSerializer against a schema registry.

Reads a JSON request on stdin:
  {"url": ..., "auth": "user:password",
   "schemas": {"<topic>": "<Avro schema text>", ...},
   "messages": [{"topic": ..., "record": "<full record name>", "fields": {...}}, ...]}
and prints one JSON object: {"messages": ["<hex of the framed bytes>", ...]}. Each topic's
schema is registered (auto.register.schemas) under `<topic>-value`, Confluent's default
subject; a union value is written in fastavro's tuple notation `(record name, fields)`.
"""

import json
import sys

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext


def main():
    request = json.load(sys.stdin)
    client = SchemaRegistryClient(
        {"url": request["url"], "basic.auth.user.info": request["auth"]}
    )
    serializers = {
        topic: AvroSerializer(client, text, conf={"auto.register.schemas": True})
        for topic, text in request["schemas"].items()
    }
    framed = []
    for message in request["messages"]:
        topic = message["topic"]
        ctx = SerializationContext(topic, MessageField.VALUE)
        value = (message["record"], message["fields"])
        framed.append(serializers[topic](value, ctx).hex())
    print(json.dumps({"messages": framed}))


if __name__ == "__main__":
    main()
