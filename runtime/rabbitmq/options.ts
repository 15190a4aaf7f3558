// The RabbitMQ client's option types (client, publish, request, consumer), each operation's route (what the
// generated client knows of it), what handlers get and what requests resolve with; and the client's
// settings: its options with every default resolved once.
import type { ChannelModel, ConsumeMessage, SocketOptions } from 'amqplib';
import type { SchemaRegistryOptions } from '../codec.js';
import type { ConsumerOptions } from '../consumer.js';
import type { CloudEventAttributes, HeaderMapping } from '../envelope.js';
import { silentLogger, type Logger } from '../logger.js';
import type { OperationSpec } from '../operation.js';
import type { PublishOptions } from '../producer.js';
import type { ConnectionEvent, ReconnectPolicy } from '../reconnect.js';
import type { TelemetryOptions } from '../telemetry.js';
import type { ValidationResult } from '../validation.js';
import { outboundMapping, type AmqpPublishOptions, type CloudEventsPrefix, type FixedProperties } from './message.js';
import { Naming, type QueueType, type ReceiveSource, type SendDestination } from './topology.js';

export interface ClientOptions {
  /**
   * Broker addresses (`amqp://user:password@host:5672/vhost`), tried in turn when connecting and
   * reconnecting, so one list serves a single broker and a cluster. Default: the document's amqp servers.
   */
  urls?: readonly string[];
  /**
   * An amqplib connection to use instead of opening one. The client opens its channels on it, does not
   * close it, and cannot reconnect it: once it closes, the client stops working.
   */
  connection?: ChannelModel;
  /** CloudEvents `source` of published events. Default: derived from the document title. */
  source?: string;
  /** Validate payloads, headers and parameters when publishing and receiving (default true; false when the code was generated with validation off). */
  validate?: boolean;
  /** A pino-compatible logger. Silent by default. */
  logger?: Logger;
  /** Stem of default queue and dead-letter names (`<serviceName>.<operation>`). Default: from the document title. */
  serviceName?: string;
  /** Put in front of every exchange and queue name the client uses (isolated test runs, tenants sharing a broker). */
  namePrefix?: string;
  /** Declare exchanges, queues and bindings (default true). Turn off where the topology is provisioned separately. */
  declareTopology?: boolean;
  /**
   * `x-queue-type` of every durable queue the client declares (its consumers' queues, their dead-letter
   * queues, the document's `is: queue` queues): `quorum` on a cluster. Default: each channel binding's
   * `x-queue-type`, else none (the virtual host's default type). Exclusive queues stay classic.
   */
  queueType?: QueueType;
  /** Exchange (direct) receiving dead letters, routed by queue name to `<queue>.dlq`. Default: `<serviceName>.dlx`. */
  deadLetterExchange?: string;
  /**
   * The schema registry of Avro and Protobuf messages (Confluent REST API): bodies then carry the
   * schema id in the Confluent wire format, as on Kafka (docs/schemas.md). Without one, bodies are
   * bare Avro or Protobuf binary.
   */
  schemaRegistry?: SchemaRegistryOptions;
  /** Header prefix of the CloudEvents attributes. Default `cloudEvents:`; both spellings are read. */
  cloudEventsPrefix?: CloudEventsPrefix;
  /** Longest wait of a publish for a connection and the broker's confirm (default 30 s). */
  publishTimeoutMs?: number;
  /** Longest wait for a reply (default 30 s). */
  replyTimeoutMs?: number;
  /** Longest wait of `close()` for handlers in progress (default 30 s). */
  closeTimeoutMs?: number;
  /** Events handled at once per consumer, i.e. its prefetch (default 32). */
  prefetch?: number;
  reconnect?: Partial<ReconnectPolicy>;
  /**
   * AMQP heartbeat the client asks for, in seconds (default 10; 0 turns it off): a node that stops
   * answering (paused, cut off) is noticed after about two of them and the client moves to another URL.
   * A URL's own `?heartbeat=` wins; the server may negotiate a shorter one.
   */
  heartbeatSeconds?: number;
  /** Passed to amqplib (TLS options). */
  socketOptions?: SocketOptions;
  /** Shown in the management UI and `rabbitmqctl list_connections`. Default: the service name. */
  connectionName?: string;
  /** Connection state changes: connected, disconnected, retrying, gave up. */
  onConnectionEvent?: (event: ConnectionEvent) => void;
  /** OpenTelemetry spans and metrics, on when @opentelemetry/api is installed; `{ enabled: false }` turns them off. */
  telemetry?: TelemetryOptions;
}

/** Routes: what the generated code knows about each operation. */
export interface SendRoute<T, H, P> {
  spec: OperationSpec<T, H, P>;
  destination: SendDestination;
  properties: FixedProperties;
}

export interface ReplySpec<R> {
  operation: string;
  eventType(payload: R): string;
  contentType: string;
  validatePayload(data: unknown): ValidationResult<R>;
  properties: FixedProperties;
  /** Where replies go when a request names no reply-to (a reply channel with an address). */
  destination?: SendDestination;
  /** The header the document names for the reply address (`$message.header#/replyTo`), read when the reply-to property is absent. */
  replyToHeader?: string;
}

export interface RequestRoute<T, H, P, R> extends SendRoute<T, H, P> {
  reply: ReplySpec<R>;
}

