// The Kafka machinery behind the typed client in client.ts: one long-lived batching producer,
// consumers on the shared ConsumerPipeline, dead-lettering, transactions, request/reply, topology.
import { randomUUID } from 'node:crypto';
import {
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type CompressionTypes,
  type Consumer,
  type ConsumerConfig,
  type EachBatchPayload,
  type IHeaders,
  type ITopicConfig,
  type KafkaConfig,
  type KafkaMessage,
  type LogEntry,
  type Message,
  type Producer,
  type ProducerConfig,
  type Transaction,
} from 'kafkajs';
import {
  ConsumerPipeline,
  InFlight,
  deadLetterHeaders,
  type ConsumerOptions,
  type DecodedEvent,
  type Outcome,
} from '../consumer.js';
import type { CloudEventAttributes, HeaderMapping } from '../envelope.js';
import {
  ClientClosedError,
  EventValidationError,
  PublishError,
  RequestFailedError,
  errorMessage,
  type DeadLetterReason,
} from '../errors.js';
import type { Logger } from '../logger.js';
import { segment, type OperationSpec } from '../operation.js';
import { prepareOutbound, type OutboundSpec, type PublishOptions } from '../producer.js';
import { Lifecycle, shutdownGracefully } from '../lifecycle.js';
import { PendingReplies } from '../replies.js';
import { backoffDelay, retryPolicy, sleep, type RetryPolicy } from '../retry.js';
import { Telemetry, type ProcessSpan, type TelemetryOptions } from '../telemetry.js';
import type { ValidationResult } from '../validation.js';

/**
 * CloudEvents Kafka protocol binding, binary content mode: every attribute is a header `ce_<name>`,
 * `datacontenttype` travels as `content-type`, the data is the record value.
 */
export const KAFKA_HEADER_MAPPING: HeaderMapping = { prefix: 'ce_', contentTypeHeader: 'content-type' };

/**
 * The concrete channel address, for channels whose topic is fixed by the binding while the address
 * has parameters: consumers read the typed parameters back from it.
 */
export const ADDRESS_HEADER = 'x-codegen-address';

const CORRELATION_HEADER = `${KAFKA_HEADER_MAPPING.prefix}correlationid`;

// ---- what client.ts declares per channel and operation -----------------------------------------

/** The key a message binding declares: text (optionally an enum), a number, or free bytes. */
export interface KeySpec {
  kind: 'string' | 'number' | 'bytes';
  values?: readonly string[];
}

export interface KafkaChannel {
  name: string;
  /** Topic fixed by the kafka binding (or a parameterless address); undefined: see `fromAddress`. */
  topic: string | undefined;
  /** The topic is the address with the parameters filled in. */
  fromAddress: boolean;
  hasParameters: boolean;
  partitions: number | undefined;
  replicas: number | undefined;
  configEntries: ReadonlyArray<{ name: string; value: string }>;
  /** Every concrete topic of an enum-only parameterised address, for declareTopology(). */
  enumeratedTopics: readonly string[];
}

export interface KafkaReplySpec<R> {
  eventType(payload: R): string;
  contentType: string;
  validatePayload(data: unknown): ValidationResult<R>;
  /** Header the request carries its reply topic in. */
  replyToHeader: string;
  /** The reply channel's own topic, when the document fixes one. */
  topic: string | undefined;
  /** The reply channel's address, filled from the request's parameters (when it has parameters). */
  address: string | undefined;
}

export interface KafkaOperation<T, H, P> {
  spec: OperationSpec<T, H, P>;
  channel: KafkaChannel;
  key: KeySpec;
  /** Consumer group id from the kafka operation binding. */
  groupId: string | undefined;
  reply: KafkaReplySpec<unknown> | undefined;
}

// ---- options -------------------------------------------------------------------------------------

export interface KafkaProducerOptions {
  /** -1 (all in-sync replicas, default), 1 (leader only) or 0 (no acknowledgement). */
  acks?: -1 | 0 | 1;
  /** Idempotent producer (one request in flight, broker-side de-duplication of retries). Default false. */
  idempotent?: boolean;
  compression?: CompressionTypes;
  /** How long the broker may take to acknowledge a request (default 30 s). */
  timeoutMs?: number;
  /** How long a publish keeps retrying while brokers are unreachable before it fails (default 120 s). */
  deliveryTimeoutMs?: number;
  /** Most records in one produce request (default 1000). */
  maxBatchSize?: number;
  /** Most bytes (approximately) in one produce request (default 512 KiB). */
  maxBatchBytes?: number;
  /** Wait this long for more events before sending a request (default 0: the next turn of the event loop). */
  lingerMs?: number;
  /** Any other kafkajs producer setting. */
  config?: Omit<ProducerConfig, 'idempotent' | 'transactionalId'>;
}

/** Options of one consumer (an `on…` method); the client's `consumer` option gives the defaults. */
export interface KafkaConsumerOptions extends ConsumerOptions {
  /** Consumer group; default: the operation binding's `groupId`, else `<clientId>.<operation id>`. */
  groupId?: string;
  /** Where a group without committed offsets starts: the earliest event (true) or new events only (default). */
  fromBeginning?: boolean;
  /** Dead-letter topic; default `<topic>.dlq`. `false`: drop (and log) events that cannot be processed. */
  deadLetterTopic?: string | false;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  rebalanceTimeoutMs?: number;
  /**
   * Offsets of handled events are committed after each fetched batch, on close, and at least this
   * often within a long batch (default 5 s). Shorter: fewer events handled again after a crash.
   */
  commitIntervalMs?: number;
  /** Any other kafkajs consumer setting. */
  config?: Partial<ConsumerConfig>;
}

export interface KafkaRuntimeOptions {
  kafka?: Kafka;
  brokers: readonly string[];
  clientId: string;
  client?: Omit<KafkaConfig, 'brokers' | 'clientId'>;
  topicPrefix: string;
  topics: Readonly<Record<string, string | undefined>>;
  source: string;
  validate: boolean;
  logger: Logger;
  producer: KafkaProducerOptions;
  consumer: KafkaConsumerOptions;
  transactionalId: string | undefined;
  requestTimeoutMs: number;
  replyTopic: string | undefined;
  closeTimeoutMs: number;
  telemetry: TelemetryOptions | undefined;
}

// ---- what callers get --------------------------------------------------------------------------

/** Options of a publish: the shared ones plus the Kafka record's key and partition. */
export interface KafkaPublishOptions<H, K> extends PublishOptions<H> {
  /** Record key: events with the same key go to the same partition and keep their order. */
  key?: K | null;
  /** Explicit partition (otherwise chosen from the key, murmur2 like the Java client). */
  partition?: number;
}

/** What every publish accepts, as the runtime sees it. */
export interface KafkaSendOptions<H, P> extends KafkaPublishOptions<H, unknown> {
  parameters?: P;
}

