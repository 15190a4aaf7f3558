// One subscription on the shared ConsumerPipeline, on a connection (an MQTT session) of its own: each
// message read (message.ts), its topic matched to the channel, the pipeline run in a CONSUMER span, and only
// then acknowledged (PUBACK / PUBCOMP): at-least-once, retries in process, dead letters to a topic. A
// message left unacknowledged (the client closed mid-retry, or crashed) comes back with the session.
import type { IPublishPacket } from 'mqtt';
import {
  ConsumerPipeline,
  deadLetterHeaders,
  inboundSpecOf,
  type DecodedEvent,
  type InFlight,
  type Outcome,
} from '../consumer.js';
import { errorMessage, type DeadLetterReason } from '../errors.js';
import { ConcurrencyLimit } from '../limiter.js';
import type { Logger } from '../logger.js';
import { backoffDelay, sleep } from '../retry.js';
import type { ProcessSpan, Telemetry } from '../telemetry.js';
import { MqttConnection } from './connection.js';
import { fromMqttMessage, MQTT_HEADER_MAPPING, traceContextOf, type ReadMessage } from './message.js';
import type {
  AnyMqttOperation,
  MqttClientOptions,
  MqttConsumerOptions,
  MqttEventContext,
  MqttSettings,
  MqttSubscription,
  QoS,
} from './options.js';
import type { MqttPublisher } from './publisher.js';
import type { Topics } from './topology.js';

/** The parts of a client its consumers work with (made once, by the transport). */
export interface ConsumerParts {
  servers: readonly string[];
  settings: MqttSettings;
  clientOptions: MqttClientOptions;
  topics: Topics;
  /** Sends the dead letters (and a responder's replies) on the client's own connection. */
  publisher: MqttPublisher;
  telemetry: Telemetry;
  logger: Logger;
  /** The handlers in progress, which the client's close() waits for. */
  inFlight: InFlight;
}

/** Runs the handler of one decoded event (and, for a responder, sends its reply). */
export type EventHandler = (
  decoded: DecodedEvent<unknown, unknown>,
  context: MqttEventContext<unknown, unknown>,
  message: ReadMessage,
) => Promise<void>;

/** An event given up on, with what a responder needs to tell its requester. */
export interface GivenUp {
  message: ReadMessage;
  reason: DeadLetterReason;
  error: string;
  attempts: number;
}

export class MqttConsumer implements MqttSubscription {
  topic = '';
  readonly sessionId: string;
  readonly group: string | undefined;
  readonly closed: Promise<void>;
  private connection: MqttConnection | undefined;
  private readonly pipeline: ConsumerPipeline<unknown, unknown>;
  private readonly handling = new Set<Promise<unknown>>();
  /** Aborted when the subscription stops: retry waits end, unfinished events stay unacknowledged. */
  private readonly abort = new AbortController();
  private readonly atMostOnce: boolean;
  /** At-most-once consumers acknowledge at once and may run several handlers; the others run one at a time, in order. */
  private readonly slots: ConcurrencyLimit;
  private stopping = false;
  private resolveClosed!: () => void;

