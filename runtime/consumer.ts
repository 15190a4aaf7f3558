import { decodeJson, type PayloadCodec, type PayloadDecodeResult, type SchemaRegistryOptions } from './codec.js';
import { envelopeHeaderReader, isEnvelopeHeader, type CloudEventAttributes, type HeaderMapping } from './envelope.js';
import { errorMessage, type DeadLetterReason } from './errors.js';
import { IdempotencyGate, isPromiseLike } from './idempotency-gate.js';
import type { OperationSpec } from './operation.js';
import { MemoryIdempotencyStore, type ClaimResult, type IdempotencyStore } from './idempotency.js';
import { silentLogger, type Logger } from './logger.js';
import { backoffDelay, retryPolicy, sleep, type RetryPolicy } from './retry.js';
import { traceIdOf, type ProcessSpan } from './telemetry.js';
import { setOwn, type ValidationIssue, type ValidationResult } from './validation.js';

/** Options every consumer takes, on every broker. */
export interface ConsumerOptions {
  /** Validate envelope, headers and payload on receipt (default true). Invalid events are dead-lettered at once. */
  validate?: boolean;
  /**
   * `after-handler` (default): acknowledge once the handler succeeded: at-least-once.
   * `before-handler`: acknowledge on receipt: at-most-once (a crash loses the event).
   */
  ackMode?: 'after-handler' | 'before-handler';
  /** Handler retries before dead-lettering. */
  retry?: Partial<RetryPolicy>;
  /** Where processed event ids are remembered; `false` turns de-duplication off. Default: in memory. */
  idempotencyStore?: IdempotencyStore | false;
  /** How long a claim on a shared (claiming) store holds while the handler runs. Default 60 s. */
  claimLeaseMs?: number;
  /** Events handled at once (prefetch / concurrency). */
  concurrency?: number;
  /**
   * Largest body decoded, in bytes. A larger one is dead-lettered at once with reason `too-large`,
   * without being parsed. Default: no limit of its own (the broker's maximum message size applies).
   */
  maxBodyBytes?: number;
}

/** A received event as the broker hands it over. */
export interface InboundEvent {
  body: Uint8Array;
  headers: Record<string, unknown>;
  /** 1 on the first delivery; counted by the broker where it counts. */
  deliveryAttempt: number;
  /**
   * The broker delivers this event no more after this delivery (JetStream: `max_deliver` reached), so
   * handing it back unhandled would lose it: the pipeline then waits for a copy held elsewhere instead.
   */
  lastDelivery?: boolean;
}

/** What a generated consumer knows about the messages of its operation. */
export interface InboundSpec<T, H> {
  operation: string;
  mapping: HeaderMapping;
  validatePayload(data: unknown): ValidationResult<T>;
  validateHeaders(data: unknown): ValidationResult<H>;
  /** The payload's encoding when it is not JSON (Avro). */
  codec?: PayloadCodec;
}

/**
 * What a consumer of `spec` reads with on a broker: the broker's header mapping, the operation's
 * validators, and its payload codec (with the client's schema registry) when the payload is not JSON.
 */
export function inboundSpecOf<T, H>(
  spec: OperationSpec<T, H, unknown>,
  mapping: HeaderMapping,
  registry: SchemaRegistryOptions | undefined,
): InboundSpec<T, H> {
  return {
    operation: spec.operation,
    mapping,
    validatePayload: (data) => spec.validatePayload(data),
    validateHeaders: (data) => spec.validateHeaders(data),
    codec: spec.payloadCodec?.(registry),
  };
}

type Decoded<T, H> = { ok: true; value: DecodedEvent<T, H> } | { ok: false; reason: DeadLetterReason; error: string };

export interface DecodedEvent<T, H> {
  payload: T;
  headers: H;
  envelope: CloudEventAttributes;
}

export type Outcome =
  /** Done (or a duplicate): acknowledge. */
  | { action: 'ack'; duplicate: boolean }
  /** Failed; let the broker deliver it again after `delayMs` (redelivery mode only). */
  | { action: 'retry'; delayMs: number; error: string }
  /** Give up: publish to the dead-letter destination with the reason, then acknowledge. */
  | { action: 'dead-letter'; reason: DeadLetterReason; error: string; attempts: number }
  /** Shutting down in the middle of retries: give it back to the broker untouched. */
  | { action: 'requeue' };

