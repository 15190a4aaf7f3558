/* eslint-disable @typescript-eslint/no-explicit-any */
// Shared set-up of the observability tests: the real OpenTelemetry SDK (in-memory span exporter, an
// in-memory metric reader, the AsyncLocalStorage context manager), the bundled example generated for
// the four targets and compiled once, and one harness per broker so that every scenario runs the same
// way on RabbitMQ, Kafka, NATS and MQTT.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { context, metrics, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { connect as amqpConnect } from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import { connect as natsConnect, headers as natsHeaders } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { connectAsync as mqttConnect } from 'mqtt';
import { compileStrict, emittedFolder, FIXTURES, generateTo, importGenerated, uniqueName } from '../helpers/codegen.js';

const execFileAsync = promisify(execFile);

export const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
export const KAFKA_BROKERS = ['127.0.0.1:9092'];
export const NATS_URL = '127.0.0.1:4222';

export type System = 'rabbitmq' | 'kafka' | 'nats' | 'mqtt';
export const MQTT_URL = 'mqtt://127.0.0.1:1883';

// ---- OpenTelemetry --------------------------------------------------------------------------------

/** A metric reader that keeps nothing itself: `collect()` reads the SDK's current (cumulative) state. */
class MemoryMetricReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export interface Otel {
  exporter: InMemorySpanExporter;
  tracer: Tracer;
  /** Points of one metric: counters give `value`, histograms `count`. */
  points(name: string): Promise<Array<{ attributes: Record<string, unknown>; value: number }>>;
  uninstall(): Promise<void>;
}

/** Registers the SDK globally, as an application does at start-up. */
export function installOpenTelemetry(): Otel {
  const exporter = new InMemorySpanExporter();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(tracerProvider);
  const reader = new MemoryMetricReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  return {
    exporter,
    tracer: trace.getTracer('observability-test'),
    async points(name) {
      const { resourceMetrics } = await reader.collect();
      const out: Array<{ attributes: Record<string, unknown>; value: number }> = [];
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          if (metric.descriptor.name !== name) continue;
          for (const point of metric.dataPoints as Array<DataPoint<number | Histogram>>) {
            const value = typeof point.value === 'number' ? point.value : point.value.count;
            out.push({ attributes: point.attributes, value });
          }
        }
      }
      return out;
    },
    async uninstall() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      trace.disable();
      metrics.disable();
      context.disable();
    },
  };
}

/** Sum of the points whose attributes include `where`. */
export function total(points: Array<{ attributes: Record<string, unknown>; value: number }>, where: Record<string, unknown>): number {
  return points.filter((p) => Object.entries(where).every(([k, v]) => (v === undefined ? !(k in p.attributes) : p.attributes[k] === v))).reduce((sum, p) => sum + p.value, 0);
}

export const SPAN_KIND = { PRODUCER: 3, CONSUMER: 4 } as const;
export const STATUS = { UNSET: 0, OK: 1, ERROR: 2 } as const;

export function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

/** The spans of the in-memory exporter, as JSON a person (or a diagram) can read. */
export function spansAsJson(spans: ReadableSpan[]): unknown[] {
  const start = Math.min(...spans.map((s) => s.startTime[0] * 1e3 + s.startTime[1] / 1e6));
  const ms = (t: [number, number]) => t[0] * 1e3 + t[1] / 1e6;
  return spans
    .map((s) => ({
      name: s.name,
      kind: s.kind === SPAN_KIND.PRODUCER ? 'PRODUCER' : s.kind === SPAN_KIND.CONSUMER ? 'CONSUMER' : 'INTERNAL',
      traceId: s.spanContext().traceId,
      spanId: s.spanContext().spanId,
      parentSpanId: parentOf(s),
      startMs: Number((ms(s.startTime) - start).toFixed(2)),
      durationMs: Number(ms(s.duration).toFixed(2)),
      status: s.status,
      attributes: s.attributes,
      events: s.events.map((e) => ({ name: e.name, atMs: Number((ms(e.time) - start).toFixed(2)), attributes: e.attributes })),
      links: s.links.map((l) => l.context.spanId),
    }))
    .sort((a, b) => a.startMs - b.startMs);
}