export interface KafkaRequestOptions<H, K> extends KafkaPublishOptions<H, K> {
  /** How long to wait for the reply (default: the client's `requestTimeoutMs`, 30 s). */
  timeoutMs?: number;
}

/** A published event: the broker acknowledged it (or, in a transaction, holds it until commit). */
export interface PublishedEvent {
  id: string;
  topic: string;
  envelope: CloudEventAttributes;
}

/** What a handler learns besides the payload. */
export interface KafkaEventContext<H, K, P> {
  envelope: CloudEventAttributes;
  headers: H;
  /** The record key, decoded as the document declares it (null when the record has none). */
  key: K | null;
  rawKey: Buffer | null;
  topic: string;
  partition: number;
  offset: string;
  /** Record timestamp (ms since the epoch, as text). */
  timestamp: string;
  /** The channel parameters of this event (undefined when it carries no valid address). */
  parameters: P;
  /** 1 on the first attempt, then 2, 3, … while retrying in process. */
  attempt: number;
  /** Aborted when the client is closing. */
  signal: AbortSignal;
  operation: string;
}

export type KafkaHandler<T, H, K, P, R> = (payload: T, context: KafkaEventContext<H, K, P>) => R | Promise<R>;

/** A reply to a request. */
export interface KafkaReply<R> {
  payload: R;
  envelope: CloudEventAttributes;
  headers: Record<string, string>;
  topic: string;
  partition: number;
  offset: string;
}

/** A running consumer. */
export interface KafkaSubscription {
  readonly groupId: string;
  readonly topics: ReadonlyArray<string | RegExp>;
  /** Stops fetching, lets the handler in progress finish, commits its offset and leaves the group. */
  close(): Promise<void>;
}

export interface TopologyReport {
  created: string[];
  existing: string[];
  /** Existing topics whose partition count differs from the document (left unchanged). */
  mismatched: Array<{ topic: string; expectedPartitions: number; actualPartitions: number }>;
}

/** Publishes one event of an operation; the typed methods of client.ts all go through one of these. */
export type EventSink = <T, H, P>(
  operation: KafkaOperation<T, H, P>,
  payload: T,
  options: KafkaSendOptions<H, P>,
) => Promise<PublishedEvent>;

// ---- small helpers ---------------------------------------------------------------------------------

/** Header values as text (the last value when a header repeats). */
export function headersFromKafka(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const name of Object.keys(headers)) {
    const raw = headers[name];
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value === undefined) continue;
    const text = typeof value === 'string' ? value : value.toString('utf8');
    // A header named __proto__ becomes an own property, never the object's prototype.
    if (name === '__proto__')
      Object.defineProperty(out, name, { value: text, enumerable: true, writable: true, configurable: true });
    else out[name] = text;
  }
  return out;
}

const EMPTY = new Uint8Array(0);

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A key as kafkajs sends it; checked against the document's key schema when validation is on. */
export function encodeKey(key: unknown, spec: KeySpec, validate: boolean, operation: string): string | Buffer | null {
  if (key === undefined || key === null) return null;
  if (Buffer.isBuffer(key)) return key;
  if (validate) {
    const ok =
      spec.kind === 'number'
        ? typeof key === 'number' && Number.isFinite(key)
        : spec.kind === 'string'
          ? typeof key === 'string' && (spec.values === undefined || spec.values.includes(key))
          : typeof key === 'string';
    if (!ok)
      throw new TypeError(
        `key of ${operation} must be ${spec.values ? `one of ${JSON.stringify(spec.values)}` : `a ${spec.kind === 'bytes' ? 'string or Buffer' : spec.kind}`}, got ${JSON.stringify(key)}`,
      );
  }
  return String(key);
}

/** A received key, decoded as the document declares it. */
export function decodeKey(raw: Buffer | null, spec: KeySpec): string | number | null {
  if (raw === null) return null;
  const text = raw.toString('utf8');
  if (spec.kind !== 'number') return text;
  const value = Number(text);
  return text.trim() !== '' && Number.isFinite(value) ? value : null;
}

