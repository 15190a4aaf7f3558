import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AMQP_URL, Broker, cloudEventHeaders, deleteByPrefix, generateAndImport, namePrefix, sleep, waitFor, type Generated, type Loose } from './support.js';

// One generation and one `tsc --strict` program for the whole file: the bundled example, the rabbitmq
// fixture (slash-separated addresses, no bindings, a fanout exchange) and a document of hostile names.
let example: Generated;
let shop: Generated;
let broker: Broker;
const prefix = namePrefix('client');
const clients: Loose[] = [];

/** A client on its own names, closed after the file. */
async function client(generated: Generated, options: Record<string, unknown> = {}): Promise<Loose> {
  const created = await generated.rabbitmq.createClient({ urls: [AMQP_URL], namePrefix: prefix, closeTimeoutMs: 2_000, ...options });
  clients.push(created);
  return created;
}

function order(extra: Record<string, unknown> = {}) {
  return {
    orderId: randomUUID(),
    customerId: 'C-1',
    placedAt: new Date().toISOString(),
    currency: 'EUR',
    total: 10,
    items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 10 }],
    ...extra,
  };
}

const headers = { 'x-tenant': 'acme' };
/** Small retry delays so failing handlers are tested in milliseconds. */
const fastRetry = { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 20, multiplier: 1, jitter: 0 };

beforeAll(async () => {
  [example, shop] = await generateAndImport(['example/asyncapi.yaml', 'rabbitmq/shop.yaml', 'rabbitmq/hostile.yaml']);
  broker = await Broker.open();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await broker?.close();
  await deleteByPrefix(prefix);
});

