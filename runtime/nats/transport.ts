// The NATS transport: the one object the generated client holds. It composes the parts (connection,
// subjects, topology, publisher, requester, consumers) and is the only door to them: publish, request,
// subscribe, respond, declareTopology and close. Everything broker-independent (validation, envelope,
// de-duplication, retry decisions) comes from ../.
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { randomUUID } from 'node:crypto';
import { InFlight } from '../consumer.js';
import { ClientClosedError } from '../errors.js';
import { deadLettersOf, type DeadLetters } from '../dead-letters.js';
import { Lifecycle, shutdownGracefully } from '../lifecycle.js';
import { silentLogger } from '../logger.js';
import type { PublishOptions } from '../producer.js';
import { Telemetry } from '../telemetry.js';
import { Connection } from './connection.js';
import {
  CoreConsumer,
  JetStreamConsumer,
  type AnyConsumer,
  type ConsumerBase,
  type ConsumerParts,
  type Received,
} from './consumer.js';
import { NatsDeadLetterStore, type NatsDeadLetterOrigin } from './dead-letters.js';
import { NATS_HEADER_MAPPING, Subjects } from './message.js';
import {
  deliveryModeOf,
  settingsOf,
  type AnyNatsOperation,
  type NatsClientOptions,
  type NatsConsumerOptions,
  type NatsHandler,
  type NatsOperation,
  type NatsPublishOptions,
  type NatsPublishResult,
  type NatsReply,
  type NatsReplySpec,
  type NatsRequestOptions,
  type NatsResponder,
  type NatsSettings,
  type NatsSubscription,
  type TransportDefaults,
} from './options.js';
import { NatsPublisher } from './publisher.js';
import { Requester, Responder } from './replies.js';
import { JetStreamTopology } from './topology.js';

/** Options of one outgoing call (publish or request) as the tracing wrapper sees them. */
type OutgoingOptions<H, P> = PublishOptions<H> & { natsSubject?: string; parameters?: P };

export class NatsTransport {
  private readonly parts: ConsumerParts;
  private readonly requester: Requester;
  private readonly subscriptions = new Set<AnyConsumer>();
  /** Publishes, requests and consumer starts in progress. */
  private readonly inFlight = new InFlight();
  private readonly lifecycle = new Lifecycle();

  static async connect(options: NatsClientOptions, defaults: TransportDefaults): Promise<NatsTransport> {
    const telemetry = await Telemetry.create('nats', options.telemetry).catch(() => Telemetry.disabled('nats'));
    const connection = await Connection.open(options, defaults);
    return new NatsTransport(connection, options, settingsOf(options, defaults), telemetry);
  }

  private constructor(
    private readonly link: Connection,
    private readonly options: NatsClientOptions,
    private readonly settings: NatsSettings,
    private readonly telemetry: Telemetry,
  ) {
    const logger = options.logger ?? silentLogger;
    const connection = link.nats;
    const js = jetstream(connection);
    const subjects = new Subjects(settings.subjectPrefix, settings.deadLetterPrefix);
    const closing = this.lifecycle.signal;
    const topology = new JetStreamTopology(connection, settings, subjects, options.stream, closing, logger);
    const publisher = new NatsPublisher(connection, js, settings, subjects, topology, this.inFlight, closing, logger);
    this.parts = { connection, js, settings, subjects, topology, publisher, telemetry, logger };
    this.requester = new Requester(connection, settings, subjects, publisher, this.inFlight);
    void link.watch(logger, this.lifecycle);
  }

  /** The NATS connection the client works on. */
  get connection(): NatsConnection {
    return this.link.nats;
  }

  async publish<T, H, P>(
    operation: NatsOperation<T, H, P>,
    payload: T,
    options: NatsPublishOptions<H> & { parameters?: P },
  ): Promise<NatsPublishResult> {
    this.assertOpen();
    const publisher = this.parts.publisher;
    if (!this.telemetry.active) return publisher.send(operation, payload, options);
    return this.traced(operation, options, (traced) => publisher.send(operation, payload, traced));
  }

  async request<T, H, P, R>(
    operation: NatsOperation<T, H, P>,
    reply: NatsReplySpec<R>,
    payload: T,
    options: NatsRequestOptions<H> & { parameters?: P },
  ): Promise<NatsReply<R>> {
    this.assertOpen();
    if (!this.telemetry.active) return this.requester.ask(operation, reply, payload, options);
    // The span lasts until the reply came; the responder's CONSUMER span is its child.
    return this.traced(operation, options, (traced) => this.requester.ask(operation, reply, payload, traced));
  }

  async subscribe<T, H, P>(
    operation: NatsOperation<T, H, P>,
    handler: NatsHandler<T, H, P>,
    options: NatsConsumerOptions,
  ): Promise<NatsSubscription> {
    this.assertOpen();
    const merged = { ...this.options.consumer, ...options };
    const mode = deliveryModeOf(this.settings, operation as AnyNatsOperation, merged.mode);
    if (mode === 'core') return this.start(new CoreConsumer(this.parts, operation, handler, merged));
    return this.start(new JetStreamConsumer(this.parts, operation, handler, merged));
  }

