// The RabbitMQ client behind the generated typed methods: one connection with one confirm channel for
// publishing, a channel per consumer, reconnection that restores topology and consumers, request/reply
// over direct reply-to, and a graceful close. It composes the parts; each job lives in its own file.
import type { ChannelModel } from 'amqplib';
import { deadLettersOf, type DeadLetters } from '../dead-letters.js';
import { ClientClosedError } from '../errors.js';
import { Lifecycle, shutdownGracefully } from '../lifecycle.js';
import { ConnectionUnavailableError } from '../reconnect.js';
import { Telemetry } from '../telemetry.js';
import { RabbitConnection } from './connection.js';
import { Consumers, contextOf, planConsumer, type ConsumerHost } from './consumer.js';
import { RabbitDeadLetterStore, type RabbitDeadLetterOrigin } from './dead-letters.js';
import { INBOUND_MAPPING } from './message.js';
import {
  settingsOf,
  type ClientOptions,
  type EventHandler,
  type Published,
  type RabbitReply,
  type ReceiveRoute,
  type RequestHandler,
  type RequestOptions,
  type RequestRoute,
  type RespondRoute,
  type SendOptions,
  type SendRoute,
  type Settings,
  type SubscribeOptions,
  type Subscription,
} from './options.js';
import { ConfirmChannels, ConfirmPublisher, EventPublisher } from './publisher.js';
import { Requester, Responder } from './replies.js';
import { declareDocument, fixedQueues, type DocumentTopology } from './topology.js';

export class RabbitTransport {
  private readonly lifecycle = new Lifecycle();
  private readonly connection: RabbitConnection;
  private readonly publisher: ConfirmPublisher;
  private readonly channels: ConfirmChannels;
  private readonly events: EventPublisher;
  private readonly requester: Requester;
  private readonly responder: Responder;
  private readonly consumers: Consumers;
  private readonly telemetry: Telemetry;

  /** Connects (trying each URL, with backoff) and readies the topology; rejects when no attempt succeeds. */
  static async connect(
    topology: DocumentTopology,
    options: ClientOptions,
    defaults: { source: string; validate: boolean },
  ): Promise<RabbitTransport> {
    const telemetry = await Telemetry.create('rabbitmq', options.telemetry).catch(() => Telemetry.disabled('rabbitmq'));
    const settings = settingsOf(options, { serviceName: topology.serviceName, ...defaults });
    // A queue that cannot have the type it is given is refused before anything connects.
    fixedQueues(topology, settings.naming, settings.queueType);
    const transport = new RabbitTransport(topology, options, settings, telemetry);
    await transport.connection.start();
    return transport;
  }

  private constructor(
    private readonly topology: DocumentTopology,
    options: ClientOptions,
    private readonly settings: Settings,
    telemetry: Telemetry,
  ) {
    const { lifecycle } = this;
    this.telemetry = telemetry;
    this.publisher = new ConfirmPublisher(settings.logger);
    this.connection = new RabbitConnection(options, settings, topology.defaultUrls, {
      setUp: (connection) => this.setUp(connection),
      gaveUp: (error) => this.gaveUp(error),
    });
    this.events = new EventPublisher(this.publisher, settings, lifecycle, telemetry);
    this.requester = new Requester(this.events, this.publisher, this.connection, settings, lifecycle);
    this.channels = new ConfirmChannels(this.publisher, this.connection, lifecycle, settings.logger, {
      opened: (channel) => this.requester.channelOpened(channel),
      closed: (error) => this.requester.channelClosed(error),
    });
    this.responder = new Responder(this.publisher, settings, lifecycle, telemetry);
    const host: ConsumerHost = {
      settings,
      lifecycle,
      connection: this.connection,
      publisher: this.publisher,
      telemetry,
    };
    this.consumers = new Consumers(host);
  }

  publish<T, H, P>(
    route: SendRoute<T, H, P>,
    payload: T,
    options: SendOptions<H> & { parameters?: P },
  ): Promise<Published> {
    return this.events.publish(route, payload, options);
  }

  request<T, H, P, R>(
    route: RequestRoute<T, H, P, R>,
    payload: T,
    options: RequestOptions<H> & { parameters?: P },
  ): Promise<RabbitReply<R>> {
    return this.requester.request(route, payload, options);
  }

