// The RabbitMQ client behind the generated typed methods: one connection with one confirm channel for
// publishing, a channel per consumer, reconnection that restores topology and consumers, request/reply
// over direct reply-to, and a graceful close. Nothing here depends on the document.
import { randomUUID } from 'node:crypto';
import { connect, type Channel, type ChannelModel, type ConsumeMessage, type SocketOptions } from 'amqplib';
import { decodeJson } from '../codec.js';
import { ConsumerPipeline, type ConsumerOptions, type DecodedEvent } from '../consumer.js';
import {
  applicationHeaders,
  envelopeFromHeaders,
  readEnvelope,
  type CloudEventAttributes,
  type HeaderMapping,
} from '../envelope.js';
import { ClientClosedError, EventValidationError, errorMessage } from '../errors.js';
import { Lifecycle, shutdownGracefully } from '../lifecycle.js';
import { silentLogger, type Logger } from '../logger.js';
import type { OperationSpec } from '../operation.js';
import { prepareOutbound, type OutboundSpec, type PublishOptions } from '../producer.js';
import { ConnectionUnavailableError, Reconnector, type ConnectionEvent, type ReconnectPolicy } from '../reconnect.js';
import { PendingReplies } from '../replies.js';
import { backoffDelay, retryPolicy, sleep } from '../retry.js';
import { Telemetry, type TelemetryOptions } from '../telemetry.js';
import type { ValidationResult } from '../validation.js';
import { QueueConsumer, type ConsumerPlan, type Delivery } from './consumer.js';
import {
  INBOUND_MAPPING,
  inboundHeaders,
  outboundMapping,
  publishOptions,
  type AmqpPublishOptions,
  type CloudEventsPrefix,
  type FixedProperties,
} from './message.js';
import { ConfirmPublisher, type OutgoingMessage } from './publisher.js';
import {
  addressReader,
  bindingKey,
  declareExchange,
  declareQueue,
  formatAddress,
  Naming,
  type ExchangeSpec,
  type QueueSpec,
  type ReceiveSource,
  type SendDestination,
} from './topology.js';

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
  /** Exchange (direct) receiving dead letters, routed by queue name to `<queue>.dlq`. Default: `<serviceName>.dlx`. */
  deadLetterExchange?: string;
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
  /** Passed to amqplib (TLS options, heartbeat through the URL's `?heartbeat=`). */
  socketOptions?: SocketOptions;
  /** Shown in the management UI and `rabbitmqctl list_connections`. Default: the service name. */
  connectionName?: string;
  /** Connection state changes: connected, disconnected, retrying, gave up. */
  onConnectionEvent?: (event: ConnectionEvent) => void;
  /** OpenTelemetry spans and metrics, on when @opentelemetry/api is installed; `{ enabled: false }` turns them off. */
  telemetry?: TelemetryOptions;
}

/** The document's AMQP shape, generated. */
export interface DocumentTopology {
  serviceName: string;
  defaultUrls: readonly string[];
  /** Every exchange the document's operations use. */
  exchanges: readonly ExchangeSpec[];
  /** Queues of `is: queue` channels with fixed names. */
  queues: readonly QueueSpec[];
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

/** RabbitMQ's pseudo-queue for replies: no queue to declare, replies come straight to the requesting channel. */
const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_PREFETCH = 32;

type AnyConsumer = QueueConsumer<unknown, unknown, unknown>;
/** Where one publish goes. */
type Target = { exchange: string; routingKey: string };

export class ClientCore {
  private readonly lifecycle = new Lifecycle();
  private readonly reconnector: Reconnector<ChannelModel>;
  private readonly publisher: ConfirmPublisher;
  private readonly consumers = new Set<AnyConsumer>();
  private readonly replies = new PendingReplies<ConsumeMessage>();
  /** Set once the first request is made: every publisher channel then consumes direct reply-to. */
  private repliesWanted = false;
  private replyConsumers = new WeakMap<Channel, Promise<void>>();
  private readonly naming: Naming;
  private readonly mapping: HeaderMapping;
  private readonly logger: Logger;
  private readonly serviceName: string;
  private readonly defaults: { source: string; validate: boolean };
  private telemetry = Telemetry.disabled('rabbitmq');

