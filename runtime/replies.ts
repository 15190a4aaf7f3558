import { ReplyTimeoutError } from './errors.js';

interface Waiter<R> {
  resolve(reply: R): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Requests waiting for their reply, by correlation id. Each request ends exactly once: with its reply,
 * an error, or a ReplyTimeoutError; the map never keeps an entry after that, so it cannot grow without bound.
 */
export class PendingReplies<R> {
  private readonly waiting = new Map<string, Waiter<R>>();

  /** Registers a request before it is sent, so that even an immediate reply finds it. */
  wait(correlationId: string, operation: string, timeoutMs: number): Promise<R> {
    if (this.waiting.has(correlationId))
      return Promise.reject(new Error(`a request with correlation id ${correlationId} is already waiting`));
    return new Promise<R>((resolve, reject) => {
      // Node fires timers longer than 2^31 - 1 ms at once: cap them.
      const timer = setTimeout(
        () => this.reject(correlationId, new ReplyTimeoutError(operation, timeoutMs)),
        Math.min(timeoutMs, 2_147_483_647),
      );
      this.waiting.set(correlationId, { resolve, reject, timer });
    });
  }

  /** Hands a reply to its request; false when nobody waits for it (a late, duplicate or foreign reply). */
  resolve(correlationId: string, reply: R): boolean {
    const waiter = this.take(correlationId);
    waiter?.resolve(reply);
    return waiter !== undefined;
  }

  reject(correlationId: string, error: unknown): boolean {
    const waiter = this.take(correlationId);
    waiter?.reject(error);
    return waiter !== undefined;
  }

  /** Fails every waiting request, e.g. when the connection that would carry the replies is gone. */
  rejectAll(error: unknown): void {
    for (const correlationId of [...this.waiting.keys()]) this.reject(correlationId, error);
  }

  get size(): number {
    return this.waiting.size;
  }

  private take(correlationId: string): Waiter<R> | undefined {
    const waiter = this.waiting.get(correlationId);
    if (waiter === undefined) return undefined;
    clearTimeout(waiter.timer);
    this.waiting.delete(correlationId);
    return waiter;
  }
}
