import { randomUUID } from 'node:crypto';
import type { MqttClient as RawClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildGenerated, collect, delay, EXAMPLE, memoryLogger, order, rawConnection, STREETLIGHTS, uniquePrefix, waitFor, type Generated } from './support.js';

/**
 * The generated MQTT client of the bundled example (and of Streetlights), compiled with tsc --strict and run
 * against the real Mosquitto. Every run uses its own topic prefix and client ids.
 */
let example: Generated;
let streetlights: Generated;
let raw: RawClient;
const prefix = uniquePrefix('mqtt-client');
const clients: Array<{ close(): Promise<void> }> = [];

async function client(options: Record<string, unknown> = {}, module = example) {
  const created = await module.mqtt.createClient({ servers: ['mqtt://127.0.0.1:1883'], topicPrefix: prefix, clientId: `t-${randomUUID()}`, sessionExpirySeconds: 120, ...options });
  clients.push(created);
  return created;
}

beforeAll(async () => {
  const built = await buildGenerated([EXAMPLE, STREETLIGHTS]);
  [example, streetlights] = built.modules as [Generated, Generated];
  raw = await rawConnection();
}, 120_000);

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await raw?.endAsync();
});

describe('MQTT target: publish and consume (MQTT 5)', () => {
  it('delivers typed events with their parameters, headers and envelope; the envelope in user properties (binary mode)', async () => {
    const producer = await client();
    const consumer = await client();
    const seen: Array<{ payload: any; context: any }> = [];
    const subscription = await consumer.onOrderCreated(async (payload: any, context: any) => void seen.push({ payload, context }));
    expect(subscription.topic).toBe(`${prefix}orders/+/created`);
    const wire = await collect(raw, `${prefix}orders/+/created`);
    const payload = order(1);
    const sent = await producer.publishOrderCreated(payload, { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' }, correlationId: 'c-1' });
    expect(sent).toMatchObject({ topic: `${prefix}orders/eu/created`, qos: 1 });
    await waitFor(() => seen.length === 1 && wire.length >= 1, 10_000, 'the event');
    const { context } = seen[0]!;
    expect(seen[0]!.payload).toEqual(payload);
    expect(context.parameters).toEqual({ region: 'eu' });
    expect(context.headers).toEqual({ 'x-tenant': 'acme' });
    expect(context).toMatchObject({ topic: `${prefix}orders/eu/created`, attempt: 1, qos: 1, retained: false });
    expect(context.envelope).toMatchObject({ id: sent.id, type: 'com.example.order.created', specversion: '1.0', correlationid: 'c-1', datacontenttype: 'application/json' });
    // The CloudEvents MQTT binding: attributes as user properties under their own names, the content type as a property.
    const properties = wire[0]!.properties!;
    expect(properties.contentType).toBe('application/json');
    expect(properties.userProperties).toMatchObject({ specversion: '1.0', id: sent.id, type: 'com.example.order.created', 'x-tenant': 'acme' });
    expect(JSON.parse(wire[0]!.payload.toString())).toEqual(payload);
  });

  it('refuses parameter values holding / + # (and invalid payloads or headers) before anything is sent', async () => {
    const producer = await client();
    const wire = await collect(raw, `${prefix}orders/#`);
    for (const region of ['eu/west', '+', '#', '']) {
      await expect(producer.publishOrderCreated(order(), { parameters: { region }, headers: { 'x-tenant': 'acme' } })).rejects.toMatchObject({ name: 'EventValidationError', reason: 'invalid-address' });
    }
    await expect(producer.publishOrderCreated({ ...order(), total: 'ten' }, { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } })).rejects.toMatchObject({ name: 'EventValidationError', reason: 'invalid-payload' });
    await expect(producer.publishOrderCreated(order(), { parameters: { region: 'eu' } })).rejects.toMatchObject({ name: 'EventValidationError', reason: 'invalid-headers' });
    await delay(300);
    expect(wire).toHaveLength(0);
  });

  it('shares a subscription ($share/<group>/...) between competing consumers: each event to exactly one', async () => {
    const producer = await client();
    const seen = [new Map<string, number>(), new Map<string, number>()];
    for (const index of [0, 1]) {
      const member = await client();
      const subscription = await member.onOrderCreated(async (payload: any) => void seen[index]!.set(payload.orderId, (seen[index]!.get(payload.orderId) ?? 0) + 1), { group: 'shippers' });
      expect(subscription.topic).toBe(`$share/shippers/${prefix}orders/+/created`);
    }
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const payload = order(i);
      ids.push(payload.orderId);
      await producer.publishOrderCreated(payload, { parameters: { region: i % 2 ? 'eu' : 'us' }, headers: { 'x-tenant': 'acme' } });
    }
    await waitFor(() => seen[0]!.size + seen[1]!.size >= 200, 20_000, '200 events');
    await delay(200);
    for (const id of ids) expect((seen[0]!.get(id) ?? 0) + (seen[1]!.get(id) ?? 0), id).toBe(1);
    expect(seen[0]!.size).toBeGreaterThan(0);
    expect(seen[1]!.size).toBeGreaterThan(0);
  });

  it('keeps a persistent session: a consumer that comes back gets what was published while it was away', async () => {
    const producer = await client();
    const sessionId = `session-${randomUUID()}`;
    const first = await client();
    const before: string[] = [];
    const subscription = await first.onOrderCreated(async (payload: any) => void before.push(payload.orderId), { sessionId });
    await subscription.close();
    const missed = [order(1), order(2), order(3)];
    for (const payload of missed) await producer.publishOrderCreated(payload, { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
    const back = await client();
    const after: string[] = [];
    await back.onOrderCreated(async (payload: any) => void after.push(payload.orderId), { sessionId });
    await waitFor(() => after.length === 3, 10_000, 'the missed events');
    expect(after).toEqual(missed.map((payload) => payload.orderId));
    expect(before).toEqual([]);
  });

  it('retries a failing handler in process, then dead-letters to dlq/<topic> with the reason; handles a replayed event once', async () => {
    const { lines, logger } = memoryLogger();
    const producer = await client();
    const consumer = await client({ logger });
    const dead = await collect(raw, `${prefix}dlq/orders/+/created`);
    const attempts = new Map<string, number>();
    await consumer.onOrderCreated(
      async (payload: any, context: any) => {
        attempts.set(payload.orderId, context.attempt);
        if (payload.customerId === 'C-fail') throw new Error('warehouse offline');
        if (payload.customerId === 'C-flaky' && context.attempt < 3) throw new Error('flaky');
      },
      { retry: { maxAttempts: 3, initialDelayMs: 20 } },
    );
    const failing = { ...order(), customerId: 'C-fail' };
    const flaky = { ...order(), customerId: 'C-flaky' };
    await producer.publishOrderCreated(failing, { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
    await producer.publishOrderCreated(flaky, { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
    // The same event id twice: the second copy is a duplicate.
    const replayed = order(7);
    await producer.publishOrderCreated(replayed, { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' }, id: 'replayed-1' });
    await producer.publishOrderCreated(replayed, { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' }, id: 'replayed-1' });
    await waitFor(() => dead.length === 1 && attempts.get(flaky.orderId) === 3 && attempts.has(replayed.orderId), 10_000, 'dead letter and retries');
    await delay(200);
    const letter = dead[0]!;
    expect(letter.topic).toBe(`${prefix}dlq/orders/eu/created`);
    expect(letter.properties?.userProperties).toMatchObject({ 'x-codegen-dead-letter-reason': 'handler-failed', 'x-codegen-error': 'warehouse offline', 'x-codegen-attempts': '3', 'x-codegen-topic': `${prefix}orders/eu/created`, 'x-tenant': 'acme' });
    expect(JSON.parse(letter.payload.toString())).toEqual(failing);
    expect(attempts.get(failing.orderId)).toBe(3);
    expect(lines.filter((line) => line.message === 'duplicate event skipped')).toHaveLength(1);
  });

  it('dead-letters events it cannot read: not JSON, an invalid payload, no envelope', async () => {
    const consumer = await client();
    const handled: unknown[] = [];
    await consumer.onOrderCreated(async (payload: unknown) => void handled.push(payload));
    const dead = await collect(raw, `${prefix}dlq/orders/+/created`);
    const envelope = (id: string) => ({ userProperties: { specversion: '1.0', id, source: '/test', type: 'com.example.order.created' } });
    await raw.publishAsync(`${prefix}orders/eu/created`, 'not json', { qos: 1, properties: envelope('e-1') });
    await raw.publishAsync(`${prefix}orders/eu/created`, JSON.stringify({ orderId: 'x' }), { qos: 1, properties: { userProperties: { ...envelope('e-2').userProperties, 'x-tenant': 'acme' } } });
    await raw.publishAsync(`${prefix}orders/eu/created`, JSON.stringify(order()), { qos: 1 });
    await waitFor(() => dead.length === 3, 10_000, 'three dead letters');
    const reasons = dead.map((packet) => packet.properties?.userProperties?.['x-codegen-dead-letter-reason']);
    expect(reasons).toEqual(['not-json', 'invalid-payload', 'invalid-envelope']);
    expect(handled).toEqual([]);
  });

  it('publishes with QoS 2 and retain when asked; a late consumer gets the retained event, marked retained', async () => {
    const producer = await client({ qos: 2 });
    const wire = await collect(raw, `${prefix}orders/+/created`);
    const payload = order(2);
    const sent = await producer.publishOrderCreated(payload, { parameters: { region: 'apac' }, headers: { 'x-tenant': 'acme' }, retain: true });
    expect(sent.qos).toBe(2);
    await waitFor(() => wire.length >= 1, 10_000, 'the QoS 2 event');
    const late = await client();
    const seen: any[] = [];
    await late.onOrderCreated(async (_payload: any, context: any) => void seen.push(context), { qos: 2 });
    await waitFor(() => seen.length === 1, 10_000, 'the retained event');
    expect(seen[0]).toMatchObject({ retained: true, parameters: { region: 'apac' } });
    // Clear the retained message.
    await raw.publishAsync(`${prefix}orders/apac/created`, '', { qos: 1, retain: true });
  });

  it('handles one event at a time by default, in order; at-most-once (before-handler) runs up to `concurrency` at once', async () => {
    const producer = await client();
    const running = { ordered: 0, concurrent: 0 };
    const most = { ordered: 0, concurrent: 0 };
    const seen: Record<'ordered' | 'concurrent', string[]> = { ordered: [], concurrent: [] };
    const track = (kind: 'ordered' | 'concurrent') => async (payload: any) => {
      most[kind] = Math.max(most[kind], ++running[kind]);
      seen[kind].push(payload.customerId);
      await delay(20);
      running[kind]--;
    };
    const ordered = await client();
    await ordered.onOrderCreated(track('ordered'), { cleanStart: true });
    const concurrent = await client();
    await concurrent.onOrderCreated(track('concurrent'), { ackMode: 'before-handler', concurrency: 4, cleanStart: true });
    for (let i = 0; i < 20; i++) await producer.publishOrderCreated(order(i), { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
    await waitFor(() => seen.ordered.length === 20 && seen.concurrent.length === 20 && running.concurrent + running.ordered === 0, 10_000, 'both consumers');
    expect(most.ordered).toBe(1);
    expect(seen.ordered).toEqual(Array.from({ length: 20 }, (_, i) => `C-${i}`));
    expect(most.concurrent).toBe(4);
  });

  it('close() waits for the handler in progress, which is acknowledged, then disconnects', async () => {
    const producer = await client();
    const sessionId = `closing-${randomUUID()}`;
    const consumer = await client();
    let finished = 0;
    let started = 0;
    await consumer.onOrderCreated(
      async () => {
        started++;
        await delay(500);
        finished++;
      },
      { sessionId },
    );
    await producer.publishOrderCreated(order(), { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
    await waitFor(() => started === 1, 10_000, 'the handler to start');
    await consumer.close();
    expect(finished).toBe(1);
    await expect(consumer.publishOrderCreated(order(), { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } })).rejects.toMatchObject({ name: 'ClientClosedError' });
    // Acknowledged: the session, resumed, has nothing to deliver again.
    const again = await client();
    const redelivered: unknown[] = [];
    await again.onOrderCreated(async (payload: unknown) => void redelivered.push(payload), { sessionId });
    await delay(500);
    expect(redelivered).toEqual([]);
  });
});

describe('MQTT target: connecting', () => {
  it('rejects createClient with ConnectionUnavailableError when no broker answers within connectTimeoutMs', async () => {
    const started = Date.now();
    await expect(example.mqtt.createClient({ servers: ['mqtt://127.0.0.1:1'], connectTimeoutMs: 500 })).rejects.toMatchObject({ name: 'ConnectionUnavailableError', message: expect.stringMatching(/no MQTT broker answered within 500 ms \(mqtt:\/\/127\.0\.0\.1:1\)/) });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses a broker address that is not MQTT, and a client without any broker', async () => {
    await expect(example.mqtt.createClient({ servers: ['http://127.0.0.1:1883'] })).rejects.toThrow(/not an MQTT broker address/);
    await expect(example.mqtt.createClient({ servers: [] })).rejects.toThrow(/give `servers`/);
  });
});

describe('MQTT target: last will', () => {
  it('leaves its last will when its connection is lost, and none when it closes', async () => {
    const lastWill = { topic: `${prefix}status`, payload: 'gone', qos: 1 };
    const wills = await collect(raw, `${prefix}status`);
    const lost = await client({ lastWill });
    // The socket cut without a DISCONNECT, as when the process dies.
    lost.connection.stream.destroy();
    await waitFor(() => wills.length === 1, 10_000, 'the last will');
    expect(wills[0]!.payload.toString()).toBe('gone');
    const closed = await client({ lastWill });
    await closed.close();
    await delay(300);
    expect(wills).toHaveLength(1);
  });
});

describe('MQTT target: request/reply', () => {
  for (const mqttVersion of ['5.0', '3.1.1']) {
    it(`answers a typed request through the response topic and correlation data (MQTT ${mqttVersion})`, async () => {
      const { lines, logger } = memoryLogger();
      const responder = await client({ logger, mqttVersion });
      const requester = await client({ mqttVersion });
      if (mqttVersion === '5.0')
        await expect(requester.requestAuthorizePayment({ orderId: randomUUID(), amount: 5, currency: 'EUR' }, { timeoutMs: 2000 })).rejects.toMatchObject({ name: 'PublishError', message: expect.stringMatching(/no responder/) });
      await responder.onHandlePaymentAuthorization(async (payload: any) => {
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
      await expect(requester.requestAuthorizePayment({ orderId, amount: 99, currency: 'EUR' }, { timeoutMs: 300 })).rejects.toMatchObject({ name: 'ReplyTimeoutError' });
      await expect(requester.requestAuthorizePayment({ orderId, amount: 5000, currency: 'EUR' })).rejects.toMatchObject({ name: 'RequestFailedError', reason: 'handler-failed', message: expect.stringContaining('limit exceeded') });
      // The responder's reply is validated before it leaves.
      await expect(requester.requestAuthorizePayment({ orderId, amount: 13, currency: 'EUR' })).rejects.toMatchObject({ name: 'RequestFailedError', reason: 'invalid-payload' });
      await expect(requester.requestAuthorizePayment({ orderId, amount: -1, currency: 'EUR' })).rejects.toMatchObject({ name: 'EventValidationError' });
      await expect(requester.requestAuthorizePayment({ orderId, amount: -1, currency: 'EUR' }, { validate: false })).rejects.toMatchObject({ name: 'RequestFailedError', reason: 'invalid-payload' });
      expect(lines.some((l) => l.level === 'error' && l.message === 'event dead-lettered')).toBe(true);
    });
  }
});

describe('MQTT target: MQTT 3.1.1 (structured mode)', () => {
  it('carries the whole event as one CloudEvents JSON document and reads it back', async () => {
    const producer = await client({ mqttVersion: '3.1.1' });
    const consumer = await client({ mqttVersion: '3.1.1' });
    const seen: Array<{ payload: any; context: any }> = [];
    // A clean session: 3.1.1 sessions never expire on their own, and this one is not needed again.
    await consumer.onOrderCreated(async (payload: any, context: any) => void seen.push({ payload, context }), { cleanStart: true });
    const wire = await collect(raw, `${prefix}orders/+/created`);
    const payload = order(3);
    const sent = await producer.publishOrderCreated(payload, { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
    await waitFor(() => seen.length === 1 && wire.length >= 1, 10_000, 'the event');
    expect(seen[0]!.payload).toEqual(payload);
    expect(seen[0]!.context).toMatchObject({ headers: { 'x-tenant': 'acme' }, parameters: { region: 'eu' }, envelope: { id: sent.id } });
    const event = JSON.parse(wire[0]!.payload.toString());
    expect(event).toMatchObject({ specversion: '1.0', id: sent.id, type: 'com.example.order.created', datacontenttype: 'application/json', data: payload, codegenheaders: { 'x-tenant': 'acme' } });
    expect(wire[0]!.properties?.userProperties).toBeUndefined();
  });
});

describe('MQTT target: Streetlights', () => {
  it('publishes and consumes the Streetlights commands and measurements on their MQTT topics', async () => {
    const lights = await client({}, streetlights);
    const measured: Array<{ payload: any; parameters: any }> = [];
    await lights.onReceiveLightMeasurement(async (payload: any, context: any) => void measured.push({ payload, parameters: context.parameters }));
    const wire = await collect(raw, `${prefix}smartylighting/streetlights/1/0/action/+/dim`);
    await lights.publishDimLight({ percentage: 40, sentAt: new Date().toISOString() }, { parameters: { streetlightId: 'lamp-7' } });
    await waitFor(() => wire.length >= 1, 10_000, 'the dim command');
    expect(wire[0]!.topic).toBe(`${prefix}smartylighting/streetlights/1/0/action/lamp-7/dim`);
    // Another service reports a measurement with the plain client library, in the binding's format.
    const envelope = { specversion: '1.0', id: randomUUID(), source: '/lamps', type: 'lightMeasured' };
    await raw.publishAsync(`${prefix}smartylighting/streetlights/1/0/event/lamp-7/lighting/measured`, JSON.stringify({ lumens: 900 }), { qos: 1, properties: { userProperties: envelope, contentType: 'application/json' } });
    await waitFor(() => measured.length === 1, 10_000, 'the measurement');
    expect(measured[0]).toEqual({ payload: { lumens: 900 }, parameters: { streetlightId: 'lamp-7' } });
  });
});

describe('MQTT target: tracing', () => {
  it('traces publish and process with OpenTelemetry (messaging.system mqtt), the consumer span a child of the producer span', async () => {
    const { context, trace } = await import('@opentelemetry/api');
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
    const exporter = new InMemorySpanExporter();
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    try {
      const producer = await client();
      const consumer = await client();
      let seen: { envelope: { traceparent?: string } } | undefined;
      await consumer.onOrderCreated(async (_payload: any, event: any) => void (seen = event), { group: 'traced' });
      const sent = await producer.publishOrderCreated(order(1), { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
      const processOf = () => exporter.getFinishedSpans().find((span) => span.name === `${prefix}orders/+/created process` && span.attributes['messaging.message.id'] === sent.id);
      await waitFor(() => seen !== undefined && processOf() !== undefined, 10_000, 'the process span');
      const publish = exporter.getFinishedSpans().find((span) => span.name === `${prefix}orders/+/created publish`)!;
      const process = processOf()!;
      expect(publish.attributes).toMatchObject({ 'messaging.system': 'mqtt', 'messaging.message.id': sent.id, 'messaging.destination.name': `${prefix}orders/eu/created` });
      expect(process.attributes).toMatchObject({ 'messaging.system': 'mqtt', 'messaging.consumer.group.name': 'traced', 'messaging.destination.name': `${prefix}orders/eu/created` });
      expect(process.spanContext().traceId).toBe(publish.spanContext().traceId);
      expect(process.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
      expect(seen!.envelope.traceparent).toBe(`00-${publish.spanContext().traceId}-${publish.spanContext().spanId}-01`);
    } finally {
      trace.disable();
      context.disable();
    }
  });
});
