// NATS glue shared by every operation of the client: connection, subjects, CloudEvents headers,
// JetStream topology, and the publish / request / consume / respond loops. Everything broker-independent
// (validation, envelope, de-duplication, retry decisions) comes from ../runtime.
import {
  connect,
  MsgHdrsImpl,
  nanos,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type NodeConnectionOptions,
  type Subscription,
} from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import { randomUUID } from 'node:crypto';
import { decodeJson } from '../codec.js';
import {
  ConsumerPipeline,
  deadLetterHeaders,
  InFlight,
  type ConsumerOptions,
  type InboundEvent,
  type Outcome,
} from '../consumer.js';
import {
  applicationHeaders,
  envelopeFromHeaders,
  readEnvelope,
  type CloudEventAttributes,
  type HeaderMapping,
} from '../envelope.js';
import {
  ClientClosedError,
  errorMessage,
  EventValidationError,
  PublishError,
  ReplyTimeoutError,
  RequestFailedError,
  type DeadLetterReason,
} from '../errors.js';
import { Lifecycle, shutdownGracefully } from '../lifecycle.js';
import { ConcurrencyLimit } from '../limiter.js';
import { silentLogger, type Logger } from '../logger.js';
import type { OperationSpec } from '../operation.js';
import { prepareOutbound, type OutboundSpec, type PublishOptions } from '../producer.js';
import { backoffDelay, retryPolicy, sleep, type RetryPolicy } from '../retry.js';
import { Telemetry, type ProcessSpan, type TelemetryOptions } from '../telemetry.js';
import type { ValidationResult } from '../validation.js';

/**
 * `core`: plain NATS publish/subscribe. At-most-once: an event published while no subscriber listens,
 * or held by a subscriber that crashes, is lost. `jetstream`: events are stored in a stream, publishes are
 * confirmed, and a durable consumer acknowledges each event after its handler succeeded (at-least-once).
 */
export type DeliveryMode = 'core' | 'jetstream';

/**
 * The CloudEvents NATS protocol binding, binary content mode: every attribute travels as its own header
 * named `ce-<attribute>` (`datacontenttype` included), its value percent-encoded; the data is the body.
 */
export const NATS_HEADER_MAPPING: HeaderMapping = { prefix: 'ce-' };

/** Maps the document's channel address to a NATS subject and back. */
export interface SubjectCodec {
  toSubject(address: string): string;
  toAddress(subject: string): string;
}

/** Addresses already written as NATS subjects (`orders.{region}.created`). */
export const dotSubjects: SubjectCodec = { toSubject: (address) => address, toAddress: (subject) => subject };

/** MQTT-style addresses (`devices/{id}/readings`): `/` separates tokens and becomes `.`. */
export function slashSubjects(leading: boolean, trailing: boolean): SubjectCodec {
  return {
    toSubject: (address) => address.slice(leading ? 1 : 0, trailing ? -1 : undefined).replace(/\//g, '.'),
    toAddress: (subject) => (leading ? '/' : '') + subject.replace(/\./g, '/') + (trailing ? '/' : ''),
  };
}

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
  /** Extra configuration for the streams this client creates (replicas, limits, storage, ...). */
  stream?: Partial<Omit<StreamConfig, 'name' | 'subjects'>>;
  /** Defaults for every consumer of this client (each `onX` call may override them). */
  consumer?: NatsConsumerOptions;
  /** How long a JetStream publish waits for the stream's acknowledgement, per attempt (default 5000 ms). */
  publishTimeoutMs?: number;
  /**
   * Attempts of a JetStream publish that timed out or found no stream ready (a server restarting, a
   * reconnection). Safe: the event id is the `Nats-Msg-Id`, so the stream stores a retried event once.
   */
  publishRetry?: Partial<RetryPolicy>;
  /** Default timeout of requests (default 5000 ms). */
  requestTimeoutMs?: number;
  /** Longest wait of `close()` for handlers and publishes in progress (default 30000 ms); events still in progress are redelivered later. */
  closeTimeoutMs?: number;
  /** OpenTelemetry spans and metrics, on when @opentelemetry/api is installed; `{ enabled: false }` turns them off. */
  telemetry?: TelemetryOptions;
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

// ---------------------------------------------------------------------------------------------
// CloudEvents attributes in NATS headers (percent-encoding per the NATS protocol binding, 3.1.3.2)
// ---------------------------------------------------------------------------------------------

const utf8 = new TextEncoder();
const UNRESERVED = /^[\x21\x23\x24\x26-\x7e]*$/;
const UNRESERVED_CHAR = /^[\x21\x23\x24\x26-\x7e]$/;

/** Percent-encodes space, `"`, `%` and everything outside printable ASCII. */
export function encodeHeaderValue(value: string): string {
  if (UNRESERVED.test(value)) return value;
  let out = '';
  for (const char of value) {
    if (UNRESERVED_CHAR.test(char)) out += char;
    else for (const byte of utf8.encode(char)) out += '%' + (byte < 16 ? '0' : '') + byte.toString(16).toUpperCase();
  }
  return out;
}

/** Undoes `encodeHeaderValue` (and RFC 7230 double quotes); undefined when the value is not valid UTF-8. */
export function decodeHeaderValue(value: string): string | undefined {
  let text = value;
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1).replace(/\\(.)/g, '$1');
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
const LINE_BREAK = /[\r\n]/;

/** NATS headers from envelope and application headers: `ce-*` values percent-encoded, others as they are. */
export function toNatsHeaders(values: Record<string, string>): MsgHdrs {
  const record: Record<string, string[]> = Object.create(null);
  for (const key of Object.keys(values)) {
    let value = values[key]!;
    if (!HEADER_NAME.test(key))
      throw new TypeError(`${JSON.stringify(key)} is not a valid NATS header name (printable ASCII without ':')`);
    if (key.startsWith(NATS_HEADER_MAPPING.prefix)) value = encodeHeaderValue(value);
    else if (LINE_BREAK.test(value)) throw new TypeError(`the value of header ${key} holds a line break`);
    record[key] = [value];
  }
  // Names and values are checked above; building the headers directly skips the library's per-header lookups.
  return MsgHdrsImpl.fromRecord(record);
}

/**
 * Headers of a received message as a record: the first value of each header; `ce-*` names lower-cased
 * (NATS header names are case-insensitive) and their values decoded; `Nats-*` headers (the server's own) left out.
 */
export function fromNatsHeaders(headers: MsgHdrs | undefined): { headers: Record<string, string>; error?: string } {
  const out: Record<string, string> = {};
  if (!headers) return { headers: out };
  let error: string | undefined;
  for (const [name, values] of headers) {
    if (values.length === 0 || name === '__proto__' || hasPrefix(name, 'nats-')) continue;
    if (hasPrefix(name, NATS_HEADER_MAPPING.prefix)) {
      const key = name.toLowerCase();
      const decoded = decodeHeaderValue(values[0]!);
      if (decoded === undefined) error ??= `header ${key} is not valid percent-encoded UTF-8`;
      else out[key] = decoded;
    } else {
      out[name] = values[0]!;
    }
  }
  return { headers: out, error };
}

/** `text` starts with `lowerPrefix` (letters and `-`), in any case. */
function hasPrefix(text: string, lowerPrefix: string): boolean {
  if (text.length < lowerPrefix.length) return false;
  for (let i = 0; i < lowerPrefix.length; i++)
    if ((text.charCodeAt(i) | 0x20) !== lowerPrefix.charCodeAt(i)) return false;
  return true;
}

/** Header values may not hold line breaks. */
function headerSafe(values: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(values)) out[key] = values[key]!.replace(/[\r\n]+/g, ' ');
  return out;
}

