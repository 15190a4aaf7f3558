// The shared idempotency stores (runtime/idempotency-redis.ts, runtime/idempotency-postgres.ts) against the
// real Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432, database `test`), alone and inside the
// consumer pipeline: the claim/commit protocol of docs/idempotency.md.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsumerPipeline, type InboundEvent } from '../../runtime/consumer.js';
import { createEnvelope, envelopeToHeaders, type HeaderMapping } from '../../runtime/envelope.js';
import type { ClaimingIdempotencyStore } from '../../runtime/idempotency.js';
import { PostgresIdempotencyStore } from '../../runtime/idempotency-postgres.js';
import { RedisIdempotencyStore } from '../../runtime/idempotency-redis.js';

const REDIS_URL = process.env.CODEGEN_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PG_URL = process.env.CODEGEN_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Backend {
  name: string;
  /** A new store instance (another consumer process, as far as the store can tell), on one shared namespace. */
  store(options?: { ttlMs?: number }): ClaimingIdempotencyStore & { close(): Promise<void> };
}

const redis = new Redis(REDIS_URL, {
  lazyConnect: true,
  maxRetriesPerRequest: 1,
});
const pool = new pg.Pool({ connectionString: PG_URL, max: 4 });
const keyPrefix = `codegen-test:${randomUUID()}:`;
const table = `codegen_idempotency_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const opened: { close(): Promise<void> }[] = [];

function tracked<S extends { close(): Promise<void> }>(store: S): S {
  opened.push(store);
  return store;
}

const backends: Backend[] = [
  {
    name: 'Redis',
    store: (o) => tracked(new RedisIdempotencyStore({ client: redis, keyPrefix, ...o })),
  },
  {
    name: 'PostgreSQL',
    store: (o) => tracked(new PostgresIdempotencyStore({ pool, table, ...o })),
  },
];

beforeAll(async () => {
  await redis.connect();
});

afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()));
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await pool.query(`DROP TABLE IF EXISTS "${table}"`);
  await Promise.all([redis.quit(), pool.end()]);
});

describe.each(backends)('$name idempotency store', (backend) => {
  it('claims an id once: a second claim is busy, a committed id is done, a released one is free again', async () => {
    const [a, b] = [backend.store(), backend.store()];
    const id = randomUUID();
    expect(await a.claim(id, 10_000)).toBe('claimed');
    expect(await b.claim(id, 10_000)).toBe('busy');
    expect(await a.claim(id, 10_000)).toBe('busy'); // the same instance too: one claim per id
    await a.release(id);
    expect(await b.claim(id, 10_000)).toBe('claimed');
    expect(await a.has(id)).toBe(false);
    await b.commit(id);
    expect(await a.claim(id, 10_000)).toBe('done');
    expect(await a.has(id)).toBe(true);
  });

  it('frees a claim whose lease ran out (its consumer died mid-handler), and a stale release leaves the new claim', async () => {
    const [dead, next, third] = [backend.store(), backend.store(), backend.store()];
    const id = randomUUID();
    expect(await dead.claim(id, 150)).toBe('claimed');
    expect(await next.claim(id, 10_000)).toBe('busy');
    await sleep(400);
    expect(await next.claim(id, 10_000)).toBe('claimed');
    await dead.release(id); // too late: the claim is no longer its own
    expect(await third.claim(id, 10_000)).toBe('busy');
  });

  it('forgets a handled id after its TTL', async () => {
    const store = backend.store({ ttlMs: 300 });
    const id = randomUUID();
    await store.add(id);
    expect(await store.has(id)).toBe(true);
    await sleep(600);
    expect(await store.has(id)).toBe(false);
    expect(await store.claim(id, 1000)).toBe('claimed');
  });

  it('grants exactly one of many concurrent claims from several instances', async () => {
    const stores = [backend.store(), backend.store(), backend.store(), backend.store()];
    const id = randomUUID();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => stores[i % 4]!.claim(id, 10_000)));
    expect(results.filter((r) => r === 'claimed')).toHaveLength(1);
    expect(results.filter((r) => r === 'busy')).toHaveLength(39);
  });
});

describe('the stores load their client library only when given an address', () => {
  it('Redis from a URL (imports ioredis)', async () => {
    const store = new RedisIdempotencyStore({ url: REDIS_URL, keyPrefix });
    const id = randomUUID();
    expect(await store.claim(id, 1000)).toBe('claimed');
    await store.commit(id);
    expect(await store.has(id)).toBe(true);
    await store.close();
  });

  it('PostgreSQL from a connection string (imports pg), creating its table', async () => {
    const own = `${table}_own`;
    const store = new PostgresIdempotencyStore({
      connectionString: PG_URL,
      table: own,
    });
    const id = randomUUID();
    expect(await store.claim(id, 1000)).toBe('claimed');
    await store.commit(id);
    expect(await store.has(id)).toBe(true);
    await store.close();
    await pool.query(`DROP TABLE "${own}"`);
  });

  it('rejects a table name that is not a plain identifier, and a store without an address', () => {
    expect(() => new PostgresIdempotencyStore({ pool, table: 'x; DROP TABLE y' })).toThrow(/not \[schema\.\]identifier/);
    expect(() => new PostgresIdempotencyStore({ pool, table: 'a.b.c' })).toThrow(TypeError);
    expect(() => new RedisIdempotencyStore({})).toThrow(/needs a client or a url/);
    expect(() => new PostgresIdempotencyStore({})).toThrow(/needs a pool or a connectionString/);
  });
});

// ---- inside the consumer pipeline ----

const mapping: HeaderMapping = { prefix: 'ce_' };
const spec = {
  operation: 'onTest',
  mapping,
  validatePayload: (data: unknown) => ({ ok: true as const, value: data }),
  validateHeaders: (data: unknown) => ({ ok: true as const, value: data }),
};

function eventWithId(id: string, deliveryAttempt = 1): InboundEvent {
  const headers = envelopeToHeaders(createEnvelope({ id, type: 'test', source: 'test' }), mapping);
  return {
    body: new TextEncoder().encode('{"n":1}'),
    headers,
    deliveryAttempt,
  };
}

describe.each(backends)('the consumer pipeline with the $name store', (backend) => {
  const signal = new AbortController().signal;
  const pipelineOn = (store: ClaimingIdempotencyStore, maxAttempts = 1) =>
    new ConsumerPipeline(spec, {
      idempotencyStore: store,
      retry: { maxAttempts, initialDelayMs: 20 },
    });

  it('handles an event once across two consumer instances, also when both get it at once', async () => {
    const [first, second] = [pipelineOn(backend.store()), pipelineOn(backend.store())];
    const id = randomUUID();
    let runs = 0;
    const handler = async () => {
      runs++;
      await sleep(100);
    };
    const outcomes = await Promise.all([
      first.process(eventWithId(id), handler, 'redelivery', signal),
      second.process(eventWithId(id), handler, 'redelivery', signal),
    ]);
    expect(runs).toBe(1);
    // the copy that found it busy is handed back for redelivery, and then found done
    expect(outcomes.map((o) => o.action).sort()).toEqual(['ack', 'retry']);
    // after one lease (the default, 60 s): the claim is settled or expired by then
    expect(outcomes.find((o) => o.action === 'retry')).toMatchObject({ delayMs: 60_000 });
    expect(await second.process(eventWithId(id), handler, 'redelivery', signal)).toEqual({ action: 'ack', duplicate: true });
    expect(runs).toBe(1);
  });

  it('waits for the other instance in in-process mode, then acknowledges the copy as a duplicate', async () => {
    const [first, second] = [pipelineOn(backend.store()), pipelineOn(backend.store())];
    const id = randomUUID();
    let runs = 0;
    const handler = async () => {
      runs++;
      await sleep(150);
    };
    const a = first.process(eventWithId(id), handler, 'in-process', signal);
    await sleep(30);
    const b = second.process(eventWithId(id), handler, 'in-process', signal);
    expect(await a).toEqual({ action: 'ack', duplicate: false });
    expect(await b).toEqual({ action: 'ack', duplicate: true });
    expect(runs).toBe(1);
  });

  it('on the last delivery waits for the other instance instead of handing the copy back (JetStream max_deliver)', async () => {
    const [first, second] = [pipelineOn(backend.store(), 3), pipelineOn(backend.store(), 3)];
    const id = randomUUID();
    let runs = 0;
    const failFirst = async () => {
      await sleep(150);
      if (++runs === 1) throw new Error('the claim holder failed');
    };
    const a = first.process(eventWithId(id), failFirst, 'redelivery', signal);
    await sleep(30);
    const b = second.process({ ...eventWithId(id, 4), lastDelivery: true }, failFirst, 'redelivery', signal);
    expect((await a).action).toBe('retry');
    expect(await b).toEqual({ action: 'ack', duplicate: false });
    expect(runs).toBe(2);
  });

  it('on the last delivery waits for a copy handled in the same process, and its handler failing there is final', async () => {
    const pipeline = pipelineOn(backend.store(), 3);
    const id = randomUUID();
    const attempts: number[] = [];
    const alwaysFails = async (_event: unknown, attempt: number) => {
      attempts.push(attempt);
      await sleep(100);
      throw new Error('fails');
    };
    const a = pipeline.process(eventWithId(id), alwaysFails, 'redelivery', signal);
    const b = pipeline.process({ ...eventWithId(id, 2), lastDelivery: true }, alwaysFails, 'redelivery', signal);
    expect((await a).action).toBe('retry');
    // attempt 2 of 3, but no delivery comes after it: dead-lettered, not handed back
    expect(await b).toMatchObject({ action: 'dead-letter', reason: 'handler-failed', attempts: 2 });
    expect(attempts).toEqual([1, 2]);
  });

  it('dead-letters (claim-unsettled) a last delivery still waiting for another instance at shutdown', async () => {
    const id = randomUUID();
    expect(await backend.store().claim(id, 60_000)).toBe('claimed'); // held by another instance
    const shutdown = new AbortController();
    let runs = 0;
    const waiting = pipelineOn(backend.store()).process(
      { ...eventWithId(id, 2), lastDelivery: true },
      async () => void runs++,
      'redelivery',
      shutdown.signal,
    );
    await sleep(50);
    shutdown.abort();
    expect(await waiting).toMatchObject({ action: 'dead-letter', reason: 'claim-unsettled', attempts: 2 });
    expect(runs).toBe(0);
  });

  it('retries, not skips, an event whose handler failed: the claim is released', async () => {
    const pipeline = pipelineOn(backend.store(), 3);
    const id = randomUUID();
    let runs = 0;
    const failOnce = async () => {
      if (++runs === 1) throw new Error('crash mid-way');
    };
    expect((await pipeline.process(eventWithId(id), failOnce, 'redelivery', signal)).action).toBe('retry');
    expect(await pipeline.process(eventWithId(id, 2), failOnce, 'redelivery', signal)).toEqual({
      action: 'ack',
      duplicate: false,
    });
    expect(runs).toBe(2);
  });

  it('handles again an event whose consumer died holding the claim, once the lease ran out', async () => {
    const dead = backend.store();
    const id = randomUUID();
    expect(await dead.claim(id, 200)).toBe('claimed'); // and then the process is gone
    const pipeline = new ConsumerPipeline(spec, {
      idempotencyStore: backend.store(),
      claimLeaseMs: 5000,
    });
    let runs = 0;
    const outcome = await pipeline.process(eventWithId(id), async () => void runs++, 'in-process', signal);
    expect(outcome).toEqual({ action: 'ack', duplicate: false });
    expect(runs).toBe(1);
  });
});

describe('an optional client library that is not installed', () => {
  it('fails on first use with the package to install, not when the module is loaded', async () => {
    const { importOptional } = await import('../../runtime/optional-module.js');
    await expect(importOptional('codegen-no-such-package', 'SomeStore')).rejects.toThrow(
      /SomeStore: cannot load codegen-no-such-package \(npm install codegen-no-such-package\)/,
    );
  });
});