// ---- generated code ----------------------------------------------------------------------------

export interface Generated {
  root: any;
  /** Folder of the generated TypeScript. */
  out: string;
  /** Folder of the emitted JavaScript. */
  js: string;
}

/** The bundled example for the four targets, compiled with tsc --strict as one program, imported. */
export async function generateExample(): Promise<Generated> {
  const out = await generateTo(path.join(FIXTURES, 'example/asyncapi.yaml'), ['rabbitmq', 'kafka', 'nats', 'mqtt']);
  await compileStrict([out], { emit: true });
  return { root: await importGenerated<any>(out, 'index.js'), out, js: emittedFolder(out) };
}

// ---- small helpers ---------------------------------------------------------------------------------

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface LogLine {
  level: string;
  message: string | undefined;
  fields: Record<string, unknown>;
}

/** A pino-compatible logger keeping its lines in memory. */
export function memoryLogger(): { logger: Record<string, (fields: Record<string, unknown>, message?: string) => void>; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message?: string) => void lines.push({ level, message, fields });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

export function order(customerId: string): Record<string, unknown> {
  return {
    orderId: randomUUID(),
    customerId,
    placedAt: '2026-11-26T08:00:00Z',
    currency: 'EUR',
    total: 42.5,
    items: [{ sku: 'SKU-1', quantity: 2, unitPrice: 21.25 }],
  };
}

/** True when something listens on the port on 127.0.0.1. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (value: boolean) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(3000, () => done(false));
    socket.on('connect', () => done(true));
    socket.on('error', () => done(false));
  });
}

/** Fails (never skips) when a broker does not answer. */
export async function assertBrokersUp(): Promise<void> {
  const missing: string[] = [];
  if (!(await portOpen(5672))) missing.push('RabbitMQ on 127.0.0.1:5672');
  if (!(await portOpen(9092))) missing.push('Kafka on 127.0.0.1:9092 (bash scripts/kafka.sh start && bash scripts/kafka.sh wait)');
  if (!(await portOpen(4222))) missing.push('NATS on 127.0.0.1:4222');
  if (!(await portOpen(1883))) missing.push('Mosquitto on 127.0.0.1:1883');
  if (missing.length) throw new Error(`brokers not running: ${missing.join(', ')} (npm test starts them)`);
}

// ---- one harness per broker ------------------------------------------------------------------------

/** What a scenario needs of a service's generated client, the same on every broker. */
export interface Service {
  publishOrder(payload: Record<string, unknown>): Promise<{ id: string }>;
  onOrder(handler: (payload: any, info: { id: string; attempt: number }) => Promise<void>): Promise<void>;
  /** A request and its reply (`envelope` when the broker's client returns it). */
  request(payload: Record<string, unknown>): Promise<{ payload: any; envelope?: { traceparent?: string } }>;
  respond(handler: (payload: any) => Promise<unknown>): Promise<void>;
  close(): Promise<void>;
}

export interface BrokerHarness {
  system: System;
  /** Prefix of every topic, exchange, queue, subject and stream of this harness (removed by cleanup). */
  prefix: string;
  /** The destination in the span names of OrderCreated and of the payment requests. */
  orderDestination: string;
  requestDestination: string;
  /** Span attributes every publish / process of OrderCreated carries on this broker. */
  publishAttributes: Record<string, unknown>;
  processAttributes: Record<string, unknown>;
  /** True when a retry is a new delivery (a new process span), as on NATS JetStream. */
  redelivery: boolean;
  service(name: 'a' | 'b', logger?: unknown): Promise<Service>;
  /** Puts an OrderCreated event on the broker behind the generated client's back, with these attributes. */
  raw(payload: Record<string, unknown>, envelope: { id: string; traceparent?: string }): Promise<void>;
  /** A request sent with plain client code; resolves with the reply's `traceparent`. */
  rawRequest?(payload: Record<string, unknown>, traceparent: string): Promise<string | undefined>;
  cleanup(): Promise<void>;
}

