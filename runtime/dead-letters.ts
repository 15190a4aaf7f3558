// Dead letters: reading what a consumer gave up on, sending chosen ones back where they failed, and
// discarding others. Shared by every broker: the record model, selections, rate bounding, validation
// against the current schema, the bookkeeping of a redrive or a discard, logs and telemetry. A broker
// only reads its dead-letter destination in order, republishes and removes
// (runtime/<broker>/dead-letters.ts, a DeadLetterStore).
import type { SchemaRegistryOptions } from './codec.js';
import { ConsumerPipeline, InFlight, inboundSpecOf, type InboundSpec } from './consumer.js';
import { envelopeFromHeaders, readEnvelope, type CloudEventAttributes } from './envelope.js';
import type { HeaderMapping } from './envelope.js';
import type { DeadLetterReason } from './errors.js';
import { ConcurrencyLimit } from './limiter.js';
import type { Logger } from './logger.js';
import type { OperationSpec } from './operation.js';
import { sleep } from './retry.js';
import type { Telemetry } from './telemetry.js';

/** The headers `deadLetterHeaders()` (runtime/consumer.ts) adds to every dead letter, on every broker. */
export const DEAD_LETTER_HEADERS = {
  reason: 'x-codegen-dead-letter-reason',
  error: 'x-codegen-error',
  attempts: 'x-codegen-attempts',
  operation: 'x-codegen-operation',
  deadLetteredAt: 'x-codegen-dead-lettered-at',
} as const;

/** Headers a redriven event carries: when, and which dead letter it came from. */
export const REDRIVE_HEADERS = {
  redrivenAt: 'x-codegen-redriven-at',
  redrivenFrom: 'x-codegen-redriven-from',
} as const;

/** A dead letter as its broker reads it: where it sits, its bytes and headers, where it came from. */
export interface StoredDeadLetter<O> {
  /** Its place in the dead-letter destination (Kafka `topic:partition:offset`, NATS the stream sequence, ...). */
  id: string;
  body: Uint8Array;
  /** Every header of the dead letter, the dead-letter headers included. */
  headers: Record<string, unknown>;
  origin: O;
}

/** A look at a dead-letter destination, or a pass that removes from it; closed when done. */
export interface DeadLetterSession<O> {
  /**
   * The dead letters after `after` (an id this session returned, or one from an earlier page), in the
   * destination's order, at most `limit`; those that arrived after the session opened are left out, so a
   * redrive whose events fail again ends.
   */
  read(limit: number, after: string | undefined): Promise<Array<StoredDeadLetter<O>>>;
  /** Sends the event back to where it failed; resolves once the broker confirmed it. */
  republish(letter: StoredDeadLetter<O>, headers: Record<string, unknown>): Promise<void>;
  /** Removes the dead letter from its destination (after a confirmed republish, or a discard). */
  remove(letter: StoredDeadLetter<O>, settlement: Settlement): Promise<void>;
  close(): Promise<void>;
}

/** Why a dead letter leaves its destination. */
export type Settlement = { action: 'redriven' } | { action: 'discarded'; reason: string };

/** One broker's dead-letter destination of one receive operation. */
export interface DeadLetterStore<O> {
  /** The dead-letter destination's name, for spans, metrics and logs. */
  readonly destination: string;
  /** Opens a look (`inspect`: nothing removed) or a pass that removes (`settle`). */
  open(purpose: 'inspect' | 'settle'): Promise<DeadLetterSession<O>>;
  /** Headers that are the broker's dead-letter bookkeeping rather than the event's (taken off before a redrive). */
  readonly bookkeepingHeaders: readonly string[];
}

/** How the event of a dead letter reads against the current schema. */
export type CurrentEvent<T, H> =
  { valid: true; payload: T; headers: H } | { valid: false; reason: DeadLetterReason; error: string };

/** A dead letter of a receive operation. */
export interface DeadLetter<T, H, O> {
  /** Its place in the dead-letter destination: what `after` and `{ ids }` name. */
  id: string;
  /** The event's CloudEvents `id` (undefined when the envelope is unreadable): kept by a redrive. */
  eventId: string | undefined;
  /** Why it was dead-lettered. */
  reason: DeadLetterReason;
  /** The error text (validation issues name the field). */
  error: string;
  /** Attempts made before giving up. */
  attempts: number;
  /** When it was dead-lettered (RFC 3339), as its headers say. */
  deadLetteredAt: string | undefined;
  /** The receive operation that gave up. */
  operation: string;
  /** Where it came from: the broker's queue, topic and offset, subject and stream sequence. */
  origin: O;
  /** The CloudEvents attributes, when they still read. */
  envelope: CloudEventAttributes | undefined;
  /** The event against the current schema: typed when it validates, the reason when it does not. */
  current: CurrentEvent<T, H>;
  /** The event's bytes, unchanged. */
  body: Uint8Array;
  /** The event's headers (the dead-letter bookkeeping taken out). */
  headers: Record<string, unknown>;
}

