// Request/reply over RabbitMQ's direct reply-to: the requester (`Requester`: publishes, correlates, decodes
// the reply) and the responder (`Responder`: the handler's result sent to the request's reply address).
import type { Channel, ConsumeMessage } from 'amqplib';
import type { DecodedEvent } from '../consumer.js';
import { applicationHeaders, envelopeFromHeaders, readEnvelope, type CloudEventAttributes } from '../envelope.js';
import { EventValidationError } from '../errors.js';
import type { Lifecycle } from '../lifecycle.js';
import { prepareEvent } from '../producer.js';
import { ConnectionUnavailableError } from '../reconnect.js';
import { PendingReplies, replyBody, replyOutboundSpec } from '../replies.js';
import type { Telemetry } from '../telemetry.js';
import type { RabbitConnection } from './connection.js';
import { contextOf, type Delivery, type DeliveryHandler } from './consumer.js';
import { INBOUND_MAPPING, inboundHeaders, outgoingMessage, publishOptions, type OutgoingMessage } from './message.js';
import type {
  RabbitReply,
  ReplySpec,
  RequestHandler,
  RequestOptions,
  RequestRoute,
  RespondRoute,
  Settings,
} from './options.js';
import type { ConfirmPublisher, EventPublisher } from './publisher.js';
import { registryTopicOf } from './publisher.js';
import { targetOf } from './topology.js';

/** RabbitMQ's pseudo-queue for replies: no queue to declare, replies come straight to the requesting channel. */
const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

/**
 * Sends requests and resolves each with its validated reply. The request's event id is its AMQP correlation
 * id, which the responder echoes. Replies arrive on the publisher's channel, which consumes direct reply-to
 * once the first request is made. Requests are not sent again after a lost connection (the reply would
 * have nowhere to go): they fail, and so do requests still waiting when the connection drops.
 */
export class Requester {
  private readonly pending = new PendingReplies<ConsumeMessage>();
  /** Set once the first request is made: every publisher channel then consumes direct reply-to. */
  private wanted = false;
  private readonly listening = new WeakMap<Channel, Promise<void>>();

  constructor(
    private readonly events: EventPublisher,
    private readonly publisher: ConfirmPublisher,
    private readonly connection: RabbitConnection,
    private readonly settings: Settings,
    private readonly lifecycle: Lifecycle,
  ) {}

  request<T, H, P, R>(
    route: RequestRoute<T, H, P, R>,
    payload: T,
    options: RequestOptions<H> & { parameters?: P },
  ): Promise<RabbitReply<R>> {
    return this.events.prepare(route, payload, options, async (event, target, traced) => {
      const correlationId = event.envelope.id;
      const timeoutMs = traced.timeoutMs ?? this.settings.replyTimeoutMs;
      await this.listen(timeoutMs);
      const reply = this.pending.wait(correlationId, route.spec.operation, timeoutMs);
      const amqpOptions = publishOptions(event, route.properties, {
        ...traced,
        replyTo: DIRECT_REPLY_TO,
        correlationId,
      });
      this.publisher
        .publish(outgoingMessage(target, event.body, amqpOptions), {
          timeoutMs,
          resend: false,
          signal: this.lifecycle.signal,
        })
        .catch((error: unknown) => this.pending.reject(correlationId, error));
      return this.decode(route, await reply, traced.validate);
    });
  }

  /** Direct reply-to must be consumed on the channel that publishes the requests, before any is published. */
  async channelOpened(channel: Channel): Promise<void> {
    if (this.wanted) await this.consume(channel);
  }

  /** The publisher channel closed: replies it was to carry are lost. */
  channelClosed(error: Error | undefined): void {
    this.pending.rejectAll(
      new ConnectionUnavailableError(`the channel closed before the reply arrived${error ? `: ${error.message}` : ''}`),
    );
  }

  /** Fails every request still waiting for its reply. */
  rejectAll(error: unknown): void {
    this.pending.rejectAll(error);
  }

  private async listen(timeoutMs: number): Promise<void> {
    this.wanted = true;
    const channel = this.publisher.current;
    if (channel) await this.consume(channel);
    else await this.connection.next(timeoutMs, this.lifecycle.signal); // the next publisher channel listens from the start
  }

  private consume(channel: Channel): Promise<void> {
    let consuming = this.listening.get(channel);
    if (!consuming) {
      consuming = channel
        .consume(DIRECT_REPLY_TO, (message) => this.receive(message), { noAck: true })
        .then(() => undefined);
      this.listening.set(channel, consuming);
    }
    return consuming;
  }

