// Consuming: one consumer (`QueueConsumer`: its channel, queue, bindings and dead-letter route, every message
// through the shared pipeline, then settled), planned from the document and its options, and the client's
// set of them (`Consumers`: started on the live connection, restarted on every new one, stopped at close).
import { setMaxListeners } from 'node:events';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import {
  ConsumerPipeline,
  inboundSpecOf,
  InFlight,
  deadLetterHeaders,
  type DecodedEvent,
  type InboundEvent,
  type Outcome,
} from '../consumer.js';
import { errorMessage } from '../errors.js';
import { shutdownGracefully, type Lifecycle, type ShutdownSteps } from '../lifecycle.js';
import { ConcurrencyLimit } from '../limiter.js';
import type { Logger } from '../logger.js';
import { backoffDelay, retryPolicy, sleep } from '../retry.js';
import type { ProcessSpan, Telemetry } from '../telemetry.js';
import type { ValidationResult } from '../validation.js';
import type { RabbitConnection } from './connection.js';
import { INBOUND_MAPPING, formatAddress, inboundEvent, parameterReader, type OutgoingMessage } from './message.js';
import type { MessageContext, ReceiveRoute, Settings, SubscribeOptions, Subscription } from './options.js';
import type { ConfirmPublisher } from './publisher.js';
import { Settlements } from './settlements.js';
import {
  bindingKey,
  declareDeadLetterRoute,
  declareExchange,
  declareQueue,
  queueTypeOf,
  type DeadLetterRoute,
  type ExchangeSpec,
  type QueueType,
} from './topology.js';

/** One consumer's queue and how it treats messages, resolved from the document and the consumer's options. */
export interface ConsumerPlan<P> {
  operation: string;
  /** '' asks the broker for a server-named queue (exclusive consumers). */
  queue: { name: string; durable: boolean; exclusive: boolean; autoDelete: boolean; type: QueueType | undefined };
  /** Exchanges the queue is bound to, with the binding key; empty for `is: queue` channels. */
  bindings: Array<{ exchange: ExchangeSpec; exchangeName: string; key: string }>;
  deadLetter: DeadLetterRoute | undefined;
  prefetch: number;
  /** `after-handler`: at-least-once. `before-handler`: at-most-once (acknowledged when the handler starts). */
  ackMode: 'after-handler' | 'before-handler';
  declare: boolean;
  /** The channel parameters of a message (from its routing key); a failure dead-letters the message. */
  parameters(message: ConsumeMessage): ValidationResult<P>;
}

/** What a handler learns about the delivery besides the decoded event. */
export interface Delivery<P> {
  message: ConsumeMessage;
  parameters: P;
  attempt: number;
  /** Aborted when the consumer stops. */
  signal: AbortSignal;
}

/** Runs the application's handler; what it resolves with is given to `afterSuccess` (a reply to send). */
export type DeliveryHandler<T, H, P> = (decoded: DecodedEvent<T, H>, delivery: Delivery<P>) => Promise<unknown>;

export interface ConsumerServices {
  /** Publishes (and awaits the confirm of) a dead letter or a reply. */
  publish(message: OutgoingMessage): Promise<void>;
  /** Runs once the handler succeeded, before the acknowledgement (sends the reply of a request). */
  afterSuccess?(result: unknown): Promise<void>;
  /** True while `connection` is the client's live connection. */
  isLive(connection: ChannelModel): boolean;
  logger: Logger;
  /** Consumer spans and metrics when OpenTelemetry is present. */
  telemetry: Telemetry;
}

const noop = () => undefined;

/**
 * One consumer: its own channel (so its prefetch is its own), its queue declared with bindings and a
 * dead-letter route, and every message taken through the shared pipeline, then acknowledged, dead-lettered
 * or given back. `start()` runs again on every new connection; a channel the broker closes on its own
 * (queue deleted, consumer cancelled) is reopened with backoff.
 */
export class QueueConsumer<T, H, P> {
  private run: { connection: ChannelModel; opening: Promise<void> } | undefined;
  private channel: Channel | undefined;
  private settlements: Settlements | undefined;
  private consumerTag: string | undefined;
  private queueName: string;
  private stopped = false;
  private readonly stopping = new AbortController();
  private readonly inFlight = new InFlight();
  private readonly slots: ConcurrencyLimit;