describe('rabbitmq client against the real broker', () => {
  it('delivers 1,000 events typed and validated, each exactly once, in order per routing key', async () => {
    const app = await client(example, { serviceName: 'stream' });
    const seen = new Map<string, number[]>();
    const ids = new Set<string>();
    let handled = 0;
    const subscription = await app.onOrderCreated(async (payload: Loose, context: Loose) => {
      expect(typeof payload.orderId).toBe('string');
      expect(context.headers['x-priority']).toBe(3); // coerced back to the declared integer
      const region = context.parameters.region as string;
      seen.set(region, [...(seen.get(region) ?? []), payload.total]);
      ids.add(context.envelope.id);
      handled++;
    });
    const regions = ['eu', 'us', 'apac'];
    const publishes = [];
    for (let i = 0; i < 1000; i++) {
      const region = regions[i % 3]!;
      publishes.push(app.publishOrderCreated({ ...order(), total: i }, { parameters: { region }, headers: { ...headers, 'x-priority': 3 } }));
    }
    await Promise.all(publishes);
    await waitFor(() => handled >= 1000, '1,000 events handled');
    await sleep(200);
    expect(handled).toBe(1000);
    expect(ids.size).toBe(1000);
    for (const region of regions) {
      const totals = seen.get(region)!;
      expect(totals).toEqual([...totals].sort((a, b) => a - b));
      expect(totals.every((total) => total % 3 === regions.indexOf(region))).toBe(true);
    }
    // Every message was acknowledged (coalesced acks included): none comes back when the channel closes.
    await app.close();
    expect(await broker.count(subscription.queue)).toBe(0);
  });

  it('acknowledges fast handlers while a slow one still runs, so the prefetch window keeps moving', async () => {
    const app = await client(example, { serviceName: 'window' });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const handled: number[] = [];
    await app.onOrderCreated(
      async (payload: Loose) => {
        if (payload.total === 0) await gate;
        handled.push(payload.total);
      },
      { concurrency: 3 },
    );
    await Promise.all(Array.from({ length: 20 }, (_, i) => app.publishOrderCreated(order({ total: i }), { parameters: { region: 'eu' }, headers })));
    await waitFor(() => handled.length === 19, 'the 19 fast events while the first one waits');
    release();
    await waitFor(() => handled.length === 20, 'the slow event');
    expect(handled.at(-1)).toBe(0);
  });

  it('carries the CloudEvents envelope and the bindings as AMQP headers and properties', async () => {
    const app = await client(example, { serviceName: 'mapping' });
    const probe = await broker.probe(`${prefix}orders`, 'orders.us.created');
    const published = await app.publishOrderCreated(order(), { parameters: { region: 'us' }, headers, correlationId: 'corr-1', subject: 'order-7' });
    const [message] = await broker.take(probe, 1);
    const { properties } = message!;
    expect(published.routingKey).toBe('orders.us.created');
    expect(properties.contentType).toBe('application/json');
    expect(properties.messageId).toBe(published.id);
    expect(properties.correlationId).toBe('corr-1');
    expect(properties.type).toBe('order.created'); // messageType binding
    expect(properties.contentEncoding).toBe('utf-8');
    expect(properties.priority).toBe(5);
    expect(properties.deliveryMode).toBe(2);
    expect(properties.headers).toMatchObject({
      'cloudEvents:specversion': '1.0',
      'cloudEvents:id': published.id,
      'cloudEvents:type': 'com.example.order.created',
      'cloudEvents:source': '/orderProcessing',
      'cloudEvents:subject': 'order-7',
      'cloudEvents:correlationid': 'corr-1',
      'x-tenant': 'acme',
    });
    expect(properties.headers['cloudEvents:datacontenttype']).toBeUndefined();
    expect(typeof properties.headers['cloudEvents:time']).toBe('string');
  });

  it('reads cloudEvents_ headers too', async () => {
    const app = await client(shop, { serviceName: 'underscore' });
    const received: Loose[] = [];
    await app.onOrderCreated((payload: Loose, context: Loose) => void received.push({ payload, context }));
    const legacy = Object.fromEntries(Object.entries(cloudEventHeaders('shop.order.created')).map(([k, v]) => [k.replace('cloudEvents:', 'cloudEvents_'), v]));
    broker.publish(`${prefix}shop-events`, 'orders.apac.created', JSON.stringify({ orderId: 'o-1', total: 1 }), { headers: legacy, contentType: 'application/json' });
    await waitFor(() => received.length === 1, 'the cloudEvents_ event');
    expect(received[0].context.envelope.type).toBe('shop.order.created');
    expect(received[0].context.parameters).toEqual({ region: 'apac' });
    expect(received[0].context.headers).toEqual({});
  });

  it('dead-letters a raw message that fails validation and one that is not JSON, with the reason, and keeps consuming', async () => {
    const app = await client(example, { serviceName: 'poison' });
    const handled: string[] = [];
    const subscription = await app.onOrderCreated((payload: Loose) => void handled.push(payload.orderId));
    const dlq = `${subscription.queue}.dlq`;
    const exchange = `${prefix}orders`;
    broker.publish(exchange, 'orders.eu.created', JSON.stringify({ orderId: 'not-a-uuid' }), { headers: { ...cloudEventHeaders('com.example.order.created'), 'x-tenant': 'acme' }, contentType: 'application/json' });
    broker.publish(exchange, 'orders.eu.created', 'this is { not json', { headers: { ...cloudEventHeaders('com.example.order.created'), 'x-tenant': 'acme' }, contentType: 'application/json' });
    const valid = order();
    await app.publishOrderCreated(valid, { parameters: { region: 'eu' }, headers });
    await waitFor(() => handled.includes(valid.orderId), 'the valid event after the poison ones');
    const dead = await broker.take(dlq, 2);
    const reasons = dead.map((m) => m.properties.headers!['x-codegen-dead-letter-reason']).sort();
    expect(reasons).toEqual(['invalid-payload', 'not-json']);
    const invalid = dead.find((m) => m.properties.headers!['x-codegen-dead-letter-reason'] === 'invalid-payload')!;
    expect(String(invalid.properties.headers!['x-codegen-error'])).toMatch(/\/orderId format|required/);
    expect(invalid.content.toString()).toBe(JSON.stringify({ orderId: 'not-a-uuid' }));
    expect(invalid.properties.headers!['x-codegen-original-routing-key']).toBe('orders.eu.created');
    expect(handled).toEqual([valid.orderId]);
  });

  it('retries a failing handler: twice failing then succeeding is processed once; always failing is dead-lettered with the error', async () => {
    const app = await client(example, { serviceName: 'retry' });
    const attempts = new Map<string, number>();
    const done: string[] = [];
    const subscription = await app.onOrderCreated(
      async (payload: Loose, context: Loose) => {
        attempts.set(payload.orderId, context.attempt);
        if (payload.customerId === 'always-fails') throw new Error('the warehouse is on fire');
        if (context.attempt < 3) throw new Error(`transient failure ${context.attempt}`);
        done.push(payload.orderId);
      },
      { retry: fastRetry },
    );
    const flaky = order();
    const broken = order({ customerId: 'always-fails' });
    await app.publishOrderCreated(flaky, { parameters: { region: 'eu' }, headers });
    await app.publishOrderCreated(broken, { parameters: { region: 'eu' }, headers });
    const [dead] = await broker.take(`${subscription.queue}.dlq`, 1);
    await waitFor(() => done.length === 1, 'the flaky event to succeed');
    expect(done).toEqual([flaky.orderId]);
    expect(attempts.get(flaky.orderId)).toBe(3);
    expect(attempts.get(broken.orderId)).toBe(3);
    expect(dead!.properties.headers).toMatchObject({
      'x-codegen-dead-letter-reason': 'handler-failed',
      'x-codegen-error': 'the warehouse is on fire',
      'x-codegen-attempts': '3',
      'x-codegen-operation': 'onOrderCreated',
    });
    expect(JSON.parse(dead!.content.toString()).orderId).toBe(broken.orderId);
    await sleep(100);
    expect(await broker.count(`${subscription.queue}.dlq`)).toBe(0);
  });

  it('runs the handler once for an event id delivered twice', async () => {
    const app = await client(example, { serviceName: 'dedup' });
    const handled: string[] = [];
    await app.onOrderCreated((payload: Loose, context: Loose) => void handled.push(context.envelope.id));
    const id = randomUUID();
    const first = order();
    await app.publishOrderCreated(first, { parameters: { region: 'eu' }, headers, id });
    await app.publishOrderCreated(first, { parameters: { region: 'eu' }, headers, id });
    const marker = order();
    await app.publishOrderCreated(marker, { parameters: { region: 'eu' }, headers });
    await waitFor(() => handled.length >= 2, 'the marker event');
    await sleep(100);
    expect(handled.filter((h) => h === id)).toHaveLength(1);
  });

  it('answers a request with a typed reply, and times out when nobody answers', async () => {
    const responder = await client(example, { serviceName: 'payments' });
    const requester = await client(example, { serviceName: 'shop' });
    await responder.onHandlePaymentAuthorization(async (request: Loose, context: Loose) => {
      expect(context.envelope.type).toBe('com.example.payment.authorize');
      return { orderId: request.orderId, approved: request.amount < 100, ...(request.amount < 100 ? {} : { declineReason: 'limit' }) };
    });
    const orderId = randomUUID();
    const [small, large] = await Promise.all([
      requester.requestAuthorizePayment({ orderId, amount: 42.5, currency: 'EUR' }),
      requester.requestAuthorizePayment({ orderId, amount: 420, currency: 'EUR' }),
    ]);
    expect(small.payload).toEqual({ orderId, approved: true });
    expect(large.payload).toEqual({ orderId, approved: false, declineReason: 'limit' });
    // The reply's envelope, as on the other brokers: an event of its own.
    expect(large.envelope).toMatchObject({ type: 'com.example.payment.authorized', source: expect.any(String), id: expect.any(String) });
    expect(large.envelope.id).not.toBe(small.envelope.id);

    // A second set of names: the request queue exists but nobody consumes it.
    const lonely = await client(example, { serviceName: 'lonely', namePrefix: `${prefix}lonely.` });
    const started = Date.now();
    await expect(lonely.requestAuthorizePayment({ orderId, amount: 1, currency: 'EUR' }, { timeoutMs: 300 })).rejects.toMatchObject({ name: 'ReplyTimeoutError' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('routes by channel parameters: orders/{region}/created publishes orders.eu.created and consumers get the typed region', async () => {
    const app = await client(shop, { serviceName: 'params' });
    const probe = await broker.probe(`${prefix}shop-events`, 'orders.*.created');
    const audit = await broker.probe(`${prefix}shop-events`, 'audit.orders'); // the `cc` binding
    const all: Loose[] = [];
    const onlyEu: Loose[] = [];
    await app.onOrderCreated((payload: Loose, context: Loose) => void all.push(context.parameters));
    await app.onOrderCreated((payload: Loose, context: Loose) => void onlyEu.push(context.parameters), { parameters: { region: 'eu' }, queue: 'params.eu-only' });
    const published = await app.publishOrderCreated({ orderId: 'o-1', total: 5 }, { parameters: { region: 'eu' } });
    await app.publishOrderCreated({ orderId: 'o-2', total: 6 }, { parameters: { region: 'us' } });
    expect(published).toMatchObject({ exchange: `${prefix}shop-events`, routingKey: 'orders.eu.created' });
    const probed = await broker.take(probe, 2);
    expect(probed.map((m) => m.fields.routingKey)).toEqual(['orders.eu.created', 'orders.us.created']);
    expect((await broker.take(audit, 2)).map((m) => JSON.parse(m.content.toString()).orderId)).toEqual(['o-1', 'o-2']);
    await waitFor(() => all.length === 2, 'both regions');
    expect(all).toEqual([{ region: 'eu' }, { region: 'us' }]);
    await sleep(100);
    expect(onlyEu).toEqual([{ region: 'eu' }]);
  });

  it('refuses invalid payloads and parameters before sending, and rejects an unroutable mandatory event and a nacked one', async () => {
    const app = await client(example, { serviceName: 'refuse', namePrefix: `${prefix}unbound.` });
    await expect(app.publishOrderCreated({ orderId: 'x' }, { parameters: { region: 'eu' }, headers })).rejects.toMatchObject({ name: 'EventValidationError', reason: 'invalid-payload' });
    await expect(app.publishOrderCreated(order(), { parameters: { region: 'mars' }, headers })).rejects.toMatchObject({ name: 'EventValidationError', reason: 'invalid-address' });
    await expect(app.publishOrderCreated(order(), { parameters: { region: 'e.u' }, headers, validate: false })).rejects.toThrow(/separators or wildcards/);
    // publishOrderCreated is `mandatory: true` in the document, and nothing is bound under these names.
    await expect(app.publishOrderCreated(order(), { parameters: { region: 'eu' }, headers })).rejects.toMatchObject({ name: 'PublishError', message: expect.stringMatching(/unroutable/) });
    // A queue that refuses every message makes RabbitMQ nack the publish.
    const full = await broker.channel.assertQueue('', { exclusive: true, arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' } });
    await broker.channel.bindQueue(full.queue, `${prefix}unbound.orders`, 'orders.us.created');
    await expect(app.publishOrderCreated(order(), { parameters: { region: 'us' }, headers })).rejects.toMatchObject({ name: 'PublishError', message: expect.stringMatching(/nack/) });
    // The client keeps working after a return and a nack.
    const probe = await broker.probe(`${prefix}unbound.orders`, 'orders.eu.created');
    await app.publishOrderCreated(order(), { parameters: { region: 'eu' }, headers });
    await broker.take(probe, 1);
  });

  it('honours operation bindings on a fanout exchange: transient, expiring, timestamped; ack: false is at-most-once', async () => {
    const app = await client(shop, { serviceName: 'prices' });
    const probe = await broker.probe(`${prefix}prices`, '');
    const prices: Loose[] = [];
    const subscription = await app.onPriceChanged(
      (payload: Loose) => {
        prices.push(payload);
        throw new Error('handler failure after an at-most-once ack');
      },
      { retry: { maxAttempts: 1 } },
    );
    await app.publishPriceChanged({ sku: 'SKU-1', price: 9.5 });
    const [message] = await broker.take(probe, 1);
    expect(message!.properties).toMatchObject({ deliveryMode: 1, expiration: '60000', type: 'shop.price.changed' });
    expect(Math.abs(message!.properties.timestamp * 1000 - Date.now())).toBeLessThan(60_000);
    await waitFor(() => prices.length === 1, 'the price event');
    // Acknowledged before the handler ran: the failure dead-letters it, nothing is redelivered.
    const [dead] = await broker.take(`${subscription.queue}.dlq`, 1);
    expect(dead!.properties.headers!['x-codegen-dead-letter-reason']).toBe('handler-failed');
    await sleep(100);
    expect(prices).toHaveLength(1);
    expect(await broker.count(subscription.queue)).toBe(0);
  });

  it('rejects a publish whose channel the broker closes, then carries on with a fresh channel', async () => {
    // Nothing declared under these names: the exchange does not exist, so RabbitMQ closes the channel (404).
    const app = await client(example, { serviceName: 'missing', namePrefix: `${prefix}missing.`, declareTopology: false });
    await expect(app.publishOrderLifecycle({ orderId: randomUUID(), status: 'cancelled', reason: 'x' }, { parameters: { region: 'eu' } })).rejects.toMatchObject({
      name: 'PublishError',
      message: expect.stringMatching(/NOT_FOUND/),
    });
    await broker.channel.assertExchange(`${prefix}missing.orders`, 'topic', { durable: false, autoDelete: true });
    const probe = await broker.probe(`${prefix}missing.orders`, '#');
    await app.publishOrderLifecycle({ orderId: randomUUID(), status: 'cancelled', reason: 'y' }, { parameters: { region: 'eu' } });
    const [message] = await broker.take(probe, 1);
    expect(message!.properties.headers['cloudEvents:type']).toBe('com.example.order.cancelled');
  });

  it('works on a connection the application gives it, and leaves that connection open', async () => {
    const { connect } = await import('amqplib');
    const connection = await connect(AMQP_URL);
    let closed = false;
    connection.on('close', () => (closed = true));
    const app = await example.rabbitmq.createClient({ connection, namePrefix: prefix, serviceName: 'borrowed' });
    await app.declareTopology();
    await app.declareTopology();
    const received: string[] = [];
    await app.onOrderLifecycle((payload: Loose) => void received.push(payload.status));
    await app.publishOrderLifecycle({ orderId: randomUUID(), status: 'shipped', shippedAt: new Date().toISOString(), carrier: 'dhl' }, { parameters: { region: 'us' } });
    await waitFor(() => received.length === 1, 'the lifecycle event');
    expect(received).toEqual(['shipped']);
    await app.close();
    expect(closed).toBe(false);
    const channel = await connection.createChannel();
    await channel.close();
    await connection.close();
  });

  it('traces publish and process with OpenTelemetry when it is installed, the consumer span a child of the producer span', async () => {
    const { context, trace } = await import('@opentelemetry/api');
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
    const exporter = new InMemorySpanExporter();
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    try {
      const app = await client(example, { serviceName: 'traced' });
      let seen: Loose;
      await app.onOrderCreated((_payload: Loose, context: Loose) => void (seen = context));
      const published = await app.publishOrderCreated(order(), { parameters: { region: 'apac' }, headers });
      await waitFor(() => seen !== undefined && exporter.getFinishedSpans().some((span) => span.name.endsWith(' process')), 'the process span');
      const spans = exporter.getFinishedSpans();
      const publish = spans.find((span) => span.name === `${prefix}orders publish`)!;
      const process = spans.find((span) => span.name === `${prefix}orders process`)!;
      expect(publish.attributes).toMatchObject({ 'messaging.system': 'rabbitmq', 'messaging.message.id': published.id, 'messaging.rabbitmq.destination.routing_key': 'orders.apac.created' });
      expect(process.spanContext().traceId).toBe(publish.spanContext().traceId);
      expect(process.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
      expect(seen.envelope.traceparent).toBe(`00-${publish.spanContext().traceId}-${publish.spanContext().spanId}-01`);
    } finally {
      trace.disable();
      context.disable();
    }
  });

  it('rejects createClient when no broker address answers', async () => {
    const attempts: Loose[] = [];
    const connecting = example.rabbitmq.createClient({
      urls: ['amqp://127.0.0.1:1', 'amqp://127.0.0.1:2'],
      reconnect: { initialAttempts: 4, initialDelayMs: 5 },
      onConnectionEvent: (event: Loose) => attempts.push(event),
    });
    await expect(connecting).rejects.toThrow(/ECONNREFUSED/);
    expect(attempts.map((event) => `${event.type} ${event.address}`)).toEqual(['retrying amqp://127.0.0.1:1', 'retrying amqp://127.0.0.1:2', 'retrying amqp://127.0.0.1:1']);
    expect(attempts.map((event) => event.delayMs > 0)).toEqual([false, true, false]);
  });

  it('close() stops consuming and waits for handlers in progress, which are acknowledged', async () => {
    const app = await generatedClient();
    let finished = 0;
    let started = 0;
    const subscription = await app.onOrderCreated(async () => {
      started++;
      await sleep(300);
      finished++;
    });
    await app.publishOrderCreated(order(), { parameters: { region: 'eu' }, headers });
    await waitFor(() => started === 1, 'the slow handler to start');
    await app.close();
    expect(finished).toBe(1);
    await expect(app.publishOrderCreated(order(), { parameters: { region: 'eu' }, headers })).rejects.toMatchObject({ name: 'ClientClosedError' });
    await sleep(100);
    expect(await broker.count(subscription.queue)).toBe(0);
  });
});

async function generatedClient(): Promise<Loose> {
  return example.rabbitmq.createClient({ urls: ['amqp://127.0.0.1:1', AMQP_URL], namePrefix: prefix, serviceName: 'closing', reconnect: { initialDelayMs: 10 } });
}
