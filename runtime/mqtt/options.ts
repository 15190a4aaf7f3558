// The MQTT client's option types: what the generated client passes (operation and reply descriptions, the
// document's defaults), what users pass (client, publish, request and consumer options), and what handlers
// receive. Defaults are resolved once, in `settingsOf`.
import { randomBytes } from 'node:crypto';
import type { IClientOptions } from 'mqtt';
import type { SchemaRegistryOptions } from '../codec.js';
import type { ConsumerOptions } from '../consumer.js';
import type { CloudEventAttributes } from '../envelope.js';
import type { Logger } from '../logger.js';
import type { OperationSpec } from '../operation.js';
import type { PublishOptions } from '../producer.js';
import type { TelemetryOptions } from '../telemetry.js';
import type { ValidationResult } from '../validation.js';
import type { TopicCodec } from './topology.js';

/**
 * `5.0` (default): the CloudEvents envelope in user properties (binary mode), request/reply through the
 * response topic and correlation data. `3.1.1`: no properties, so every event travels as one structured
 * CloudEvents JSON document.
 */
export type MqttVersion = '5.0' | '3.1.1';

/** 0: at most once; 1: at least once (the default); 2: exactly once between the client and the broker. */
export type QoS = 0 | 1 | 2;

export type MqttOperationKind = 'publish' | 'request' | 'subscribe' | 'respond';

/** What the document says about one operation on MQTT (see the generated client for the values). */
export interface MqttOperation<T, H, P> {
  spec: OperationSpec<T, H, P>;
  kind: MqttOperationKind;
  /** Topic filter of the channel (each level holding a parameter as `+`), without the client's prefix; null when the document gives no address. */
  filter: string | null;
  topics: TopicCodec;
  /** `qos` of the mqtt operation binding. */
  qos?: QoS;
  /** `retain` of the mqtt operation binding. */
  retain?: boolean;
  /** `messageExpiryInterval` of the mqtt operation binding, in seconds (MQTT 5). */
  messageExpirySeconds?: number;
}

/** Any operation, as the parts that do not look at payload, header or parameter types see it. */
export type AnyMqttOperation = MqttOperation<unknown, unknown, unknown>;

export function mqttOperation<T, H, P>(
  spec: OperationSpec<T, H, P>,
  mqtt: Omit<MqttOperation<T, H, P>, 'spec'>,
): MqttOperation<T, H, P> {
  return { spec, ...mqtt };
}

/** What the document says about the reply of a request/reply operation. */
export interface MqttReplySpec<R> {
  operation: string;
  eventType(payload: R): string;
  contentType: string;
  validatePayload(data: unknown): ValidationResult<R>;
}

/** The message a client's connection leaves behind when it is lost without a goodbye (MQTT "last will"). */
export interface LastWill {
  topic: string;
  payload: string;
  qos?: QoS;
  retain?: boolean;
}

/** What the document's mqtt server binding says about sessions. */
export interface SessionDefaults {
  clientId?: string;
  cleanSession?: boolean;
  sessionExpirySeconds?: number;
  keepAliveSeconds?: number;
  lastWill?: LastWill;
}

