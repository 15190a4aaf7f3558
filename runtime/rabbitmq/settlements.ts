import type { Channel, ConsumeMessage } from 'amqplib';

export type Settlement = 'ack' | 'requeue' | 'reject';

/**
 * The acknowledgements of one consumer channel, sent once per turn of the event loop. Handlers that
 * finished together are acknowledged with a single `basic.ack multiple` frame up to the highest delivery
 * tag whose predecessors are all settled; a message settled behind one still in progress is acknowledged
 * on its own, so a slow handler never holds the others' acknowledgements (nor the prefetch window).
 * Requeues and rejects go out singly, in delivery order. A busy consumer sends far fewer frames, and
 * RabbitMQ handles far fewer, than with one acknowledgement per message.
 */
export class Settlements {
  /** Delivery tags in the order RabbitMQ sent them, settled or not, not yet acknowledged. */
  private readonly delivered: ConsumeMessage[] = [];
  private readonly settled = new Map<number, Settlement>();
  private scheduled = false;
  private closed = false;

  constructor(private readonly channel: Channel) {
    channel.once('close', () => {
      // The broker gives the unacknowledged messages of a closed channel back to the queue.
      this.closed = true;
      this.delivered.length = 0;
      this.settled.clear();
    });
  }

  /** Records a delivery, before anything else can settle it. */
  received(message: ConsumeMessage): void {
    if (!this.closed) this.delivered.push(message);
  }

  settle(message: ConsumeMessage, settlement: Settlement): void {
    if (this.closed) return;
    this.settled.set(message.fields.deliveryTag, settlement);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends every settlement now (before the channel closes). */
  flush(): void {
    this.scheduled = false;
    if (this.closed || this.settled.size === 0) return;
    try {
      this.flushSettledPrefix();
      this.flushOutOfOrder();
    } catch {
      // The channel closed meanwhile: RabbitMQ redelivers what was not acknowledged.
    }
  }

  /** One `ack multiple` for the run of settled messages at the front; requeues and rejects singly. */
  private flushSettledPrefix(): void {
    let lastAcked: ConsumeMessage | undefined;
    while (this.delivered.length > 0) {
      const message = this.delivered[0]!;
      const settlement = this.settled.get(message.fields.deliveryTag);
      if (settlement === undefined) break;
      this.delivered.shift();
      this.settled.delete(message.fields.deliveryTag);
      if (settlement === 'ack') {
        lastAcked = message;
        continue;
      }
      if (lastAcked) this.channel.ack(lastAcked, true);
      lastAcked = undefined;
      this.channel.nack(message, false, settlement === 'requeue');
    }
    if (lastAcked) this.channel.ack(lastAcked, true);
  }

  /** Messages settled behind one still in progress: each on its own (`multiple` would cover the latter). */
  private flushOutOfOrder(): void {
    if (this.settled.size === 0) return;
    for (let index = this.delivered.length - 1; index >= 0; index--) {
      const message = this.delivered[index]!;
      const settlement = this.settled.get(message.fields.deliveryTag);
      if (settlement === undefined) continue;
      this.delivered.splice(index, 1);
      if (settlement === 'ack') this.channel.ack(message);
      else this.channel.nack(message, false, settlement === 'requeue');
    }
    this.settled.clear();
  }
}