/** Which dead letters a redrive or a discard takes. */
export type DeadLetterSelection<T, H, O> =
  | 'all'
  | { reason: DeadLetterReason | readonly DeadLetterReason[] }
  /** Dead-letter ids or CloudEvents ids. */
  | { ids: readonly string[] }
  | ((letter: DeadLetter<T, H, O>) => boolean);

export interface InspectOptions {
  /** Most dead letters returned (default 100). */
  limit?: number;
  /** Continue after this dead letter (the `next` of the previous page). */
  after?: string;
}

export interface DeadLetterPage<T, H, O> {
  letters: Array<DeadLetter<T, H, O>>;
  /** Give as `after` for the next page; undefined when this page reached the end. */
  next: string | undefined;
}

export interface RedriveOptions {
  /** Most events republished per second (default: no bound). */
  ratePerSecond?: number;
  /** Redrive events that fail validation against the current schema too (default false: they stay, reported). */
  includeInvalid?: boolean;
}

export interface DiscardOptions {
  /** Why they are discarded: logged and recorded on the span. */
  reason: string;
}

/** A dead letter named in a result. */
export interface DeadLetterRef {
  id: string;
  eventId: string | undefined;
  reason: DeadLetterReason;
}

export interface RedriveResult {
  /** Republished (confirmed by the broker), then removed from the dead-letter destination. */
  redriven: DeadLetterRef[];
  /** Selected but left in place: the event fails validation against the current schema. */
  invalid: Array<DeadLetterRef & { error: string }>;
  /** Dead letters of the operation not selected (left in place). */
  unselected: number;
}

export interface DiscardResult {
  discarded: DeadLetterRef[];
  unselected: number;
}

/** What a broker's dead letters are built from. */
export interface DeadLetterParts<T, H, O> {
  store: DeadLetterStore<O>;
  spec: InboundSpec<T, H>;
  telemetry: Telemetry | Promise<Telemetry>;
  logger: Logger;
  /** Throws ClientClosedError once the client is closed. */
  assertOpen(): void;
}

/** The dead letters of an operation whose dead-letter destination `store` reads (how every broker makes them). */
export function deadLettersOf<T, H, O>(
  store: DeadLetterStore<O>,
  spec: OperationSpec<T, H, unknown>,
  mapping: HeaderMapping,
  client: {
    telemetry: Telemetry | Promise<Telemetry>;
    logger: Logger;
    assertOpen(): void;
    /** Where Avro dead letters' writer schemas are read, as the consumer reads them. */
    schemaRegistry: SchemaRegistryOptions | undefined;
  },
): DeadLetters<T, H, O> {
  const { schemaRegistry, ...rest } = client;
  return new DeadLetters({ store, spec: inboundSpecOf(spec, mapping, schemaRegistry), ...rest });
}

/** Dead letters read per round trip while a redrive or discard walks the destination. */
const PAGE = 200;

/** A signal never aborted: reading a dead letter waits out an unreachable registry with the retry policy. */
const NEVER = new AbortController().signal;

/**
 * The dead letters of one receive operation: `inspect` pages through them without removing any,
 * `redrive` sends chosen ones back where they failed, `discard` removes chosen ones for good.
 * A dead letter is removed only after the broker confirmed its republish, so a redrive cut short
 * loses nothing; the event keeps its CloudEvents id, so the consumer's idempotency store makes a
 * redrive that runs twice harmless.
 */
export class DeadLetters<T, H, O> {
  private readonly pipeline: ConsumerPipeline<T, H>;

  constructor(private readonly parts: DeadLetterParts<T, H, O>) {
    // The consumer's own checks, without de-duplication: what a consumer would say of the event today.
    this.pipeline = new ConsumerPipeline(parts.spec, { validate: true, idempotencyStore: false });
  }

  /** Reads a page of dead letters, oldest first, leaving them in place. */
  inspect(options: InspectOptions = {}): Promise<DeadLetterPage<T, H, O>> {
    const limit = Math.max(1, Math.floor(options.limit ?? 100));
    return this.traced('inspect', async (counts) => {
      const letters: Array<DeadLetter<T, H, O>> = [];
      let cursor = options.after;
      await this.walk('inspect', options.after, Math.min(limit, PAGE), undefined, (letter) => {
        letters.push(letter);
        cursor = letter.id;
        return letters.length < limit;
      });
      counts.inspected = letters.length;
      return { letters, next: letters.length === limit ? cursor : undefined };
    });
  }

