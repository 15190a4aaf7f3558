/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * The brokers of the contract suite, behind one interface. Each contract test is written once and
 * run with `describe.each(contractBrokers())`; what a broker does differently by design is read from
 * its `capabilities` (capabilities.ts), never skipped.
 *
 * Every broker generates fixtures/contract/asyncapi.yaml (all three targets, one `tsc --strict`
 * program, emitted and imported) and uses names unique to the run: RabbitMQ `namePrefix`, Kafka
 * `topicPrefix` and consumer groups, NATS `subjectPrefix` (streams follow). Beside the generated
 * client each broker keeps a raw *tap*, a plain client (amqplib, kafkajs, @nats-io) that records
 * every message reaching the run's destinations, so a test can prove that a refused publish sent
 * nothing, and read dead letters with their headers as they are on the broker.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders, type Msg, type NatsConnection, type Subscription as NatsSubscription } from '@nats-io/transport-node';
import type { ConfirmChannel, Message } from 'amqplib';
import type { Consumer, Producer } from 'kafkajs';
import { compileStrict, emittedFolder, FIXTURES, generateTo, ROOT, uniqueName } from '../helpers/codegen.js';
import { assertKafkaUp, BROKERS, plainKafka, withAdmin } from '../kafka/support.js';
import { deleteStreams, NATS_URL, rawConnection, streamPrefixOf, uniquePrefix } from '../nats/support.js';
import { AMQP_URL, Broker, deleteByPrefix, namePrefix, rabbitmqctl } from '../rabbitmq/support.js';
import { BROKER_NAMES, CAPABILITIES, type BrokerName, type Capabilities } from './capabilities.js';

export { CAPABILITIES, type BrokerName, type Capabilities };

export const CONTRACT_DOCUMENT = path.join(FIXTURES, 'contract/asyncapi.yaml');

/** The receive operations of the contract document. */
export type ReceiveOperation = 'onReading' | 'onNote' | 'onAnswerQuote';

/** A message as it is on the broker: the tap's record of it, or a dead letter. */
export interface Seen {
  /** The queue, topic or subject it was read from. */
  destination: string;
  /** Its CloudEvents id ('' when it has none). */
  id: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** A raw `readings` event written by a plain client, as a well-behaved producer would, with changes. */
export interface RawReading {
  /** The `siteId` of the address it is sent on. */
  siteId: string;
  payload?: unknown;
  /** Application headers; `undefined` leaves one out. */
  headers?: Record<string, string | undefined>;
  /** The CloudEvents id (a new UUID by default). */
  id?: string;
}

/** Retries fast, so failing handlers reach the dead-letter destination in milliseconds. */
export const FAST_RETRY = { maxAttempts: 2, initialDelayMs: 20, maxDelayMs: 50, jitter: 0 };

/** One broker as the contract tests see it. */
export abstract class ContractBroker {
  abstract readonly name: BrokerName;
  /** Names of this run: every queue, topic, subject and stream starts with it. */
  abstract readonly prefix: string;
  /** The generated root module (errors, validators, the three target namespaces). */
  root: any;
  protected readonly clients: any[] = [];
  protected readonly tapped: Seen[] = [];

  get capabilities(): Capabilities {
    return CAPABILITIES[this.name];
  }

  /** The generated target's namespace (`root.rabbitmq`, `root.kafka`, `root.nats`). */
  get target(): any {
    return this.root[this.capabilities.target];
  }

  /** Generates and imports the client, opens the tap. */
  abstract start(): Promise<void>;
  /** The options of a client on this run's names (JSON: a child process gets them too). */
  abstract clientOptions(): Record<string, unknown>;
  /**
   * The options of a consumer named `group` (queue, consumer group, durable): one event at a time, fast
   * retries (JSON: a child process gets them too). A group named after its operation gets the defaults'
   * names, which capabilities.ts documents (the dead-letter destination).
   */
  abstract subscribeOptions(operation: ReceiveOperation, group: string): Record<string, unknown>;

  /** A new generated client on this run's names (closed by `stop()` if the test does not close it). */
  async client(options: Record<string, unknown> = {}): Promise<any> {
    const client = await this.target.createClient({ ...this.clientOptions(), ...options });
    this.clients.push(client);
    return client;
  }

