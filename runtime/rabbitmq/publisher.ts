import { IllegalOperationError, type ConfirmChannel, type Message, type Options } from 'amqplib';
import { PublishError, errorMessage } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { Slot } from '../reconnect.js';

/** One AMQP message ready to go. */
export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  body: Buffer;
  options: Options.Publish;
}

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
