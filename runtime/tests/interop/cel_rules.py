"""Serializes records with Confluent's Python serializers, whose CEL executors (CelExecutor,
CelFieldExecutor) run the rules of the subject's latest version.

Reads a JSON request on stdin:
  {"url": ..., "cases": [{"subject": ..., "format": "AVRO" | "JSON", "records": [...]}, ...]}
Each subject's latest version (registered beforehand, with its ruleSet) is used as is
(use.latest.version, no auto-registration). Prints one JSON object:
  {"cases": [[{"accepted": true, "value": <record read back>} |
              {"accepted": false, "error": "<why>"}, ...], ...]}
The record read back is the serialized bytes deserialized without rules (the rules are WRITE
rules), so it is the record as the rules left it.
"""

import json
import sys

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.rules.cel.cel_executor import CelExecutor
from confluent_kafka.schema_registry.rules.cel.cel_field_executor import CelFieldExecutor
from confluent_kafka.serialization import MessageField, SerializationContext

CONF = {"auto.register.schemas": False, "use.latest.version": True}


def serdes(client, fmt):
    if fmt == "AVRO":
        return AvroSerializer(client, None, conf=CONF), AvroDeserializer(client)
    return JSONSerializer(None, client, conf=CONF), JSONDeserializer(None, schema_registry_client=client)


def cause(error):
    while error.__cause__ is not None:
        error = error.__cause__
    return f"{type(error).__name__}: {error}"


def main():
    request = json.load(sys.stdin)
    CelExecutor.register()
    CelFieldExecutor.register()
    client = SchemaRegistryClient({"url": request["url"]})
    answers = []
    for case in request["cases"]:
        serializer, deserializer = serdes(client, case["format"])
        topic = case["subject"].removesuffix("-value")
        ctx = SerializationContext(topic, MessageField.VALUE)
        results = []
        for record in case["records"]:
            try:
                framed = serializer(record, ctx)
            except Exception as error:  # noqa: BLE001 - the verdict is what is reported
                results.append({"accepted": False, "error": cause(error)})
                continue
            results.append({"accepted": True, "value": deserializer(framed, ctx)})
        answers.append(results)
    print(json.dumps({"cases": answers}))


if __name__ == "__main__":
    main()
