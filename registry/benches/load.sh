#!/usr/bin/env bash
# Load benchmark of `herald serve`, in one run:
#   1. GET /schemas/ids/{id} requests per second, against a bare axum handler that returns
#      the same bytes on the same machine (examples/bare_axum.rs); target ratio >= 0.95;
#   2. POST /subjects/{s} lookups per second (the same request each time, as a serializer
#      sends it; target >= 10,000);
#   3. the same GET over HTTPS: `herald serve --tls-cert --tls-key` against the bare handler
#      with the same rustls (ring) configuration and listener, certificates made by openssl
#      (P-256); wrk keeps its connections open, so this is TLS record work more than
#      handshakes; target ratio >= 0.85.
#
# Usage: registry/benches/load.sh            (needs wrk: apt-get install -y wrk, and openssl)
# Knobs: DURATION (10s), CONNECTIONS (32), THREADS (1), ROUNDS (2, best of), HERALD_PORT,
#        BARE_PORT, HERALD_TLS_PORT, BARE_TLS_PORT, DATABASE_URL (default: a SQLite file in a
#        temporary directory).
# Traffic goes to 127.0.0.1 only; every wrk run is bounded by DURATION.
set -euo pipefail

cd "$(dirname "$0")/../.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
ROUNDS=${ROUNDS:-2}
HERALD_PORT=${HERALD_PORT:-18181}
BARE_PORT=${BARE_PORT:-18182}
HERALD_TLS_PORT=${HERALD_TLS_PORT:-18183}
BARE_TLS_PORT=${BARE_TLS_PORT:-18184}
TARGET=${CARGO_TARGET_DIR:-target}/release