/** An address template with parameter values placed in it (each checked like a channel parameter). */
export function fillAddress(template: string, parameters: unknown): string {
  const values = (parameters ?? {}) as Record<string, unknown>;
  return template.replace(/\{([^{}]+)\}/g, (_match, name: string) =>
    segment(Object.prototype.hasOwnProperty.call(values, name) ? values[name] : undefined, name),
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A pattern matching every concrete topic of an address template (one segment per parameter). */
export function addressPattern(address: string, prefix: string): RegExp {
  const source = address
    .split(/(\{[^{}]+\})/)
    .map((part) => (/^\{[^{}]+\}$/.test(part) ? '([A-Za-z0-9_-]+)' : escapeRegExp(part)))
    .join('');
  return new RegExp(`^${escapeRegExp(prefix)}${source}$`);
}

const RETRIABLE = new Set([
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSLockTimeout',
  'KafkaJSStaleTopicMetadataAssignment',
]);

/** Errors worth another try: brokers down or moving, leaders changing, timeouts. */
export function isRetriable(error: unknown): boolean {
  for (
    let e: unknown = error, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const { name, retriable } = e as { name?: unknown; retriable?: unknown };
    if (retriable === true || (typeof name === 'string' && RETRIABLE.has(name))) return true;
  }
  return false;
}

/** kafkajs log lines into the client's logger (silent by default). */
function logCreator(logger: Logger) {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
      const entry = { ...fields, kafkajs: namespace };
      if (level === logLevel.ERROR) logger.error(entry, message);
      else if (level === logLevel.WARN) logger.warn(entry, message);
      else if (level === logLevel.INFO) logger.info(entry, message);
      else logger.debug(entry, message);
    };
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

// ---- the producer ----------------------------------------------------------------------------------

interface PendingRecord {
  topic: string;
  message: Message;
  bytes: number;
  done: Deferred<void>;
}

interface SenderSettings {
  acks: -1 | 0 | 1;
  timeoutMs: number;
  compression: CompressionTypes | undefined;
  deliveryTimeoutMs: number;
  maxBatchSize: number;
  maxBatchBytes: number;
  lingerMs: number;
}

const RECONNECT_POLICY: RetryPolicy = retryPolicy({
  initialDelayMs: 250,
  maxDelayMs: 5_000,
  multiplier: 2,
  jitter: 0.2,
});

/**
 * Coalesces publishes into produce requests with one request in flight at a time: events published
 * while a request is on the wire go out together in the next one. This keeps the order of events
 * per partition (a retried request is never overtaken) and needs no tuning: batches grow with load.
 * A request that fails because brokers are unreachable is retried with backoff until
 * `deliveryTimeoutMs`; then its publishes fail with PublishError.
 */
export class BatchingSender {
  private queue: PendingRecord[] = [];
  private draining: Promise<void> | undefined;
  private scheduled = false;
  /** Set by close(): retries through an outage stop at this time (ms since the epoch). */
  private giveUpAt = Infinity;

  constructor(
    private readonly producer: () => Promise<Producer>,
    private readonly settings: SenderSettings,
    private readonly logger: Logger,
  ) {}

  send(topic: string, message: Message): Promise<void> {
    const done = deferred<void>();
    this.queue.push({ topic, message, bytes: sizeOf(message), done });
    this.schedule();
    return done.promise;
  }

  /** Resolves when every event queued so far has been settled; retries end at `giveUpAt` at the latest. */
  async flush(giveUpAt = Infinity): Promise<void> {
    this.giveUpAt = Math.min(this.giveUpAt, giveUpAt);
    while (this.queue.length > 0 || this.draining || this.scheduled) {
      if (this.draining) await this.draining;
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.draining) return;
    this.scheduled = true;
    const start = () => {
      this.scheduled = false;
      this.draining = this.drain().finally(() => {
        this.draining = undefined;
        if (this.queue.length > 0) this.schedule();
      });
    };
    if (this.settings.lingerMs > 0) setTimeout(start, this.settings.lingerMs);
    else setImmediate(start);
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) await this.deliver(this.takeBatch());
  }

  private takeBatch(): PendingRecord[] {
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && count < this.settings.maxBatchSize) {
      const next = this.queue[count]!.bytes;
      if (count > 0 && bytes + next > this.settings.maxBatchBytes) break;
      bytes += next;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private async deliver(batch: PendingRecord[]): Promise<void> {
    const timeout = Date.now() + this.settings.deliveryTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      const deadline = Math.min(timeout, this.giveUpAt);
      try {
        const producer = await this.producer();
        await producer.sendBatch({
          topicMessages: groupByTopic(batch),
          acks: this.settings.acks,
          timeout: this.settings.timeoutMs,
          compression: this.settings.compression,
        });
        for (const record of batch) record.done.resolve();
        return;
      } catch (error) {
        if (isRetriable(error) && Date.now() < deadline) {
          const delayMs = Math.min(backoffDelay(RECONNECT_POLICY, attempt), Math.max(0, deadline - Date.now()));
          this.logger.warn(
            { attempt, delayMs, events: batch.length, err: errorMessage(error) },
            'kafka produce failed; retrying',
          );
          await sleep(delayMs);
          continue;
        }
        if (!isRetriable(error) && new Set(batch.map((r) => r.topic)).size > 1) {
          // One bad topic must not fail the events of the others: send each topic on its own.
          for (const topic of new Set(batch.map((r) => r.topic)))
            await this.deliver(batch.filter((r) => r.topic === topic));
          return;
        }
        const failure = new PublishError(
          `kafka did not accept ${batch.length} event(s) for ${[...new Set(batch.map((r) => r.topic))].join(', ')}: ${errorMessage(error)}`,
          { cause: error },
        );
        for (const record of batch) record.done.reject(failure);
        return;
      }
    }
  }
}

function sizeOf(message: Message): number {
  let bytes = 64 + (message.value ? message.value.length : 0) + (message.key ? message.key.length : 0);
  const headers = message.headers;
  for (const name in headers) {
    const value = headers[name];
    bytes += name.length + (typeof value === 'string' || Buffer.isBuffer(value) ? value.length : 16);
  }
  return bytes;
}

function groupByTopic(batch: PendingRecord[]): Array<{ topic: string; messages: Message[] }> {
  const byTopic = new Map<string, Message[]>();
  for (const record of batch) {
    let messages = byTopic.get(record.topic);
    if (!messages) byTopic.set(record.topic, (messages = []));
    messages.push(record.message);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/** A producer connected on first use and again after it lost its connection. */
class LazyProducer {
  private connecting: Promise<Producer> | undefined;
  private producer: Producer | undefined;

  constructor(private readonly create: () => Producer) {}

  get(): Promise<Producer> {
    this.connecting ??= (async () => {
      const producer = (this.producer ??= this.create());
      try {
        await producer.connect();
      } catch (error) {
        this.connecting = undefined;
        throw error;
      }
      return producer;
    })();
    return this.connecting;
  }

  /** The next get() connects again. */
  reset(): void {
    this.connecting = undefined;
  }

  async disconnect(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    this.connecting = undefined;
    if (producer) await producer.disconnect();
  }
}

// ---- consumers -------------------------------------------------------------------------------------

/** The runtime parts a consumer works with. */
interface ConsumerHost {
  kafka: Kafka;
  sender: BatchingSender;
  telemetry: Telemetry;
  logger: Logger;
  signal: AbortSignal;
  inFlight: InFlight;
  forget(runner: KafkaConsumerRunner): void;
}

interface ConsumerTarget {
  groupId: string;
  topics: Array<string | RegExp>;
  /** The channel address of a received record, for parameters. */
  addressOf(topic: string, headers: Record<string, string>): string | undefined;
  /** Called after a record was dead-lettered (a responder tells its requester here). */
  deadLettered?(failure: DeadLetteredRecord): Promise<void>;
}

interface DeadLetteredRecord {
  headers: Record<string, string>;
  key: Buffer | null;
  parameters: unknown;
  reason: DeadLetterReason;
  error: string;
  attempts: number;
}

/**
 * One kafkajs consumer running one operation's handler on the shared ConsumerPipeline.
 * Records of a partition are handled one after the other (order per key is kept); an offset is
 * resolved only after its handler succeeded or the record was dead-lettered (at-least-once), or
 * committed before the handler runs with `ackMode: 'before-handler'` (at-most-once).
 */
export class KafkaConsumerRunner implements KafkaSubscription {
  readonly groupId: string;
  readonly topics: ReadonlyArray<string | RegExp>;
  private consumer: Consumer | undefined;
  private closing: Promise<void> | undefined;
  private readonly pipeline: ConsumerPipeline<unknown, unknown>;
  private readonly heartbeatIntervalMs: number;
  /** Aborted by close() of this consumer or of the client: ends retry waits, tells handlers. */
  private readonly abort = new AbortController();

  constructor(
    private readonly host: ConsumerHost,
    private readonly operation: KafkaOperation<unknown, unknown, unknown>,
    private readonly target: ConsumerTarget,
    private readonly handle: (
      decoded: DecodedEvent<unknown, unknown>,
      context: KafkaEventContext<unknown, unknown, unknown>,
      record: KafkaMessage,
    ) => Promise<void>,
    private readonly options: KafkaConsumerOptions,
  ) {
    this.groupId = target.groupId;
    this.topics = target.topics;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 3_000;
    if (host.signal.aborted) this.abort.abort();
    else host.signal.addEventListener('abort', () => this.abort.abort(), { once: true });
    this.pipeline = new ConsumerPipeline(
      {
        operation: operation.spec.operation,
        mapping: KAFKA_HEADER_MAPPING,
        validatePayload: (d) => operation.spec.validatePayload(d),
        validateHeaders: (d) => operation.spec.validateHeaders(d),
      },
      options,
      host.logger,
    );
  }

  /** Connects, subscribes and resolves once the consumer has joined its group. */
  async start(): Promise<void> {
    const consumer = this.host.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: this.options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: this.heartbeatIntervalMs,
      rebalanceTimeout: this.options.rebalanceTimeoutMs ?? 60_000,
      // Like the Java client's fetch.max.wait.ms: an idle fetch returns within 0.5 s, so close() is quick.
      maxWaitTimeInMs: 500,
      readUncommitted: false,
      ...this.options.config,
    });
    this.consumer = consumer;
    const joined = deferred<void>();
    const removeJoin = consumer.on(consumer.events.GROUP_JOIN, () => joined.resolve());
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      this.host.logger.error(
        { groupId: this.groupId, restart, err: errorMessage(error) },
        restart ? 'kafka consumer crashed; restarting' : 'kafka consumer stopped after an error',
      );
      if (!restart) joined.reject(error);
    });
    try {
      await consumer.connect();
      await subscribeWhenReady(consumer, this.target.topics, this.options.fromBeginning ?? false, this.host.logger);
      await consumer.run({
        autoCommit: true,
        autoCommitInterval: this.options.commitIntervalMs ?? 5_000,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: Math.max(1, this.options.concurrency ?? 1),
        eachBatch: (payload) => this.batch(payload),
      });
      await joined.promise;
    } catch (error) {
      await consumer.disconnect().catch(() => undefined);
      throw error;
    } finally {
      removeJoin();
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.abort.abort();
      this.host.forget(this);
      await this.consumer?.disconnect();
    })();
    return this.closing;
  }

  private async batch({
    batch,
    resolveOffset,
    heartbeat,
    commitOffsetsIfNecessary,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    const beat = setInterval(() => void heartbeat().catch(() => undefined), this.heartbeatIntervalMs);
    try {
      for (const record of batch.messages) {
        if (!isRunning() || isStale() || this.abort.signal.aborted) break;
        if (this.options.ackMode === 'before-handler') {
          resolveOffset(record.offset);
          const next = (BigInt(record.offset) + 1n).toString();
          await commitOffsetsIfNecessary({
            topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
          });
        }
        const settled = await this.host.inFlight.track(this.one(batch.topic, batch.partition, record));
        if (!settled) break;
        resolveOffset(record.offset);
        await commitOffsetsIfNecessary();
        await heartbeat();
      }
    } finally {
      clearInterval(beat);
    }
  }

  /** Runs one record through the pipeline; false when it must be left for a later delivery. */
  /** Runs one record through the pipeline (in a CONSUMER span when tracing is on); false when it must be left for a later delivery. */
  private one(topic: string, partition: number, record: KafkaMessage): Promise<boolean> {
    const headers = headersFromKafka(record.headers);
    const telemetry = this.host.telemetry;
    if (!telemetry.active) return this.handleRecord(topic, partition, record, headers, undefined);
    const prefix = KAFKA_HEADER_MAPPING.prefix;
    return telemetry.process(
      topic,
      {
        id: headers[`${prefix}id`],
        traceparent: headers[`${prefix}traceparent`],
        tracestate: headers[`${prefix}tracestate`],
        correlationid: headers[`${prefix}correlationid`],
      },
      // Built only when the span records or metrics are on.
      () => ({
        'messaging.destination.partition.id': String(partition),
        'messaging.kafka.offset': Number(record.offset),
        'messaging.consumer.group.name': this.groupId,
        'messaging.kafka.message.key': record.key === null ? undefined : record.key.toString('utf8'),
      }),
      (span) => this.handleRecord(topic, partition, record, headers, span),
    );
  }

  private async handleRecord(
    topic: string,
    partition: number,
    record: KafkaMessage,
    headers: Record<string, string>,
    span: ProcessSpan | undefined,
  ): Promise<boolean> {
    const address = this.target.addressOf(topic, headers);
    const parameters = !this.operation.channel.hasParameters
      ? {}
      : address === undefined
        ? undefined
        : this.operation.spec.parseAddress(address);
    const outcome: Outcome = await this.pipeline.process(
      { body: record.value ?? EMPTY, headers, deliveryAttempt: 1 },
      (decoded, attempt) =>
        this.handle(
          decoded,
          {
            envelope: decoded.envelope,
            headers: decoded.headers,
            key: decodeKey(record.key, this.operation.key),
            rawKey: record.key,
            topic,
            partition,
            offset: record.offset,
            timestamp: record.timestamp,
            parameters,
            attempt,
            signal: this.abort.signal,
            operation: this.operation.spec.operation,
          },
          record,
        ),
      'in-process',
      this.abort.signal,
      span,
    );
    if (outcome.action === 'ack') return true;
    if (outcome.action === 'dead-letter') {
      await this.deadLetter(topic, partition, record, outcome.reason, outcome.error, outcome.attempts);
      await this.target
        .deadLettered?.({
          headers,
          key: record.key,
          parameters,
          reason: outcome.reason,
          error: outcome.error,
          attempts: outcome.attempts,
        })
        .catch((error: unknown) =>
          this.host.logger.warn(
            { operation: this.operation.spec.operation, err: errorMessage(error) },
            'could not tell the requester',
          ),
        );
      return true;
    }
    return false;
  }

  private async deadLetter(
    topic: string,
    partition: number,
    record: KafkaMessage,
    reason: DeadLetterReason,
    error: string,
    attempts: number,
  ): Promise<void> {
    const destination = this.options.deadLetterTopic === undefined ? `${topic}.dlq` : this.options.deadLetterTopic;
    if (destination === false) {
      this.host.logger.error(
        { topic, partition, offset: record.offset, reason, err: error },
        'event dropped (dead-lettering is off)',
      );
      return;
    }
    const headers: IHeaders = {
      ...record.headers,
      ...deadLetterHeaders(reason, error, attempts, this.operation.spec.operation),
      'x-codegen-original-topic': topic,
      'x-codegen-original-partition': String(partition),
      'x-codegen-original-offset': record.offset,
      'x-codegen-original-timestamp': record.timestamp,
      'x-codegen-consumer-group': this.groupId,
    };
    await this.host.sender.send(destination, { key: record.key, value: record.value, headers });
  }
}

