// Sending: a route's event checked, enveloped and encoded (`EventPublisher`), published on the client's one
// confirm channel (`ConfirmPublisher`), which `ConfirmChannels` opens on every connection.
import { randomUUID } from 'node:crypto';
import { IllegalOperationError, type ChannelModel, type ConfirmChannel, type Message } from 'amqplib';
import { EventValidationError, PublishError, errorMessage } from '../errors.js';
import type { Lifecycle } from '../lifecycle.js';
import { silentLogger, type Logger } from '../logger.js';
import type { OperationSpec } from '../operation.js';
import { OutboundSpecs } from '../outbound-specs.js';
import { afterPrepared, prepareEvent, type OutboundEvent, type PublishOptions } from '../producer.js';
import { Slot } from '../reconnect.js';
import { backoffDelay, retryPolicy, sleep } from '../retry.js';
import type { Telemetry } from '../telemetry.js';
import type { RabbitConnection } from './connection.js';
import { outgoingMessage, publishOptions, type OutgoingMessage } from './message.js';
import type { Published, SendOptions, SendRoute, Settings } from './options.js';
import { targetOf, type Target } from './topology.js';

export interface PublishAttempt {
  /** Longest wait for a channel and for the broker's confirmation, in all. */
  timeoutMs: number;
  /**
   * Publish again on the next connection when the connection drops before the broker confirmed.
   * The event keeps its id, so consumers drop the copy if the first one did arrive.
   */
  resend: boolean;
  signal?: AbortSignal;
}

/** The confirm callback's error when the channel closed before the broker answered (amqplib's wording). */
const CHANNEL_CLOSED = 'channel closed';

class ChannelLost extends Error {}

function asPublishError(error: unknown): unknown {
  return error instanceof ChannelLost
    ? new PublishError('the connection was lost before RabbitMQ confirmed the event', { cause: error })
    : error;
}

/**
 * Publishes on the client's one confirm channel: each publish resolves when the broker confirms it, and
 * rejects on a nack, on a return (unroutable with `mandatory`) or when the channel fails. Writes respect
 * the socket's backpressure, and publishes wait (bounded) while the client reconnects.
 */
export class ConfirmPublisher {
  private readonly channel = new Slot<ConfirmChannel>();
  /** Message ids returned as unroutable, waiting for the confirm that always follows a return. */
  private readonly returned = new Map<string, Message>();
  /** The error that closed the current channel, when the broker closed it (not the connection). */
  private readonly channelErrors = new WeakMap<ConfirmChannel, Error>();
  private drained: Promise<void> | undefined;
  /** Why publishing stopped for good (the client closed or gave up reconnecting). */
  private stopped: string | undefined;

  constructor(private readonly logger: Logger = silentLogger) {}

  /** Takes a freshly opened confirm channel into use. `onClosed` hears when it closes by itself. */
  attach(channel: ConfirmChannel, onClosed: (error: Error | undefined) => void): void {
    channel.on('return', (message: Message) => this.noteReturn(message));
    channel.on('error', (error: Error) => {
      this.channelErrors.set(channel, error);
      this.logger.warn({ err: error.message }, 'publisher channel failed');
    });
    channel.on('close', () => {
      if (this.channel.current === channel) this.channel.clear();
      onClosed(this.channelErrors.get(channel));
    });
    this.channel.set(channel);
  }

  get current(): ConfirmChannel | undefined {
    return this.channel.current;
  }

  /** Stops handing out the channel for good: waiting and later publishes fail with `reason`. */
  detach(reason: string): ConfirmChannel | undefined {
    this.stopped = reason;
    const channel = this.channel.current;
    this.channel.clear();
    this.channel.release();
    return channel;
  }

  publish(message: OutgoingMessage, attempt: PublishAttempt): Promise<void> {
    const channel = this.channel.current;
    // The common case, kept to one promise: a channel is open and the socket takes more.
    if (channel === undefined || this.drained) return this.publishWhenReady(message, attempt);
    return this.publishOn(channel, message).catch((error: unknown) => {
      if (!(error instanceof ChannelLost) || !attempt.resend) throw asPublishError(error);
      return this.publishWhenReady(message, attempt);
    });
  }

