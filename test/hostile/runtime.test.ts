/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * The run-time half of the hostile-input work: the generated consumer of the bundled example
 * (`onOrderCreated`), compiled with `tsc --strict`, against the real brokers, fed raw messages that a
 * plain client (amqplib, kafkajs, @nats-io/transport-node, MQTT.js) injects behind its back. One case list
 * (`CASES`) serves the four targets; a small adapter per broker writes a raw message the way that
 * broker carries it (CloudEvents attributes in its binary-mode headers) and reads the dead letters.
 *
 * For every case the consumer either handles the event as documented, or dead-letters it with the
 * reason in `x-codegen-dead-letter-reason` and the detail in `x-codegen-error`; then a valid event sent
 * after it is handled (the consumer keeps consuming). A broker that does not run fails the file.
 * The table of docs/security.md (section 6) is this list.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { Consumer, Producer } from 'kafkajs';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileStrict, FIXTURES, generateTo, importGenerated, uniqueName } from '../helpers/codegen.js';
import { assertKafkaUp, BROKERS, plainKafka, withAdmin } from '../kafka/support.js';
import { MQTT_URL, rawConnection as rawMqttConnection } from '../mqtt/support.js';
import { deleteStreams, NATS_URL, rawConnection, streamPrefixOf, uniquePrefix } from '../nats/support.js';
import { AMQP_URL, Broker, deleteByPrefix, namePrefix } from '../rabbitmq/support.js';

type TargetName = 'rabbitmq' | 'kafka' | 'nats' | 'mqtt';

/** A message as a plain client writes it: body, CloudEvents attributes, application headers (undefined: left out). */
interface RawMessage {
  body: Buffer;
  /** Attribute values may be of any type the broker can carry (AMQP tables are typed; Kafka and NATS carry text). */
  envelope: Record<string, unknown>;
  headers: Record<string, unknown>;
}

interface DeadLetter {
  /** The `x-hostile-case` header the message was sent with. */
  label: string;
  reason: string;
  error: string;
  bytes: number;
}

/** What the application's handler was given, summarised (a 10 MB payload is not kept). */
interface Handled {
  label: string;
  envelope: Record<string, unknown>;
  headers: Record<string, unknown>;
  parameters: unknown;
  /** The payload is a plain object whose prototype is Object.prototype, with no own `__proto__` key. */
  cleanPrototype: boolean;
  customerIdLength: number;
}

/** What each target's handler hands over: the payload and its context, whatever the target calls them. */
type OnEvent = (payload: any, context: { headers: Record<string, unknown>; envelope: Record<string, unknown>; parameters: unknown }) => void;

/** One broker, seen by the cases: the generated consumer, a raw injector and its dead letters. */
interface Adapter {
  readonly name: TargetName;
  /** Creates the generated client, subscribes its `onOrderCreated`, opens the plain client. */
  start(onEvent: OnEvent): Promise<void>;
  /** Resolves once the broker took the message; rejects when the broker (or its client) refuses it. */
  inject(message: RawMessage): Promise<void>;
  /** Every dead letter of the consumer's operation so far. */
  deadLetters(): Promise<readonly DeadLetter[]>;
  close(): Promise<void>;
}

// ---- the cases -------------------------------------------------------------------------------------

type Expectation =
  /** Dead-lettered with this reason; `error` matches the `x-codegen-error` header. */
  | { deadLetter: string; error: RegExp }
  /**
   * Handled exactly once (whatever the number of copies sent), with these channel parameters (default
   * `{ region: 'eu' }`, the routing key, subject or address every raw message is sent with); `check`
   * looks at what else the handler got.
   */
  | { handled: true; parameters?: unknown; check?: (event: Handled) => void }
  /** The broker or its client refuses the publish; nothing reaches the consumer. */
  | { refused: RegExp };

interface HostileCase {
  /** Short id, sent in the `x-hostile-case` header. */
  id: string;
  /** The numbered item of the brief it belongs to (for the documentation table). */
  kind: string;
  title: string;
  /** `<kind>. <title>`, the test's name. */
  name?: string;
  body?: string | Buffer;
  envelope?: Record<string, unknown>;
  headers?: Record<string, unknown>;
  /** Copies sent (the same event id each time). */
  copies?: number;
  /** One expectation for every target, or one per target (a target left out does not run the case). */
  expect: Expectation | Partial<Record<TargetName, Expectation>>;
  /** Part of the 200-message memory loop. */
  loop?: boolean;
}

const MB = 1024 * 1024;
const TEN_MB = 10 * MB;
const TYPE = 'com.example.order.created';