const SUBSCRIBE_POLICY: RetryPolicy = retryPolicy({
  maxAttempts: 30,
  initialDelayMs: 100,
  maxDelayMs: 1_000,
  multiplier: 2,
  jitter: 0.2,
});

/**
 * Subscribes, waiting for topics the broker is still creating (auto-created on first use: their
 * metadata answers "unknown topic" for a moment). Call declareTopology() to get the partitions and
 * replicas of the document instead of the broker's defaults.
 */
async function subscribeWhenReady(
  consumer: Consumer,
  topics: ReadonlyArray<string | RegExp>,
  fromBeginning: boolean,
  logger: Logger,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await consumer.subscribe({ topics: [...topics], fromBeginning });
      return;
    } catch (error) {
      if (!isRetriable(error) || attempt >= SUBSCRIBE_POLICY.maxAttempts) throw error;
      const delayMs = backoffDelay(SUBSCRIBE_POLICY, attempt);
      logger.debug(
        { topics: topics.map(String), attempt, delayMs, err: errorMessage(error) },
        'kafka topics not ready; subscribing again',
      );
      await sleep(delayMs);
    }
  }
}

// ---- request/reply ---------------------------------------------------------------------------------

/** A reply as it arrived, decoded by the request that waits for it. */
interface RawReply {
  headers: Record<string, string>;
  body: Buffer | null;
  topic: string;
  partition: number;
  offset: string;
}

