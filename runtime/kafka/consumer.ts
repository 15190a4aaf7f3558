// Consuming: one kafkajs consumer per subscription, each record through the shared ConsumerPipeline,
// offsets resolved after the handler (or before it, at-most-once), failures dead-lettered.
import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { SchemaRegistryOptions } from '../codec.js';
import {
  ConsumerPipeline,
  deadLetterHeaders,
  inboundSpecOf,
  type DecodedEvent,
  type InFlight,
  type Outcome,
} from '../consumer.js';
import { deferred } from '../deferred.js';
import { errorMessage, type DeadLetterReason } from '../errors.js';
import type { Logger } from '../logger.js';
import { backoffDelay, retryPolicy, sleep, type RetryPolicy } from '../retry.js';
import type { ProcessSpan, Telemetry } from '../telemetry.js';
import { isRetriable } from './connection.js';
import { EMPTY_BODY, KAFKA_HEADER_MAPPING, decodeKey, headersFromKafka, traceContextOf } from './message.js';
import type {
  KafkaConsumerOptions,
  KafkaEventContext,
  KafkaHandler,
  KafkaOperation,
  KafkaSubscription,
} from './options.js';
import type { KafkaPublisher } from './publisher.js';

/** The client's parts every consumer works with. */
export interface ConsumerHost {
  kafka: Kafka;
  /** Sends the dead letters. */
  publisher: KafkaPublisher;
  logger: Logger;
  /** Aborted when the client is closing. */
  signal: AbortSignal;
  /** The handlers in progress, which close() waits for. */
  inFlight: InFlight;
  /** Where Avro and Protobuf consumers look schema ids up. */
  schemaRegistry?: SchemaRegistryOptions;
}

/** What a consumer reads and where its records come from. */
export interface ConsumerTarget {
  groupId: string;
  topics: Array<string | RegExp>;
  /** The channel address of a received record, for parameters. */
  addressOf(topic: string, headers: Record<string, string>): string | undefined;
  /** Called after a record was dead-lettered (a responder tells its requester here). */
  deadLettered?(failure: DeadLetteredRecord): Promise<void>;
}

/** A record given up on, with what a responder needs to tell its requester. */
export interface DeadLetteredRecord {
  headers: Record<string, string>;
  key: Buffer | null;
  parameters: unknown;
  reason: DeadLetterReason;
  error: string;
  attempts: number;
}

/** Runs the handler of one decoded record (and, for a responder, sends its reply). */
export type RecordHandler = (
  decoded: DecodedEvent<unknown, unknown>,
  context: KafkaEventContext<unknown, unknown, unknown>,
  record: KafkaMessage,
) => Promise<void>;

/** The record handler of a consumer without a reply: the typed handler, given the payload and context. */
export function recordHandler<T, H, K, C, R>(handler: KafkaHandler<T, H, K, C, R>): RecordHandler {
  return async (decoded, context) => {
    await handler(decoded.payload as T, context as KafkaEventContext<H, K, C>);
  };
}

/** The client's running consumers: started with the parts they share, closed together. */
export class KafkaConsumers {
  private readonly running = new Set<KafkaConsumerRunner>();

  constructor(
    private readonly host: ConsumerHost,
    private readonly telemetry: Promise<Telemetry>,
  ) {}

  /** Starts a consumer; resolves once it has joined its group. */
  async start(
    operation: KafkaOperation<unknown, unknown, unknown>,
    target: ConsumerTarget,
    handle: RecordHandler,
    options: KafkaConsumerOptions,
  ): Promise<KafkaSubscription> {
    const services: RunnerServices = {
      ...this.host,
      telemetry: await this.telemetry,
      forget: (runner) => this.running.delete(runner),
    };
    const runner = new KafkaConsumerRunner(services, operation, target, handle, options);
    this.running.add(runner);
    try {
      await runner.start();
    } catch (error) {
      this.running.delete(runner);
      throw error;
    }
    return runner;
  }

  /** Closes every consumer: leaving the group commits the offsets of every handled record. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.running].map((runner) => runner.close()));
  }
}

interface RunnerServices extends ConsumerHost {
  telemetry: Telemetry;
  forget(runner: KafkaConsumerRunner): void;
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
    private readonly host: RunnerServices,
    private readonly operation: KafkaOperation<unknown, unknown, unknown>,
    private readonly target: ConsumerTarget,
    private readonly handle: RecordHandler,
    private readonly options: KafkaConsumerOptions,
  ) {
    this.groupId = target.groupId;
    this.topics = target.topics;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 3_000;
    if (host.signal.aborted) this.abort.abort();
    else host.signal.addEventListener('abort', () => this.abort.abort(), { once: true });
    this.pipeline = new ConsumerPipeline(
      inboundSpecOf(operation.spec, KAFKA_HEADER_MAPPING, host.schemaRegistry),
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

  /** Runs one record through the pipeline (in a CONSUMER span when tracing is on); false when it must be left for a later delivery. */
  private one(topic: string, partition: number, record: KafkaMessage): Promise<boolean> {
    const headers = headersFromKafka(record.headers);
    const telemetry = this.host.telemetry;
    if (!telemetry.active) return this.handleRecord(topic, partition, record, headers, undefined);
    return telemetry.process(
      topic,
      traceContextOf(headers),
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
      { body: record.value ?? EMPTY_BODY, headers, deliveryAttempt: 1 },
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
    await this.host.publisher.send(destination, { key: record.key, value: record.value, headers });
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
export async function subscribeWhenReady(
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
