// Request/reply: the requester's reply listener and correlation (the shared PendingReplies), and the
// responder that sends a handler's result, or word that none will come, to the request's reply topic.
import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import type { PayloadCodec, SchemaRegistryOptions } from '../codec.js';
import { ConsumerPipeline, deadLetterHeaders } from '../consumer.js';
import { deferred } from '../deferred.js';
import type { CloudEventAttributes } from '../envelope.js';
import { ClientClosedError, EventValidationError, RequestFailedError } from '../errors.js';
import type { Logger } from '../logger.js';
import { prepareEvent } from '../producer.js';
import { PendingReplies, replyOutboundSpec } from '../replies.js';
import { Telemetry } from '../telemetry.js';
import type { ValidationResult } from '../validation.js';
import type { KafkaConnection } from './connection.js';
import { subscribeWhenReady, type DeadLetteredRecord, type RecordHandler } from './consumer.js';
import { CORRELATION_HEADER, EMPTY_BODY, KAFKA_HEADER_MAPPING, headersFromKafka, toBuffer } from './message.js';
import type {
  KafkaAskOptions,
  KafkaEventContext,
  KafkaHandler,
  KafkaOperation,
  KafkaReply,
  KafkaReplySpec,
} from './options.js';
import type { BackgroundTelemetry, KafkaPublisher } from './publisher.js';
import { ensureTopics, type TopicNames } from './topology.js';

/** A reply as it arrived, decoded by the request that waits for it. */
interface RawReply {
  headers: Record<string, string>;
  body: Buffer | null;
  topic: string;
  partition: number;
  offset: string;
}

/**
 * The requester's side: one consumer per reply topic, in a group of its own (so every instance sees
 * every reply and keeps those whose correlation id it waits for), positioned at the end of the topic
 * before the first request goes out. It commits no offsets, so the broker forgets the group once it leaves.
 */
class ReplyListener {
  readonly replies = new PendingReplies<RawReply>();
  private consumer: Consumer | undefined;
  private starting: Promise<void> | undefined;

  constructor(
    private readonly connection: KafkaConnection,
    readonly topic: string,
    private readonly groupId: string,
    private readonly logger: Logger,
  ) {}

  ready(): Promise<void> {
    this.starting ??= this.start().catch((error) => {
      this.starting = undefined;
      throw error;
    });
    return this.starting;
  }

  private async start(): Promise<void> {
    const admin = await this.connection.admin();
    await ensureTopics(admin, [{ topic: this.topic }], this.logger);
    const ends = await admin.fetchTopicOffsets(this.topic);
    const consumer = this.connection.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 100,
      readUncommitted: false,
    });
    this.consumer = consumer;
    await consumer.connect();
    await subscribeWhenReady(consumer, [this.topic], false, this.logger);
    const joined = deferred<void>();
    const remove = consumer.on(consumer.events.GROUP_JOIN, () => joined.resolve());
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        const headers = headersFromKafka(message.headers);
        const correlationId = headers[CORRELATION_HEADER];
        if (correlationId !== undefined)
          this.replies.resolve(correlationId, {
            headers,
            body: message.value,
            topic,
            partition,
            offset: message.offset,
          });
      },
    });
    await joined.promise;
    remove();
    for (const { partition, offset } of ends) consumer.seek({ topic: this.topic, partition, offset });
  }

  async close(): Promise<void> {
    this.replies.rejectAll(new ClientClosedError());
    await this.starting?.catch(() => undefined);
    await this.consumer?.disconnect();
  }
}

export interface RequesterSettings {
  clientId: string;
  /** The client's one reply topic, when it has one. */
  replyTopic: string | undefined;
  requestTimeoutMs: number;
  validate: boolean;
  logger: Logger;
  schemaRegistry: SchemaRegistryOptions | undefined;
}

/** The requester's side: sends requests and waits for their replies, one listener per reply topic. */
export class Requester {
  private readonly listeners = new Map<string, ReplyListener>();

