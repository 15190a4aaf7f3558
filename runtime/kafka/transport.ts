// KafkaTransport: the one object the generated client holds. It composes the connection, the publisher,
// transactions, consumers, request/reply and topics, and keeps the client's lifecycle.
import type { Kafka } from 'kafkajs';
import { InFlight } from '../consumer.js';
import { Lifecycle, shutdownGracefully } from '../lifecycle.js';
import { deadLettersOf, type DeadLetters } from '../dead-letters.js';
import { KafkaConnection } from './connection.js';
import { KafkaConsumers, recordHandler, type ConsumerTarget, type RecordHandler } from './consumer.js';
import { KafkaDeadLetterStore, type KafkaDeadLetterOrigin } from './dead-letters.js';
import { KAFKA_HEADER_MAPPING } from './message.js';
import type {
  EventSink,
  DeclareTopologyOptions,
  KafkaAskOptions,
  KafkaConsumerOptions,
  KafkaHandler,
  KafkaOperation,
  KafkaReply,
  KafkaReplySpec,
  KafkaSendOptions,
  KafkaSubscription,
  KafkaTransportOptions,
  PublishedEvent,
  TopologyReport,
} from './options.js';
import { BackgroundTelemetry, KafkaPublisher } from './publisher.js';
import { Requester, Responder } from './replies.js';
import { TopicNames, checkTopologyOptions, documentTopics, ensureTopics } from './topology.js';
import { KafkaTransactions } from './transactions.js';

/** Options of a consumer as the generated client passes them: parameter sets narrow an address's topics. */
type SubscribeOptions<P> = KafkaConsumerOptions & { parameters?: readonly P[] };

/**
 * Everything the typed client does, in terms of operations: publish, request, subscribe, respond,
 * transact, declare topics, close. Nothing connects until the first publish, request or consumer.
 */
export class KafkaTransport {
  private readonly connection: KafkaConnection;
  private readonly topics: TopicNames;
  private readonly telemetry: BackgroundTelemetry;
  private readonly publisher: KafkaPublisher;
  private readonly transactions: KafkaTransactions;
  private readonly consumers: KafkaConsumers;
  private readonly requester: Requester;
  private readonly responder: Responder;
  private readonly inFlight = new InFlight();
  private readonly lifecycle = new Lifecycle();

  constructor(
    private readonly options: KafkaTransportOptions,
    private readonly operations: ReadonlyArray<KafkaOperation<unknown, unknown, unknown>>,
  ) {
    const { logger } = options;
    checkTopologyOptions(options.topology);
    this.connection = new KafkaConnection(options);
    this.topics = new TopicNames(options.topicPrefix, options.topics);
    this.telemetry = new BackgroundTelemetry(options.telemetry);
    this.publisher = new KafkaPublisher(this.connection, this.topics, this.telemetry, options);
    this.transactions = new KafkaTransactions(this.connection, this.publisher, options);
    const host = {
      kafka: this.connection.kafka,
      publisher: this.publisher,
      logger,
      signal: this.lifecycle.signal,
      inFlight: this.inFlight,
      schemaRegistry: options.schemaRegistry,
    };
    this.consumers = new KafkaConsumers(host, this.telemetry.ready);
    this.requester = new Requester(this.connection, this.publisher, this.topics, options);
    this.responder = new Responder(this.publisher, this.topics, this.telemetry, options);
  }

  /** The kafkajs instance underneath. */
  get kafka(): Kafka {
    return this.connection.kafka;
  }

  /** Publishes one event and resolves once the broker acknowledged it. */
  async publish<T, H, P>(
    operation: KafkaOperation<T, H, P>,
    payload: T,
    options: KafkaSendOptions<H, P>,
  ): Promise<PublishedEvent> {
    this.lifecycle.assertOpen();
    return this.publisher.publish(operation, payload, options);
  }

  /**
   * Sends a request and resolves with its validated reply; rejects with ReplyTimeoutError when none
   * comes in time, with RequestFailedError when the responder answered that it could not reply.
   */
  async request<T, H, P, R>(
    operation: KafkaOperation<T, H, P>,
    reply: KafkaReplySpec<R>,
    payload: T,
    options: KafkaAskOptions<H, P>,
  ): Promise<KafkaReply<R>> {
    this.lifecycle.assertOpen();
    // The PRODUCER span lasts until the reply came; the responder's CONSUMER span is its child.
    return this.publisher.traced(operation, options, (traced) => this.requester.ask(operation, reply, payload, traced));
  }

  /**
   * Runs `work` in a Kafka transaction: its events become visible to `read_committed` consumers
   * all together when it resolves, and never when it throws (the transaction is aborted).
   * Transactions of one client run one after the other.
   */
  transaction<R>(work: (sink: EventSink) => Promise<R>): Promise<R> {
    this.lifecycle.assertOpen();
    return this.transactions.run(work);
  }

