"""Drives `herald serve` with Confluent's own Python client (confluent-kafka).

Usage: python confluent_client.py http://127.0.0.1:PORT

Every step prints `ok: <step>`; the script exits non-zero on the first failure and prints
`INTEROP OK` when everything passed.
"""

import json
import struct
import sys

from confluent_kafka.schema_registry import (
    Metadata,
    MetadataProperties,
    MetadataTags,
    Rule,
    RuleKind,
    RuleMode,
    RuleParams,
    RuleSet,
    Schema,
    SchemaRegistryClient,
    ServerConfig,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext


def step(name):
    print(f"ok: {name}", flush=True)


def expect_error(code, call):
    try:
        call()
    except SchemaRegistryError as err:
        assert err.error_code == code, f"expected {code}, got {err.error_code}: {err}"
        return err
    raise AssertionError(f"expected error {code}, the call succeeded")


def main(url):
    client = SchemaRegistryClient({"url": url})

    order_v1 = json.dumps({
        "type": "record", "name": "Order", "namespace": "com.acme",
        "fields": [{"name": "id", "type": "string"}, {"name": "amount", "type": "long"}],
    })
    order_v2 = json.dumps({
        "type": "record", "name": "Order", "namespace": "com.acme",
        "fields": [
            {"name": "id", "type": "string"},
            {"name": "amount", "type": "long"},
            {"name": "note", "type": ["null", "string"], "default": None},
        ],
    })
    order_bad = json.dumps({
        "type": "record", "name": "Order", "namespace": "com.acme",
        "fields": [
            {"name": "id", "type": "string"},
            {"name": "amount", "type": "long"},
            {"name": "currency", "type": "string"},
        ],
    })

    schema_id = client.register_schema("orders-value", Schema(order_v1, "AVRO"))
    assert isinstance(schema_id, int) and schema_id > 0, schema_id
    fresh = SchemaRegistryClient({"url": url})
    again = fresh.register_schema("orders-value", Schema(order_v1, "AVRO"))
    assert again == schema_id, (again, schema_id)
    other = fresh.register_schema("orders-copy", Schema(order_v1, "AVRO"))
    assert other == schema_id, (other, schema_id)
    step("register")

    fetched = fresh.get_schema(schema_id)
    assert json.loads(fetched.schema_str) == json.loads(order_v1), fetched.schema_str
    assert fetched.schema_type == "AVRO", fetched.schema_type
    step("get by id")

    assert sorted(fresh.get_subjects()) == ["orders-copy", "orders-value"], fresh.get_subjects()
    latest = fresh.get_latest_version("orders-value")
    assert latest.schema_id == schema_id and latest.version == 1, latest
    assert fresh.get_versions("orders-value") == [1]
    by_version = fresh.get_version("orders-value", 1)
    assert by_version.schema_id == schema_id
    step("latest version")

    looked = fresh.lookup_schema("orders-value", Schema(order_v1, "AVRO"))
    assert looked.schema_id == schema_id and looked.version == 1, looked
    expect_error(40403, lambda: fresh.lookup_schema("orders-value", Schema(order_v2, "AVRO")))
    expect_error(40401, lambda: fresh.lookup_schema("nobody", Schema(order_v1, "AVRO")))
    step("lookup")

    assert fresh.test_compatibility("orders-value", Schema(order_v2, "AVRO")) is True
    assert fresh.test_compatibility("orders-value", Schema(order_bad, "AVRO")) is False
    err = expect_error(40901, lambda: fresh.register_schema("orders-value", Schema(order_bad, "AVRO")))
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in str(err), str(err)
    v2_id = fresh.register_schema("orders-value", Schema(order_v2, "AVRO"))
    assert v2_id != schema_id
    assert SchemaRegistryClient({"url": url}).get_latest_version("orders-value").version == 2
    step("test compatibility")

    assert fresh.set_compatibility("orders-value", "FULL")["compatibility"] == "FULL"
    assert fresh.get_compatibility("orders-value") == "FULL"
    assert fresh.set_compatibility(level="FORWARD")["compatibility"] == "FORWARD"
    assert fresh.get_compatibility() == "FORWARD"
    fresh.set_compatibility(level="BACKWARD")
    step("set config")

    assert fresh.delete_version("orders-copy", 1) == 1
    assert fresh.delete_subject("orders-copy", permanent=True) == [1]
    assert "orders-copy" not in fresh.get_subjects()
    expect_error(40401, lambda: SchemaRegistryClient({"url": url}).get_latest_version("orders-copy"))
    step("delete")

    # Avro serializer round trip through the Confluent wire format.
    ctx = SerializationContext("payments", MessageField.VALUE)
    payment_schema = json.dumps({
        "type": "record", "name": "Payment", "namespace": "com.acme",
        "fields": [{"name": "id", "type": "string"}, {"name": "cents", "type": "long"},
                   {"name": "memo", "type": ["null", "string"], "default": None}],
    })
    serializer = AvroSerializer(client, payment_schema)
    record = {"id": "p-1", "cents": 1234, "memo": "thanks"}
    data = serializer(record, ctx)
    assert data[0] == 0, data[:5]
    wire_id = struct.unpack(">I", data[1:5])[0]
    registered = SchemaRegistryClient({"url": url}).get_latest_version("payments-value")
    assert wire_id == registered.schema_id, (wire_id, registered.schema_id)
    deserializer = AvroDeserializer(SchemaRegistryClient({"url": url}))
    assert deserializer(data, ctx) == record
    step(f"avro serializer round trip (schema id {wire_id})")

    # JSON Schema serializer round trip.
    jctx = SerializationContext("shipments", MessageField.VALUE)
    shipment_schema = json.dumps({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Shipment", "type": "object",
        "properties": {"id": {"type": "string"}, "weight": {"type": "number"}},
        "required": ["id"],
    })
    jserializer = JSONSerializer(shipment_schema, client)
    shipment = {"id": "s-9", "weight": 2.5}
    jdata = jserializer(shipment, jctx)
    assert jdata[0] == 0
    jwire_id = struct.unpack(">I", jdata[1:5])[0]
    jregistered = SchemaRegistryClient({"url": url}).get_latest_version("shipments-value")
    assert jwire_id == jregistered.schema_id
    assert jregistered.schema.schema_type == "JSON", jregistered.schema.schema_type
    jdeserializer = JSONDeserializer(None, schema_registry_client=SchemaRegistryClient({"url": url}))
    assert jdeserializer(jdata, jctx) == shipment
    step(f"json serializer round trip (schema id {jwire_id})")

    data_contracts(url)

    print("INTEROP OK", flush=True)


def metadata(**properties):
    return Metadata(MetadataTags({}), MetadataProperties(properties), [])


def data_contracts(url):
    """Metadata, rule sets, compatibility groups and `use.latest.with.metadata`."""
    client = SchemaRegistryClient({"url": url})
    rule = Rule("checkId", "ids are not empty", RuleKind.CONDITION, RuleMode.WRITE, "CEL",
                ["PII"], RuleParams({"k": "v"}), "message.id != ''", None, "ERROR", True)
    schema = Schema(json.dumps({
        "type": "record", "name": "Contract", "fields": [{"name": "id", "type": "string"}],
    }), "AVRO", [], metadata(owner="sales"), RuleSet(None, [rule]))
    contract_id = client.register_schema("contracts-value", schema)
    fetched = SchemaRegistryClient({"url": url}).get_schema(contract_id)
    assert fetched.metadata.properties.properties == {"owner": "sales"}, fetched.metadata
    fetched_rule = fetched.rule_set.domain_rules[0]
    assert fetched_rule.name == "checkId" and fetched_rule.expr == "message.id != ''", fetched_rule
    assert fetched_rule.mode == RuleMode.WRITE and fetched_rule.disabled, fetched_rule
    latest = SchemaRegistryClient({"url": url}).get_latest_version("contracts-value")
    assert latest.schema.metadata.properties.properties == {"owner": "sales"}, latest
    step("register with metadata and rule set")

    config = client.set_config("events-value", ServerConfig(compatibility_group="major"))
    assert config["compatibilityGroup"] == "major", config
    assert client.get_config("events-value").compatibility_group == "major"
    v1 = json.dumps({"type": "record", "name": "Event", "namespace": "com.acme",
                     "fields": [{"name": "id", "type": "string"}]})
    v2 = json.dumps({"type": "record", "name": "Event", "namespace": "com.acme",
                     "fields": [{"name": "id", "type": "string"},
                                {"name": "kind", "type": "string"}]})
    client.register_schema("events-value", Schema(v1, "AVRO", [], metadata(major="1")))
    expect_error(40901, lambda: client.register_schema(
        "events-value", Schema(v2, "AVRO", [], metadata(major="1"))))
    client.register_schema("events-value", Schema(v2, "AVRO", [], metadata(major="2")))
    step("set config compatibility group")

    fresh = SchemaRegistryClient({"url": url})
    one = fresh.get_latest_with_metadata("events-value", {"major": "1"})
    assert one.version == 1 and one.schema.metadata.properties.properties == {"major": "1"}, one
    two = fresh.get_latest_with_metadata("events-value", {"major": "2"})
    assert two.version == 2, two
    expect_error(40403, lambda: fresh.get_latest_with_metadata("events-value", {"major": "3"}))
    step("get latest with metadata")

    # A writer on major 1 and a reader pinned to major 2: the reader's schema has `kind`,
    # the writer's data does not, so the reader needs the data written with major 2.
    ctx = SerializationContext("events", MessageField.VALUE)
    writer = AvroSerializer(fresh, None, conf={
        "auto.register.schemas": False, "use.latest.with.metadata": {"major": "2"}})
    event = {"id": "e-1", "kind": "created"}
    data = writer(event, ctx)
    assert struct.unpack(">I", data[1:5])[0] == two.schema_id
    reader = AvroDeserializer(SchemaRegistryClient({"url": url}), conf={
        "use.latest.with.metadata": {"major": "2"}})
    assert reader(data, ctx) == event
    old_writer = AvroSerializer(fresh, None, conf={
        "auto.register.schemas": False, "use.latest.with.metadata": {"major": "1"}})
    old = old_writer({"id": "e-0"}, ctx)
    assert struct.unpack(">I", old[1:5])[0] == one.schema_id
    old_reader = AvroDeserializer(SchemaRegistryClient({"url": url}), conf={
        "use.latest.with.metadata": {"major": "1"}})
    assert old_reader(old, ctx) == {"id": "e-0"}
    step("avro serializer use.latest.with.metadata")


if __name__ == "__main__":
    main(sys.argv[1])