/** Options of the client factory. */
export interface MqttClientOptions {
  /** Brokers to connect to (`mqtt://host:1883`, `mqtts://host:8883`, `host:port`); default: the document's MQTT servers. */
  servers?: string | string[];
  /** Protocol version (default: the document server's `protocolVersion`, else `5.0`). */
  mqttVersion?: MqttVersion;
  /**
   * MQTT client id of the client's own connection, and the stem of its consumers' session ids
   * (`<clientId>.<operation>`). Default: the server binding's `clientId`, else the document title with a
   * random suffix. Give a stable one (per instance) for consumer sessions that outlive the process.
   */
  clientId?: string;
  /** Anything else MQTT.js accepts (username, password, TLS, reconnectPeriod, ...). */
  connectionOptions?: Omit<IClientOptions, 'servers' | 'protocolVersion' | 'clientId' | 'clean' | 'will'>;
  /** Prepended to every topic (`staging/` → `staging/orders/eu/created`), e.g. to separate environments. */
  topicPrefix?: string;
  /** Dead-letter topics are `<topicPrefix><deadLetterPrefix><topic>` (default `dlq/`). */
  deadLetterPrefix?: string;
  /** QoS of operations whose binding gives none (default 1: at least once). */
  qos?: QoS;
  /** Consumer sessions start clean (default false: persistent sessions, so a consumer gets what it missed). */
  cleanStart?: boolean;
  /** MQTT 5: how long the broker keeps a consumer's session after it disconnects (default: the binding's, else 3600 s). */
  sessionExpirySeconds?: number;
  /** Keep-alive interval in seconds (default: the binding's, else 60). */
  keepAliveSeconds?: number;
  /** Published by the broker when the client's connection is lost without a DISCONNECT (default: the binding's). */
  lastWill?: LastWill;
  /** CloudEvents `source` of published events. */
  source?: string;
  /** Validate before publishing and on receipt (default true; false when the code was generated with validation off). */
  validate?: boolean;
  logger?: Logger;
  /** Defaults for every consumer of this client (each `onX` call may override them). */
  consumer?: MqttConsumerOptions;
  /** How long the first connection may take (default 10000 ms); the library keeps reconnecting after a loss. */
  connectTimeoutMs?: number;
  /**
   * How long a QoS 1 or 2 publish waits for the broker's acknowledgement, reconnections included (default
   * 30000 ms). A publish that timed out may still be delivered later (consumers drop the copy by event id).
   */
  publishTimeoutMs?: number;
  /** Default timeout of requests (default 5000 ms). */
  requestTimeoutMs?: number;
  /** Longest wait of `close()` for handlers and publishes in progress (default 30000 ms). */
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

export interface MqttPublishOptions<H> extends PublishOptions<H> {
  /** Overrides the QoS of the binding and the client. */
  qos?: QoS;
  /** Ask the broker to keep the event as the topic's last value (default: the binding's `retain`, else false). */
  retain?: boolean;
  /** MQTT 5: the broker drops the event when it could not be delivered within this many seconds. */
  messageExpirySeconds?: number;
  /** Publish to this exact topic instead of the channel's (no prefix added). */
  mqttTopic?: string;
}

export interface MqttPublishResult {
  /** The event id (CloudEvents `id`). */
  id: string;
  topic: string;
  qos: QoS;
}

export interface MqttRequestOptions<H> extends PublishOptions<H> {
  /** How long to wait for the reply (default: the client's `requestTimeoutMs`). */
  timeoutMs?: number;
  /** Send the request to this exact topic instead of the channel's (no prefix added). */
  mqttTopic?: string;
}

export interface MqttReply<R> {
  payload: R;
  /** Application headers of the reply. */
  headers: Record<string, unknown>;
  /** The reply's CloudEvents attributes. */
  envelope: CloudEventAttributes;
  topic: string;
}

export interface MqttConsumerOptions extends ConsumerOptions {
  /**
   * Competing consumers: subscribe through the shared subscription `$share/<group>/<filter>`, so each
   * event goes to one member of the group. Default: none (every consumer gets every event); responders
   * share the operation's name.
   */
  group?: string;
  /** Client id of the consumer's session (default `<clientId>.<operation>`): the identity of its persistent session. */
  sessionId?: string;
  /** QoS of the subscription (default: the binding's, else the client's). */
  qos?: QoS;
  /** Start with a clean session (default: the client's `cleanStart`, false). */
  cleanStart?: boolean;
  /** Subscribe to this exact topic filter (may hold `+` and `#`) instead of the channel's (no prefix added). */
  mqttTopic?: string;
  /** Where events that cannot be processed go (default `<topicPrefix><deadLetterPrefix><topic>`); `false`: dropped and logged. */
  deadLetterTopic?: string | false;
}

/** What a handler gets with the payload (the same shape as the other targets' contexts). */
export interface MqttEventContext<H, P> {
  envelope: CloudEventAttributes;
  headers: H;
  /** The channel parameters, read back from the topic. */
  parameters: P;
  topic: string;
  /** 1 on the first attempt, then 2, 3, … while retrying in process. */
  attempt: number;
  qos: QoS;
  /** The broker delivered the event again (its DUP flag): an earlier delivery was not acknowledged. */
  redelivered: boolean;
  /** The event is the topic's retained value, sent because the consumer subscribed. */
  retained: boolean;
}

export type MqttHandler<T, H, P> = (payload: T, context: MqttEventContext<H, P>) => void | Promise<void>;
export type MqttResponder<T, H, P, R> = (payload: T, context: MqttEventContext<H, P>) => R | Promise<R>;

export interface MqttSubscription {
  /** The topic filter subscribed to (with `$share/<group>/` for a group). */
  readonly topic: string;
  /** The client id of the consumer's session. */
  readonly sessionId: string;
  readonly group?: string;
  /** Resolves when the subscription has stopped. */
  readonly closed: Promise<void>;
  /** Stops taking events, waits for the handler in progress, then disconnects (the session stays). */
  close(): Promise<void>;
}

/** What the generated client knows from the document: the fallbacks of the client options. */
export interface TransportDefaults {
  servers: string[];
  source: string;
  name: string;
  validate: boolean;
  mqttVersion: MqttVersion;
  session: SessionDefaults;
}

/** The client options with every default applied, resolved once per client. */
export interface MqttSettings {
  mqttVersion: MqttVersion;
  clientId: string;
  validate: boolean;
  source: string;
  topicPrefix: string;
  deadLetterPrefix: string;
  qos: QoS;
  cleanStart: boolean;
  sessionExpirySeconds: number;
  keepAliveSeconds: number;
  lastWill: LastWill | undefined;
  connectTimeoutMs: number;
  publishTimeoutMs: number;
  requestTimeoutMs: number;
  closeTimeoutMs: number;
  schemaRegistry: SchemaRegistryOptions | undefined;
}

export function settingsOf(options: MqttClientOptions, defaults: TransportDefaults): MqttSettings {
  const session = defaults.session;
  return {
    mqttVersion: options.mqttVersion ?? defaults.mqttVersion,
    clientId:
      options.clientId ?? session.clientId ?? `${clientIdStem(defaults.name)}-${randomBytes(4).toString('hex')}`,
    validate: options.validate ?? defaults.validate,
    source: options.source ?? defaults.source,
    topicPrefix: options.topicPrefix ?? '',
    deadLetterPrefix: options.deadLetterPrefix ?? 'dlq/',
    qos: options.qos ?? 1,
    cleanStart: options.cleanStart ?? session.cleanSession ?? false,
    sessionExpirySeconds: options.sessionExpirySeconds ?? session.sessionExpirySeconds ?? 3600,
    keepAliveSeconds: options.keepAliveSeconds ?? session.keepAliveSeconds ?? 60,
    lastWill: options.lastWill ?? session.lastWill,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    publishTimeoutMs: options.publishTimeoutMs ?? 30_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 5000,
    closeTimeoutMs: options.closeTimeoutMs ?? 30_000,
    schemaRegistry: options.schemaRegistry,
  };
}

/** A client id stem from the document title: letters, digits and `-` only. */
function clientIdStem(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'codegen'
  );
}