  /** Starts a consumer for a receive operation; resolves once it has joined its group. */
  async subscribe<T, H, P, K, C, R>(
    operation: KafkaOperation<T, H, P>,
    handler: KafkaHandler<T, H, K, C, R>,
    options: SubscribeOptions<P>,
  ): Promise<KafkaSubscription> {
    this.lifecycle.assertOpen();
    return this.consume(operation, options, recordHandler(handler));
  }

  /** Starts a consumer for a receive operation with a reply: the handler's result is sent back to the requester. */
  async respond<T, H, P, K, C, R>(
    operation: KafkaOperation<T, H, P>,
    reply: KafkaReplySpec<R>,
    handler: KafkaHandler<T, H, K, C, R>,
    options: SubscribeOptions<P>,
  ): Promise<KafkaSubscription> {
    this.lifecycle.assertOpen();
    const spec = reply as KafkaReplySpec<unknown>;
    return this.consume(operation, options, this.responder.handler(operation, reply, handler), (failure) =>
      this.responder.failed(operation.spec.operation, spec, failure),
    );
  }

  /**
   * The dead letters of a receive operation (its consumer's dead-letter topics, as the client's
   * `consumer` options name them): inspect, redrive, discard. Nothing connects until one is called.
   */
  deadLetters<T, H, P>(operation: KafkaOperation<T, H, P>): DeadLetters<T, H, KafkaDeadLetterOrigin> {
    const options = this.options.consumer;
    const dlq = options.deadLetterTopic;
    const topics =
      dlq === false
        ? []
        : dlq !== undefined
          ? [dlq]
          : this.topics
              .subscribed(operation, undefined)
              .map((t) => (typeof t === 'string' ? `${t}.dlq` : deadLetterPattern(t)));
    const place = { topics, redriveGroup: `${this.groupOf(operation, options)}.redrive` };
    const store = new KafkaDeadLetterStore(this.connection, this.publisher, place, this.options.logger);
    return deadLettersOf(store, operation.spec, KAFKA_HEADER_MAPPING, {
      telemetry: this.telemetry.ready,
      logger: this.options.logger,
      assertOpen: () => this.lifecycle.assertOpen(),
      schemaRegistry: this.options.schemaRegistry,
    });
  }

  /**
   * Creates the document's topics (partitions, replicas and topic configuration from the bindings),
   * the dead-letter topics of its consumers and the reply topics of its requests, with the replication
   * the client's `topology` option (or `options`) sets over the document's. Idempotent.
   */
  async declareTopology(options: DeclareTopologyOptions = {}): Promise<TopologyReport> {
    this.lifecycle.assertOpen();
    const { deadLetter, ...replication } = options;
    const wanted = documentTopics(this.operations, this.topics, {
      deadLetter: deadLetter !== false,
      deadLetterTopic: this.options.consumer.deadLetterTopic,
      replyTopic: this.options.replyTopic,
      topology: { ...this.options.topology, ...replication },
    });
    return ensureTopics(await this.connection.admin(), wanted, this.options.logger);
  }

  /**
   * Closes gracefully: consumers stop fetching, handlers in progress finish and their offsets are
   * committed, waiting requests fail with ClientClosedError, queued events are sent, then every
   * connection is closed. Safe to call more than once.
   */
  close(): Promise<void> {
    return this.lifecycle.close(async () => {
      await shutdownGracefully({
        // Closing aborted the lifecycle signal: consumers take no further record and retry waits end.
        stopIntake: async () => undefined,
        drain: () => this.inFlight.drain(),
        timeoutMs: this.options.closeTimeoutMs,
        logger: this.options.logger,
        release: async () => {
          await this.consumers.close();
          await this.requester.close();
          await this.publisher.flush(Date.now() + this.options.closeTimeoutMs);
          await this.transactions.settled();
          await this.connection.close();
        },
      });
    });
  }

  /** A consumer's group: the option, else the operation binding's, else `<clientId>.<operation id>`. */
  private groupOf<T, H, P>(operation: KafkaOperation<T, H, P>, options: KafkaConsumerOptions): string {
    return options.groupId ?? operation.groupId ?? `${this.options.clientId}.${operation.spec.operation}`;
  }

  /** Starts a consumer of `operation` whose records `handle` runs; `deadLettered` hears of the records given up on. */
  private consume<T, H, P>(
    operation: KafkaOperation<T, H, P>,
    options: SubscribeOptions<P>,
    handle: RecordHandler,
    deadLettered?: ConsumerTarget['deadLettered'],
  ): Promise<KafkaSubscription> {
    const merged: SubscribeOptions<P> = { ...this.options.consumer, ...options };
    const target: ConsumerTarget = {
      groupId: this.groupOf(operation, merged),
      topics: this.topics.subscribed(operation, merged.parameters),
      addressOf: this.topics.addressReader(operation.channel),
      deadLettered,
    };
    return this.consumers.start(operation as KafkaOperation<unknown, unknown, unknown>, target, handle, merged);
  }
}

/** The dead-letter topics of the topics a pattern matches. */
function deadLetterPattern(topics: RegExp): RegExp {
  return new RegExp(`^(?:${topics.source.replace(/^\^/, '').replace(/\$$/, '')})\\.dlq$`);
}