// ---------------------------------------------------------------------------------------------
// The transport: one connection, shared by every operation of a client
// ---------------------------------------------------------------------------------------------

export interface TransportDefaults {
  servers: string[];
  source: string;
  name: string;
  validate: boolean;
}

const DEFAULT_PUBLISH_RETRY: Partial<RetryPolicy> = { maxAttempts: 5, initialDelayMs: 250, maxDelayMs: 5000 };

export class NatsTransport {
  readonly js: JetStreamClient;
  readonly logger: Logger;
  readonly validate: boolean;
  readonly subjectPrefix: string;
  /** What `prepareOutbound` fills in when a publish does not say. */
  private readonly defaults: { source: string; validate: boolean };
  private readonly streamPrefix: string;
  private readonly deadLetterPrefix: string;
  private readonly autoDeclare: boolean;
  private readonly defaultMode: DeliveryMode;
  private readonly publishTimeoutMs: number;
  private readonly publishPolicy: RetryPolicy;
  readonly requestTimeoutMs: number;
  private manager?: Promise<JetStreamManager>;
  private readonly streams = new Map<string, Promise<string>>();
  /** Streams known to exist, so that publishes skip the check once it succeeded. */
  private readonly readyStreams = new Set<string>();
  private readonly subscriptions = new Set<ConsumerBase<unknown, unknown, unknown, Received>>();
  private readonly inFlight = new InFlight();
  private readonly lifecycle = new Lifecycle();

  static async connect(options: NatsClientOptions, defaults: TransportDefaults): Promise<NatsTransport> {
    const telemetry = await Telemetry.create('nats', options.telemetry).catch(() => Telemetry.disabled('nats'));
    if (options.connection) return new NatsTransport(options.connection, false, options, defaults, telemetry);
    const listed = options.servers ?? defaults.servers;
    const servers = Array.isArray(listed) ? listed : [listed];
    const connection = await connect({
      name: defaults.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      // The client's own errors name the operation and subject; the library's async stack capture (an Error
      // created per request, JetStream publishes included) costs more than it tells.
      noAsyncTraces: true,
      ...options.connectionOptions,
      ...(servers.length > 0 ? { servers } : {}),
    });
    return new NatsTransport(connection, true, options, defaults, telemetry);
  }

  private constructor(
    readonly connection: NatsConnection,
    private readonly owned: boolean,
    readonly options: NatsClientOptions,
    defaults: TransportDefaults,
    readonly telemetry: Telemetry,
  ) {
    this.js = jetstream(connection);
    this.logger = options.logger ?? silentLogger;
    this.validate = options.validate ?? defaults.validate;
    this.defaults = { source: options.source ?? defaults.source, validate: this.validate };
    this.subjectPrefix = options.subjectPrefix ?? '';
    this.streamPrefix = options.streamPrefix ?? this.subjectPrefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_');
    this.deadLetterPrefix = options.deadLetterPrefix ?? 'dlq.';
    this.autoDeclare = options.autoDeclare !== false;
    this.defaultMode = options.mode ?? 'jetstream';
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5000;
    this.publishPolicy = retryPolicy({ ...DEFAULT_PUBLISH_RETRY, ...options.publishRetry });
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    void this.watchStatus();
  }

  /** Logs disconnections and reconnections (the client reconnects by itself). */
  private async watchStatus(): Promise<void> {
    try {
      for await (const status of this.connection.status()) {
        if (status.type === 'disconnect')
          this.logger.warn({ server: status.server }, 'NATS connection lost; reconnecting');
        else if (status.type === 'reconnect') this.logger.info({ server: status.server }, 'NATS connection restored');
        else if (status.type === 'error')
          this.logger.error({ err: errorMessage(status.error) }, 'NATS connection error');
        else if (status.type === 'slowConsumer')
          this.logger.warn({ sub: status.sub }, 'NATS slow consumer: events are being dropped');
        if (!this.lifecycle.isOpen) break;
      }
    } catch {
      // The connection closed.
    }
  }

  modeOf(operation: NatsOperation<unknown, unknown, unknown>, override?: DeliveryMode): DeliveryMode {
    return override ?? operation.delivery ?? this.defaultMode;
  }

  private assertOpen(): void {
    this.lifecycle.assertOpen();
    if (this.connection.isClosed()) throw new ClientClosedError();
  }

  /** The subject of an outgoing event. */
  subjectOf<P>(
    operation: NatsOperation<unknown, unknown, P>,
    parameters: P | undefined,
    override: string | undefined,
    validate: boolean,
  ): string {
    if (override !== undefined) return override;
    if (operation.wildcard === null)
      throw new TypeError(
        `${operation.spec.operation}: the document gives no address for this channel; pass the natsSubject option`,
      );
    const values = (parameters ?? {}) as P;
    if (validate) {
      // A copy: checking converts values to the schema's types, and the caller's object stays as it was.
      const checked = operation.spec.validateParameters({ ...values });
      if (!checked.ok)
        throw new EventValidationError('invalid-address', `parameters of ${operation.spec.operation}`, checked.issues);
    }
    return this.subjectPrefix + operation.subjects.toSubject(operation.spec.buildAddress(values));
  }

