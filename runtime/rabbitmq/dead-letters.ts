// Dead letters on RabbitMQ: a consumer's dead-letter queue (`<queue>.dlq`), read with basic.get on a channel
// of its own, every message held unacknowledged until the session ends: acknowledged once its republish
// was confirmed (redrive) or when it is discarded, the others given back (nack with requeue) when the
// session closes, or by the broker when the process dies.
import { createHash } from 'node:crypto';
import type { Channel, ChannelModel, GetMessage } from 'amqplib';
import {
  DeadLettersUnavailableError,
  type DeadLetterSession,
  type DeadLetterStore,
  type StoredDeadLetter,
} from '../dead-letters.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { inboundHeaders } from './message.js';
import type { ConfirmPublisher } from './publisher.js';

/** Where a RabbitMQ dead letter came from, and where it waits. */
export interface RabbitDeadLetterOrigin {
  /** The exchange and routing key the event was published with ('' and the queue for the default exchange). */
  exchange: string;
  routingKey: string;
  /** The queue it was consumed from. */
  queue: string;
  deadLetterQueue: string;
}

/** Headers the consumer adds when it dead-letters a message (runtime/rabbitmq/consumer.ts). */
const ORIGIN_HEADERS = {
  exchange: 'x-codegen-original-exchange',
  routingKey: 'x-codegen-original-routing-key',
  queue: 'x-codegen-original-queue',
} as const;

/** The AMQP properties a redriven event keeps (as the dead letter kept them from the original). */
const KEPT_PROPERTIES = ['contentType', 'contentEncoding', 'messageId', 'correlationId', 'type', 'appId'] as const;

export interface RabbitDeadLetterParts {
  /** The live connection (or the next one). */
  connection(): Promise<ChannelModel>;
  publisher: ConfirmPublisher;
  publishTimeoutMs: number;
  logger: Logger;
}

/** One receive operation's dead-letter queue. */
export class RabbitDeadLetterStore implements DeadLetterStore<RabbitDeadLetterOrigin> {
  readonly bookkeepingHeaders = Object.values(ORIGIN_HEADERS);

  constructor(
    private readonly parts: RabbitDeadLetterParts,
    /** The dead-letter queue. */
    readonly destination: string,
    /** False when the queue's name needs channel parameters (an `is: queue` channel with an address). */
    private readonly named: boolean,
  ) {}

  async open(): Promise<DeadLetterSession<RabbitDeadLetterOrigin>> {
    if (!this.named)
      throw new DeadLettersUnavailableError(
        `${this.destination}: the consumer's queue is named by channel parameters; read its dead-letter queue with amqplib`,
      );
    const connection = await this.parts.connection();
    const count = await messagesIn(connection, this.destination);
    if (count === 0) return EMPTY_SESSION;
    const channel = await connection.createChannel();
    channel.on('error', (error: Error) =>
      this.parts.logger.warn({ queue: this.destination, err: error.message }, 'dead letters: channel failed'),
    );
    return new RabbitDeadLetterSession(this.parts, channel, this.destination, count);
  }
}

