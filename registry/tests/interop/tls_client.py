"""Drives `herald serve` over HTTPS with Confluent's Python client (confluent-kafka), with its
usual TLS settings: `ssl.ca.location`, and for mutual TLS `ssl.certificate.location` and
`ssl.key.location`.

Reads a JSON request on stdin: {"url", "ca", "cert", "key", "case"} (the same as
tls_client.js; cert and key are null without a client certificate), where case is one of
  write      register a schema, read it back by id from a fresh client, and as latest;
  read-only  list subjects (the `write` case ran before), and get 403 when registering;
  refused    get no HTTP answer at all (the handshake is refused).

Every step prints `ok: <step>`; the script exits non-zero on the first failure and prints
`TLS INTEROP OK` when everything passed.
"""

import json
import sys

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

SUBJECT = "tls-python-value"
SCHEMA = json.dumps({
    "type": "record", "name": "Payment", "namespace": "com.acme.tls",
    "fields": [{"name": "id", "type": "string"}, {"name": "cents", "type": "long"}],
})


def step(name):
    print(f"ok: {name}", flush=True)


def main(request):
    url, ca, case = request["url"], request["ca"], request["case"]
    cert, key = request.get("cert"), request.get("key")
    conf = {"url": url, "ssl.ca.location": ca}
    if cert:
        conf["ssl.certificate.location"] = cert
        conf["ssl.key.location"] = key
    client = SchemaRegistryClient(conf)
    if case == "write":
        schema_id = client.register_schema(SUBJECT, Schema(SCHEMA, "AVRO"))
        step(f"register (id {schema_id})")
        fetched = SchemaRegistryClient(conf).get_schema(schema_id)
        assert json.loads(fetched.schema_str) == json.loads(SCHEMA), fetched.schema_str
        step("get by id")
        latest = SchemaRegistryClient(conf).get_latest_version(SUBJECT)
        assert latest.schema_id == schema_id, latest
        step("latest version")
    elif case == "read-only":
        subjects = client.get_subjects()
        assert SUBJECT in subjects, subjects
        step("list subjects")
        try:
            client.register_schema("tls-python-denied-value", Schema(SCHEMA, "AVRO"))
        except SchemaRegistryError as err:
            assert err.http_status_code == 403, f"expected 403, got {err.http_status_code}: {err}"
            step("register refused with 403")
        else:
            raise AssertionError("a read-only certificate registered a schema")
    elif case == "refused":
        try:
            client.get_subjects()
        except SchemaRegistryError as err:
            raise AssertionError(f"expected no HTTP answer, got {err.http_status_code}: {err}")
        except Exception as err:  # the TLS or connection error of the HTTP library
            step(f"refused: {type(err).__name__}: {err}")
        else:
            raise AssertionError("the request succeeded")
    else:
        raise AssertionError(f"unknown case {case}")
    print("TLS INTEROP OK", flush=True)


if __name__ == "__main__":
    main(json.load(sys.stdin))