  constructor(
    private readonly plan: ConsumerPlan<P>,
    private readonly pipeline: ConsumerPipeline<T, H>,
    private readonly handler: DeliveryHandler<T, H, P>,
    private readonly services: ConsumerServices,
  ) {
    this.queueName = plan.queue.name;
    this.slots = new ConcurrencyLimit(plan.prefetch);
    // Each message waiting to retry listens to this signal: up to the prefetch at once, not a leak.
    setMaxListeners(0, this.stopping.signal);
  }

  /** The queue consumed (the broker's name for a server-named queue once started). */
  get queue(): string {
    return this.queueName;
  }

  /** Starts consuming on `connection`; a second call for the same connection shares the first. */
  start(connection: ChannelModel): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.run?.connection === connection) return this.run.opening;
    const opening = this.open(connection);
    const run = { connection, opening };
    this.run = run;
    opening.catch(() => {
      if (this.run === run) this.run = undefined;
    });
    return opening;
  }

  /** Stops taking messages: cancels the consumer and ends retry waits (those events go back to the queue). */
  async stopIntake(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    const { channel, consumerTag } = this;
    if (channel && consumerTag) await channel.cancel(consumerTag).catch(noop);
  }

  /** Resolves when every handler in progress has settled. */
  drain(): Promise<void> {
    return this.inFlight.drain();
  }

  /** Closes the channel; unacknowledged messages go back to the queue. */
  async release(): Promise<void> {
    const channel = this.channel;
    this.channel = undefined;
    this.settlements?.flush();
    if (channel) await channel.close().catch(noop);
  }

  private async open(connection: ChannelModel): Promise<void> {
    const channel = await connection.createChannel();
    channel.on('error', (error: Error) =>
      this.services.logger.warn({ operation: this.plan.operation, err: error.message }, 'consumer channel failed'),
    );
    channel.on('close', () => this.channelClosed(connection, channel));
    try {
      await channel.prefetch(this.plan.prefetch);
      if (this.plan.declare) this.queueName = await this.declare(channel);
      const settlements = new Settlements(channel);
      const { consumerTag } = await channel.consume(
        this.queueName,
        (message) => this.receive(channel, settlements, message),
        { noAck: false },
      );
      this.channel = channel;
      this.settlements = settlements;
      this.consumerTag = consumerTag;
      this.services.logger.info({ operation: this.plan.operation, queue: this.queueName }, 'consuming');
    } catch (error) {
      await channel.close().catch(noop);
      throw error;
    }
  }

  private async declare(channel: Channel): Promise<string> {
    const { plan } = this;
    const queue = await declareQueue(channel, plan.queue, plan.queue.name);
    for (const binding of plan.bindings) {
      await declareExchange(channel, binding.exchange, binding.exchangeName);
      await channel.bindQueue(queue, binding.exchangeName, binding.key);
    }
    if (plan.deadLetter) await declareDeadLetterRoute(channel, plan.deadLetter);
    return queue;
  }

  private channelClosed(connection: ChannelModel, channel: Channel): void {
    if (this.channel !== channel) return;
    this.channel = undefined;
    this.consumerTag = undefined;
    this.run = undefined;
    // After a lost connection the client's reconnect starts every consumer again; only a channel closed
    // on a live connection (queue deleted, consumer cancelled by the broker) is reopened here.
    if (!this.stopped && this.services.isLive(connection)) void this.restartLater(connection);
  }

  /** Starts again with backoff for as long as `connection` is the live one (and the consumer runs). */
  async restartLater(connection: ChannelModel): Promise<void> {
    const policy = retryPolicy({ initialDelayMs: 200, maxDelayMs: 10_000 });
    for (let attempt = 1; !this.stopped && this.services.isLive(connection); attempt++) {
      if (!(await sleep(backoffDelay(policy, attempt), this.stopping.signal))) return;
      try {
        await this.start(connection);
        return;
      } catch (error) {
        this.services.logger.warn(
          { operation: this.plan.operation, attempt, err: errorMessage(error) },
          'reopening the consumer failed',
        );
      }
    }
  }

  private receive(channel: Channel, settlements: Settlements, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer (its queue was deleted): start over on a fresh channel.
      this.services.logger.warn(
        { operation: this.plan.operation, queue: this.queueName },
        'consumer cancelled by the broker',
      );
      void channel.close().catch(noop);
      return;
    }
    settlements.received(message);
    void this.inFlight.track(this.settle(settlements, message));
  }

  /** Takes one message to its end. Never rejects: whatever fails, the message is acknowledged or given back. */
  private async settle(settlements: Settlements, message: ConsumeMessage): Promise<void> {
    const atMostOnce = this.plan.ackMode === 'before-handler';
    if (atMostOnce) {
      await this.slots.acquire();
      if (this.stopped) {
        // Stopped while waiting for a slot: not acknowledged yet, so it can still go back to the queue.
        this.slots.release();
        return settlements.settle(message, 'requeue');
      }
      settlements.settle(message, 'ack');
    }
    try {
      await this.traced(message, (event, span) => this.handle(settlements, message, event, span, atMostOnce));
    } catch (error) {
      this.services.logger.error(
        { operation: this.plan.operation, err: errorMessage(error) },
        'message handling failed; returning it to the queue',
      );
      if (!atMostOnce) settlements.settle(message, 'requeue');
    } finally {
      if (atMostOnce) this.slots.release();
    }
  }

  /** Runs `work` in a CONSUMER span whose parent is the event's trace context, when tracing is on. */
  private traced(
    message: ConsumeMessage,
    work: (event: InboundEvent, span: ProcessSpan | undefined) => Promise<void>,
  ): Promise<void> {
    const event = inboundEvent(message);
    const { telemetry } = this.services;
    if (!telemetry.active) return work(event, undefined);
    const attribute = (name: string) =>
      typeof event.headers[INBOUND_MAPPING.prefix + name] === 'string'
        ? (event.headers[INBOUND_MAPPING.prefix + name] as string)
        : undefined;
    const envelope = {
      id: attribute('id'),
      traceparent: attribute('traceparent'),
      tracestate: attribute('tracestate'),
      correlationid: attribute('correlationid'),
    };
    const attributes = () => ({
      'messaging.rabbitmq.destination.routing_key': message.fields.routingKey,
      'messaging.rabbitmq.message.delivery_tag': message.fields.deliveryTag,
    });
    // RabbitMQ's destination, per the messaging conventions, is the exchange ('' is the default one).
    return telemetry.process(message.fields.exchange || 'amq.default', envelope, attributes, (span) =>
      work(event, span),
    );
  }

  private async handle(
    settlements: Settlements,
    message: ConsumeMessage,
    event: InboundEvent,
    span: ProcessSpan | undefined,
    acknowledged: boolean,
  ): Promise<void> {
    // Retries, duplicates, invalid events and dead-lettering are recorded on the span by the shared pipeline.
    const { outcome, result } = await this.process(message, event, span);
    await this.act(settlements, message, outcome, result, acknowledged);
  }

  private async process(
    message: ConsumeMessage,
    event: InboundEvent,
    span: ProcessSpan | undefined,
  ): Promise<{ outcome: Outcome; result: unknown }> {
    const parameters = this.plan.parameters(message);
    if (!parameters.ok) {
      const error = `routing key "${message.fields.routingKey}" does not match the channel: ${parameters.issues.map((issue) => `${issue.pointer || '/'} ${issue.message}`).join('; ')}`;
      this.services.logger.error(
        { operation: this.plan.operation, reason: 'invalid-address', err: error, traceId: span?.traceId },
        'event dead-lettered',
      );
      span?.deadLetter({ reason: 'invalid-address', error, attempts: 1 });
      return { outcome: { action: 'dead-letter', reason: 'invalid-address', error, attempts: 1 }, result: undefined };
    }
    let result: unknown;
    const outcome = await this.pipeline.process(
      event,
      async (decoded, attempt) => {
        result = await this.handler(decoded, {
          message,
          parameters: parameters.value,
          attempt,
          signal: this.stopping.signal,
        });
      },
      'in-process',
      this.stopping.signal,
      span,
    );
    return { outcome, result };
  }

  private async act(
    settlements: Settlements,
    message: ConsumeMessage,
    outcome: Outcome,
    result: unknown,
    acknowledged: boolean,
  ): Promise<void> {
    switch (outcome.action) {
      case 'ack':
        if (!outcome.duplicate) await this.afterSuccess(result);
        if (!acknowledged) settlements.settle(message, 'ack');
        return;
      case 'dead-letter':
        return this.deadLetter(settlements, message, outcome, acknowledged);
      case 'retry':
      case 'requeue':
        if (!acknowledged) settlements.settle(message, 'requeue');
        return;
    }
  }

  /** A reply that cannot be sent is logged, not retried: the handler's work is done and must not run again. */
  private async afterSuccess(result: unknown): Promise<void> {
    try {
      await this.services.afterSuccess?.(result);
    } catch (error) {
      this.services.logger.error(
        { operation: this.plan.operation, err: errorMessage(error) },
        'sending the reply failed',
      );
    }
  }

  /**
   * Publishes the message, untouched, to the dead-letter exchange with the reason in its headers, then
   * acknowledges it. If that publish fails, the message goes back to the queue rather than being lost.
   * Without a dead-letter route the message is rejected, for the queue's own dead-letter policy, if any.
   */
  private async deadLetter(
    settlements: Settlements,
    message: ConsumeMessage,
    outcome: Extract<Outcome, { action: 'dead-letter' }>,
    acknowledged: boolean,
  ): Promise<void> {
    const route = this.plan.deadLetter;
    if (!route) {
      if (!acknowledged) settlements.settle(message, 'reject');
      return;
    }
    try {
      await this.services.publish(this.deadLetterMessage(message, outcome, route));
      if (!acknowledged) settlements.settle(message, 'ack');
    } catch (error) {
      this.services.logger.error(
        { operation: this.plan.operation, err: errorMessage(error) },
        'dead-lettering failed; returning the event to the queue',
      );
      if (!acknowledged) settlements.settle(message, 'requeue');
    }
  }

  private deadLetterMessage(
    message: ConsumeMessage,
    outcome: Extract<Outcome, { action: 'dead-letter' }>,
    route: DeadLetterRoute,
  ): OutgoingMessage {
    const { properties, fields } = message;
    const headers: Record<string, unknown> = {
      ...properties.headers,
      ...deadLetterHeaders(outcome.reason, outcome.error, outcome.attempts, this.plan.operation),
      'x-codegen-original-exchange': fields.exchange,
      'x-codegen-original-routing-key': fields.routingKey,
      'x-codegen-original-queue': this.queueName,
    };
    const options = { headers, persistent: true, mandatory: false, ...definedProperties(properties) };
    return { exchange: route.exchange, routingKey: route.routingKey, body: message.content, options };
  }
}

