// Kafka transactions: events that become visible to `read_committed` consumers together, or never.
import { randomUUID } from 'node:crypto';
import type { Producer, Transaction } from 'kafkajs';
import { PublishError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { KafkaConnection, LazyClient } from './connection.js';
import type { EventSink, KafkaProducerOptions } from './options.js';
import { producerConfig, type KafkaPublisher } from './publisher.js';

export interface TransactionSettings {
  clientId: string;
  /** transactional.id of the producer; random when undefined. */
  transactionalId: string | undefined;
  producer: KafkaProducerOptions;
  logger: Logger;
}

/**
 * Runs transactions one after the other on a transactional producer of their own, made on the first
 * one (the batching producer of every other publish is never transactional).
 */
export class KafkaTransactions {
  private producer: LazyClient<Producer> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly connection: KafkaConnection,
    private readonly publisher: KafkaPublisher,
    private readonly settings: TransactionSettings,
  ) {}

  /**
   * Runs `work` in a Kafka transaction: its events become visible to `read_committed` consumers
   * all together when it resolves, and never when it throws (the transaction is aborted).
   */
  run<R>(work: (sink: EventSink) => Promise<R>): Promise<R> {
    const run = this.queue.then(() => this.runOne(work));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Resolves when the transactions begun so far have ended. */
  settled(): Promise<unknown> {
    return this.queue;
  }

  private async runOne<R>(work: (sink: EventSink) => Promise<R>): Promise<R> {
    const { connection, settings } = this;
    this.producer ??= connection.lazy(() =>
      connection.kafka.producer(
        producerConfig(settings.producer, {
          transactionalId: settings.transactionalId ?? `${settings.clientId}-${randomUUID()}`,
          idempotent: true,
          maxInFlightRequests: 1,
        }),
      ),
    );
    const producer = await this.producer.get();
    const transaction: Transaction = await producer.transaction();
    let open = true;
    const sink: EventSink = async (operation, payload, options) => {
      if (!open) throw new Error('the transaction is already finished');
      const { topic, message, envelope } = this.publisher.prepare(operation, payload, options);
      await transaction.send({ topic, messages: [message], acks: -1, timeout: settings.producer.timeoutMs ?? 30_000 });
      return { id: envelope.id, topic, envelope };
    };
    let result: R;
    try {
      result = await work(sink);
    } catch (error) {
      open = false;
      await transaction
        .abort()
        .catch((abortError: unknown) =>
          settings.logger.error({ err: errorMessage(abortError) }, 'kafka transaction abort failed'),
        );
      throw error;
    }
    open = false;
    try {
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw new PublishError(`kafka transaction not committed: ${errorMessage(error)}`, { cause: error });
    }
    return result;
  }
}
