// Reads a topic with kafkajs and decodes each value with @kafkajs/confluent-schema-registry.
//
// Reads a JSON request on stdin:
//   {"brokers": "host:port", "url": ..., "auth": {"username", "password"}, "topic": ..., "count": n}
// and prints one JSON object: {"messages": [{"partition", "offset", "key", "headers", "value"}]},
// the first `count` messages of the topic, read from the beginning by a group of its own.
'use strict';

const { Kafka, logLevel } = require('kafkajs');
const { SchemaRegistry } = require('@kafkajs/confluent-schema-registry');

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const registry = new SchemaRegistry({ host: request.url, auth: request.auth });
  const kafka = new Kafka({ brokers: [request.brokers], logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId: `interop-js-${process.pid}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: request.topic, fromBeginning: true });
  const messages = [];
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${messages.length} of ${request.count} messages after 60 s`)),
      60000,
    );
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          const headers = {};
          for (const [name, value] of Object.entries(message.headers || {})) {
            headers[name] = value.toString();
          }
          messages.push({
            partition,
            offset: Number(message.offset),
            key: message.key && message.key.toString(),
            headers,
            value: await registry.decode(message.value),
          });
          if (messages.length >= request.count) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await done;
  await consumer.disconnect();
  process.stdout.write(JSON.stringify({ messages }));
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