  /** The subject a consumer listens to. */
  filterOf(operation: NatsOperation<unknown, unknown, unknown>, override: string | undefined): string {
    if (override !== undefined) return override;
    if (operation.wildcard === null)
      throw new TypeError(
        `${operation.spec.operation}: the document gives no address for this channel; pass the natsSubject option`,
      );
    return this.subjectPrefix + operation.wildcard;
  }

  /** Channel parameters of a received subject; undefined when the subject does not match the channel. */
  parametersOf<P>(operation: NatsOperation<unknown, unknown, P>, subject: string): P | undefined {
    if (operation.spec.parameterNames.length === 0) return {} as P;
    if (!subject.startsWith(this.subjectPrefix)) return undefined;
    return operation.spec.parseAddress(operation.subjects.toAddress(subject.slice(this.subjectPrefix.length)));
  }

  deadLetterSubjectOf(subject: string): string {
    const local = subject.startsWith(this.subjectPrefix) ? subject.slice(this.subjectPrefix.length) : subject;
    return this.subjectPrefix + this.deadLetterPrefix + local;
  }

  /** Validates, fills in the envelope, encodes: the event as it goes on the wire. */
  outbound<T, H>(spec: OperationSpec<T, H, unknown> | OutboundSpec<T, H>, payload: T, options: PublishOptions<H>) {
    const outboundSpec = 'mapping' in spec ? spec : this.outboundSpecOf(spec, spec.eventType(payload));
    const event = prepareOutbound(outboundSpec, payload, options, this.defaults);
    return { body: event.body, headers: toNatsHeaders(event.headers), id: event.envelope.id, envelope: event.envelope };
  }

  private readonly outboundSpecs = new WeakMap<object, Map<string, OutboundSpec<unknown, unknown>>>();

  /** The producer-side spec of an operation for one CloudEvents type (made once, used for every event). */
  private outboundSpecOf<T, H>(spec: OperationSpec<T, H, unknown>, type: string): OutboundSpec<T, H> {
    let byType = this.outboundSpecs.get(spec);
    if (!byType) this.outboundSpecs.set(spec, (byType = new Map()));
    let outboundSpec = byType.get(type);
    if (!outboundSpec) {
      outboundSpec = {
        operation: spec.operation,
        type,
        contentType: spec.contentType,
        mapping: NATS_HEADER_MAPPING,
        validatePayload: (data) => spec.validatePayload(data),
        validateHeaders: (data) => spec.validateHeaders(data),
      };
      byType.set(type, outboundSpec);
    }
    return outboundSpec as OutboundSpec<T, H>;
  }

  // ---- publish ------------------------------------------------------------------------------

  async publish<T, H, P>(
    operation: NatsOperation<T, H, P>,
    payload: T,
    options: NatsPublishOptions<H> & { parameters?: P },
  ): Promise<NatsPublishResult> {
    this.assertOpen();
    if (!this.telemetry.active) return this.send(operation, payload, options);
    // A PRODUCER span named after the subject filter, the concrete subject as its destination name; its
    // trace context goes into the envelope unless the caller gave one.
    const id = options.id ?? randomUUID();
    const natsSubject = this.subjectOf(
      operation,
      options.parameters,
      options.natsSubject,
      options.validate ?? this.validate,
    );
    return this.telemetry.publish(
      this.destinationOf(operation),
      { id, correlationId: options.correlationId },
      () => ({ 'messaging.destination.name': natsSubject }),
      (trace) =>
        this.send(
          operation,
          payload,
          options.traceparent === undefined
            ? { ...options, id, natsSubject, ...trace }
            : { ...options, id, natsSubject },
        ),
    );
  }

  /** Span and metric name of an operation's destination: its subject filter (low cardinality), or the channel name. */
  destinationOf(operation: NatsOperation<unknown, unknown, unknown>): string {
    return operation.wildcard === null ? operation.spec.operation : this.subjectPrefix + operation.wildcard;
  }

  /** Not async: its errors reach the caller through the async `publish`, with one promise less per event. */
  private send<T, H, P>(
    operation: NatsOperation<T, H, P>,
    payload: T,
    options: NatsPublishOptions<H> & { parameters?: P },
  ): Promise<NatsPublishResult> {
    const mode = this.modeOf(operation as NatsOperation<unknown, unknown, unknown>, options.mode);
    const validate = options.validate ?? this.validate;
    const subject = this.subjectOf(operation, options.parameters, options.natsSubject, validate);
    const event = this.outbound(operation.spec, payload, options);
    if (mode === 'core') {
      this.connection.publish(subject, event.body, { headers: event.headers });
      return Promise.resolve({ id: event.id, subject, mode });
    }
    return this.inFlight.track(
      this.publishDurably(
        operation as NatsOperation<unknown, unknown, unknown>,
        subject,
        event.body,
        event.headers,
        event.id,
      ),
    );
  }

  /** JetStream publish: awaits the stream's acknowledgement; retries transient failures with the same `Nats-Msg-Id`. */
  private async publishDurably(
    operation: NatsOperation<unknown, unknown, unknown>,
    subject: string,
    body: Uint8Array,
    headers: MsgHdrs,
    id: string,
  ): Promise<NatsPublishResult> {
    if (this.autoDeclare && operation.wildcard !== null && !this.readyStreams.has(operation.stream))
      await this.streamOf(operation);
    for (let attempt = 1; ; attempt++) {
      try {
        const ack = await this.js.publish(subject, body, { msgID: id, headers, timeout: this.publishTimeoutMs });
        return { id, subject, mode: 'jetstream', stream: ack.stream, sequence: ack.seq, duplicate: ack.duplicate };
      } catch (error) {
        if (!isTransient(error) || attempt >= this.publishPolicy.maxAttempts) {
          const hint = isNoStream(error)
            ? ` (no stream stores subject ${subject}: call declareTopology(), or use core mode)`
            : '';
          throw new PublishError(
            `${operation.spec.operation}: JetStream did not confirm event ${id} on ${subject} after ${attempt} attempt(s): ${errorMessage(error)}${hint}`,
            { cause: error },
          );
        }
        const delayMs = backoffDelay(this.publishPolicy, attempt);
        this.logger.warn(
          { eventId: id, operation: operation.spec.operation, attempt, delayMs, err: errorMessage(error) },
          'JetStream publish not confirmed; retrying',
        );
        if (!(await sleep(delayMs, this.lifecycle.signal))) throw new ClientClosedError();
      }
    }
  }

