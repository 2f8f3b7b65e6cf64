"""Drives `herald serve` with Confluent's Python Protobuf serializer (confluent-kafka).

Usage: python protobuf_client.py URL OUT.json   (URL `mock://x`: the client's in-memory registry)

Compiles proto/acme/orders/order.proto (which imports proto/acme/common/money.proto and
google/protobuf/timestamp.proto) with grpcio-tools' protoc into Python message classes,
serializes an `Order` and a nested `Shipment.Route.Depot` with `ProtobufSerializer`, which
auto-registers the reference and the schema, reads both back with `ProtobufDeserializer`,
and writes the framed bytes to OUT.json as hex (with the schema ids) for the Rust tests,
which decode them with `herald codegen`'s types. The messages are those of
`registry/tests/interop/protobuf_messages.json`, the committed copy of such a run.

Every step prints `ok: <step>`; the script exits non-zero on the first failure and prints
`PROTOBUF INTEROP OK` when everything passed.
"""

import importlib
import json
import os
import sys
import tempfile

from grpc_tools import protoc

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "proto")


def step(name):
    print(f"ok: {name}", flush=True)


def compile_protos():
    """Compiles the .proto files into a temporary folder and imports them."""
    out = tempfile.mkdtemp(prefix="herald-protobuf-interop-")
    well_known = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    status = protoc.main([
        "grpc_tools.protoc",
        f"-I{PROTO}",
        f"-I{well_known}",
        f"--python_out={out}",
        "acme/common/money.proto",
        "acme/orders/order.proto",
    ])
    assert status == 0, f"protoc failed with {status}"
    sys.path.insert(0, out)
    money = importlib.import_module("acme.common.money_pb2")
    order = importlib.import_module("acme.orders.order_pb2")
    return money, order


def main(url, out_path):
    money_pb2, order_pb2 = compile_protos()
    step("protoc")

    order = order_pb2.Order(
        id="o-1",
        total=money_pb2.Money(currency_code="EUR", units=12, nanos=500000000),
        lines=[
            order_pb2.Order.Line(
                sku="sku-1",
                quantity=2,
                price=money_pb2.Money(currency_code="EUR", units=6, nanos=250000000),
            )
        ],
        status=order_pb2.Order.Status.STATUS_SHIPPED,
        email="a@example.com",
        discount=-3,
        signature=b"\x00\x01\xff",
        weight_kg=1.5,
    )
    order.placed_at.seconds = 1700000000
    order.placed_at.nanos = 5
    order.labels["channel"] = "web"

    depot = order_pb2.Shipment.Route.Depot(
        code="BER-1",
        stops=[
            order_pb2.Shipment.Route.Stop(place="Berlin"),
            order_pb2.Shipment.Route.Stop(place="Hamburg"),
        ],
    )
    depot.opened_at.seconds = 1600000000

    client = SchemaRegistryClient.new_client({"url": url})
    conf = {"use.deprecated.format": False}
    results = {}
    for name, topic, message in [("order", "orders", order), ("depot", "depots", depot)]:
        ctx = SerializationContext(topic, MessageField.VALUE)
        serializer = ProtobufSerializer(type(message), client, conf)
        framed = serializer(message, ctx)
        assert framed[0] == 0, framed[:8]
        schema_id = int.from_bytes(framed[1:5], "big")

        registered = client.get_latest_version(f"{topic}-value")
        assert registered.schema_id == schema_id, (registered.schema_id, schema_id)
        assert registered.schema.schema_type == "PROTOBUF", registered.schema.schema_type
        references = [(r.name, r.subject, r.version) for r in registered.schema.references]
        assert references == [("acme/common/money.proto", "acme/common/money.proto", 1)], references
        step(f"{name}: serializer auto-registered the schema and its reference")

        # A fresh client, so the deserializer fetches the schema from the server (a `mock://`
        # registry lives in its client: keep that one).
        fresh = client if url.startswith("mock://") else SchemaRegistryClient.new_client({"url": url})
        reader = ProtobufDeserializer(type(message), conf, fresh)
        back = reader(framed, ctx)
        assert back == message, (back, message)
        step(f"{name}: deserializer read it back")
        results[name] = {"schema_id": schema_id, "hex": framed.hex()}

    # The message indexes: [0] is the single byte 0, [1, 0, 2] is count 3 and the indexes,
    # all zigzag varints.
    assert bytes.fromhex(results["order"]["hex"])[5] == 0
    assert bytes.fromhex(results["depot"]["hex"])[5:9] == bytes([6, 2, 0, 4])
    step("message indexes")

    with open(out_path, "w") as out:
        json.dump(results, out, indent=2)
        out.write("\n")
    print("PROTOBUF INTEROP OK", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
