// Request/reply over native NATS requests: the requester sends on the subject and reads the typed reply
// from a muxed inbox (the library correlates, so no `PendingReplies` is needed); the responder answers
// from a queue group with the handler's return value, or with the reason it could not.
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import type { PayloadCodec } from '../codec.js';
import { deadLetterHeaders, type InFlight } from '../consumer.js';
import { replyBody, replyOutboundSpec } from '../replies.js';
import { applicationHeaders, envelopeFromHeaders, readEnvelope, type CloudEventAttributes } from '../envelope.js';
import {
  errorMessage,
  EventValidationError,
  PublishError,
  ReplyTimeoutError,
  RequestFailedError,
  type DeadLetterReason,
} from '../errors.js';
import { CoreSubscriber, type ConsumerParts, type Delivery } from './consumer.js';
import { isNoResponders, isTimeout } from './failures.js';
import {
  fromNatsHeaders,
  NATS_HEADER_MAPPING,
  toSafeNatsHeaders,
  withoutCodegenHeaders,
  type Subjects,
} from './message.js';
import type {
  NatsConsumerOptions,
  NatsOperation,
  NatsReply,
  NatsReplySpec,
  NatsRequestOptions,
  NatsResponder,
  NatsSettings,
} from './options.js';
import type { NatsPublisher } from './publisher.js';

/** The requesting side: one request, its reply read back typed (or the responder's failure as an error). */
export class Requester {
  constructor(
    private readonly connection: NatsConnection,
    private readonly settings: NatsSettings,
    private readonly subjects: Subjects,
    private readonly publisher: NatsPublisher,
    /** The client's calls in progress, which `close()` waits for. */
    private readonly inFlight: InFlight,
  ) {}

  async ask<T, H, P, R>(
    operation: NatsOperation<T, H, P>,
    reply: NatsReplySpec<R>,
    payload: T,
    options: NatsRequestOptions<H> & { parameters?: P },
  ): Promise<NatsReply<R>> {
    const validate = options.validate ?? this.settings.validate;
    const subject = this.subjects.of(operation, options.parameters, options.natsSubject, validate);
    const event = await this.publisher.encode(operation.spec, payload, options, subject);
    const timeoutMs = options.timeoutMs ?? this.settings.requestTimeoutMs;
    let message: Msg;
    try {
      message = await this.inFlight.track(
        this.connection.request(subject, event.body, { timeout: timeoutMs, headers: event.headers }),
      );
    } catch (error) {
      throw requestError(operation.spec.operation, subject, timeoutMs, error);
    }
    const codec = operation.spec.replyPayloadCodec?.(this.settings.schemaRegistry);
    return readReply(message, operation.spec.operation, reply, validate, codec);
  }
}

function requestError(operation: string, subject: string, timeoutMs: number, error: unknown): Error {
  if (isTimeout(error)) return new ReplyTimeoutError(operation, timeoutMs);
  if (isNoResponders(error))
    return new PublishError(`${operation}: no responder listens on ${subject}`, { cause: error });
  return new PublishError(`${operation}: request on ${subject} failed: ${errorMessage(error)}`, { cause: error });
}

/** The reply as the caller gets it: decoded, validated, with its envelope; the responder's refusal thrown. */
async function readReply<R>(
  message: Msg,
  operation: string,
  reply: NatsReplySpec<R>,
  validate: boolean,
  codec: PayloadCodec | undefined,
): Promise<NatsReply<R>> {
  const read = fromNatsHeaders(message.headers);
  const failure = read.headers['x-codegen-error'];
  if (failure !== undefined)
    throw new RequestFailedError(operation, read.headers['x-codegen-dead-letter-reason'] ?? 'handler-failed', failure);
  const subjectName = `reply to ${operation}`;
  if (read.error)
    throw new EventValidationError('invalid-envelope', subjectName, [
      { pointer: '', rule: 'encoding', message: read.error },
    ]);
  const body = await replyBody(message.data, codec, operation);
  let value = body as R;
  if (validate) {
    const checked = reply.validatePayload(body);
    if (!checked.ok) throw new EventValidationError('invalid-payload', subjectName, checked.issues);
    value = checked.value;
  }
  const envelope = readEnvelope(envelopeFromHeaders(read.headers, NATS_HEADER_MAPPING));
  return {
    payload: value,
    headers: applicationHeaders(withoutCodegenHeaders(read.headers), NATS_HEADER_MAPPING),
    envelope: envelope.ok ? envelope.value : undefined,
  };
}

