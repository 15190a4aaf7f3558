/* eslint-disable @typescript-eslint/no-explicit-any */
// The generated Kafka client (tsc --strict, then run) against a real Apache Kafka broker on
// 127.0.0.1:9092. One file, run in order: the last scenario restarts the broker.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigResourceTypes, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freshDir, uniqueName } from '../helpers/codegen.js';
import {
  assertKafkaUp,
  BROKERS,
  committedOffsets,
  generateFixtures,
  memoryLogger,
  order,
  plainKafka,
  readTopic,
  sleep,
  waitFor,
  withAdmin,
  type GeneratedExample,
} from './support.js';

let generated: GeneratedExample;
/** fixtures/kafka/bindings.yaml: topics from addresses, typed keys, a group from the binding. */
let sensors: GeneratedExample;
const open: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  await assertKafkaUp();
  [generated, sensors] = await generateFixtures();
});

afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((c) => c.close()));
});

/** A generated client on its own topics (unique prefix per test). */
function client(prefix: string, options: Record<string, unknown> = {}): any {
  const created = generated.kafka.createClient({ brokers: BROKERS, topicPrefix: prefix, ...options });
  open.push(created);
  return created;
}

const FAST_RETRY = { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 100, multiplier: 2, jitter: 0 };

describe('kafka: delivery', () => {
  it('delivers 1,000 events over a 3-partition topic once each, typed, in order per key', async () => {
    const prefix = uniqueName('k-thousand') + '.';
    const kafka = client(prefix);
    const report = await kafka.declareTopology();
    expect(report.created).toContain(`${prefix}orders.created`);
    const metadata = await withAdmin((admin) => admin.fetchTopicMetadata({ topics: [`${prefix}orders.created`] }));
    expect(metadata.topics[0]!.partitions).toHaveLength(3);

    const received: Array<{ id: string; key: string; sequence: number; partition: number; region: string; priority: unknown }> = [];
    await kafka.onOrderCreated(
      async (payload: any, context: any) => {
        received.push({
          id: context.envelope.id,
          key: context.key,
          sequence: payload.total,
          partition: context.partition,
          region: context.parameters.region,
          priority: context.headers['x-priority'],
        });
      },
      { groupId: `${prefix}group`, fromBeginning: true },
    );
    const keys = Array.from({ length: 12 }, (_, i) => `customer-${i}`);
    const published = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        kafka.publishOrderCreated(order(i), { key: keys[i % keys.length], parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme', 'x-priority': 3 } }),
      ),
    );
    await waitFor(() => received.length >= 1000, 60_000, () => `1000 events (got ${received.length})`);
    await sleep(300);

    expect(received).toHaveLength(1000);
    expect(new Set(received.map((r) => r.id))).toEqual(new Set(published.map((p: any) => p.id)));
    expect(new Set(received.map((r) => r.partition))).toEqual(new Set([0, 1, 2]));
    for (const key of keys) {
      const sequences = received.filter((r) => r.key === key).map((r) => r.sequence);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      expect(new Set(received.filter((r) => r.key === key).map((r) => r.partition)).size).toBe(1);
    }
    // Typed on receipt: parameters from the address header, header coerced to its schema type.
    expect(received.every((r) => r.region === 'eu' && r.priority === 3)).toBe(true);
  });

  it('puts the CloudEvents attributes in ce_ headers and the content type in content-type (binary mode)', async () => {
    const prefix = uniqueName('k-ce') + '.';
    const kafka = client(prefix);
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const event = await kafka.publishOrderCreated(order(1), {
      key: 'order-1',
      parameters: { region: 'us' },
      headers: { 'x-tenant': 'acme' },
      traceparent,
      correlationId: 'corr-1',
      subject: 'order-1',
    });
    const [record] = await readTopic(`${prefix}orders.created`, 1);
    expect(record!.headers).toMatchObject({
      ce_specversion: '1.0',
      ce_id: event.id,
      ce_type: 'com.example.order.created',
      ce_source: '/orderProcessing',
      ce_subject: 'order-1',
      ce_traceparent: traceparent,
      ce_correlationid: 'corr-1',
      'content-type': 'application/json',
      'x-tenant': 'acme',
      'x-codegen-address': 'orders.us.created',
    });
    expect(record!.headers.ce_time).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(record!.message.key!.toString()).toBe('order-1');
    expect(JSON.parse(record!.message.value!.toString())).toEqual(order(1));
  });

  it('refuses invalid payloads, headers, keys and parameters before sending', async () => {
    const kafka = client(uniqueName('k-invalid') + '.');
    const { EventValidationError } = generated.root;
    await expect(kafka.publishOrderCreated({ ...order(1), currency: 'XXX' }, { key: 'a', parameters: { region: 'eu' }, headers: { 'x-tenant': 'a' } })).rejects.toBeInstanceOf(
      EventValidationError,
    );
    await expect(kafka.publishOrderCreated(order(1), { key: 'a', parameters: { region: 'eu' }, headers: {} })).rejects.toThrow(/x-tenant/);
    await expect(kafka.publishOrderCreated(order(1), { key: 'a', parameters: { region: 'mars' }, headers: { 'x-tenant': 'a' } })).rejects.toThrow(/region|parameters/);
    await expect(kafka.publishOrderCreated(order(1), { key: 42, parameters: { region: 'eu' }, headers: { 'x-tenant': 'a' } })).rejects.toThrow(/key/);
  });
});