  subscribe<T, H, P>(
    route: ReceiveRoute<T, H, P>,
    handler: EventHandler<T, H, P>,
    options: SubscribeOptions<P>,
  ): Promise<Subscription> {
    return this.consumers.start(
      route,
      async (decoded, delivery) => handler(decoded.payload, contextOf(decoded, delivery)),
      undefined,
      options,
    );
  }

  /** Consumes requests; the handler's result is validated and sent to the request's reply-to before the ack. */
  respond<T, H, P, R>(
    route: RespondRoute<T, H, P, R>,
    handler: RequestHandler<T, H, P, R>,
    options: SubscribeOptions<P>,
  ): Promise<Subscription> {
    const steps = this.responder.steps(route, handler, options.validate ?? this.settings.events.validate);
    return this.consumers.start(route, steps.handle, steps.afterSuccess, options);
  }

  /**
   * The dead letters of a receive operation: its consumer's dead-letter queue (`<queue>.dlq`, the queue
   * named as `onX()` names it without options): inspect, redrive, discard.
   */
  deadLetters<T, H, P>(route: ReceiveRoute<T, H, P>): DeadLetters<T, H, RabbitDeadLetterOrigin> {
    const { settings, lifecycle } = this;
    const queue = deadLetterQueueOf(route, settings);
    const parts = {
      connection: () => this.connection.next(settings.publishTimeoutMs, lifecycle.signal),
      publisher: this.publisher,
      publishTimeoutMs: settings.publishTimeoutMs,
      logger: settings.logger,
    };
    const store = new RabbitDeadLetterStore(parts, queue ?? `${route.spec.operation}.dlq`, queue !== undefined);
    return deadLettersOf(store, route.spec, INBOUND_MAPPING, {
      telemetry: this.telemetry,
      logger: settings.logger,
      assertOpen: () => lifecycle.assertOpen(),
      schemaRegistry: settings.schemaRegistry,
    });
  }

  /** Declares the document's exchanges and `is: queue` queues. Idempotent: safe on every start. */
  async declareTopology(): Promise<void> {
    this.lifecycle.assertOpen();
    const connection = await this.connection.next(this.settings.publishTimeoutMs, this.lifecycle.signal);
    await declareDocument(connection, this.topology, this.settings.naming, this.settings.queueType);
  }

  /**
   * Stops every consumer, waits (up to `closeTimeoutMs`) for handlers in progress and for the confirms of
   * events already published, then closes channels and connection. Later calls share the same promise.
   */
  close(): Promise<void> {
    return this.lifecycle.close(async () => {
      const consumers = this.consumers.closing();
      await shutdownGracefully({
        stopIntake: consumers.stopIntake,
        drain: consumers.drain,
        timeoutMs: this.settings.closeTimeoutMs,
        release: () => this.release(consumers.release),
        logger: this.settings.logger,
      });
    });
  }

  /** Readies a new connection: topology, the publisher's confirm channel, then every consumer. */
  private async setUp(connection: ChannelModel): Promise<void> {
    if (this.settings.declareTopology)
      await declareDocument(connection, this.topology, this.settings.naming, this.settings.queueType);
    await this.channels.open(connection);
    await this.consumers.restart(connection);
  }

  /** No connection will come back: everything waiting for one fails now rather than at its timeout. */
  private gaveUp(error: string): void {
    this.publisher.detach(`gave up reconnecting to RabbitMQ: ${error}`);
    this.requester.rejectAll(new ConnectionUnavailableError(`gave up reconnecting to RabbitMQ: ${error}`));
  }

  private async release(releaseConsumers: () => Promise<void>): Promise<void> {
    await this.publisher.settle(this.settings.closeTimeoutMs);
    this.requester.rejectAll(new ClientClosedError());
    await releaseConsumers();
    const channel = this.publisher.detach('the client is closed');
    await channel?.close().catch(() => undefined);
    await this.connection.close();
  }
}

/** The dead-letter queue of an operation's consumer; undefined when its queue name needs channel parameters. */
function deadLetterQueueOf<T, H, P>(route: ReceiveRoute<T, H, P>, settings: Settings): string | undefined {
  try {
    return planConsumer(route, {}, false, settings).deadLetter?.queue;
  } catch {
    return undefined;
  }
}