/** The responder of a request/reply operation: core NATS, a queue group, the handler's return value as the reply. */
export class Responder<T, H, P, R> extends CoreSubscriber<T, H, P> {
  constructor(
    parts: ConsumerParts,
    operation: NatsOperation<T, H, P>,
    private readonly reply: NatsReplySpec<R>,
    private readonly handler: NatsResponder<T, H, P, R>,
    options: NatsConsumerOptions,
  ) {
    super(parts, operation, options);
  }

  /** Responders share the work by default: one of them answers each request. */
  protected queueGroup(): string {
    return this.options.queue ?? this.operation.queue ?? this.operation.durable;
  }

  protected async process(delivery: Delivery<Msg>, parameters: P): Promise<void> {
    const message = delivery.message;
    let result: { value: R } | undefined;
    let request: CloudEventAttributes | undefined;
    const outcome = await this.runInProcess(delivery, parameters, async (payload, context) => {
      request = context.envelope;
      result = { value: await this.handler(payload, context) };
    });
    if (outcome.action === 'dead-letter') return this.fail(message, outcome.reason, outcome.error, outcome.attempts);
    if (outcome.action !== 'ack' || !result || !request)
      return this.fail(message, 'handler-failed', 'the responder is shutting down', 0);
    await this.answer(message, request, result.value);
  }

  /** Sends the handler's result to the request's reply subject, in its own envelope. */
  private async answer(message: Msg, request: CloudEventAttributes, value: R): Promise<void> {
    try {
      // The reply continues the trace: the span's context when tracing, else the request's.
      const trace = this.parts.telemetry.replyTraceContext(request);
      const codec = this.operation.spec.replyPayloadCodec?.(this.parts.settings.schemaRegistry);
      const event = await this.parts.publisher.encode(
        replyOutboundSpec(this.reply.operation, this.reply, value, NATS_HEADER_MAPPING, codec),
        value,
        { correlationId: request.correlationid ?? request.id, ...trace },
        `${message.subject}.reply`,
      );
      if (!message.respond(event.body, { headers: event.headers }))
        this.parts.logger.warn(
          { operation: this.operation.spec.operation },
          'request without a reply subject: reply dropped',
        );
    } catch (error) {
      const reason = error instanceof EventValidationError ? error.reason : 'handler-failed';
      this.fail(message, reason, errorMessage(error), 1);
    }
  }

  protected async reject({ message }: Delivery<Msg>, reason: DeadLetterReason, error: string): Promise<void> {
    this.fail(message, reason, error, 1);
  }

  protected release(message: Msg): void {
    this.fail(message, 'handler-failed', 'the responder is shutting down', 0);
  }

  protected failed(message: Msg, error: unknown): void {
    this.fail(message, 'handler-failed', errorMessage(error), 1);
  }

  /** Tells the requester at once that no reply will come, rather than letting it time out. */
  private fail(message: Msg, reason: DeadLetterReason, error: string, attempts: number): void {
    this.parts.logger.error({ operation: this.operation.spec.operation, reason, err: error }, 'request not answered');
    if (!message.reply) return;
    const headers = toSafeNatsHeaders(deadLetterHeaders(reason, error, attempts, this.operation.spec.operation));
    message.respond(new Uint8Array(0), { headers });
  }
}