  async respond<T, H, P, R>(
    operation: NatsOperation<T, H, P>,
    reply: NatsReplySpec<R>,
    handler: NatsResponder<T, H, P, R>,
    options: NatsConsumerOptions,
  ): Promise<NatsSubscription> {
    this.assertOpen();
    // A requester waits with a timeout: by default no retries, and no de-duplication (a retried request must be answered).
    const merged: NatsConsumerOptions = {
      retry: { maxAttempts: 1 },
      idempotencyStore: false,
      ...this.options.consumer,
      ...options,
      mode: 'core',
    };
    return this.start(new Responder(this.parts, operation, reply, handler, merged));
  }

  /**
   * The dead letters of a receive operation (its dead-letter subject as the client's `consumer` options
   * name it): inspect, redrive, discard. Nothing is asked of the server until one is called.
   */
  deadLetters<T, H, P>(operation: NatsOperation<T, H, P>): DeadLetters<T, H, NatsDeadLetterOrigin> {
    const options = this.options.consumer ?? {};
    const { connection, js, publisher, subjects, logger } = this.parts;
    const addressed = operation.wildcard !== null || options.natsSubject !== undefined;
    const destination =
      options.deadLetterSubject ??
      (addressed
        ? subjects.deadLetterOf(subjects.filterOf(operation as AnyNatsOperation, options.natsSubject))
        : undefined);
    const mode = deliveryModeOf(this.settings, operation as AnyNatsOperation, options.mode);
    const store = new NatsDeadLetterStore(
      { connection, js, publisher },
      destination ?? operation.spec.operation,
      mode,
      destination !== undefined,
    );
    return deadLettersOf(store, operation.spec, NATS_HEADER_MAPPING, {
      telemetry: this.telemetry,
      logger,
      assertOpen: () => this.assertOpen(),
      schemaRegistry: this.settings.schemaRegistry,
    });
  }

  /** Creates (or finds) the stream of each JetStream operation, and the durable consumer of each JetStream consumer. */
  async declareTopology(operations: AnyNatsOperation[]): Promise<void> {
    this.assertOpen();
    await this.parts.topology.declare(operations, this.options.consumer ?? {});
  }

  /**
   * Stops every consumer, waits (up to `closeTimeoutMs`) for the handlers and publishes in progress, then
   * drains the connection when the client opened it. Safe to call more than once.
   */
  close(): Promise<void> {
    return this.lifecycle.close(async () => {
      const subscriptions = [...this.subscriptions];
      await shutdownGracefully({
        stopIntake: async () =>
          void (await Promise.allSettled(subscriptions.map((subscription) => subscription.stop()))),
        drain: async () => {
          await Promise.allSettled(subscriptions.map((subscription) => subscription.closed));
          await this.inFlight.drain();
        },
        timeoutMs: this.settings.closeTimeoutMs,
        logger: this.parts.logger,
        release: () => this.link.release(),
      });
    });
  }

  private assertOpen(): void {
    this.lifecycle.assertOpen();
    this.link.assertOpen();
  }

  /**
   * Runs a publish or request in a PRODUCER span named after the subject filter, the concrete subject as
   * its destination name; its trace context goes into the envelope unless the caller gave one.
   */
  private traced<H, P, O extends OutgoingOptions<H, P>, R>(
    operation: NatsOperation<unknown, H, P>,
    options: O,
    send: (options: O) => Promise<R>,
  ): Promise<R> {
    const id = options.id ?? randomUUID();
    const validate = options.validate ?? this.settings.validate;
    const natsSubject = this.parts.subjects.of(operation, options.parameters, options.natsSubject, validate);
    return this.telemetry.publish(
      this.parts.subjects.destinationOf(operation as AnyNatsOperation),
      { id, correlationId: options.correlationId },
      () => ({ 'messaging.destination.name': natsSubject }),
      (trace) =>
        send(
          options.traceparent === undefined
            ? { ...options, id, natsSubject, ...trace }
            : { ...options, id, natsSubject },
        ),
    );
  }

  /** Starts a consumer and keeps it until it stops, so that `close()` can stop it and wait for it. */
  private async start<T, H, P, M extends Received>(consumer: ConsumerBase<T, H, P, M>): Promise<NatsSubscription> {
    // Tracked like a publish: `close()` waits for a start in progress (its retries end when closing begins).
    await this.inFlight.track(consumer.start());
    if (!this.lifecycle.isOpen) {
      // Started while the client was closing: too late for `close()` to stop it, so it stops here.
      await consumer.close();
      throw new ClientClosedError();
    }
    const tracked = consumer as unknown as AnyConsumer;
    this.subscriptions.add(tracked);
    void consumer.closed.then(() => this.subscriptions.delete(tracked));
    return consumer;
  }
}
