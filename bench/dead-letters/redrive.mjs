#!/usr/bin/env node
// How fast the generated clients inspect and redrive dead letters, on the real brokers: N events of the
// bundled example are dead-lettered (a handler that fails, one attempt), then timed: a page of 100 read
// (inspect), and a redrive of all of them (from the call to the last removal; the consumer then handles
// them). One line of JSON per broker and round.
//
//   node bench/dead-letters/redrive.mjs [events=1000] [rounds=3]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WORK = path.join(ROOT, '.cache', 'bench-dead-letters');
const EVENTS = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 3);

function build() {
  const out = path.join(WORK, 'out');
  execFileSync(process.execPath, [path.join(ROOT, 'bin/codegen.js'), 'generate', path.join(ROOT, 'fixtures/example/asyncapi.yaml'), '--target', 'rabbitmq,kafka,nats', '--out', out], { stdio: 'inherit' });
  const config = { compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', skipLibCheck: true, types: ['node'], typeRoots: [path.join(ROOT, 'node_modules/@types')], outDir: path.join(WORK, 'js'), rootDir: out }, include: [path.join(out, '**/*.ts')] };
  mkdirSync(WORK, { recursive: true });
  writeFileSync(path.join(WORK, 'tsconfig.json'), JSON.stringify(config));
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(WORK, 'tsconfig.json')], { stdio: 'inherit' });
}

build();
const generated = await import(pathToFileURL(path.join(WORK, 'js', 'index.js')).href);
const order = (customerId) => ({ orderId: '6f1c1d1e-8b2a-4c55-9d0e-2f4a3b5c6d7e', customerId, placedAt: '2026-11-26T08:00:00Z', currency: 'EUR', total: 1, items: [{ sku: 'S', quantity: 1, unitPrice: 1 }] });
const publishOptions = { key: 'k', parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function client(broker, prefix) {
  if (broker === 'kafka') return generated.kafka.createClient({ brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), topicPrefix: prefix, consumer: { groupId: `${prefix}g`, fromBeginning: true } });
  if (broker === 'nats') return generated.nats.createClient({ servers: process.env.NATS_URL ?? '127.0.0.1:4222', subjectPrefix: prefix });
  return generated.rabbitmq.createClient({ urls: [process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'], namePrefix: prefix, serviceName: 'bench' });
}

async function round(broker) {
  const prefix = `bench-dl-${randomBytes(3).toString('hex')}.`;
  const app = await client(broker, prefix);
  let fixed = false;
  const handled = new Set();
  await app.onOrderCreated(async (_payload, context) => {
    if (!fixed) throw new Error('not yet');
    handled.add(context.envelope.id);
  }, { retry: { maxAttempts: 1 }, concurrency: 16 });
  for (let i = 0; i < EVENTS; i += 500) await Promise.all(Array.from({ length: Math.min(500, EVENTS - i) }, (_, j) => app.publishOrderCreated(order(`c${i + j}`), publishOptions)));
  const queue = app.deadLetters.onOrderCreated;
  while ((await queue.inspect({ limit: EVENTS })).letters.length < EVENTS) await sleep(200);
  let started = performance.now();
  await queue.inspect({ limit: 100 });
  const inspectMs = performance.now() - started;
  fixed = true;
  started = performance.now();
  const result = await queue.redrive('all');
  const redriveMs = performance.now() - started;
  while (handled.size < EVENTS) await sleep(20);
  await app.close();
  return { broker, events: EVENTS, inspect100Ms: Math.round(inspectMs), redriveMs: Math.round(redriveMs), redrivenPerSecond: Math.round(result.redriven.length / (redriveMs / 1000)) };
}

for (let r = 0; r < ROUNDS; r++) for (const broker of ['rabbitmq', 'kafka', 'nats']) console.log(JSON.stringify(await round(broker)));
