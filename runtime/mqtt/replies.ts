// Request/reply the MQTT 5 way: the request carries a response topic and correlation data (properties on
// MQTT 5, `x-codegen-*` headers of the structured event on 3.1.1); the requester listens on its own reply
// topic and matches replies by correlation (the shared PendingReplies); the responder publishes the
// handler's result, or word that none will come, to the response topic with the same correlation data.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IPublishPacket } from 'mqtt';
import type { PayloadCodec, SchemaRegistryOptions } from '../codec.js';
import { deadLetterHeaders } from '../consumer.js';
import type { CloudEventAttributes } from '../envelope.js';
import { ClientClosedError, EventValidationError, PublishError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { OutboundEvent } from '../producer.js';
import { PendingReplies, readReply, replyOutboundSpec, type RawReply } from '../replies.js';
import type { Telemetry } from '../telemetry.js';
import type { MqttConnection } from './connection.js';
import type { EventHandler, GivenUp } from './consumer.js';
import { fromMqttMessage, MQTT_HEADER_MAPPING } from './message.js';
import type {
  MqttEventContext,
  MqttOperation,
  MqttReply,
  MqttReplySpec,
  MqttRequestOptions,
  MqttResponder,
  MqttSettings,
} from './options.js';
import type { MqttPublisher } from './publisher.js';
import type { Topics } from './topology.js';

/** The requesting side: one reply topic per client, subscribed on the client's connection before the first request. */
export class Requester {
  private readonly replies = new PendingReplies<RawReply & { topic: string }>();
  readonly replyTopic: string;
  private subscribing: Promise<void> | undefined;

  constructor(
    private readonly connection: MqttConnection,
    private readonly publisher: MqttPublisher,
    private readonly settings: MqttSettings,
    topics: Topics,
  ) {
    this.replyTopic = `${topics.replyTopicOf(settings.clientId)}/${randomBytes(4).toString('hex')}`;
  }

  async ask<T, H, P, R>(
    operation: MqttOperation<T, H, P>,
    reply: MqttReplySpec<R>,
    payload: T,
    options: MqttRequestOptions<H> & { parameters?: P },
  ): Promise<MqttReply<R>> {
    const topic = this.publisher.topicOf(operation, options);
    const correlationId = options.correlationId ?? randomUUID();
    const event = await this.publisher.encode(operation.spec, payload, { ...options, correlationId }, topic);
    await this.listening();
    const answer = this.replies.wait(
      correlationId,
      operation.spec.operation,
      options.timeoutMs ?? this.settings.requestTimeoutMs,
    );
    // The publish can outlast the timeout; the answer's rejection is read below, never left unhandled meanwhile.
    answer.catch(() => undefined);
    try {
      const matched = await this.publisher.publish(
        topic,
        { body: event.body, headers: event.headers, responseTopic: this.replyTopic, correlationData: correlationId },
        {
          qos: this.publisher.qosOf(operation as MqttOperation<unknown, unknown, unknown>),
          operation: operation.spec.operation,
        },
      );
      // MQTT 5: the broker says at once when no subscriber matched: no responder listens.
      if (!matched)
        this.replies.reject(
          correlationId,
          new PublishError(`${operation.spec.operation}: no responder listens on ${topic}`),
        );
    } catch (error) {
      this.replies.reject(correlationId, error);
    }
    const raw = await answer;
    const validate = options.validate ?? this.settings.validate;
    const read = await readReply(
      {
        operation: operation.spec.operation,
        mapping: MQTT_HEADER_MAPPING,
        validatePayload: reply.validatePayload,
        validate,
        codec: operation.spec.replyPayloadCodec?.(this.settings.schemaRegistry),
      },
      raw,
    );
    return { ...read, topic: raw.topic };
  }

  /** Subscribes to the reply topic once; replies then arrive with the client's other messages. */
  private listening(): Promise<void> {
    this.subscribing ??= (async () => {
      const client = this.connection.client;
      client.on('message', (topic, _payload, packet) => {
        if (topic === this.replyTopic) this.received(packet);
      });
      await client.subscribeAsync(this.replyTopic, { qos: 1 });
    })().catch((error: unknown) => {
      this.subscribing = undefined;
      throw error;
    });
    return this.subscribing;
  }

  private received(packet: IPublishPacket): void {
    const message = fromMqttMessage(packet, this.settings.mqttVersion);
    if (message.correlationData !== undefined)
      this.replies.resolve(message.correlationData, {
        body: message.body,
        headers: message.headers,
        topic: packet.topic,
      });
  }

  /** Fails the requests still waiting. */
  close(): void {
    this.replies.rejectAll(new ClientClosedError());
  }
}

/** The responder's side: a handler's result goes to the request's response topic. */
export class Responder {
  constructor(
    private readonly publisher: MqttPublisher,
    private readonly telemetry: Telemetry,
    /** Where Avro replies are registered. */
    private readonly registry: SchemaRegistryOptions | undefined,
  ) {}

  /**
   * The event handler of a responder: runs `handler` and publishes its result as the reply. A result that
   * is not a valid reply is the responder's failure: the requester hears why, the request is not retried.
   */
  handler<T, H, P, R>(
    operation: MqttOperation<T, H, P>,
    reply: MqttReplySpec<R>,
    handler: MqttResponder<T, H, P, R>,
    logger: Logger,
  ): EventHandler {
    const name = operation.spec.operation;
    return async (decoded, context, message) => {
      if (message.responseTopic === undefined) throw new Error('the request carries no response topic');
      const result = await handler(decoded.payload as T, context as MqttEventContext<H, P>);
      let event: OutboundEvent;
      try {
        const codec = operation.spec.replyPayloadCodec?.(this.registry);
        // An Avro reply's registry subject: the request topic's with `.reply` (the response topic is the requester's own).
        event = await this.encode(name, reply, result, decoded.envelope, codec, `${context.topic}.reply`);
      } catch (error) {
        if (!(error instanceof EventValidationError)) throw error;
        logger.error({ operation: name, reason: error.reason, err: error.message }, 'request not answered');
        return this.failed(name, { message, reason: error.reason, error: error.message, attempts: context.attempt });
      }
      await this.publisher.publish(
        message.responseTopic,
        { body: event.body, headers: event.headers, correlationData: message.correlationData },
        { qos: 1, operation: name },
      );
    };
  }

  private encode<R>(
    operation: string,
    reply: MqttReplySpec<R>,
    value: R,
    request: CloudEventAttributes,
    codec: PayloadCodec | undefined,
    topic: string,
  ): OutboundEvent | Promise<OutboundEvent> {
    return this.publisher.encode(
      replyOutboundSpec(`${operation} reply`, reply, value, MQTT_HEADER_MAPPING, codec),
      value,
      // The reply continues the trace: the responder's CONSUMER span when traced, else the request's context.
      { correlationId: request.correlationid ?? request.id, ...this.telemetry.replyTraceContext(request) },
      topic,
    );
  }

  /** Tells a requester at once that no reply will come (empty body, the dead-letter headers), rather than letting it time out. */
  async failed(operation: string, { message, reason, error, attempts }: GivenUp): Promise<void> {
    if (message.responseTopic === undefined) return;
    void (await this.publisher.publish(
      message.responseTopic,
      {
        body: new Uint8Array(0),
        headers: deadLetterHeaders(reason, error, attempts, operation),
        correlationData: message.correlationData,
      },
      { qos: 1, operation },
    ));
  }
}
