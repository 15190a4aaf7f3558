/**
 * Remembers which event ids were processed, so a redelivered or replayed event runs its handler once.
 * Implement it over Redis, a database table, ... to share it between processes; the default lives in memory.
 */
export interface IdempotencyStore {
  /** True when the id was already processed. */
  has(id: string): boolean | Promise<boolean>;
  /** Records a processed id. */
  add(id: string): void | Promise<void>;
}

/** What a claim found: free (now held by the caller), handled already, or held by another consumer. */
export type ClaimResult = 'claimed' | 'done' | 'busy';

/**
 * A store shared between consumer processes, with a claim/commit protocol (docs/idempotency.md): the id is
 * claimed for `leaseMs` before the handler runs, committed (remembered as handled, for the store's TTL) after
 * it succeeded, released when it failed. A consumer that dies mid-handler holds its claim only until the lease
 * runs out, so the redelivered event is handled again, not skipped as a duplicate.
 */
export interface ClaimingIdempotencyStore extends IdempotencyStore {
  /** Claims `id` for `leaseMs` unless it is done or claimed by someone else (a claim past its lease is free). */
  claim(id: string, leaseMs: number): Promise<ClaimResult>;
  /** Marks a claimed id handled. */
  commit(id: string): Promise<void>;
  /** Gives a claimed id back, so that the next delivery handles it. */
  release(id: string): Promise<void>;
}

export interface MemoryStoreOptions {
  /** Most ids remembered; the least recently used go first. */
  maxEntries?: number;
  /** How long an id is remembered. */
  ttlMs?: number;
}

/** In-memory LRU with a TTL. Bounded: memory stays flat under any load. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
  }

  has(id: string): boolean {
    const expires = this.entries.get(id);
    if (expires === undefined) return false;
    if (expires < Date.now()) {
      this.entries.delete(id);
      return false;
    }
    return true;
  }

  add(id: string): void {
    const size = this.entries.size;
    const expires = Date.now() + this.ttlMs;
    this.entries.set(id, expires);
    // A new id costs one look-up (it goes last); one remembered already is moved last, as most recently used.
    if (this.entries.size === size) {
      this.entries.delete(id);
      this.entries.set(id, expires);
      return;
    }
    // Evicting a tenth at a time keeps each call cheap: one-by-one eviction of a full Map degrades to
    // hundreds of microseconds per call on a long-running consumer.
    if (this.entries.size > this.maxEntries) {
      let excess = this.entries.size - Math.floor(this.maxEntries * 0.9);
      for (const key of this.entries.keys()) {
        if (excess-- <= 0) break;
        this.entries.delete(key);
      }
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