  /** Publishes an event that could not be processed, with the reason in its headers. */
  async publishDeadLetter(
    subject: string,
    body: Uint8Array,
    headers: Record<string, string>,
    durable: { msgID: string } | undefined,
  ): Promise<void> {
    const natsHeaders = toNatsHeaders(headerSafe(headers));
    if (!durable) {
      this.connection.publish(subject, body, { headers: natsHeaders });
      return;
    }
    await this.js.publish(subject, body, {
      headers: natsHeaders,
      msgID: durable.msgID,
      timeout: this.publishTimeoutMs,
    });
  }

  // ---- request / reply ----------------------------------------------------------------------

  async request<T, H, P, R>(
    operation: NatsOperation<T, H, P>,
    reply: NatsReplySpec<R>,
    payload: T,
    options: NatsRequestOptions<H> & { parameters?: P },
  ): Promise<NatsReply<R>> {
    this.assertOpen();
    if (!this.telemetry.active) return this.ask(operation, reply, payload, options);
    // A PRODUCER span that lasts until the reply came; the responder's CONSUMER span is its child.
    const id = options.id ?? randomUUID();
    const natsSubject = this.subjectOf(
      operation,
      options.parameters,
      options.natsSubject,
      options.validate ?? this.validate,
    );
    return this.telemetry.publish(
      this.destinationOf(operation),
      { id, correlationId: options.correlationId },
      () => ({ 'messaging.destination.name': natsSubject }),
      (trace) =>
        this.ask(
          operation,
          reply,
          payload,
          options.traceparent === undefined
            ? { ...options, id, natsSubject, ...trace }
            : { ...options, id, natsSubject },
        ),
    );
  }