/** Events seen by a consumer, for logs, metrics and traces. */
export interface PipelineHooks {
  onRetry?(info: { id?: string; attempt: number; delayMs: number; error: unknown }): void;
  onDeadLetter?(info: { id?: string; reason: DeadLetterReason; error: string }): void;
  onDuplicate?(info: { id: string }): void;
}

/**
 * The consumer pipeline shared by every broker: decode → validate → de-duplicate → handle → outcome.
 * Brokers differ only in how they act on the outcome (ack, nak with delay, publish to a DLQ).
 */
export class ConsumerPipeline<T, H> {
  readonly policy: RetryPolicy;
  private readonly gate: IdempotencyGate | undefined;
  private readonly inFlightIds = new IdsInFlight();
  private readonly validate: boolean;
  private readonly maxBodyBytes: number;
  private readonly readEnvelope: (headers: Record<string, unknown>) => ValidationResult<CloudEventAttributes>;

  constructor(
    private readonly spec: InboundSpec<T, H>,
    options: ConsumerOptions,
    private readonly logger: Logger = silentLogger,
    private readonly hooks: PipelineHooks = {},
  ) {
    this.policy = retryPolicy(options.retry);
    this.gate =
      options.idempotencyStore === false
        ? undefined
        : new IdempotencyGate(options.idempotencyStore ?? new MemoryIdempotencyStore(), options.claimLeaseMs);
    this.validate = options.validate !== false;
    this.maxBodyBytes = options.maxBodyBytes ?? Infinity;
    this.readEnvelope = envelopeHeaderReader(spec.mapping);
  }

  /** Decodes and checks an event (its body JSON) without running anything. */
  decode(event: InboundEvent): Decoded<T, H> {
    const envelope = this.envelopeOf(event);
    if (!envelope.ok) return envelope;
    const body = decodeJson(event.body);
    if (!body.ok) return { ok: false, reason: 'not-json', error: body.error };
    return this.checked(event, envelope.value, body.value);
  }

  /**
   * The same for a body in the spec's own encoding (Avro): at once when the codec answers at once
   * (the writer's schema known), else a promise. When the codec cannot finish for a reason that is
   * not the event's (the schema registry is unreachable), it is asked again with backoff, then the
   * event is dead-lettered as `unknown-schema`.
   */
  decodeEncoded(event: InboundEvent, codec: PayloadCodec, signal: AbortSignal): Decoded<T, H> | Promise<Decoded<T, H>> {
    const envelope = this.envelopeOf(event);
    if (!envelope.ok) return envelope;
    const read = (body: PayloadDecodeResult): Decoded<T, H> =>
      body.ok ? this.checked(event, envelope.value, body.value) : body;
    let first: PayloadDecodeResult | Promise<PayloadDecodeResult>;
    try {
      first = codec.decode(event.body);
    } catch (error) {
      first = Promise.reject(error);
    }
    if (!(first instanceof Promise)) return read(first);
    return this.decodeRetrying(first, event.body, codec, signal).then(read);
  }

  private async decodeRetrying(
    first: Promise<PayloadDecodeResult>,
    body: Uint8Array,
    codec: PayloadCodec,
    signal: AbortSignal,
  ): Promise<PayloadDecodeResult> {
    let pending = first;
    for (let attempt = 1; ; attempt++) {
      try {
        return await pending;
      } catch (error) {
        if (attempt >= this.policy.maxAttempts || !(await sleep(backoffDelay(this.policy, attempt), signal)))
          return { ok: false, reason: 'unknown-schema', error: errorMessage(error) };
        pending = Promise.resolve().then(() => codec.decode(body));
      }
    }
  }

  /** Decodes and checks an event in its operation's encoding: JSON, or the spec's codec. */
  decodeAny(event: InboundEvent, signal: AbortSignal): Decoded<T, H> | Promise<Decoded<T, H>> {
    return this.spec.codec ? this.decodeEncoded(event, this.spec.codec, signal) : this.decode(event);
  }

  private envelopeOf(
    event: InboundEvent,
  ): { ok: true; value: CloudEventAttributes } | { ok: false; reason: DeadLetterReason; error: string } {
    if (event.body.length > this.maxBodyBytes)
      return {
        ok: false,
        reason: 'too-large',
        error: `body of ${event.body.length} bytes is over maxBodyBytes (${this.maxBodyBytes})`,
      };
    const envelope = this.readEnvelope(event.headers);
    if (!envelope.ok) return { ok: false, reason: 'invalid-envelope', error: describe('envelope', envelope.issues) };
    return envelope;
  }

