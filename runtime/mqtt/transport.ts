// The MQTT transport: the one object the generated client holds. It composes the parts (the client's own
// connection, topics, publisher, requester, responder, consumers) and is the only door to them: publish,
// request, subscribe, respond and close. Everything broker-independent (validation, envelope,
// de-duplication, retry decisions) comes from ../.
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { InFlight } from '../consumer.js';
import { Lifecycle, shutdownGracefully } from '../lifecycle.js';
import { silentLogger } from '../logger.js';
import type { PublishOptions } from '../producer.js';
import { Telemetry } from '../telemetry.js';
import { MqttConnection } from './connection.js';
import { MqttConsumer, type ConsumerParts, type EventHandler, type GivenUp } from './consumer.js';
import {
  settingsOf,
  type AnyMqttOperation,
  type MqttClientOptions,
  type MqttConsumerOptions,
  type MqttHandler,
  type MqttOperation,
  type MqttPublishOptions,
  type MqttPublishResult,
  type MqttReply,
  type MqttReplySpec,
  type MqttRequestOptions,
  type MqttResponder,
  type MqttSettings,
  type MqttSubscription,
  type TransportDefaults,
} from './options.js';
import { MqttPublisher } from './publisher.js';
import { Requester, Responder } from './replies.js';
import { Topics } from './topology.js';

/** Options of one outgoing call (publish or request) as the tracing wrapper sees them. */
type OutgoingOptions<H, P> = PublishOptions<H> & { mqttTopic?: string; parameters?: P };

export class MqttTransport {
  private readonly parts: ConsumerParts;
  private readonly requester: Requester;
  private readonly responder: Responder;
  private readonly consumers = new Set<MqttConsumer>();
  /** Publishes, requests and handlers in progress. */
  private readonly inFlight = new InFlight();
  private readonly lifecycle = new Lifecycle();

  /** Connects the client's own connection (publishing and replies); each consumer opens its session when it starts. */
  static async connect(options: MqttClientOptions, defaults: TransportDefaults): Promise<MqttTransport> {
    const settings = settingsOf(options, defaults);
    const listed = options.servers ?? defaults.servers;
    const servers = Array.isArray(listed) ? listed : [listed];
    const logger = options.logger ?? silentLogger;
    const telemetry = await Telemetry.create('mqtt', options.telemetry).catch(() => Telemetry.disabled('mqtt'));
    const session = { clientId: settings.clientId, clean: true, sessionExpirySeconds: 0, will: settings.lastWill };
    const connection = await MqttConnection.open(servers, settings, options, session, logger);
    return new MqttTransport(connection, servers, options, settings, telemetry);
  }

  private constructor(
    private readonly connection: MqttConnection,
    servers: readonly string[],
    private readonly options: MqttClientOptions,
    private readonly settings: MqttSettings,
    private readonly telemetry: Telemetry,
  ) {
    const logger = options.logger ?? silentLogger;
    const topics = new Topics(settings.topicPrefix, settings.deadLetterPrefix);
    const publisher = new MqttPublisher(connection, settings, topics, this.inFlight);
    this.parts = {
      servers,
      settings,
      clientOptions: options,
      topics,
      publisher,
      telemetry,
      logger,
      inFlight: this.inFlight,
    };
    this.requester = new Requester(connection, publisher, settings, topics);
    this.responder = new Responder(publisher, telemetry, settings.schemaRegistry);
  }

  /** The MQTT.js client of the client's own connection (publishing and replies). */
  get client(): MqttClient {
    return this.connection.client;
  }

  /** Publishes one event; resolves once the broker acknowledged it (QoS 1 and 2), or once it is written (QoS 0). */
  async publish<T, H, P>(
    operation: MqttOperation<T, H, P>,
    payload: T,
    options: MqttPublishOptions<H> & { parameters?: P },
  ): Promise<MqttPublishResult> {
    this.lifecycle.assertOpen();
    const publisher = this.parts.publisher;
    if (!this.telemetry.active) return publisher.send(operation, payload, options);
    return this.traced(operation, options, (traced) => publisher.send(operation, payload, traced));
  }

