// Drives `herald serve` over HTTPS with kafkajs's registry client
// (@kafkajs/confluent-schema-registry): an https URL and an https.Agent with the CA and, for
// mutual TLS, the client certificate and key.
//
// Reads a JSON request on stdin: {"url", "ca", "cert", "key", "case"}, where case is
//   write      register a schema, read it back by id from a fresh client, encode and decode;
//   read-only  read the latest id (the `write` case ran before), and get 403 when registering;
//   refused    get no HTTP answer at all (the handshake is refused).
// Every step prints `ok: <step>`; exits non-zero on the first failure and prints
// `TLS INTEROP OK` when everything passed.
'use strict';

const fs = require('fs');
const https = require('https');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');

const SUBJECT = 'tls-js-value';
const SCHEMA = JSON.stringify({
  type: 'record',
  name: 'Shipment',
  namespace: 'com.acme.tls',
  fields: [{ name: 'id', type: 'string' }, { name: 'parcels', type: 'int' }],
});

function step(name) {
  console.log(`ok: ${name}`);
}

async function main() {
  const request = JSON.parse(fs.readFileSync(0, 'utf8'));
  const registry = () => {
    const options = { ca: fs.readFileSync(request.ca) };
    if (request.cert) {
      options.cert = fs.readFileSync(request.cert);
      options.key = fs.readFileSync(request.key);
    }
    return new SchemaRegistry({
      host: request.url,
      agent: new https.Agent(options),
      retry: { retries: 0 },
    });
  };
  const client = registry();
  switch (request.case) {
    case 'write': {
      const { id } = await client.register(
        { type: SchemaType.AVRO, schema: SCHEMA },
        { subject: SUBJECT },
      );
      step(`register (id ${id})`);
      const fresh = registry();
      const encoded = await fresh.encode(id, { id: 'p-1', parcels: 3 });
      const decoded = await registry().decode(encoded);
      if (decoded.id !== 'p-1' || decoded.parcels !== 3) {
        throw new Error(`decoded ${JSON.stringify(decoded)}`);
      }
      step('encode and decode by id');
      const latest = await registry().getLatestSchemaId(SUBJECT);
      if (latest !== id) throw new Error(`latest id ${latest}, registered ${id}`);
      step('latest id');
      break;
    }
    case 'read-only': {
      await client.getLatestSchemaId(SUBJECT);
      step('latest id');
      try {
        await client.register(
          { type: SchemaType.AVRO, schema: SCHEMA },
          { subject: 'tls-js-denied-value' },
        );
      } catch (error) {
        if (error.status !== 403) throw new Error(`expected 403, got ${error.status}: ${error}`);
        step('register refused with 403');
        break;
      }
      throw new Error('a read-only certificate registered a schema');
    }
    case 'refused': {
      try {
        await client.getLatestSchemaId(SUBJECT);
      } catch (error) {
        // mappersmith reports a transport error as a made-up answer with status 400 whose
        // body is the error's message; a registry's own answer is JSON with an error_code.
        const message = String(error.message);
        const transport = /SSL|TLS|alert|socket|ECONNRESET|EPIPE/i.test(message);
        if (error.status !== undefined && (message.includes('error_code') || !transport)) {
          throw new Error(`expected no HTTP answer, got ${error.status}: ${error}`);
        }
        step(`refused: ${error.code || message}`);
        break;
      }
      throw new Error('the request succeeded');
    }
    default:
      throw new Error(`unknown case ${request.case}`);
  }
  console.log('TLS INTEROP OK');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
