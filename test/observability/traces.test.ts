/* eslint-disable @typescript-eslint/no-explicit-any */
// OpenTelemetry in the generated clients, with the real SDK (in-memory exporter and metric reader) and
// the real brokers. For each target: service A's client publishes, service B's client consumes (two
// client instances); request/reply; retries, dead-lettering, duplicates and a garbage traceparent;
// the logger hook; metric counters. Then one trace across two services and the three brokers, whose
// spans are written to .cache/observability/trace.json (the source of docs/trace.svg). Last, the same
// generated code run where @opentelemetry/api cannot be resolved.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { context as otelContext, trace as otelTrace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/codegen.js';
import {
  assertBrokersUp,
  generateExample,
  installOpenTelemetry,
  kafkaHarness,
  memoryLogger,
  mqttHarness,
  natsHarness,
  order,
  parentOf,
  rabbitHarness,
  spansAsJson,
  SPAN_KIND,
  STATUS,
  total,
  waitFor,
  type BrokerHarness,
  type Generated,
  type Otel,
} from './support.js';

let generated: Generated;
let otel: Otel;
const harnesses: BrokerHarness[] = [];

beforeAll(async () => {
  await assertBrokersUp();
  otel = installOpenTelemetry();
  generated = await generateExample();
});

afterAll(async () => {
  await Promise.allSettled(harnesses.map((h) => h.cleanup()));
  await otel?.uninstall();
});

class PaymentDeclined extends Error {
  override name = 'PaymentDeclined';
}

const spans = () => otel.exporter.getFinishedSpans();
const eventsOf = (list: ReadableSpan[], name: string) => list.flatMap((s) => s.events.filter((e) => e.name === name));
const TRACE_ID = /^[0-9a-f]{32}$/;

const harnessOf: Record<string, (g: Generated) => BrokerHarness> = { rabbitmq: rabbitHarness, kafka: kafkaHarness, nats: natsHarness, mqtt: mqttHarness };

