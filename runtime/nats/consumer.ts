// One subscription on the shared ConsumerPipeline: messages pumped from the server (at most `concurrency`
// at once), headers and subject read, the pipeline run in a CONSUMER span, and the outcome settled: in
// core NATS by retrying in process and dead-lettering, in JetStream by ack / nak / term.
import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import {
  ConsumerPipeline,
  deadLetterHeaders,
  inboundSpecOf,
  InFlight,
  type InboundEvent,
  type Outcome,
} from '../consumer.js';
import { errorMessage, type DeadLetterReason } from '../errors.js';
import { ConcurrencyLimit } from '../limiter.js';
import type { Logger } from '../logger.js';
import { backoffDelay } from '../retry.js';
import type { ProcessSpan, Telemetry } from '../telemetry.js';
import { fromNatsHeaders, NATS_HEADER_MAPPING, type ReadHeaders, type Subjects } from './message.js';
import {
  prefetchOf,
  pullExpiresOf,
  type AnyNatsOperation,
  type DeliveryMode,
  type NatsConsumerOptions,
  type NatsHandler,
  type NatsOperation,
  type NatsResponder,
  type NatsSettings,
  type NatsSubscription,
} from './options.js';
import type { NatsPublisher } from './publisher.js';
import type { JetStreamTopology } from './topology.js';

/** The parts of a client its consumers work with (made once, by the transport). */
export interface ConsumerParts {
  connection: NatsConnection;
  js: JetStreamClient;
  settings: NatsSettings;
  subjects: Subjects;
  topology: JetStreamTopology;
  publisher: NatsPublisher;
  telemetry: Telemetry;
  logger: Logger;
}

/** A message as every consumer sees it, whatever its kind. */
export interface Received {
  subject: string;
  data: Uint8Array;
  headers?: MsgHdrs;
}

/** One received message with its headers read, in its CONSUMER span when tracing is on. */
export interface Delivery<M extends Received> {
  message: M;
  headers: Record<string, string>;
  span: ProcessSpan | undefined;
}

export abstract class ConsumerBase<T, H, P, M extends Received> implements NatsSubscription {
  subject = '';
  stream?: string;
  durable?: string;
  readonly closed: Promise<void>;
  protected readonly pipeline: ConsumerPipeline<T, H>;
  protected readonly inFlight = new InFlight();
  protected readonly abort = new AbortController();
  protected readonly concurrency: number;
  protected stopping = false;
  private resolveClosed!: () => void;