export const RETRY = { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 100, multiplier: 2, jitter: 0 };

function envelopeHeaders(prefix: string, envelope: { id: string; traceparent?: string }): Record<string, string> {
  const headers: Record<string, string> = {
    [`${prefix}specversion`]: '1.0',
    [`${prefix}id`]: envelope.id,
    [`${prefix}source`]: '/observability-test',
    [`${prefix}type`]: 'com.example.order.created',
    [`${prefix}time`]: new Date().toISOString(),
  };
  if (envelope.traceparent !== undefined) headers[`${prefix}traceparent`] = envelope.traceparent;
  return headers;
}

export function kafkaHarness(generated: Generated): BrokerHarness {
  const prefix = `${uniqueName('obs-k')}.`;
  const open: Array<{ close(): Promise<void> }> = [];
  const plain = new Kafka({ clientId: 'observability-test', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
  let declared: Promise<unknown> | undefined;
  return {
    system: 'kafka',
    prefix,
    orderDestination: `${prefix}orders.created`,
    requestDestination: `${prefix}payments.authorize`,
    publishAttributes: { 'messaging.destination.name': `${prefix}orders.created`, 'messaging.kafka.message.key': 'order-key' },
    processAttributes: { 'messaging.destination.name': `${prefix}orders.created`, 'messaging.kafka.message.key': 'order-key', 'messaging.consumer.group.name': `${prefix}b.orders` },
    redelivery: false,
    async service(name, logger) {
      const client = generated.root.kafka.createClient({ brokers: KAFKA_BROKERS, topicPrefix: prefix, clientId: `${prefix}${name}`, ...(logger ? { logger } : {}) });
      open.push(client);
      // Topics with their partitions before anyone subscribes (once per run).
      declared ??= client.declareTopology();
      await declared;
      return {
        publishOrder: (payload) => client.publishOrderCreated(payload, { key: 'order-key', parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } }),
        onOrder: async (handler) => {
          await client.onOrderCreated((payload: any, c: any) => handler(payload, { id: c.envelope.id, attempt: c.attempt }), { groupId: `${prefix}${name}.orders`, fromBeginning: true, retry: RETRY });
        },
        request: (payload) => client.requestAuthorizePayment(payload, { timeoutMs: 30_000 }),
        respond: async (handler) => {
          await client.onHandlePaymentAuthorization((payload: any) => handler(payload), { groupId: `${prefix}${name}.payments`, fromBeginning: true });
        },
        close: () => client.close(),
      };
    },
    async raw(payload, envelope) {
      const producer = plain.producer();
      await producer.connect();
      try {
        const headers = { ...envelopeHeaders('ce_', envelope), 'content-type': 'application/json', 'x-tenant': 'acme', 'x-codegen-address': 'orders.eu.created' };
        await producer.send({ topic: `${prefix}orders.created`, messages: [{ key: 'order-key', value: JSON.stringify(payload), headers }] });
      } finally {
        await producer.disconnect();
      }
    },
    async cleanup() {
      await Promise.allSettled(open.splice(0).map((c) => c.close()));
      const admin = plain.admin();
      await admin.connect();
      try {
        const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
        if (topics.length) await admin.deleteTopics({ topics });
      } catch {
        // Leftover topics of a test run are harmless.
      } finally {
        await admin.disconnect();
      }
    },
  };
}

export function rabbitHarness(generated: Generated): BrokerHarness {
  const prefix = `${uniqueName('obs-r')}.`;
  const open: Array<{ close(): Promise<void> }> = [];
  return {
    system: 'rabbitmq',
    prefix,
    orderDestination: `${prefix}orders`,
    requestDestination: 'amq.default',
    publishAttributes: { 'messaging.destination.name': `${prefix}orders`, 'messaging.rabbitmq.destination.routing_key': 'orders.eu.created' },
    processAttributes: { 'messaging.destination.name': `${prefix}orders`, 'messaging.rabbitmq.destination.routing_key': 'orders.eu.created' },
    redelivery: false,
    async service(name, logger) {
      const client = await generated.root.rabbitmq.createClient({ urls: [AMQP_URL], namePrefix: prefix, serviceName: `svc-${name}`, ...(logger ? { logger } : {}) });
      open.push(client);
      return {
        publishOrder: (payload) => client.publishOrderCreated(payload, { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } }),
        onOrder: async (handler) => {
          await client.onOrderCreated((payload: any, c: any) => handler(payload, { id: c.envelope.id, attempt: c.attempt }), { retry: RETRY });
        },
        request: (payload) => client.requestAuthorizePayment(payload, { timeoutMs: 30_000 }),
        respond: async (handler) => {
          await client.onHandlePaymentAuthorization((payload: any) => handler(payload));
        },
        close: () => client.close(),
      };
    },
    async raw(payload, envelope) {
      const connection = await amqpConnect(AMQP_URL);
      try {
        const channel = await connection.createConfirmChannel();
        channel.publish(`${prefix}orders`, 'orders.eu.created', Buffer.from(JSON.stringify(payload)), {
          contentType: 'application/json',
          headers: { ...envelopeHeaders('cloudEvents:', envelope), 'x-tenant': 'acme' },
        });
        await channel.waitForConfirms();
      } finally {
        await connection.close();
      }
    },
    async rawRequest(payload, traceparent) {
      const connection = await amqpConnect(AMQP_URL);
      try {
        const channel = await connection.createChannel();
        const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
        const reply = new Promise<string | undefined>((resolve) => {
          void channel.consume(queue, (message) => resolve(message?.properties.headers?.['cloudEvents:traceparent'] as string | undefined), { noAck: true });
        });
        const id = randomUUID();
        channel.sendToQueue(`${prefix}payments.authorize`, Buffer.from(JSON.stringify(payload)), {
          contentType: 'application/json',
          replyTo: queue,
          correlationId: id,
          headers: { ...envelopeHeaders('cloudEvents:', { id, traceparent }), 'cloudEvents:type': 'com.example.payment.authorize' },
        });
        return await Promise.race([reply, new Promise<undefined>((_, reject) => setTimeout(() => reject(new Error('no reply to the plain request')), 20_000))]);
      } finally {
        await connection.close();
      }
    },
    async cleanup() {
      await Promise.allSettled(open.splice(0).map((c) => c.close()));
      // Queues and exchanges of this run, found by their prefix.
      const list = async (what: string) => (await execFileAsync('rabbitmqctl', ['-q', what, 'name'])).stdout.split('\n').map((l) => l.trim()).filter((n) => n.startsWith(prefix));
      try {
        const connection = await amqpConnect(AMQP_URL);
        const channel = await connection.createChannel();
        for (const queue of await list('list_queues')) await channel.deleteQueue(queue);
        for (const exchange of await list('list_exchanges')) await channel.deleteExchange(exchange);
        await connection.close();
      } catch {
        // Leftovers are harmless (unique names).
      }
    },
  };
}

