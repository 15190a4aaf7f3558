// The shared dead-letter logic (runtime/dead-letters.ts) over a store kept in memory: what a broker's store
// does, without a broker. The brokers' stores are tested on the real brokers in test/dead-letters/.
import { describe, expect, it } from 'vitest';
import {
  DeadLetters,
  RateLimit,
  selector,
  textHeaders,
  type DeadLetterSession,
  type DeadLetterStore,
  type StoredDeadLetter,
} from '../../runtime/dead-letters.js';
import type { ValidationResult } from '../../runtime/validation.js';
import { Telemetry } from '../../runtime/telemetry.js';

interface Order {
  total: number;
}

const encoder = new TextEncoder();

/** A dead-letter destination in memory: an ordered list; sends go to `sent`; a send can be made to fail. */
class MemoryStore implements DeadLetterStore<{ place: number }> {
  readonly destination = 'orders.dlq';
  readonly bookkeepingHeaders = ['x-codegen-original-place'];
  readonly letters: Array<StoredDeadLetter<{ place: number }>> = [];
  readonly sent: Array<{ id: string; headers: Record<string, unknown> }> = [];
  failOn: string | undefined;

  add(id: string, total: unknown, reason: string, operation = 'onOrderCreated'): void {
    this.letters.push({
      id,
      body: encoder.encode(JSON.stringify({ total })),
      headers: {
        'ce-specversion': '1.0',
        'ce-id': `event-${id}`,
        'ce-source': 'test',
        'ce-type': 'order.created',
        'x-tenant': 'acme',
        'x-codegen-dead-letter-reason': reason,
        'x-codegen-error': `failed ${id}`,
        'x-codegen-attempts': 3,
        'x-codegen-operation': operation,
        'x-codegen-dead-lettered-at': '2026-12-01T10:00:00.000Z',
        'x-codegen-original-place': id,
      },
      origin: { place: Number(id) },
    });
  }

  async open(): Promise<DeadLetterSession<{ place: number }>> {
    const snapshot = this.letters.length;
    return {
      read: async (limit, after) => {
        const visible = this.letters.slice(0, snapshot).filter((l) => this.letters.includes(l));
        const start = after === undefined ? 0 : visible.findIndex((l) => Number(l.id) > Number(after));
        return start < 0 ? [] : visible.slice(start, start + limit);
      },
      republish: async (letter, headers) => {
        if (letter.id === this.failOn) throw new Error('the broker did not confirm');
        this.sent.push({ id: letter.id, headers });
      },
      remove: async (letter) => void this.letters.splice(this.letters.indexOf(letter), 1),
      close: async () => undefined,
    };
  }
}

function queueOf(store: MemoryStore): DeadLetters<Order, Record<string, unknown>, { place: number }> {
  const validatePayload = (data: unknown): ValidationResult<Order> =>
    typeof (data as Order).total === 'number' ? { ok: true, value: data as Order } : { ok: false, issues: [{ pointer: '/total', rule: 'type', message: 'must be number' }] };
  return new DeadLetters({
    store,
    spec: { operation: 'onOrderCreated', mapping: { prefix: 'ce-' }, validatePayload, validateHeaders: (data) => ({ ok: true, value: data as Record<string, unknown> }) },
    telemetry: Telemetry.disabled('nats'),
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    assertOpen: () => undefined,
  });
}

function storeWith(): MemoryStore {
  const store = new MemoryStore();
  store.add('1', 1, 'handler-failed');
  store.add('2', 'x', 'invalid-payload');
  store.add('3', 3, 'handler-failed', 'onSomethingElse');
  store.add('4', 4, 'handler-failed');
  store.add('5', 5, 'not-json');
  return store;
}

