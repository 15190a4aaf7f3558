import { setMaxListeners } from 'node:events';
import { errorMessage } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { backoffDelay, sleep } from './retry.js';

/** How a client keeps its connection: backoff between attempts, and how long it keeps trying. */
export interface ReconnectPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
  /** 0..1: share of each delay drawn at random, so many clients do not reconnect in step. */
  jitter: number;
  /** Attempts (over all addresses) before the first connection is given up and the client factory rejects. */
  initialAttempts: number;
  /** Attempts after a lost connection before the client gives up for good; Infinity keeps trying. */
  maxAttempts: number;
}

export const DEFAULT_RECONNECT_POLICY: ReconnectPolicy = {
  initialDelayMs: 100,
  maxDelayMs: 5_000,
  multiplier: 2,
  jitter: 0.2,
  initialAttempts: 6,
  maxAttempts: Infinity,
};

/** What happens to a client's connection, for logs, metrics and health checks. */
export type ConnectionEvent =
  | { type: 'connected'; address: string; attempt: number }
  | { type: 'disconnected'; error: string }
  | { type: 'retrying'; address: string; attempt: number; delayMs: number; error: string }
  | { type: 'gave-up'; error: string };

/** What a broker client library gives the reconnect loop. */
export interface ConnectionDriver<C> {
  open(address: string): Promise<C>;
  /** Readies a new connection (channels, topology, consumers). A failure closes it and counts as a failed attempt. */
  setup(connection: C): Promise<void>;
  /** Calls `lost` once when the connection ends by itself (broker restart, network, missed heartbeats). */
  watch(connection: C, lost: (error: unknown) => void): void;
  close(connection: C): Promise<void>;
}

/** No connection (or channel) became available in time, or the client gave up reconnecting. */
export class ConnectionUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectionUnavailableError';
  }
}

/** Node fires longer timers at once; longer waits are capped here (about 24 days). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * A value that comes and goes, such as a connection or a channel: read it now, or wait for the next one.
 * Waiters are served in the order they started waiting.
 */
export class Slot<T> {
  private value: T | undefined;
  private readonly waiters = new Set<(value: T | undefined) => void>();

  get current(): T | undefined {
    return this.value;
  }

  set(value: T): void {
    this.value = value;
    for (const wake of [...this.waiters]) wake(value);
  }

  clear(): void {
    this.value = undefined;
  }

  /** Resolves with the value, or undefined when `timeoutMs` passes or the signal aborts first. */
  next(timeoutMs: number, signal?: AbortSignal): Promise<T | undefined> {
    if (this.value !== undefined) return Promise.resolve(this.value);
    if (signal?.aborted || timeoutMs <= 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const finish = (value: T | undefined) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiters.delete(finish);
        resolve(value);
      };
      const onAbort = () => finish(undefined);
      const timer = setTimeout(() => finish(undefined), Math.min(timeoutMs, MAX_TIMER_MS));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(finish);
    });
  }

  /** Ends every wait at once (with undefined): used when the owner closes. */
  release(): void {
    for (const wake of [...this.waiters]) wake(undefined);
  }
}

/**
 * Keeps one connection to any of several broker addresses. The first connection is attempted
 * `initialAttempts` times; after a loss the loop starts again (up to `maxAttempts`). Addresses are tried
 * in turn, without waiting between addresses of one round and with exponential backoff between rounds,
 * so a cluster node that is down costs no time while a broker that is down is not hammered. After a
 * loss the round starts at the address after the lost one: a node that stopped answering (paused, cut
 * off) may still accept connections it never serves, and would hold the first attempt until it times out.
 */
export class Reconnector<C> {
  private readonly slot = new Slot<C>();
  private readonly policy: ReconnectPolicy;
  private readonly stopping = new AbortController();
  private failure: Error | undefined;
  /** Index of the address a round starts at: the one after the address of the last connection. */
  private firstAddress = 0;

  constructor(
    private readonly addresses: readonly string[],
    private readonly driver: ConnectionDriver<C>,
    policy: Partial<ReconnectPolicy> = {},
    private readonly logger: Logger = silentLogger,
    private readonly onEvent: (event: ConnectionEvent) => void = () => undefined,
  ) {
    if (addresses.length === 0) throw new TypeError('at least one broker address is needed');
    this.policy = { ...DEFAULT_RECONNECT_POLICY, ...policy };
    // Everything waiting for a connection listens to this signal: many listeners are expected, not a leak.
    setMaxListeners(0, this.stopping.signal);
  }