  constructor(
    private readonly topology: DocumentTopology,
    private readonly options: ClientOptions,
    defaults: { source: string; validate: boolean },
  ) {
    this.logger = options.logger ?? silentLogger;
    this.serviceName = options.serviceName ?? topology.serviceName;
    this.naming = new Naming(options.namePrefix ?? '');
    this.mapping = outboundMapping(options.cloudEventsPrefix ?? 'cloudEvents:');
    this.defaults = { source: options.source ?? defaults.source, validate: options.validate ?? defaults.validate };
    this.publisher = new ConfirmPublisher(this.logger);
    this.reconnector = this.createReconnector();
  }

  /** Connects (trying each URL, with backoff) and readies the topology; rejects when no attempt succeeds. */
  async start(): Promise<void> {
    this.telemetry = await Telemetry.create('rabbitmq', this.options.telemetry).catch(() =>
      Telemetry.disabled('rabbitmq'),
    );
    await this.reconnector.start();
  }

  async send<T, H, P>(
    route: SendRoute<T, H, P>,
    payload: T,
    options: SendOptions<H> & { parameters?: P },
  ): Promise<Published> {
    this.lifecycle.assertOpen();
    const target = this.target(route.destination, route.spec, options.parameters, options.validate);
    if (!this.telemetry.active) return this.publishNow(route, target, payload, options);
    return this.traced(target, options, (traced) => this.publishNow(route, target, payload, traced));
  }

  private async publishNow<T, H, P>(
    route: SendRoute<T, H, P>,
    target: Target,
    payload: T,
    options: SendOptions<H>,
  ): Promise<Published> {
    const { exchange, routingKey } = target;
    const event = prepareOutbound(this.outboundSpec(route.spec, payload), payload, options, this.defaults);
    const message = {
      exchange,
      routingKey,
      body: toBuffer(event.body),
      options: publishOptions(event, route.properties, options),
    };
    await this.publisher.publish(message, {
      timeoutMs: options.timeoutMs ?? this.publishTimeoutMs,
      resend: true,
      signal: this.lifecycle.signal,
    });
    return { id: event.envelope.id, exchange, routingKey, envelope: event.envelope };
  }

  /**
   * Sends a request and resolves with its validated reply. The request's event id is its AMQP correlation
   * id, which the responder echoes. Requests are not sent again after a lost connection (the reply would
   * have nowhere to go): they fail, and so do requests still waiting when the connection drops.
   */
  async request<T, H, P, R>(
    route: RequestRoute<T, H, P, R>,
    payload: T,
    options: RequestOptions<H> & { parameters?: P },
  ): Promise<RabbitReply<R>> {
    this.lifecycle.assertOpen();
    const target = this.target(route.destination, route.spec, options.parameters, options.validate);
    if (!this.telemetry.active) return this.requestNow(route, target, payload, options);
    return this.traced(target, options, (traced) => this.requestNow(route, target, payload, traced));
  }

  private async requestNow<T, H, P, R>(
    route: RequestRoute<T, H, P, R>,
    target: Target,
    payload: T,
    options: RequestOptions<H>,
  ): Promise<RabbitReply<R>> {
    const { exchange, routingKey } = target;
    const event = prepareOutbound(this.outboundSpec(route.spec, payload), payload, options, this.defaults);
    const correlationId = event.envelope.id;
    const timeoutMs = options.timeoutMs ?? this.options.replyTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    await this.listenForReplies(timeoutMs);
    const reply = this.replies.wait(correlationId, route.spec.operation, timeoutMs);
    const amqpOptions = publishOptions(event, route.properties, {
      ...options,
      replyTo: DIRECT_REPLY_TO,
      correlationId,
    });
    this.publisher
      .publish(
        { exchange, routingKey, body: toBuffer(event.body), options: amqpOptions },
        { timeoutMs, resend: false, signal: this.lifecycle.signal },
      )
      .catch((error: unknown) => this.replies.reject(correlationId, error));
    return this.decodeReply(route.reply, await reply, options.validate);
  }

