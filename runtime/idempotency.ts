import { randomFillSync } from 'node:crypto';

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

/**
 * In-memory LRU with a TTL. Bounded: memory stays flat under any load.
 *
 * Built for the consumer's hot path (a look-up and an insert per event, with the window full: an eviction
 * too). A Map of 100,000 ids costs 0.4–0.6 µs for that on a busy machine, nearly all of it cache misses:
 * each probe reads the key strings it passes. Here the ids sit in a ring, in the order they were last
 * added, with their expiry times and hashes in typed arrays beside them; an open-addressing table of
 * (hash, ring slot) pairs finds them, so a probe reads an id string only when its hash matches.
 * The oldest entry is always at the ring's tail, and with one TTL for every id it is also the first to
 * expire, so eviction and expiry only ever advance the tail. An id added again moves to the head (its old
 * slot is left empty and skipped when the tail reaches it). The hash is keyed per store (HalfSipHash), so
 * ids chosen by a sender cannot be made to collide.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  /** Slots the ring may grow to: a quarter more than maxEntries, so empty slots rarely force a compaction. */
  private readonly maxCapacity: number;
  private readonly key = randomKey();
  private ids: Array<string | undefined>;
  private expires: Float64Array;
  private hashes: Int32Array;
  /** Linear probing over twice the ring's slots: per position an id's hash, then its ring slot + 1 (0: free). */
  private table: Int32Array;
  /** Ring position of the oldest slot, and slots in use from there (ids and empty slots). */
  private tail = 0;
  private used = 0;
  private live = 0;
  /** Entries in the table, those of forgotten ids included. */
  private indexed = 0;
  private lastId = '';
  private lastHash = halfSipHash('', this.key);

  constructor(options: MemoryStoreOptions = {}) {
    this.maxEntries = Math.floor(options.maxEntries ?? 100_000);
    this.ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
    this.maxCapacity = powerOfTwoAtLeast(Math.max(1, this.maxEntries + Math.ceil(this.maxEntries / 4)));
    // Grown on demand: a consumer that sees few events never allocates the whole window.
    const capacity = Math.min(this.maxCapacity, 1024);
    this.ids = new Array<string | undefined>(capacity).fill(undefined);
    this.expires = new Float64Array(capacity);
    this.hashes = new Int32Array(capacity);
    this.table = new Int32Array(capacity * 4);
  }

  has(id: string): boolean {
    const slot = this.find(id, this.hashOf(id));
    if (slot < 0) return false;
    if (this.expires[slot]! < Date.now()) {
      this.forget(slot);
      return false;
    }
    return true;
  }

  add(id: string): void {
    if (this.maxEntries <= 0) return;
    const now = Date.now();
    const hash = this.hashOf(id);
    const previous = this.find(id, hash);
    // Remembered already: moved last, as the most recently used.
    if (previous >= 0) this.forget(previous);
    this.dropOldest(now);
    if (this.used === this.ids.length) this.resize();
    const slot = (this.tail + this.used) & (this.ids.length - 1);
    this.ids[slot] = id;
    this.expires[slot] = now + this.ttlMs;
    this.hashes[slot] = hash;
    this.index(hash, slot);
    this.used++;
    this.live++;
  }

  get size(): number {
    return this.live;
  }

  /** The consumer asks `has` and then, once handled, `add` for the same id: its hash is worked out once. */
  private hashOf(id: string): number {
    if (id !== this.lastId) {
      this.lastId = id;
      this.lastHash = halfSipHash(id, this.key);
    }
    return this.lastHash;
  }

  /** The ring slot holding `id`, or -1. */
  private find(id: string, hash: number): number {
    const table = this.table;
    const mask = (table.length >> 1) - 1;
    for (let position = hash & mask; ; position = (position + 1) & mask) {
      const slot = table[2 * position + 1]! - 1;
      if (slot < 0) return -1;
      if (table[2 * position] === hash && this.ids[slot] === id) return slot;
    }
  }

  private index(hash: number, slot: number): void {
    // Forgotten ids keep their entries (a probe skips them: their slot holds another id, or none); once
    // those and the live ones fill 5/8 of the table, it is rebuilt from the ring. Cheaper than taking each
    // evicted entry out: that costs a cache miss per event, a rebuild a sequential pass per tens of thousands.
    if (this.indexed >= (this.table.length >> 4) * 5) this.reindex();
    this.place(hash, slot);
  }

  private place(hash: number, slot: number): void {
    const table = this.table;
    const mask = (table.length >> 1) - 1;
    let position = hash & mask;
    while (table[2 * position + 1] !== 0) position = (position + 1) & mask;
    table[2 * position] = hash;
    table[2 * position + 1] = slot + 1;
    this.indexed++;
  }

  private reindex(): void {
    this.table.fill(0);
    this.indexed = 0;
    const mask = this.ids.length - 1;
    for (let i = 0; i < this.used; i++) {
      const slot = (this.tail + i) & mask;
      if (this.ids[slot] !== undefined) this.place(this.hashes[slot]!, slot);
    }
  }

  /** Advances the tail past empty slots, expired ids, and the oldest id while the store is full. */
  private dropOldest(now: number): void {
    const mask = this.ids.length - 1;
    while (this.used > 0) {
      if (this.ids[this.tail] !== undefined) {
        if (this.live < this.maxEntries && this.expires[this.tail]! >= now) return;
        this.forget(this.tail);
      }
      this.tail = (this.tail + 1) & mask;
      this.used--;
    }
  }

  private forget(slot: number): void {
    this.ids[slot] = undefined;
    this.live--;
  }

  /** The ring is full (ids and empty slots): doubled while below its maximum, else compacted. */
  private resize(): void {
    const capacity = Math.min(this.maxCapacity, this.ids.length * 2);
    const old = { ids: this.ids, expires: this.expires, hashes: this.hashes, mask: this.ids.length - 1 };
    this.ids = new Array<string | undefined>(capacity).fill(undefined);
    this.expires = new Float64Array(capacity);
    this.hashes = new Int32Array(capacity);
    this.table = new Int32Array(capacity * 4);
    this.indexed = 0;
    let next = 0;
    for (let i = 0; i < this.used; i++) {
      const from = (this.tail + i) & old.mask;
      const id = old.ids[from];
      if (id === undefined) continue;
      this.ids[next] = id;
      this.expires[next] = old.expires[from]!;
      this.hashes[next] = old.hashes[from]!;
      this.place(old.hashes[from]!, next++);
    }
    this.tail = 0;
    this.used = next;
  }
}

