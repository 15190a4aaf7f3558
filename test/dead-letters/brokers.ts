/* eslint-disable @typescript-eslint/no-explicit-any */
// The brokers the dead-letter suite runs on: one adapter each, for what differs (client options, names
// unique to a run, where a dead letter says it came from). The scenarios themselves are shared.
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { portOpen } from '../observability/support.js';
import { compileStrict, emittedFolder, FIXTURES, generateTo, importGenerated, uniqueName } from '../helpers/codegen.js';

export interface RunNames {
  /** Prefix of every topic, subject or queue of one test. */
  prefix: string;
}

export interface DeadLetterBroker {
  name: 'kafka' | 'nats' | 'rabbitmq';
  port: number;
  /** Client options of one test's names (JSON, so a child process can use them too). */
  clientOptions(names: RunNames): Record<string, unknown>;
  /** Options of the application's consumer: one attempt, so a failing handler dead-letters at once. */
  consumerOptions(names: RunNames): Record<string, unknown>;
  /** Checks where a dead letter says it came from. */
  expectOrigin(origin: any, names: RunNames): void;
  /** Names unique to a test. */
  names(): RunNames;
  /** Checks the broker's bookkeeping once every dead letter was settled (Kafka: the redrive group's offsets). */
  expectAllSettled?(names: RunNames): Promise<void>;
}

const ONE_ATTEMPT = { retry: { maxAttempts: 1 } };

export const BROKERS: DeadLetterBroker[] = [
  {
    name: 'kafka',
    port: 9092,
    names: () => ({ prefix: `${uniqueName('dl')}.` }),
    clientOptions: ({ prefix }) => ({
      brokers: ['127.0.0.1:9092'],
      topicPrefix: prefix,
      consumer: { groupId: `${prefix}app`, fromBeginning: true },
    }),
    consumerOptions: () => ONE_ATTEMPT,
    expectOrigin(origin, { prefix }) {
      if (origin.topic !== `${prefix}orders.created`) throw new Error(`origin topic ${origin.topic}`);
      if (origin.deadLetterTopic !== `${prefix}orders.created.dlq`) throw new Error(`dead-letter topic ${origin.deadLetterTopic}`);
      if (!(origin.partition >= 0) || !/^\d+$/.test(origin.offset)) throw new Error(`origin place ${origin.partition}:${origin.offset}`);
      if (origin.consumerGroup !== `${prefix}app`) throw new Error(`origin group ${origin.consumerGroup}`);
    },
    async expectAllSettled({ prefix }) {
      const topic = `${prefix}orders.created.dlq`;
      const admin = new Kafka({ clientId: 'dead-letter-tests', brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId: `${prefix}app.redrive`, topics: [topic] });
        const at = new Map(committed!.partitions.map((p) => [p.partition, p.offset]));
        for (const end of ends) if (end.high !== '0' && at.get(end.partition) !== end.high) throw new Error(`redrive group at ${at.get(end.partition)} on partition ${end.partition}, the topic ends at ${end.high}`);
      } finally {
        await admin.disconnect();
      }
    },
  },
  {
    name: 'nats',
    port: 4222,
    names: () => ({ prefix: `${uniqueName('dl').replace(/[^a-zA-Z0-9-]/g, '-')}.` }),
    clientOptions: ({ prefix }) => ({ servers: ['127.0.0.1:4222'], subjectPrefix: prefix }),
    consumerOptions: () => ONE_ATTEMPT,
    expectOrigin(origin, { prefix }) {
      if (origin.subject !== `${prefix}orders.eu.created`) throw new Error(`origin subject ${origin.subject}`);
      const stream = prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_');
      if (!String(origin.stream).startsWith(stream) || !(origin.sequence > 0)) throw new Error(`origin stream ${origin.stream}:${origin.sequence}`);
      if (!String(origin.deadLetterStream).endsWith('_DLQ') || !(origin.deadLetterSequence > 0)) throw new Error(`dead-letter stream ${origin.deadLetterStream}`);
    },
  },
  {
    name: 'rabbitmq',
    port: 5672,
    names: () => ({ prefix: `${uniqueName('dl')}.` }),
    clientOptions: ({ prefix }) => ({ urls: ['amqp://guest:guest@127.0.0.1:5672'], namePrefix: prefix, serviceName: 'dl' }),
    consumerOptions: () => ONE_ATTEMPT,
    expectOrigin(origin, { prefix }) {
      if (origin.exchange !== `${prefix}orders`) throw new Error(`origin exchange ${origin.exchange}`);
      if (origin.routingKey !== 'orders.eu.created') throw new Error(`origin routing key ${origin.routingKey}`);
      if (origin.queue !== `${prefix}dl.onOrderCreated`) throw new Error(`origin queue ${origin.queue}`);
      if (origin.deadLetterQueue !== `${prefix}dl.onOrderCreated.dlq`) throw new Error(`dead-letter queue ${origin.deadLetterQueue}`);
    },
  },
];

/** Fails (never skips) when the broker does not answer. */
export async function assertUp(broker: DeadLetterBroker): Promise<void> {
  if (!(await portOpen(broker.port))) throw new Error(`${broker.name} is not running on 127.0.0.1:${broker.port} (npm test starts it)`);
}

export interface Generated {
  root: any;
  /** The emitted index.js, for child processes. */
  indexJs: string;
}

/** The example document generated for every target, compiled with tsc --strict and imported. */
export async function generateExample(targets: string[]): Promise<Generated> {
  const out = await generateTo(path.join(FIXTURES, 'example/asyncapi.yaml'), targets);
  await compileStrict([out], { emit: true });
  return { root: await importGenerated<any>(out, 'index.js'), indexJs: path.join(emittedFolder(out), 'index.js') };
}

/** Creates a client of one broker (NATS connects, the others connect on first use). */
export async function createClient(generated: Generated, broker: DeadLetterBroker, options: Record<string, unknown>): Promise<any> {
  return generated.root[broker.name].createClient(options);
}

/** A valid order of the example document, told apart by its customer. */
export function order(customer: string): Record<string, unknown> {
  return {
    orderId: '6f1c1d1e-8b2a-4c55-9d0e-2f4a3b5c6d7e',
    customerId: customer,
    placedAt: '2026-11-26T08:00:00Z',
    currency: 'EUR',
    total: 1,
    items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 1 }],
  };
}

/** Options of every publish of the example's orderCreated (region parameter, required tenant header). */
export function publishOptions(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { key: 'k', parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' }, ...extra };
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