  /** Republishes the selected dead letters to where they failed, each removed once the broker confirmed it. */
  redrive(selection: DeadLetterSelection<T, H, O>, options: RedriveOptions = {}): Promise<RedriveResult> {
    const matches = selector(selection);
    const pace = new RateLimit(options.ratePerSecond);
    return this.traced('redrive', async (counts) => {
      const result: RedriveResult = { redriven: [], invalid: [], unselected: 0 };
      const window = new SettleWindow();
      await this.walk('settle', undefined, PAGE, window, async (letter, stored, session) => {
        if (!matches(letter)) result.unselected++;
        else if (!letter.current.valid && !options.includeInvalid)
          result.invalid.push({ ...refOf(letter), error: letter.current.error });
        else {
          await pace.wait();
          return window.run(async () => {
            await session.republish(stored, this.redriveHeaders(stored));
            await session.remove(stored, { action: 'redriven' });
            result.redriven.push(refOf(letter));
            this.parts.logger.info(logFields(letter), 'dead letter redriven');
          });
        }
        return true;
      });
      counts.redriven = result.redriven.length;
      counts.invalid = result.invalid.length;
      return result;
    });
  }

  /** Removes the selected dead letters for good; each is logged with the reason. */
  discard(selection: DeadLetterSelection<T, H, O>, options: DiscardOptions): Promise<DiscardResult> {
    const matches = selector(selection);
    return this.traced('discard', async (counts) => {
      const result: DiscardResult = { discarded: [], unselected: 0 };
      const window = new SettleWindow();
      await this.walk('settle', undefined, PAGE, window, async (letter, stored, session) => {
        if (!matches(letter)) {
          result.unselected++;
          return true;
        }
        return window.run(async () => {
          await session.remove(stored, { action: 'discarded', reason: options.reason });
          result.discarded.push(refOf(letter));
          this.parts.logger.warn({ ...logFields(letter), discardReason: options.reason }, 'dead letter discarded');
        });
      });
      counts.discarded = result.discarded.length;
      return result;
    });
  }

  /**
   * Calls `visit` with each dead letter of this operation after `after`, in order, until it answers
   * false or the destination (as it was when the walk began) ends; then waits for the settlements
   * `window` runs (its first failure is thrown) before the session closes.
   */
  private async walk(
    purpose: 'inspect' | 'settle',
    after: string | undefined,
    pageSize: number,
    window: SettleWindow | undefined,
    visit: (
      letter: DeadLetter<T, H, O>,
      stored: StoredDeadLetter<O>,
      session: DeadLetterSession<O>,
    ) => boolean | Promise<boolean>,
  ): Promise<void> {
    this.parts.assertOpen();
    const session = await this.parts.store.open(purpose);
    try {
      for (let cursor = after; ;) {
        const batch = await session.read(pageSize, cursor);
        if (batch.length === 0) return await window?.drain();
        for (const stored of batch) {
          cursor = stored.id;
          if (textOf(stored.headers[DEAD_LETTER_HEADERS.operation]) !== this.parts.spec.operation) continue;
          if (!(await visit(await this.letterOf(stored), stored, session))) return await window?.drain();
        }
      }
    } finally {
      await window?.drain().catch(() => undefined);
      await session.close();
    }
  }

  /** A stored dead letter read: the bookkeeping headers apart, the event checked against the current schema. */
  private async letterOf(stored: StoredDeadLetter<O>): Promise<DeadLetter<T, H, O>> {
    const headers = stored.headers;
    const decoded = await this.pipeline.decodeAny({ body: stored.body, headers, deliveryAttempt: 1 }, NEVER);
    const envelope = readEnvelope(envelopeFromHeaders(headers, this.parts.spec.mapping));
    const attempts = Number(textOf(headers[DEAD_LETTER_HEADERS.attempts]));
    return {
      id: stored.id,
      eventId: envelope.ok ? envelope.value.id : undefined,
      reason: (textOf(headers[DEAD_LETTER_HEADERS.reason]) ?? 'handler-failed') as DeadLetterReason,
      error: textOf(headers[DEAD_LETTER_HEADERS.error]) ?? '',
      attempts: Number.isFinite(attempts) ? attempts : 1,
      deadLetteredAt: textOf(headers[DEAD_LETTER_HEADERS.deadLetteredAt]),
      operation: this.parts.spec.operation,
      origin: stored.origin,
      envelope: envelope.ok ? envelope.value : undefined,
      current: decoded.ok
        ? { valid: true, payload: decoded.value.payload, headers: decoded.value.headers }
        : { valid: false, reason: decoded.reason, error: decoded.error },
      body: stored.body,
      headers: this.eventHeadersOf(headers),
    };
  }