  private receive(message: ConsumeMessage | null): void {
    const correlationId: unknown = message?.properties.correlationId;
    if (!message || typeof correlationId !== 'string' || !this.pending.resolve(correlationId, message)) {
      this.settings.logger.debug({ correlationId }, 'reply nobody waits for (late or duplicate); dropped');
    }
  }

  private async decode<T, H, P, R>(
    route: RequestRoute<T, H, P, R>,
    message: ConsumeMessage,
    validate: boolean | undefined,
  ): Promise<RabbitReply<R>> {
    const spec = route.reply;
    const codec = route.spec.replyPayloadCodec?.(this.settings.schemaRegistry);
    const body = await replyBody(message.content, codec, spec.operation);
    let payload = body as R;
    if (validate ?? this.settings.events.validate) {
      const checked = spec.validatePayload(body);
      if (!checked.ok) throw new EventValidationError('invalid-payload', `reply to ${spec.operation}`, checked.issues);
      payload = checked.value;
    }
    const headers = inboundHeaders(message);
    const envelope = readEnvelope(envelopeFromHeaders(headers, INBOUND_MAPPING));
    return {
      payload,
      headers: applicationHeaders(headers, INBOUND_MAPPING),
      envelope: envelope.ok ? envelope.value : undefined,
    };
  }
}

/** The consumer steps of a respond operation. */
export interface RespondSteps<T, H, P> {
  /** Runs the handler and prepares its reply. */
  handle: DeliveryHandler<T, H, P>;
  /** Sends the reply, after the handler succeeded and before the request is acknowledged. */
  afterSuccess(reply: unknown): Promise<void>;
}

/** Answers requests: the handler's result validated, enveloped and sent to the request's reply address. */
export class Responder {
  constructor(
    private readonly publisher: ConfirmPublisher,
    private readonly settings: Settings,
    private readonly lifecycle: Lifecycle,
    private readonly telemetry: Telemetry,
  ) {}

  steps<T, H, P, R>(
    route: RespondRoute<T, H, P, R>,
    handler: RequestHandler<T, H, P, R>,
    validate: boolean,
  ): RespondSteps<T, H, P> {
    return {
      // Preparing the reply inside the handler step makes an invalid reply a handler failure: retried, then dead-lettered.
      handle: async (decoded: DecodedEvent<T, H>, delivery: Delivery<P>) =>
        this.prepare(
          route,
          await handler(decoded.payload, contextOf(decoded, delivery)),
          decoded.envelope,
          delivery.message,
          validate,
        ),
      afterSuccess: async (reply) => {
        if (reply)
          await this.publisher.publish(reply as OutgoingMessage, {
            timeoutMs: this.settings.publishTimeoutMs,
            resend: true,
            signal: this.lifecycle.signal,
          });
      },
    };
  }

  private async prepare<T, H, P, R>(
    route: RespondRoute<T, H, P, R>,
    reply: R,
    request: CloudEventAttributes,
    message: ConsumeMessage,
    validate: boolean,
  ): Promise<OutgoingMessage | undefined> {
    const replyTo = replyAddressOf(message, route.reply.replyToHeader);
    const destination =
      replyTo !== undefined
        ? { exchange: '', routingKey: replyTo }
        : route.reply.destination && targetOf(this.settings.naming, route.reply.destination, {});
    if (!destination) {
      this.settings.logger.warn(
        { operation: route.spec.operation, eventId: request.id },
        'request without reply-to and no reply address in the document; reply dropped',
      );
      return undefined;
    }
    const codec = route.spec.replyPayloadCodec?.(this.settings.schemaRegistry);
    const spec = replyOutboundSpec(route.reply.operation, route.reply, reply, this.settings.mapping, codec);
    // An Avro reply's registry subject: the request's destination with `.reply` (the reply-to queue is a new name per request).
    const replyTopic = `${registryTopicOf({ exchange: message.fields.exchange, routingKey: message.fields.routingKey })}.reply`;
    // The reply continues the trace of the request: the consumer span (the active one here) when traced, else the request's context.
    const event = await prepareEvent(
      spec,
      reply,
      { correlationId: request.correlationid, validate, ...this.telemetry.replyTraceContext(request) },
      this.settings.events,
      replyTopic,
    );
    const correlationId: unknown = message.properties.correlationId;
    const options = publishOptions(event, route.reply.properties, {
      correlationId: typeof correlationId === 'string' ? correlationId : request.id,
    });
    return outgoingMessage(destination, event.body, options);
  }
}

/** The queue a request wants its reply in: the reply-to property, else the header the document names. */
function replyAddressOf(message: ConsumeMessage, header: string | undefined): string | undefined {
  const property: unknown = message.properties.replyTo;
  if (typeof property === 'string' && property !== '') return property;
  const value: unknown = header === undefined ? undefined : message.properties.headers?.[header];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