function order(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { orderId: randomUUID(), customerId: 'C-1', placedAt: new Date().toISOString(), currency: 'EUR', total: 10, items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 10 }], ...extra };
}

/** A valid order as JSON text with `member` (raw JSON text) spliced in as its first member. */
function orderWith(member: string): string {
  return `{${member},${JSON.stringify(order()).slice(1)}`;
}

const deadLetter = (reason: string, error: RegExp): Expectation => ({ deadLetter: reason, error });
const handled = (check?: (event: Handled) => void): Expectation => ({ handled: true, check });
/** kafkajs: the broker's MESSAGE_TOO_LARGE (message.max.bytes, 1 MB by default). */
const KAFKA_TOO_LARGE: Expectation = { refused: /larger than the max message size the server will accept/ };
/** @nats-io: the client checks the server's announced max_payload (1 MB by default) before sending. */
const NATS_TOO_LARGE: Expectation = { refused: /max_payload size exceeded/ };
/** The consumers' own `maxBodyBytes`: below what Kafka and NATS accept, above the 10 MB cases on RabbitMQ and MQTT. */
const MAX_BODY_BYTES: Record<TargetName, number> = { rabbitmq: 12 * MB, kafka: 900 * 1024, nats: 900 * 1024, mqtt: 12 * MB };
const overLimit = (target: TargetName): Expectation => deadLetter('too-large', new RegExp(`over maxBodyBytes \\(${MAX_BODY_BYTES[target]}\\)`));