  /** The event's own headers: the dead-letter bookkeeping (ours and the broker's) taken out. */
  private eventHeadersOf(headers: Record<string, unknown>): Record<string, unknown> {
    const bookkeeping = new Set<string>([
      ...Object.values(DEAD_LETTER_HEADERS),
      ...Object.values(REDRIVE_HEADERS),
      ...this.parts.store.bookkeepingHeaders,
    ]);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(headers)) {
      if (bookkeeping.has(key)) continue;
      Object.defineProperty(out, key, { value: headers[key], enumerable: true, writable: true, configurable: true });
    }
    return out;
  }

  /** The headers a redriven event is sent with: its own, and where it was redriven from. */
  private redriveHeaders(stored: StoredDeadLetter<O>): Record<string, unknown> {
    return {
      ...this.eventHeadersOf(stored.headers),
      [REDRIVE_HEADERS.redrivenAt]: new Date().toISOString(),
      [REDRIVE_HEADERS.redrivenFrom]: `${this.parts.store.destination}#${stored.id}`,
    };
  }

  /** Runs one of the three calls in a span named after the dead-letter destination, with counts as attributes and metrics. */
  private async traced<R>(name: DeadLetterCall, work: (counts: Record<string, number>) => Promise<R>): Promise<R> {
    const telemetry = await this.parts.telemetry;
    return telemetry.deadLetters(this.parts.store.destination, name, this.parts.spec.operation, work);
  }
}

export type DeadLetterCall = 'inspect' | 'redrive' | 'discard';

/** A header's value as text (AMQP tables also hold numbers and bytes); undefined when absent. */
export function textOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return String(value);
}

/** Headers with every value as text, for brokers whose headers are text only. */
export function textHeaders(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(headers)) {
    const value = textOf(headers[key]);
    if (value !== undefined)
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function refOf<T, H, O>(letter: DeadLetter<T, H, O>): DeadLetterRef {
  return { id: letter.id, eventId: letter.eventId, reason: letter.reason };
}

function logFields<T, H, O>(letter: DeadLetter<T, H, O>): Record<string, unknown> {
  return { deadLetterId: letter.id, eventId: letter.eventId, operation: letter.operation, reason: letter.reason };
}

/** The test a selection stands for. */
export function selector<T, H, O>(selection: DeadLetterSelection<T, H, O>): (letter: DeadLetter<T, H, O>) => boolean {
  if (selection === 'all') return () => true;
  if (typeof selection === 'function') return selection;
  if ('ids' in selection) {
    const ids = new Set(selection.ids);
    return (letter) => ids.has(letter.id) || (letter.eventId !== undefined && ids.has(letter.eventId));
  }
  const reasons = new Set<string>(typeof selection.reason === 'string' ? [selection.reason] : selection.reason);
  return (letter) => reasons.has(letter.reason);
}

/** Republishes and removals in flight at once: a dead letter's confirm is awaited without holding up the next. */
const SETTLE_WINDOW = 32;

/**
 * Runs settlements (a republish then a removal, or a removal) up to SETTLE_WINDOW at once, in the order
 * they were started; the first failure stops new ones and is thrown by `drain()`. A crash with some in
 * flight republishes at most that many again on the next run, each with its CloudEvents id.
 */
class SettleWindow {
  private readonly slots = new ConcurrencyLimit(SETTLE_WINDOW);
  private readonly running = new InFlight();
  private failure: { error: unknown } | undefined;

  /** Starts `task` once a slot is free; false (nothing started) after a failure. */
  async run(task: () => Promise<void>): Promise<boolean> {
    const wait = this.slots.acquire();
    if (wait) await wait;
    if (this.failure) {
      this.slots.release();
      return false;
    }
    void this.running.track(
      task()
        .catch((error: unknown) => void (this.failure ??= { error }))
        .finally(() => this.slots.release()),
    );
    return true;
  }

  /** Waits for every settlement started; throws the first failure. */
  async drain(): Promise<void> {
    await this.running.drain();
    if (this.failure) throw this.failure.error;
  }
}

/** At most `perSecond` calls of `wait()` resolve per second, evenly spaced; no bound when undefined. */
export class RateLimit {
  private next = 0;
  private readonly intervalMs: number;

  constructor(perSecond: number | undefined) {
    this.intervalMs = perSecond !== undefined && perSecond > 0 ? 1000 / perSecond : 0;
  }

  async wait(): Promise<void> {
    if (this.intervalMs === 0) return;
    const now = Date.now();
    const at = Math.max(now, this.next);
    this.next = at + this.intervalMs;
    if (at > now) await sleep(at - now);
  }
}

/** A broker that cannot give a dead-letter destination to read (core NATS without a stream storing it, ...). */
export class DeadLettersUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadLettersUnavailableError';
  }
}