  private checked(event: InboundEvent, envelope: CloudEventAttributes, body: unknown): Decoded<T, H> {
    const appHeaders = applicationHeadersOf(event.headers, this.spec.mapping);
    if (!this.validate) return { ok: true, value: { payload: body as T, headers: appHeaders as H, envelope } };
    const headers = this.spec.validateHeaders(appHeaders);
    if (!headers.ok) return { ok: false, reason: 'invalid-headers', error: describe('headers', headers.issues) };
    const payload = this.spec.validatePayload(body);
    if (!payload.ok) return { ok: false, reason: 'invalid-payload', error: describe('payload', payload.issues) };
    return { ok: true, value: { payload: payload.value, headers: headers.value, envelope } };
  }

  /**
   * Runs the handler under the retry policy. `inProcess`: retries happen here, with backoff, while the
   * broker holds the event unacknowledged (RabbitMQ, Kafka). Otherwise one attempt is made and a failure
   * asks the broker to redeliver later (NATS JetStream counts deliveries itself).
   *
   * `span` (the event's CONSUMER span, from Telemetry.process) gets what happens as span events:
   * retries, the duplicate skip, validation failures and dead-lettering; logs carry the trace id.
   */
  async process(
    event: InboundEvent,
    handler: (decoded: DecodedEvent<T, H>, attempt: number) => Promise<void>,
    retryMode: 'in-process' | 'redelivery',
    signal: AbortSignal,
    span?: ProcessSpan,
  ): Promise<Outcome> {
    const pending = this.decodeAny(event, signal);
    // JSON decodes at once: no await (a microtask per event) on the hot path.
    const decoded = pending instanceof Promise ? await pending : pending;
    if (!decoded.ok) {
      // For logs: the event's id and trace id as its headers give them, when they do.
      const id = event.headers[this.spec.mapping.prefix + 'id'];
      const traceparent = event.headers[this.spec.mapping.prefix + 'traceparent'];
      return this.deadLetter(
        typeof id === 'string' && id !== '' ? id : undefined,
        decoded.reason,
        decoded.error,
        event.deliveryAttempt,
        span,
        traceIdOf(typeof traceparent === 'string' ? traceparent : undefined),
      );
    }
    const envelope = decoded.value.envelope;
    const id = envelope.id;
    // On the last delivery nothing may be handed back: this delivery waits for the copy held here or by
    // another consumer to be settled, as in-process brokers always do.
    const lastDelivery = retryMode === 'redelivery' && event.lastDelivery === true;
    // A copy of an event still being handled here is given back for later, not acknowledged: where the
    // broker redelivers the very same message (JetStream), acknowledging the copy would settle the original,
    // and the event would be lost if its handler then failed.
    if (retryMode === 'redelivery' && !lastDelivery && this.inFlightIds.has(id)) {
      return { action: 'retry', delayMs: backoffDelay(this.policy, 1), error: 'the same event is being handled' };
    }
    if (lastDelivery && !(await this.settledHere(id, signal)))
      return this.unsettled(id, event, span, traceIdFrom(span, envelope));
    if (this.inFlightIds.has(id)) return this.duplicate(id, span, traceIdFrom(span, envelope));
    this.inFlightIds.add(id);
    let claimed = false;
    let handled = false;
    try {
      const waitWhileBusy = retryMode === 'in-process' || lastDelivery;
      const claiming = this.gate ? this.claim(id, waitWhileBusy, signal) : 'claimed';
      const claim = typeof claiming === 'string' ? claiming : await claiming;
      if (claim === 'done') return this.duplicate(id, span, traceIdFrom(span, envelope));
      // Redelivered once the other consumer's claim is settled or expired: every redelivery counts against the
      // broker's delivery limit (JetStream max_deliver), so asking again sooner could use up the event's deliveries.
      if (claim === 'busy') {
        return { action: 'retry', delayMs: this.gate!.leaseMs, error: 'another consumer is handling it' };
      }
      if (claim === 'gave-up')
        return lastDelivery ? this.unsettled(id, event, span, traceIdFrom(span, envelope)) : { action: 'requeue' };
      claimed = true;
      for (let attempt = event.deliveryAttempt; ; attempt++) {
        try {
          await handler(decoded.value, attempt);
          handled = true;
          const settled = this.settleClaim(id, true, envelope, span);
          if (settled) await settled;
          return HANDLED;
        } catch (error) {
          // The last delivery is the last attempt, whatever the policy says: a redelivery would never come.
          if (attempt >= this.policy.maxAttempts || lastDelivery)
            return this.deadLetter(
              id,
              'handler-failed',
              errorMessage(error),
              attempt,
              span,
              traceIdFrom(span, envelope),
              error,
            );
          const delayMs = backoffDelay(this.policy, attempt);
          this.hooks.onRetry?.({ id, attempt, delayMs, error });
          span?.retry({ attempt, delayMs, error, redelivery: retryMode === 'redelivery' });
          this.logger.warn(
            {
              eventId: id,
              traceId: traceIdFrom(span, envelope),
              operation: this.spec.operation,
              attempt,
              delayMs,
              err: errorMessage(error),
            },
            'handler failed; retrying',
          );
          if (retryMode === 'redelivery') return { action: 'retry', delayMs, error: errorMessage(error) };
          if (!(await sleep(delayMs, signal))) return { action: 'requeue' };
        }
      }
    } finally {
      this.inFlightIds.delete(id);
      if (claimed && !handled) await this.settleClaim(id, false, envelope, span);
    }
  }

