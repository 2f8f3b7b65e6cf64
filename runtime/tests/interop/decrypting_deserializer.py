"""Reads framed Avro messages with Confluent's Python AvroDeserializer and its field
decryption.

Reads a JSON request on stdin:
  {"url": ..., "secret": "<local KMS secret>",
   "messages": [{"topic": ..., "hex": "<framed bytes>"}, ...]}
and prints one JSON object: {"values": [...]}, each message's value as the deserializer
returns it; the FieldEncryptionExecutor decrypts the fields the writer's ENCRYPT rules
select, with the local KMS.
"""

import json
import sys

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.rules.encryption.encrypt_executor import FieldEncryptionExecutor
from confluent_kafka.schema_registry.rules.encryption.localkms.local_driver import LocalKmsDriver
from confluent_kafka.serialization import MessageField, SerializationContext


def main():
    request = json.load(sys.stdin)
    FieldEncryptionExecutor.register()
    LocalKmsDriver.register()
    client = SchemaRegistryClient({"url": request["url"]})
    deserializer = AvroDeserializer(client, rule_conf={"secret": request["secret"]})
    values = []
    for message in request["messages"]:
        ctx = SerializationContext(message["topic"], MessageField.VALUE)
        values.append(deserializer(bytes.fromhex(message["hex"]), ctx))
    print(json.dumps({"values": values}))


if __name__ == "__main__":
    main()