export interface ReceiveRoute<T, H, P> {
  spec: OperationSpec<T, H, P>;
  source: ReceiveSource;
  /** The operation binding's `ack` (false: at-most-once by default). */
  ack: boolean;
}

export interface RespondRoute<T, H, P, R> extends ReceiveRoute<T, H, P> {
  reply: ReplySpec<R>;
}

export interface SendOptions<H> extends PublishOptions<H>, AmqpPublishOptions {
  /** Longest wait for a connection and the broker's confirm (default: the client's `publishTimeoutMs`). */
  timeoutMs?: number;
}

export interface RequestOptions<H> extends PublishOptions<H>, AmqpPublishOptions {
  /** Longest wait for the reply (default: the client's `replyTimeoutMs`). */
  timeoutMs?: number;
}

/** What a publish resolves with once RabbitMQ confirmed the event. */
export interface Published {
  id: string;
  exchange: string;
  routingKey: string;
  envelope: CloudEventAttributes;
}

/** What a handler gets besides the payload. */
export interface MessageContext<H, P> {
  envelope: CloudEventAttributes;
  headers: H;
  /** The channel parameters, read from the routing key. */
  parameters: P;
  /** 1 on the first try; counts in-process retries and broker redeliveries. */
  attempt: number;
  /** RabbitMQ delivered this message before (to this or another consumer). */
  redelivered: boolean;
  exchange: string;
  routingKey: string;
  /** Aborted when the consumer stops: a long handler may end early (its event is then redelivered). */
  signal: AbortSignal;
  /** The amqplib message, for anything not covered above. */
  message: ConsumeMessage;
}

export type EventHandler<T, H, P> = (payload: T, context: MessageContext<H, P>) => void | Promise<void>;
/** A request's reply, as on the Kafka and NATS targets: the payload (validated) with its headers and envelope. */
export interface RabbitReply<R> {
  payload: R;
  /** Application headers of the reply. */
  headers: Record<string, unknown>;
  /** The reply's CloudEvents attributes, when the responder sent them. */
  envelope?: CloudEventAttributes;
}

export type RequestHandler<T, H, P, R> = (payload: T, context: MessageContext<H, P>) => R | Promise<R>;

export interface SubscribeOptions<P> extends Omit<ConsumerOptions, 'ackMode'> {
  /**
   * `after-handler` (default): acknowledge once the handler succeeded, at-least-once.
   * `before-handler` or `auto`: acknowledge as the handler starts, at-most-once.
   */
  ackMode?: ConsumerOptions['ackMode'] | 'auto';
  /** Consume (and declare, bound like the default one) this queue instead of `<serviceName>.<operation>`. */
  queue?: string;
  /**
   * A server-named, exclusive, auto-deleted queue: every instance gets every event (cache invalidation,
   * notifications). Dead letters still go to the operation's dead-letter queue.
   */
  exclusive?: boolean;
  /** Receive only events with these parameter values; the others are bound with `*`. */
  parameters?: Partial<P>;
  /** Publish failed events to the dead-letter exchange (default true); false rejects them instead. */
  deadLetter?: boolean;
}

/** A running consumer. */
export interface Subscription {
  readonly queue: string;
  /** Stops taking messages, waits for handlers in progress, closes the consumer's channel. */
  close(): Promise<void>;
}

/** What the generated client knows without the application: the document's defaults. */
export interface DocumentDefaults {
  serviceName: string;
  source: string;
  validate: boolean;
}

/** The client's options with every default filled in: what the parts of the client read. */
export interface Settings {
  logger: Logger;
  serviceName: string;
  /** Exchange and queue names behind `namePrefix`. */
  naming: Naming;
  namePrefix: string;
  /** What every event gets unless its publish says otherwise. */
  events: { source: string; validate: boolean };
  /** The outbound CloudEvents header mapping (`cloudEventsPrefix`). */
  mapping: HeaderMapping;
  declareTopology: boolean;
  /** The `queueType` option (undefined: each queue as the document says). */
  queueType: QueueType | undefined;
  /** Unprefixed; the naming applies when a consumer declares it. */
  deadLetterExchange: string;
  prefetch: number;
  publishTimeoutMs: number;
  replyTimeoutMs: number;
  closeTimeoutMs: number;
  schemaRegistry: SchemaRegistryOptions | undefined;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_PREFETCH = 32;

export function settingsOf(options: ClientOptions, document: DocumentDefaults): Settings {
  const serviceName = options.serviceName ?? document.serviceName;
  const namePrefix = options.namePrefix ?? '';
  return {
    logger: options.logger ?? silentLogger,
    serviceName,
    naming: new Naming(namePrefix),
    namePrefix,
    events: { source: options.source ?? document.source, validate: options.validate ?? document.validate },
    mapping: outboundMapping(options.cloudEventsPrefix ?? 'cloudEvents:'),
    declareTopology: options.declareTopology !== false,
    queueType: options.queueType,
    deadLetterExchange: options.deadLetterExchange ?? `${serviceName}.dlx`,
    prefetch: options.prefetch ?? DEFAULT_PREFETCH,
    publishTimeoutMs: options.publishTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    replyTimeoutMs: options.replyTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    closeTimeoutMs: options.closeTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    schemaRegistry: options.schemaRegistry,
  };
}
