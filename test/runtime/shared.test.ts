// The shared run-time, tested directly as source (no generation, no broker).
import { describe, expect, it, vi } from 'vitest';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import { encodeJson } from '../../runtime/codec.js';
import { ConsumerPipeline, type DecodedEvent, type InboundEvent } from '../../runtime/consumer.js';
import {
  createEnvelope,
  envelopeFromHeaders,
  envelopeToHeaders,
  readEnvelope,
  readEnvelopeHeaders,
} from '../../runtime/envelope.js';
import { formats } from '../../runtime/formats.js';
import { EventValidationError } from '../../runtime/errors.js';
import { MemoryIdempotencyStore } from '../../runtime/idempotency.js';
import { ConcurrencyLimit } from '../../runtime/limiter.js';
import { concreteAddress, segment, type OperationSpec } from '../../runtime/operation.js';
import { prepareOutbound, type OutboundSpec } from '../../runtime/producer.js';
import { backoffDelay, retrying, retryPolicy } from '../../runtime/retry.js';
import type { ValidationResult } from '../../runtime/validation.js';

const requireTenant = (data: unknown): ValidationResult<{ tenant: string }> =>
  typeof data === 'object' && data !== null && typeof (data as { tenant?: unknown }).tenant === 'string'
    ? { ok: true, value: data as { tenant: string } }
    : { ok: false, issues: [{ pointer: '', rule: 'required', message: "must have required property 'tenant'" }] };

describe('ConcurrencyLimit', () => {
  it('admits up to the limit at once, then hands each freed slot to the next waiter in order', async () => {
    const limit = new ConcurrencyLimit(2);
    expect(limit.acquire()).toBeUndefined();
    expect(limit.acquire()).toBeUndefined();
    const order: number[] = [];
    const third = limit.acquire()!.then(() => order.push(3));
    const fourth = limit.acquire()!.then(() => order.push(4));
    limit.release();
    await third;
    expect(order).toEqual([3]);
    limit.release();
    await fourth;
    expect(order).toEqual([3, 4]);
  });
});

describe('backoffDelay', () => {
  it('grows by the multiplier, stays within the jitter band and never passes the maximum', () => {
    const policy = retryPolicy({ initialDelayMs: 100, multiplier: 2, maxDelayMs: 1_000, jitter: 0.2 });
    for (let i = 0; i < 200; i++) {
      const third = backoffDelay(policy, 3);
      expect(third).toBeGreaterThanOrEqual(320);
      expect(third).toBeLessThanOrEqual(480);
      expect(backoffDelay(policy, 20)).toBeLessThanOrEqual(1_200);
    }
  });
});

describe('retrying', () => {
  const policy = retryPolicy({ maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 });
  const failing = (errors: Error[]) => async (attempt: number) => {
    const error = errors[attempt - 1];
    if (error) throw error;
    return attempt;
  };
  const timeouts = (count: number) => Array.from({ length: count }, () => new Error('timeout'));

  it('tries again after a retryable failure, telling onRetry, until an attempt succeeds', async () => {
    const retried: number[] = [];
    const result = await retrying(failing(timeouts(2)), { policy, retryable: () => true, onRetry: (_error, attempt) => retried.push(attempt) });
    expect({ result, retried }).toEqual({ result: 3, retried: [1, 2] });
  });

  it('gives up after the last attempt, and at once on a failure that is not retryable, with the caller’s error', async () => {
    const failure = (error: unknown, attempts: number) => new Error(`${(error as Error).message} after ${attempts}`);
    await expect(retrying(failing(timeouts(3)), { policy, retryable: () => true, failure })).rejects.toThrow('timeout after 3');
    const onlyTimeouts = (error: unknown) => (error as Error).message === 'timeout';
    await expect(retrying(failing([new Error('denied')]), { policy, retryable: onlyTimeouts, failure })).rejects.toThrow('denied after 1');
  });

  it('stops waiting when its signal aborts, with the error `aborted` gives', async () => {
    const closing = new AbortController();
    closing.abort();
    const loop = { policy, retryable: () => true, signal: closing.signal, aborted: () => new Error('closed') };
    await expect(retrying(failing(timeouts(1)), loop)).rejects.toThrow('closed');
  });
});

