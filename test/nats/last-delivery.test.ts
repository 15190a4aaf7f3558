// The claim gate on JetStream's last delivery: two consumer instances on one durable share the real Redis
// idempotency store (127.0.0.1:6379) on the real server (4222), with a small `max_deliver`. The last
// delivery the consumer allows reaches instance B while instance A holds the event's claim, and A then fails:
// the event must end up handled or dead-lettered, never left unhandled with no delivery left.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClaimResult, ClaimingIdempotencyStore } from '../../runtime/idempotency.js';
import { RedisIdempotencyStore } from '../../runtime/idempotency-redis.js';
import { buildGenerated, deleteStreams, EXAMPLE, order, streamPrefixOf, uniquePrefix, waitFor, type Generated } from './support.js';

const REDIS_URL = process.env.CODEGEN_REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyPrefix = `codegen-test:${randomUUID()}:`;

let example: Generated;
const prefixes: string[] = [];
const stores: RedisIdempotencyStore[] = [];

beforeAll(async () => {
  example = (await buildGenerated([EXAMPLE])).modules[0]!;
});

afterAll(async () => {
  for (const prefix of prefixes) await deleteStreams(streamPrefixOf(prefix)).catch(() => undefined);
  await Promise.allSettled(stores.map((store) => store.close()));
});

/** One consumer instance's view of the shared store, telling the test when a claim found the id busy. */
class WatchedStore implements ClaimingIdempotencyStore {
  private readonly inner = new RedisIdempotencyStore({ url: REDIS_URL, keyPrefix });
  constructor(private readonly onBusy: () => void) {
    stores.push(this.inner);
  }
  async claim(id: string, leaseMs: number): Promise<ClaimResult> {
    const result = await this.inner.claim(id, leaseMs);
    if (result === 'busy') this.onBusy();
    return result;
  }
  commit = (id: string) => this.inner.commit(id);
  release = (id: string) => this.inner.release(id);
  has = (id: string) => this.inner.has(id);
  add = (id: string) => this.inner.add(id);
}

/** A waiting instance asks again and again: the first answer is what the test follows. */
function noteOnce(events: string[], event: string): void {
  if (!events.includes(event)) events.push(event);
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/**
 * Publishes one event, has instance A claim it and stall inside its handler (A then stops taking messages,
 * so its progress acknowledgements stop too), and starts instance B, which gets the next delivery once the
 * ack wait ran out. `stallOn`: the attempt on which A stalls, chosen so that B's delivery is the last one.
 */
async function holderStallsThenB(
  label: string,
  options: { maxAttempts: number; claimLeaseMs: number; stallOn: number },
  a: { fail: Promise<void> },
  bHandler: (attempt: number) => void,
) {
  const events: string[] = [];
  const prefix = uniquePrefix(label);
  prefixes.push(prefix);
  const consumerOptions = {
    durable: 'last-delivery',
    ackWaitMs: 1000,
    retry: { maxAttempts: options.maxAttempts, initialDelayMs: 50 },
    claimLeaseMs: options.claimLeaseMs,
  };
  const clientA = await example.nats.createClient({ subjectPrefix: prefix });
  const clientB = await example.nats.createClient({ subjectPrefix: prefix });
  const stalled = deferred();
  const subscriptionA = await clientA.onOrderCreated(
    async (_payload: unknown, event: { attempt: number }) => {
      if (event.attempt < options.stallOn) {
        events.push(`A attempt ${event.attempt} failed`);
        throw new Error('first attempts fail');
      }
      events.push(`A attempt ${event.attempt} holds the claim`);
      stalled.resolve();
      await a.fail;
      events.push(`A attempt ${event.attempt} failed`);
      throw new Error('the claim holder failed');
    },
    { ...consumerOptions, idempotencyStore: new WatchedStore(() => noteOnce(events, 'A found it busy')) },
  );
  await clientA.publishOrderCreated(order(1), { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
  await stalled.promise;
  // Not awaited: stop() ends the progress acknowledgements and the pulls at once, but resolves only when
  // the message iterator is done, which waits for the handler in progress (A's, stalled on purpose).
  void subscriptionA.stop();
  await clientB.onOrderCreated(
    async (_payload: unknown, event: { attempt: number }) => {
      events.push(`B attempt ${event.attempt}`);
      bHandler(event.attempt);
    },
    { ...consumerOptions, idempotencyStore: new WatchedStore(() => noteOnce(events, 'B found it busy')) },
  );
  return { events, clientA, clientB };
}

describe('NATS target: the claim gate on the last delivery (JetStream max_deliver, shared Redis store)', () => {
  it('waits for the claim holder instead of handing the event back: A fails and releases, B handles it', async () => {
    // maxAttempts 2 → max_deliver 3: A fails delivery 1, holds the claim on delivery 2, B gets delivery 3.
    const failA = deferred();
    const { events, clientA, clientB } = await holderStallsThenB(
      'nats-last-release',
      { maxAttempts: 2, claimLeaseMs: 60_000, stallOn: 2 },
      { fail: failA.promise },
      () => undefined,
    );
    try {
      await waitFor(() => events.includes('B found it busy'), 20_000, 'B to meet the claim A holds');
      failA.resolve();
      // Handing back here would lose the event: the server delivers it no more, and A's claim is then released.
      await waitFor(() => events.some((e) => e.startsWith('B attempt')), 20_000, 'B to handle the event');
      expect(events).toEqual([
        'A attempt 1 failed',
        'A attempt 2 holds the claim',
        'B found it busy',
        'A attempt 2 failed',
        'B attempt 3',
      ]);
    } finally {
      failA.resolve();
      await Promise.allSettled([clientA.close(), clientB.close()]);
    }
  });

  it('waits out the lease of a claim holder that died, then dead-letters the event when its handler fails too', async () => {
    // maxAttempts 1 → max_deliver 2: A holds the claim on delivery 1 and never settles it; B gets delivery 2.
    const failA = deferred();
    const { events, clientA, clientB } = await holderStallsThenB(
      'nats-last-lease',
      { maxAttempts: 1, claimLeaseMs: 2500, stallOn: 1 },
      { fail: failA.promise },
      () => {
        throw new Error('B fails too');
      },
    );
    try {
      await waitFor(() => events.includes('B attempt 2'), 20_000, 'B to run the handler once the lease ran out');
      const deadLetters = clientB.deadLetters.onOrderCreated;
      let letters: Array<{ reason: string; attempts: number }> = [];
      await waitFor(async () => (letters = (await deadLetters.inspect({ limit: 10 })).letters).length > 0, 20_000, 'the dead letter');
      expect(letters).toMatchObject([{ reason: 'handler-failed', attempts: 2 }]);
      expect(events).toEqual(['A attempt 1 holds the claim', 'B found it busy', 'B attempt 2']);
    } finally {
      failA.resolve();
      await Promise.allSettled([clientA.close(), clientB.close()]);
    }
  });
});
