// The NATS client's option types: what the generated client passes (operation and reply descriptions),
// what users pass (client, publish, request and consumer options), and what handlers receive. Defaults
// are resolved once, in `settingsOf`.
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import type { StreamConfig } from '@nats-io/jetstream';
import type { SchemaRegistryOptions } from '../codec.js';
import type { ConsumerOptions } from '../consumer.js';
import type { CloudEventAttributes } from '../envelope.js';
import type { Logger } from '../logger.js';
import type { OperationSpec } from '../operation.js';
import type { PublishOptions } from '../producer.js';
import { retryPolicy, type RetryPolicy } from '../retry.js';
import type { TelemetryOptions } from '../telemetry.js';
import type { ValidationResult } from '../validation.js';
import type { SubjectCodec } from './message.js';

/**
 * `core`: plain NATS publish/subscribe. At-most-once: an event published while no subscriber listens,
 * or held by a subscriber that crashes, is lost. `jetstream`: events are stored in a stream, publishes are
 * confirmed, and a durable consumer acknowledges each event after its handler succeeded (at-least-once).
 */
export type DeliveryMode = 'core' | 'jetstream';

export type NatsOperationKind = 'publish' | 'request' | 'subscribe' | 'respond';

/** What the document says about one operation on NATS (see the generated client for the values). */
export interface NatsOperation<T, H, P> {
  spec: OperationSpec<T, H, P>;
  kind: NatsOperationKind;
  /** Subject filter of the channel (parameters as `*`), without the client's subject prefix; null when the document gives no address. */
  wildcard: string | null;
  subjects: SubjectCodec;
  /** Queue group from the `nats` operation binding (core mode); also the durable consumer name in JetStream mode. */
  queue?: string;
  /** Delivery mode fixed by the binding's `x-delivery`. */
  delivery?: DeliveryMode;
  /** Name of the stream holding the channel, before the client's stream prefix. */
  stream: string;
  /** Default durable consumer name. */
  durable: string;
}

/** Any operation, as the parts that do not look at payload, header or parameter types see it. */
export type AnyNatsOperation = NatsOperation<unknown, unknown, unknown>;

export function natsOperation<T, H, P>(
  spec: OperationSpec<T, H, P>,
  nats: Omit<NatsOperation<T, H, P>, 'spec'>,
): NatsOperation<T, H, P> {
  return { spec, ...nats };
}

/** What the document says about the reply of a request/reply operation. */
export interface NatsReplySpec<R> {
  operation: string;
  eventType(payload: R): string;
  contentType: string;
  validatePayload(data: unknown): ValidationResult<R>;
}