  /** Subscribes `operation` on `client` as the consumer `group`; `options` override the broker's defaults. */
  async subscribe(client: any, operation: ReceiveOperation, handler: (payload: any, context: any) => unknown, group: string, options: Record<string, unknown> = {}): Promise<any> {
    return client[operation](handler, { ...this.subscribeOptions(operation, group), ...options });
  }

  /** Writes a raw `readings` event with a plain client, behind the generated client's back. */
  abstract inject(reading: RawReading): Promise<void>;
  /** Every dead letter of the run so far, read from the dead-letter destination. */
  async deadLetters(): Promise<Seen[]> {
    return this.tapped.filter(isDeadLetter);
  }
  /**
   * How often the broker itself delivered the events of `subscription` again: JetStream counts it.
   * Undefined where retries stay in the process holding the event and the broker keeps no such count.
   */
  async redeliveries(_subscription: any): Promise<number | undefined> {
    return undefined;
  }

  /** A client whose connection `sever()` can cut, quick to reconnect. */
  severableClient(): Promise<any> {
    return this.client();
  }

  /** Cuts the client's connection the way `capabilities.reconnection` says (only where it is exercised). */
  abstract sever(client: any): Promise<void>;
  /**
   * Resolves once what `client` published reached the broker. A resolved publish means that already,
   * except on core NATS, where it only means written to the connection's buffer.
   */
  async reached(_client: any): Promise<void> {}

  /** Closes every client and raw connection and deletes the run's queues, topics or streams. */
  abstract stop(): Promise<void>;

