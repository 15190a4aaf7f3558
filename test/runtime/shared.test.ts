// The shared run-time, tested directly as source (no generation, no broker).
import { describe, expect, it } from 'vitest';
import { createEnvelope, envelopeFromHeaders, envelopeToHeaders, readEnvelope } from '../../runtime/envelope.js';
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