/** Options of the client factory. */
export interface NatsClientOptions {
  /** Servers to connect to (`host:port`, `nats://host:port`); default: the document's NATS servers. */
  servers?: string | string[];
  /** An existing connection to use instead of opening one; `close()` then leaves it open. */
  connection?: NatsConnection;
  /**
   * Anything else `connect()` accepts (credentials, TLS, name, ...). Defaults: reconnection on and unbounded
   * (`maxReconnectAttempts: -1`, `reconnectTimeWait: 1000`), `noAsyncTraces: true`.
   */
  connectionOptions?: Omit<NodeConnectionOptions, 'servers'>;
  /** Delivery mode of operations whose binding does not fix one (default `jetstream`). */
  mode?: DeliveryMode;
  /** Prepended to every subject (`staging.` → `staging.orders.eu.created`), e.g. to separate environments. */
  subjectPrefix?: string;
  /** Prepended to every stream name; default: the subject prefix in upper case with `.` turned to `_`. */
  streamPrefix?: string;
  /** Dead-letter subjects are `<subjectPrefix><deadLetterPrefix><subject>` (default `dlq.`). */
  deadLetterPrefix?: string;
  /** CloudEvents `source` of published events. */
  source?: string;
  /** Validate before publishing and on receipt (default true; false when the code was generated with validation off). */
  validate?: boolean;
  logger?: Logger;
  /**
   * Create missing streams and durable consumers when first used (default true). Off: they must exist
   * (created by `declareTopology()` or by operations), and streams are looked up by subject.
   */
  autoDeclare?: boolean;
  /**
   * Extra configuration for the streams this client creates (limits, storage, ...). On a cluster give
   * `num_replicas` (3 on three nodes): a stream of one replica is lost with its node. `num_replicas` is also
   * applied to the client's existing streams that have another count; the rest only to new streams.
   */
  stream?: Partial<Omit<StreamConfig, 'name' | 'subjects'>>;
  /** Defaults for every consumer of this client (each `onX` call may override them). */
  consumer?: NatsConsumerOptions;
  /** How long a JetStream publish waits for the stream's acknowledgement, per attempt (default 5000 ms). */
  publishTimeoutMs?: number;
  /**
   * Attempts of a JetStream publish that timed out or found no stream ready (a server restarting, a
   * reconnection, a stream leader being elected). Safe: the event id is the `Nats-Msg-Id`, so the stream
   * stores a retried event once. Default: 8 attempts, 250 ms → 4 s apart (about 16 s of waits: longer than
   * an election).
   */
  publishRetry?: Partial<RetryPolicy>;
  /**
   * Attempts of the requests that create or look up streams and durable consumers (`declareTopology()`,
   * `onX()`, the first publish on a channel) when they time out or meet a leader election. Default as
   * `publishRetry`.
   */
  topologyRetry?: Partial<RetryPolicy>;
  /** Default timeout of requests (default 5000 ms). */
  requestTimeoutMs?: number;
  /** Longest wait of `close()` for handlers and publishes in progress (default 30000 ms); events still in progress are redelivered later. */
  closeTimeoutMs?: number;
  /** OpenTelemetry spans and metrics, on when @opentelemetry/api is installed; `{ enabled: false }` turns them off. */
  telemetry?: TelemetryOptions;
  /**
   * The schema registry of Avro and Protobuf messages (Confluent REST API): bodies then carry the
   * schema id in the Confluent wire format, as on Kafka (docs/schemas.md). Without one, bodies are
   * bare Avro or Protobuf binary.
   */
  schemaRegistry?: SchemaRegistryOptions;
}

export interface NatsPublishOptions<H> extends PublishOptions<H> {
  /** Overrides the delivery mode for this publish. */
  mode?: DeliveryMode;
  /** Publish to this exact NATS subject instead of the channel's (no prefix added). */
  natsSubject?: string;
}

export interface NatsPublishResult {
  /** The event id (CloudEvents `id`, and `Nats-Msg-Id` in JetStream mode). */
  id: string;
  subject: string;
  mode: DeliveryMode;
  /** JetStream: the stream that stored the event, its sequence, and whether it was a duplicate within the window. */
  stream?: string;
  sequence?: number;
  duplicate?: boolean;
}

export interface NatsRequestOptions<H> extends PublishOptions<H> {
  /** How long to wait for the reply (default: the client's `requestTimeoutMs`). */
  timeoutMs?: number;
  /** Send the request to this exact NATS subject instead of the channel's (no prefix added). */
  natsSubject?: string;
}

export interface NatsReply<R> {
  payload: R;
  /** Application headers of the reply. */
  headers: Record<string, unknown>;
  /** The reply's CloudEvents attributes, when the responder sent them. */
  envelope?: CloudEventAttributes;
}

export interface NatsConsumerOptions extends ConsumerOptions {
  /** Overrides the delivery mode for this consumer. */
  mode?: DeliveryMode;
  /** Core mode: queue group (each event goes to one member). JetStream mode: the durable consumer name. */
  queue?: string;
  /** JetStream: the durable consumer's name (default: the queue, else the operation's name). */
  durable?: string;
  /** Subscribe to this exact NATS subject (may hold wildcards) instead of the channel's (no prefix added). */
  natsSubject?: string;
  /** JetStream: how long the server waits for an acknowledgement before redelivering (default 30000 ms). Long handlers keep their event with progress acknowledgements. */
  ackWaitMs?: number;
  /** JetStream: events fetched ahead of the handler (default 100, at least twice the concurrency). */
  prefetch?: number;
  /**
   * JetStream: how long each pull request lives (default 5000 ms, at least 1000). The server sends a heartbeat
   * every half of it; after two missed heartbeats the consumer pulls again, so a consumer whose consumer
   * leader died (a cluster node lost) resumes after about this long.
   */
  pullExpiresMs?: number;
  /** Where events that cannot be processed go (default `<subjectPrefix><deadLetterPrefix><subject>`). */
  deadLetterSubject?: string;
}

