#!/usr/bin/env bash
# Property-based fuzzing of `herald serve`'s HTTP API with Schemathesis, driven by the
# OpenAPI document the server generates from its handlers (GET /openapi.json).
#
# Builds the `herald` binary, starts it on an in-memory SQLite database and a free port,
# and runs `schemathesis run` against it with these checks:
#   not_a_server_error           no 5xx, whatever the input
#   status_code_conformance      every status answered is declared for the operation
#   content_type_conformance     every answer's content type is declared
#   response_schema_conformance  every answer's body matches its declared schema
# The others are left out because they cannot hold for Confluent's API, whose behaviour
# clients depend on:
#   negative_data_rejection / positive_data_acceptance: Confluent's parameters are lenient
#     (a flag that is not `true` is false, unknown query parameters and body fields are
#     ignored, a schema that does not parse is 422 not 400), so "invalid" input is often
#     accepted and "valid" input (a random schema string) often refused.
#   use_after_free / ensure_resource_availability: a soft-deleted subject version stays
#     readable with `deleted=true`, and `DELETE /config` answers the config it removed.
#   ignored_auth / missing_required_header: the fuzzed server has no credentials file.
#   unsupported_method / allow_header_conformance: a 405 is Confluent's JSON error without
#     an Allow header, as Confluent's own server answers it.
#   response_headers_conformance: no response headers are declared.
#
# One worker: with several, CPython 3.11's ast.parse in Hypothesis' threads can fail with
# "AST constructor recursion depth mismatch", an error of the tool, not of the server.
#
# Prints the number of operations, test cases and failures; exits non-zero on any failure.
# Environment: CARGO_TARGET_DIR (default target), HERALD_VENV (default
# $HOME/.cache/herald-venv), HERALD_FUZZ_EXAMPLES (test cases per operation, default 50),
# HERALD_FUZZ_SEED (default 1, so that a CI run is reproducible).
set -euo pipefail
cd "$(dirname "$0")/../.."

venv="${HERALD_VENV:-$HOME/.cache/herald-venv}"
examples="${HERALD_FUZZ_EXAMPLES:-50}"
target="${CARGO_TARGET_DIR:-$(cd .. && pwd)/target}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/schemathesis" --version >/dev/null 2>&1; then
  "$venv/bin/pip" install --quiet "schemathesis>=4.32,<5"
fi

cargo build -q -p herald-registry --bin herald
herald="$target/debug/herald"

port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
work=$(mktemp -d)
HERALD_LOCAL_KMS_SECRET=fuzz-secret "$herald" serve --listen "127.0.0.1:$port" --database-url "sqlite::memory:" >"$work/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

# Data for the documented examples (subject `orders-value`, version 1, schema id 1, KEK
# `orders-kek`) so that operations reach real versions and keys, not only 404s: an Avro
# schema, a JSON Schema that references nothing, a shared local-KMS KEK (the server has a
# local KMS secret) and a DEK the registry generates under it.
"$venv/bin/python" - "$port" <<'PY'
import json, sys, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
def post(path, body):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200, answer.status
order = {"type": "record", "name": "Order", "namespace": "fuzz",
         "fields": [{"name": "id", "type": "string"}, {"name": "amount", "type": "long"}]}
post("/subjects/orders-value/versions", {"schema": json.dumps(order)})
shipment = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}
post("/subjects/shipments-value/versions", {"schema": json.dumps(shipment), "schemaType": "JSON"})
post("/dek-registry/v1/keks", {"name": "orders-kek", "kmsType": "local-kms",
                               "kmsKeyId": "local-kms://orders", "shared": True})
post("/dek-registry/v1/keks/orders-kek/deks/orders-value", {"algorithm": "AES256_GCM"})
PY

# Run from the scratch directory, where Schemathesis keeps its cache of past failures.
status=0
(cd "$work" && "$venv/bin/schemathesis" --no-color run "http://127.0.0.1:$port/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "$examples" \
  --seed "${HERALD_FUZZ_SEED:-1}" \
  --workers 1 \
  --request-timeout 30 \
  --suppress-health-check all \
  >"$work/out.txt" 2>&1) || status=$?
cat "$work/out.txt"
# The numbers, on lines of their own.
operations=$(grep -A2 '^API Operations:' "$work/out.txt" | sed -n 's/^ *Tested: *//p')
cases=$(grep -A1 '^Test cases:' "$work/out.txt" | tail -1 | sed 's/^ *//')
echo "fuzz: operations tested: ${operations:-?}; test cases: ${cases:-?}"

if ! kill -0 "$server" 2>/dev/null; then
  echo "fuzz: the server died" >&2
  cat "$work/server.log" >&2
  exit 1
fi
echo "fuzz: exit status $status"
exit "$status"