describe('kafka: topics from addresses, keys and groups (fixtures/kafka/bindings.yaml)', () => {
  function sensorClient(prefix: string, options: Record<string, unknown> = {}): any {
    const created = sensors.kafka.createClient({ brokers: BROKERS, topicPrefix: prefix, ...options });
    open.push(created);
    return created;
  }

  it('builds topics from the address, consumes them by pattern or by parameter set, parameters typed from the topic', async () => {
    const prefix = uniqueName('k-addr') + '.';
    const kafka = sensorClient(prefix);
    const report = await kafka.declareTopology();
    expect(report.created).toEqual(expect.arrayContaining([`${prefix}sensors.north.readings`, `${prefix}sensors.south.readings`, `${prefix}sensors.north.readings.dlq`]));
    const configs = await withAdmin((admin) =>
      admin.describeConfigs({ resources: [{ type: 2, name: `${prefix}sensors.north.readings`, configNames: ['retention.ms'] }], includeSynonyms: false }),
    );
    expect(configs.resources[0]!.configEntries.find((e) => e.configName === 'retention.ms')!.configValue).toBe('604800000');
    const metadata = await withAdmin((admin) => admin.fetchTopicMetadata({ topics: [`${prefix}sensors.south.readings`] }));
    expect(metadata.topics[0]!.partitions).toHaveLength(2);

    const all: Array<{ site: string; key: string; topic: string }> = [];
    const northOnly: string[] = [];
    const everything = await kafka.onReading(async (_p: any, c: any) => void all.push({ site: c.parameters.site, key: c.key, topic: c.topic }), {
      groupId: `${prefix}all`,
      fromBeginning: true,
    });
    expect(everything.topics[0]).toBeInstanceOf(RegExp);
    await kafka.onReading(async (_p: any, c: any) => void northOnly.push(c.parameters.site), { groupId: `${prefix}north`, fromBeginning: true, parameters: [{ site: 'north' }] });
    const first = await kafka.publishReading({ sensorId: 'a', value: 1 }, { key: 's1', parameters: { site: 'north' } });
    await kafka.publishReading({ sensorId: 'b', value: 2 }, { key: 's2', parameters: { site: 'south' } });
    expect(first.topic).toBe(`${prefix}sensors.north.readings`);
    await waitFor(() => all.length >= 2 && northOnly.length >= 1, 20_000, 'readings');
    await sleep(300);
    expect(all.map((r) => r.site).sort()).toEqual(['north', 'south']);
    expect(all.find((r) => r.site === 'south')).toEqual({ site: 'south', key: 's2', topic: `${prefix}sensors.south.readings` });
    expect(northOnly).toEqual(['north']);
    // The document's consumer group is the default.
    const byBinding = await kafka.onReading(async () => undefined, { parameters: [{ site: 'north' }] });
    expect(byBinding.groupId).toBe('sensor-readers');
    await byBinding.close();
  });

  it('types integer keys both ways, overrides topics per channel, builds on an existing kafkajs instance', async () => {
    const prefix = uniqueName('k-keys') + '.';
    const topic = uniqueName('k-alerts-override');
    const existing = plainKafka();
    const kafka = sensorClient(prefix, { topics: { alerts: topic }, kafka: existing, brokers: [] });
    expect(kafka.kafka).toBe(existing);
    const keys: unknown[] = [];
    await kafka.onAlert(async (_p: any, c: any) => void keys.push(c.key), { groupId: `${prefix}g`, fromBeginning: true });
    const event = await kafka.publishAlert({ level: 3 }, { key: 42 });
    expect(event.topic).toBe(topic);
    await waitFor(() => keys.length === 1, 15_000, 'the alert');
    expect(keys).toEqual([42]);
    await expect(kafka.publishAlert({ level: 3 }, { key: 'x' })).rejects.toThrow(/key/);
    await expect(kafka.publishReading({ sensorId: 'a', value: 1 }, { key: 's9', parameters: { site: 'north' } })).rejects.toThrow(/key/);
  });

  it('sends the reply to the reply address filled with the request parameters', async () => {
    const prefix = uniqueName('k-cmd') + '.';
    const kafka = sensorClient(prefix);
    await kafka.onHandleCommand(async (payload: any, c: any) => ({ ok: payload.action === 'ping', detail: c.parameters.deviceId }), {
      groupId: `${prefix}devices`,
      fromBeginning: true,
      parameters: [{ deviceId: 'd7' }],
    });
    const reply = await kafka.requestSendCommand({ action: 'ping' }, { parameters: { deviceId: 'd7' }, timeoutMs: 15_000 });
    expect(reply.payload).toEqual({ ok: true, detail: 'd7' });
    expect(reply.topic).toBe(`${prefix}devices.d7.results`);
  });
});