/** Messages ready in the queue now; 0 when it does not exist (checked on a channel of its own: a 404 closes it). */
async function messagesIn(connection: ChannelModel, queue: string): Promise<number> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    return (await channel.checkQueue(queue)).messageCount;
  } catch (error) {
    // 404: the consumer never ran (it declares its dead-letter queue), so nothing was dead-lettered.
    if ((error as { code?: unknown }).code === 404) return 0;
    throw error;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

const EMPTY_SESSION: DeadLetterSession<RabbitDeadLetterOrigin> = {
  read: async () => [],
  republish: async () => undefined,
  remove: async () => undefined,
  close: async () => undefined,
};

/**
 * Takes the queue's messages in order, as many as it held when the session opened, and holds them. A
 * message given back keeps its place in a classic queue (a quorum queue may move it to the back) and
 * comes back with the redelivered flag set.
 */
class RabbitDeadLetterSession implements DeadLetterSession<RabbitDeadLetterOrigin> {
  private readonly held = new Map<string, GetMessage>();
  private readonly order: string[] = [];
  private taken = 0;

  constructor(
    private readonly parts: RabbitDeadLetterParts,
    private readonly channel: Channel,
    private readonly queue: string,
    /** Messages in the queue when the session opened: later ones (events failing again) are not taken. */
    private readonly count: number,
  ) {}

  async read(limit: number, after: string | undefined): Promise<Array<StoredDeadLetter<RabbitDeadLetterOrigin>>> {
    const letters: Array<StoredDeadLetter<RabbitDeadLetterOrigin>> = [];
    let index = after === undefined ? 0 : this.order.indexOf(after) + 1;
    // A page after a dead letter this session has not taken yet (an earlier session's page) starts once it went by.
    let seeking = after !== undefined && index === 0;
    if (!seeking)
      for (; index < this.order.length && letters.length < limit; index++)
        if (this.held.has(this.order[index]!)) letters.push(this.storedOf(this.order[index]!));
    while (letters.length < limit && this.taken < this.count) {
      const message = await this.channel.get(this.queue, { noAck: false });
      if (message === false) break;
      this.taken++;
      const id = idOf(message);
      this.held.set(id, message);
      this.order.push(id);
      if (seeking) seeking = id !== after;
      else letters.push(this.storedOf(id));
    }
    return letters;
  }

  /** To the exchange and routing key it was first published with, confirmed by the broker (unroutable: rejected). */
  async republish(letter: StoredDeadLetter<RabbitDeadLetterOrigin>, headers: Record<string, unknown>): Promise<void> {
    const message = this.held.get(letter.id)!;
    const properties: Record<string, unknown> = {};
    for (const key of KEPT_PROPERTIES) {
      const value: unknown = message.properties[key];
      if (value !== undefined) properties[key] = value;
    }
    // The content type travels as the property; inboundHeaders() copied it among the headers.
    const { 'content-type': _contentType, ...eventHeaders } = headers;
    const options = { ...properties, headers: eventHeaders, persistent: true, mandatory: true };
    const { exchange, routingKey } = letter.origin;
    await this.parts.publisher.publish(
      { exchange, routingKey, body: message.content, options },
      { timeoutMs: this.parts.publishTimeoutMs, resend: false },
    );
  }

  async remove(letter: StoredDeadLetter<RabbitDeadLetterOrigin>): Promise<void> {
    const message = this.held.get(letter.id);
    if (!message) return;
    this.channel.ack(message);
    this.held.delete(letter.id);
  }

  /** Gives every message still held back to the queue, then closes the channel. */
  async close(): Promise<void> {
    try {
      if (this.held.size > 0) this.channel.nackAll(true);
      await this.channel.close();
    } catch (error) {
      // A closed channel gives its messages back by itself.
      this.parts.logger.debug({ queue: this.queue, err: errorMessage(error) }, 'dead letters: channel already closed');
    }
  }

  private storedOf(id: string): StoredDeadLetter<RabbitDeadLetterOrigin> {
    const message = this.held.get(id)!;
    const raw = message.properties.headers ?? {};
    return {
      id,
      body: message.content,
      headers: inboundHeaders(message),
      origin: {
        exchange: String(raw[ORIGIN_HEADERS.exchange] ?? ''),
        routingKey: String(raw[ORIGIN_HEADERS.routingKey] ?? ''),
        queue: String(raw[ORIGIN_HEADERS.queue] ?? ''),
        deadLetterQueue: this.queue,
      },
    };
  }
}

/**
 * A queue gives its messages no lasting place: a dead letter's id is a digest of its content (headers and
 * body), the same every time it is read. Identical dead letters share it, and are interchangeable.
 */
function idOf(message: GetMessage): string {
  const headers = message.properties.headers ?? {};
  const hash = createHash('sha256');
  for (const key of Object.keys(headers).sort()) hash.update(`${key}\u0000${String(headers[key])}\u0000`);
  hash.update(message.content);
  return hash.digest('hex').slice(0, 20);
}