const CASES: HostileCase[] = [
  // 1. Bodies that are not JSON.
  { id: 'not-utf8', kind: '1', title: 'body: bytes `\\xff\\xfe{{{` (not UTF-8)', body: Buffer.from([0xff, 0xfe, 0x7b, 0x7b, 0x7b]), expect: deadLetter('not-json', /body is not UTF-8 text/), loop: true },
  { id: 'not-json', kind: '1', title: 'body: text that is not JSON', body: '{"orderId": "x", ', expect: deadLetter('not-json', /body is not JSON/), loop: true },
  { id: 'empty', kind: '1', title: 'body: empty', body: '', expect: deadLetter('not-json', /body is not JSON/) },
  // 2. JSON that is not an object.
  ...['42', '"str"', '[1,2]', 'null', 'true'].map(
    (json): HostileCase => ({ id: `json-${json.replace(/\W/g, '') || 'x'}`, kind: '2', title: `body: JSON \`${json}\``, body: json, expect: deadLetter('invalid-payload', /payload invalid: \/ type: must be object/), loop: true }),
  ),
  // 3. Large bodies: allowed by every broker (dead-lettered by the schema), and 10 MB.
  { id: 'large-field', kind: '3', title: 'body: a valid order plus an unknown 256 KB field', body: JSON.stringify(order({ padding: 'x'.repeat(256 * 1024) })), expect: deadLetter('invalid-payload', /\/padding additionalProperties/), loop: true },
  {
    id: 'ten-mb-field',
    kind: '3',
    title: 'body: a valid order plus an unknown 10 MB field',
    body: JSON.stringify(order({ padding: 'x'.repeat(TEN_MB) })),
    expect: { rabbitmq: deadLetter('invalid-payload', /\/padding additionalProperties/), kafka: KAFKA_TOO_LARGE, nats: NATS_TOO_LARGE, mqtt: deadLetter('invalid-payload', /\/padding additionalProperties/) },
  },
  {
    id: 'ten-mb-valid',
    kind: '3',
    title: 'body: a 10 MB order valid per the schema (10 MB `customerId`, no maxLength)',
    body: JSON.stringify(order({ customerId: 'c'.repeat(TEN_MB) })),
    expect: { rabbitmq: handled((event) => expect(event.customerIdLength).toBe(TEN_MB)), kafka: KAFKA_TOO_LARGE, nats: NATS_TOO_LARGE, mqtt: handled((event) => expect(event.customerIdLength).toBe(TEN_MB)) },
  },
  {
    id: 'over-limit',
    kind: '3',
    title: "body: a valid order of 950 KB, over the consumer's `maxBodyBytes` (900 KiB)",
    body: JSON.stringify(order({ customerId: 'c'.repeat(950 * 1024) })),
    expect: { kafka: overLimit('kafka'), nats: overLimit('nats') },
  },
  {
    id: 'over-limit-13mb',
    kind: '3',
    title: "body: a valid order of 13 MB, over the consumer's `maxBodyBytes` (12 MiB)",
    body: JSON.stringify(order({ customerId: 'c'.repeat(13 * MB) })),
    expect: { rabbitmq: overLimit('rabbitmq'), mqtt: overLimit('mqtt') },
  },
  // 4. The CloudEvents envelope: attributes missing or malformed.
  { id: 'no-id', kind: '4', title: 'envelope: no `id`', envelope: { id: undefined }, expect: deadLetter('invalid-envelope', /envelope invalid: \/id required/), loop: true },
  { id: 'no-type', kind: '4', title: 'envelope: no `type`', envelope: { type: undefined }, expect: deadLetter('invalid-envelope', /envelope invalid: \/type required/), loop: true },
  { id: 'no-source', kind: '4', title: 'envelope: no `source`', envelope: { source: undefined }, expect: deadLetter('invalid-envelope', /envelope invalid: \/source required/) },
  { id: 'empty-id', kind: '4', title: 'envelope: `id` empty', envelope: { id: '' }, expect: deadLetter('invalid-envelope', /\/id required/) },
  { id: 'long-id', kind: '4', title: 'envelope: `id` of 5,000 characters', envelope: { id: 'i'.repeat(5000) }, expect: deadLetter('invalid-envelope', /\/id maxLength/) },
  { id: 'bad-time', kind: '4', title: 'envelope: `time` = "yesterday"', envelope: { time: 'yesterday' }, expect: deadLetter('invalid-envelope', /\/time format: must be an RFC 3339 timestamp/), loop: true },
  { id: 'old-spec', kind: '4', title: 'envelope: `specversion` = "0.1"', envelope: { specversion: '0.1' }, expect: deadLetter('invalid-envelope', /\/specversion const: must be "1.0"/), loop: true },
  { id: 'no-spec', kind: '4', title: 'envelope: no `specversion`', envelope: { specversion: undefined }, expect: deadLetter('invalid-envelope', /\/specversion const/) },
  { id: 'numeric-id', kind: '4', title: 'envelope: `id` an AMQP integer (typed header)', envelope: { id: 12345 }, expect: { rabbitmq: deadLetter('invalid-envelope', /\/id type: must be a string/) } },
  { id: 'bad-percent', kind: '4', title: 'envelope: `ce-id` percent-encodes bytes that are not UTF-8 (`%FF%FE`)', envelope: { id: '%FF%FE' }, expect: { nats: deadLetter('invalid-envelope', /header ce-id is not valid percent-encoded UTF-8/) } },
  // 5. Application headers of the wrong type (the document: x-tenant string minLength 1, required; x-priority integer 0-9).
  { id: 'priority-text', kind: '5', title: 'headers: `x-priority` = "high" (integer expected)', headers: { 'x-priority': 'high' }, expect: deadLetter('invalid-headers', /headers invalid: \/x-priority type: must be integer/), loop: true },
  { id: 'priority-range', kind: '5', title: 'headers: `x-priority` = "12" (maximum 9)', headers: { 'x-priority': '12' }, expect: deadLetter('invalid-headers', /\/x-priority maximum/) },
  { id: 'no-tenant', kind: '5', title: 'headers: `x-tenant` missing (required)', headers: { 'x-tenant': undefined }, expect: deadLetter('invalid-headers', /\/x-tenant required/) },
  {
    id: 'tenant-bytes',
    kind: '5',
    title: '`x-tenant` as bytes (AMQP byte array; Kafka header bytes)',
    headers: { 'x-tenant': Buffer.from('acme') },
    // AMQP keeps the type: a byte array is not a string. Kafka header values are always bytes, read as UTF-8.
    expect: { rabbitmq: deadLetter('invalid-headers', /\/x-tenant type: must be string/), kafka: handled((event) => expect(event.headers['x-tenant']).toBe('acme')) },
  },
  { id: 'tenant-table', kind: '5', title: 'headers: `x-tenant` an AMQP table `{ nested: "acme" }`', headers: { 'x-tenant': { nested: 'acme' } }, expect: { rabbitmq: deadLetter('invalid-headers', /\/x-tenant type: must be string/) } },
  {
    id: 'tenant-number',
    kind: '5',
    title: 'headers: `x-tenant` an AMQP integer 42 (string expected)',
    headers: { 'x-tenant': 42 },
    // Header validators coerce scalars (headers arrive as text on two of the three brokers): 42 → "42".
    expect: { rabbitmq: handled((event) => expect(event.headers['x-tenant']).toBe('42')) },
  },
  { id: 'priority-int', kind: '5', title: 'headers: `x-priority` an AMQP integer 3', headers: { 'x-priority': 3 }, expect: { rabbitmq: handled((event) => expect(event.headers['x-priority']).toBe(3)) } },
  {
    id: 'bad-address',
    kind: '5',
    title: '`x-codegen-address` = "orders.mars.created" (a region outside the enum)',
    headers: { 'x-codegen-address': 'orders.mars.created' },
    // Documented (docs/targets/kafka.md): a record without a valid address is handled, `parameters` undefined.
    expect: { kafka: { handled: true, parameters: undefined } },
  },
  { id: 'priority-bytes', kind: '5', title: 'headers: `x-priority` bytes `\\xff` (not UTF-8)', headers: { 'x-priority': Buffer.from([0xff]) }, expect: { kafka: deadLetter('invalid-headers', /\/x-priority type: must be integer/) } },
  // 6. A garbage trace context costs the event nothing: processed, trace context dropped.
  {
    id: 'bad-traceparent',
    kind: '6',
    title: 'envelope: `traceparent` = "garbage" (with a `tracestate`)',
    envelope: { traceparent: 'garbage', tracestate: 'vendor=1' },
    expect: handled((event) => {
      expect(event.envelope.traceparent).toBeUndefined();
      expect(event.envelope.tracestate).toBeUndefined();
      expect(event.envelope.type).toBe(TYPE);
    }),
    loop: true,
  },
  {
    id: 'zero-traceparent',
    kind: '6',
    title: 'envelope: `traceparent` with an all-zero trace id',
    envelope: { traceparent: `00-${'0'.repeat(32)}-${'1'.repeat(16)}-01` },
    expect: handled((event) => expect(event.envelope.traceparent).toBeUndefined()),
  },
  // 7. A replayed event id runs the handler once.
  { id: 'replay', kind: '7', title: 'the same CloudEvents `id` sent twice', copies: 2, expect: handled(), loop: true },
  // 8. Prototype pollution through the payload.
  { id: 'proto', kind: '8', title: 'body: `{"__proto__": {"polluted": true}, ...valid fields}`', body: orderWith('"__proto__":{"polluted":true}'), expect: deadLetter('not-json', /"__proto__" key/), loop: true },
  {
    id: 'proto-nested',
    kind: '8',
    title: 'body: `__proto__` inside an item',
    body: JSON.stringify(order({ items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 1, polluter: 1 }] })).replace('"polluter":1', '"__proto__":{"polluted":true}'),
    expect: deadLetter('not-json', /"__proto__" key/),
  },
  { id: 'proto-escaped', kind: '8', title: 'body: `"\\u005f_proto__"` (the key spelled with an escape)', body: orderWith('"\\u005f_proto__":{"polluted":true}'), expect: deadLetter('not-json', /"__proto__" key/) },
  { id: 'constructor', kind: '8', title: 'body: `{"constructor": {"prototype": {"polluted": true}}, ...}`', body: orderWith('"constructor":{"prototype":{"polluted":true}}'), expect: deadLetter('invalid-payload', /\/constructor additionalProperties/), loop: true },
];