command -v wrk >/dev/null || { echo "wrk is required: apt-get install -y wrk" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is required" >&2; exit 1; }
command -v openssl >/dev/null || { echo "openssl is required: apt-get install -y openssl" >&2; exit 1; }

cargo build --release --quiet -p herald-registry --bin herald --example bare_axum

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
DATABASE_URL=${DATABASE_URL:-sqlite://$work/bench.db}

wait_for() {
    for _ in $(seq 1 100); do
        curl -fs --cacert "$work/ca.pem" "$1" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "not answering: $1" >&2
    exit 1
}

# A CA and a certificate for 127.0.0.1 for the HTTPS part.
openssl ecparam -name prime256v1 -genkey -noout -out "$work/ca-key.pem" 2>/dev/null
openssl req -x509 -new -key "$work/ca-key.pem" -subj "/CN=load test CA" -days 1 -out "$work/ca.pem"
openssl ecparam -name prime256v1 -genkey -noout -out "$work/key.pem" 2>/dev/null
openssl req -new -key "$work/key.pem" -subj "/CN=127.0.0.1" -out "$work/server.csr"
printf 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n' >"$work/server.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca-key.pem" \
    -CAcreateserial -days 1 -extfile "$work/server.ext" -out "$work/cert.pem" 2>/dev/null

RUST_LOG=warn "$TARGET/herald" serve --listen "127.0.0.1:$HERALD_PORT" \
    --database-url "$DATABASE_URL" 2>"$work/herald.log" &
pids+=($!)
wait_for "http://127.0.0.1:$HERALD_PORT/health"

schema='{"type":"record","name":"Order","namespace":"com.acme.bench","fields":[{"name":"id","type":"string"},{"name":"amount","type":"long"},{"name":"currency","type":{"type":"enum","name":"Currency","symbols":["EUR","USD","GBP"]}},{"name":"note","type":["null","string"],"default":null}]}'
body=$(python3 -c 'import json,sys; print(json.dumps({"schema": sys.argv[1]}))' "$schema")
ct='Content-Type: application/vnd.schemaregistry.v1+json'
id=$(curl -fs -X POST -H "$ct" -d "$body" "http://127.0.0.1:$HERALD_PORT/subjects/bench-value/versions" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -fs "http://127.0.0.1:$HERALD_PORT/schemas/ids/$id" >"$work/body.json"

"$TARGET/examples/bare_axum" "127.0.0.1:$BARE_PORT" "$work/body.json" 2>"$work/bare.log" &
pids+=($!)
wait_for "http://127.0.0.1:$BARE_PORT/schemas/ids/$id"
cmp -s "$work/body.json" <(curl -fs "http://127.0.0.1:$BARE_PORT/schemas/ids/$id") \
    || { echo "bare handler answers different bytes" >&2; exit 1; }

RUST_LOG=warn "$TARGET/herald" serve --listen "127.0.0.1:$HERALD_TLS_PORT" \
    --database-url "$DATABASE_URL" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" \
    2>"$work/herald-tls.log" &
pids+=($!)
"$TARGET/examples/bare_axum" "127.0.0.1:$BARE_TLS_PORT" "$work/body.json" \
    "$work/cert.pem" "$work/key.pem" 2>"$work/bare-tls.log" &
pids+=($!)
for port in "$HERALD_TLS_PORT" "$BARE_TLS_PORT"; do
    wait_for "https://127.0.0.1:$port/schemas/ids/$id"
    cmp -s "$work/body.json" <(curl -fs --cacert "$work/ca.pem" "https://127.0.0.1:$port/schemas/ids/$id") \
        || { echo "https://127.0.0.1:$port answers different bytes" >&2; exit 1; }
done

cat >"$work/lookup.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/vnd.schemaregistry.v1+json"
wrk.body = [==[$body]==]
LUA

# Runs wrk and prints its requests per second; fails on any non-2xx answer or socket error.
rate() {
    local out
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "$@")
    if grep -q "Non-2xx" <<<"$out"; then
        echo "$out" >&2
        echo "non-2xx answers during the run" >&2
        exit 1
    fi
    awk '/Requests\/sec:/ {print $2}' <<<"$out"
}

best() { printf '%s\n' "$@" | sort -g | tail -1; }

bare=()
herald=()
lookup=()
bare_tls=()
herald_tls=()
for _ in $(seq 1 "$ROUNDS"); do
    bare+=("$(rate "http://127.0.0.1:$BARE_PORT/schemas/ids/$id")")
    herald+=("$(rate "http://127.0.0.1:$HERALD_PORT/schemas/ids/$id")")
    lookup+=("$(rate -s "$work/lookup.lua" "http://127.0.0.1:$HERALD_PORT/subjects/bench-value")")
    bare_tls+=("$(rate "https://127.0.0.1:$BARE_TLS_PORT/schemas/ids/$id")")
    herald_tls+=("$(rate "https://127.0.0.1:$HERALD_TLS_PORT/schemas/ids/$id")")
done
bare_best=$(best "${bare[@]}")
herald_best=$(best "${herald[@]}")
lookup_best=$(best "${lookup[@]}")
bare_tls_best=$(best "${bare_tls[@]}")
herald_tls_best=$(best "${herald_tls[@]}")
ratio=$(python3 -c "print(f'{$herald_best / $bare_best:.2f}')")
ratio_tls=$(python3 -c "print(f'{$herald_tls_best / $bare_tls_best:.2f}')")

echo "herald load benchmark ($(uptime | sed 's/.*load/load/')): wrk -t$THREADS -c$CONNECTIONS -d$DURATION, best of $ROUNDS, database $DATABASE_URL"
echo "  machine: $(nproc) cores; wrk, the server and anything else running share them"
echo "  GET /schemas/ids/$id   bare axum:     ${bare_best} req/s   (runs: ${bare[*]})"
echo "  GET /schemas/ids/$id   herald serve:  ${herald_best} req/s   (runs: ${herald[*]})"
echo "  ratio herald / bare: $ratio (target >= 0.95)"
echo "  POST /subjects/bench-value lookup: ${lookup_best} req/s   (runs: ${lookup[*]}; target >= 10000)"
echo "  HTTPS GET /schemas/ids/$id   bare axum+rustls: ${bare_tls_best} req/s   (runs: ${bare_tls[*]})"
echo "  HTTPS GET /schemas/ids/$id   herald serve:     ${herald_tls_best} req/s   (runs: ${herald_tls[*]})"
echo "  ratio herald / bare over HTTPS: $ratio_tls (target >= 0.85)"