describe('MemoryIdempotencyStore', () => {
  it('remembers ids, and evicts the oldest once it holds more than its maximum', () => {
    const store = new MemoryIdempotencyStore({ maxEntries: 10 });
    for (let i = 0; i < 11; i++) store.add(`id-${i}`);
    expect(store.has('id-10')).toBe(true);
    expect(store.has('id-0')).toBe(false);
    expect(store.has('never')).toBe(false);
  });

  it('counts an id added again as the most recently used one: it outlives ids added after it first', () => {
    const store = new MemoryIdempotencyStore({ maxEntries: 10 });
    for (let i = 0; i < 10; i++) store.add(`id-${i}`);
    store.add('id-0');
    store.add('id-10');
    expect(store.has('id-0')).toBe(true);
    expect(store.has('id-1')).toBe(false);
  });

  it('forgets an id once its time to live has passed', () => {
    const now = vi.spyOn(Date, 'now').mockReturnValue(1_000);
    try {
      const store = new MemoryIdempotencyStore({ ttlMs: 100 });
      store.add('a');
      now.mockReturnValue(1_100);
      expect(store.has('a')).toBe(true);
      now.mockReturnValue(1_101);
      expect(store.has('a')).toBe(false);
      expect(store.size).toBe(0);
    } finally {
      now.mockRestore();
    }
  });

  // The store keeps its ids in a ring that grows, wraps and compacts: every answer is checked against
  // the plainest LRU with a TTL, over a run long enough to pass through each of those.
  it.each([1, 7, 100, 1500])('answers as a plain LRU with a TTL would (maxEntries %i)', (maxEntries) => {
    let clock = 0;
    const now = vi.spyOn(Date, 'now').mockImplementation(() => clock);
    try {
      const ttlMs = 5_000;
      const store = new MemoryIdempotencyStore({ maxEntries, ttlMs });
      const model = new Map<string, number>();
      let seed = 42;
      // xorshift32: deterministic, and every low bit varies.
      const random = (n: number) => {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) % n;
      };
      const mismatches: string[] = [];
      for (let step = 0; step < 40_000; step++) {
        clock += random(3);
        const id = `id-${random(maxEntries * 3)}`;
        const expires = model.get(id);
        const expected = expires !== undefined && expires >= clock;
        if (store.has(id) !== expected) mismatches.push(`step ${step}: has(${id}) should be ${expected}`);
        if (random(2) === 0) continue;
        store.add(id);
        model.delete(id);
        model.set(id, clock + ttlMs);
        if (model.size > maxEntries) model.delete(model.keys().next().value!);
      }
      expect(mismatches.slice(0, 5)).toEqual([]);
      expect(store.size).toBeLessThanOrEqual(maxEntries);
    } finally {
      now.mockRestore();
    }
  });
});

describe('the date-time format', () => {
  // The common shape is checked without a regular expression; ajv-formats is the reference for every variant.
  const seeds = [
    '2026-11-26T08:00:00Z',
    '2024-02-29t23:59:59.123456+05:30',
    '2026-11-26 08:00:00-23:59',
    '2026-11-26T23:59:60Z',
    '2026-11-26T22:59:60-01:00',
  ];
  const edits = (text: string): string[] =>
    [...text].flatMap((_, i) =>
      [...'09-:TtZz+. x'].flatMap((c) => [
        text.slice(0, i) + c + text.slice(i + 1),
        text.slice(0, i) + c + text.slice(i),
        text.slice(0, i) + text.slice(i + 1),
      ]),
    );

  it('gives ajv-formats verdict on every one-character edit of valid and edge-case timestamps', () => {
    const differing = seeds
      .flatMap((seed) => [seed, ...edits(seed)])
      .filter((text) => formats['date-time'].validate(text) !== fullFormats['date-time'].validate(text));
    expect(differing).toEqual([]);
  });
});