for (const hostile of CASES) hostile.name = `${hostile.kind}. ${hostile.title}`;

function expectationOf(hostile: HostileCase, target: TargetName): Expectation | undefined {
  const e = hostile.expect;
  return 'deadLetter' in e || 'handled' in e || 'refused' in e ? (e as Expectation) : (e as Partial<Record<TargetName, Expectation>>)[target];
}

function casesOf(target: TargetName): HostileCase[] {
  return CASES.filter((c) => expectationOf(c, target) !== undefined);
}

/** The raw messages of a case: a valid event with the case's changes, `label` in `x-hostile-case`. */
function messagesOf(hostile: Pick<HostileCase, 'body' | 'envelope' | 'headers' | 'copies'>, label: string): RawMessage[] {
  const message: RawMessage = {
    body: Buffer.isBuffer(hostile.body) ? hostile.body : Buffer.from(hostile.body ?? JSON.stringify(order())),
    envelope: { specversion: '1.0', id: randomUUID(), source: '/hostile-tests', type: TYPE, time: new Date().toISOString(), datacontenttype: 'application/json', ...hostile.envelope },
    headers: { 'x-tenant': 'acme', 'x-hostile-case': label, ...hostile.headers },
  };
  return Array.from({ length: hostile.copies ?? 1 }, () => message);
}

/** Application headers and attributes that were given a value (undefined means "leave it out"). */
function present(values: Record<string, unknown>): Array<[string, unknown]> {
  return Object.entries(values).filter(([, value]) => value !== undefined);
}

