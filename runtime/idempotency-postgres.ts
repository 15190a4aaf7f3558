import { randomUUID } from 'node:crypto';
import type { ClaimResult, ClaimingIdempotencyStore } from './idempotency.js';
import { importOptional } from './optional-module.js';

/** What is used of a `pg` Pool or Client: pass your own, or a connection string. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export interface PostgresIdempotencyStoreOptions {
  /** A `pg` Pool (or Client) the application owns; `close()` leaves it open. Or … */
  pool?: PgQueryable;
  /** … a connection string: `pg` is then imported (install it) and the pool ended by `close()`. */
  connectionString?: string;
  /** Table (optionally `schema.table`), created if missing. Default `codegen_idempotency`. */
  table?: string;
  /** How long a handled id is remembered. Default 24 h. */
  ttlMs?: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Idempotency store in PostgreSQL, shared by every consumer process: one row per event id, `claimed` by
 * an owner token until `expires_at` (the lease), or `done` until `expires_at` (the TTL). Time is the
 * database's `now()`, so the consumers' clocks do not matter. Expired rows are reused by the next claim
 * and purged now and then.
 */
export class PostgresIdempotencyStore implements ClaimingIdempotencyStore {
  private ready: Promise<PgQueryable> | undefined;
  private pool: PgQueryable | undefined;
  private readonly table: string;
  private readonly ttlMs: number;
  private readonly tokens = new Map<string, string>();
  private commits = 0;

  constructor(private readonly options: PostgresIdempotencyStoreOptions) {
    if (!options.pool && !options.connectionString) {
      throw new TypeError('PostgresIdempotencyStore needs a pool or a connectionString');
    }
    this.table = quoteTable(options.table ?? 'codegen_idempotency');
    this.ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
  }

  async claim(id: string, leaseMs: number): Promise<ClaimResult> {
    const token = randomUUID();
    const db = await this.db();
    // Inserts the claim, or takes over a row whose lease or TTL has run out; a live row is left alone.
    const taken = await db.query(
      `INSERT INTO ${this.table} AS t (id, state, owner, expires_at)
       VALUES ($1, 'claimed', $2, now() + $3 * interval '1 millisecond')
       ON CONFLICT (id) DO UPDATE SET state = 'claimed', owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
       WHERE t.expires_at <= now()
       RETURNING owner`,
      [id, token, Math.max(1, Math.ceil(leaseMs))],
    );
    if (taken.rows.length > 0) {
      this.tokens.set(id, token);
      return 'claimed';
    }
    const live = await db.query(`SELECT state FROM ${this.table} WHERE id = $1 AND expires_at > now()`, [id]);
    // Gone between the two statements (expired just now): the next delivery claims it.
    return live.rows[0]?.state === 'done' ? 'done' : 'busy';
  }

  async commit(id: string): Promise<void> {
    this.tokens.delete(id);
    await this.add(id);
    if (++this.commits % 1000 === 0) await this.purge();
  }

  async release(id: string): Promise<void> {
    const token = this.tokens.get(id);
    this.tokens.delete(id);
    if (token === undefined) return;
    await (
      await this.db()
    ).query(`DELETE FROM ${this.table} WHERE id = $1 AND state = 'claimed' AND owner = $2`, [id, token]);
  }

  async has(id: string): Promise<boolean> {
    const db = await this.db();
    const rows = await db.query(`SELECT 1 FROM ${this.table} WHERE id = $1 AND state = 'done' AND expires_at > now()`, [
      id,
    ]);
    return rows.rows.length > 0;
  }

  async add(id: string): Promise<void> {
    await (
      await this.db()
    ).query(
      `INSERT INTO ${this.table} (id, state, owner, expires_at) VALUES ($1, 'done', NULL, now() + $2 * interval '1 millisecond')
       ON CONFLICT (id) DO UPDATE SET state = 'done', owner = NULL, expires_at = EXCLUDED.expires_at`,
      [id, this.ttlMs],
    );
  }

  /** Deletes expired rows (also done every 1,000 commits). */
  async purge(): Promise<void> {
    await (await this.db()).query(`DELETE FROM ${this.table} WHERE expires_at <= now()`);
  }

  /** Ends the pool if the store created it. */
  async close(): Promise<void> {
    const pool = this.pool;
    this.ready = undefined;
    this.pool = undefined;
    if (pool && !this.options.pool) await (pool as PgQueryable & { end(): Promise<void> }).end();
  }

  private db(): Promise<PgQueryable> {
    this.ready ??= this.open().catch((error: unknown) => {
      this.ready = undefined; // the next call tries again
      throw error;
    });
    return this.ready;
  }

  private async open(): Promise<PgQueryable> {
    this.pool ??= this.options.pool ?? (await createPool(this.options.connectionString!));
    await this.pool.query(
      `CREATE TABLE IF NOT EXISTS ${this.table} (
         id text PRIMARY KEY,
         state text NOT NULL,
         owner text,
         expires_at timestamptz NOT NULL
       )`,
    );
    return this.pool;
  }
}

/** `name` or `schema.name`, each part a plain identifier, double-quoted: never SQL from outside. */
function quoteTable(table: string): string {
  const parts = table.split('.');
  if (parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw new TypeError(`PostgresIdempotencyStore: table ${JSON.stringify(table)} is not [schema.]identifier`);
  }
  return parts.map((part) => `"${part}"`).join('.');
}

type PoolConstructor = new (config: { connectionString: string; max?: number }) => PgQueryable;

async function createPool(connectionString: string): Promise<PgQueryable> {
  type PgModule = { Pool?: PoolConstructor; default?: { Pool?: PoolConstructor } };
  const module = await importOptional<PgModule>('pg', 'PostgresIdempotencyStore');
  const Pool = module.Pool ?? module.default?.Pool;
  if (!Pool) throw new Error('PostgresIdempotencyStore: pg exports no Pool');
  return new Pool({ connectionString, max: 4 });
}
