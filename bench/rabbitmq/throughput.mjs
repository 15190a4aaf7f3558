#!/usr/bin/env node
// Publish-and-consume throughput of the generated RabbitMQ client against plain amqplib scripts on the
// same broker, in the same run, alternating. Every variant uses one connection, a confirm channel
// publishing persistent JSON events to a topic exchange (at most WINDOW unconfirmed) and a consumer
// channel with the same prefetch acknowledging every event:
//   plain        bare amqplib: JSON body, content-type, nothing else;
//   plain+ce     amqplib sending the same messages as the generated code: the CloudEvents attributes as
//                `cloudEvents:*` headers, message-id, type (a hand-written CloudEvents producer/consumer);
//   generated    the generated client: validation, envelope, de-duplication, retry/dead-letter pipeline.
//                OpenTelemetry is off (the plain scripts do not trace; @opentelemetry/api is installed in
//                this repository, so the client would otherwise trace through the no-op provider);
//                OTEL=1 turns it on to measure its cost.
//
//   npm run build && node bench/rabbitmq/throughput.mjs [events=50000] [rounds=3]
//
// Environment: AMQP_URL (default amqp://guest:guest@127.0.0.1:5672), PREFETCH (100), WINDOW (1000),
// ONLY=plain|generated to run one side (for profiling with `node --cpu-prof`).
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { connect } from 'amqplib';
import { buildGenerated, pump } from '../lib/throughput.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WORK = path.join(ROOT, '.cache', 'bench-rabbitmq');
const URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const EVENTS = Number(process.argv[2] ?? 50_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const PREFETCH = Number(process.env.PREFETCH ?? 100);
const WINDOW = Number(process.env.WINDOW ?? 1000);
const ONLY = process.env.ONLY;
const RUN = `bench-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;

/** Generates the fixture with the CLI and compiles it under --strict to JavaScript. */
function waitUntil(condition) {
  return new Promise((resolve) => {
    const check = () => (condition() ? resolve() : setImmediate(check));
    check();
  });
}

const payload = (i) => ({ orderId: `order-${i}`, total: i });

/** The headers and properties the generated code sends, written by hand. */
function cloudEventOptions() {
  const id = randomUUID();
  const headers = { 'cloudEvents:specversion': '1.0', 'cloudEvents:id': id, 'cloudEvents:source': '/throughput', 'cloudEvents:type': 'shop.order.created', 'cloudEvents:time': new Date().toISOString() };
  return { persistent: true, contentType: 'application/json', messageId: id, type: 'shop.order.created', headers };
}

/** Plain amqplib: the same exchange, queue, persistence, prefetch and confirms; JSON in, JSON.parse out. */
async function plainRound(round, withCloudEvents) {
  const exchange = `${RUN}.plain-${withCloudEvents ? 'ce-' : ''}${round}`;
  const queue = `${exchange}.queue`;
  const connection = await connect(URL);
  const publisher = await connection.createConfirmChannel();
  const consumer = await connection.createChannel();
  await consumer.assertExchange(exchange, 'topic', { durable: true });
  await consumer.assertQueue(queue, { durable: true });
  await consumer.bindQueue(queue, exchange, 'orders.*.created');
  await consumer.prefetch(PREFETCH);
  let received = 0;
  await consumer.consume(queue, (message) => {
    if (message === null) return; // cancelled when the queue is deleted at the end
    JSON.parse(message.content.toString());
    if (withCloudEvents && typeof message.properties.headers['cloudEvents:id'] !== 'string') throw new Error('no event id');
    consumer.ack(message);
    received++;
  });
  const started = performance.now();
  await pump(
    (i) =>
      new Promise((resolve, reject) => {
        const options = withCloudEvents ? cloudEventOptions() : { persistent: true, contentType: 'application/json' };
        publisher.publish(exchange, 'orders.eu.created', Buffer.from(JSON.stringify(payload(i))), options, (error) => (error ? reject(error) : resolve()));
      }),
    EVENTS,
    WINDOW,
  );
  await waitUntil(() => received >= EVENTS);
  const seconds = (performance.now() - started) / 1000;
  await consumer.deleteQueue(queue);
  await consumer.deleteExchange(exchange);
  await connection.close();
  return EVENTS / seconds;
}

/** The generated client: publishOrderCreated / onOrderCreated of fixtures/rabbitmq/throughput.yaml. */
async function generatedRound(generated, round) {
  const namePrefix = `${RUN}.generated-${round}.`;
  const telemetry = { enabled: process.env.OTEL === '1' };
  const client = await generated.rabbitmq.createClient({ urls: [URL], namePrefix, serviceName: 'bench', prefetch: PREFETCH, telemetry });
  let received = 0;
  const subscription = await client.onOrderCreated(() => {
    received++;
  });
  const started = performance.now();
  await pump((i) => client.publishOrderCreated(payload(i), { parameters: { region: 'eu' } }), EVENTS, WINDOW);
  await waitUntil(() => received >= EVENTS);
  const seconds = (performance.now() - started) / 1000;
  await client.close();
  const admin = await connect(URL);
  const channel = await admin.createChannel();
  for (const queue of [subscription.queue, `${subscription.queue}.dlq`]) await channel.deleteQueue(queue);
  for (const exchange of [`${namePrefix}throughput`, `${namePrefix}bench.dlx`]) await channel.deleteExchange(exchange);
  await admin.close();
  return EVENTS / seconds;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const indexJs = path.join(buildGenerated({ work: WORK, targets: ['rabbitmq'], document: 'fixtures/rabbitmq/throughput.yaml', flags: ['--no-cache'] }), 'index.js');
const generated = await import(pathToFileURL(indexJs).href);
console.log(`${EVENTS} events per run, prefetch ${PREFETCH}, window ${WINDOW}, ${ROUNDS} rounds; node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}`);
const variants = {
  plain: (round) => plainRound(round, false),
  'plain+ce': (round) => plainRound(round, true),
  generated: (round) => generatedRound(generated, round),
};
const rates = { plain: [], 'plain+ce': [], generated: [] };
// This process's CPU per event (publisher and consumer, broker excluded; the round's set-up included): on a
// loaded machine it varies far less than events per second.
const cpuPerEvent = { plain: [], 'plain+ce': [], generated: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(variants)) {
    if (ONLY && ONLY !== name) continue;
    const cpu = process.cpuUsage();
    rates[name].push(await run(round));
    const used = process.cpuUsage(cpu);
    cpuPerEvent[name].push((used.user + used.system) / EVENTS);
    console.log(`round ${round + 1}: ${name.padEnd(10)} ${Math.round(rates[name].at(-1))} events/s, ${cpuPerEvent[name].at(-1).toFixed(1)} µs CPU/event`);
  }
}
if (ONLY) process.exit(0);
const [bare, ce, ours] = [median(rates.plain), median(rates['plain+ce']), median(rates.generated)];
console.log(`median events/s: plain ${Math.round(bare)}, plain+ce ${Math.round(ce)}, generated ${Math.round(ours)}`);
console.log(`ratio generated / plain+ce: ${(ours / ce).toFixed(2)}; generated / plain: ${(ours / bare).toFixed(2)}`);
// The bench harness's contract (bench/lib/brokers.mjs): one JSON line per comparison, last on stdout.
console.log(JSON.stringify({ broker: 'rabbitmq', mode: 'plain', generated: rates.generated.map(Math.round), plain: rates.plain.map(Math.round) }));
console.log(JSON.stringify({ broker: 'rabbitmq', mode: 'plain-ce', generated: rates.generated.map(Math.round), plain: rates['plain+ce'].map(Math.round) }));