  /** Waits (bounded) for a channel and for the socket to drain, publishing again after a lost connection. */
  private async publishWhenReady(message: OutgoingMessage, attempt: PublishAttempt): Promise<void> {
    const deadline = Date.now() + attempt.timeoutMs;
    for (;;) {
      if (this.drained) await this.drained;
      const channel = this.channel.current ?? (await this.channel.next(deadline - Date.now(), attempt.signal));
      if (this.stopped !== undefined) throw new PublishError(this.stopped);
      if (channel === undefined)
        throw new PublishError(
          attempt.signal?.aborted
            ? 'the client closed before the event was published'
            : `no connection to RabbitMQ within ${attempt.timeoutMs} ms`,
        );
      try {
        return await this.publishOn(channel, message);
      } catch (error) {
        if (!(error instanceof ChannelLost) || !attempt.resend || Date.now() >= deadline) throw asPublishError(error);
        this.logger.debug(
          { exchange: message.exchange, routingKey: message.routingKey },
          'connection lost before the confirm; publishing again',
        );
      }
    }
  }

  /** Waits (bounded) for the confirms of everything published so far, before the channel closes. */
  async settle(timeoutMs: number): Promise<void> {
    const channel = this.channel.current;
    if (!channel) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([channel.waitForConfirms().catch(() => undefined), timeout]);
    clearTimeout(timer);
  }

  private publishOn(channel: ConfirmChannel, message: OutgoingMessage): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let written: boolean;
      try {
        written = channel.publish(
          message.exchange,
          message.routingKey,
          message.body,
          message.options,
          (error: unknown) => {
            const returned = error ? undefined : this.takeReturn(message.options.messageId);
            if (error) reject(this.confirmError(channel, error, message));
            else if (returned) reject(this.unroutable(message, returned));
            else resolve();
          },
        );
      } catch (error) {
        // amqplib throws at once when the channel is already closed (nothing was sent: publish again),
        // or when the message cannot be encoded (headers too large: a failure of its own).
        reject(
          error instanceof IllegalOperationError
            ? new ChannelLost(errorMessage(error))
            : new PublishError(`the event could not be published: ${errorMessage(error)}`, { cause: error }),
        );
        return;
      }
      if (!written) this.waitForDrain(channel);
    });
  }

  private confirmError(channel: ConfirmChannel, error: unknown, message: OutgoingMessage): Error {
    if (errorMessage(error) !== CHANNEL_CLOSED)
      return new PublishError(
        `RabbitMQ refused the event (nack) for exchange "${message.exchange}", routing key "${message.routingKey}"`,
      );
    const channelError = this.channelErrors.get(channel);
    // The broker closed the channel (unknown exchange, access refused...): publishing again would fail the same way.
    if (channelError)
      return new PublishError(`RabbitMQ closed the channel: ${channelError.message}`, { cause: channelError });
    return new ChannelLost(CHANNEL_CLOSED);
  }

  private unroutable(message: OutgoingMessage, returned: Message): PublishError {
    // A basic.return carries its reason in `replyText`, which amqplib's types do not list.
    const reason = String((returned.fields as { replyText?: unknown }).replyText ?? 'NO_ROUTE');
    return new PublishError(
      `unroutable (${reason}): no queue is bound to exchange "${message.exchange || '(default)'}" for routing key "${message.routingKey}" and the event is mandatory`,
    );
  }

  private noteReturn(message: Message): void {
    const id: unknown = message.properties.messageId;
    if (typeof id === 'string') this.returned.set(id, message);
  }

  private takeReturn(id: string | undefined): Message | undefined {
    if (id === undefined || this.returned.size === 0) return undefined;
    const returned = this.returned.get(id);
    this.returned.delete(id);
    return returned;
  }

  /** Until the socket drains, new publishes wait, so a fast producer cannot grow memory without bound. */
  private waitForDrain(channel: ConfirmChannel): void {
    if (this.drained) return;
    this.drained = new Promise<void>((resolve) => {
      const done = () => {
        channel.off('drain', done);
        channel.off('close', done);
        this.drained = undefined;
        resolve();
      };
      channel.once('drain', done);
      channel.once('close', done);
    });
  }
}

/** What the confirm channel's owner does when a channel opens or closes. */
export interface ConfirmChannelHooks {
  /** Runs on a new channel before it publishes anything (direct reply-to must be consumed first). */
  opened(channel: ConfirmChannel): Promise<void>;
  /** The channel closed by itself (lost connection, or the broker closed it). */
  closed(error: Error | undefined): void;
}

/**
 * Opens the client's confirm channel on every new connection, and opens it again (with backoff) when the
 * broker closes it on a connection that is still live.
 */
export class ConfirmChannels {
  constructor(
    private readonly publisher: ConfirmPublisher,
    private readonly connection: RabbitConnection,
    private readonly lifecycle: Lifecycle,
    private readonly logger: Logger,
    private readonly hooks: ConfirmChannelHooks,
  ) {}