describe.each(['rabbitmq', 'kafka', 'nats', 'mqtt'])('%s: traces, logs and metrics', (system) => {
  let broker: BrokerHarness;
  beforeAll(() => {
    broker = harnessOf[system]!(generated);
    harnesses.push(broker);
  });

  it('traces A → B (consumer span a child of the producer span), with retries, dead-lettering, a duplicate, an invalid event and a garbage traceparent; logs and counters match', async () => {
    const { logger, lines } = memoryLogger();
    const a = await broker.service('a');
    const b = await broker.service('b', logger);
    const handled: Array<{ id: string; customerId: string; attempt: number }> = [];
    await b.onOrder(async (payload, info) => {
      if (payload.customerId === 'flaky' && info.attempt === 1) throw new PaymentDeclined('card network timeout');
      if (payload.customerId === 'doomed') throw new PaymentDeclined('card declined for good');
      handled.push({ id: info.id, customerId: payload.customerId, attempt: info.attempt });
    });

    const ok: Array<{ id: string }> = [];
    for (let i = 1; i <= 3; i++) ok.push(await a.publishOrder(order(`ok-${i}`)));
    const flaky = await a.publishOrder(order('flaky'));
    const doomed = await a.publishOrder(order('doomed'));
    await waitFor(() => handled.some((h) => h.id === ok[0]!.id), 60_000, 'the first event handled');
    // The same event id again (a redelivered copy): skipped. An event whose traceparent is garbage: a new trace.
    const garbageId = randomUUID();
    await broker.raw(order('dup'), { id: ok[0]!.id });
    await broker.raw(order('garbage'), { id: garbageId, traceparent: '00-not-a-trace-parent-zz' });
    // An event that fails validation (no items): dead-lettered at once, with the reason.
    const invalidId = randomUUID();
    const { items: _items, ...itemless } = order('invalid');
    await broker.raw(itemless, { id: invalidId, traceparent: `00-${'c3'.repeat(16)}-${'d4'.repeat(8)}-01` });

    const processes = (id: string) => spans().filter((s) => s.name === `${broker.orderDestination} process` && s.attributes['messaging.message.id'] === id);
    const publishOf = (id: string) => spans().find((s) => s.name === `${broker.orderDestination} publish` && s.attributes['messaging.message.id'] === id)!;
    await waitFor(
      () =>
        ['ok-1', 'ok-2', 'ok-3', 'flaky', 'garbage'].every((c) => handled.some((h) => h.customerId === c)) &&
        eventsOf(processes(doomed.id), 'messaging.dead_letter').length === 1 &&
        eventsOf(processes(ok[0]!.id), 'messaging.duplicate').length === 1 &&
        processes(garbageId).length === 1 &&
        processes(invalidId).length === 1 &&
        // Every process span has ended (metrics are recorded as a span ends), redeliveries included.
        spans().filter((s) => s.name === `${broker.orderDestination} process`).length >= 8 + (broker.redelivery ? 3 : 0),
      60_000,
      () => `every event processed (handled: ${handled.map((h) => h.customerId).join(', ')})`,
    );

    // One trace from A's publish into B's handler.
    const publish = publishOf(ok[0]!.id);
    const [process] = processes(ok[0]!.id).filter((s) => eventsOf([s], 'messaging.duplicate').length === 0);
    expect(publish.kind).toBe(SPAN_KIND.PRODUCER);
    expect(publish.attributes).toMatchObject({
      'messaging.system': system,
      'messaging.operation.name': 'publish',
      'messaging.operation.type': 'send',
      'messaging.message.id': ok[0]!.id,
      ...broker.publishAttributes,
    });
    expect(process!.kind).toBe(SPAN_KIND.CONSUMER);
    expect(process!.attributes).toMatchObject({
      'messaging.system': system,
      'messaging.operation.name': 'process',
      'messaging.operation.type': 'process',
      'messaging.message.id': ok[0]!.id,
      ...broker.processAttributes,
    });
    if (system === 'kafka') expect(process!.attributes['messaging.destination.partition.id']).toMatch(/^[0-2]$/);
    expect(process!.spanContext().traceId).toBe(publish.spanContext().traceId);
    expect(parentOf(process!)).toBe(publish.spanContext().spanId);
    expect(process!.links.map((l) => l.context.spanId)).toEqual([publish.spanContext().spanId]);
    expect(process!.status.code).toBe(STATUS.UNSET);

    // The flaky handler: the failed attempt is on the span(s), the event is then processed.
    const flakySpans = processes(flaky.id);
    expect(flakySpans.length).toBe(broker.redelivery ? 2 : 1);
    for (const span of flakySpans) expect(parentOf(span)).toBe(publishOf(flaky.id).spanContext().spanId);
    const [retry] = eventsOf(flakySpans, 'messaging.retry');
    expect(eventsOf(flakySpans, 'messaging.retry')).toHaveLength(1);
    expect(retry!.attributes).toMatchObject({ attempt: 1, redelivery: broker.redelivery, 'exception.type': 'PaymentDeclined', 'exception.message': 'card network timeout' });
    expect(eventsOf(flakySpans, 'exception')[0]!.attributes).toMatchObject({ 'exception.type': 'PaymentDeclined', 'exception.message': 'card network timeout' });
    expect(flakySpans.at(-1)!.status.code).toBe(STATUS.UNSET);

    // The doomed handler: two retries, then dead-lettered with the error; status ERROR.
    const doomedSpans = processes(doomed.id);
    expect(eventsOf(doomedSpans, 'messaging.retry').map((e) => e.attributes!.attempt)).toEqual([1, 2]);
    const dead = doomedSpans.find((s) => eventsOf([s], 'messaging.dead_letter').length === 1)!;
    expect(eventsOf([dead], 'messaging.dead_letter')[0]!.attributes).toMatchObject({ reason: 'handler-failed', attempts: 3, 'exception.message': 'card declined for good' });
    expect(dead.status).toMatchObject({ code: STATUS.ERROR, message: 'card declined for good' });
    expect(dead.attributes['error.type']).toBe('handler-failed');
    expect(eventsOf([dead], 'exception').at(-1)!.attributes).toMatchObject({ 'exception.type': 'PaymentDeclined', 'exception.message': 'card declined for good' });
    expect(eventsOf(doomedSpans, 'messaging.invalid')).toHaveLength(0);

    // The duplicate: skipped, on a span of its own; the handler ran once for that id.
    expect(handled.filter((h) => h.id === ok[0]!.id)).toHaveLength(1);

    // The garbage traceparent: a new trace (no parent, no link), processed, nothing thrown.
    const [garbage] = processes(garbageId);
    expect(garbage!.spanContext().traceId).toMatch(TRACE_ID);
    expect(parentOf(garbage!)).toBeUndefined();
    expect(garbage!.links).toHaveLength(0);
    expect(garbage!.status.code).toBe(STATUS.UNSET);

    // The invalid event: `messaging.invalid` and `messaging.dead_letter` with the reason, status ERROR, in the sender's trace.
    const [invalid] = processes(invalidId);
    expect(invalid!.spanContext().traceId).toBe('c3'.repeat(16));
    expect(eventsOf([invalid!], 'messaging.invalid')[0]!.attributes).toMatchObject({ reason: 'invalid-payload', 'exception.message': expect.stringContaining('items') });
    expect(eventsOf([invalid!], 'messaging.dead_letter')[0]!.attributes).toMatchObject({ reason: 'invalid-payload', attempts: 1 });
    expect(invalid!.status.code).toBe(STATUS.ERROR);
    expect(invalid!.attributes['error.type']).toBe('invalid-payload');
    expect(handled.some((h) => h.id === invalidId)).toBe(false);

    // The logger hook: retries and dead-lettering with the event id and the trace id.
    const retried = lines.find((l) => l.message === 'handler failed; retrying' && l.fields.eventId === flaky.id);
    expect(retried).toMatchObject({ level: 'warn', fields: { traceId: publishOf(flaky.id).spanContext().traceId, attempt: 1 } });
    const deadLettered = lines.find((l) => l.message === 'event dead-lettered' && l.fields.eventId === doomed.id);
    expect(deadLettered).toMatchObject({ level: 'error', fields: { traceId: publishOf(doomed.id).spanContext().traceId, reason: 'handler-failed' } });

    expect(lines.find((l) => l.message === 'event dead-lettered' && l.fields.eventId === invalidId)).toMatchObject({ level: 'error', fields: { traceId: 'c3'.repeat(16), reason: 'invalid-payload' } });

    // Metrics: 5 published; delivered: 5 + the duplicate, the garbage and the invalid one (+ 3 redeliveries on JetStream).
    const where = { 'messaging.destination.name': broker.orderDestination, 'messaging.system': system };
    const redeliveries = broker.redelivery ? 3 : 0;
    expect(total(await otel.points('messaging.client.sent.messages'), where)).toBe(5);
    expect(total(await otel.points('messaging.client.operation.duration'), where)).toBe(5);
    expect(total(await otel.points('messaging.client.consumed.messages'), where)).toBe(8 + redeliveries);
    expect(total(await otel.points('messaging.client.consumed.messages'), { ...where, 'error.type': 'handler-failed' })).toBe(1);
    expect(total(await otel.points('messaging.client.consumed.messages'), { ...where, 'error.type': 'invalid-payload' })).toBe(1);
    expect(total(await otel.points('messaging.client.consumed.messages'), { ...where, 'error.type': 'PaymentDeclined' })).toBe(redeliveries);
    expect(total(await otel.points('messaging.process.duration'), where)).toBe(8 + redeliveries);
    expect(total(await otel.points('codegen.messaging.retried.messages'), where)).toBe(3);
    expect(total(await otel.points('codegen.messaging.dead_lettered.messages'), where)).toBe(2);
    expect(total(await otel.points('codegen.messaging.deduplicated.messages'), where)).toBe(1);
    expect(total(await otel.points('codegen.messaging.invalid.messages'), where)).toBe(1);
    // Metric points never carry per-message attributes.
    for (const point of await otel.points('messaging.client.consumed.messages')) {
      expect(Object.keys(point.attributes).filter((k) => /message\.id|key|offset|routing_key|delivery_tag/.test(k))).toEqual([]);
    }
    await Promise.all([a.close(), b.close()]);
  });

  it('keeps a request and its reply in one trace', async () => {
    const a = await broker.service('a');
    const b = await broker.service('b');
    await b.respond(async (payload) => ({ orderId: payload.orderId, approved: true }));
    const request = { orderId: randomUUID(), amount: 42.5, currency: 'EUR' };
    const checkout = otel.tracer.startSpan('checkout');
    const reply = await otelContext.with(otelTrace.setSpan(otelContext.active(), checkout), () => a.request(request));
    checkout.end();
    expect(reply.payload).toEqual({ orderId: request.orderId, approved: true });

    const traceId = checkout.spanContext().traceId;
    const inTrace = () => spans().filter((s) => s.spanContext().traceId === traceId);
    await waitFor(() => inTrace().some((s) => s.name === `${broker.requestDestination} process`), 10_000, 'the responder span');
    const publish = inTrace().find((s) => s.name === `${broker.requestDestination} publish`)!;
    const process = inTrace().find((s) => s.name === `${broker.requestDestination} process`)!;
    expect(parentOf(publish)).toBe(checkout.spanContext().spanId);
    expect(parentOf(process)).toBe(publish.spanContext().spanId);
    expect(process.attributes['messaging.system']).toBe(system);
    // The reply leg: its traceparent is the responder's span, in the same trace.
    if (reply.envelope) expect(reply.envelope.traceparent).toBe(`00-${traceId}-${process.spanContext().spanId}-01`);
    if (broker.rawRequest) {
      const traceparent = `00-${randomUUID().replace(/-/g, '')}-${'ab'.repeat(8)}-01`;
      const replied = await broker.rawRequest(request, traceparent);
      const responder = spans().find((s) => s.name === `${broker.requestDestination} process` && parentOf(s) === 'ab'.repeat(8))!;
      expect(responder.spanContext().traceId).toBe(traceparent.slice(3, 35));
      expect(replied).toBe(`00-${traceparent.slice(3, 35)}-${responder.spanContext().spanId}-01`);
    }
    await Promise.all([a.close(), b.close()]);
  });
});

