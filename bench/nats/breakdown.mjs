#!/usr/bin/env node
// Where the generated NATS client spends its CPU per event, step by step, without a server: each step of
// publishing and consuming one small `Order` event (fixtures/example) timed over many iterations.
// Uses the code built by throughput.mjs (run that first, or `node bench/nats/throughput.mjs 1000 1`).
//
//   node bench/nats/breakdown.mjs [iterations=100000]
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MsgHdrsImpl } from '@nats-io/transport-node';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const JS = path.join(ROOT, '.cache', 'bench-nats', 'js');
const load = (file) => import(pathToFileURL(path.join(JS, file)).href);
const ITERATIONS = Number(process.argv[2] ?? 100_000);

const { operations } = await load('operations.js');
const { prepareOutbound } = await load('runtime/producer.js');
const { createEnvelope, envelopeFromHeaders, envelopeToHeaders, readEnvelope } = await load('runtime/envelope.js');
const { decodeJson, encodeJson } = await load('runtime/codec.js');
const { ConsumerPipeline } = await load('runtime/consumer.js');
const { MemoryIdempotencyStore } = await load('runtime/idempotency.js');
const nats = await load('runtime/nats/message.js');

const spec = operations.publishOrderCreated;
const consumerSpec = operations.onOrderCreated;
const mapping = nats.NATS_HEADER_MAPPING;
const payload = { orderId: randomUUID(), customerId: 'C-1', placedAt: new Date().toISOString(), currency: 'EUR', total: 10, items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 10 }] };
const appHeaders = { 'x-tenant': 'acme' };
const outboundSpec = { operation: spec.operation, type: spec.eventType(payload), contentType: spec.contentType, mapping, validatePayload: spec.validatePayload, validateHeaders: spec.validateHeaders };
const defaults = { source: '/orderProcessing', validate: true };

// One event as it travels: built once, so that each consumer step can be timed alone.
const prepared = prepareOutbound(outboundSpec, payload, { headers: appHeaders }, defaults);
const wireHeaders = nats.toNatsHeaders(prepared.headers).encode();
const received = nats.fromNatsHeaders(MsgHdrsImpl.decode(wireHeaders)).headers;
const bodyText = new TextDecoder().decode(prepared.body);
const pipeline = (store) => new ConsumerPipeline({ operation: consumerSpec.operation, mapping, validatePayload: consumerSpec.validatePayload, validateHeaders: consumerSpec.validateHeaders }, { idempotencyStore: store });
const withoutStore = pipeline(false);
const signal = new AbortController().signal;

function time(label, fn, iterations = ITERATIONS) {
  for (let i = 0; i < Math.min(iterations, 5000); i++) fn(i);
  const started = process.cpuUsage();
  for (let i = 0; i < iterations; i++) fn(i);
  const used = process.cpuUsage(started);
  return { label, micros: (used.user + used.system) / iterations };
}

async function timeAsync(label, fn, iterations = ITERATIONS) {
  for (let i = 0; i < Math.min(iterations, 5000); i++) await fn(i);
  const started = process.cpuUsage();
  for (let i = 0; i < iterations; i++) await fn(i);
  const used = process.cpuUsage(started);
  return { label, micros: (used.user + used.system) / iterations };
}

const publish = [
  time('validate payload (ajv)', () => spec.validatePayload(payload)),
  time('validate headers (ajv, on a structuredClone)', () => spec.validateHeaders(structuredClone(appHeaders))),
  time('validate + build subject (parameters)', () => nats.dotSubjects.toSubject(spec.buildAddress(spec.validateParameters({ region: 'eu' }).value))),
  time('create envelope (uuid, time)', () => createEnvelope({ type: outboundSpec.type, source: defaults.source, datacontenttype: 'application/json' })),
  time('envelope to headers', () => envelopeToHeaders(prepared.envelope, mapping)),
  time('encode JSON body', () => encodeJson(payload)),
  time('= prepareOutbound (shared, all of the above)', () => prepareOutbound(outboundSpec, payload, { headers: appHeaders }, defaults)),
  time('toNatsHeaders (NATS target: percent-encode, check, build)', () => nats.toNatsHeaders(prepared.headers)),
  time('headers to wire (nats.js encode)', () => nats.toNatsHeaders(prepared.headers).encode()),
];
const consume = [
  time('headers from wire (nats.js decode)', () => MsgHdrsImpl.decode(wireHeaders)),
  time('fromNatsHeaders (NATS target: names, percent-decoding)', () => nats.fromNatsHeaders(MsgHdrsImpl.decode(wireHeaders))),
  time('read + check envelope', () => readEnvelope(envelopeFromHeaders(received, mapping))),
  time('decodeJson (shared: UTF-8, JSON.parse; the __proto__ reviver only when needed)', () => decodeJson(prepared.body)),
  time('  for comparison: JSON.parse alone', () => JSON.parse(bodyText)),
  time('validate headers (coercing ajv)', () => consumerSpec.validateHeaders({ 'x-tenant': 'acme' })),
  time('validate payload (ajv)', () => consumerSpec.validatePayload(JSON.parse(bodyText))),
  time('parse subject parameters', () => consumerSpec.parseAddress('orders.eu.created')),
  time('= pipeline.decode (shared)', () => withoutStore.decode({ body: prepared.body, headers: received, deliveryAttempt: 1 })),
  (() => {
    const store = new MemoryIdempotencyStore();
    return time('idempotency store has + add (fresh ids)', (i) => {
      const id = `id-${i}`;
      store.has(id);
      store.add(id);
    });
  })(),
  await timeAsync('= pipeline.process, no-op handler, no store (shared)', () => withoutStore.process({ body: prepared.body, headers: received, deliveryAttempt: 1 }, async () => undefined, 'redelivery', signal)),
];

console.log(`${ITERATIONS} iterations per step; node ${process.version}; µs of CPU per call\n`);
console.log('publish side');
for (const { label, micros } of publish) console.log(`  ${micros.toFixed(2).padStart(6)}  ${label}`);
console.log('consume side');
for (const { label, micros } of consume) console.log(`  ${micros.toFixed(2).padStart(6)}  ${label}`);
