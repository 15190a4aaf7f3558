import { setMaxListeners } from 'node:events';
import { ClientClosedError, errorMessage } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { sleep } from './retry.js';

export type LifecycleState = 'open' | 'closing' | 'closed';

/**
 * The open → closing → closed life of a client. `close()` runs its shutdown once (later calls share the
 * same promise), and every public call checks `assertOpen()` so work never starts on a closing client.
 */
export class Lifecycle {
  private state: LifecycleState = 'open';
  private closing: Promise<void> | undefined;
  private readonly controller = new AbortController();

  constructor() {
    // Every waiting publish and retry listens to this one signal: many listeners are expected, not a leak.
    setMaxListeners(0, this.controller.signal);
  }

  /** Aborted as soon as closing starts: retry waits end early, long waits give up. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get current(): LifecycleState {
    return this.state;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  assertOpen(): void {
    if (this.state !== 'open') throw new ClientClosedError();
  }

  close(shutdown: () => Promise<void>): Promise<void> {
    if (this.closing) return this.closing;
    this.state = 'closing';
    this.controller.abort();
    this.closing = shutdown().finally(() => {
      this.state = 'closed';
    });
    return this.closing;
  }
}

/** The steps of a graceful shutdown, the same on every broker. */
export interface ShutdownSteps {
  /** Stop taking new messages (cancel consumers, pause fetching). */
  stopIntake(): Promise<void>;
  /** Resolves when every handler in progress has settled. */
  drain(): Promise<void>;
  /** Longest wait for handlers in progress; events still in progress after it are redelivered later. */
  timeoutMs: number;
  /** Close channels, producers and the connection. */
  release(): Promise<void>;
  logger?: Logger;
}

/**
 * Stops taking messages, waits (bounded) for the handlers in progress so their events are acknowledged,
 * then releases the connection. Resolves with whether every handler finished in time. Never rejects:
 * a failing step is logged and the next one still runs, so `close()` always closes.
 */
export async function shutdownGracefully(steps: ShutdownSteps): Promise<{ drained: boolean }> {
  const logger = steps.logger ?? silentLogger;
  await steps
    .stopIntake()
    .catch((error: unknown) => logger.warn({ err: errorMessage(error) }, 'stopping consumers failed'));
  // The timer is cancelled once the race is decided, so it never holds the process open after close().
  const deadline = new AbortController();
  const drained = await Promise.race([
    steps.drain().then(() => true),
    sleep(steps.timeoutMs, deadline.signal).then(() => false),
  ]);
  deadline.abort();
  if (!drained)
    logger.warn({ timeoutMs: steps.timeoutMs }, 'handlers still running at close; their events will be redelivered');
  await steps
    .release()
    .catch((error: unknown) => logger.warn({ err: errorMessage(error) }, 'closing the connection failed'));
  return { drained };
}