function powerOfTwoAtLeast(n: number): number {
  let power = 1;
  while (power < n) power *= 2;
  return power;
}

function randomKey(): Int32Array {
  return randomFillSync(new Int32Array(2));
}

/**
 * HalfSipHash-1-3 of a string's UTF-16 code units, two to a word: a keyed hash, so without the key
 * nobody can choose ids that collide (hash flooding). 32 bits; the table's positions are the low ones.
 * One loop runs the compression round of every word, then the three finalization rounds; the state is in
 * local variables (kept as raw 32-bit integers: no allocation).
 */
function halfSipHash(text: string, key: Int32Array): number {
  let v0 = key[0]!;
  let v1 = key[1]!;
  let v2 = 0x6c796765 ^ v0;
  let v3 = 0x74656462 ^ v1;
  const length = text.length;
  const words = (length >> 1) + 1;
  for (let round = 0; round < words + 3; round++) {
    let word = 0;
    // The last word carries the length and the odd code unit, if any.
    if (round < words - 1) word = text.charCodeAt(2 * round) | (text.charCodeAt(2 * round + 1) << 16);
    else if (round === words - 1) word = (length << 16) | (length & 1 ? text.charCodeAt(length - 1) : 0);
    else if (round === words) v2 ^= 0xff;
    v3 ^= word;
    v0 = (v0 + v1) | 0;
    v1 = ((v1 << 5) | (v1 >>> 27)) ^ v0;
    v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0;
    v3 = ((v3 << 8) | (v3 >>> 24)) ^ v2;
    v0 = (v0 + v3) | 0;
    v3 = ((v3 << 7) | (v3 >>> 25)) ^ v0;
    v2 = (v2 + v1) | 0;
    v1 = ((v1 << 13) | (v1 >>> 19)) ^ v2;
    v2 = (v2 << 16) | (v2 >>> 16);
    v0 ^= word;
  }
  return v1 ^ v3;
}