describe('one trace across two services and three brokers', () => {
  it('checkout (A) → RabbitMQ → B → Kafka → A → NATS request → B → reply', async () => {
    const rabbit = rabbitHarness(generated);
    const kafka = kafkaHarness(generated);
    const nats = natsHarness(generated);
    harnesses.push(rabbit, kafka, nats);
    const [rabbitA, rabbitB, kafkaA, kafkaB, natsA, natsB] = await Promise.all([
      rabbit.service('a'),
      rabbit.service('b'),
      kafka.service('a'),
      kafka.service('b'),
      nats.service('a'),
      nats.service('b'),
    ]);
    let done: ((approved: boolean) => void) | undefined;
    const finished = new Promise<boolean>((resolve) => (done = resolve));
    // Service B: takes the order from RabbitMQ and announces it on Kafka; answers payment requests on NATS.
    await rabbitB.onOrder(async (payload) => void (await kafkaB.publishOrder(payload)));
    await natsB.respond(async (payload) => ({ orderId: payload.orderId, approved: true }));
    // Service A: takes the order from Kafka and asks for the payment over NATS.
    await kafkaA.onOrder(async (payload) => {
      const reply = await natsA.request({ orderId: payload.orderId, amount: payload.total, currency: payload.currency });
      done!(reply.payload.approved);
    });

    const checkout = otel.tracer.startSpan('POST /checkout');
    await otelContext.with(otelTrace.setSpan(otelContext.active(), checkout), () => rabbitA.publishOrder(order('C-1001')));
    checkout.end();
    expect(await finished).toBe(true);

    const traceId = checkout.spanContext().traceId;
    const names = [
      `${rabbit.orderDestination} publish`,
      `${rabbit.orderDestination} process`,
      `${kafka.orderDestination} publish`,
      `${kafka.orderDestination} process`,
      `${nats.requestDestination} publish`,
      `${nats.requestDestination} process`,
    ];
    const inTrace = () => spans().filter((s) => s.spanContext().traceId === traceId);
    await waitFor(() => names.every((n) => inTrace().some((s) => s.name === n)), 20_000, () => `the spans of the trace (have ${inTrace().map((s) => s.name).join(', ')})`);
    const chain = ['POST /checkout', ...names].map((n) => inTrace().find((s) => s.name === n)!);
    for (let i = 1; i < chain.length; i++) expect(parentOf(chain[i]!), chain[i]!.name).toBe(chain[i - 1]!.spanContext().spanId);

    const dir = path.join(ROOT, '.cache', 'observability');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'trace.json'), `${JSON.stringify(spansAsJson(inTrace()), null, 2)}\n`);
    await Promise.all([rabbitA, rabbitB, kafkaA, kafkaB, natsA, natsB].map((s) => s.close()));
  });
});