export function natsHarness(generated: Generated): BrokerHarness {
  const prefix = `${uniqueName('obs-n')}.`;
  const open: Array<{ close(): Promise<void> }> = [];
  return {
    system: 'nats',
    prefix,
    orderDestination: `${prefix}orders.*.created`,
    requestDestination: `${prefix}payments.authorize`,
    publishAttributes: { 'messaging.destination.name': `${prefix}orders.eu.created` },
    processAttributes: { 'messaging.destination.name': `${prefix}orders.eu.created`, 'messaging.consumer.group.name': 'b-orders' },
    redelivery: true,
    async service(name, logger) {
      const client = await generated.root.nats.createClient({ servers: [NATS_URL], subjectPrefix: prefix, ...(logger ? { logger } : {}) });
      open.push(client);
      return {
        publishOrder: (payload) => client.publishOrderCreated(payload, { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } }),
        onOrder: async (handler) => {
          await client.onOrderCreated((payload: any, context: any) => handler(payload, { id: context.envelope.id, attempt: context.attempt }), { durable: `${name}-orders`, retry: RETRY });
        },
        request: (payload) => client.requestAuthorizePayment(payload, { timeoutMs: 20_000 }),
        respond: async (handler) => {
          await client.onHandlePaymentAuthorization((payload: any) => handler(payload));
        },
        close: () => client.close(),
      };
    },
    async raw(payload, envelope) {
      const nc = await natsConnect({ servers: NATS_URL });
      try {
        const headers = natsHeaders();
        for (const [key, value] of Object.entries({ ...envelopeHeaders('ce-', envelope), 'ce-datacontenttype': 'application/json', 'x-tenant': 'acme' })) headers.set(key, value);
        nc.publish(`${prefix}orders.eu.created`, JSON.stringify(payload), { headers });
        await nc.flush();
      } finally {
        await nc.close();
      }
    },
    async cleanup() {
      await Promise.allSettled(open.splice(0).map((c) => c.close()));
      const nc = await natsConnect({ servers: NATS_URL });
      try {
        const jsm = await jetstreamManager(nc);
        const streamPrefix = prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_');
        const names: string[] = [];
        for await (const name of jsm.streams.names()) if (name.startsWith(streamPrefix)) names.push(name);
        for (const name of names) await jsm.streams.delete(name);
      } finally {
        await nc.close();
      }
    },
  };
}

