import { decodeJson, type PayloadCodec } from './codec.js';
import { ConsumerPipeline } from './consumer.js';
import type { CloudEventAttributes, HeaderMapping } from './envelope.js';
import { EventValidationError, ReplyTimeoutError, RequestFailedError } from './errors.js';
import type { OutboundSpec } from './producer.js';
import type { ValidationResult } from './validation.js';

interface Waiter<R> {
  resolve(reply: R): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Requests waiting for their reply, by correlation id. Each request ends exactly once: with its reply,
 * an error, or a ReplyTimeoutError; the map never keeps an entry after that, so it cannot grow without bound.
 */
export class PendingReplies<R> {
  private readonly waiting = new Map<string, Waiter<R>>();

  /** Registers a request before it is sent, so that even an immediate reply finds it. */
  wait(correlationId: string, operation: string, timeoutMs: number): Promise<R> {
    if (this.waiting.has(correlationId))
      return Promise.reject(new Error(`a request with correlation id ${correlationId} is already waiting`));
    return new Promise<R>((resolve, reject) => {
      // Node fires timers longer than 2^31 - 1 ms at once: cap them.
      const timer = setTimeout(
        () => this.reject(correlationId, new ReplyTimeoutError(operation, timeoutMs)),
        Math.min(timeoutMs, 2_147_483_647),
      );
      this.waiting.set(correlationId, { resolve, reject, timer });
    });
  }

  /** Hands a reply to its request; false when nobody waits for it (a late, duplicate or foreign reply). */
  resolve(correlationId: string, reply: R): boolean {
    const waiter = this.take(correlationId);
    waiter?.resolve(reply);
    return waiter !== undefined;
  }

  reject(correlationId: string, error: unknown): boolean {
    const waiter = this.take(correlationId);
    waiter?.reject(error);
    return waiter !== undefined;
  }

  /** Fails every waiting request, e.g. when the connection that would carry the replies is gone. */
  rejectAll(error: unknown): void {
    for (const correlationId of [...this.waiting.keys()]) this.reject(correlationId, error);
  }

  get size(): number {
    return this.waiting.size;
  }

  private take(correlationId: string): Waiter<R> | undefined {
    const waiter = this.waiting.get(correlationId);
    if (waiter === undefined) return undefined;
    clearTimeout(waiter.timer);
    this.waiting.delete(correlationId);
    return waiter;
  }
}

/** A reply as a requester reads it: its body and headers, as they arrived. */
export interface RawReply {
  body: Uint8Array;
  headers: Record<string, unknown>;
}

/** A signal never aborted: a reply's writer schema is fetched with the retry policy, bounded by the request's own timeout. */
const NEVER = new AbortController().signal;

/** What a requester knows about the reply it waits for. */
export interface ReplyReading<R> {
  operation: string;
  mapping: HeaderMapping;
  validatePayload(data: unknown): ValidationResult<R>;
  validate: boolean;
  /** The reply's encoding when it is not JSON (Avro). */
  codec?: PayloadCodec;
}

/**
 * A reply as the request returns it: its envelope checked, its body decoded and (with `validate`) validated,
 * the same way a consumer reads an event; the responder's refusal (the `x-codegen-error` header) thrown as
 * RequestFailedError, anything unreadable as EventValidationError.
 */
export async function readReply<R>(
  reading: ReplyReading<R>,
  raw: RawReply,
): Promise<{ payload: R; headers: Record<string, unknown>; envelope: CloudEventAttributes }> {
  const failure = raw.headers['x-codegen-error'];
  if (typeof failure === 'string') {
    const reason = raw.headers['x-codegen-dead-letter-reason'];
    throw new RequestFailedError(reading.operation, typeof reason === 'string' ? reason : 'handler-failed', failure);
  }
  const pipeline = new ConsumerPipeline<R, Record<string, unknown>>(
    {
      operation: reading.operation,
      mapping: reading.mapping,
      validatePayload: (data) => reading.validatePayload(data),
      validateHeaders: (data) => ({ ok: true, value: data as Record<string, unknown> }),
      codec: reading.codec,
    },
    { validate: reading.validate, idempotencyStore: false },
  );
  const decoded = await pipeline.decodeAny({ body: raw.body, headers: raw.headers, deliveryAttempt: 1 }, NEVER);
  if (!decoded.ok)
    throw new EventValidationError(decoded.reason, `reply to ${reading.operation}`, [
      { pointer: '', rule: decoded.reason, message: decoded.error },
    ]);
  return decoded.value;
}

/** What a responder knows of the reply it sends (each broker's reply spec has these). */
export interface ReplyDescription<R> {
  eventType(payload: R): string;
  contentType: string;
  validatePayload(data: unknown): ValidationResult<R>;
}

/**
 * The producer-side spec of one reply, in the reply's encoding (`codec`: the operation's
 * `replyPayloadCodec` with the client's registry; absent: JSON). Reply headers are not validated:
 * the document declares none for replies.
 */
export function replyOutboundSpec<R>(
  operation: string,
  reply: ReplyDescription<R>,
  payload: R,
  mapping: HeaderMapping,
  codec: PayloadCodec | undefined,
): OutboundSpec<R, Record<string, string>> {
  return {
    operation,
    type: reply.eventType(payload),
    contentType: reply.contentType,
    mapping,
    validatePayload: (data) => reply.validatePayload(data),
    validateHeaders: (data) => ({ ok: true, value: data as Record<string, string> }),
    codec,
  };
}

/**
 * A reply's body in its encoding: JSON, or the reply's codec (Avro, which may ask the schema registry
 * for the writer's schema). A body that cannot be read is an EventValidationError with its reason.
 */
export async function replyBody(
  body: Uint8Array,
  codec: PayloadCodec | undefined,
  operation: string,
): Promise<unknown> {
  if (!codec) {
    const json = decodeJson(body);
    if (json.ok) return json.value;
    throw new EventValidationError('not-json', `reply to ${operation}`, [
      { pointer: '', rule: 'json', message: json.error },
    ]);
  }
  const decoded = await codec.decode(body);
  if (decoded.ok) return decoded.value;
  throw new EventValidationError(decoded.reason, `reply to ${operation}`, [
    { pointer: '', rule: decoded.reason, message: decoded.error },
  ]);
}
