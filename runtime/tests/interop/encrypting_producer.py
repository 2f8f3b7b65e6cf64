"""Serializes records with Confluent's Python AvroSerializer and its field encryption.

Reads a JSON request on stdin:
  {"url": ..., "secret": "<local KMS secret>", "topic": ...,
   "values": [{...}, ...]}
and prints one JSON object: {"messages": ["<hex of the framed bytes>", ...]}. The schema is
the latest version of `<topic>-value` (registered beforehand with its ruleSet); the
FieldEncryptionExecutor encrypts the fields its ENCRYPT rules select, with the local KMS.
"""

import json
import sys

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.rules.encryption.encrypt_executor import FieldEncryptionExecutor
from confluent_kafka.schema_registry.rules.encryption.localkms.local_driver import LocalKmsDriver
from confluent_kafka.serialization import MessageField, SerializationContext


def main():
    request = json.load(sys.stdin)
    FieldEncryptionExecutor.register()
    LocalKmsDriver.register()
    client = SchemaRegistryClient({"url": request["url"]})
    serializer = AvroSerializer(
        client,
        None,
        conf={"auto.register.schemas": False, "use.latest.version": True},
        rule_conf={"secret": request["secret"]},
    )
    ctx = SerializationContext(request["topic"], MessageField.VALUE)
    framed = [serializer(value, ctx).hex() for value in request["values"]]
    print(json.dumps({"messages": framed}))


if __name__ == "__main__":
    main()