  constructor(
    private readonly parts: ConsumerParts,
    private readonly operation: AnyMqttOperation,
    private readonly handle: EventHandler,
    private readonly options: MqttConsumerOptions,
    private readonly givenUp?: (failure: GivenUp) => Promise<void>,
  ) {
    const spec = operation.spec;
    this.sessionId = options.sessionId ?? `${parts.settings.clientId}.${spec.operation}`;
    this.group = options.group;
    this.atMostOnce = options.ackMode === 'before-handler';
    this.slots = new ConcurrencyLimit(this.atMostOnce ? Math.max(1, Math.floor(options.concurrency ?? 1)) : 1);
    this.pipeline = new ConsumerPipeline(
      inboundSpecOf(spec, MQTT_HEADER_MAPPING, parts.settings.schemaRegistry),
      { ...options, validate: options.validate ?? parts.settings.validate },
      parts.logger,
    );
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  /** Opens the consumer's session and subscribes; resolves once the broker granted the subscription. */
  async start(): Promise<void> {
    const { settings, topics } = this.parts;
    this.topic = topics.filterOf(this.operation, this.options.mqttTopic, this.group);
    const qos = this.options.qos ?? this.operation.qos ?? settings.qos;
    const session = {
      clientId: this.sessionId,
      clean: this.options.cleanStart ?? settings.cleanStart,
      sessionExpirySeconds: settings.sessionExpirySeconds,
    };
    const connection = await MqttConnection.open(
      this.parts.servers,
      settings,
      this.parts.clientOptions,
      session,
      this.parts.logger,
      (packet, done) => this.receive(packet, done),
    );
    this.connection = connection;
    try {
      const [granted] = await connection.client.subscribeAsync(this.topic, { qos });
      if (granted === undefined || granted.qos === 128)
        throw new Error(`the broker refused the subscription to ${this.topic}`);
    } catch (error) {
      await connection.close(0);
      throw error;
    }
  }

  /** Takes one message from MQTT.js: `done` acknowledges it and lets the next one in. */
  private receive(packet: IPublishPacket, done: (error?: Error) => void): void {
    // Closing: not acknowledged, so the broker delivers it again to the session.
    if (this.stopping) return;
    const work = (async () => {
      const wait = this.slots.acquire();
      if (wait) await wait;
      if (this.atMostOnce) done();
      try {
        const settled = await this.process(packet);
        if (settled && !this.atMostOnce) done();
      } finally {
        this.slots.release();
      }
    })();
    this.handling.add(work);
    void this.parts.inFlight.track(work).finally(() => this.handling.delete(work));
  }

  /** Runs one message (in a CONSUMER span when tracing is on); false when it must stay unacknowledged. */
  private async process(packet: IPublishPacket): Promise<boolean> {
    const message = fromMqttMessage(packet, this.parts.settings.mqttVersion);
    try {
      const telemetry = this.parts.telemetry;
      if (!telemetry.active) return await this.check(packet, message, undefined);
      return await telemetry.process(
        this.parts.topics.destinationOf(this.operation),
        traceContextOf(message.headers),
        () => ({ 'messaging.destination.name': packet.topic, 'messaging.consumer.group.name': this.group }),
        (span) => this.check(packet, message, span),
      );
    } catch (error) {
      // Not the handler (the pipeline caught that): the store, the dead-letter topic. Given up on, not lost.
      return this.giveUp(packet, message, 'handler-failed', errorMessage(error), 1);
    }
  }

  private async check(packet: IPublishPacket, message: ReadMessage, span: ProcessSpan | undefined): Promise<boolean> {
    if (message.error) return this.rejectUnread(packet, message, message.error.reason, message.error.message, span);
    const parameters = this.parts.topics.parametersOf(this.operation, packet.topic);
    if (parameters === undefined)
      return this.rejectUnread(
        packet,
        message,
        'invalid-address',
        `topic ${packet.topic} does not match the channel`,
        span,
      );
    const outcome = await this.run(packet, message, parameters, span);
    return this.settle(packet, message, outcome);
  }

  private run(
    packet: IPublishPacket,
    message: ReadMessage,
    parameters: unknown,
    span: ProcessSpan | undefined,
  ): Promise<Outcome> {
    return this.pipeline.process(
      { body: message.body, headers: message.headers, deliveryAttempt: 1 },
      (decoded, attempt) =>
        this.handle(
          decoded,
          {
            envelope: decoded.envelope,
            headers: decoded.headers,
            parameters,
            topic: packet.topic,
            attempt,
            qos: packet.qos as QoS,
            redelivered: packet.dup,
            retained: packet.retain,
          },
          message,
        ),
      'in-process',
      this.abort.signal,
      span,
    );
  }

  private async settle(packet: IPublishPacket, message: ReadMessage, outcome: Outcome): Promise<boolean> {
    if (outcome.action === 'ack') return true;
    if (outcome.action === 'dead-letter')
      return this.giveUp(packet, message, outcome.reason, outcome.error, outcome.attempts);
    return false;
  }

  /** Refuses an event before the pipeline ran (unreadable, a topic outside the channel), recording it on the span. */
  private rejectUnread(
    packet: IPublishPacket,
    message: ReadMessage,
    reason: DeadLetterReason,
    error: string,
    span: ProcessSpan | undefined,
  ): Promise<boolean> {
    span?.deadLetter({ reason, error, attempts: 1 });
    return this.giveUp(packet, message, reason, error, 1);
  }

  /**
   * Publishes the event to its dead-letter topic (the original body, its headers and why), tells a waiting
   * requester, then lets it be acknowledged; a dead-letter publish that fails is tried again until it
   * succeeds or the consumer stops (then the event stays unacknowledged and comes back).
   */
  private async giveUp(
    packet: IPublishPacket,
    message: ReadMessage,
    reason: DeadLetterReason,
    error: string,
    attempts: number,
  ): Promise<boolean> {
    const logger = this.parts.logger;
    const operation = this.operation.spec.operation;
    const destination = this.deadLetterTopicOf(packet.topic);
    if (destination !== undefined) {
      const headers = {
        ...message.headers,
        ...deadLetterHeaders(reason, error, attempts, operation),
        'x-codegen-topic': packet.topic,
      };
      if (!(await this.untilPublished(destination, { body: message.body, headers }))) return false;
    } else
      logger.error({ operation, topic: packet.topic, reason, err: error }, 'event dropped (dead-lettering is off)');
    await this.givenUp?.({ message, reason, error, attempts }).catch((failure: unknown) =>
      logger.warn({ operation, err: errorMessage(failure) }, 'could not tell the requester'),
    );
    return true;
  }

  private deadLetterTopicOf(topic: string): string | undefined {
    const option = this.options.deadLetterTopic;
    if (option === false) return undefined;
    return option ?? this.parts.topics.deadLetterOf(topic);
  }

  private async untilPublished(
    topic: string,
    message: { body: Uint8Array; headers: Record<string, string> },
  ): Promise<boolean> {
    const operation = this.operation.spec.operation;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.parts.publisher.publish(topic, message, { qos: 1, operation });
        return true;
      } catch (error) {
        const delayMs = backoffDelay(this.pipeline.policy, attempt);
        this.parts.logger.error(
          { operation, topic, err: errorMessage(error), delayMs },
          'dead-letter publish failed; trying again',
        );
        if (!(await sleep(delayMs, this.abort.signal))) return false;
      }
    }
  }

  /** Stops taking events; the handler in progress goes on (`closed` resolves once it is done and the session disconnected). */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.abort.abort();
    void this.finish();
  }

  private async finish(): Promise<void> {
    await Promise.allSettled([...this.handling]);
    await this.connection?.close(this.parts.settings.closeTimeoutMs);
    this.resolveClosed();
  }

  /** Cuts the session's connection at once: events still in progress stay unacknowledged, and come back. */
  async abandon(): Promise<void> {
    this.stop();
    await this.connection?.close(0);
  }

  close(): Promise<void> {
    this.stop();
    return this.closed;
  }
}