describe('kafka: failures', () => {
  it('dead-letters invalid payloads and non-JSON bytes at once, with the reason, and carries on', async () => {
    const prefix = uniqueName('k-dlq') + '.';
    const kafka = client(prefix);
    await kafka.declareTopology();
    const topic = `${prefix}orders.created`;
    const handled: number[] = [];
    await kafka.onOrderCreated(async (payload: any) => void handled.push(payload.total), { groupId: `${prefix}g`, fromBeginning: true, retry: FAST_RETRY });

    const producer = plainKafka().producer();
    await producer.connect();
    const ce = (id: string) => ({ ce_specversion: '1.0', ce_id: id, ce_type: 'com.example.order.created', ce_source: '/tests', 'content-type': 'application/json', 'x-tenant': 'acme' });
    await producer.send({
      topic,
      messages: [
        { key: 'k', value: Buffer.from([0xff, 0xfe, 0x00, 0x7b]), headers: ce('bytes-1') },
        { key: 'k', value: JSON.stringify({ ...order(7), currency: 'XXX' }), headers: ce('invalid-1') },
        { key: 'k', value: '{"not": json', headers: ce('text-1') },
      ],
    });
    await producer.disconnect();
    await kafka.publishOrderCreated(order(8), { key: 'k', parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });

    await waitFor(() => handled.includes(8), 20_000, 'the valid event after the bad ones');
    const dead = await readTopic(`${topic}.dlq`, 3);
    const byId = new Map(dead.map((r) => [r.headers.ce_id, r]));
    expect(byId.get('bytes-1')!.headers['x-codegen-dead-letter-reason']).toBe('not-json');
    expect(byId.get('text-1')!.headers['x-codegen-dead-letter-reason']).toBe('not-json');
    const invalid = byId.get('invalid-1')!;
    expect(invalid.headers['x-codegen-dead-letter-reason']).toBe('invalid-payload');
    expect(invalid.headers['x-codegen-error']).toMatch(/currency/);
    expect(invalid.headers['x-codegen-original-topic']).toBe(topic);
    expect(invalid.headers['x-codegen-original-offset']).toBe('1');
    expect(invalid.headers['x-codegen-original-partition']).toMatch(/^[0-2]$/);
    expect(invalid.headers['x-codegen-operation']).toBe('onOrderCreated');
    expect(invalid.message.key!.toString()).toBe('k');
    expect(JSON.parse(invalid.message.value!.toString()).currency).toBe('XXX');
    expect(handled).toEqual([8]);
  });

  it('retries a failing handler with backoff: fails twice then succeeds → processed once', async () => {
    const prefix = uniqueName('k-retry') + '.';
    const kafka = client(prefix);
    const attempts: number[] = [];
    let processed = 0;
    await kafka.onOrderCreated(
      async (_payload: any, context: any) => {
        attempts.push(context.attempt);
        if (attempts.length <= 2) throw new Error('transient');
        processed++;
      },
      { groupId: `${prefix}g`, fromBeginning: true, retry: FAST_RETRY },
    );
    await kafka.publishOrderCreated(order(1), { key: 'a', parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
    await waitFor(() => processed === 1, 20_000, 'the third attempt');
    await sleep(500);
    expect(attempts).toEqual([1, 2, 3]);
    expect(processed).toBe(1);
  });

  it('dead-letters an event whose handler always fails, after the retries, and commits past it', async () => {
    const prefix = uniqueName('k-always') + '.';
    const kafka = client(prefix);
    const group = `${prefix}g`;
    let calls = 0;
    const seen: number[] = [];
    await kafka.onOrderCreated(
      async (payload: any) => {
        if (payload.total === 1) {
          calls++;
          throw new Error('boom: cannot handle');
        }
        seen.push(payload.total);
      },
      { groupId: group, fromBeginning: true, retry: FAST_RETRY },
    );
    await kafka.publishOrderCreated(order(1), { key: 'same', parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
    await kafka.publishOrderCreated(order(2), { key: 'same', parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
    const [dead] = await readTopic(`${prefix}orders.created.dlq`, 1);
    expect(dead!.headers['x-codegen-dead-letter-reason']).toBe('handler-failed');
    expect(dead!.headers['x-codegen-error']).toBe('boom: cannot handle');
    expect(dead!.headers['x-codegen-attempts']).toBe('3');
    await waitFor(() => seen.includes(2), 10_000, 'the next event');
    expect(calls).toBe(3);
    const partition = Number(dead!.headers['x-codegen-original-partition']);
    await waitFor(async () => (await committedOffsets(group, `${prefix}orders.created`)).get(partition) === '2', 15_000, 'offset 2 committed');
  });

  it('runs the handler once for the same event id delivered twice', async () => {
    const prefix = uniqueName('k-dedupe') + '.';
    const kafka = client(prefix);
    const ids: string[] = [];
    await kafka.onOrderCreated(async (_p: any, context: any) => void ids.push(context.envelope.id), { groupId: `${prefix}g`, fromBeginning: true });
    const id = randomUUID();
    const options = { id, key: 'a', parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } };
    await kafka.publishOrderCreated(order(1), options);
    await kafka.publishOrderCreated(order(1), options);
    await kafka.publishOrderCreated(order(2), { ...options, id: randomUUID() });
    await waitFor(() => ids.length >= 2, 15_000, 'two distinct events');
    await sleep(500);
    expect(ids.filter((x) => x === id)).toHaveLength(1);
    expect(ids).toHaveLength(2);
  });
});

describe('kafka: acknowledgement and shutdown', () => {
  it('commits before the handler runs in at-most-once mode', async () => {
    const prefix = uniqueName('k-amo') + '.';
    const kafka = client(prefix);
    const group = `${prefix}g`;
    const topic = `${prefix}orders.created`;
    let committedDuringHandler: string | undefined;
    await kafka.onOrderCreated(
      async (_p: any, context: any) => {
        committedDuringHandler = (await committedOffsets(group, topic)).get(context.partition);
      },
      { groupId: group, fromBeginning: true, ackMode: 'before-handler' },
    );
    await kafka.publishOrderCreated(order(1), { key: 'a', parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
    await waitFor(() => committedDuringHandler !== undefined, 15_000, 'the handler');
    expect(committedDuringHandler).toBe('1');
  });

  it('close() lets the handler in progress finish and commits its offset', async () => {
    const prefix = uniqueName('k-close') + '.';
    const kafka = client(prefix);
    const group = `${prefix}g`;
    let started = false;
    let finished = false;
    await kafka.onOrderCreated(
      async () => {
        started = true;
        await sleep(700);
        finished = true;
      },
      { groupId: group, fromBeginning: true },
    );
    const event = await kafka.publishOrderCreated(order(1), { key: 'a', parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
    expect(event.topic).toBe(`${prefix}orders.created`);
    await waitFor(() => started, 15_000, 'the handler to start');
    await kafka.close();
    expect(finished).toBe(true);
    const offsets = await committedOffsets(group, `${prefix}orders.created`);
    expect([...offsets.values()]).toContain('1');
    await expect(kafka.publishOrderCreated(order(2), { key: 'a', parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } })).rejects.toThrow(/closed/);
  });

  it('declares topics idempotently, with partitions and replicas from the bindings', async () => {
    const prefix = uniqueName('k-topology') + '.';
    const kafka = client(prefix);
    const first = await kafka.declareTopology();
    expect(first.created.sort()).toEqual(
      [
        'orders.created',
        'orders.created.dlq',
        'orders.lifecycle',
        'orders.lifecycle.dlq',
        'payments.authorize',
        'payments.authorize.dlq',
        'payments.authorize.reply',
      ].map((t) => prefix + t),
    );
    const second = await kafka.declareTopology();
    expect(second.created).toEqual([]);
    expect(second.existing.sort()).toEqual(first.created);
    expect(second.mismatched).toEqual([]);
    const metadata = await withAdmin((admin) => admin.fetchTopicMetadata({ topics: [`${prefix}orders.lifecycle`] }));
    expect(metadata.topics[0]!.partitions).toHaveLength(3);
  });
});

describe('kafka: cluster settings', () => {
  /** A logger keeping kafkajs' debug lines (each request it sends), with kafkajs at debug level. */
  function requestLog(): { options: Record<string, unknown>; requests: () => string[] } {
    const lines: string[] = [];
    const keep = (_fields: unknown, message?: string) => void lines.push(message ?? '');
    return {
      options: { logger: { debug: keep, info: keep, warn: keep, error: keep }, client: { logLevel: logLevel.DEBUG } },
      requests: () => lines.filter((line) => line.startsWith('Request ')),
    };
  }

  it('publishes through an idempotent producer by default (kafkajs asks for a producer id); `idempotent: false` opts out', async () => {
    const prefix = uniqueName('k-idem') + '.';
    const send = (kafka: any) => kafka.publishOrderCreated(order(1), { key: 'a', parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
    const idempotent = requestLog();
    await send(client(prefix, idempotent.options));
    expect(idempotent.requests().some((line) => line.startsWith('Request InitProducerId'))).toBe(true);
    const plain = requestLog();
    await send(client(prefix, { ...plain.options, producer: { idempotent: false, acks: 1 } }));
    expect(plain.requests().some((line) => line.startsWith('Request Produce'))).toBe(true);
    expect(plain.requests().some((line) => line.startsWith('Request InitProducerId'))).toBe(false);
    const records = await readTopic(`${prefix}orders.created`, 2);
    expect(records).toHaveLength(2);
  });

  it('refuses, when the client is made, what the idempotent producer cannot do: acks 0 or 1, no retries', () => {
    expect(() => client('x.', { producer: { acks: 1 } })).toThrow(/`producer.acks: 1` .* needs `producer.idempotent: false`/);
    expect(() => client('x.', { client: { retry: { retries: 0 } } })).toThrow(/`retry.retries: 0` .* needs `producer.idempotent: false`/);
    expect(() => client('x.', { producer: { idempotent: false, acks: 0 }, client: { retry: { retries: 0 } } })).not.toThrow();
  });

  it('creates topics with the replication factor and min.insync.replicas of the `topology` option, over the document', async () => {
    const prefix = uniqueName('k-replication') + '.';
    const kafka = client(prefix, { topology: { replicationFactor: 1, minInsyncReplicas: 1 } });
    const report = await kafka.declareTopology();
    expect(report.created).toContain(`${prefix}orders.created.dlq`);
    const resources = await withAdmin((admin) =>
      admin.describeConfigs({
        includeSynonyms: false,
        resources: [`${prefix}orders.created`, `${prefix}orders.created.dlq`].map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['min.insync.replicas'] })),
      }),
    );
    for (const resource of resources.resources) expect(resource.configEntries.find((e) => e.configName === 'min.insync.replicas')).toMatchObject({ configValue: '1', isDefault: false });
    // A call's own replication reaches the broker: one broker cannot hold three replicas.
    await expect(client(uniqueName('k-rf3') + '.').declareTopology({ replicationFactor: 3 })).rejects.toThrow(/kafka refused to create topics \(k-rf3-\S+orders.created: Replication-factor is invalid/);
  });

  it('refuses replication that could never take a write, and topology values that are not whole numbers from 1', async () => {
    await expect(client(uniqueName('k-isr') + '.').declareTopology({ minInsyncReplicas: 2 })).rejects.toThrow(/min.insync.replicas 2 above its replication factor 1/);
    expect(() => client('x.', { topology: { replicationFactor: 0 } })).toThrow(/`topology.replicationFactor` must be a whole number from 1, got 0/);
  });
});

describe('kafka: transactions and request/reply', () => {
  it('keeps the events of an aborted transaction from read_committed consumers', async () => {
    const prefix = uniqueName('k-tx') + '.';
    const kafka = client(prefix);
    await kafka.declareTopology();
    const received: number[] = [];
    await kafka.onOrderCreated(async (payload: any) => void received.push(payload.total), { groupId: `${prefix}g`, fromBeginning: true });
    const send = (tx: any, n: number) => tx.publishOrderCreated(order(n), { key: `k${n}`, parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });

    await expect(
      kafka.transaction(async (tx: any) => {
        await send(tx, 1);
        await send(tx, 2);
        await tx.publishOrderLifecycle({ orderId: '6f1c1d1e-8b2a-4c55-9d0e-2f4a3b5c6d7e', status: 'cancelled', reason: 'r' }, { parameters: { region: 'eu' } });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    const result = await kafka.transaction(async (tx: any) => {
      await send(tx, 10);
      await send(tx, 11);
      return 'committed';
    });
    expect(result).toBe('committed');

    await waitFor(() => received.length >= 2, 20_000, 'the committed events');
    await sleep(500);
    expect(received.sort((a, b) => a - b)).toEqual([10, 11]);
    // The aborted events did reach the log: a read_uncommitted reader sees all four.
    const raw = await readTopic(`${prefix}orders.created`, 4, { readUncommitted: true });
    expect(raw.map((r) => JSON.parse(r.message.value!.toString()).total).sort((a: number, b: number) => a - b)).toEqual([1, 2, 10, 11]);
  });

  it('round-trips a request and its typed reply, correlated; times out without a responder', async () => {
    const prefix = uniqueName('k-rpc') + '.';
    const responder = client(prefix);
    const requester = client(prefix);
    const requests: any[] = [];
    await responder.onHandlePaymentAuthorization(
      async (payload: any, context: any) => {
        requests.push({ payload, replyTo: context.headers.replyTo });
        return { orderId: payload.orderId, approved: payload.amount < 100 };
      },
      { groupId: `${prefix}payments`, fromBeginning: true },
    );
    const orderId = '6f1c1d1e-8b2a-4c55-9d0e-2f4a3b5c6d7e';
    const [small, large] = await Promise.all([
      requester.requestAuthorizePayment({ orderId, amount: 42, currency: 'EUR' }, { timeoutMs: 15_000 }),
      requester.requestAuthorizePayment({ orderId, amount: 420, currency: 'EUR' }, { timeoutMs: 15_000, correlationId: 'my-correlation' }),
    ]);
    expect(small.payload).toEqual({ orderId, approved: true });
    expect(large.payload).toEqual({ orderId, approved: false });
    expect(large.envelope.correlationid).toBe('my-correlation');
    expect(large.envelope.type).toBe('com.example.payment.authorized');
    expect(requests[0].replyTo).toBe(`${prefix}payments.authorize.reply`);

    // A responder that cannot answer says so at once (RequestFailedError), instead of a timeout.
    const failingPrefix = uniqueName('k-rpc-fail') + '.';
    const failing = client(failingPrefix);
    await failing.onHandlePaymentAuthorization(
      async () => {
        throw new Error('card service down');
      },
      { groupId: `${failingPrefix}payments`, fromBeginning: true, retry: { ...FAST_RETRY, maxAttempts: 2 } },
    );
    const { RequestFailedError } = generated.root;
    const failed = failing.requestAuthorizePayment({ orderId, amount: 1, currency: 'EUR' }, { timeoutMs: 20_000 });
    await expect(failed).rejects.toBeInstanceOf(RequestFailedError);
    await expect(failed).rejects.toMatchObject({ reason: 'handler-failed', message: expect.stringContaining('card service down') });

    const lonely = client(uniqueName('k-rpc-none') + '.');
    const { ReplyTimeoutError } = generated.root;
    const started = Date.now();
    await expect(lonely.requestAuthorizePayment({ orderId, amount: 1, currency: 'EUR' }, { timeoutMs: 800 })).rejects.toBeInstanceOf(ReplyTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(750);
  });
});

describe('kafka: tracing', () => {
  it('traces publish and process with OpenTelemetry when it is installed, the consumer span a child of the producer span', async () => {
    const { context, trace } = await import('@opentelemetry/api');
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
    const exporter = new InMemorySpanExporter();
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    try {
      const prefix = uniqueName('k-otel') + '.';
      const kafka = client(prefix);
      let seen: any;
      await kafka.onOrderCreated(async (_p: any, c: any) => void (seen = c), { groupId: `${prefix}g`, fromBeginning: true });
      const event = await kafka.publishOrderCreated(order(1), { key: 'k', parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
      await waitFor(() => seen !== undefined, 15_000, 'the event');
      await waitFor(() => exporter.getFinishedSpans().some((s) => s.name.endsWith(' process')), 5_000, 'the process span');
      const spans = exporter.getFinishedSpans();
      const publish = spans.find((s) => s.name === `${prefix}orders.created publish`)!;
      const process = spans.find((s) => s.name === `${prefix}orders.created process`)!;
      expect(publish.attributes['messaging.system']).toBe('kafka');
      expect(publish.attributes['messaging.message.id']).toBe(event.id);
      expect(process.spanContext().traceId).toBe(publish.spanContext().traceId);
      expect(process.parentSpanContext?.spanId ?? (process as any).parentSpanId).toBe(publish.spanContext().spanId);
      expect(process.attributes['messaging.consumer.group.name']).toBe(`${prefix}g`);
      expect(seen.envelope.traceparent).toBe(`00-${publish.spanContext().traceId}-${publish.spanContext().spanId}-01`);
    } finally {
      trace.disable();
      context.disable();
    }
  });
});

describe('kafka: logs', () => {
  it('routes kafkajs logs to the given logger and stays silent by default', async () => {
    const { logger, lines } = memoryLogger();
    const kafka = client(uniqueName('k-log') + '.', { logger, producer: { deliveryTimeoutMs: 1500 }, brokers: ['127.0.0.1:1'], client: { retry: { retries: 1 }, connectionTimeout: 200 } });
    await expect(kafka.publishOrderCreated(order(1), { key: 'a', parameters: { region: 'eu' }, headers: { 'x-tenant': 'a' } })).rejects.toThrow(/kafka did not accept|ECONNREFUSED|Connection/);
    expect(lines.some((l) => l.startsWith('warn kafka produce failed; retrying'))).toBe(true);
  });
});

describe('kafka: crashes', () => {
  it('resumes from the committed offset after the consumer process is killed with SIGKILL; nothing is lost', async () => {
    const prefix = uniqueName('k-kill') + '.';
    const group = `${prefix}g`;
    const topic = `${prefix}orders.created`;
    const kafka = client(prefix);
    await kafka.declareTopology();
    const total = 600;
    const published = await Promise.all(
      Array.from({ length: total }, (_, i) => kafka.publishOrderCreated(order(i), { key: `k${i % 9}`, parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } })),
    );
    const dir = freshDir('kafka-kill');
    const log = path.join(dir, 'processed.txt');
    writeFileSync(log, '');
    const first = startConsumerProcess(dir, prefix, group, log, 'first');
    await waitFor(() => processedLines(log).length >= 150, 30_000, () => `the first consumer to handle 150 events (${processedLines(log).length}; ${first.output()})`);
    first.child.kill('SIGKILL');
    await first.exited;
    const committed = await committedOffsets(group, topic);

    const second = startConsumerProcess(dir, prefix, group, log, 'second');
    try {
      await waitFor(() => new Set(processedLines(log).map((l) => l.id)).size >= total, 60_000, () => `all ${total} events (${new Set(processedLines(log).map((l) => l.id)).size}; ${second.output()})`);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
    const lines = processedLines(log);
    expect(new Set(lines.map((l) => l.id))).toEqual(new Set(published.map((p: any) => p.id)));
    const byFirst = lines.filter((l) => l.who === 'first').length;
    expect(byFirst).toBeGreaterThanOrEqual(150);
    expect(byFirst).toBeLessThan(total);
    const ends = new Map((await withAdmin((admin) => admin.fetchTopicOffsets(topic))).map((p) => [p.partition, Number(p.high)]));
    expect(lines.some((l) => l.who === 'second')).toBe(true);
    for (const partition of [0, 1, 2]) {
      const offset = Number(committed.get(partition) ?? '-1');
      const resumed = lines.filter((l) => l.who === 'second' && l.partition === partition).map((l) => l.offset);
      // The second consumer starts exactly where the first committed (or finds the partition done).
      if (resumed.length > 0) expect(Math.min(...resumed), `partition ${partition}`).toBe(offset >= 0 ? offset : 0);
      else expect(offset, `partition ${partition} was finished by the first consumer`).toBe(ends.get(partition));
    }
  }, 150_000);
});

interface ProcessedLine {
  who: string;
  partition: number;
  offset: number;
  id: string;
}

function processedLines(file: string): ProcessedLine[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [who, partition, offset, id] = line.split(' ');
      return { who: who!, partition: Number(partition), offset: Number(offset), id: id! };
    });
}

/** A consumer in a process of its own (so it can be killed), running the generated code. */
function startConsumerProcess(dir: string, prefix: string, group: string, log: string, who: string) {
  const script = path.join(dir, 'consumer.mjs');
  writeFileSync(
    script,
    [
      "import { appendFileSync } from 'node:fs';",
      "import { pathToFileURL } from 'node:url';",
      'const [js, prefix, group, log, who] = process.argv.slice(2);',
      "const { kafka } = await import(pathToFileURL(js + '/index.js').href);",
      "const client = kafka.createClient({ brokers: ['127.0.0.1:9092'], topicPrefix: prefix });",
      'await client.onOrderCreated(async (_payload, context) => {',
      "  appendFileSync(log, `${who} ${context.partition} ${context.offset} ${context.envelope.id}\\n`);",
      '  await new Promise((resolve) => setTimeout(resolve, 5));',
      '}, { groupId: group, fromBeginning: true, sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, commitIntervalMs: 100 });',
      "process.on('SIGTERM', () => void client.close().then(() => process.exit(0)));",
      "console.log('ready');",
    ].join('\n'),
  );
  const child = spawn(process.execPath, [script, generated.js, prefix, group, log, who], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { child, exited, output: () => output.slice(-2000) };
}

afterAll(async () => {
  await Promise.allSettled(open.splice(0).map((c) => c.close()));
});
