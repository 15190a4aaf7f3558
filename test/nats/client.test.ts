import { randomUUID } from 'node:crypto';
import { headers as natsHeaders, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildGenerated, delay, deleteStreams, EXAMPLE, memoryLogger, order, rawConnection, SENSORS, streamPrefixOf, uniquePrefix, waitFor, type Generated } from './support.js';

/**
 * The generated NATS client of the bundled example (and of fixtures/nats/sensors.yaml), compiled with
 * tsc --strict and run against the real NATS server with JetStream. Every run uses its own subject prefix,
 * hence its own streams, deleted afterwards.
 */
let example: Generated;
let sensors: Generated;
let raw: NatsConnection;
const prefix = uniquePrefix('nats-client');
const clients: Array<{ close(): Promise<void> }> = [];

async function client(options: Record<string, unknown> = {}, module = example) {
  const created = await module.nats.createClient({ subjectPrefix: prefix, ...options });
  clients.push(created);
  return created;
}

/** Collects what arrives on a subject (core subscription), headers included. */
/** Subscribes on the raw connection and waits until the server has the subscription, so nothing published after it is missed. */
async function collect(subject: string): Promise<Msg[]> {
  const messages: Msg[] = [];
  raw.subscribe(subject, { callback: (error, message) => void (error ? undefined : messages.push(message)) });
  await raw.flush();
  return messages;
}

beforeAll(async () => {
  const built = await buildGenerated([EXAMPLE, SENSORS]);
  [example, sensors] = built.modules as [Generated, Generated];
  raw = await rawConnection();
});

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await raw?.drain();
  await deleteStreams(streamPrefixOf(prefix));
});