  /** Connects for the first time; rejects with the last error once `initialAttempts` failed. */
  async start(): Promise<C> {
    const connection = await this.connect(this.policy.initialAttempts);
    if (!connection) throw new ConnectionUnavailableError('the client was closed while connecting');
    return connection;
  }

  /** The live connection, if any. */
  get connection(): C | undefined {
    return this.slot.current;
  }

  get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** The live connection, or the next one; rejects after `timeoutMs`, or when the client closed or gave up. */
  async next(timeoutMs: number, signal?: AbortSignal): Promise<C> {
    const connection = await this.slot.next(timeoutMs, signal ?? this.stopping.signal);
    if (connection !== undefined) return connection;
    if (this.failure)
      throw new ConnectionUnavailableError(`gave up reconnecting: ${this.failure.message}`, { cause: this.failure });
    if (this.stopped || signal?.aborted) throw new ConnectionUnavailableError('the client is closed');
    throw new ConnectionUnavailableError(`no connection to the broker within ${timeoutMs} ms`);
  }

  /** Stops reconnecting and closes the live connection. */
  async close(): Promise<void> {
    this.stopping.abort();
    this.slot.release();
    const connection = this.slot.current;
    this.slot.clear();
    if (connection !== undefined) await this.driver.close(connection).catch(() => undefined);
  }

  private async connect(maxAttempts: number): Promise<C | undefined> {
    let lastError: unknown = new ConnectionUnavailableError('reconnecting is turned off (no attempt allowed)');
    for (let attempt = 1; attempt <= maxAttempts && !this.stopped; attempt++) {
      const index = (this.firstAddress + attempt - 1) % this.addresses.length;
      const address = this.addresses[index]!;
      try {
        const connection = await this.openAndSetUp(address);
        if (this.stopped) {
          await this.driver.close(connection).catch(() => undefined);
          return undefined;
        }
        this.firstAddress = (index + 1) % this.addresses.length;
        this.adopt(connection, address, attempt);
        return connection;
      } catch (error) {
        lastError = error;
        if (attempt >= maxAttempts) break;
        const delayMs = this.delayAfter(attempt);
        this.onEvent({ type: 'retrying', address: redact(address), attempt, delayMs, error: errorMessage(error) });
        this.logger.warn(
          { address: redact(address), attempt, delayMs, err: errorMessage(error) },
          'connection attempt failed',
        );
        if (!(await sleep(delayMs, this.stopping.signal))) return undefined;
      }
    }
    if (this.stopped) return undefined;
    throw lastError;
  }

  private async openAndSetUp(address: string): Promise<C> {
    const connection = await this.driver.open(address);
    try {
      await this.driver.setup(connection);
      return connection;
    } catch (error) {
      await this.driver.close(connection).catch(() => undefined);
      throw error;
    }
  }

  /** No wait before the next address of a round; backoff once every address of the round failed. */
  private delayAfter(attempt: number): number {
    if (attempt % this.addresses.length !== 0) return 0;
    return backoffDelay(this.policy, attempt / this.addresses.length);
  }

  private adopt(connection: C, address: string, attempt: number): void {
    this.driver.watch(connection, (error) => this.lost(connection, error));
    this.slot.set(connection);
    this.onEvent({ type: 'connected', address: redact(address), attempt });
    this.logger.info({ address: redact(address), attempt }, 'connected');
  }

  private lost(connection: C, error: unknown): void {
    if (this.slot.current !== connection || this.stopped) return;
    this.slot.clear();
    this.onEvent({ type: 'disconnected', error: errorMessage(error) });
    this.logger.warn({ err: errorMessage(error) }, 'connection lost; reconnecting');
    this.connect(this.policy.maxAttempts).catch((failure: unknown) => this.giveUp(failure));
  }

  private giveUp(error: unknown): void {
    this.failure = error instanceof Error ? error : new Error(errorMessage(error));
    this.stopping.abort();
    this.slot.release();
    this.onEvent({ type: 'gave-up', error: this.failure.message });
    this.logger.error({ err: this.failure.message }, 'gave up reconnecting');
  }
}

/** An address without its password, for logs. */
export function redact(address: string): string {
  return address.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}