  constructor(
    protected readonly parts: ConsumerParts,
    protected readonly operation: NatsOperation<T, H, P>,
    protected readonly options: NatsConsumerOptions,
    readonly mode: DeliveryMode,
  ) {
    const spec = operation.spec;
    this.pipeline = new ConsumerPipeline<T, H>(
      inboundSpecOf<T, H>(spec, NATS_HEADER_MAPPING, parts.settings.schemaRegistry),
      { ...options, validate: options.validate ?? parts.settings.validate },
      parts.logger,
    );
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  abstract start(): Promise<void>;
  /** Stops the flow of messages from the server. */
  protected abstract stopIntake(): Promise<void>;
  /** Handles one message whose headers were read and whose subject matched. */
  protected abstract process(delivery: Delivery<M>, parameters: P): Promise<void>;
  /** Gives up on a message that cannot be processed (already recorded on its span). */
  protected abstract reject(delivery: Delivery<M>, reason: DeadLetterReason, error: string): Promise<void>;
  /** What happens to a message taken from the server after the subscription began to stop. */
  protected abstract release(message: M): void;
  /** When processing itself failed (not the handler: the pipeline, the store, the connection). */
  protected abstract failed(message: M, error: unknown): void;

  /** The subject filter this consumer listens to. */
  protected get filter(): string {
    return this.parts.subjects.filterOf(this.operation as AnyNatsOperation, this.options.natsSubject);
  }

  /** Hands messages to `handle`, at most `concurrency` at once, until the subscription stops. */
  protected async pump(messages: AsyncIterable<M>): Promise<void> {
    const slots = new ConcurrencyLimit(this.concurrency);
    try {
      for await (const message of messages) {
        if (this.stopping) {
          this.release(message);
          continue;
        }
        if (this.concurrency === 1) {
          // One at a time, in order: the loop itself waits, so `closed` resolves only after the handler.
          await this.handle(message);
          continue;
        }
        const wait = slots.acquire();
        if (wait) await wait;
        void this.inFlight.track(this.handle(message)).finally(() => slots.release());
      }
    } catch (error) {
      if (!this.stopping)
        this.parts.logger.error(
          { operation: this.operation.spec.operation, err: errorMessage(error) },
          'NATS subscription failed',
        );
    } finally {
      await this.inFlight.drain();
      this.resolveClosed();
    }
  }

  /** Reads headers and subject, then processes the message; never rejects. */
  private async handle(message: M): Promise<void> {
    try {
      const read = fromNatsHeaders(message.headers);
      const telemetry = this.parts.telemetry;
      if (!telemetry.active) return await this.check(message, read, undefined);
      const prefix = NATS_HEADER_MAPPING.prefix;
      const envelope = {
        id: read.headers[`${prefix}id`],
        traceparent: read.headers[`${prefix}traceparent`],
        tracestate: read.headers[`${prefix}tracestate`],
        correlationid: read.headers[`${prefix}correlationid`],
      };
      // The span is named after the subject filter; the concrete subject is its destination name.
      const attributes = () => ({
        'messaging.destination.name': message.subject,
        'messaging.consumer.group.name': this.durable ?? this.options.queue ?? this.operation.queue,
      });
      await telemetry.process(
        this.parts.subjects.destinationOf(this.operation as AnyNatsOperation),
        envelope,
        attributes,
        (span) => this.check(message, read, span),
      );
    } catch (error) {
      this.failed(message, error);
    }
  }

  private check(message: M, read: ReadHeaders, span: ProcessSpan | undefined): Promise<void> {
    const delivery = { message, headers: read.headers, span };
    if (read.error) return this.rejectUnread(delivery, 'invalid-envelope', read.error);
    const parameters = this.parts.subjects.parametersOf(this.operation, message.subject);
    if (parameters === undefined)
      return this.rejectUnread(delivery, 'invalid-address', `subject ${message.subject} does not match the channel`);
    return this.process(delivery, parameters);
  }

  /** Rejects an event before the pipeline ran (malformed headers, a subject outside the channel), recording it on the span. */
  private rejectUnread(delivery: Delivery<M>, reason: DeadLetterReason, error: string): Promise<void> {
    delivery.span?.deadLetter({ reason, error, attempts: 1 });
    return this.reject(delivery, reason, error);
  }

  /** Runs the pipeline: decode, validate, de-duplicate, then the handler (each attempt in the span). */
  protected run(
    inbound: InboundEvent,
    parameters: P,
    subject: string,
    sequence: number | undefined,
    retryMode: 'in-process' | 'redelivery',
    span: ProcessSpan | undefined,
    handler: NatsResponder<T, H, P, unknown>,
  ): Promise<Outcome> {
    return this.pipeline.process(
      inbound,
      async (decoded, attempt) => {
        await handler(decoded.payload, {
          headers: decoded.headers,
          envelope: decoded.envelope,
          parameters,
          subject,
          attempt,
          mode: this.mode,
          sequence,
        });
      },
      retryMode,
      this.abort.signal,
      span,
    );
  }

  /** Dead-letter headers: the event's own headers, and why it could not be processed. */
  protected deadLetterHeaders(
    headers: Record<string, string>,
    reason: DeadLetterReason,
    error: string,
    attempts: number,
    subject: string,
  ): Record<string, string> {
    return {
      ...headers,
      ...deadLetterHeaders(reason, error, attempts, this.operation.spec.operation),
      'x-codegen-subject': subject,
    };
  }

  /** Where an event that arrived on `subject` goes when it cannot be processed. */
  protected deadLetterSubjectOf(subject: string): string {
    return this.options.deadLetterSubject ?? this.parts.subjects.deadLetterOf(subject);
  }

  /** Stops taking messages; handlers in progress go on (`closed` resolves when they are done). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.abort.abort();
    await this.stopIntake().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.stop();
    await this.closed;
  }
}

/** Any consumer, as the transport keeps it until it closes. */
export type AnyConsumer = ConsumerBase<unknown, unknown, unknown, Received>;

/**
 * A consumer on a core NATS subscription (a queue group when it has one): events come once, retries
 * happen in process, and nothing can be given back to the server.
 */
export abstract class CoreSubscriber<T, H, P> extends ConsumerBase<T, H, P, Msg> {
  private subscription?: Subscription;

  constructor(parts: ConsumerParts, operation: NatsOperation<T, H, P>, options: NatsConsumerOptions) {
    super(parts, operation, options, 'core');
  }

  /** The queue group to join; undefined: every subscriber gets every event. */
  protected abstract queueGroup(): string | undefined;

  async start(): Promise<void> {
    this.subject = this.filter;
    const queue = this.queueGroup();
    this.subscription = this.parts.connection.subscribe(this.subject, queue === undefined ? {} : { queue });
    await this.parts.connection.flush();
    void this.pump(this.subscription);
  }

  protected async stopIntake(): Promise<void> {
    this.subscription?.unsubscribe();
  }

  /** Runs the pipeline on a core message: its only delivery, retried in process. */
  protected runInProcess(
    { message, headers, span }: Delivery<Msg>,
    parameters: P,
    handler: NatsResponder<T, H, P, unknown>,
  ): Promise<Outcome> {
    const inbound = { body: message.data, headers, deliveryAttempt: 1 };
    return this.run(inbound, parameters, message.subject, undefined, 'in-process', span, handler);
  }
}

/** Core NATS: a subscription (with a queue group when given); retries happen in process; at-most-once. */
export class CoreConsumer<T, H, P> extends CoreSubscriber<T, H, P> {
  constructor(
    parts: ConsumerParts,
    operation: NatsOperation<T, H, P>,
    private readonly handler: NatsHandler<T, H, P>,
    options: NatsConsumerOptions,
  ) {
    super(parts, operation, options);
  }

  protected queueGroup(): string | undefined {
    return (this.options.queue ?? this.operation.queue) || undefined;
  }

  protected async process(delivery: Delivery<Msg>, parameters: P): Promise<void> {
    const outcome = await this.runInProcess(delivery, parameters, this.handler);
    if (outcome.action === 'dead-letter') this.deadLetter(delivery, outcome.reason, outcome.error, outcome.attempts);
    else if (outcome.action === 'requeue')
      this.parts.logger.warn(
        { operation: this.operation.spec.operation },
        'event dropped on shutdown (core NATS cannot give it back)',
      );
  }

  protected async reject(delivery: Delivery<Msg>, reason: DeadLetterReason, error: string): Promise<void> {
    this.deadLetter(delivery, reason, error, 1);
  }

  protected release(): void {
    // Core NATS has nothing to give back: the event is dropped.
  }

  protected failed(_message: Msg, error: unknown): void {
    this.parts.logger.error(
      { operation: this.operation.spec.operation, err: errorMessage(error) },
      'event lost (core NATS, at-most-once)',
    );
  }

  private deadLetter(
    { message, headers }: Delivery<Msg>,
    reason: DeadLetterReason,
    error: string,
    attempts: number,
  ): void {
    const logger = this.parts.logger;
    logger.error({ operation: this.operation.spec.operation, reason, err: error }, 'event dead-lettered');
    const subject = this.deadLetterSubjectOf(message.subject);
    const dead = this.deadLetterHeaders(headers, reason, error, attempts, message.subject);
    this.parts.publisher
      .publishDeadLetter(subject, message.data, dead, undefined)
      .catch((failure: unknown) =>
        logger.error(
          { operation: this.operation.spec.operation, subject, err: errorMessage(failure) },
          'dead-letter publish failed; event lost (core NATS)',
        ),
      );
  }
}

/**
 * JetStream: a durable pull consumer. Acknowledged after the handler succeeded; a failure is `nak`ed with
 * the backoff delay (the server counts deliveries); after the last attempt the event goes to the
 * dead-letter subject and is terminated. Long handlers send progress acknowledgements.
 */
export class JetStreamConsumer<T, H, P> extends ConsumerBase<T, H, P, JsMsg> {
  private messages?: ConsumerMessages;
  private readonly active = new Map<JsMsg, number>();
  private ticker?: ReturnType<typeof setInterval>;
  private readonly ackWaitMs: number;
  private readonly atMostOnce: boolean;
  /** The durable consumer's `max_deliver` as the server has it (the consumer may predate this client); 0: no limit. */
  private maxDeliver = 0;

  constructor(
    parts: ConsumerParts,
    operation: NatsOperation<T, H, P>,
    private readonly handler: NatsHandler<T, H, P>,
    options: NatsConsumerOptions,
  ) {
    super(parts, operation, options, 'jetstream');
    this.ackWaitMs = options.ackWaitMs ?? 30_000;
    this.atMostOnce = options.ackMode === 'before-handler';
  }

  async start(): Promise<void> {
    const operation = this.operation as AnyNatsOperation;
    const topology = this.parts.topology;
    this.subject = this.filter;
    this.stream = await topology.streamOf(operation);
    if (this.options.deadLetterSubject === undefined) await topology.deadLetterStreamOf(operation);
    const { durable } = await topology.consumerOf(operation, this.stream, this.options);
    this.durable = durable;
    const stream = this.stream;
    const consumer = await topology.request(`look up consumer ${durable} on ${stream}`, () =>
      this.parts.js.consumers.get(stream, durable),
    );
    this.maxDeliver = Math.max(0, (await consumer.info(true)).config.max_deliver ?? 0);
    // Short pulls: a pull whose consumer leader died (a cluster node lost) is replaced after two missed
    // heartbeats (half the expiry each), so the consumer resumes in seconds, not after the library's 30 s.
    this.messages = await consumer.consume({
      max_messages: prefetchOf(this.options),
      expires: pullExpiresOf(this.options),
    });
    this.keepActiveEventsAlive();
    void this.pump(this.messages);
  }

  /** Progress acknowledgements keep the events of slow handlers from being redelivered meanwhile. */
  private keepActiveEventsAlive(): void {
    const every = Math.max(100, Math.floor(this.ackWaitMs / 3));
    this.ticker = setInterval(() => {
      const now = Date.now();
      for (const [message, started] of this.active) if (now - started >= every) message.working();
    }, every);
    this.ticker.unref?.();
  }

  protected async stopIntake(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    await this.messages?.close();
  }

  protected async process(delivery: Delivery<JsMsg>, parameters: P): Promise<void> {
    const { message, headers, span } = delivery;
    this.active.set(message, Date.now());
    try {
      if (this.atMostOnce) message.ack();
      const deliveryAttempt = message.info.deliveryCount;
      const lastDelivery = this.maxDeliver > 0 && deliveryAttempt >= this.maxDeliver;
      const inbound = { body: message.data, headers, deliveryAttempt, lastDelivery };
      const outcome = await this.run(
        inbound,
        parameters,
        message.subject,
        message.seq,
        this.atMostOnce ? 'in-process' : 'redelivery',
        span,
        this.handler,
      );
      await this.settle(delivery, outcome);
    } finally {
      this.active.delete(message);
    }
  }

  /** Tells the server what became of the event. */
  private async settle(delivery: Delivery<JsMsg>, outcome: Outcome): Promise<void> {
    const message = delivery.message;
    switch (outcome.action) {
      case 'ack':
        if (!this.atMostOnce) message.ack();
        return;
      case 'retry':
        message.nak(outcome.delayMs);
        return;
      case 'requeue':
        if (!this.atMostOnce) message.nak();
        return;
      case 'dead-letter':
        return await this.deadLetter(delivery, outcome.reason, outcome.error, outcome.attempts);
    }
  }

  protected reject(delivery: Delivery<JsMsg>, reason: DeadLetterReason, error: string): Promise<void> {
    return this.deadLetter(delivery, reason, error, delivery.message.info.deliveryCount);
  }

  protected release(message: JsMsg): void {
    // Fetched ahead but not started: back to the server at once, for another consumer.
    message.nak();
  }

  protected failed(message: JsMsg, error: unknown): void {
    const delayMs = backoffDelay(this.pipeline.policy, message.info.deliveryCount);
    this.parts.logger.error(
      { operation: this.operation.spec.operation, err: errorMessage(error), delayMs },
      'event processing failed; asking for redelivery',
    );
    if (!this.atMostOnce) message.nak(delayMs);
  }

  /** Publishes the event to the dead-letter subject (stored, confirmed), then terminates it; never loses it. */
  private async deadLetter(
    { message, headers }: Delivery<JsMsg>,
    reason: DeadLetterReason,
    error: string,
    attempts: number,
  ): Promise<void> {
    const logger = this.parts.logger;
    logger.error({ operation: this.operation.spec.operation, reason, err: error, attempts }, 'event dead-lettered');
    const subject = this.deadLetterSubjectOf(message.subject);
    const dead = this.deadLetterHeaders(headers, reason, error, attempts, message.subject);
    dead['x-codegen-stream'] = message.info.stream;
    dead['x-codegen-stream-sequence'] = String(message.seq);
    try {
      await this.parts.publisher.publishDeadLetter(subject, message.data, dead, {
        msgID: `${message.info.stream}:${message.seq}:dead-letter`,
      });
      if (!this.atMostOnce) message.term();
    } catch (failure) {
      // Let the server deliver it again and try the dead-letter subject once more.
      const delayMs = backoffDelay(this.pipeline.policy, attempts);
      logger.error(
        { operation: this.operation.spec.operation, subject, err: errorMessage(failure), delayMs },
        'dead-letter publish failed; asking for redelivery',
      );
      if (!this.atMostOnce) message.nak(delayMs);
    }
  }
}