  /**
   * Sends a request and resolves with its validated reply; rejects with ReplyTimeoutError when none
   * comes in time, with RequestFailedError when the responder answered that it could not reply.
   */
  async request<T, H, P, R>(
    operation: MqttOperation<T, H, P>,
    reply: MqttReplySpec<R>,
    payload: T,
    options: MqttRequestOptions<H> & { parameters?: P },
  ): Promise<MqttReply<R>> {
    this.lifecycle.assertOpen();
    if (!this.telemetry.active) return this.requester.ask(operation, reply, payload, options);
    // The span lasts until the reply came; the responder's CONSUMER span is its child.
    return this.traced(operation, options, (traced) => this.requester.ask(operation, reply, payload, traced));
  }

  /** Starts a consumer on a session of its own; resolves once the broker granted its subscription. */
  async subscribe<T, H, P>(
    operation: MqttOperation<T, H, P>,
    handler: MqttHandler<T, H, P>,
    options: MqttConsumerOptions,
  ): Promise<MqttSubscription> {
    this.lifecycle.assertOpen();
    const handle: EventHandler = async (decoded, context) => {
      await handler(decoded.payload as T, context as Parameters<MqttHandler<T, H, P>>[1]);
    };
    return this.start(operation, handle, { ...this.options.consumer, ...options });
  }

  /** Answers requests: the handler's return value is published to each request's response topic. */
  async respond<T, H, P, R>(
    operation: MqttOperation<T, H, P>,
    reply: MqttReplySpec<R>,
    handler: MqttResponder<T, H, P, R>,
    options: MqttConsumerOptions,
  ): Promise<MqttSubscription> {
    this.lifecycle.assertOpen();
    // A requester waits with a timeout: by default no retries and no de-duplication (a retried request
    // must be answered), a clean session (a request kept for an absent responder would be answered too
    // late, and a shared group would keep handing requests to it), and responders share the work (one of
    // them answers each request).
    const merged: MqttConsumerOptions = {
      retry: { maxAttempts: 1 },
      idempotencyStore: false,
      cleanStart: true,
      group: operation.spec.operation.replace(/[/+#]/g, '_'),
      ...this.options.consumer,
      ...options,
    };
    const handle = this.responder.handler(operation, reply, handler, this.parts.logger);
    return this.start(operation, handle, merged, (failure) => this.responder.failed(operation.spec.operation, failure));
  }

  /**
   * Stops every consumer (unfinished events stay unacknowledged and come back with the session), waits
   * (up to `closeTimeoutMs`) for the handlers and publishes in progress, fails waiting requests, then
   * disconnects. Safe to call more than once.
   */
  close(): Promise<void> {
    return this.lifecycle.close(async () => {
      const consumers = [...this.consumers];
      await shutdownGracefully({
        stopIntake: async () => consumers.forEach((consumer) => consumer.stop()),
        drain: async () => {
          await Promise.allSettled(consumers.map((consumer) => consumer.closed));
          await this.inFlight.drain();
        },
        timeoutMs: this.settings.closeTimeoutMs,
        logger: this.parts.logger,
        release: async () => {
          // Handlers still running past the timeout: their events stay unacknowledged and come back.
          await Promise.allSettled(consumers.map((consumer) => consumer.abandon()));
          this.requester.close();
          await this.connection.close(this.settings.closeTimeoutMs);
        },
      });
    });
  }

  private async start<T, H, P>(
    operation: MqttOperation<T, H, P>,
    handle: EventHandler,
    options: MqttConsumerOptions,
    givenUp?: (failure: GivenUp) => Promise<void>,
  ): Promise<MqttSubscription> {
    const consumer = new MqttConsumer(this.parts, operation as unknown as AnyMqttOperation, handle, options, givenUp);
    await consumer.start();
    this.consumers.add(consumer);
    void consumer.closed.then(() => this.consumers.delete(consumer));
    return consumer;
  }

  /**
   * Runs a publish or request in a PRODUCER span named after the topic filter, the concrete topic as its
   * destination name; its trace context goes into the envelope unless the caller gave one.
   */
  private traced<H, P, O extends OutgoingOptions<H, P>, R>(
    operation: MqttOperation<unknown, H, P>,
    options: O,
    send: (options: O) => Promise<R>,
  ): Promise<R> {
    const id = options.id ?? randomUUID();
    const topic = this.parts.publisher.topicOf(operation, options);
    return this.telemetry.publish(
      this.parts.topics.destinationOf(operation as AnyMqttOperation),
      { id, correlationId: options.correlationId },
      () => ({ 'messaging.destination.name': topic }),
      (trace) =>
        send(
          options.traceparent === undefined
            ? { ...options, id, mqttTopic: topic, ...trace }
            : { ...options, id, mqttTopic: topic },
        ),
    );
  }
}