/**
 * The requester's side: one consumer per reply topic, in a group of its own (so every instance sees
 * every reply and keeps those whose correlation id it waits for), positioned at the end of the topic
 * before the first request goes out. It commits no offsets, so the broker forgets the group once it leaves.
 */
class ReplyListener {
  readonly replies = new PendingReplies<RawReply>();
  private consumer: Consumer | undefined;
  private starting: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: () => Promise<Admin>,
    readonly topic: string,
    private readonly groupId: string,
    private readonly logger: Logger,
  ) {}

  ready(): Promise<void> {
    this.starting ??= this.start().catch((error) => {
      this.starting = undefined;
      throw error;
    });
    return this.starting;
  }

  private async start(): Promise<void> {
    const admin = await this.admin();
    await ensureTopics(admin, [{ topic: this.topic }], this.logger);
    const ends = await admin.fetchTopicOffsets(this.topic);
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 100,
      readUncommitted: false,
    });
    this.consumer = consumer;
    await consumer.connect();
    await subscribeWhenReady(consumer, [this.topic], false, this.logger);
    const joined = deferred<void>();
    const remove = consumer.on(consumer.events.GROUP_JOIN, () => joined.resolve());
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        const headers = headersFromKafka(message.headers);
        const correlationId = headers[CORRELATION_HEADER];
        if (correlationId !== undefined)
          this.replies.resolve(correlationId, {
            headers,
            body: message.value,
            topic,
            partition,
            offset: message.offset,
          });
      },
    });
    await joined.promise;
    remove();
    for (const { partition, offset } of ends) consumer.seek({ topic: this.topic, partition, offset });
  }

  async close(): Promise<void> {
    this.replies.rejectAll(new ClientClosedError());
    await this.starting?.catch(() => undefined);
    await this.consumer?.disconnect();
  }
}

// ---- topology ----------------------------------------------------------------------------------------

/** Creates the topics that do not exist yet; reports the others (a partition count is never changed). */
async function ensureTopics(admin: Admin, topics: ITopicConfig[], logger: Logger): Promise<TopologyReport> {
  const report: TopologyReport = { created: [], existing: [], mismatched: [] };
  const present = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !present.has(t.topic));
  const existing = topics.filter((t) => present.has(t.topic));
  if (missing.length > 0) {
    const created = await admin.createTopics({ topics: missing, waitForLeaders: true });
    if (created) report.created.push(...missing.map((t) => t.topic));
    else {
      // Someone created some of them meanwhile: the rest exists now too.
      report.existing.push(...missing.map((t) => t.topic));
    }
  }
  if (existing.length > 0) {
    const metadata = await admin.fetchTopicMetadata({ topics: existing.map((t) => t.topic) });
    for (const topic of existing) {
      report.existing.push(topic.topic);
      const actual = metadata.topics.find((t) => t.name === topic.topic)?.partitions.length ?? 0;
      const expected = topic.numPartitions ?? -1;
      if (expected > 0 && actual !== expected) {
        report.mismatched.push({ topic: topic.topic, expectedPartitions: expected, actualPartitions: actual });
        logger.warn(
          { topic: topic.topic, expectedPartitions: expected, actualPartitions: actual },
          'kafka topic exists with another partition count (left unchanged)',
        );
      }
    }
  }
  return report;
}

// ---- the runtime -------------------------------------------------------------------------------------

/**
 * Everything the typed client does, in terms of operations: publish, subscribe, request, transact,
 * declare topics, close. One long-lived producer, connected on first use; consumers as subscribed.
 */
export class KafkaRuntime {
  readonly kafka: Kafka;
  private readonly options: KafkaRuntimeOptions;
  private readonly producer: LazyProducer;
  private readonly sender: BatchingSender;
  private readonly consumers = new Set<KafkaConsumerRunner>();
  private readonly replyListeners = new Map<string, ReplyListener>();
  private readonly inFlight = new InFlight();
  private readonly lifecycle = new Lifecycle();
  /** OpenTelemetry traces and metrics when @opentelemetry/api is installed (loaded once, in the background). */
  private readonly telemetry: Promise<Telemetry>;
  /** The same, once loaded (publishes then skip an await). */
  private loadedTelemetry: Telemetry | undefined;
  private transactional: LazyProducer | undefined;
  private transactions: Promise<unknown> = Promise.resolve();
  private adminClient: Promise<Admin> | undefined;