function text(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

// ---- the adapters ------------------------------------------------------------------------------------

let root: any;

class RabbitAdapter implements Adapter {
  readonly name = 'rabbitmq' as const;
  private readonly prefix = namePrefix('hostile');
  private broker!: Broker;
  private client: any;
  private dlq = '';
  private readonly dead: DeadLetter[] = [];

  async start(onEvent: OnEvent): Promise<void> {
    this.broker = await Broker.open();
    this.client = await root.rabbitmq.createClient({ urls: [AMQP_URL], namePrefix: this.prefix, serviceName: 'hostile', closeTimeoutMs: 2_000 });
    const subscription = await this.client.onOrderCreated((payload: any, context: any) => onEvent(payload, context), { maxBodyBytes: MAX_BODY_BYTES.rabbitmq });
    this.dlq = `${subscription.queue}.dlq`;
  }

  async inject(message: RawMessage): Promise<void> {
    const headers: Record<string, unknown> = {};
    let contentType: string | undefined;
    for (const [name, value] of present(message.envelope)) {
      if (name === 'datacontenttype') contentType = String(value);
      else headers[`cloudEvents:${name}`] = value;
    }
    for (const [name, value] of present(message.headers)) headers[name] = value;
    this.broker.publish(`${this.prefix}orders`, 'orders.eu.created', message.body, { headers, contentType });
  }

  async deadLetters(): Promise<readonly DeadLetter[]> {
    for (let message = await this.broker.channel.get(this.dlq, { noAck: true }); message; message = await this.broker.channel.get(this.dlq, { noAck: true })) {
      const headers = message.properties.headers ?? {};
      this.dead.push({ label: text(headers['x-hostile-case']), reason: text(headers['x-codegen-dead-letter-reason']), error: text(headers['x-codegen-error']), bytes: message.content.length });
    }
    return this.dead;
  }

  async close(): Promise<void> {
    await this.client?.close();
    await this.broker?.close();
    await deleteByPrefix(this.prefix);
  }
}

class KafkaAdapter implements Adapter {
  readonly name = 'kafka' as const;
  private readonly prefix = uniqueName('k-hostile') + '.';
  private readonly topic = `${this.prefix}orders.created`;
  private client: any;
  private producer: Producer | undefined;
  private reader: Consumer | undefined;
  private readonly dead: DeadLetter[] = [];

  async start(onEvent: OnEvent): Promise<void> {
    await assertKafkaUp();
    this.client = root.kafka.createClient({ brokers: BROKERS, topicPrefix: this.prefix });
    await this.client.declareTopology(); // the topic and its dead-letter topic
    this.producer = plainKafka().producer();
    this.reader = plainKafka().consumer({ groupId: `${this.prefix}dlq-reader`, maxWaitTimeInMs: 100 });
    const reader = this.reader;
    await Promise.all([
      this.producer.connect(),
      this.client.onOrderCreated((payload: any, context: any) => onEvent(payload, context), { groupId: `${this.prefix}g`, fromBeginning: true, maxBodyBytes: MAX_BODY_BYTES.kafka }),
      (async () => {
        await reader.connect();
        await reader.subscribe({ topics: [`${this.topic}.dlq`], fromBeginning: true });
        await reader.run({
          eachMessage: async ({ message }) => {
            const header = (name: string) => text(message.headers?.[name] ?? '');
            this.dead.push({ label: header('x-hostile-case'), reason: header('x-codegen-dead-letter-reason'), error: header('x-codegen-error'), bytes: message.value?.length ?? 0 });
          },
        });
      })(),
    ]);
  }

  async inject(message: RawMessage): Promise<void> {
    // The channel's address (its region parameter) travels in a header when the topic is fixed by a binding.
    const headers: Record<string, string | Buffer> = { 'x-codegen-address': 'orders.eu.created' };
    for (const [name, value] of present(message.envelope)) headers[name === 'datacontenttype' ? 'content-type' : `ce_${name}`] = Buffer.isBuffer(value) ? value : String(value);
    for (const [name, value] of present(message.headers)) headers[name] = Buffer.isBuffer(value) ? value : String(value);
    // One key: one partition, so the events arrive in the order they were sent.
    await this.producer!.send({ topic: this.topic, messages: [{ key: 'hostile', value: message.body, headers }] });
  }

  async deadLetters(): Promise<readonly DeadLetter[]> {
    return this.dead;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.client?.close(), this.producer?.disconnect(), this.reader?.disconnect()]);
    await withAdmin((admin) => admin.deleteTopics({ topics: [this.topic, `${this.topic}.dlq`] })).catch(() => undefined);
  }
}

