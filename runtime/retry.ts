/** Bounded retries with exponential backoff and jitter. */
export interface RetryPolicy {
  /** Attempts in all, the first included. 1 = no retry. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
  /** 0..1: share of each delay drawn at random, so retries of many consumers spread out. */
  jitter: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  initialDelayMs: 200,
  maxDelayMs: 30_000,
  multiplier: 2,
  jitter: 0.2,
};

export function retryPolicy(overrides: Partial<RetryPolicy> | undefined): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...overrides };
  policy.maxAttempts = Math.max(1, Math.floor(policy.maxAttempts));
  return policy;
}

/** Delay before attempt `attempt + 1`, where `attempt` (1-based) just failed. */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const base = Math.min(
    policy.maxDelayMs,
    policy.initialDelayMs * Math.pow(policy.multiplier, Math.max(0, attempt - 1)),
  );
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(base - spread + Math.random() * 2 * spread));
}

/** Resolves after `ms`, or early (with false) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** How `retrying` treats failures: which are worth another attempt, and what the caller sees when it gives up. */
export interface RetryLoop {
  policy: RetryPolicy;
  retryable(error: unknown): boolean;
  /** The error thrown after the last attempt, or at once for one not retryable (default: the error itself). */
  failure?(error: unknown, attempts: number): unknown;
  /** Called before each wait (for a log line). */
  onRetry?(error: unknown, attempt: number, delayMs: number): void;
  /** Ends a wait early; `aborted()` is then thrown. */
  signal?: AbortSignal;
  aborted?(): unknown;
}

/** Runs `attempt` until it succeeds, fails with an error not `retryable`, or the policy's attempts are used up. */
export async function retrying<R>(attempt: (number: number) => Promise<R>, loop: RetryLoop): Promise<R> {
  for (let number = 1; ; number++) {
    try {
      return await attempt(number);
    } catch (error) {
      if (!loop.retryable(error) || number >= loop.policy.maxAttempts) throw loop.failure?.(error, number) ?? error;
      const delayMs = backoffDelay(loop.policy, number);
      loop.onRetry?.(error, number, delayMs);
      if (!(await sleep(delayMs, loop.signal))) throw loop.aborted?.() ?? error;
    }
  }
}