  constructor(
    private readonly connection: KafkaConnection,
    private readonly publisher: KafkaPublisher,
    private readonly topics: TopicNames,
    private readonly settings: RequesterSettings,
  ) {}

  /** Sends a request (KafkaTransport.request() says how it ends) once its reply listener has joined. */
  async ask<T, H, P, R>(
    operation: KafkaOperation<T, H, P>,
    reply: KafkaReplySpec<R>,
    payload: T,
    options: KafkaAskOptions<H, P>,
  ): Promise<KafkaReply<R>> {
    const replyTopic = this.replyTopicFor(operation, reply, options.parameters);
    const listener = this.listener(replyTopic);
    await listener.ready();
    const correlationId = options.correlationId ?? randomUUID();
    const { topic, message } = await this.publisher.prepare(
      operation,
      payload,
      { ...options, correlationId },
      { [reply.replyToHeader]: replyTopic },
    );
    const answer = listener.replies.wait(
      correlationId,
      operation.spec.operation,
      options.timeoutMs ?? this.settings.requestTimeoutMs,
    );
    // The send can outlast the timeout; its rejection is read after the send, never left unhandled meanwhile.
    answer.catch(() => undefined);
    try {
      await this.publisher.send(topic, message);
    } catch (error) {
      listener.replies.reject(correlationId, error);
    }
    const codec = operation.spec.replyPayloadCodec?.(this.settings.schemaRegistry);
    return decodeReply(
      operation.spec.operation,
      reply,
      await answer,
      options.validate ?? this.settings.validate,
      codec,
    );
  }

  /** Fails the requests still waiting and stops listening. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.listeners.values()].map((listener) => listener.close()));
  }

  /** The client's reply topic, else the document's, else `<request topic>.reply`. */
  private replyTopicFor<T, H, P>(
    operation: KafkaOperation<T, H, P>,
    reply: KafkaReplySpec<unknown>,
    parameters: P | undefined,
  ): string {
    if (this.settings.replyTopic !== undefined) return this.settings.replyTopic;
    const documented = this.topics.documentReplyTopic(reply, parameters);
    if (documented !== undefined) return documented;
    const address =
      operation.channel.hasParameters && parameters !== undefined ? operation.spec.buildAddress(parameters) : undefined;
    return `${this.topics.of(operation.channel, address)}.reply`;
  }

  private listener(topic: string): ReplyListener {
    let listener = this.listeners.get(topic);
    if (!listener) {
      listener = new ReplyListener(
        this.connection,
        topic,
        `${this.settings.clientId}.replies.${randomUUID()}`,
        this.settings.logger,
      );
      this.listeners.set(topic, listener);
    }
    return listener;
  }
}

/** Reply headers are not validated: the document declares none for replies. */
function anyHeaders(data: unknown): ValidationResult<Record<string, string>> {
  return { ok: true, value: data as Record<string, string> };
}

/** A signal never aborted: a reply's writer schema is fetched with the retry policy, bounded by the request's own timeout. */
const NEVER = new AbortController().signal;

/** A reply as the request returns it: decoded and validated, or the responder's failure as RequestFailedError. */
async function decodeReply<R>(
  operation: string,
  reply: KafkaReplySpec<R>,
  raw: RawReply,
  validate: boolean,
  codec: PayloadCodec | undefined,
): Promise<KafkaReply<R>> {
  const failure = raw.headers['x-codegen-error'];
  if (failure !== undefined)
    throw new RequestFailedError(operation, raw.headers['x-codegen-dead-letter-reason'] ?? 'handler-failed', failure);
  const pipeline = new ConsumerPipeline<unknown, Record<string, string>>(
    {
      operation,
      mapping: KAFKA_HEADER_MAPPING,
      validatePayload: (data) => reply.validatePayload(data),
      validateHeaders: anyHeaders,
      codec,
    },
    { validate, idempotencyStore: false },
  );
  const decoded = await pipeline.decodeAny(
    { body: raw.body ?? EMPTY_BODY, headers: raw.headers, deliveryAttempt: 1 },
    NEVER,
  );
  if (!decoded.ok)
    throw new EventValidationError(decoded.reason, `reply to ${operation}`, [
      { pointer: '', rule: decoded.reason, message: decoded.error },
    ]);
  const { payload, envelope, headers } = decoded.value;
  return {
    payload: payload as R,
    envelope,
    headers,
    topic: raw.topic,
    partition: raw.partition,
    offset: raw.offset,
  };
}