class NatsAdapter implements Adapter {
  readonly name = 'nats' as const;
  private readonly prefix = uniquePrefix('hostile');
  private client: any;
  private raw: NatsConnection | undefined;
  private js!: JetStreamClient;
  private collector: Subscription | undefined;
  private readonly dead: DeadLetter[] = [];

  async start(onEvent: OnEvent): Promise<void> {
    this.raw = await rawConnection();
    this.js = jetstream(this.raw);
    this.collector = this.raw.subscribe(`${this.prefix}dlq.orders.*.created`, {
      callback: (error, message) => {
        if (error) return;
        const header = (name: string) => message.headers?.get(name) ?? '';
        this.dead.push({ label: header('x-hostile-case'), reason: header('x-codegen-dead-letter-reason'), error: header('x-codegen-error'), bytes: message.data.length });
      },
    });
    await this.raw.flush();
    this.client = await root.nats.createClient({ servers: NATS_URL, subjectPrefix: this.prefix });
    // JetStream (the default mode): a durable consumer; the stream and the dead-letter stream are declared here.
    await this.client.onOrderCreated((payload: any, context: any) => onEvent(payload, context), { durable: 'hostile', maxBodyBytes: MAX_BODY_BYTES.nats });
  }

  /** The server's max_payload, as it announced it. */
  get maxPayload(): number {
    return this.raw!.info!.max_payload;
  }

  async inject(message: RawMessage): Promise<void> {
    const headers = natsHeaders();
    for (const [name, value] of present(message.envelope)) headers.set(`ce-${name}`, text(value));
    for (const [name, value] of present(message.headers)) headers.set(name, text(value));
    // No Nats-Msg-Id: the server's own de-duplication must not hide a replay from the consumer.
    await this.js.publish(`${this.prefix}orders.eu.created`, message.body, { headers });
  }

  async deadLetters(): Promise<readonly DeadLetter[]> {
    return this.dead;
  }

  async close(): Promise<void> {
    await this.client?.close();
    this.collector?.unsubscribe();
    await this.raw?.drain();
    await deleteStreams(streamPrefixOf(this.prefix));
  }
}

class MqttAdapter implements Adapter {
  readonly name = 'mqtt' as const;
  private readonly prefix = `${uniqueName('hostile')}/`;
  private client: any;
  private raw: MqttClient | undefined;
  private readonly dead: DeadLetter[] = [];

  async start(onEvent: OnEvent): Promise<void> {
    const raw = await rawMqttConnection();
    this.raw = raw;
    raw.on('message', (_topic, body, packet) => {
      const user = packet.properties?.userProperties ?? {};
      const header = (name: string) => text(user[name] ?? '');
      this.dead.push({ label: header('x-hostile-case'), reason: header('x-codegen-dead-letter-reason'), error: header('x-codegen-error'), bytes: body.length });
    });
    await raw.subscribeAsync(`${this.prefix}dlq/orders/+/created`, { qos: 1 });
    this.client = await root.mqtt.createClient({ servers: [MQTT_URL], topicPrefix: this.prefix, clientId: uniqueName('hostile'), closeTimeoutMs: 2_000 });
    await this.client.onOrderCreated((payload: any, context: any) => onEvent(payload, context), { maxBodyBytes: MAX_BODY_BYTES.mqtt, cleanStart: true });
  }

  /** MQTT 5, binary mode: attributes as user properties named as the attribute, `datacontenttype` the Content Type property. */
  async inject(message: RawMessage): Promise<void> {
    const userProperties: Record<string, string> = {};
    let contentType: string | undefined;
    for (const [name, value] of present(message.envelope)) {
      if (name === 'datacontenttype') contentType = text(value);
      else userProperties[name] = text(value);
    }
    for (const [name, value] of present(message.headers)) userProperties[name] = text(value);
    await this.raw!.publishAsync(`${this.prefix}orders/eu/created`, message.body, { qos: 1, properties: { userProperties, ...(contentType === undefined ? {} : { contentType }) } });
  }

  async deadLetters(): Promise<readonly DeadLetter[]> {
    return this.dead;
  }

  async close(): Promise<void> {
    await this.client?.close();
    await this.raw?.endAsync();
  }
}

// ---- helpers -------------------------------------------------------------------------------------------

