#!/usr/bin/env node
// Publish-and-consume throughput of the generated MQTT client against plain MQTT.js code doing the same
// work on the same broker, in the same process, alternating. Every variant publishes EVENTS small `Order`
// events (fixtures/example) at QoS 1 on one connection (at most WINDOW awaiting their PUBACK) and consumes
// them on another (MQTT 5, QoS 1 subscription, each event acknowledged); the time runs from the first
// publish to the last event handled:
//   plain      bare MQTT.js: JSON body, `JSON.parse` on receipt;
//   plain+ce   MQTT.js sending what the generated client sends: the CloudEvents attributes and the
//              application header as user properties, the content type property; read back on receipt;
//   generated  the generated client: validation on both sides, envelope, de-duplication, the retry and
//              dead-letter pipeline, acknowledged after the handler. OpenTelemetry is off (the plain
//              code does not trace) unless OTEL=1.
//
//   npm run build && node bench/mqtt/throughput.mjs [events=20000] [rounds=3]
//
// Publishing stays at most AHEAD events ahead of the consumer: Mosquitto drops QoS 1 messages beyond a
// client's queue (max_queued_messages, 1000 by default), so an unthrottled producer would lose events.
//
// Environment: MQTT_URL (default mqtt://127.0.0.1:1883), WINDOW (100), AHEAD (500),
// ONLY=plain|plain+ce|generated.
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { connectAsync } from 'mqtt';
import { buildGenerated, pump, ROOT } from '../lib/throughput.mjs';

const WORK = path.join(ROOT, '.cache', 'bench-mqtt');
const URL = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const EVENTS = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const WINDOW = Number(process.env.WINDOW ?? 100);
const AHEAD = Number(process.env.AHEAD ?? 500);
const ONLY = process.env.ONLY;
const RUN = `bench-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;

const ORDER_ID = randomUUID();
const PLACED_AT = new Date().toISOString();
/** A small valid `Order` (about 200 bytes of JSON). */
const payload = (i) => ({ orderId: ORDER_ID, customerId: `C-${i}`, placedAt: PLACED_AT, currency: 'EUR', total: 10, items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 10 }] });

function waitUntil(condition, what, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(check, 1);
    };
    check();
  });
}

/** The publish properties the generated client sends, built by hand (plain+ce). */
function cloudEventProperties() {
  return {
    contentType: 'application/json',
    userProperties: { 'x-tenant': 'acme', specversion: '1.0', id: randomUUID(), source: '/orderProcessing', type: 'com.example.order.created', time: new Date().toISOString() },
  };
}

/** Publishes event `i` once the consumer is less than AHEAD events behind. */
function throttled(publishOne, received) {
  return (i) =>
    new Promise((resolve) => {
      const check = () => (i - received() < AHEAD ? resolve() : setImmediate(check));
      check();
    }).then(() => publishOne(i));
}

const connection = (name) => connectAsync(URL, { protocolVersion: 5, clientId: `${RUN}-${name}-${randomBytes(3).toString('hex')}`, clean: true });

/** Plain MQTT.js: QoS 1 both ways, JSON in, JSON.parse out (and the user properties read with ce). */
async function plainRound(round, withCloudEvents) {
  const topic = `${RUN}/plain-${withCloudEvents ? 'ce-' : ''}${round}/orders/eu/created`;
  const publisher = await connection('pub');
  const consumer = await connection('sub');
  let received = 0;
  consumer.on('message', (_topic, body, packet) => {
    JSON.parse(body.toString());
    if (withCloudEvents && typeof packet.properties?.userProperties?.id !== 'string') throw new Error('no event id');
    received++;
  });
  await consumer.subscribeAsync(topic.replace('/eu/', '/+/'), { qos: 1 });
  const started = performance.now();
  const publishOne = (i) => publisher.publishAsync(topic, JSON.stringify(payload(i)), { qos: 1, ...(withCloudEvents ? { properties: cloudEventProperties() } : {}) });
  await pump(throttled(publishOne, () => received), EVENTS, WINDOW);
  await waitUntil(() => received >= EVENTS, `${EVENTS} events (plain)`);
  const seconds = (performance.now() - started) / 1000;
  await Promise.all([publisher.endAsync(), consumer.endAsync()]);
  return EVENTS / seconds;
}

/** The generated client: publishOrderCreated / onOrderCreated of the bundled example. */
async function generatedRound(generated, round) {
  const options = { servers: [URL], topicPrefix: `${RUN}/generated-${round}/`, telemetry: { enabled: process.env.OTEL === '1' } };
  const producer = await generated.mqtt.createClient({ ...options, clientId: `${RUN}-pub-${round}` });
  const consumer = await generated.mqtt.createClient({ ...options, clientId: `${RUN}-sub-${round}` });
  let received = 0;
  await consumer.onOrderCreated(() => void received++, { cleanStart: true });
  const started = performance.now();
  const publishOne = (i) => producer.publishOrderCreated(payload(i), { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
  await pump(throttled(publishOne, () => received), EVENTS, WINDOW);
  await waitUntil(() => received >= EVENTS, `${EVENTS} events (generated)`);
  const seconds = (performance.now() - started) / 1000;
  await Promise.all([producer.close(), consumer.close()]);
  return EVENTS / seconds;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const indexJs = path.join(buildGenerated({ work: WORK, targets: ['mqtt'], flags: ['--no-cache'] }), 'index.js');
const generated = await import(pathToFileURL(indexJs).href);
console.log(`${EVENTS} events per run, QoS 1, window ${WINDOW}, at most ${AHEAD} ahead, ${ROUNDS} rounds; node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}`);
const variants = {
  plain: (round) => plainRound(round, false),
  'plain+ce': (round) => plainRound(round, true),
  generated: (round) => generatedRound(generated, round),
};
const rates = { plain: [], 'plain+ce': [], generated: [] };
// CPU time per event (both sides are in this process) says more than events/s on a loaded machine.
const cpuPerEvent = { plain: [], 'plain+ce': [], generated: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(variants)) {
    if (ONLY && ONLY !== name) continue;
    const cpu = process.cpuUsage();
    rates[name].push(await run(round));
    const used = process.cpuUsage(cpu);
    cpuPerEvent[name].push((used.user + used.system) / EVENTS);
    console.log(`round ${round + 1}: ${name.padEnd(10)} ${Math.round(rates[name].at(-1))} events/s, ${cpuPerEvent[name].at(-1).toFixed(0)} µs CPU per event`);
  }
}
if (ONLY) process.exit(0);
const [bare, ce, ours] = [median(rates.plain), median(rates['plain+ce']), median(rates.generated)];
console.log(`median events/s: plain ${Math.round(bare)}, plain+ce ${Math.round(ce)}, generated ${Math.round(ours)}`);
console.log(`ratio generated / plain+ce: ${(ours / ce).toFixed(2)}; generated / plain: ${(ours / bare).toFixed(2)}`);
console.log(`median µs CPU per event: plain ${median(cpuPerEvent.plain).toFixed(0)}, plain+ce ${median(cpuPerEvent['plain+ce']).toFixed(0)}, generated ${median(cpuPerEvent.generated).toFixed(0)}`);
// The bench harness's contract (bench/lib/brokers.mjs): one JSON line per comparison, last on stdout.
console.log(JSON.stringify({ broker: 'mqtt', mode: 'plain', generated: rates.generated.map(Math.round), plain: rates.plain.map(Math.round) }));
console.log(JSON.stringify({ broker: 'mqtt', mode: 'plain-ce', generated: rates.generated.map(Math.round), plain: rates['plain+ce'].map(Math.round) }));
process.exit(0);
