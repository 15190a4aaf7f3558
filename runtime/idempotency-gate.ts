import type { ClaimResult, ClaimingIdempotencyStore, IdempotencyStore } from './idempotency.js';

export function isClaimingStore(store: IdempotencyStore): store is ClaimingIdempotencyStore {
  const candidate = store as Partial<ClaimingIdempotencyStore>;
  return typeof candidate.claim === 'function' && typeof candidate.commit === 'function';
}

/** How long a claim holds by default: longer than a handler with its in-process retries usually runs. */
export const DEFAULT_CLAIM_LEASE_MS = 60_000;

/**
 * The consumer pipeline's view of any store: `begin` before the handler, `finish` after. A plain store
 * (has/add) is asked whether the id is done; a claiming store is claimed, then committed or released.
 * A store that answers synchronously (the in-memory default) is answered synchronously: no promise per event.
 */
export class IdempotencyGate {
  private readonly claiming: ClaimingIdempotencyStore | undefined;

  constructor(
    private readonly store: IdempotencyStore,
    readonly leaseMs = DEFAULT_CLAIM_LEASE_MS,
  ) {
    this.claiming = isClaimingStore(store) ? store : undefined;
  }

  begin(id: string): ClaimResult | Promise<ClaimResult> {
    if (this.claiming) return this.claiming.claim(id, this.leaseMs);
    const done = this.store.has(id);
    if (isPromiseLike(done)) return Promise.resolve(done).then((found) => (found ? 'done' : 'claimed'));
    return done ? 'done' : 'claimed';
  }

  finish(id: string, handled: boolean): void | Promise<void> {
    if (this.claiming) return handled ? this.claiming.commit(id) : this.claiming.release(id);
    if (handled) return this.store.add(id);
  }
}

export function isPromiseLike<V>(value: V | PromiseLike<V>): value is PromiseLike<V> {
  return typeof (value as Partial<PromiseLike<V>> | null | undefined)?.then === 'function';
}