  async open(connection: ChannelModel): Promise<void> {
    const channel = await connection.createConfirmChannel();
    await this.hooks.opened(channel);
    this.publisher.attach(channel, (error) => this.closed(connection, error));
  }

  private closed(connection: ChannelModel, error: Error | undefined): void {
    this.hooks.closed(error);
    if (this.lifecycle.isOpen && this.connection.isLive(connection)) void this.reopen(connection);
  }

  private async reopen(connection: ChannelModel): Promise<void> {
    const policy = retryPolicy({ initialDelayMs: 50, maxDelayMs: 5_000 });
    for (let attempt = 1; this.lifecycle.isOpen && this.connection.isLive(connection); attempt++) {
      try {
        return await this.open(connection);
      } catch (error) {
        this.logger.warn({ attempt, err: errorMessage(error) }, 'reopening the publisher channel failed');
        if (!(await sleep(backoffDelay(policy, attempt), this.lifecycle.signal))) return;
      }
    }
  }
}

/** Hands a prepared event to the broker: the encoded event, where it goes, and the publish's options (traced). */
export type PreparedSend<O, R> = (event: OutboundEvent, target: Target, options: O) => Promise<R>;

/** The events of send operations: parameters checked, payload validated, envelope filled in, encoded, traced. */
export class EventPublisher {
  private readonly specs: OutboundSpecs;

  constructor(
    private readonly publisher: ConfirmPublisher,
    private readonly settings: Settings,
    private readonly lifecycle: Lifecycle,
    private readonly telemetry: Telemetry,
  ) {
    this.specs = new OutboundSpecs(settings.mapping, settings.schemaRegistry);
  }

  /** Publishes an event and resolves once RabbitMQ confirmed it. */
  publish<T, H, P>(
    route: SendRoute<T, H, P>,
    payload: T,
    options: SendOptions<H> & { parameters?: P },
  ): Promise<Published> {
    return this.prepare(route, payload, options, async (event, target, traced) => {
      await this.publisher.publish(
        outgoingMessage(target, event.body, publishOptions(event, route.properties, traced)),
        {
          timeoutMs: traced.timeoutMs ?? this.settings.publishTimeoutMs,
          resend: true,
          signal: this.lifecycle.signal,
        },
      );
      return {
        id: event.envelope.id,
        exchange: target.exchange,
        routingKey: target.routingKey,
        envelope: event.envelope,
      };
    });
  }

  /**
   * Checks that the client is open and the parameters match the document, then, in a PRODUCER span when
   * tracing is on, prepares the event (validated, enveloped, encoded) and hands it to `deliver`.
   */
  async prepare<T, H, P, O extends PublishOptions<H>, R>(
    route: SendRoute<T, H, P>,
    payload: T,
    options: O & { parameters?: P },
    deliver: PreparedSend<O, R>,
  ): Promise<R> {
    this.lifecycle.assertOpen();
    if (options.validate ?? this.settings.events.validate) checkParameters(route.spec, options.parameters);
    const target = targetOf(this.settings.naming, route.destination, options.parameters);
    // Not async: a validation failure thrown here still rejects (this method is async; the span catches it).
    const send = (traced: O): Promise<R> => {
      const spec = this.specs.of(route.spec, route.spec.eventType(payload));
      const event = prepareEvent(spec, payload, traced, this.settings.events, registryTopicOf(target));
      return afterPrepared(event, (prepared) => deliver(prepared, target, traced));
    };
    if (!this.telemetry.active) return send(options);
    return this.traced(target, options, send);
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
}

/**
 * The name an Avro payload's registry subject is made from (Kafka's topic): the queue, or the exchange
 * and the routing key (`<exchange>.<routing key>`), so two message types on one exchange get two subjects.
 */
export function registryTopicOf(target: Target): string {
  if (target.exchange === '') return target.routingKey;
  return target.routingKey === '' ? target.exchange : `${target.exchange}.${target.routingKey}`;
}

/** Refuses parameters the document does not allow (checked before anything is sent). */
function checkParameters<P>(spec: OperationSpec<unknown, unknown, P>, parameters: P | undefined): void {
  if (spec.parameterNames.length === 0) return;
  // A copy, as on every broker (runtime/operation.ts concreteAddress): checking converts values to the schema's types.
  const checked = spec.validateParameters({ ...(parameters ?? {}) });
  if (!checked.ok) throw new EventValidationError('invalid-address', `parameters of ${spec.operation}`, checked.issues);
}