  /** The dead-letter destination of `readings` events sent on `siteId`, as the capability data names it. */
  documentedDeadLetterDestination(siteId: string): string {
    const name = /`([^`]+)`/.exec(this.capabilities.deadLetterDestination)![1]!;
    return name.replace('<p>', this.prefix).replace('<siteId>', siteId);
  }

  /** Every event (not dead letter) that reached one of the run's destinations since the tap opened. */
  seen(): readonly Seen[] {
    return this.tapped.filter((message) => !isDeadLetter(message));
  }

  /** The publish options a `readings` event needs on this broker (a key on Kafka), with `extra` over them. */
  readingOptions(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { parameters: { siteId: 'ams' }, headers: { 'x-tenant': 'acme' }, ...(this.capabilities.keys ? { key: 'sensor-1' } : {}), ...extra };
  }

  protected async closeClients(): Promise<void> {
    await Promise.allSettled(this.clients.map((client) => client.close()));
  }
}

function isDeadLetter(message: Seen): boolean {
  return 'x-codegen-dead-letter-reason' in message.headers;
}

/** The CloudEvents attributes of a raw `readings` event. */
function rawEnvelope(id: string): Record<string, string> {
  return { specversion: '1.0', id, source: '/contract-tests', type: 'com.example.contract.reading', time: new Date().toISOString() };
}

function rawBody(reading: RawReading): Buffer {
  return Buffer.from(JSON.stringify(reading.payload ?? { sensor: 'raw', value: 1 }));
}

function presentHeaders(reading: RawReading): Array<[string, string]> {
  const headers = { 'x-tenant': 'acme', ...reading.headers };
  return Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined);
}

function text(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString('utf8') : value === undefined || value === null ? '' : String(value);
}

// ---- RabbitMQ -------------------------------------------------------------------------------------

class RabbitContract extends ContractBroker {
  readonly name = 'rabbitmq' as const;
  readonly prefix = namePrefix('contract');
  private raw!: Broker;
  private confirms: ConfirmChannel | undefined;
  private readonly deadLetterQueues = new Set<string>();
  private readonly vhosts: string[] = [];
  /** The vhost of each client made by severableClient(). */
  private readonly vhostOf = new WeakMap<object, string>();

  private get exchange(): string {
    return `${this.prefix}contract`;
  }

  async start(): Promise<void> {
    this.root = await generated();
    this.raw = await Broker.open();
    await this.client(); // declares the run's exchange
    const { queue } = await this.raw.channel.assertQueue('', { exclusive: true, autoDelete: true });
    await this.raw.channel.bindQueue(queue, this.exchange, '#');
    await this.raw.channel.consume(queue, (message) => message && this.record(message.fields.routingKey, message), { noAck: true });
  }

  clientOptions(): Record<string, unknown> {
    return { urls: [AMQP_URL], namePrefix: this.prefix, closeTimeoutMs: 5_000, replyTimeoutMs: 3_000 };
  }

  subscribeOptions(operation: ReceiveOperation, group: string): Record<string, unknown> {
    // The consumer named after its operation has the default queue, `<prefix><serviceName>.<operation>`.
    return { ...(group === operation ? {} : { queue: `${this.prefix}${group}` }), concurrency: 1, retry: FAST_RETRY };
  }

  override async subscribe(...args: Parameters<ContractBroker['subscribe']>): Promise<any> {
    const subscription = await super.subscribe(...args);
    this.deadLetterQueues.add(`${subscription.queue}.dlq`);
    return subscription;
  }

  async inject(reading: RawReading): Promise<void> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(rawEnvelope(reading.id ?? randomUUID()))) headers[`cloudEvents:${name}`] = value;
    for (const [name, value] of presentHeaders(reading)) headers[name] = value;
    // On a confirm channel: resolved once the broker routed it, so an event published after it comes after it.
    this.confirms ??= await this.raw.connection.createConfirmChannel();
    this.confirms.publish(this.exchange, `contract.sites.${reading.siteId}.readings`, rawBody(reading), { headers, contentType: 'application/json' });
    await this.confirms.waitForConfirms();
  }

  override async deadLetters(): Promise<Seen[]> {
    for (const queue of this.deadLetterQueues) {
      for (let message = await this.raw.channel.get(queue, { noAck: true }); message; message = await this.raw.channel.get(queue, { noAck: true })) this.record(queue, message);
    }
    return super.deadLetters();
  }

  private record(destination: string, message: Message): void {
    const headers = Object.fromEntries(Object.entries(message.properties.headers ?? {}).map(([name, value]) => [name, text(value)]));
    this.tapped.push({ destination, id: headers['cloudEvents:id'] ?? '', headers, body: message.content });
  }

  /** A client of its own vhost (created here), whose connections the broker then closes. */
  override async severableClient(): Promise<any> {
    const vhost = uniqueName('codegen-contract');
    await rabbitmqctl('add_vhost', vhost);
    this.vhosts.push(vhost);
    await rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
    const client = await this.client({ urls: [`${AMQP_URL}/${encodeURIComponent(vhost)}`], reconnect: { initialDelayMs: 50, maxDelayMs: 500 } });
    this.vhostOf.set(client, vhost);
    return client;
  }

  async sever(client: any): Promise<void> {
    const vhost = this.vhostOf.get(client);
    if (!vhost) throw new Error('sever() needs a client made by severableClient()');
    await rabbitmqctl('close_all_connections', '--vhost', vhost, 'contract test');
  }

  async stop(): Promise<void> {
    await this.closeClients();
    await this.raw?.close();
    await deleteByPrefix(this.prefix);
    for (const vhost of this.vhosts) await rabbitmqctl('delete_vhost', vhost).catch(() => undefined);
  }
}

// ---- Kafka ----------------------------------------------------------------------------------------

class KafkaContract extends ContractBroker {
  readonly name = 'kafka' as const;
  readonly prefix = `${uniqueName('contract')}.`;
  private producer: Producer | undefined;
  private tap: Consumer | undefined;

  private topic(channel: string): string {
    return `${this.prefix}contract.${channel}`;
  }

  async start(): Promise<void> {
    await assertKafkaUp();
    this.root = await generated();
    const admin = await this.client();
    await admin.declareTopology(); // topics, dead-letter and reply topics, before anything subscribes
    this.producer = plainKafka().producer();
    this.tap = plainKafka().consumer({ groupId: `${this.prefix}tap`, maxWaitTimeInMs: 100 });
    const tap = this.tap;
    await Promise.all([this.producer.connect(), tap.connect()]);
    const topics = ['readings', 'notes'].flatMap((channel) => [this.topic(channel), `${this.topic(channel)}.dlq`]);
    await tap.subscribe({ topics, fromBeginning: true });
    await tap.run({
      eachMessage: async ({ topic, message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, text(Array.isArray(value) ? value[0] : value)]));
        this.tapped.push({ destination: topic, id: headers.ce_id ?? '', headers, body: message.value ?? Buffer.alloc(0) });
      },
    });
    await waitForAssignment(tap);
  }

  clientOptions(): Record<string, unknown> {
    return { brokers: BROKERS, topicPrefix: this.prefix, clientId: this.prefix.slice(0, -1), closeTimeoutMs: 5_000, requestTimeoutMs: 5_000 };
  }

  subscribeOptions(_operation: ReceiveOperation, group: string): Record<string, unknown> {
    // The broker's smallest session timeout: a consumer that died gives its partitions up quickly.
    return { groupId: `${this.prefix}${group}`, fromBeginning: true, concurrency: 1, retry: FAST_RETRY, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000 };
  }

  async inject(reading: RawReading): Promise<void> {
    // The binding fixes the topic, so the concrete address travels in `x-codegen-address`.
    const headers: Record<string, string> = { 'x-codegen-address': `contract.sites.${reading.siteId}.readings`, 'content-type': 'application/json' };
    for (const [name, value] of Object.entries(rawEnvelope(reading.id ?? randomUUID()))) headers[`ce_${name}`] = value;
    for (const [name, value] of presentHeaders(reading)) headers[name] = value;
    await this.producer!.send({ topic: this.topic('readings'), messages: [{ key: 'sensor-raw', value: rawBody(reading), headers }] });
  }

  async sever(): Promise<void> {
    throw new Error(`not exercised on Kafka: ${JSON.stringify(this.capabilities.reconnection)}`);
  }

  async stop(): Promise<void> {
    await this.closeClients();
    await Promise.allSettled([this.producer?.disconnect(), this.tap?.disconnect()]);
    await withAdmin(async (admin) => {
      const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(this.prefix));
      if (topics.length > 0) await admin.deleteTopics({ topics });
    }).catch(() => undefined);
  }
}

/** Resolves once the consumer was given its partitions (it reads from the beginning, so nothing is missed either way). */
async function waitForAssignment(consumer: Consumer): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = consumer.on(consumer.events.GROUP_JOIN, () => {
      done();
      resolve();
    });
    setTimeout(resolve, 15_000).unref();
  });
}

// ---- NATS (core and JetStream) ---------------------------------------------------------------------

class NatsContract extends ContractBroker {
  readonly prefix: string;
  private raw: NatsConnection | undefined;
  private js!: JetStreamClient;
  private taps: NatsSubscription[] = [];

  constructor(
    readonly name: 'nats-core' | 'nats-jetstream',
    private readonly mode: 'core' | 'jetstream',
  ) {
    super();
    this.prefix = uniquePrefix(`contract-${mode}`);
  }

  async start(): Promise<void> {
    this.root = await generated();
    this.raw = await rawConnection();
    this.js = jetstream(this.raw);
    // Events and dead letters, not requests: a subscriber on the request subject would count as a responder.
    const record = (error: Error | null, message: Msg) => {
      if (error) return;
      const headers: Record<string, string> = {};
      for (const name of message.headers?.keys() ?? []) headers[name] = message.headers!.get(name);
      this.tapped.push({ destination: message.subject, id: headers['ce-id'] ?? '', headers, body: Buffer.from(message.data) });
    };
    this.taps = ['contract.sites.>', 'contract.notes', 'dlq.>'].map((subject) => this.raw!.subscribe(`${this.prefix}${subject}`, { callback: record }));
    await this.raw.flush();
  }

  clientOptions(): Record<string, unknown> {
    return { servers: NATS_URL, subjectPrefix: this.prefix, mode: this.mode, closeTimeoutMs: 5_000, requestTimeoutMs: 3_000 };
  }

  subscribeOptions(operation: ReceiveOperation, group: string): Record<string, unknown> {
    const naming = this.mode === 'jetstream' && operation !== 'onAnswerQuote' ? { durable: group } : { queue: group };
    // ackWaitMs: an event held by a consumer that died is delivered again after 2 s.
    return { ...naming, concurrency: 1, retry: FAST_RETRY, ackWaitMs: 2_000 };
  }

  async inject(reading: RawReading): Promise<void> {
    const headers = natsHeaders();
    for (const [name, value] of Object.entries(rawEnvelope(reading.id ?? randomUUID()))) headers.set(`ce-${name}`, value);
    headers.set('ce-datacontenttype', 'application/json');
    for (const [name, value] of presentHeaders(reading)) headers.set(name, value);
    const subject = `${this.prefix}contract.sites.${reading.siteId}.readings`;
    // No Nats-Msg-Id: the server's own de-duplication must not hide a copy from the consumer.
    if (this.mode === 'jetstream') await this.js.publish(subject, rawBody(reading), { headers });
    else {
      this.raw!.publish(subject, rawBody(reading), { headers });
      await this.raw!.flush();
    }
  }

  override async redeliveries(subscription: any): Promise<number | undefined> {
    if (this.mode === 'core') return undefined;
    const jsm = await jetstreamManager(this.raw!);
    // Every delivery, a redelivery too, takes a consumer sequence; the stream's events (all of them
    // the consumer's) one stream sequence each: the difference is the redeliveries.
    const { delivered } = await jsm.consumers.info(subscription.stream, subscription.durable);
    return delivered.consumer_seq - delivered.stream_seq;
  }

  override severableClient(): Promise<any> {
    return this.client({ connectionOptions: { reconnectTimeWait: 100 }, publishTimeoutMs: 1_000 });
  }

  async sever(client: any): Promise<void> {
    await client.connection.reconnect();
  }

  override async reached(client: any): Promise<void> {
    await client.connection.flush();
  }

  async stop(): Promise<void> {
    await this.closeClients();
    for (const tap of this.taps) tap.unsubscribe();
    await this.raw?.drain().catch(() => undefined);
    if (this.mode === 'jetstream') await deleteStreams(streamPrefixOf(this.prefix));
  }
}

// ---- the generated code, once per test file ------------------------------------------------------

let building: Promise<string> | undefined;

/**
 * fixtures/contract/asyncapi.yaml generated for the three targets and compiled with `tsc --strict`
 * (emitting JavaScript): the path of the emitted index.js. It is kept under .cache/contract/<hash of
 * the generator's inputs>, so the contract files of one run (and runs on unchanged sources) compile
 * it once: the compile takes most of a file's setup.
 */
export function generatedIndex(): Promise<string> {
  building ??= (async () => {
    const cached = path.join(ROOT, '.cache', 'contract', inputsHash());
    const index = path.join(cached, 'index.js');
    mkdirSync(path.dirname(cached), { recursive: true });
    // One file compiles, the others (vitest runs two at once) wait for it: two compiles at once on
    // two cores take as long as both one after the other.
    while (!existsSync(index)) {
      if (takeLock(`${cached}.lock`)) {
        try {
          const out = await generateTo(CONTRACT_DOCUMENT, ['rabbitmq', 'kafka', 'nats']);
          await compileStrict([out], { emit: true });
          if (!existsSync(index)) renameSync(emittedFolder(out), cached);
        } finally {
          rmSync(`${cached}.lock`, { recursive: true, force: true });
        }
      } else await sleep(250);
    }
    return index;
  })();
  return building;
}

/** Creates the lock folder (false when another process holds it; a lock older than 3 minutes is stale). */
function takeLock(lock: string): boolean {
  try {
    mkdirSync(lock);
    return true;
  } catch {
    const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > 180_000) rmSync(lock, { recursive: true, force: true });
    return false;
  }
}

/** The generated root module (errors, validators, the three target namespaces). */
export async function generated(): Promise<any> {
  return import(pathToFileURL(await generatedIndex()).href);
}

/** A hash of everything the generated code comes from: the document, the generator, its templates and run-time. */
function inputsHash(): string {
  const hash = createHash('sha256');
  const add = (file: string) => hash.update(path.relative(ROOT, file)).update(readFileSync(file));
  add(CONTRACT_DOCUMENT);
  add(path.join(ROOT, 'package-lock.json'));
  for (const folder of ['src', 'templates', 'runtime']) for (const file of filesUnder(path.join(ROOT, folder))) add(file);
  return hash.digest('hex').slice(0, 16);
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

const FACTORIES: Record<BrokerName, () => ContractBroker> = {
  rabbitmq: () => new RabbitContract(),
  kafka: () => new KafkaContract(),
  'nats-core': () => new NatsContract('nats-core', 'core'),
  'nats-jetstream': () => new NatsContract('nats-jetstream', 'jetstream'),
};

/** The cases of `describe.each`: every broker of the contract, each with a fresh adapter. */
export function contractBrokers(): Array<{ name: BrokerName; create: () => ContractBroker }> {
  return BROKER_NAMES.map((name) => ({ name, create: FACTORIES[name] }));
}

// ---- waiting -----------------------------------------------------------------------------------------

/** Polls `condition` until it holds; fails with what it waited for after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What `call` threw, synchronously or as a rejection (fails when it succeeded). */
export async function failureOf(call: () => unknown): Promise<any> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal, but the call succeeded');
}
