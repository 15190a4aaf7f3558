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
 */
export class IdempotencyGate {
  constructor(
    private readonly store: IdempotencyStore,
    readonly leaseMs = DEFAULT_CLAIM_LEASE_MS,
  ) {}

  async begin(id: string): Promise<ClaimResult> {
    if (isClaimingStore(this.store)) return this.store.claim(id, this.leaseMs);
    return (await this.store.has(id)) ? 'done' : 'claimed';
  }

  async finish(id: string, handled: boolean): Promise<void> {
    if (isClaimingStore(this.store)) {
      await (handled ? this.store.commit(id) : this.store.release(id));
    } else if (handled) {
      await this.store.add(id);
    }
  }
}