  // ---- the shared store's claim/commit protocol (docs/idempotency.md) ----

  /**
   * Claims the id in the store. A copy being handled by another consumer ('busy') is handed back to a
   * redelivering broker (to come back after a lease), unless `waitWhileBusy`: in-process brokers (which
   * cannot put one message aside) and a last delivery wait here until the other consumer commits,
   * releases or its lease runs out (an expired claim is free), or until shutdown ('gave-up').
   * A store that answers synchronously is answered without a promise.
   */
  private claim(
    id: string,
    waitWhileBusy: boolean,
    signal: AbortSignal,
  ): ClaimResult | 'gave-up' | Promise<ClaimResult | 'gave-up'> {
    const first = this.gate!.begin(id);
    if (typeof first === 'string' && (first !== 'busy' || !waitWhileBusy)) return first;
    return this.claimWhenFree(id, waitWhileBusy, signal, first);
  }

  private async claimWhenFree(
    id: string,
    waitWhileBusy: boolean,
    signal: AbortSignal,
    first: ClaimResult | Promise<ClaimResult>,
  ): Promise<ClaimResult | 'gave-up'> {
    let claim = await first;
    for (let attempt = 1; claim === 'busy' && waitWhileBusy; attempt++) {
      if (!(await sleep(backoffDelay(this.policy, Math.min(attempt, 4)), signal))) return 'gave-up';
      claim = await this.gate!.begin(id);
    }
    return claim;
  }

  /** Waits until no copy of the event is handled in this process; false when shutdown came first. */
  private async settledHere(id: string, signal: AbortSignal): Promise<boolean> {
    for (let attempt = 1; this.inFlightIds.has(id); attempt++) {
      if (!(await sleep(backoffDelay(this.policy, Math.min(attempt, 4)), signal))) return false;
    }
    return true;
  }

  /**
   * A last delivery that shutdown interrupted while another copy was being handled: neither acknowledged
   * (the other copy may fail) nor handed back (the broker would not deliver it again), but dead-lettered.
   * Redriving it is safe: if the other copy was handled, the store skips it as a duplicate.
   */
  private unsettled(id: string, event: InboundEvent, span?: ProcessSpan, traceId?: string): Outcome {
    const error = 'shut down on the last delivery while another consumer held the event';
    return this.deadLetter(id, 'claim-unsettled', error, event.deliveryAttempt, span, traceId);
  }

  /** Commits (handled) or releases the claim. A store that fails here is logged, not retried: the event
   *  was handled, and an unreleased claim frees itself when its lease runs out. Nothing to wait for
   *  (undefined) when the store answered synchronously. */
  private settleClaim(
    id: string,
    handled: boolean,
    envelope: CloudEventAttributes,
    span: ProcessSpan | undefined,
  ): Promise<void> | undefined {
    try {
      const finished = this.gate?.finish(id, handled);
      if (isPromiseLike(finished))
        return Promise.resolve(finished).then(undefined, (error: unknown) =>
          this.settleFailed(id, handled, error, traceIdFrom(span, envelope)),
        );
    } catch (error) {
      this.settleFailed(id, handled, error, traceIdFrom(span, envelope));
    }
    return undefined;
  }

