import { randomUUID } from 'node:crypto';
import type { ClaimResult, ClaimingIdempotencyStore } from './idempotency.js';
import { importOptional } from './optional-module.js';

/** The few commands used, as ioredis (`new Redis(...)`) has them: pass your own client, or a URL. */
export interface RedisClientLike {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, px: 'PX', ms: number): Promise<unknown>;
  eval(script: string, numberOfKeys: number, ...args: (string | number)[]): Promise<unknown>;
  quit(): Promise<unknown>;
}

export interface RedisIdempotencyStoreOptions {
  /** A connected ioredis client (kept open by `close()`), or … */
  client?: RedisClientLike;
  /** … a `redis://` URL: ioredis is then imported (install it) and the connection closed by `close()`. */
  url?: string;
  /** Key prefix. Default `codegen:idempotency:`. */
  keyPrefix?: string;
  /** How long a handled id is remembered. Default 24 h. */
  ttlMs?: number;
}

const DONE = 'done';

// KEYS[1] = key, ARGV = token, lease ms. A claim is a key holding the claimer's token with the lease as
// its expiry; Redis deletes it when the lease runs out, which frees the id for the next delivery.
const CLAIM = `local v = redis.call('GET', KEYS[1])
if v == '${DONE}' then return '${DONE}' end
if v then return 'busy' end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 'claimed'`;

// Deletes the claim only while it is still the caller's (its lease may have run out and another taken it).
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Idempotency store in Redis, shared by every consumer process: one key per event id, holding either a
 * claim (a token, expiring with the lease) or `done` (expiring with the TTL). Claims are atomic (Lua).
 */
export class RedisIdempotencyStore implements ClaimingIdempotencyStore {
  private client: Promise<RedisClientLike> | undefined;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly ttlMs: number;
  /** Tokens of the claims this instance holds, so it releases only its own. */
  private readonly tokens = new Map<string, string>();

  constructor(private readonly options: RedisIdempotencyStoreOptions) {
    if (!options.client && !options.url) throw new TypeError('RedisIdempotencyStore needs a client or a url');
    this.owned = !options.client;
    this.prefix = options.keyPrefix ?? 'codegen:idempotency:';
    this.ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
  }

  async claim(id: string, leaseMs: number): Promise<ClaimResult> {
    const token = randomUUID();
    const result = await (await this.redis()).eval(CLAIM, 1, this.prefix + id, token, Math.max(1, Math.ceil(leaseMs)));
    if (result === 'claimed') this.tokens.set(id, token);
    return result as ClaimResult;
  }

  async commit(id: string): Promise<void> {
    this.tokens.delete(id);
    await this.add(id);
  }

  async release(id: string): Promise<void> {
    const token = this.tokens.get(id);
    this.tokens.delete(id);
    if (token !== undefined) await (await this.redis()).eval(RELEASE, 1, this.prefix + id, token);
  }

  async has(id: string): Promise<boolean> {
    return (await (await this.redis()).get(this.prefix + id)) === DONE;
  }

  async add(id: string): Promise<void> {
    await (await this.redis()).set(this.prefix + id, DONE, 'PX', this.ttlMs);
  }

  /** Closes the connection if the store opened it. */
  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client && this.owned) await (await client).quit();
  }

  private redis(): Promise<RedisClientLike> {
    this.client ??= this.options.client ? Promise.resolve(this.options.client) : connectRedis(this.options.url!);
    return this.client;
  }
}

type RedisConstructor = new (url: string, options: Record<string, unknown>) => RedisClientLike;

async function connectRedis(url: string): Promise<RedisClientLike> {
  const module = await importOptional<{ default?: RedisConstructor; Redis?: RedisConstructor }>(
    'ioredis',
    'RedisIdempotencyStore',
  );
  const Redis = module.Redis ?? module.default;
  if (!Redis) throw new Error('RedisIdempotencyStore: ioredis exports no Redis client');
  return new Redis(url, { maxRetriesPerRequest: 3 });
}