describe('without @opentelemetry/api', () => {
  it('runs the generated clients of the three brokers where the API cannot be resolved: nothing fails, logs still carry the trace id', async () => {
    const rabbit = rabbitHarness(generated);
    const kafka = kafkaHarness(generated);
    const nats = natsHarness(generated);
    harnesses.push(rabbit, kafka, nats);
    // A folder outside the project: the emitted JavaScript, and a node_modules with the broker clients only.
    const app = mkdtempSync(path.join(os.tmpdir(), 'codegen-no-otel-'));
    try {
      cpSync(generated.js, path.join(app, 'generated'), { recursive: true });
      cpSync(path.join(ROOT, 'test/observability/app-without-otel.mjs'), path.join(app, 'app.mjs'));
      writeFileSync(path.join(app, 'package.json'), JSON.stringify({ type: 'module', private: true }));
      // mqtt too: the generated root index exports every target's client.
      for (const name of ['amqplib', 'kafkajs', '@nats-io/transport-node', '@nats-io/jetstream', 'mqtt']) {
        mkdirSync(path.dirname(path.join(app, 'node_modules', name)), { recursive: true });
        symlinkSync(path.join(ROOT, 'node_modules', name), path.join(app, 'node_modules', name), 'dir');
      }
      const { stdout } = await promisify(execFile)(process.execPath, ['app.mjs', rabbit.prefix, kafka.prefix, nats.prefix], { cwd: app, timeout: 150_000, maxBuffer: 16 * 1024 * 1024 });
      const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
      expect(result.openTelemetryResolvable).toBe(false);
      expect(result.resolveError).toBe('ERR_MODULE_NOT_FOUND');
      const traceId = 'a1'.repeat(16);
      for (const system of ['rabbitmq', 'kafka', 'nats']) {
        const seen = result.brokers[system];
        expect(seen.handled, system).toEqual(['flaky']);
        expect(seen.retryLog, system).toMatchObject({ traceId, attempt: 1 });
        expect(seen.deadLetterLog, system).toMatchObject({ traceId, reason: 'handler-failed' });
        expect(seen.approved, system).toBe(true);
      }
      // The reply continues the request's trace context even without the API (RabbitMQ returns the payload only).
      expect(result.brokers.kafka.replyTraceparent).toBe(`00-${traceId}-${'b2'.repeat(8)}-01`);
      expect(result.brokers.nats.replyTraceparent).toBe(`00-${traceId}-${'b2'.repeat(8)}-01`);
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });
});