describe('dead letters: the shared logic', () => {
  it('inspects page by page, typed where the event validates, without removing, and only its own operation', async () => {
    const store = storeWith();
    const queue = queueOf(store);
    const first = await queue.inspect({ limit: 2 });
    expect(first.letters.map((l) => l.id)).toEqual(['1', '2']);
    expect(first.next).toBe('2');
    const second = await queue.inspect({ limit: 2, after: first.next });
    expect(second.letters.map((l) => l.id)).toEqual(['4', '5']);
    expect((await queue.inspect({ limit: 2, after: second.next })).letters).toEqual([]);
    const [valid, invalid] = first.letters;
    expect(valid).toMatchObject({ eventId: 'event-1', reason: 'handler-failed', error: 'failed 1', attempts: 3, origin: { place: 1 }, current: { valid: true, payload: { total: 1 } } });
    expect(valid!.headers).toEqual({ 'ce-specversion': '1.0', 'ce-id': 'event-1', 'ce-source': 'test', 'ce-type': 'order.created', 'x-tenant': 'acme' });
    expect(invalid!.current).toEqual({ valid: false, reason: 'invalid-payload', error: 'payload invalid: /total type: must be number' });
    expect(store.letters).toHaveLength(5);
  });

  it('redrives what is selected and valid, removing each after its republish; invalid ones stay, reported', async () => {
    const store = storeWith();
    const result = await queueOf(store).redrive({ reason: ['handler-failed', 'invalid-payload'] });
    expect(result.redriven.map((r) => r.id)).toEqual(['1', '4']);
    expect(result.invalid).toEqual([{ id: '2', eventId: 'event-2', reason: 'invalid-payload', error: 'payload invalid: /total type: must be number' }]);
    expect(result.unselected).toBe(1);
    expect(store.letters.map((l) => l.id)).toEqual(['2', '3', '5']);
    const headers = store.sent[0]!.headers;
    expect(Object.keys(headers).filter((k) => k.startsWith('x-codegen-'))).toEqual(['x-codegen-redriven-at', 'x-codegen-redriven-from']);
    expect(headers['x-codegen-redriven-from']).toBe('orders.dlq#1');
    expect(headers['ce-id']).toBe('event-1');
  });

  it('leaves a dead letter in place when its republish is not confirmed, and stops there', async () => {
    const store = storeWith();
    store.failOn = '4';
    await expect(queueOf(store).redrive('all')).rejects.toThrow(/did not confirm/);
    expect(store.letters.map((l) => l.id)).toEqual(['2', '3', '4', '5']);
  });

  it('redrives invalid events when asked; discards only what is selected, by dead-letter id, event id or predicate', async () => {
    const store = storeWith();
    const queue = queueOf(store);
    expect((await queue.redrive({ ids: ['2'] }, { includeInvalid: true })).redriven.map((r) => r.id)).toEqual(['2']);
    const discarded = await queue.discard((letter) => letter.reason === 'not-json' || letter.eventId === 'event-1', { reason: 'test' });
    expect(discarded.discarded.map((r) => r.id)).toEqual(['1', '5']);
    expect((await queue.discard({ ids: ['event-4'] }, { reason: 'test' })).discarded.map((r) => r.id)).toEqual(['4']);
    expect(store.letters.map((l) => l.id)).toEqual(['3']);
  });

  it('selections, text headers and the rate bound', async () => {
    const letter = { id: '7', eventId: 'e', reason: 'not-json' } as Parameters<ReturnType<typeof selector>>[0];
    expect(selector('all')(letter)).toBe(true);
    expect(selector({ reason: 'not-json' })(letter)).toBe(true);
    expect(selector({ reason: ['handler-failed'] })(letter)).toBe(false);
    expect(selector({ ids: ['e'] })(letter)).toBe(true);
    expect(textHeaders({ a: 1, b: encoder.encode('x'), c: undefined, d: 'y' })).toEqual({ a: '1', b: 'x', d: 'y' });
    const pace = new RateLimit(50);
    const started = Date.now();
    for (let i = 0; i < 6; i++) await pace.wait();
    // Six calls at 50 per second: the sixth waits for five intervals of 20 ms at least.
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
  });
});
