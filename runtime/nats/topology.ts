// JetStream topology: the stream of each channel, its dead-letter stream, and the durable consumers.
// Every declaration is idempotent, and remembered per client so that publishes check a stream once.
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  jetstreamManager,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { ClientClosedError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { retrying, retryPolicy } from '../retry.js';
import { apiCode, CONSUMER_EXISTS, isTransientRequest, STREAM_NOT_FOUND, SUBJECTS_OVERLAP } from './failures.js';
import type { Subjects } from './message.js';
import {
  deliveryModeOf,
  prefetchOf,
  type AnyNatsOperation,
  type NatsConsumerOptions,
  type NatsSettings,
} from './options.js';

/** A durable consumer as declared: its name and configuration. */
export interface DurableConsumer {
  durable: string;
  config: Partial<ConsumerConfig>;
}

export class JetStreamTopology {
  private manager?: Promise<JetStreamManager>;
  private readonly streams = new Map<string, Promise<string>>();
  /** Streams known to exist, so that publishes skip the check once it succeeded. */
  private readonly readyStreams = new Set<string>();

  constructor(
    private readonly connection: NatsConnection,
    private readonly settings: NatsSettings,
    private readonly subjects: Subjects,
    /** Extra configuration of the streams the client creates. */
    private readonly streamConfig: Partial<StreamConfig> | undefined,
    /** Aborted when the client closes: a request waiting to be retried gives up at once. */
    private readonly closing: AbortSignal,
    private readonly logger: Logger,
  ) {}

  /** Creates (or finds) the stream of each JetStream operation, and the durable consumer of each JetStream consumer. */
  async declare(operations: AnyNatsOperation[], consumerDefaults: NatsConsumerOptions): Promise<void> {
    for (const operation of operations) {
      if (operation.wildcard === null || (operation.kind !== 'publish' && operation.kind !== 'subscribe')) continue;
      if (deliveryModeOf(this.settings, operation) !== 'jetstream') continue;
      const stream = await this.streamOf(operation, true);
      if (operation.kind === 'subscribe') {
        if (consumerDefaults.mode === 'core') continue;
        if (consumerDefaults.deadLetterSubject === undefined) await this.deadLetterStreamOf(operation, true);
        await this.consumerOf(operation, stream, consumerDefaults, true);
      }
    }
  }

  /** A publish on this operation must first make sure its stream exists (auto-declaring, not yet known). */
  needsStream(operation: AnyNatsOperation): boolean {
    return this.settings.autoDeclare && operation.wildcard !== null && !this.readyStreams.has(operation.stream);
  }

  /** The stream that stores an operation's channel: declared when allowed, else looked up by subject. */
  streamOf(operation: AnyNatsOperation, declare = this.settings.autoDeclare): Promise<string> {
    const subject = this.subjects.filterOf(operation, undefined);
    return this.remember(operation.stream, () =>
      declare ? this.declareStream(this.settings.streamPrefix + operation.stream, subject) : this.findStream(subject),
    );
  }

  /** The stream that stores the dead letters of an operation's channel. */
  deadLetterStreamOf(operation: AnyNatsOperation, declare = this.settings.autoDeclare): Promise<string> {
    const subject = this.subjects.deadLetterOf(this.subjects.filterOf(operation, undefined));
    const name = `${this.settings.streamPrefix}${operation.stream}_DLQ`;
    return this.remember(`${operation.stream}_DLQ`, () =>
      declare ? this.declareStream(name, subject) : this.findStream(subject),
    );
  }

  /** Idempotent: creates the durable consumer, or updates it to this configuration. */
  async consumerOf(
    operation: AnyNatsOperation,
    stream: string,
    options: NatsConsumerOptions,
    declare = this.settings.autoDeclare,
  ): Promise<DurableConsumer> {
    const durable = options.durable ?? options.queue ?? operation.queue ?? operation.durable;
    const config = this.consumerConfig(durable, operation, options);
    if (!declare) return { durable, config };
    await this.request(`declare consumer ${durable} on ${stream}`, async () => {
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
    });
    return { durable, config };
  }

  /**
   * Runs a JetStream API request, again (with `topologyRetry`) when it timed out or met a leader election:
   * on a cluster, a stream whose leader node was lost answers nothing for the seconds of the election.
   * Once the client is closing, the wait ends and the request rejects with `ClientClosedError`.
   */
  request<R>(what: string, run: () => Promise<R>): Promise<R> {
    return retrying(run, {
      policy: this.settings.topologyRetry,
      retryable: isTransientRequest,
      onRetry: (error, attempt, delayMs) =>
        this.logger.warn(
          { request: what, attempt, delayMs, err: errorMessage(error) },
          'JetStream request failed; retrying',
        ),
      signal: this.closing,
      aborted: () => new ClientClosedError(),
    });
  }

  private consumerConfig(
    durable: string,
    operation: AnyNatsOperation,
    options: NatsConsumerOptions,
  ): Partial<ConsumerConfig> {
    return {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: this.subjects.filterOf(operation, options.natsSubject),
      // One delivery in reserve: an event whose last attempt was cut short still reaches the dead-letter subject.
      max_deliver: retryPolicy(options.retry).maxAttempts + 1,
      ack_wait: nanos(options.ackWaitMs ?? 30_000),
      max_ack_pending: Math.max(1000, prefetchOf(options) * 2),
    };
  }

  private jsm(): Promise<JetStreamManager> {
    this.manager ??= jetstreamManager(this.connection).catch((error: unknown) => {
      this.manager = undefined;
      throw error;
    });
    return this.manager;
  }

  /** One declaration per stream: later calls share it; a failed one is forgotten, so the next call tries again. */
  private remember(key: string, declare: () => Promise<string>): Promise<string> {
    let pending = this.streams.get(key);
    if (!pending) {
      pending = this.request(`declare stream ${key}`, declare).then(
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
      const replicas = this.streamConfig?.num_replicas ?? info.config.num_replicas;
      if (!subjects.includes(subject) || replicas !== info.config.num_replicas)
        await jsm.streams.update(name, {
          ...info.config,
          subjects: [...new Set([...subjects, subject])],
          num_replicas: replicas,
        });
      return name;
    } catch (error) {
      if (apiCode(error) !== STREAM_NOT_FOUND) throw error;
    }
    try {
      await jsm.streams.add({ ...this.streamConfig, name, subjects: [subject] });
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
}
