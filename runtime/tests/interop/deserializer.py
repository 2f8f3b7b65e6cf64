"""Reads framed messages with Confluent's Python AvroDeserializer and JSONDeserializer.

Reads a JSON request on stdin:
  {"url": ..., "auth": "user:password",
   "messages": [{"format": "AVRO" | "JSON", "topic": ..., "hex": "<framed bytes>"}, ...]}
and prints one JSON object: {"values": [...]}, each message's value as the deserializer
returns it, with the writer's schema fetched by the id in the frame. A value of an Avro union
of records is `[record name, fields]` (`return_record_name`).
"""

import json
import sys

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def main():
    request = json.load(sys.stdin)
    client = SchemaRegistryClient(
        {"url": request["url"], "basic.auth.user.info": request["auth"]}
    )
    deserializers = {
        "AVRO": AvroDeserializer(client, return_record_name=True),
        "JSON": JSONDeserializer(None, schema_registry_client=client),
    }
    values = []
    for message in request["messages"]:
        ctx = SerializationContext(message["topic"], MessageField.VALUE)
        value = deserializers[message["format"]](bytes.fromhex(message["hex"]), ctx)
        values.append(list(value) if isinstance(value, tuple) else value)
    print(json.dumps({"values": values}))


if __name__ == "__main__":
    main()