/** The responder's side: a handler's result goes to the request's reply topic. */
export class Responder {
  constructor(
    private readonly publisher: KafkaPublisher,
    private readonly topics: TopicNames,
    private readonly telemetry: BackgroundTelemetry,
    private readonly settings: { source: string; validate: boolean; schemaRegistry: SchemaRegistryOptions | undefined },
  ) {}

  /** The record handler of a responder: runs `handler` and sends its result as the reply. */
  handler<T, H, K, C, R>(
    operation: KafkaOperation<T, H, unknown>,
    reply: KafkaReplySpec<R>,
    handler: KafkaHandler<T, H, K, C, R>,
  ): RecordHandler {
    return async (decoded, context, record) => {
      const result = await handler(decoded.payload as T, context as KafkaEventContext<H, K, C>);
      await this.sendReply(
        operation.spec,
        reply,
        result,
        decoded.envelope,
        headersFromKafka(record.headers),
        record.key,
        context.parameters,
      );
    };
  }

  /** Tells a requester at once that no reply will come (empty body, the dead-letter headers), rather than letting it time out. */
  async failed(operation: string, reply: KafkaReplySpec<unknown>, failure: DeadLetteredRecord): Promise<void> {
    const correlationId = failure.headers[CORRELATION_HEADER] ?? failure.headers[`${KAFKA_HEADER_MAPPING.prefix}id`];
    const topic = this.destination(reply, failure.headers, failure.parameters);
    if (correlationId === undefined || topic === undefined) return;
    await this.publisher.send(topic, {
      key: failure.key,
      value: null,
      headers: {
        ...deadLetterHeaders(failure.reason, failure.error, failure.attempts, operation),
        [CORRELATION_HEADER]: correlationId,
      },
    });
  }

  private async sendReply<R>(
    spec: KafkaOperation<unknown, unknown, unknown>['spec'],
    reply: KafkaReplySpec<R>,
    payload: R,
    request: CloudEventAttributes,
    headers: Record<string, string>,
    key: Buffer | null,
    parameters: unknown,
  ): Promise<void> {
    const topic = this.destination(reply as KafkaReplySpec<unknown>, headers, parameters);
    if (!topic)
      throw new Error(`the request carries no reply topic (header ${reply.replyToHeader}) and the document names none`);
    const codec = spec.replyPayloadCodec?.(this.settings.schemaRegistry);
    const outbound = await prepareEvent(
      replyOutboundSpec(`${spec.operation} reply`, reply, payload, KAFKA_HEADER_MAPPING, codec),
      payload,
      // The reply continues the trace: the responder's CONSUMER span when traced, else the request's context.
      {
        correlationId: request.correlationid ?? request.id,
        ...(this.telemetry.loaded ?? Telemetry.disabled('kafka')).replyTraceContext(request),
      },
      { source: this.settings.source, validate: this.settings.validate },
      topic,
    );
    await this.publisher.send(topic, { key, value: toBuffer(outbound.body), headers: outbound.headers });
  }

  /** Where a responder sends its reply: the request's reply-to header, else the reply channel of the document. */
  private destination(
    reply: KafkaReplySpec<unknown>,
    headers: Record<string, string>,
    parameters: unknown,
  ): string | undefined {
    const requested = headers[reply.replyToHeader];
    if (requested) return requested;
    return this.topics.documentReplyTopic(reply, parameters);
  }
}