async function waitFor(condition: () => boolean | Promise<boolean>, what: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A forced garbage collection. vitest's forks do not run with --expose-gc; V8 lets a process turn
 * the flag on late, and a new context then has `gc`. Undefined if even that is refused: then the
 * heap figures include garbage and the bound below is the generous one.
 */
const forceGc: (() => void) | undefined = (() => {
  if (typeof (globalThis as any).gc === 'function') return (globalThis as any).gc as () => void;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
})();

async function settledMemory(): Promise<{ heapUsed: number; arrayBuffers: number }> {
  for (let i = 0; i < 3; i++) {
    forceGc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heapUsed, arrayBuffers };
}

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

function expectPrototypeUntouched(): void {
  expect(({} as any).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTOTYPE_KEYS);
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
}

const ADAPTERS: Array<{ name: TargetName; create(): Adapter }> = [
  { name: 'rabbitmq', create: () => new RabbitAdapter() },
  { name: 'kafka', create: () => new KafkaAdapter() },
  { name: 'nats', create: () => new NatsAdapter() },
  { name: 'mqtt', create: () => new MqttAdapter() },
];

/** The memory loop: 200 messages, every other one the 256 KB case, the rest the small cases in turn. */
const LOOP_MESSAGES = 200;
/** With a forced GC the heap after the loop is the live heap: a consumer keeping each 256 KB body would grow it by 25 MB. */
const GROWTH_BOUND_MB = forceGc ? 16 : 64;
const memoryFigures: Array<{ target: TargetName; heapMb: number; arrayBuffersMb: number; sentMb: number; gc: boolean }> = [];

// ---- the tests -----------------------------------------------------------------------------------------

beforeAll(async () => {
  const out = await generateTo(path.join(FIXTURES, 'example/asyncapi.yaml'), ['rabbitmq', 'kafka', 'nats', 'mqtt']);
  await compileStrict([out], { emit: true });
  root = await importGenerated<any>(out, 'index.js');
});

afterAll(() => {
  for (const f of memoryFigures) {
    console.info(`[hostile runtime memory] ${f.target}: heapUsed ${f.heapMb >= 0 ? '+' : ''}${f.heapMb.toFixed(1)} MB, arrayBuffers ${f.arrayBuffersMb >= 0 ? '+' : ''}${f.arrayBuffersMb.toFixed(1)} MB after ${LOOP_MESSAGES} hostile messages (${f.sentMb.toFixed(1)} MB sent), forced GC: ${f.gc}`);
  }
});

describe.each(ADAPTERS)('$name: the generated consumer against hostile raw messages', ({ name, create }) => {
  const adapter = create();
  const events: Handled[] = [];
  const handledOf = (label: string) => events.filter((e) => e.label === label);
  const deadOf = async (label: string) => (await adapter.deadLetters()).filter((d) => d.label === label);
  let markers = 0;

  /** Sends a valid event and waits until the handler got it: the consumer is still consuming. */
  async function stillConsuming(): Promise<void> {
    const label = `marker-${++markers}`;
    for (const message of messagesOf({}, label)) await adapter.inject(message);
    await waitFor(
      () => handledOf(label).length === 1,
      () => `the valid event ${label} (handled so far: ${events.length})`,
    );
  }

  beforeAll(async () => {
    await adapter.start((payload, { headers, envelope, parameters }) => {
      events.push({
        label: String(headers['x-hostile-case']),
        envelope: { ...envelope },
        headers: { ...headers },
        parameters,
        cleanPrototype: Object.getPrototypeOf(payload) === Object.prototype && !Object.prototype.hasOwnProperty.call(payload, '__proto__'),
        customerIdLength: typeof payload?.customerId === 'string' ? payload.customerId.length : -1,
      });
    });
  });

  afterAll(async () => {
    await adapter.close();
  });

  it.each(casesOf(name))('$name', async (hostile) => {
    const expected = expectationOf(hostile, name)!;
    const messages = messagesOf(hostile, hostile.id);
    if ('refused' in expected) {
      for (const message of messages) await expect(adapter.inject(message)).rejects.toThrow(expected.refused);
    } else {
      for (const message of messages) await adapter.inject(message);
      if ('deadLetter' in expected) {
        await waitFor(
          async () => (await deadOf(hostile.id)).length >= messages.length,
          () => `the dead letter of ${hostile.id}`,
        );
      } else {
        await waitFor(
          () => handledOf(hostile.id).length >= 1,
          () => `the handler to get ${hostile.id}`,
        );
      }
    }
    // Sent after the case: handled, so the consumer kept consuming; and (in order on Kafka and NATS,
    // within a few milliseconds on RabbitMQ) every copy of the case was settled before it.
    await stillConsuming();
    if (name === 'rabbitmq') await new Promise((resolve) => setTimeout(resolve, 100));
    const dead = await deadOf(hostile.id);
    const got = handledOf(hostile.id);
    if ('deadLetter' in expected) {
      expect(got).toHaveLength(0);
      expect(dead).toHaveLength(messages.length);
      for (const letter of dead) {
        expect(letter.reason).toBe(expected.deadLetter);
        expect(letter.error).toMatch(expected.error);
        expect(letter.bytes).toBe(messages[0]!.body.length); // the body, untouched
      }
    } else if ('handled' in expected) {
      expect(dead).toHaveLength(0);
      expect(got).toHaveLength(1);
      expect(got[0]!.cleanPrototype).toBe(true);
      expect(got[0]!.parameters).toEqual('parameters' in expected ? expected.parameters : { region: 'eu' });
      expected.check?.(got[0]!);
    } else {
      expect(dead).toHaveLength(0);
      expect(got).toHaveLength(0);
    }
    expectPrototypeUntouched();
  });

  if (name === 'nats') {
    it('3. the NATS server itself refuses a 10 MB publish from a client that skips the max_payload check', async () => {
      const max = (adapter as NatsAdapter).maxPayload;
      expect(max).toBeLessThan(TEN_MB);
      const answer = await rawProtocolPublish(`${uniquePrefix('hostile-raw')}orders.eu.created`, TEN_MB);
      expect(answer).toMatch(/-ERR 'Maximum Payload Violation'/);
    });
  }

  it(`keeps memory bounded over ${LOOP_MESSAGES} hostile messages, then handles a valid event sent last`, async () => {
    const loopCases = casesOf(name).filter((c) => c.loop);
    const large = loopCases.find((c) => c.id === 'large-field')!;
    const small = loopCases.filter((c) => c !== large);
    const before = await settledMemory();
    let sentBytes = 0;
    let expectedDead = 0;
    const expectedHandled: string[] = [];
    for (let i = 0, turn = 0; i < LOOP_MESSAGES; turn++) {
      const hostile = turn % 2 === 0 ? large : small[Math.floor(turn / 2) % small.length]!;
      const label = `loop-${turn}-${hostile.id}`;
      const messages = messagesOf(hostile, label);
      for (const message of messages) {
        await adapter.inject(message);
        sentBytes += message.body.length;
      }
      i += messages.length;
      if ('deadLetter' in expectationOf(hostile, name)!) expectedDead += messages.length;
      else expectedHandled.push(label);
    }
    const loopDead = async () => (await adapter.deadLetters()).filter((d) => d.label.startsWith('loop-')).length;
    const loopHandled = () => events.filter((e) => e.label.startsWith('loop-')).map((e) => e.label);
    await waitFor(
      async () => (await loopDead()) >= expectedDead && loopHandled().length >= expectedHandled.length,
      () => `the loop to settle (handled ${loopHandled().length} of ${expectedHandled.length}; dead letters expected: ${expectedDead})`,
      45_000,
    );
    // The valid event sent last is handled.
    await stillConsuming();
    expect(await loopDead()).toBe(expectedDead);
    expect(loopHandled().sort()).toEqual(expectedHandled.sort());
    const after = await settledMemory();
    const heapMb = (after.heapUsed - before.heapUsed) / MB;
    const arrayBuffersMb = (after.arrayBuffers - before.arrayBuffers) / MB;
    memoryFigures.push({ target: name, heapMb, arrayBuffersMb, sentMb: sentBytes / MB, gc: forceGc !== undefined });
    expect(heapMb).toBeLessThan(GROWTH_BOUND_MB);
    expect(arrayBuffersMb).toBeLessThan(GROWTH_BOUND_MB);
    expect(events.every((e) => e.cleanPrototype)).toBe(true);
    expectPrototypeUntouched();
  });
});

/**
 * Speaks the NATS protocol on a plain socket: CONNECT, then a PUB announcing `size` bytes. Returns what
 * the server answered (it answers at once, from the announced size, before any payload is sent).
 */
function rawProtocolPublish(subject: string, size: number): Promise<string> {
  const [host, port] = NATS_URL.replace(/^nats:\/\//, '').split(':');
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = net.connect({ host, port: Number(port ?? 4222) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer from the NATS server: ${JSON.stringify(answer)}`));
    }, 5_000);
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (answer.startsWith('INFO') && !answer.includes('PUB-SENT')) {
        socket.write(`CONNECT {"verbose":false,"pedantic":false}\r\nPUB ${subject} ${size}\r\n`);
        answer += 'PUB-SENT\n';
      }
      if (answer.includes('-ERR')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(answer);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