  constructor(
    options: KafkaRuntimeOptions,
    private readonly operations: ReadonlyArray<KafkaOperation<unknown, unknown, unknown>>,
  ) {
    this.options = options;
    if (!options.kafka && options.brokers.length === 0)
      throw new TypeError(
        'kafka client: give `brokers` (the document names no kafka server) or an existing `kafka` instance',
      );
    this.kafka =
      options.kafka ??
      new Kafka({
        logLevel: logLevel.INFO,
        logCreator: logCreator(options.logger),
        ...options.client,
        clientId: options.clientId,
        brokers: [...options.brokers],
      });
    const producerOptions = options.producer;
    const idempotent = producerOptions.idempotent ?? false;
    this.producer = new LazyProducer(() => {
      const producer = this.kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: true,
        ...producerOptions.config,
        idempotent,
        ...(idempotent ? { maxInFlightRequests: 1 } : {}),
      });
      producer.on(producer.events.DISCONNECT, () => this.producer.reset());
      return producer;
    });
    this.telemetry = Telemetry.create('kafka', options.telemetry)
      .catch(() => Telemetry.disabled('kafka'))
      .then((telemetry) => (this.loadedTelemetry = telemetry));
    this.sender = new BatchingSender(
      () => this.producer.get(),
      {
        acks: idempotent ? -1 : (producerOptions.acks ?? -1),
        timeoutMs: producerOptions.timeoutMs ?? 30_000,
        compression: producerOptions.compression,
        deliveryTimeoutMs: producerOptions.deliveryTimeoutMs ?? 120_000,
        maxBatchSize: Math.max(1, producerOptions.maxBatchSize ?? 1_000),
        maxBatchBytes: Math.max(1, producerOptions.maxBatchBytes ?? 512 * 1024),
        lingerMs: Math.max(0, producerOptions.lingerMs ?? 0),
      },
      options.logger,
    );
  }

  /** The topic of a channel: the `topics` option, else the document's, with the prefix. */
  fixedTopic(channel: KafkaChannel): string | undefined {
    const override = this.options.topics[channel.name];
    if (override !== undefined) return override;
    return channel.topic === undefined ? undefined : this.options.topicPrefix + channel.topic;
  }

  private topicFor(channel: KafkaChannel, address: string | undefined): string {
    const fixed = this.fixedTopic(channel);
    if (fixed !== undefined) return fixed;
    if (channel.fromAddress && address !== undefined) return this.options.topicPrefix + address;
    throw new TypeError(
      `kafka client: channel ${channel.name} has no topic in the document; give one with the \`topics\` option`,
    );
  }

  private assertOpen(): void {
    this.lifecycle.assertOpen();
  }

  /** Validates, builds the envelope and the Kafka record of one event. */
  private prepare<T, H, P>(
    operation: KafkaOperation<T, H, P>,
    payload: T,
    options: KafkaSendOptions<H, P>,
    extraHeaders?: Record<string, string>,
  ) {
    const validate = options.validate ?? this.options.validate;
    const spec = operation.spec;
    let address: string | undefined;
    if (operation.channel.hasParameters) {
      if (validate) {
        const checked = spec.validateParameters(options.parameters);
        if (!checked.ok)
          throw new EventValidationError('invalid-address', `channel parameters of ${spec.operation}`, checked.issues);
      }
      address = spec.buildAddress(options.parameters as P);
    }
    const topic = this.topicFor(operation.channel, address);
    const outbound = prepareOutbound(this.outboundSpec(operation, spec.eventType(payload)), payload, options, {
      source: this.options.source,
      validate,
    });
    const headers: IHeaders = outbound.headers;
    if (address !== undefined && !(operation.channel.fromAddress && this.fixedTopic(operation.channel) === undefined))
      headers[ADDRESS_HEADER] = address;
    if (extraHeaders) Object.assign(headers, extraHeaders);
    const message: Message = {
      key: encodeKey(options.key, operation.key, validate, spec.operation),
      value: toBuffer(outbound.body),
      headers,
    };
    if (options.partition !== undefined) message.partition = options.partition;
    return { topic, message, envelope: outbound.envelope };
  }

  private readonly outboundSpecs = new WeakMap<object, Map<string, OutboundSpec<unknown, unknown>>>();

  /** The producer-side spec of an operation for one CloudEvents type (made once, used for every event). */
  private outboundSpec<T, H, P>(operation: KafkaOperation<T, H, P>, type: string): OutboundSpec<T, H> {
    let byType = this.outboundSpecs.get(operation);
    if (!byType) this.outboundSpecs.set(operation, (byType = new Map()));
    let spec = byType.get(type);
    if (!spec) {
      const { spec: operationSpec } = operation;
      spec = {
        operation: operationSpec.operation,
        type,
        contentType: operationSpec.contentType,
        mapping: KAFKA_HEADER_MAPPING,
        validatePayload: (data) => operationSpec.validatePayload(data),
        validateHeaders: (data) => operationSpec.validateHeaders(data),
      };
      byType.set(type, spec);
    }
    return spec as OutboundSpec<T, H>;
  }

  /** Publishes one event and resolves once the broker acknowledged it. */
  async publish<T, H, P>(
    operation: KafkaOperation<T, H, P>,
    payload: T,
    options: KafkaSendOptions<H, P>,
  ): Promise<PublishedEvent> {
    this.assertOpen();
    const telemetry = this.loadedTelemetry ?? (await this.telemetry);
    if (!telemetry.active) return this.send(operation, payload, options);
    // A PRODUCER span; its trace context goes into the envelope unless the caller gave one.
    const id = options.id ?? randomUUID();
    const attributes = () => ({
      'messaging.kafka.message.key':
        typeof options.key === 'string' || typeof options.key === 'number' ? String(options.key) : undefined,
    });
    return telemetry.publish(
      this.destinationName(operation.channel),
      { id, correlationId: options.correlationId },
      attributes,
      (trace) =>
        this.send(
          operation,
          payload,
          options.traceparent === undefined ? { ...options, id, ...trace } : { ...options, id },
        ),
    );
  }

  private async send<T, H, P>(
    operation: KafkaOperation<T, H, P>,
    payload: T,
    options: KafkaSendOptions<H, P>,
  ): Promise<PublishedEvent> {
    const { topic, message, envelope } = this.prepare(operation, payload, options);
    await this.sender.send(topic, message);
    return { id: envelope.id, topic, envelope };
  }

  /** The topic for traces: the fixed topic, or the address template of a topic built from parameters. */
  private destinationName(channel: KafkaChannel): string {
    return this.fixedTopic(channel) ?? `${this.options.topicPrefix}${channel.name}`;
  }

  /**
   * Runs `work` in a Kafka transaction: its events become visible to `read_committed` consumers
   * all together when it resolves, and never when it throws (the transaction is aborted).
   * Transactions of one client run one after the other.
   */
  transaction<R>(work: (sink: EventSink) => Promise<R>): Promise<R> {
    this.assertOpen();
    const run = this.transactions.then(() => this.runTransaction(work));
    this.transactions = run.catch(() => undefined);
    return run;
  }

  private async runTransaction<R>(work: (sink: EventSink) => Promise<R>): Promise<R> {
    this.transactional ??= new LazyProducer(() =>
      this.kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: true,
        ...this.options.producer.config,
        transactionalId: this.options.transactionalId ?? `${this.options.clientId}-${randomUUID()}`,
        idempotent: true,
        maxInFlightRequests: 1,
      }),
    );
    const producer = await this.transactional.get();
    const transaction: Transaction = await producer.transaction();
    let open = true;
    const sink: EventSink = async (operation, payload, options) => {
      if (!open) throw new Error('the transaction is already finished');
      const { topic, message, envelope } = this.prepare(operation, payload, options);
      await transaction.send({
        topic,
        messages: [message],
        acks: -1,
        timeout: this.options.producer.timeoutMs ?? 30_000,
      });
      return { id: envelope.id, topic, envelope };
    };
    let result: R;
    try {
      result = await work(sink);
    } catch (error) {
      open = false;
      await transaction
        .abort()
        .catch((abortError: unknown) =>
          this.options.logger.error({ err: errorMessage(abortError) }, 'kafka transaction abort failed'),
        );
      throw error;
    }
    open = false;
    try {
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw new PublishError(`kafka transaction not committed: ${errorMessage(error)}`, { cause: error });
    }
    return result;
  }

  /** Starts a consumer for a receive operation; resolves once it has joined its group. */
  async subscribe<T, H, P, K, C, R>(
    operation: KafkaOperation<T, H, P>,
    handler: KafkaHandler<T, H, K, C, R>,
    options: KafkaConsumerOptions & { parameters?: readonly P[] },
    reply?: KafkaReplySpec<R>,
  ): Promise<KafkaSubscription> {
    this.assertOpen();
    const merged: KafkaConsumerOptions & { parameters?: readonly P[] } = { ...this.options.consumer, ...options };
    const channel = operation.channel;
    const fixed = this.fixedTopic(channel);
    const prefix = this.options.topicPrefix;
    let topics: Array<string | RegExp>;
    if (fixed !== undefined) topics = [fixed];
    else if (channel.fromAddress && operation.spec.address !== null) {
      topics = merged.parameters?.length
        ? merged.parameters.map((p) => prefix + operation.spec.buildAddress(p))
        : [addressPattern(operation.spec.address, prefix)];
    } else
      throw new TypeError(
        `kafka client: channel ${channel.name} has no topic in the document; give one with the \`topics\` option`,
      );
    const target: ConsumerTarget = {
      groupId: merged.groupId ?? operation.groupId ?? `${this.options.clientId}.${operation.spec.operation}`,
      topics,
      addressOf: (topic, headers) => {
        if (!channel.hasParameters) return undefined;
        if (fixed === undefined && topic.startsWith(prefix)) return topic.slice(prefix.length);
        return headers[ADDRESS_HEADER];
      },
      deadLettered: reply
        ? (failure) => this.sendFailureReply(operation.spec.operation, reply as KafkaReplySpec<unknown>, failure)
        : undefined,
    };
    const handle = async (
      decoded: DecodedEvent<unknown, unknown>,
      context: KafkaEventContext<unknown, unknown, unknown>,
      record: KafkaMessage,
    ) => {
      const result = await handler(decoded.payload as T, context as KafkaEventContext<H, K, C>);
      if (reply)
        await this.sendReply(
          operation.spec.operation,
          reply,
          result,
          decoded.envelope,
          headersFromKafka(record.headers),
          record.key,
          context.parameters,
        );
    };
    const host: ConsumerHost = {
      kafka: this.kafka,
      sender: this.sender,
      telemetry: await this.telemetry,
      logger: this.options.logger,
      signal: this.lifecycle.signal,
      inFlight: this.inFlight,
      forget: (r) => this.consumers.delete(r),
    };
    const runner = new KafkaConsumerRunner(
      host,
      operation as KafkaOperation<unknown, unknown, unknown>,
      target,
      handle,
      merged,
    );
    this.consumers.add(runner);
    try {
      await runner.start();
    } catch (error) {
      this.consumers.delete(runner);
      throw error;
    }
    return runner;
  }

  /** The responder's side of request/reply: the handler's result goes to the request's reply topic. */
  private async sendReply<R>(
    operation: string,
    reply: KafkaReplySpec<R>,
    payload: R,
    request: CloudEventAttributes,
    headers: Record<string, string>,
    key: Buffer | null,
    parameters: unknown,
  ): Promise<void> {
    const topic = this.replyDestination(reply as KafkaReplySpec<unknown>, headers, parameters);
    if (!topic)
      throw new Error(`the request carries no reply topic (header ${reply.replyToHeader}) and the document names none`);
    const outbound = prepareOutbound(
      {
        operation: `${operation} reply`,
        type: reply.eventType(payload),
        contentType: reply.contentType,
        mapping: KAFKA_HEADER_MAPPING,
        validatePayload: (data) => reply.validatePayload(data),
        validateHeaders: (data) => ({ ok: true, value: data as Record<string, string> }),
      },
      payload,
      // The reply continues the trace: the responder's CONSUMER span when traced, else the request's context.
      {
        correlationId: request.correlationid ?? request.id,
        ...(this.loadedTelemetry ?? Telemetry.disabled('kafka')).replyTraceContext(request),
      },
      { source: this.options.source, validate: this.options.validate },
    );
    await this.sender.send(topic, { key, value: toBuffer(outbound.body), headers: outbound.headers });
  }

  /** Tells a requester at once that no reply will come (empty body, the dead-letter headers), rather than letting it time out. */
  private async sendFailureReply(
    operation: string,
    reply: KafkaReplySpec<unknown>,
    failure: DeadLetteredRecord,
  ): Promise<void> {
    const correlationId = failure.headers[CORRELATION_HEADER] ?? failure.headers[`${KAFKA_HEADER_MAPPING.prefix}id`];
    const topic = this.replyDestination(reply, failure.headers, failure.parameters);
    if (correlationId === undefined || topic === undefined) return;
    await this.sender.send(topic, {
      key: failure.key,
      value: null,
      headers: {
        ...deadLetterHeaders(failure.reason, failure.error, failure.attempts, operation),
        [CORRELATION_HEADER]: correlationId,
      },
    });
  }

  /** Where a responder sends its reply: the request's reply-to header, else the reply channel of the document. */
  private replyDestination(
    reply: KafkaReplySpec<unknown>,
    headers: Record<string, string>,
    parameters: unknown,
  ): string | undefined {
    const requested = headers[reply.replyToHeader];
    if (requested) return requested;
    if (reply.topic !== undefined) return this.options.topicPrefix + reply.topic;
    if (reply.address !== undefined && parameters !== undefined)
      return this.options.topicPrefix + fillAddress(reply.address, parameters);
    return undefined;
  }

  /**
   * Sends a request and resolves with its validated reply; rejects with ReplyTimeoutError when none
   * comes in time, with RequestFailedError when the responder answered that it could not reply.
   */
  async request<T, H, P, R>(
    operation: KafkaOperation<T, H, P>,
    reply: KafkaReplySpec<R>,
    payload: T,
    options: KafkaSendOptions<H, P> & { timeoutMs?: number },
  ): Promise<KafkaReply<R>> {
    this.assertOpen();
    const telemetry = this.loadedTelemetry ?? (await this.telemetry);
    if (!telemetry.active) return this.ask(operation, reply, payload, options);
    // A PRODUCER span that lasts until the reply came; the responder's CONSUMER span is its child.
    const id = options.id ?? randomUUID();
    const attributes = () => ({
      'messaging.kafka.message.key':
        typeof options.key === 'string' || typeof options.key === 'number' ? String(options.key) : undefined,
    });
    return telemetry.publish(
      this.destinationName(operation.channel),
      { id, correlationId: options.correlationId },
      attributes,
      (trace) =>
        this.ask(
          operation,
          reply,
          payload,
          options.traceparent === undefined ? { ...options, id, ...trace } : { ...options, id },
        ),
    );
  }

  private async ask<T, H, P, R>(
    operation: KafkaOperation<T, H, P>,
    reply: KafkaReplySpec<R>,
    payload: T,
    options: KafkaSendOptions<H, P> & { timeoutMs?: number },
  ): Promise<KafkaReply<R>> {
    const replyTopic = this.replyTopicFor(operation, reply, options.parameters);
    const listener = this.replyListener(replyTopic);
    await listener.ready();
    const correlationId = options.correlationId ?? randomUUID();
    const { topic, message } = this.prepare(
      operation,
      payload,
      { ...options, correlationId },
      { [reply.replyToHeader]: replyTopic },
    );
    const pipeline = new ConsumerPipeline<unknown, Record<string, string>>(
      {
        operation: operation.spec.operation,
        mapping: KAFKA_HEADER_MAPPING,
        validatePayload: (data) => reply.validatePayload(data),
        validateHeaders: (data) => ({ ok: true, value: data as Record<string, string> }),
      },
      { validate: options.validate ?? this.options.validate, idempotencyStore: false },
    );
    const answer = listener.replies.wait(
      correlationId,
      operation.spec.operation,
      options.timeoutMs ?? this.options.requestTimeoutMs,
    );
    // The send can outlast the timeout; its rejection is read after the send, never left unhandled meanwhile.
    answer.catch(() => undefined);
    try {
      await this.sender.send(topic, message);
    } catch (error) {
      listener.replies.reject(correlationId, error);
    }
    const raw = await answer;
    const failure = raw.headers['x-codegen-error'];
    if (failure !== undefined)
      throw new RequestFailedError(
        operation.spec.operation,
        raw.headers['x-codegen-dead-letter-reason'] ?? 'handler-failed',
        failure,
      );
    const decoded = pipeline.decode({ body: raw.body ?? new Uint8Array(0), headers: raw.headers, deliveryAttempt: 1 });
    if (!decoded.ok)
      throw new EventValidationError(decoded.reason, `reply to ${operation.spec.operation}`, [
        { pointer: '', rule: decoded.reason, message: decoded.error },
      ]);
    const { payload: replyPayload, envelope, headers } = decoded.value;
    return {
      payload: replyPayload as R,
      envelope,
      headers,
      topic: raw.topic,
      partition: raw.partition,
      offset: raw.offset,
    };
  }

  private replyTopicFor<T, H, P>(
    operation: KafkaOperation<T, H, P>,
    reply: KafkaReplySpec<unknown>,
    parameters: P | undefined,
  ): string {
    if (this.options.replyTopic !== undefined) return this.options.replyTopic;
    if (reply.topic !== undefined) return this.options.topicPrefix + reply.topic;
    if (reply.address !== undefined && parameters !== undefined)
      return this.options.topicPrefix + fillAddress(reply.address, parameters);
    const address =
      operation.channel.hasParameters && parameters !== undefined ? operation.spec.buildAddress(parameters) : undefined;
    return `${this.topicFor(operation.channel, address)}.reply`;
  }

  private replyListener(topic: string): ReplyListener {
    let listener = this.replyListeners.get(topic);
    if (!listener) {
      listener = new ReplyListener(
        this.kafka,
        () => this.admin(),
        topic,
        `${this.options.clientId}.replies.${randomUUID()}`,
        this.options.logger,
      );
      this.replyListeners.set(topic, listener);
    }
    return listener;
  }

  private admin(): Promise<Admin> {
    this.adminClient ??= (async () => {
      const admin = this.kafka.admin();
      try {
        await admin.connect();
      } catch (error) {
        this.adminClient = undefined;
        throw error;
      }
      return admin;
    })();
    return this.adminClient;
  }

  /**
   * Creates the document's topics (partitions, replicas and topic configuration from the bindings),
   * the dead-letter topics of its consumers and the reply topics of its requests. Idempotent.
   */
  async declareTopology(options: { deadLetter?: boolean } = {}): Promise<TopologyReport> {
    this.assertOpen();
    const wanted = new Map<string, ITopicConfig>();
    const add = (topic: string, channel: KafkaChannel) => {
      if (wanted.has(topic)) return;
      wanted.set(topic, {
        topic,
        numPartitions: channel.partitions ?? -1,
        replicationFactor: channel.replicas ?? -1,
        configEntries: [...channel.configEntries],
      });
    };
    for (const operation of this.operations) {
      const channel = operation.channel;
      const fixed = this.fixedTopic(channel);
      const topics =
        fixed !== undefined
          ? [fixed]
          : channel.fromAddress
            ? channel.enumeratedTopics.map((t) => this.options.topicPrefix + t)
            : [];
      for (const topic of topics) {
        add(topic, channel);
        if (operation.spec.action === 'receive' && options.deadLetter !== false) {
          const dlq = this.options.consumer.deadLetterTopic;
          if (dlq !== false) add(dlq ?? `${topic}.dlq`, { ...channel, configEntries: [] });
        }
        if (operation.spec.action === 'send' && operation.reply) {
          const reply = operation.reply;
          // A reply address with parameters is only known per request: the listener creates it then.
          const replyTopic =
            this.options.replyTopic ??
            (reply.topic !== undefined
              ? this.options.topicPrefix + reply.topic
              : reply.address === undefined
                ? `${topic}.reply`
                : undefined);
          if (replyTopic !== undefined) add(replyTopic, { ...channel, configEntries: [] });
        }
      }
    }
    return ensureTopics(await this.admin(), [...wanted.values()], this.options.logger);
  }

  /**
   * Closes gracefully: consumers stop fetching, handlers in progress finish and their offsets are
   * committed, waiting requests fail with ClientClosedError, queued events are sent, then every
   * connection is closed. Safe to call more than once.
   */
  close(): Promise<void> {
    return this.lifecycle.close(async () => {
      await shutdownGracefully({
        // Closing aborted the lifecycle signal: consumers take no further record and retry waits end.
        stopIntake: async () => undefined,
        drain: () => this.inFlight.drain(),
        timeoutMs: this.options.closeTimeoutMs,
        logger: this.options.logger,
        release: async () => {
          // Leaving the group commits the offsets of every handled record.
          await Promise.allSettled([...this.consumers].map((c) => c.close()));
          await Promise.allSettled([...this.replyListeners.values()].map((l) => l.close()));
          await this.sender.flush(Date.now() + this.options.closeTimeoutMs);
          await this.transactions;
          await Promise.allSettled([
            this.producer.disconnect(),
            this.transactional?.disconnect(),
            this.adminClient?.then((a) => a.disconnect()),
          ]);
        },
      });
    });
  }
}
