// The option types of the Kafka run-time, and what the generated client declares per channel and
// operation (its descriptors), what handlers receive and what publishes, requests and consumers return.
import type { CompressionTypes, ConsumerConfig, Kafka, KafkaConfig, ProducerConfig } from 'kafkajs';
import type { SchemaRegistryOptions } from '../codec.js';
import type { ConsumerOptions } from '../consumer.js';
import type { CloudEventAttributes } from '../envelope.js';
import type { Logger } from '../logger.js';
import type { OperationSpec } from '../operation.js';
import type { PublishOptions } from '../producer.js';
import type { TelemetryOptions } from '../telemetry.js';
import type { ValidationResult } from '../validation.js';

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

/**
 * The producer's settings. Idempotent by default: kafkajs numbers each partition's records, the broker
 * drops a retried request it already wrote (no duplicate after a lost acknowledgement, e.g. a leader
 * change), which needs `acks: -1` and one request in flight. `acks` 0 or 1 only with `idempotent: false`;
 * the client refuses the contradiction when it is made (TypeError).
 */
export type KafkaProducerOptions = KafkaProducerSettings & (IdempotentProducer | NonIdempotentProducer);

export interface IdempotentProducer {
  /** Idempotent producer (default): broker-side de-duplication of retried requests, one request in flight. */
  idempotent?: true;
  /** Always -1 (all in-sync replicas) for the idempotent producer. */
  acks?: -1;
}

export interface NonIdempotentProducer {
  /** Opted out: a request retried after a lost acknowledgement may be written twice. */
  idempotent: false;
  /** -1 (all in-sync replicas, default), 1 (leader only) or 0 (no acknowledgement). */
  acks?: -1 | 0 | 1;
}

export interface KafkaProducerSettings {
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

/**
 * How declareTopology() creates topics on a cluster, over what the document's bindings say (documents
 * often ask for `replicas: 1`, right for one broker; a cluster's operator wants 3 and `min.insync.replicas` 2).
 * Applies to topics it creates; an existing topic is left as it is.
 */
export interface KafkaTopologyOptions {
  /** Replication factor of every topic created (the channels', dead-letter and reply topics). */
  replicationFactor?: number;
  /** `min.insync.replicas` of every topic created: with `acks: -1`, a write needs this many replicas. */
  minInsyncReplicas?: number;
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

/** The client's options with their defaults filled in, as the generated client hands them over. */
export interface KafkaTransportOptions {
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
  topology: KafkaTopologyOptions;
  transactionalId: string | undefined;
  requestTimeoutMs: number;
  replyTopic: string | undefined;
  closeTimeoutMs: number;
  telemetry: TelemetryOptions | undefined;
  schemaRegistry: SchemaRegistryOptions | undefined;
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

/** What every request accepts, as the runtime sees it. */
export type KafkaAskOptions<H, P> = KafkaSendOptions<H, P> & { timeoutMs?: number };

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

/** What declareTopology() takes: whether to create dead-letter topics (default true), and replication for this call. */
export interface DeclareTopologyOptions extends KafkaTopologyOptions {
  deadLetter?: boolean;
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