/** The original message's AMQP properties a dead letter keeps (content type, ids...). */
function definedProperties(properties: ConsumeMessage['properties']): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const key of [
    'contentType',
    'contentEncoding',
    'messageId',
    'correlationId',
    'type',
    'timestamp',
    'appId',
    'priority',
  ] as const) {
    if (properties[key] !== undefined) kept[key] = properties[key];
  }
  return kept;
}

/** A consumer's handler context: what the shared pipeline decoded and what the delivery says. */
export function contextOf<H, P>(decoded: DecodedEvent<unknown, H>, delivery: Delivery<P>): MessageContext<H, P> {
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

/** One consumer's plan: its queue (`<serviceName>.<operation>` unless said otherwise), bindings, dead-letter route. */
export function planConsumer<T, H, P>(
  route: ReceiveRoute<T, H, P>,
  options: SubscribeOptions<P>,
  validate: boolean,
  settings: Settings,
): ConsumerPlan<P> {
  const { source } = route;
  const { naming } = settings;
  const parametersOf = parameterReader(
    route.spec,
    source.kind === 'queue' ? source.queue.name : source.routingKey,
    validate,
  );
  let queueName: string;
  let queue: ConsumerPlan<P>['queue'];
  let bindings: ConsumerPlan<P>['bindings'] = [];
  // The type of the operation's durable queue; its dead-letter queue follows it.
  let queueType: QueueType | undefined;
  if (source.kind === 'queue') {
    queueName = naming.of(options.queue ?? formatAddress(source.queue.name, options.parameters));
    queueType = queueTypeOf(source.queue, settings.queueType, queueName);
    queue = { ...source.queue, name: queueName, type: queueType };
  } else {
    queueName = naming.of(options.queue ?? `${settings.serviceName}.${route.spec.operation}`);
    queueType = settings.queueType ?? source.queueType;
    // A server-named exclusive queue lives as long as its connection: it stays classic.
    queue = options.exclusive
      ? { name: '', durable: false, exclusive: true, autoDelete: true, type: undefined }
      : { name: queueName, durable: true, exclusive: false, autoDelete: false, type: queueType };
    const key = bindingKey(
      source.exchange.type,
      source.routingKey,
      options.parameters as Record<string, unknown> | undefined,
    );
    bindings = [{ exchange: source.exchange, exchangeName: naming.of(source.exchange.name), key }];
  }
  const atMostOnce =
    options.ackMode === 'auto' || options.ackMode === 'before-handler' || (options.ackMode === undefined && !route.ack);
  return {
    operation: route.spec.operation,
    queue,
    bindings,
    deadLetter:
      options.deadLetter === false
        ? undefined
        : {
            exchange: naming.of(settings.deadLetterExchange),
            queue: `${queueName}.dlq`,
            routingKey: queueName,
            queueType,
          },
    prefetch: options.concurrency ?? settings.prefetch,
    ackMode: atMostOnce ? 'before-handler' : 'after-handler',
    declare: settings.declareTopology,
    parameters: (message) =>
      parametersOf(source.kind === 'queue' ? queueName.slice(settings.namePrefix.length) : message.fields.routingKey),
  };
}

type AnyConsumer = QueueConsumer<unknown, unknown, unknown>;

/** What the client's consumers share. */
export interface ConsumerHost {
  settings: Settings;
  lifecycle: Lifecycle;
  connection: RabbitConnection;
  /** Publishes dead letters and replies. */
  publisher: ConfirmPublisher;
  telemetry: Telemetry;
}

/** The client's consumers: each started on the live connection, all restarted on a new one, stopped at close. */
export class Consumers {
  private readonly running = new Set<AnyConsumer>();

  constructor(private readonly host: ConsumerHost) {}

  async start<T, H, P>(
    route: ReceiveRoute<T, H, P>,
    handler: DeliveryHandler<T, H, P>,
    afterSuccess: ((result: unknown) => Promise<void>) | undefined,
    options: SubscribeOptions<P>,
  ): Promise<Subscription> {
    this.host.lifecycle.assertOpen();
    const consumer = this.create(route, handler, afterSuccess, options);
    this.running.add(consumer);
    try {
      await this.startOnLiveConnection(consumer);
    } catch (error) {
      this.running.delete(consumer);
      throw error;
    }
    return {
      get queue() {
        return consumer.queue;
      },
      close: () => this.stop(consumer),
    };
  }

  /** Starts every consumer on a new connection; one that cannot start (say, its queue is declared differently) must not keep the others down. */
  async restart(connection: ChannelModel): Promise<void> {
    for (const consumer of this.running) {
      await consumer.start(connection).catch((error: unknown) => {
        this.host.settings.logger.error(
          { queue: consumer.queue, err: errorMessage(error) },
          'restarting a consumer failed; trying again',
        );
        void consumer.restartLater(connection);
      });
    }
  }

  /** The shutdown steps for every consumer running now, driven by the client's close. */
  closing(): Pick<ShutdownSteps, 'stopIntake' | 'drain' | 'release'> {
    const consumers = [...this.running];
    return {
      stopIntake: async () => void (await Promise.all(consumers.map((consumer) => consumer.stopIntake()))),
      drain: async () => void (await Promise.all(consumers.map((consumer) => consumer.drain()))),
      release: async () => {
        await Promise.all(consumers.map((consumer) => consumer.release()));
        this.running.clear();
      },
    };
  }

  private create<T, H, P>(
    route: ReceiveRoute<T, H, P>,
    handler: DeliveryHandler<T, H, P>,
    afterSuccess: ((result: unknown) => Promise<void>) | undefined,
    options: SubscribeOptions<P>,
  ): AnyConsumer {
    const { settings, lifecycle, connection, publisher, telemetry } = this.host;
    const validate = options.validate ?? settings.events.validate;
    const plan = planConsumer(route, options, validate, settings);
    const inbound = inboundSpecOf<T, H>(route.spec, INBOUND_MAPPING, settings.schemaRegistry);
    const pipeline = new ConsumerPipeline<T, H>(inbound, { ...options, ackMode: undefined, validate }, settings.logger);
    return new QueueConsumer<T, H, P>(plan, pipeline, handler, {
      publish: (message) =>
        publisher.publish(message, { timeoutMs: settings.publishTimeoutMs, resend: false, signal: lifecycle.signal }),
      afterSuccess,
      isLive: (live) => connection.isLive(live),
      logger: settings.logger,
      telemetry,
    }) as unknown as AnyConsumer;
  }

  /** Starts a new consumer now; if the connection drops meanwhile, the reconnect starts it (and this waits). */
  private async startOnLiveConnection(consumer: AnyConsumer): Promise<void> {
    const { settings, lifecycle, connection } = this.host;
    for (;;) {
      const live = await connection.next(settings.publishTimeoutMs, lifecycle.signal);
      try {
        return await consumer.start(live);
      } catch (error) {
        if (connection.isLive(live)) throw error;
      }
    }
  }

  private async stop(consumer: AnyConsumer): Promise<void> {
    if (!this.running.delete(consumer)) return;
    await shutdownGracefully({
      stopIntake: () => consumer.stopIntake(),
      drain: () => consumer.drain(),
      timeoutMs: this.host.settings.closeTimeoutMs,
      release: () => consumer.release(),
      logger: this.host.settings.logger,
    });
  }
}