export function mqttHarness(generated: Generated): BrokerHarness {
  const prefix = `${uniqueName('obs-m')}/`;
  const open: Array<{ close(): Promise<void> }> = [];
  return {
    system: 'mqtt',
    prefix,
    orderDestination: `${prefix}orders/+/created`,
    requestDestination: `${prefix}payments/authorize`,
    publishAttributes: { 'messaging.destination.name': `${prefix}orders/eu/created` },
    processAttributes: { 'messaging.destination.name': `${prefix}orders/eu/created`, 'messaging.consumer.group.name': 'b-orders' },
    redelivery: false,
    async service(name, logger) {
      const client = await generated.root.mqtt.createClient({ servers: [MQTT_URL], topicPrefix: prefix, clientId: uniqueName(`obs-${name}`), ...(logger ? { logger } : {}) });
      open.push(client);
      return {
        publishOrder: (payload) => client.publishOrderCreated(payload, { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } }),
        onOrder: async (handler) => {
          await client.onOrderCreated((payload: any, context: any) => handler(payload, { id: context.envelope.id, attempt: context.attempt }), { group: `${name}-orders`, retry: RETRY, cleanStart: true });
        },
        request: (payload) => client.requestAuthorizePayment(payload, { timeoutMs: 20_000 }),
        respond: async (handler) => {
          await client.onHandlePaymentAuthorization((payload: any) => handler(payload));
        },
        close: () => client.close(),
      };
    },
    async raw(payload, envelope) {
      const raw = await mqttConnect(MQTT_URL, { protocolVersion: 5 });
      try {
        const userProperties = { ...envelopeHeaders('', envelope), 'x-tenant': 'acme' };
        await raw.publishAsync(`${prefix}orders/eu/created`, JSON.stringify(payload), { qos: 1, properties: { userProperties, contentType: 'application/json' } });
      } finally {
        await raw.endAsync();
      }
    },
    async cleanup() {
      await Promise.allSettled(open.splice(0).map((c) => c.close()));
    },
  };
}
