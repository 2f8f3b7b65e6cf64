"""Reads topics from a Kafka-protocol broker with Confluent's DeserializingConsumer.

Reads a JSON request on stdin:
  {"brokers": "host:port", "url": ..., "auth": "user:password",
   "proto": "<path of a .proto file>" | null,
   "topics": [{"topic": ..., "format": "AVRO" | "JSON" | "PROTOBUF", "count": n}, ...]}
and prints one JSON object: {"<topic>": [{"partition", "offset", "key", "headers", "value"}]}
with the first `count` messages of each topic, read from the beginning by a consumer of a
group of its own. Values are deserialized with the writer's schema fetched from the registry
by the id in the frame: Avro with AvroDeserializer (a union value is `[record name, fields]`),
JSON with JSONDeserializer, Protobuf with ProtobufDeserializer for the message the frame's
message indexes name (the .proto file is compiled with grpcio-tools' protoc; the value is
`[message name, fields]`).
"""

import importlib
import io
import json
import os
import sys
import tempfile
import time
import uuid

from confluent_kafka import DeserializingConsumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.common.serde import SchemaId
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
from confluent_kafka.serialization import StringDeserializer
from google.protobuf.json_format import MessageToDict
from grpc_tools import protoc


def protobuf_messages(path):
    """The message classes of the .proto file at `path`, in file order."""
    out = tempfile.mkdtemp()
    folder, name = os.path.split(path)
    status = protoc.main(["protoc", f"-I{folder}", f"--python_out={out}", name])
    if status != 0:
        raise SystemExit(f"protoc failed on {path}")
    sys.path.insert(0, out)
    module = importlib.import_module(name[: -len(".proto")] + "_pb2")
    return [getattr(module, m.name) for m in module.DESCRIPTOR.message_types_by_name.values()]


def protobuf_value(client, classes):
    """A value deserializer choosing the message class by the frame's message indexes."""
    conf = {"use.deprecated.format": False}
    by_index = [ProtobufDeserializer(cls, conf, schema_registry_client=client) for cls in classes]

    def deserialize(data, ctx):
        frame = SchemaId("PROTOBUF")
        frame.from_bytes(io.BytesIO(data))
        [index] = frame.message_indexes or [0]
        message = by_index[index](data, ctx)
        fields = MessageToDict(message, preserving_proto_field_name=True)
        return [message.DESCRIPTOR.name, fields]

    return deserialize


def read(brokers, topic, count, deserializer):
    consumer = DeserializingConsumer(
        {
            "bootstrap.servers": brokers,
            "group.id": f"interop-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "key.deserializer": StringDeserializer("utf_8"),
            "value.deserializer": deserializer,
        }
    )
    consumer.subscribe([topic])
    messages = []
    deadline = time.monotonic() + 60
    while len(messages) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"{topic}: {len(messages)} of {count} messages after 60 s")
        message = consumer.poll(0.5)
        if message is None:
            continue
        if message.error():
            raise SystemExit(f"{topic}: {message.error()}")
        value = message.value()
        messages.append(
            {
                "partition": message.partition(),
                "offset": message.offset(),
                "key": message.key(),
                "headers": {k: v.decode() for k, v in (message.headers() or [])},
                "value": list(value) if isinstance(value, tuple) else value,
            }
        )
    consumer.close()
    return messages


def main():
    request = json.load(sys.stdin)
    client = SchemaRegistryClient({"url": request["url"], "basic.auth.user.info": request["auth"]})
    deserializers = {
        "AVRO": lambda: AvroDeserializer(client, return_record_name=True),
        "JSON": lambda: JSONDeserializer(None, schema_registry_client=client),
        "PROTOBUF": lambda: protobuf_value(client, protobuf_messages(request["proto"])),
    }
    answer = {}
    for topic in request["topics"]:
        deserializer = deserializers[topic["format"]]()
        answer[topic["topic"]] = read(request["brokers"], topic["topic"], topic["count"], deserializer)
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