  private async ask<T, H, P, R>(
    operation: NatsOperation<T, H, P>,
    reply: NatsReplySpec<R>,
    payload: T,
    options: NatsRequestOptions<H> & { parameters?: P },
  ): Promise<NatsReply<R>> {
    const validate = options.validate ?? this.validate;
    const subject = this.subjectOf(operation, options.parameters, options.natsSubject, validate);
    const event = this.outbound(operation.spec, payload, options);
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    let message: Msg;
    try {
      message = await this.inFlight.track(
        this.connection.request(subject, event.body, { timeout: timeoutMs, headers: event.headers }),
      );
    } catch (error) {
      if (isTimeout(error)) throw new ReplyTimeoutError(operation.spec.operation, timeoutMs);
      if (isNoResponders(error))
        throw new PublishError(`${operation.spec.operation}: no responder listens on ${subject}`, { cause: error });
      throw new PublishError(`${operation.spec.operation}: request on ${subject} failed: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    const read = fromNatsHeaders(message.headers);
    const failure = read.headers['x-codegen-error'];
    if (failure !== undefined)
      throw new RequestFailedError(
        operation.spec.operation,
        read.headers['x-codegen-dead-letter-reason'] ?? 'handler-failed',
        failure,
      );
    const subjectName = `reply to ${operation.spec.operation}`;
    if (read.error)
      throw new EventValidationError('invalid-envelope', subjectName, [
        { pointer: '', rule: 'encoding', message: read.error },
      ]);
    const body = decodeJson(message.data);
    if (!body.ok)
      throw new EventValidationError('not-json', subjectName, [{ pointer: '', rule: 'json', message: body.error }]);
    let value = body.value as R;
    if (validate) {
      const checked = reply.validatePayload(body.value);
      if (!checked.ok) throw new EventValidationError('invalid-payload', subjectName, checked.issues);
      value = checked.value;
    }
    const envelope = readEnvelope(envelopeFromHeaders(read.headers, NATS_HEADER_MAPPING));
    return {
      payload: value,
      headers: applicationHeaders(withoutCodegenHeaders(read.headers), NATS_HEADER_MAPPING),
      envelope: envelope.ok ? envelope.value : undefined,
    };
  }

  // ---- consumers ----------------------------------------------------------------------------

  async subscribe<T, H, P>(
    operation: NatsOperation<T, H, P>,
    handler: NatsHandler<T, H, P>,
    options: NatsConsumerOptions,
  ): Promise<NatsSubscription> {
    this.assertOpen();
    const merged = { ...this.options.consumer, ...options };
    const mode = this.modeOf(operation as NatsOperation<unknown, unknown, unknown>, merged.mode);
    if (mode === 'core') return this.start(new CoreConsumer(this, operation, handler, merged));
    return this.start(new JetStreamConsumer(this, operation, handler, merged));
  }

  async respond<T, H, P, R>(
    operation: NatsOperation<T, H, P>,
    reply: NatsReplySpec<R>,
    handler: NatsResponder<T, H, P, R>,
    options: NatsConsumerOptions,
  ): Promise<NatsSubscription> {
    this.assertOpen();
    // A requester waits with a timeout: by default no retries, and no de-duplication (a retried request must be answered).
    const merged: NatsConsumerOptions = {
      retry: { maxAttempts: 1 },
      idempotencyStore: false,
      ...this.options.consumer,
      ...options,
      mode: 'core',
    };
    return this.start(new Responder(this, operation, reply, handler, merged));
  }

  private async start<T, H, P, M extends Received>(consumer: ConsumerBase<T, H, P, M>): Promise<NatsSubscription> {
    await consumer.start();
    const tracked = consumer as unknown as ConsumerBase<unknown, unknown, unknown, Received>;
    this.subscriptions.add(tracked);
    void consumer.closed.then(() => this.subscriptions.delete(tracked));
    return consumer;
  }

  // ---- JetStream topology -------------------------------------------------------------------

  private jsm(): Promise<JetStreamManager> {
    this.manager ??= jetstreamManager(this.connection).catch((error: unknown) => {
      this.manager = undefined;
      throw error;
    });
    return this.manager;
  }

  /** Creates (or finds) the stream of each JetStream operation, and the durable consumer of each JetStream consumer. */
  async declareTopology(operations: Array<NatsOperation<unknown, unknown, unknown>>): Promise<void> {
    this.assertOpen();
    for (const operation of operations) {
      if (operation.wildcard === null || (operation.kind !== 'publish' && operation.kind !== 'subscribe')) continue;
      if (this.modeOf(operation) !== 'jetstream') continue;
      const stream = await this.streamOf(operation, true);
      if (operation.kind === 'subscribe') {
        const options = this.options.consumer ?? {};
        if (options.mode === 'core') continue;
        if (options.deadLetterSubject === undefined) await this.deadLetterStreamOf(operation, true);
        await this.consumerOf(operation, stream, options, true);
      }
    }
  }

  /** The stream that stores an operation's channel: declared when allowed, else looked up by subject. */
  streamOf(operation: NatsOperation<unknown, unknown, unknown>, declare = this.autoDeclare): Promise<string> {
    const subject = this.filterOf(operation, undefined);
    return this.memoStream(operation.stream, () =>
      declare ? this.declareStream(this.streamPrefix + operation.stream, subject) : this.findStream(subject),
    );
  }

  /** The stream that stores the dead letters of an operation's channel. */
  deadLetterStreamOf(operation: NatsOperation<unknown, unknown, unknown>, declare = this.autoDeclare): Promise<string> {
    const subject = this.deadLetterSubjectOf(this.filterOf(operation, undefined));
    return this.memoStream(`${operation.stream}_DLQ`, () =>
      declare ? this.declareStream(`${this.streamPrefix}${operation.stream}_DLQ`, subject) : this.findStream(subject),
    );
  }

  private memoStream(key: string, declare: () => Promise<string>): Promise<string> {
    let pending = this.streams.get(key);
    if (!pending) {
      pending = declare().then(
        (name) => {
          this.readyStreams.add(key);
          return name;
        },
        (error: unknown) => {
          this.streams.delete(key);
          throw error;
        },
      );
      this.streams.set(key, pending);
    }
    return pending;
  }

  private async findStream(subject: string): Promise<string> {
    const jsm = await this.jsm();
    try {
      return await jsm.streams.find(subject);
    } catch (error) {
      throw new Error(`no JetStream stream stores ${subject} (autoDeclare is off): ${errorMessage(error)}`, {
        cause: error,
      });
    }
  }

  /** Idempotent: creates the stream, adds the subject to an existing one, or uses the stream that already stores the subject. */
  private async declareStream(name: string, subject: string): Promise<string> {
    const jsm = await this.jsm();
    try {
      const info = await jsm.streams.info(name);
      const subjects = info.config.subjects ?? [];
      if (!subjects.includes(subject))
        await jsm.streams.update(name, { ...info.config, subjects: [...subjects, subject] });
      return name;
    } catch (error) {
      if (apiCode(error) !== STREAM_NOT_FOUND) throw error;
    }
    try {
      await jsm.streams.add({ ...this.options.stream, name, subjects: [subject] });
      this.logger.info({ stream: name, subject }, 'JetStream stream created');
      return name;
    } catch (error) {
      if (apiCode(error) === SUBJECTS_OVERLAP) {
        const existing = await jsm.streams.find(subject);
        this.logger.info({ stream: existing, subject }, 'using the JetStream stream that already stores the subject');
        return existing;
      }
      throw error;
    }
  }

  /** Idempotent: creates the durable consumer, or updates it to this configuration. */
  async consumerOf(
    operation: NatsOperation<unknown, unknown, unknown>,
    stream: string,
    options: NatsConsumerOptions,
    declare = this.autoDeclare,
  ): Promise<{ durable: string; config: Partial<ConsumerConfig> }> {
    const durable = options.durable ?? options.queue ?? operation.queue ?? operation.durable;
    const policy = retryPolicy(options.retry);
    const config: Partial<ConsumerConfig> = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: this.filterOf(operation, options.natsSubject),
      // One delivery in reserve: an event whose last attempt was cut short still reaches the dead-letter subject.
      max_deliver: policy.maxAttempts + 1,
      ack_wait: nanos(options.ackWaitMs ?? 30_000),
      max_ack_pending: Math.max(1000, prefetchOf(options) * 2),
    };
    if (!declare) return { durable, config };
    const jsm = await this.jsm();
    try {
      await jsm.consumers.add(stream, config);
    } catch (error) {
      if (apiCode(error) !== CONSUMER_EXISTS) throw error;
      await jsm.consumers.update(stream, durable, {
        max_deliver: config.max_deliver,
        ack_wait: config.ack_wait,
        max_ack_pending: config.max_ack_pending,
        filter_subject: config.filter_subject,
      });
    }
    return { durable, config };
  }

  /**
   * Stops every consumer, waits (up to `closeTimeoutMs`) for the handlers and publishes in progress, then
   * drains the connection when the client opened it. Safe to call more than once.
   */
  close(): Promise<void> {
    return this.lifecycle.close(async () => {
      const subscriptions = [...this.subscriptions];
      await shutdownGracefully({
        stopIntake: async () =>
          void (await Promise.allSettled(subscriptions.map((subscription) => subscription.stop()))),
        drain: async () => {
          await Promise.allSettled(subscriptions.map((subscription) => subscription.closed));
          await this.inFlight.drain();
        },
        timeoutMs: this.options.closeTimeoutMs ?? 30_000,
        logger: this.logger,
        release: async () => {
          if (this.connection.isClosed()) return;
          if (this.owned) await this.connection.drain().catch(() => this.connection.close());
          else await this.connection.flush();
        },
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Consumers
// ---------------------------------------------------------------------------------------------

/** A message as every consumer sees it, whatever its kind. */
interface Received {
  subject: string;
  data: Uint8Array;
  headers?: MsgHdrs;
}

abstract class ConsumerBase<T, H, P, M extends Received> implements NatsSubscription {
  subject = '';
  stream?: string;
  durable?: string;
  readonly closed: Promise<void>;
  protected readonly pipeline: ConsumerPipeline<T, H>;
  protected readonly inFlight = new InFlight();
  protected readonly abort = new AbortController();
  protected readonly concurrency: number;
  protected stopping = false;
  private resolveClosed!: () => void;

  constructor(
    protected readonly transport: NatsTransport,
    protected readonly operation: NatsOperation<T, H, P>,
    protected readonly options: NatsConsumerOptions,
    readonly mode: DeliveryMode,
  ) {
    const spec = operation.spec;
    this.pipeline = new ConsumerPipeline<T, H>(
      {
        operation: spec.operation,
        mapping: NATS_HEADER_MAPPING,
        validatePayload: spec.validatePayload,
        validateHeaders: spec.validateHeaders,
      },
      { ...options, validate: options.validate ?? transport.validate },
      transport.logger,
    );
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  abstract start(): Promise<void>;
  /** Stops the flow of messages from the server. */
  protected abstract stopIntake(): Promise<void>;
  /** Handles one message whose headers were read and whose subject matched (in a CONSUMER span when tracing is on). */
  protected abstract process(
    message: M,
    headers: Record<string, string>,
    parameters: P,
    span: ProcessSpan | undefined,
  ): Promise<void>;
  /** Gives up on a message that cannot be processed. */
  protected abstract reject(
    message: M,
    headers: Record<string, string>,
    reason: DeadLetterReason,
    error: string,
    span: ProcessSpan | undefined,
  ): Promise<void>;
  /** What happens to a message taken from the server after the subscription began to stop. */
  protected abstract release(message: M): void;
  /** When processing itself failed (not the handler: the pipeline, the store, the connection). */
  protected abstract failed(message: M, error: unknown): void;

  /** Hands messages to `handle`, at most `concurrency` at once, until the subscription stops. */
  protected async pump(messages: AsyncIterable<M>): Promise<void> {
    const slots = new ConcurrencyLimit(this.concurrency);
    try {
      for await (const message of messages) {
        if (this.stopping) {
          this.release(message);
          continue;
        }
        if (this.concurrency === 1) {
          // One at a time, in order: the loop itself waits, so `closed` resolves only after the handler.
          await this.handle(message);
          continue;
        }
        const wait = slots.acquire();
        if (wait) await wait;
        void this.inFlight.track(this.handle(message)).finally(() => slots.release());
      }
    } catch (error) {
      if (!this.stopping)
        this.transport.logger.error(
          { operation: this.operation.spec.operation, err: errorMessage(error) },
          'NATS subscription failed',
        );
    } finally {
      await this.inFlight.drain();
      this.resolveClosed();
    }
  }

  /** Reads headers and subject, then processes the message; never rejects. */
  private async handle(message: M): Promise<void> {
    try {
      const read = fromNatsHeaders(message.headers);
      const telemetry = this.transport.telemetry;
      if (!telemetry.active) return await this.check(message, read, undefined);
      const prefix = NATS_HEADER_MAPPING.prefix;
      const envelope = {
        id: read.headers[`${prefix}id`],
        traceparent: read.headers[`${prefix}traceparent`],
        tracestate: read.headers[`${prefix}tracestate`],
        correlationid: read.headers[`${prefix}correlationid`],
      };
      // The span is named after the subject filter; the concrete subject is its destination name.
      const attributes = () => ({
        'messaging.destination.name': message.subject,
        'messaging.consumer.group.name': this.durable ?? this.options.queue ?? this.operation.queue,
      });
      await telemetry.process(
        this.transport.destinationOf(this.operation as NatsOperation<unknown, unknown, unknown>),
        envelope,
        attributes,
        (span) => this.check(message, read, span),
      );
    } catch (error) {
      this.failed(message, error);
    }
  }

  private check(
    message: M,
    read: { headers: Record<string, string>; error?: string },
    span: ProcessSpan | undefined,
  ): Promise<void> {
    if (read.error) return this.reject(message, read.headers, 'invalid-envelope', read.error, span);
    const parameters = this.transport.parametersOf(this.operation, message.subject);
    if (parameters === undefined)
      return this.reject(
        message,
        read.headers,
        'invalid-address',
        `subject ${message.subject} does not match the channel`,
        span,
      );
    return this.process(message, read.headers, parameters, span);
  }

  /** Runs the pipeline: decode, validate, de-duplicate, then the handler (each attempt in the span). */
  protected run(
    inbound: InboundEvent,
    parameters: P,
    subject: string,
    sequence: number | undefined,
    retryMode: 'in-process' | 'redelivery',
    span: ProcessSpan | undefined,
    handler: NatsResponder<T, H, P, unknown>,
  ): Promise<Outcome> {
    return this.pipeline.process(
      inbound,
      async (decoded, attempt) => {
        await handler(decoded.payload, {
          headers: decoded.headers,
          envelope: decoded.envelope,
          parameters,
          subject,
          attempt,
          mode: this.mode,
          sequence,
        });
      },
      retryMode,
      this.abort.signal,
      span,
    );
  }

  /** Records an event rejected before the pipeline ran (malformed headers, a subject outside the channel). */
  protected traceDeadLetter(reason: DeadLetterReason, error: string, span: ProcessSpan | undefined): void {
    span?.deadLetter({ reason, error, attempts: 1 });
  }

  /** Dead-letter headers: the event's own headers, and why it could not be processed. */
  protected deadLetterHeaders(
    headers: Record<string, string>,
    reason: DeadLetterReason,
    error: string,
    attempts: number,
    subject: string,
  ): Record<string, string> {
    return {
      ...headers,
      ...deadLetterHeaders(reason, error, attempts, this.operation.spec.operation),
      'x-codegen-subject': subject,
    };
  }

  /** Stops taking messages; handlers in progress go on (`closed` resolves when they are done). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.abort.abort();
    await this.stopIntake().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.stop();
    await this.closed;
  }
}

/** Core NATS: a subscription (with a queue group when given); retries happen in process; at-most-once. */
class CoreConsumer<T, H, P> extends ConsumerBase<T, H, P, Msg> {
  private subscription?: Subscription;

  constructor(
    transport: NatsTransport,
    operation: NatsOperation<T, H, P>,
    private readonly handler: NatsHandler<T, H, P>,
    options: NatsConsumerOptions,
  ) {
    super(transport, operation, options, 'core');
  }

  async start(): Promise<void> {
    this.subject = this.transport.filterOf(
      this.operation as NatsOperation<unknown, unknown, unknown>,
      this.options.natsSubject,
    );
    const queue = this.options.queue ?? this.operation.queue;
    this.subscription = this.transport.connection.subscribe(this.subject, queue ? { queue } : {});
    await this.transport.connection.flush();
    void this.pump(this.subscription);
  }

  protected async stopIntake(): Promise<void> {
    this.subscription?.unsubscribe();
  }

  protected async process(
    message: Msg,
    headers: Record<string, string>,
    parameters: P,
    span: ProcessSpan | undefined,
  ): Promise<void> {
    const outcome = await this.run(
      { body: message.data, headers, deliveryAttempt: 1 },
      parameters,
      message.subject,
      undefined,
      'in-process',
      span,
      this.handler,
    );
    if (outcome.action === 'dead-letter')
      this.deadLetter(message, headers, outcome.reason, outcome.error, outcome.attempts);
    else if (outcome.action === 'requeue')
      this.transport.logger.warn(
        { operation: this.operation.spec.operation },
        'event dropped on shutdown (core NATS cannot give it back)',
      );
  }

  protected async reject(
    message: Msg,
    headers: Record<string, string>,
    reason: DeadLetterReason,
    error: string,
    span: ProcessSpan | undefined,
  ): Promise<void> {
    this.traceDeadLetter(reason, error, span);
    this.deadLetter(message, headers, reason, error, 1);
  }

  protected release(): void {
    // Core NATS has nothing to give back: the event is dropped.
  }

  protected failed(_message: Msg, error: unknown): void {
    this.transport.logger.error(
      { operation: this.operation.spec.operation, err: errorMessage(error) },
      'event lost (core NATS, at-most-once)',
    );
  }

  private deadLetter(
    message: Msg,
    headers: Record<string, string>,
    reason: DeadLetterReason,
    error: string,
    attempts: number,
  ): void {
    this.transport.logger.error(
      { operation: this.operation.spec.operation, reason, err: error },
      'event dead-lettered',
    );
    const subject = this.options.deadLetterSubject ?? this.transport.deadLetterSubjectOf(message.subject);
    this.transport
      .publishDeadLetter(
        subject,
        message.data,
        this.deadLetterHeaders(headers, reason, error, attempts, message.subject),
        undefined,
      )
      .catch((failure: unknown) =>
        this.transport.logger.error(
          { operation: this.operation.spec.operation, subject, err: errorMessage(failure) },
          'dead-letter publish failed; event lost (core NATS)',
        ),
      );
  }
}

function prefetchOf(options: NatsConsumerOptions): number {
  return Math.max(options.prefetch ?? 100, Math.max(1, options.concurrency ?? 1) * 2);
}

/**
 * JetStream: a durable pull consumer. Acknowledged after the handler succeeded; a failure is `nak`ed with
 * the backoff delay (the server counts deliveries); after the last attempt the event goes to the
 * dead-letter subject and is terminated. Long handlers send progress acknowledgements.
 */
class JetStreamConsumer<T, H, P> extends ConsumerBase<T, H, P, JsMsg> {
  private messages?: ConsumerMessages;
  private readonly active = new Map<JsMsg, number>();
  private ticker?: ReturnType<typeof setInterval>;
  private readonly ackWaitMs: number;
  private readonly atMostOnce: boolean;

  constructor(
    transport: NatsTransport,
    operation: NatsOperation<T, H, P>,
    private readonly handler: NatsHandler<T, H, P>,
    options: NatsConsumerOptions,
  ) {
    super(transport, operation, options, 'jetstream');
    this.ackWaitMs = options.ackWaitMs ?? 30_000;
    this.atMostOnce = options.ackMode === 'before-handler';
  }

  async start(): Promise<void> {
    const operation = this.operation as NatsOperation<unknown, unknown, unknown>;
    this.subject = this.transport.filterOf(operation, this.options.natsSubject);
    this.stream = await this.transport.streamOf(operation);
    if (this.options.deadLetterSubject === undefined) await this.transport.deadLetterStreamOf(operation);
    const { durable } = await this.transport.consumerOf(operation, this.stream, this.options);
    this.durable = durable;
    const consumer = await this.transport.js.consumers.get(this.stream, durable);
    this.messages = await consumer.consume({ max_messages: prefetchOf(this.options) });
    // Progress acknowledgements keep the events of slow handlers from being redelivered meanwhile.
    const every = Math.max(100, Math.floor(this.ackWaitMs / 3));
    this.ticker = setInterval(() => {
      const now = Date.now();
      for (const [message, started] of this.active) if (now - started >= every) message.working();
    }, every);
    this.ticker.unref?.();
    void this.pump(this.messages);
  }

  protected async stopIntake(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    await this.messages?.close();
  }

  protected async process(
    message: JsMsg,
    headers: Record<string, string>,
    parameters: P,
    span: ProcessSpan | undefined,
  ): Promise<void> {
    this.active.set(message, Date.now());
    try {
      if (this.atMostOnce) message.ack();
      const inbound = { body: message.data, headers, deliveryAttempt: message.info.deliveryCount };
      const outcome = await this.run(
        inbound,
        parameters,
        message.subject,
        message.seq,
        this.atMostOnce ? 'in-process' : 'redelivery',
        span,
        this.handler,
      );
      switch (outcome.action) {
        case 'ack':
          if (!this.atMostOnce) message.ack();
          return;
        case 'retry':
          message.nak(outcome.delayMs);
          return;
        case 'requeue':
          if (!this.atMostOnce) message.nak();
          return;
        case 'dead-letter':
          return await this.deadLetter(message, headers, outcome.reason, outcome.error, outcome.attempts);
      }
    } finally {
      this.active.delete(message);
    }
  }

  protected reject(
    message: JsMsg,
    headers: Record<string, string>,
    reason: DeadLetterReason,
    error: string,
    span: ProcessSpan | undefined,
  ): Promise<void> {
    this.traceDeadLetter(reason, error, span);
    return this.deadLetter(message, headers, reason, error, message.info.deliveryCount);
  }

  protected release(message: JsMsg): void {
    // Fetched ahead but not started: back to the server at once, for another consumer.
    message.nak();
  }

  protected failed(message: JsMsg, error: unknown): void {
    const delayMs = backoffDelay(this.pipeline.policy, message.info.deliveryCount);
    this.transport.logger.error(
      { operation: this.operation.spec.operation, err: errorMessage(error), delayMs },
      'event processing failed; asking for redelivery',
    );
    if (!this.atMostOnce) message.nak(delayMs);
  }

  /** Publishes the event to the dead-letter subject (stored, confirmed), then terminates it; never loses it. */
  private async deadLetter(
    message: JsMsg,
    headers: Record<string, string>,
    reason: DeadLetterReason,
    error: string,
    attempts: number,
  ): Promise<void> {
    this.transport.logger.error(
      { operation: this.operation.spec.operation, reason, err: error, attempts },
      'event dead-lettered',
    );
    const subject = this.options.deadLetterSubject ?? this.transport.deadLetterSubjectOf(message.subject);
    const dead = this.deadLetterHeaders(headers, reason, error, attempts, message.subject);
    dead['x-codegen-stream'] = message.info.stream;
    dead['x-codegen-stream-sequence'] = String(message.seq);
    try {
      await this.transport.publishDeadLetter(subject, message.data, dead, {
        msgID: `${message.info.stream}:${message.seq}:dead-letter`,
      });
      if (!this.atMostOnce) message.term();
    } catch (failure) {
      // Let the server deliver it again and try the dead-letter subject once more.
      const delayMs = backoffDelay(this.pipeline.policy, attempts);
      this.transport.logger.error(
        { operation: this.operation.spec.operation, subject, err: errorMessage(failure), delayMs },
        'dead-letter publish failed; asking for redelivery',
      );
      if (!this.atMostOnce) message.nak(delayMs);
    }
  }
}

/** The responder of a request/reply operation: core NATS, a queue group, the handler's return value as the reply. */
class Responder<T, H, P, R> extends ConsumerBase<T, H, P, Msg> {
  private subscription?: Subscription;

  constructor(
    transport: NatsTransport,
    operation: NatsOperation<T, H, P>,
    private readonly reply: NatsReplySpec<R>,
    private readonly handler: NatsResponder<T, H, P, R>,
    options: NatsConsumerOptions,
  ) {
    super(transport, operation, options, 'core');
  }

  async start(): Promise<void> {
    this.subject = this.transport.filterOf(
      this.operation as NatsOperation<unknown, unknown, unknown>,
      this.options.natsSubject,
    );
    // Responders share the work by default: one of them answers each request.
    const queue = this.options.queue ?? this.operation.queue ?? this.operation.durable;
    this.subscription = this.transport.connection.subscribe(this.subject, { queue });
    await this.transport.connection.flush();
    void this.pump(this.subscription);
  }

  protected async stopIntake(): Promise<void> {
    this.subscription?.unsubscribe();
  }

  protected async process(
    message: Msg,
    headers: Record<string, string>,
    parameters: P,
    span: ProcessSpan | undefined,
  ): Promise<void> {
    let result: { value: R } | undefined;
    let request: CloudEventAttributes | undefined;
    const outcome = await this.run(
      { body: message.data, headers, deliveryAttempt: 1 },
      parameters,
      message.subject,
      undefined,
      'in-process',
      span,
      async (payload, context) => {
        request = context.envelope;
        result = { value: await this.handler(payload, context) };
      },
    );
    if (outcome.action === 'dead-letter') return this.fail(message, outcome.reason, outcome.error, outcome.attempts);
    if (outcome.action !== 'ack' || !result || !request)
      return this.fail(message, 'handler-failed', 'the responder is shutting down', 0);
    try {
      // The reply continues the trace: the span's context when tracing, else the request's.
      const trace = this.transport.telemetry.replyTraceContext(request);
      const event = this.transport.outbound(
        {
          operation: this.reply.operation,
          type: this.reply.eventType(result.value),
          contentType: this.reply.contentType,
          mapping: NATS_HEADER_MAPPING,
          validatePayload: this.reply.validatePayload,
          validateHeaders: (data: unknown) => ({ ok: true, value: data as Record<string, string> }),
        },
        result.value,
        { correlationId: request.correlationid ?? request.id, ...trace },
      );
      if (!message.respond(event.body, { headers: event.headers }))
        this.transport.logger.warn(
          { operation: this.operation.spec.operation },
          'request without a reply subject: reply dropped',
        );
    } catch (error) {
      this.fail(
        message,
        error instanceof EventValidationError ? error.reason : 'handler-failed',
        errorMessage(error),
        1,
      );
    }
  }

  protected async reject(
    message: Msg,
    _headers: Record<string, string>,
    reason: DeadLetterReason,
    error: string,
    span: ProcessSpan | undefined,
  ): Promise<void> {
    this.traceDeadLetter(reason, error, span);
    this.fail(message, reason, error, 1);
  }

  protected release(message: Msg): void {
    this.fail(message, 'handler-failed', 'the responder is shutting down', 0);
  }

  protected failed(message: Msg, error: unknown): void {
    this.fail(message, 'handler-failed', errorMessage(error), 1);
  }

  /** Tells the requester at once that no reply will come, rather than letting it time out. */
  private fail(message: Msg, reason: DeadLetterReason, error: string, attempts: number): void {
    this.transport.logger.error(
      { operation: this.operation.spec.operation, reason, err: error },
      'request not answered',
    );
    if (!message.reply) return;
    const headers = toNatsHeaders(
      headerSafe(deadLetterHeaders(reason, error, attempts, this.operation.spec.operation)),
    );
    message.respond(new Uint8Array(0), { headers });
  }
}

// ---------------------------------------------------------------------------------------------
// Errors of the NATS client library, recognised by name (they cross package copies)
// ---------------------------------------------------------------------------------------------

const STREAM_NOT_FOUND = 10059;
const SUBJECTS_OVERLAP = 10065;
const CONSUMER_EXISTS = 10148;

function apiCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function chain(error: unknown): string[] {
  const names: string[] = [];
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++)
    names.push(current.name);
  return names;
}

function isTimeout(error: unknown): boolean {
  return chain(error).includes('TimeoutError');
}

function isNoResponders(error: unknown): boolean {
  return chain(error).includes('NoRespondersError');
}

/** JetStream answers "not enabled" when no stream stores the subject (or the server is still starting). */
function isNoStream(error: unknown): boolean {
  return chain(error).includes('JetStreamNotEnabled') || isNoResponders(error);
}

function isTransient(error: unknown): boolean {
  const names = chain(error);
  return isTimeout(error) || isNoStream(error) || names.includes('ConnectionError') || names.includes('RequestError');
}

function withoutCodegenHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(headers)) if (!key.startsWith('x-codegen-')) out[key] = headers[key]!;
  return out;
}