  private settleFailed(id: string, handled: boolean, error: unknown, traceId?: string): void {
    this.logger.warn(
      { eventId: id, traceId, operation: this.spec.operation, err: errorMessage(error) },
      handled ? 'idempotency store: commit failed' : 'idempotency store: release failed',
    );
  }

  private duplicate(id: string, span?: ProcessSpan, traceId?: string): Outcome {
    this.hooks.onDuplicate?.({ id });
    span?.duplicate();
    this.logger.debug({ eventId: id, traceId, operation: this.spec.operation }, 'duplicate event skipped');
    return { action: 'ack', duplicate: true };
  }

  private deadLetter(
    id: string | undefined,
    reason: DeadLetterReason,
    error: string,
    attempts: number,
    span?: ProcessSpan,
    traceId?: string,
    exception?: unknown,
  ): Outcome {
    this.hooks.onDeadLetter?.({ id, reason, error });
    span?.deadLetter({ reason, error, attempts, exception });
    this.logger.error(
      { eventId: id, traceId, operation: this.spec.operation, reason, err: error, attempts },
      'event dead-lettered',
    );
    return { action: 'dead-letter', reason, error, attempts };
  }
}

/** A handled event's outcome: the same object every time (outcomes are read, never changed). */
const HANDLED: Outcome = Object.freeze({ action: 'ack', duplicate: false });

/** An event's trace id, for logs: its CONSUMER span's, else its envelope's. Worked out only when a log is written, not per event. */
function traceIdFrom(span: ProcessSpan | undefined, envelope: CloudEventAttributes): string | undefined {
  return span?.traceId ?? traceIdOf(envelope.traceparent);
}

/** Headers the application set, with the envelope's own taken out. */
function applicationHeadersOf(headers: Record<string, unknown>, mapping: HeaderMapping): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(headers)) {
    if (isEnvelopeHeader(key, mapping) || key.startsWith('x-codegen-')) continue;
    setOwn(out, key, headers[key]);
  }
  return out;
}

function describe(subject: string, issues: ValidationIssue[]): string {
  return `${subject} invalid: ${issues.map((i) => `${i.pointer || '/'} ${i.rule}: ${i.message}`).join('; ')}`;
}

/** Up to this many ids in flight are kept in an array, beyond it in a Set. */
const FEW_IDS = 16;

/**
 * The ids of events being handled in this process. Usually a handful (one per concurrent handler): a short
 * array searched from end to end costs about a tenth of a Set's add and delete (~0.2 µs per event, whose
 * table V8 rebuilds as deleted entries pile up). Past FEW_IDS at once, a Set keeps look-ups constant.
 */
class IdsInFlight {
  private few: string[] = [];
  private many: Set<string> | undefined;

  has(id: string): boolean {
    return this.many ? this.many.has(id) : this.few.includes(id);
  }

  add(id: string): void {
    if (this.many) this.many.add(id);
    else if (this.few.length < FEW_IDS) this.few.push(id);
    else {
      this.many = new Set(this.few).add(id);
      this.few = [];
    }
  }

  delete(id: string): void {
    if (this.many) {
      this.many.delete(id);
      if (this.many.size === 0) this.many = undefined;
      return;
    }
    const at = this.few.indexOf(id);
    if (at < 0) return;
    this.few[at] = this.few[this.few.length - 1]!;
    this.few.pop();
  }
}

/** Tracks handlers in progress so `close()` can wait for them. */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  track<R>(work: Promise<R>): Promise<R> {
    this.pending.add(work);
    const done = () => this.pending.delete(work);
    work.then(done, done);
    return work;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Resolves when every tracked handler has settled. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}

/** Standard headers a dead-lettered event carries, on every broker. */
export function deadLetterHeaders(
  reason: DeadLetterReason,
  error: string,
  attempts: number,
  operation: string,
): Record<string, string> {
  return {
    'x-codegen-dead-letter-reason': reason,
    'x-codegen-error': error.slice(0, 4000),
    'x-codegen-attempts': String(attempts),
    'x-codegen-operation': operation,
    'x-codegen-dead-lettered-at': new Date().toISOString(),
  };
}