describe('the CloudEvents envelope', () => {
  it('round-trips through headers, with datacontenttype on its own header where the binding says so', () => {
    const envelope = createEnvelope({ type: 'order.created', source: '/orders', datacontenttype: 'application/json' });
    const mapping = { prefix: 'ce_', contentTypeHeader: 'content-type' };
    const headers = envelopeToHeaders(envelope, mapping);
    expect(headers['content-type']).toBe('application/json');
    expect(headers.ce_id).toBe(envelope.id);
    const read = readEnvelope(envelopeFromHeaders(headers, mapping));
    expect(read).toEqual({ ok: true, value: envelope });
    expect(readEnvelopeHeaders(headers, mapping)).toEqual(read);
  });

  it('reads headers straight into the same verdict as readEnvelope, a valid time seen before included', () => {
    const mapping = { prefix: 'ce-' };
    const good = envelopeToHeaders(createEnvelope({ type: 't', source: '/s', time: '2026-11-26T08:00:00Z' }), mapping);
    const cases: Array<Record<string, unknown>> = [
      good,
      { ...good, 'ce-time': 'yesterday' },
      { ...good, 'ce-id': 7, 'ce-specversion': '0.3' },
      { ...good, 'ce-source': 'x'.repeat(5000), 'ce-type': '' },
      { ...good, 'ce-traceparent': 'garbage', 'ce-tracestate': 'a=b' },
      good,
    ];
    for (const headers of cases)
      expect(readEnvelopeHeaders(headers, mapping)).toEqual(readEnvelope(envelopeFromHeaders(headers, mapping)));
    expect(readEnvelopeHeaders({ ...good, 'ce-time': '2026-11-26T08:00:00X' }, mapping).ok).toBe(false);
  });

  it('stamps events of the same millisecond with the same time, and a later event with a later one', async () => {
    const first = createEnvelope({ type: 't', source: '/s' }).time!;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const later = createEnvelope({ type: 't', source: '/s' }).time!;
    expect(Date.parse(later)).toBeGreaterThan(Date.parse(first));
    expect(later).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('encodes an absent payload as an empty body', () => {
    expect(encodeJson(undefined)).toHaveLength(0);
    expect(Buffer.from(encodeJson({ a: 'é' })).toString()).toBe('{"a":"é"}');
  });

  it('drops a malformed traceparent instead of sending it', () => {
    const envelope = createEnvelope({ type: 't', source: '/s', traceparent: 'garbage', tracestate: 'a=b' });
    expect(envelope.traceparent).toBeUndefined();
    expect(envelope.tracestate).toBeUndefined();
  });
});

describe('channel parameters in an address', () => {
  const spec = {
    operation: 'publishReading',
    parameterNames: ['siteId'],
    buildAddress: (p: { siteId: string }) => `sites.${segment(p?.siteId, 'siteId')}.readings`,
    validateParameters: (data: unknown) => requireTenant(data) as unknown as ValidationResult<{ siteId: string }>,
  } as unknown as OperationSpec<unknown, unknown, { siteId: string }>;

  it('refuses a separator in a value with EventValidationError invalid-address, never a TypeError', () => {
    const refusal = () => segment('AMS.1', 'siteId');
    expect(refusal).toThrow(EventValidationError);
    expect(refusal).toThrow(/channel parameter "siteId" is invalid: \/siteId must be a non-empty value/);
    try {
      refusal();
    } catch (error) {
      expect((error as EventValidationError).reason).toBe('invalid-address');
    }
  });

  it('refuses missing parameters the same way, with or without validation', () => {
    expect(() => concreteAddress(spec, undefined, true)).toThrow(EventValidationError);
    expect(() => concreteAddress(spec, undefined, false)).toThrow(EventValidationError);
  });
});

describe('prepareOutbound', () => {
  const spec: OutboundSpec<{ n: number }, { tenant: string }> = {
    operation: 'publishThing',
    type: 'thing',
    contentType: 'application/json',
    mapping: { prefix: 'ce-' },
    validatePayload: (data) => ({ ok: true, value: data as { n: number } }),
    validateHeaders: requireTenant,
  };
  const defaults = { source: '/test', validate: true };

  it('validates absent headers too: a required header left out is refused before sending', () => {
    expect(() => prepareOutbound(spec, { n: 1 }, {}, defaults)).toThrow(
      expect.objectContaining({ name: 'EventValidationError', reason: 'invalid-headers' }),
    );
  });

  it('sends the application headers as text beside the envelope, leaving the caller object as given', () => {
    const headers = { tenant: 'acme' };
    const event = prepareOutbound(spec, { n: 1 }, { headers, id: 'e-1' }, defaults);
    expect(event.headers).toMatchObject({ tenant: 'acme', 'ce-id': 'e-1', 'ce-type': 'thing', 'ce-source': '/test' });
    expect(headers).toEqual({ tenant: 'acme' });
    expect(new TextDecoder().decode(event.body)).toBe('{"n":1}');
  });
});

describe('the consumer pipeline: copies of events in flight', () => {
  const mapping = { prefix: 'ce_' };
  const spec = {
    operation: 'onTest',
    mapping,
    validatePayload: (data: unknown) => ({ ok: true as const, value: data }),
    validateHeaders: (data: unknown) => ({ ok: true as const, value: data }),
  };
  const eventWithId = (id: string): InboundEvent => ({
    body: new TextEncoder().encode('{"n":1}'),
    headers: envelopeToHeaders(createEnvelope({ id, type: 'test', source: 'test' }), mapping),
    deliveryAttempt: 1,
  });
  const signal = new AbortController().signal;
  /** A promise that handlers wait on until `release()`: keeps their events in flight. */
  const heldOpen = () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    return { gate, release };
  };

  // 40 at once: past the few ids kept in an array, into the Set, and back once they are done.
  it('skips a copy of any event in flight, however many are, and forgets each once it is done', async () => {
    const pipeline = new ConsumerPipeline(spec, { idempotencyStore: false });
    const { gate, release } = heldOpen();
    const runs: string[] = [];
    const handler = async (decoded: DecodedEvent<unknown, unknown>) => {
      runs.push(decoded.envelope.id);
      await gate;
    };
    const ids = Array.from({ length: 40 }, (_, i) => `event-${i}`);
    const first = ids.map((id) => pipeline.process(eventWithId(id), handler, 'in-process', signal));
    for (const id of [ids[3]!, ids[39]!]) {
      const copy = await pipeline.process(eventWithId(id), handler, 'in-process', signal);
      expect(copy).toEqual({ action: 'ack', duplicate: true });
    }
    release();
    expect((await Promise.all(first)).every((o) => o.action === 'ack' && !o.duplicate)).toBe(true);
    // No store: once done, an id is no longer in flight, so its next copy runs again.
    for (const id of [ids[3]!, ids[39]!]) {
      const again = await pipeline.process(eventWithId(id), handler, 'in-process', signal);
      expect(again).toEqual({ action: 'ack', duplicate: false });
    }
    expect(runs).toHaveLength(42);
  });

  it('hands a copy back on a redelivering broker while the event is in flight', async () => {
    const pipeline = new ConsumerPipeline(spec, { idempotencyStore: false });
    const { gate, release } = heldOpen();
    const first = pipeline.process(eventWithId('a'), () => gate, 'redelivery', signal);
    const copy = await pipeline.process(eventWithId('a'), async () => {}, 'redelivery', signal);
    expect(copy).toMatchObject({ action: 'retry', error: 'the same event is being handled' });
    release();
    expect(await first).toEqual({ action: 'ack', duplicate: false });
  });
});