  subscribe<T, H, P>(
    route: ReceiveRoute<T, H, P>,
    handler: EventHandler<T, H, P>,
    options: SubscribeOptions<P>,
  ): Promise<Subscription> {
    return this.startConsumer(
      route,
      async (decoded, delivery) => handler(decoded.payload, contextOf(decoded, delivery)),
      undefined,
      options,
    );
  }

  /** Consumes requests; the handler's result is validated and sent to the request's reply-to before the ack. */
  respond<T, H, P, R>(
    route: RespondRoute<T, H, P, R>,
    handler: RequestHandler<T, H, P, R>,
    options: SubscribeOptions<P>,
  ): Promise<Subscription> {
    const validate = options.validate ?? this.defaults.validate;
    return this.startConsumer(
      route,
      // Preparing the reply inside the handler step makes an invalid reply a handler failure: retried, then dead-lettered.
      async (decoded, delivery) =>
        this.prepareReply(
          route,
          await handler(decoded.payload, contextOf(decoded, delivery)),
          decoded.envelope,
          delivery.message,
          validate,
        ),
      async (reply) => {
        if (reply)
          await this.publisher.publish(reply as OutgoingMessage, {
            timeoutMs: this.publishTimeoutMs,
            resend: true,
            signal: this.lifecycle.signal,
          });
      },
      options,
    );
  }

  /** Runs a publish in a PRODUCER span; the span's trace context goes into the envelope unless the caller gave one. */
  private traced<O extends PublishOptions<unknown>, R>(
    target: Target,
    options: O,
    publish: (options: O) => Promise<R>,
  ): Promise<R> {
    const id = options.id ?? randomUUID();
    const attributes = () => ({ 'messaging.rabbitmq.destination.routing_key': target.routingKey });
    return this.telemetry.publish(
      target.exchange || 'amq.default',
      { id, correlationId: options.correlationId },
      attributes,
      (trace) => publish(options.traceparent === undefined ? { ...options, id, ...trace } : { ...options, id }),
    );
  }

  /** Declares the document's exchanges and `is: queue` queues. Idempotent: safe on every start. */
  async declareTopology(): Promise<void> {
    this.lifecycle.assertOpen();
    const connection = await this.reconnector.next(this.publishTimeoutMs, this.lifecycle.signal);
    await withChannel(connection, (channel) => this.declareDocumentTopology(channel));
  }

  /**
   * Stops every consumer, waits (up to `closeTimeoutMs`) for handlers in progress and for the confirms of
   * events already published, then closes channels and connection. Later calls share the same promise.
   */
  close(): Promise<void> {
    return this.lifecycle.close(async () => {
      const consumers = [...this.consumers];
      await shutdownGracefully({
        stopIntake: async () => void (await Promise.all(consumers.map((consumer) => consumer.stopIntake()))),
        drain: async () => void (await Promise.all(consumers.map((consumer) => consumer.drain()))),
        timeoutMs: this.options.closeTimeoutMs ?? DEFAULT_TIMEOUT_MS,
        release: () => this.release(consumers),
        logger: this.logger,
      });
    });
  }