describe('NATS target: core NATS', () => {
  it('delivers 1,000 events through a queue group of two subscribers, each to exactly one of them', async () => {
    const publisher = await client({ mode: 'core' });
    const seen: Array<Map<string, number>> = [new Map(), new Map()];
    for (const index of [0, 1]) {
      const member = await client({ mode: 'core' });
      // The queue group comes from the document's nats binding (`queue: order-service`).
      await member.onOrderCreated(async (payload: any, event: any) => {
        seen[index]!.set(payload.orderId, (seen[index]!.get(payload.orderId) ?? 0) + 1);
      });
    }
    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const payload = order(i);
      ids.push(payload.orderId);
      const result = await publisher.publishOrderCreated(payload, { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
      expect(result.mode).toBe('core');
    }
    await waitFor(() => seen[0]!.size + seen[1]!.size >= 1000, 20_000, '1,000 events');
    await delay(200);
    for (const id of ids) {
      const count = (seen[0]!.get(id) ?? 0) + (seen[1]!.get(id) ?? 0);
      expect(count, `event ${id}`).toBe(1);
    }
    expect(seen[0]!.size).toBeGreaterThan(0);
    expect(seen[1]!.size).toBeGreaterThan(0);
    expect(seen[0]!.size + seen[1]!.size).toBe(1000);
  });

  it('follows the binding: x-delivery core, MQTT-style addresses mapped to tokens, typed parameters back', async () => {
    const sensorClient = await client({}, sensors);
    const alerts: Array<{ level: string; subject: string; message: string }> = [];
    const subscription = await sensorClient.onWatchAlerts(async (payload: any, event: any) => {
      alerts.push({ level: event.parameters.level, subject: event.subject, message: payload.message });
    });
    expect(subscription.mode).toBe('core');
    expect(subscription.subject).toBe(`${prefix}alerts.*.raised`);
    const result = await sensorClient.publishRaiseAlert({ message: 'hot' }, { parameters: { level: 'high' } });
    expect(result).toMatchObject({ mode: 'core', subject: `${prefix}alerts.high.raised` });
    await waitFor(() => alerts.length === 1);
    expect(alerts[0]).toEqual({ level: 'high', subject: `${prefix}alerts.high.raised`, message: 'hot' });

    // `/sensors/{sensorId}/readings` (leading slash) in JetStream mode, the default.
    const readings: Array<{ sensorId: string; value: number }> = [];
    await sensorClient.onReceiveReading(async (payload: any, event: any) => {
      readings.push({ sensorId: event.parameters.sensorId, value: payload.value });
    });
    const sent = await sensorClient.publishSendReading({ value: 21.5, unit: 'C' }, { parameters: { sensorId: 's-1' } });
    expect(sent).toMatchObject({ mode: 'jetstream', subject: `${prefix}sensors.s-1.readings`, duplicate: false });
    await waitFor(() => readings.length === 1);
    expect(readings).toEqual([{ sensorId: 's-1', value: 21.5 }]);

    // A parameter that is only part of a token: the whole token is the wildcard, the exact form is checked on receipt.
    const batches: string[] = [];
    const batchSubscription = await sensorClient.onBatchClosed(async (payload: any, event: any) => void batches.push(event.parameters.site));
    expect(batchSubscription.subject).toBe(`${prefix}batches.*.closed`);
    await sensorClient.publishCloseBatch({ count: 3 }, { parameters: { site: 'lyon' } });
    await waitFor(() => batches.length === 1);
    expect(batches).toEqual(['lyon']);
  });
});

describe('NATS target: JetStream', () => {
  it('stores and delivers 1,000 events, each once, in order', async () => {
    // 1,000 publishes in flight at once: a timeout retry would be reported as a duplicate, so allow a loaded machine time.
    const producer = await client({ publishTimeoutMs: 15_000 });
    const consumer = await client();
    const received: Array<{ id: string; sequence: number; region: string }> = [];
    await consumer.onOrderCreated(
      async (payload: any, event: any) => {
        received.push({ id: payload.orderId, sequence: event.sequence, region: event.parameters.region });
      },
      { durable: 'ordered-1000' },
    );
    const regions = ['eu', 'us', 'apac'];
    const payloads = Array.from({ length: 1000 }, (_, i) => order(i));
    const results = await Promise.all(payloads.map((payload, i) => producer.publishOrderCreated(payload, { parameters: { region: regions[i % 3] }, headers: { 'x-tenant': 't' } })));
    expect(results.every((r: { mode: string; duplicate: boolean }) => r.mode === 'jetstream' && r.duplicate === false)).toBe(true);
    await waitFor(() => received.length >= 1000, 30_000, '1,000 JetStream events');
    await delay(300);
    expect(received.map((r) => r.id)).toEqual(payloads.map((p) => p.orderId));
    expect(received.map((r) => r.region)).toEqual(payloads.map((_, i) => regions[i % 3]));
    const sequences = received.map((r) => r.sequence);
    expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
  });

  it('dead-letters an invalid payload and a non-JSON body at once, and carries on', async () => {
    const producer = await client();
    const consumer = await client();
    const deadLetters = await collect(`${prefix}dlq.orders.*.lifecycle`);
    const handled: string[] = [];
    await consumer.onOrderLifecycle(async (payload: any, event: any) => void handled.push(payload.orderId));
    // Invalid against the document (carrier not in the enum), sent with validation turned off.
    const bad = await producer.publishOrderLifecycle({ orderId: randomUUID(), status: 'shipped', shippedAt: new Date().toISOString(), carrier: 'pigeon' }, { parameters: { region: 'eu' }, validate: false });
    // Not JSON at all, with a valid envelope.
    const headers = natsHeaders();
    for (const [key, value] of Object.entries({ 'ce-specversion': '1.0', 'ce-id': randomUUID(), 'ce-source': '/test', 'ce-type': 'com.example.order.shipped' })) headers.set(key, value);
    const js = (await jetstreamManager(raw)).jetstream();
    await js.publish(`${prefix}orders.eu.lifecycle`, 'this is { not json', { headers });
    const good = { orderId: randomUUID(), status: 'cancelled', reason: 'changed my mind' };
    await producer.publishOrderLifecycle(good, { parameters: { region: 'us' } });

    await waitFor(() => handled.length === 1 && deadLetters.length === 2, 45_000, 'one handled event and two dead letters');
    expect(handled).toEqual([good.orderId]);
    const reasons = deadLetters.map((m) => m.headers!.get('x-codegen-dead-letter-reason')).sort();
    expect(reasons).toEqual(['invalid-payload', 'not-json']);
    const invalid = deadLetters.find((m) => m.headers!.get('x-codegen-dead-letter-reason') === 'invalid-payload')!;
    expect(invalid.headers!.get('x-codegen-error')).toContain('/carrier');
    expect(invalid.headers!.get('ce-id')).toBe(bad.id);
    expect(invalid.headers!.get('x-codegen-attempts')).toBe('1');
    expect(invalid.headers!.get('x-codegen-operation')).toBe('onOrderLifecycle');
    expect(invalid.headers!.get('x-codegen-subject')).toBe(`${prefix}orders.eu.lifecycle`);
    expect(invalid.subject).toBe(`${prefix}dlq.orders.eu.lifecycle`);
    expect(new TextDecoder().decode(deadLetters.find((m) => m.headers!.get('x-codegen-dead-letter-reason') === 'not-json')!.data)).toBe('this is { not json');
  });

  it('dead-letters an event whose subject does not match the parameter schema', async () => {
    const consumer = await client();
    const deadLetters = await collect(`${prefix}dlq.orders.*.created`);
    const handled: string[] = [];
    await consumer.onOrderCreated(async (payload: any, event: any) => void handled.push(payload.orderId), { durable: 'bad-region' });
    const producer = await client();
    // `mars` is not a region of the document: sent to an explicit subject, it lands in the stream all the same.
    await producer.publishOrderCreated(order(1), { natsSubject: `${prefix}orders.mars.created`, headers: { 'x-tenant': 'acme' }, parameters: { region: 'eu' } });
    await waitFor(() => deadLetters.some((m) => m.subject === `${prefix}dlq.orders.mars.created`), 45_000, 'dead letter');
    expect(deadLetters.find((m) => m.subject === `${prefix}dlq.orders.mars.created`)!.headers!.get('x-codegen-dead-letter-reason')).toBe('invalid-address');
  });

  it('redelivers with backoff: a handler that fails twice then succeeds processes the event once', async () => {
    const producer = await client();
    const consumer = await client();
    const deadLetters = await collect(`${prefix}dlq.orders.*.created`);
    const attempts: number[] = [];
    let successes = 0;
    const payload = order(7);
    await consumer.onOrderCreated(
      async (incoming: any, event: any) => {
        if (incoming.orderId !== payload.orderId) return;
        attempts.push(event.attempt);
        if (event.attempt < 3) throw new Error(`transient failure ${event.attempt}`);
        successes++;
      },
      { durable: 'flaky', retry: { maxAttempts: 3, initialDelayMs: 100, jitter: 0 } },
    );
    const started = Date.now();
    await producer.publishOrderCreated(payload, { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
    await waitFor(() => successes === 1, 45_000, 'success on the third attempt');
    // Backoff 100 ms then 200 ms: the server held the event back between attempts.
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    await delay(500);
    expect(attempts).toEqual([1, 2, 3]);
    expect(successes).toBe(1);
    expect(deadLetters.filter((m) => m.headers!.get('ce-id') !== null && m.headers!.get('x-codegen-operation') === 'onOrderCreated' && m.headers!.get('x-codegen-dead-letter-reason') === 'handler-failed')).toHaveLength(0);
  });

  it('dead-letters an event whose handler always fails after max_deliver attempts, and terminates it', async () => {
    const producer = await client();
    const consumer = await client();
    const deadLetters = await collect(`${prefix}dlq.orders.*.lifecycle`);
    const attempts: number[] = [];
    const orderId = randomUUID();
    const subscription = await consumer.onOrderLifecycle(
      async (payload: any, event: any) => {
        if (payload.orderId !== orderId) return;
        attempts.push(event.attempt);
        throw new Error('payment backend\r\nis down');
      },
      { durable: 'always-fails', retry: { maxAttempts: 3, initialDelayMs: 50, jitter: 0 } },
    );
    const sent = await producer.publishOrderLifecycle({ orderId, status: 'cancelled', reason: 'x' }, { parameters: { region: 'apac' } });
    await waitFor(() => deadLetters.some((m) => m.headers!.get('ce-id') === sent.id), 45_000, 'dead letter');
    const dead = deadLetters.find((m) => m.headers!.get('ce-id') === sent.id)!;
    expect(dead.headers!.get('x-codegen-dead-letter-reason')).toBe('handler-failed');
    expect(dead.headers!.get('x-codegen-error')).toBe('payment backend is down');
    expect(dead.headers!.get('x-codegen-attempts')).toBe('3');
    expect(dead.headers!.get('x-codegen-stream')).toBe(subscription.stream);
    await delay(800);
    expect(attempts).toEqual([1, 2, 3]);
    const jsm = await jetstreamManager(raw);
    // The server applies acks apart from API requests: wait until it shows the last one.
    await waitFor(async () => (await jsm.consumers.info(subscription.stream, 'always-fails')).num_ack_pending === 0, 10_000, 'the last ack');
    const info = await jsm.consumers.info(subscription.stream, 'always-fails');
    expect(info.config.max_deliver).toBe(4);
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
    // The dead letter is stored too.
    const dlq = await jsm.streams.info(`${subscription.stream}_DLQ`);
    expect(dlq.state.messages).toBeGreaterThanOrEqual(1);
  });

  it('stores the same event published twice within the duplicate window once', async () => {
    const producer = await client();
    const consumer = await client();
    const handled: string[] = [];
    const payload = { orderId: randomUUID(), status: 'cancelled', reason: 'twice' };
    const subscription = await consumer.onOrderLifecycle(
      async (incoming: any, event: any) => {
        if (incoming.orderId === payload.orderId) handled.push(event.envelope.id);
      },
      { durable: 'dedup' },
    );
    const id = randomUUID();
    const first = await producer.publishOrderLifecycle(payload, { parameters: { region: 'eu' }, id });
    const second = await producer.publishOrderLifecycle(payload, { parameters: { region: 'eu' }, id });
    expect(first).toMatchObject({ id, duplicate: false });
    expect(second).toMatchObject({ id, duplicate: true, sequence: first.sequence });
    await waitFor(() => handled.length === 1);
    await delay(300);
    expect(handled).toEqual([id]);
    const jsm = await jetstreamManager(raw);
    const stored = await jsm.streams.getMessage(subscription.stream, { seq: first.sequence });
    expect(stored?.header.get('Nats-Msg-Id')).toBe(id);
  });

  it('declares streams and durable consumers idempotently', async () => {
    const topologyPrefix = uniquePrefix('nats-topology');
    const first = await example.nats.createClient({ subjectPrefix: topologyPrefix, consumer: { retry: { maxAttempts: 5 } } });
    const second = await example.nats.createClient({ subjectPrefix: topologyPrefix, consumer: { retry: { maxAttempts: 5 } } });
    try {
      await first.declareTopology();
      await second.declareTopology();
      await first.declareTopology();
      const jsm = await jetstreamManager(raw);
      const streamPrefix = streamPrefixOf(topologyPrefix);
      const names: string[] = [];
      for await (const name of jsm.streams.names()) if (name.startsWith(streamPrefix)) names.push(name);
      expect(names.sort()).toEqual(['ORDER_CREATED', 'ORDER_CREATED_DLQ', 'ORDER_LIFECYCLE', 'ORDER_LIFECYCLE_DLQ'].map((n) => streamPrefix + n));
      const created = await jsm.streams.info(`${streamPrefix}ORDER_CREATED`);
      expect(created.config.subjects).toEqual([`${topologyPrefix}orders.*.created`]);
      const durable = await jsm.consumers.info(`${streamPrefix}ORDER_CREATED`, 'order-service');
      expect(durable.config).toMatchObject({ ack_policy: 'explicit', max_deliver: 6, filter_subject: `${topologyPrefix}orders.*.created` });
      // Events published before any consumer runs are kept for it.
      const payload = order(3);
      await first.publishOrderCreated(payload, { parameters: { region: 'us' }, headers: { 'x-tenant': 'acme' } });
      const received: string[] = [];
      await second.onOrderCreated(async (payload: any, event: any) => void received.push(payload.orderId));
      await waitFor(() => received.length === 1);
      expect(received).toEqual([payload.orderId]);
    } finally {
      await first.close();
      await second.close();
      await deleteStreams(streamPrefixOf(topologyPrefix));
    }
  });

  it('close() waits for the handler in progress, which is acknowledged, then drains the connection', async () => {
    const closePrefix = uniquePrefix('nats-close');
    const producer = await example.nats.createClient({ subjectPrefix: closePrefix });
    const consumer = await example.nats.createClient({ subjectPrefix: closePrefix });
    try {
      let finished = 0;
      let started = 0;
      const subscription = await consumer.onOrderCreated(async () => {
        started++;
        await delay(400);
        finished++;
      });
      await producer.publishOrderCreated(order(1), { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
      await waitFor(() => started === 1);
      await consumer.close();
      expect(finished).toBe(1);
      expect(consumer.connection.isClosed()).toBe(true);
      await expect(consumer.publishOrderCreated(order(2), { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } })).rejects.toThrow(/closed/);
      const jsm = await jetstreamManager(raw);
      await waitFor(async () => (await jsm.consumers.info(subscription.stream, subscription.durable)).num_ack_pending === 0, 10_000, 'the ack');
      const info = await jsm.consumers.info(subscription.stream, subscription.durable);
      expect(info.num_ack_pending).toBe(0);
      expect(info.num_redelivered).toBe(0);
    } finally {
      await producer.close();
      await deleteStreams(streamPrefixOf(closePrefix));
    }
  });
});

describe('NATS target: validation and CloudEvents headers', () => {
  it('carries the envelope in ce- headers (binary mode), percent-encoded, and reads it back', async () => {
    const producer = await client({ mode: 'core' });
    const wire = await collect(`${prefix}orders.*.created`);
    const consumer = await client({ mode: 'core' });
    const received: Array<{ envelope: Record<string, string>; headers: Record<string, unknown> }> = [];
    await consumer.onOrderCreated(async (payload: any, event: any) => void received.push(event), { queue: 'envelope-check' });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const sent = await producer.publishOrderCreated(order(1), {
      parameters: { region: 'eu' },
      headers: { 'x-tenant': 'acme', 'x-priority': 4 },
      correlationId: 'corr-1',
      traceparent,
      time: '2026-11-26T08:00:00Z',
    });
    await waitFor(() => received.length === 1 && wire.length === 1);
    const headers = wire[0]!.headers!;
    expect(headers.get('ce-specversion')).toBe('1.0');
    expect(headers.get('ce-id')).toBe(sent.id);
    expect(headers.get('ce-source')).toBe('/orderProcessing');
    expect(headers.get('ce-type')).toBe('com.example.order.created');
    expect(headers.get('ce-time')).toBe('2026-11-26T08:00:00Z');
    expect(headers.get('ce-datacontenttype')).toBe('application/json');
    expect(headers.get('ce-traceparent')).toBe(traceparent);
    expect(headers.get('ce-correlationid')).toBe('corr-1');
    expect(headers.get('x-tenant')).toBe('acme');
    expect(headers.get('x-priority')).toBe('4');
    expect(received[0]!.envelope).toMatchObject({ id: sent.id, type: 'com.example.order.created', correlationid: 'corr-1', traceparent });
    // Application headers only, typed by the document (x-priority is an integer).
    expect(received[0]!.headers).toEqual({ 'x-tenant': 'acme', 'x-priority': 4 });
  });

  it('percent-encodes attribute values per the CloudEvents NATS binding', async () => {
    const runtime = example.nats as unknown as { encodeHeaderValue(v: string): string; decodeHeaderValue(v: string): string | undefined };
    expect(runtime.encodeHeaderValue('Euro € 😀')).toBe('Euro%20%E2%82%AC%20%F0%9F%98%80');
    expect(runtime.encodeHeaderValue('say "100%"')).toBe('say%20%22100%25%22');
    expect(runtime.encodeHeaderValue('/orders/a:b?c=d')).toBe('/orders/a:b?c=d');
    expect(runtime.decodeHeaderValue('Euro%20%E2%82%AC%20%F0%9F%98%80')).toBe('Euro € 😀');
    expect(runtime.decodeHeaderValue('"quoted \\"value\\""')).toBe('quoted "value"');
    expect(runtime.decodeHeaderValue('%C0%A0')).toBeUndefined();

    const producer = await client({ mode: 'core' });
    const consumer = await client({ mode: 'core' });
    const wire = await collect(`${prefix}orders.*.lifecycle`);
    const deadLetters = await collect(`${prefix}dlq.orders.*.lifecycle`);
    const subjects: string[] = [];
    await consumer.onOrderLifecycle(async (payload: any, event: any) => void subjects.push(event.envelope.subject ?? ''));
    await producer.publishOrderLifecycle({ orderId: randomUUID(), status: 'cancelled', reason: 'r' }, { parameters: { region: 'eu' }, subject: 'Zürich "order" 100%' });
    await waitFor(() => subjects.length === 1 && wire.length === 1);
    expect(wire[0]!.headers!.get('ce-subject')).toBe('Z%C3%BCrich%20%22order%22%20100%25');
    expect(subjects).toEqual(['Zürich "order" 100%']);
    // Header names are case-insensitive; a value that is not valid percent-encoded UTF-8 makes the envelope invalid.
    const headers = natsHeaders();
    for (const [key, value] of Object.entries({ 'Ce-Specversion': '1.0', 'CE-ID': '%C0%A0', 'ce-source': '/test', 'ce-type': 'com.example.order.cancelled' })) headers.set(key, value);
    raw.publish(`${prefix}orders.eu.lifecycle`, JSON.stringify({ orderId: randomUUID(), status: 'cancelled', reason: 'r' }), { headers });
    await waitFor(() => deadLetters.length === 1);
    expect(deadLetters[0]!.headers!.get('x-codegen-dead-letter-reason')).toBe('invalid-envelope');
    expect(subjects).toHaveLength(1);
  });

  it('refuses an invalid payload, header or parameter before publishing, naming the field', async () => {
    const producer = await client();
    await expect(producer.publishOrderCreated({ ...order(1), currency: 'XXX' }, { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } })).rejects.toMatchObject({
      name: 'EventValidationError',
      reason: 'invalid-payload',
      issues: [expect.objectContaining({ pointer: '/currency' })],
    });
    await expect(producer.publishOrderCreated(order(1), { parameters: { region: 'eu' }, headers: { 'x-tenant': '' } })).rejects.toMatchObject({ reason: 'invalid-headers' });
    await expect(producer.publishOrderCreated(order(1), { parameters: { region: 'mars' }, headers: { 'x-tenant': 'acme' } })).rejects.toMatchObject({ reason: 'invalid-address' });
    await expect(producer.publishOrderCreated(order(1), { parameters: { region: 'eu.>' }, headers: { 'x-tenant': 'acme' }, validate: false })).rejects.toThrow(/separators or wildcards/);
  });
});

describe('NATS target: request/reply', () => {
  it('answers a typed request, and fails fast or on time when it cannot be answered', async () => {
    const { lines, logger } = memoryLogger();
    const responder = await client({ logger });
    const requester = await client();
    await expect(requester.requestAuthorizePayment({ orderId: randomUUID(), amount: 5, currency: 'EUR' }, { timeoutMs: 2000 })).rejects.toMatchObject({ name: 'PublishError', message: expect.stringMatching(/no responder/) });

    const seen: Array<{ correlation: string | undefined }> = [];
    await responder.onHandlePaymentAuthorization(async (payload: any, event: any) => {
      seen.push({ correlation: event.envelope.correlationid });
      if (payload.amount > 1000) throw new Error('limit exceeded');
      if (payload.amount === 13) return { orderId: payload.orderId, approved: 'yes' };
      if (payload.amount === 99) await delay(1500);
      return { orderId: payload.orderId, approved: payload.amount < 100, ...(payload.amount < 100 ? {} : { declineReason: 'too much' }) };
    });
    const orderId = randomUUID();
    const reply = await requester.requestAuthorizePayment({ orderId, amount: 42.5, currency: 'EUR' }, { correlationId: 'order-42' });
    expect(reply.payload).toEqual({ orderId, approved: true });
    expect(reply.envelope).toMatchObject({ type: 'com.example.payment.authorized', correlationid: 'order-42', source: '/orderProcessing' });
    const declined = await requester.requestAuthorizePayment({ orderId, amount: 500, currency: 'EUR' });
    expect(declined.payload).toEqual({ orderId, approved: false, declineReason: 'too much' });
    expect(declined.envelope.correlationid).toBeTypeOf('string');

    await expect(requester.requestAuthorizePayment({ orderId, amount: 99, currency: 'EUR' }, { timeoutMs: 300 })).rejects.toMatchObject({ name: 'ReplyTimeoutError' });
    await expect(requester.requestAuthorizePayment({ orderId, amount: 5000, currency: 'EUR' })).rejects.toMatchObject({ name: 'RequestFailedError', reason: 'handler-failed', message: expect.stringContaining('limit exceeded') });
    // The responder's reply is validated before it leaves.
    await expect(requester.requestAuthorizePayment({ orderId, amount: 13, currency: 'EUR' })).rejects.toMatchObject({ name: 'RequestFailedError', reason: 'invalid-payload' });
    // An invalid request is refused by the requester, before sending; with validation off, by the responder.
    await expect(requester.requestAuthorizePayment({ orderId, amount: -1, currency: 'EUR' })).rejects.toMatchObject({ name: 'EventValidationError' });
    await expect(requester.requestAuthorizePayment({ orderId, amount: -1, currency: 'EUR' }, { validate: false })).rejects.toMatchObject({ name: 'RequestFailedError', reason: 'invalid-payload' });
    expect(lines.some((l) => l.level === 'error' && l.message === 'request not answered')).toBe(true);
  });
});

describe('NATS target: tracing', () => {
  it('traces publish and process with OpenTelemetry when it is installed, the consumer span a child of the producer span', async () => {
    const { context, trace } = await import('@opentelemetry/api');
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
    const exporter = new InMemorySpanExporter();
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    try {
      const producer = await client();
      const consumer = await client();
      const payload = order(1);
      let seen: { envelope: { traceparent?: string } } | undefined;
      // The durable reads the stream from the start: earlier tests' events come first.
      await consumer.onOrderCreated(
        async (incoming: any, event: any) => {
          if (incoming.orderId === payload.orderId) seen = event;
        },
        { durable: 'traced' },
      );
      const sent = await producer.publishOrderCreated(payload, { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
      const processOf = () => exporter.getFinishedSpans().find((span) => span.name === `${prefix}orders.*.created process` && span.attributes['messaging.message.id'] === sent.id);
      await waitFor(() => seen !== undefined && processOf() !== undefined, 45_000, 'the process span');
      const publish = exporter.getFinishedSpans().find((span) => span.name === `${prefix}orders.*.created publish`)!;
      const process = processOf()!;
      expect(publish.attributes['messaging.system']).toBe('nats');
      expect(publish.attributes['messaging.message.id']).toBe(sent.id);
      expect(process.spanContext().traceId).toBe(publish.spanContext().traceId);
      expect(process.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
      expect(process.attributes['messaging.consumer.group.name']).toBe('traced');
      expect(seen!.envelope.traceparent).toBe(`00-${publish.spanContext().traceId}-${publish.spanContext().spanId}-01`);
    } finally {
      trace.disable();
      context.disable();
    }
  });
});
