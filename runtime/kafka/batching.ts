// Batching: publishes coalesced into produce requests, one request in flight, retried through outages.
import type { CompressionTypes, Message, Producer } from 'kafkajs';
import { deferred, type Deferred } from '../deferred.js';
import { PublishError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { backoffDelay, retryPolicy, sleep, type RetryPolicy } from '../retry.js';
import { isRetriable } from './connection.js';
import type { KafkaProducerOptions } from './options.js';

interface PendingRecord {
  topic: string;
  message: Message;
  bytes: number;
  done: Deferred<void>;
}

export interface SenderSettings {
  acks: -1 | 0 | 1;
  timeoutMs: number;
  compression: CompressionTypes | undefined;
  deliveryTimeoutMs: number;
  maxBatchSize: number;
  maxBatchBytes: number;
  lingerMs: number;
}

/** The sender's settings from the producer options, defaults filled in. */
export function senderSettings(options: KafkaProducerOptions): SenderSettings {
  return {
    acks: options.idempotent === false ? (options.acks ?? -1) : -1,
    timeoutMs: options.timeoutMs ?? 30_000,
    compression: options.compression,
    deliveryTimeoutMs: options.deliveryTimeoutMs ?? 120_000,
    maxBatchSize: Math.max(1, options.maxBatchSize ?? 1_000),
    maxBatchBytes: Math.max(1, options.maxBatchBytes ?? 512 * 1024),
    lingerMs: Math.max(0, options.lingerMs ?? 0),
  };
}

const RECONNECT_POLICY: RetryPolicy = retryPolicy({
  initialDelayMs: 250,
  maxDelayMs: 5_000,
  multiplier: 2,
  jitter: 0.2,
});

/**
 * Coalesces publishes into produce requests with one request in flight at a time: events published
 * while a request is on the wire go out together in the next one. This keeps the order of events
 * per partition (a retried request is never overtaken) and needs no tuning: batches grow with load.
 * A request that fails because brokers are unreachable is retried with backoff until
 * `deliveryTimeoutMs`; then its publishes fail with PublishError.
 */
export class BatchingSender {
  private queue: PendingRecord[] = [];
  private draining: Promise<void> | undefined;
  private scheduled = false;
  /** Set by close(): retries through an outage stop at this time (ms since the epoch). */
  private giveUpAt = Infinity;

  constructor(
    private readonly producer: () => Promise<Producer>,
    private readonly settings: SenderSettings,
    private readonly logger: Logger,
  ) {}

  send(topic: string, message: Message): Promise<void> {
    const done = deferred<void>();
    this.queue.push({ topic, message, bytes: sizeOf(message), done });
    this.schedule();
    return done.promise;
  }

  /** Resolves when every event queued so far has been settled; retries end at `giveUpAt` at the latest. */
  async flush(giveUpAt = Infinity): Promise<void> {
    this.giveUpAt = Math.min(this.giveUpAt, giveUpAt);
    while (this.queue.length > 0 || this.draining || this.scheduled) {
      if (this.draining) await this.draining;
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.draining) return;
    this.scheduled = true;
    const start = () => {
      this.scheduled = false;
      this.draining = this.drain().finally(() => {
        this.draining = undefined;
        if (this.queue.length > 0) this.schedule();
      });
    };
    if (this.settings.lingerMs > 0) setTimeout(start, this.settings.lingerMs);
    else setImmediate(start);
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) await this.deliver(this.takeBatch());
  }

  private takeBatch(): PendingRecord[] {
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && count < this.settings.maxBatchSize) {
      const next = this.queue[count]!.bytes;
      if (count > 0 && bytes + next > this.settings.maxBatchBytes) break;
      bytes += next;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private async deliver(batch: PendingRecord[]): Promise<void> {
    const timeout = Date.now() + this.settings.deliveryTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      const deadline = Math.min(timeout, this.giveUpAt);
      try {
        const producer = await this.producer();
        await producer.sendBatch({
          topicMessages: groupByTopic(batch),
          acks: this.settings.acks,
          timeout: this.settings.timeoutMs,
          compression: this.settings.compression,
        });
        for (const record of batch) record.done.resolve();
        return;
      } catch (error) {
        if (isRetriable(error) && Date.now() < deadline) {
          const delayMs = Math.min(backoffDelay(RECONNECT_POLICY, attempt), Math.max(0, deadline - Date.now()));
          this.logger.warn(
            { attempt, delayMs, events: batch.length, err: errorMessage(error) },
            'kafka produce failed; retrying',
          );
          await sleep(delayMs);
          continue;
        }
        if (!isRetriable(error) && new Set(batch.map((r) => r.topic)).size > 1) {
          // One bad topic must not fail the events of the others: send each topic on its own.
          for (const topic of new Set(batch.map((r) => r.topic)))
            await this.deliver(batch.filter((r) => r.topic === topic));
          return;
        }
        const failure = new PublishError(
          `kafka did not accept ${batch.length} event(s) for ${[...new Set(batch.map((r) => r.topic))].join(', ')}: ${errorMessage(error)}`,
          { cause: error },
        );
        for (const record of batch) record.done.reject(failure);
        return;
      }
    }
  }
}

function sizeOf(message: Message): number {
  let bytes = 64 + (message.value ? message.value.length : 0) + (message.key ? message.key.length : 0);
  const headers = message.headers;
  for (const name in headers) {
    const value = headers[name];
    bytes += name.length + (typeof value === 'string' || Buffer.isBuffer(value) ? value.length : 16);
  }
  return bytes;
}

function groupByTopic(batch: PendingRecord[]): Array<{ topic: string; messages: Message[] }> {
  const byTopic = new Map<string, Message[]>();
  for (const record of batch) {
    let messages = byTopic.get(record.topic);
    if (!messages) byTopic.set(record.topic, (messages = []));
    messages.push(record.message);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