  private get publishTimeoutMs(): number {
    return this.options.publishTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  private createReconnector(): Reconnector<ChannelModel> {
    const given = this.options.connection;
    const urls = given ? ['(the connection given to the client)'] : (this.options.urls ?? this.topology.defaultUrls);
    const connectionName = this.options.connectionName ?? this.serviceName;
    return new Reconnector<ChannelModel>(
      urls,
      {
        // A given connection is used once: with `maxAttempts: 0` below, its loss is final.
        open: async (url) =>
          given ??
          connect(url, { ...this.options.socketOptions, clientProperties: { connection_name: connectionName } }),
        setup: (connection) => this.setUp(connection),
        watch: (connection, lost) => watchConnection(connection, lost, this.logger),
        // A connection the application gave us is the application's to close.
        close: async (connection) => {
          if (connection !== given) await connection.close();
        },
      },
      given ? { ...this.options.reconnect, maxAttempts: 0 } : this.options.reconnect,
      this.logger,
      (event) => {
        if (event.type === 'gave-up') this.gaveUp(event.error);
        this.options.onConnectionEvent?.(event);
      },
    );
  }

  /** No connection will come back: everything waiting for one fails now rather than at its timeout. */
  private gaveUp(error: string): void {
    this.publisher.detach(`gave up reconnecting to RabbitMQ: ${error}`);
    this.replies.rejectAll(new ConnectionUnavailableError(`gave up reconnecting to RabbitMQ: ${error}`));
  }

  /** Readies a new connection: topology, the publisher's confirm channel, then every consumer. */
  private async setUp(connection: ChannelModel): Promise<void> {
    if (this.declares) await withChannel(connection, (channel) => this.declareDocumentTopology(channel));
    await this.openPublisher(connection);
    for (const consumer of this.consumers) {
      // One consumer that cannot start (say, its queue is declared differently) must not keep the others down.
      await consumer.start(connection).catch((error: unknown) => {
        this.logger.error(
          { queue: consumer.queue, err: errorMessage(error) },
          'restarting a consumer failed; trying again',
        );
        void consumer.restartLater(connection);
      });
    }
  }

  private get declares(): boolean {
    return this.options.declareTopology !== false;
  }

  private async declareDocumentTopology(channel: Channel): Promise<void> {
    for (const exchange of this.topology.exchanges)
      await declareExchange(channel, exchange, this.naming.of(exchange.name));
    for (const queue of this.topology.queues)
      await declareQueue(channel, queue, this.naming.of(formatAddress(queue.name, {})));
  }

  private async openPublisher(connection: ChannelModel): Promise<void> {
    const channel = await connection.createConfirmChannel();
    // Direct reply-to must be consumed on the channel that publishes the requests, before any is published.
    if (this.repliesWanted) await this.consumeReplies(channel);
    this.publisher.attach(channel, (error) => this.publisherClosed(connection, error));
  }

  /** A publisher channel closed: replies it was to carry are lost, and on a live connection it is reopened. */
  private publisherClosed(connection: ChannelModel, error: Error | undefined): void {
    this.replies.rejectAll(
      new ConnectionUnavailableError(`the channel closed before the reply arrived${error ? `: ${error.message}` : ''}`),
    );
    if (this.lifecycle.isOpen && this.reconnector.connection === connection) void this.reopenPublisher(connection);
  }

  private async reopenPublisher(connection: ChannelModel): Promise<void> {
    const policy = retryPolicy({ initialDelayMs: 50, maxDelayMs: 5_000 });
    for (let attempt = 1; this.lifecycle.isOpen && this.reconnector.connection === connection; attempt++) {
      try {
        return await this.openPublisher(connection);
      } catch (error) {
        this.logger.warn({ attempt, err: errorMessage(error) }, 'reopening the publisher channel failed');
        if (!(await sleep(backoffDelay(policy, attempt), this.lifecycle.signal))) return;
      }
    }
  }

  private async listenForReplies(timeoutMs: number): Promise<void> {
    this.repliesWanted = true;
    const channel = this.publisher.current;
    if (channel) await this.consumeReplies(channel);
    else await this.reconnector.next(timeoutMs, this.lifecycle.signal); // the next publisher channel listens from the start
  }

  private consumeReplies(channel: Channel): Promise<void> {
    let consuming = this.replyConsumers.get(channel);
    if (!consuming) {
      consuming = channel
        .consume(DIRECT_REPLY_TO, (message) => this.receiveReply(message), { noAck: true })
        .then(() => undefined);
      this.replyConsumers.set(channel, consuming);
    }
    return consuming;
  }

  private receiveReply(message: ConsumeMessage | null): void {
    const correlationId: unknown = message?.properties.correlationId;
    if (!message || typeof correlationId !== 'string' || !this.replies.resolve(correlationId, message)) {
      this.logger.debug({ correlationId }, 'reply nobody waits for (late or duplicate); dropped');
    }
  }

  private decodeReply<R>(spec: ReplySpec<R>, message: ConsumeMessage, validate: boolean | undefined): RabbitReply<R> {
    const body = decodeJson(message.content);
    if (!body.ok)
      throw new EventValidationError('not-json', `reply to ${spec.operation}`, [
        { pointer: '', rule: 'json', message: body.error },
      ]);
    let payload = body.value as R;
    if (validate ?? this.defaults.validate) {
      const checked = spec.validatePayload(body.value);
      if (!checked.ok) throw new EventValidationError('invalid-payload', `reply to ${spec.operation}`, checked.issues);
      payload = checked.value;
    }
    const headers = inboundHeaders(message);
    const envelope = readEnvelope(envelopeFromHeaders(headers, INBOUND_MAPPING));
    return {
      payload,
      headers: applicationHeaders(headers, INBOUND_MAPPING),
      envelope: envelope.ok ? envelope.value : undefined,
    };
  }

  private prepareReply<T, H, P, R>(
    route: RespondRoute<T, H, P, R>,
    reply: R,
    request: CloudEventAttributes,
    message: ConsumeMessage,
    validate: boolean,
  ): OutgoingMessage | undefined {
    const replyTo = replyAddressOf(message, route.reply.replyToHeader);
    const destination =
      replyTo !== undefined
        ? { exchange: '', routingKey: replyTo }
        : route.reply.destination && this.target(route.reply.destination, undefined, {}, false);
    if (!destination) {
      this.logger.warn(
        { operation: route.spec.operation, eventId: request.id },
        'request without reply-to and no reply address in the document; reply dropped',
      );
      return undefined;
    }
    const spec: OutboundSpec<R, Record<string, string>> = {
      operation: route.reply.operation,
      type: route.reply.eventType(reply),
      contentType: route.reply.contentType,
      mapping: this.mapping,
      validatePayload: route.reply.validatePayload,
      validateHeaders: (data) => ({ ok: true, value: data as Record<string, string> }),
    };
    // The reply continues the trace of the request: the consumer span (the active one here) when traced, else the request's context.
    const event = prepareOutbound(
      spec,
      reply,
      { correlationId: request.correlationid, validate, ...this.telemetry.replyTraceContext(request) },
      this.defaults,
    );
    const correlationId: unknown = message.properties.correlationId;
    const options = publishOptions(event, route.reply.properties, {
      correlationId: typeof correlationId === 'string' ? correlationId : request.id,
    });
    return { ...destination, body: toBuffer(event.body), options };
  }

  private async startConsumer<T, H, P>(
    route: ReceiveRoute<T, H, P>,
    handler: (decoded: DecodedEvent<T, H>, delivery: Delivery<P>) => Promise<unknown>,
    afterSuccess: ((result: unknown) => Promise<void>) | undefined,
    options: SubscribeOptions<P>,
  ): Promise<Subscription> {
    this.lifecycle.assertOpen();
    const validate = options.validate ?? this.defaults.validate;
    const plan = this.consumerPlan(route, options, validate);
    const inbound = {
      operation: route.spec.operation,
      mapping: INBOUND_MAPPING,
      validatePayload: route.spec.validatePayload,
      validateHeaders: route.spec.validateHeaders,
    };
    const pipeline = new ConsumerPipeline<T, H>(inbound, { ...options, ackMode: undefined, validate }, this.logger);
    const consumer = new QueueConsumer<T, H, P>(plan, pipeline, handler, {
      publish: (message) =>
        this.publisher.publish(message, {
          timeoutMs: this.publishTimeoutMs,
          resend: false,
          signal: this.lifecycle.signal,
        }),
      afterSuccess,
      isLive: (connection) => this.reconnector.connection === connection,
      logger: this.logger,
      telemetry: this.telemetry,
    }) as unknown as AnyConsumer;
    this.consumers.add(consumer);
    try {
      await this.startOnLiveConnection(consumer);
    } catch (error) {
      this.consumers.delete(consumer);
      throw error;
    }
    return {
      get queue() {
        return consumer.queue;
      },
      close: () => this.stopConsumer(consumer),
    };
  }

  /** Starts a new consumer now; if the connection drops meanwhile, the reconnect starts it (and this waits). */
  private async startOnLiveConnection(consumer: AnyConsumer): Promise<void> {
    for (;;) {
      const connection = await this.reconnector.next(this.publishTimeoutMs, this.lifecycle.signal);
      try {
        return await consumer.start(connection);
      } catch (error) {
        if (this.reconnector.connection === connection) throw error;
      }
    }
  }

  private async stopConsumer(consumer: AnyConsumer): Promise<void> {
    if (!this.consumers.delete(consumer)) return;
    await shutdownGracefully({
      stopIntake: () => consumer.stopIntake(),
      drain: () => consumer.drain(),
      timeoutMs: this.options.closeTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      release: () => consumer.release(),
      logger: this.logger,
    });
  }

  private consumerPlan<T, H, P>(
    route: ReceiveRoute<T, H, P>,
    options: SubscribeOptions<P>,
    validate: boolean,
  ): ConsumerPlan<P> {
    const source = route.source;
    const defaultQueue = `${this.serviceName}.${route.spec.operation}`;
    const parametersOf = parameterReader(route.spec, source, validate);
    let queueName: string;
    let queue: ConsumerPlan<P>['queue'];
    let bindings: ConsumerPlan<P>['bindings'] = [];
    if (source.kind === 'queue') {
      queueName = this.naming.of(options.queue ?? formatAddress(source.queue.name, options.parameters));
      queue = { ...source.queue, name: queueName };
    } else {
      queueName = this.naming.of(options.queue ?? defaultQueue);
      queue = options.exclusive
        ? { name: '', durable: false, exclusive: true, autoDelete: true }
        : { name: queueName, durable: true, exclusive: false, autoDelete: false };
      const key = bindingKey(
        source.exchange.type,
        source.routingKey,
        options.parameters as Record<string, unknown> | undefined,
      );
      bindings = [{ exchange: source.exchange, exchangeName: this.naming.of(source.exchange.name), key }];
    }
    const atMostOnce =
      options.ackMode === 'auto' ||
      options.ackMode === 'before-handler' ||
      (options.ackMode === undefined && !route.ack);
    return {
      operation: route.spec.operation,
      queue,
      bindings,
      deadLetter:
        options.deadLetter === false
          ? undefined
          : {
              exchange: this.naming.of(this.options.deadLetterExchange ?? `${this.serviceName}.dlx`),
              queue: `${queueName}.dlq`,
              routingKey: queueName,
            },
      prefetch: options.concurrency ?? this.options.prefetch ?? DEFAULT_PREFETCH,
      ackMode: atMostOnce ? 'before-handler' : 'after-handler',
      declare: this.declares,
      parameters: (message) =>
        parametersOf(
          source.kind === 'queue' ? queueName.slice((this.options.namePrefix ?? '').length) : message.fields.routingKey,
        ),
    };
  }

  /** The exchange and routing key of a publish, with the parameters checked against the document. */
  private target<P>(
    destination: SendDestination,
    spec: OperationSpec<unknown, unknown, P> | undefined,
    parameters: P | undefined,
    validate: boolean | undefined,
  ): Target {
    if (spec && spec.parameterNames.length > 0 && (validate ?? this.defaults.validate)) {
      const checked = spec.validateParameters(parameters ?? {});
      if (!checked.ok)
        throw new EventValidationError('invalid-address', `parameters of ${spec.operation}`, checked.issues);
    }
    if (destination.kind === 'queue')
      return { exchange: '', routingKey: this.naming.of(formatAddress(destination.queue.name, parameters)) };
    return {
      exchange: this.naming.of(destination.exchange.name),
      routingKey: formatAddress(destination.routingKey, parameters),
    };
  }

  private outboundSpec<T, H, P>(spec: OperationSpec<T, H, P>, payload: T): OutboundSpec<T, H> {
    return {
      operation: spec.operation,
      type: spec.eventType(payload),
      contentType: spec.contentType,
      mapping: this.mapping,
      validatePayload: spec.validatePayload,
      validateHeaders: spec.validateHeaders,
    };
  }

  private async release(consumers: AnyConsumer[]): Promise<void> {
    await this.publisher.settle(this.options.closeTimeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.replies.rejectAll(new ClientClosedError());
    await Promise.all(consumers.map((consumer) => consumer.release()));
    this.consumers.clear();
    const channel = this.publisher.detach('the client is closed');
    await channel?.close().catch(() => undefined);
    await this.reconnector.close();
  }
}

/**
 * Reads typed channel parameters from a routing key (or queue name); validated unless validation is off.
 * A consumer sees few distinct routing keys, so results are remembered (a bounded number of them) and
 * each message gets its own copy.
 */
function parameterReader<P>(
  spec: OperationSpec<unknown, unknown, P>,
  source: ReceiveSource,
  validate: boolean,
): (address: string) => ValidationResult<P> {
  const read = addressReader(source.kind === 'queue' ? source.queue.name : source.routingKey);
  const known = new Map<string, ValidationResult<P>>();
  const parse = (address: string): ValidationResult<P> => {
    const values = read(address);
    if (values === undefined)
      return {
        ok: false,
        issues: [{ pointer: '', rule: 'pattern', message: `"${address}" does not match the channel address` }],
      };
    return validate ? spec.validateParameters(values) : { ok: true, value: values as P };
  };
  return (address) => {
    let result = known.get(address);
    if (result === undefined) {
      if (known.size >= 1024) known.clear();
      result = parse(address);
      known.set(address, result);
    }
    return result.ok ? { ok: true, value: { ...result.value } } : result;
  };
}

/** The queue a request wants its reply in: the reply-to property, else the header the document names. */
function replyAddressOf(message: ConsumeMessage, header: string | undefined): string | undefined {
  const property: unknown = message.properties.replyTo;
  if (typeof property === 'string' && property !== '') return property;
  const value: unknown = header === undefined ? undefined : message.properties.headers?.[header];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function contextOf<H, P>(decoded: DecodedEvent<unknown, H>, delivery: Delivery<P>): MessageContext<H, P> {
  const { message } = delivery;
  return {
    envelope: decoded.envelope,
    headers: decoded.headers,
    parameters: delivery.parameters,
    attempt: delivery.attempt,
    redelivered: message.fields.redelivered,
    exchange: message.fields.exchange,
    routingKey: message.fields.routingKey,
    signal: delivery.signal,
    message,
  };
}

function watchConnection(connection: ChannelModel, lost: (error: unknown) => void, logger: Logger): void {
  // amqplib emits 'error' before 'close' on a failed connection; without a listener it would throw.
  connection.on('error', (error: Error) => logger.warn({ err: error.message }, 'connection error'));
  connection.on('close', (error?: Error) => lost(error ?? new Error('connection closed')));
  connection.on('blocked', (reason: string) =>
    logger.warn({ reason }, 'RabbitMQ blocked the connection (resource alarm); publishes wait'),
  );
  connection.on('unblocked', () => logger.info({}, 'RabbitMQ unblocked the connection'));
}

async function withChannel(connection: ChannelModel, work: (channel: Channel) => Promise<void>): Promise<void> {
  const channel = await connection.createChannel();
  // A failed declaration closes the channel with an 'error' event; the failure itself rejects `work`.
  channel.on('error', () => undefined);
  try {
    await work(channel);
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** amqplib wants a Buffer; this one shares the encoded bytes instead of copying them. */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