/** What a handler gets with the payload (the same shape as the RabbitMQ and Kafka targets' contexts). */
export interface NatsEventContext<H, P> {
  envelope: CloudEventAttributes;
  headers: H;
  /** The channel parameters, read back from the subject. */
  parameters: P;
  subject: string;
  /** 1 on the first delivery. */
  attempt: number;
  mode: DeliveryMode;
  /** JetStream stream sequence (undefined in core mode). */
  sequence?: number;
}

export type NatsHandler<T, H, P> = (payload: T, context: NatsEventContext<H, P>) => void | Promise<void>;
export type NatsResponder<T, H, P, R> = (payload: T, context: NatsEventContext<H, P>) => R | Promise<R>;

export interface NatsSubscription {
  readonly subject: string;
  readonly mode: DeliveryMode;
  /** JetStream: the stream and the durable consumer. */
  readonly stream?: string;
  readonly durable?: string;
  /** Resolves when the subscription has stopped (after `close()`, or when the connection closed). */
  readonly closed: Promise<void>;
  /** Stops taking events and waits for the handlers in progress. */
  close(): Promise<void>;
}

/** What the generated client knows from the document: the fallbacks of the client options. */
export interface TransportDefaults {
  servers: string[];
  source: string;
  name: string;
  validate: boolean;
}

/** The client options with every default applied, resolved once per client. */
export interface NatsSettings {
  validate: boolean;
  source: string;
  subjectPrefix: string;
  streamPrefix: string;
  deadLetterPrefix: string;
  autoDeclare: boolean;
  mode: DeliveryMode;
  publishTimeoutMs: number;
  publishRetry: RetryPolicy;
  topologyRetry: RetryPolicy;
  requestTimeoutMs: number;
  closeTimeoutMs: number;
  schemaRegistry: SchemaRegistryOptions | undefined;
}

/** About 16 s of waits in all: longer than a stream leader election on a cluster (4-8 s measured, docs/clusters.md). */
const RIDE_OUT_ELECTION: Partial<RetryPolicy> = { maxAttempts: 8, initialDelayMs: 250, maxDelayMs: 4000 };

export function settingsOf(options: NatsClientOptions, defaults: TransportDefaults): NatsSettings {
  const subjectPrefix = options.subjectPrefix ?? '';
  return {
    validate: options.validate ?? defaults.validate,
    source: options.source ?? defaults.source,
    subjectPrefix,
    streamPrefix: options.streamPrefix ?? subjectPrefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_'),
    deadLetterPrefix: options.deadLetterPrefix ?? 'dlq.',
    autoDeclare: options.autoDeclare !== false,
    mode: options.mode ?? 'jetstream',
    publishTimeoutMs: options.publishTimeoutMs ?? 5000,
    publishRetry: retryPolicy({ ...RIDE_OUT_ELECTION, ...options.publishRetry }),
    topologyRetry: retryPolicy({ ...RIDE_OUT_ELECTION, ...options.topologyRetry }),
    requestTimeoutMs: options.requestTimeoutMs ?? 5000,
    closeTimeoutMs: options.closeTimeoutMs ?? 30_000,
    schemaRegistry: options.schemaRegistry,
  };
}

/** The delivery mode of one call: its option, else the binding's `x-delivery`, else the client's. */
export function deliveryModeOf(
  settings: NatsSettings,
  operation: AnyNatsOperation,
  override?: DeliveryMode,
): DeliveryMode {
  return override ?? operation.delivery ?? settings.mode;
}

/** JetStream: events fetched ahead of the handler (at least twice the concurrency). */
export function prefetchOf(options: NatsConsumerOptions): number {
  return Math.max(options.prefetch ?? 100, Math.max(1, options.concurrency ?? 1) * 2);
}

/** JetStream: how long each pull request lives (at least the library's minimum of 1 s). */
export function pullExpiresOf(options: NatsConsumerOptions): number {
  return Math.max(1000, options.pullExpiresMs ?? 5000);
}
