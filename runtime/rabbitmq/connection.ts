// The client's one AMQP connection: opened on any of several brokers, watched, reopened (with backoff) when
// it drops, readied by the client before use, and closed.
import { connect, type ChannelModel } from 'amqplib';
import type { Logger } from '../logger.js';
import { Reconnector } from '../reconnect.js';
import type { ClientOptions, Settings } from './options.js';

/** What the client does around its connection. */
export interface ConnectionHooks {
  /** Readies a new connection before anything uses it (topology, publisher channel, consumers). */
  setUp(connection: ChannelModel): Promise<void>;
  /** No connection will come back: the reconnect attempts are used up. */
  gaveUp(error: string): void;
}

export class RabbitConnection {
  private readonly reconnector: Reconnector<ChannelModel>;

  constructor(options: ClientOptions, settings: Settings, defaultUrls: readonly string[], hooks: ConnectionHooks) {
    const given = options.connection;
    const heartbeat = heartbeatSecondsOf(options);
    const urls = given ? ['(the connection given to the client)'] : (options.urls ?? defaultUrls);
    const connectionName = options.connectionName ?? settings.serviceName;
    const { logger } = settings;
    this.reconnector = new Reconnector<ChannelModel>(
      urls,
      {
        // A given connection is used once: with `maxAttempts: 0` below, its loss is final.
        open: async (url) =>
          given ??
          connect(withHeartbeat(url, heartbeat), {
            timeout: OPEN_TIMEOUT_MS,
            ...options.socketOptions,
            clientProperties: { connection_name: connectionName },
          }),
        setup: (connection) => hooks.setUp(connection),
        watch: (connection, lost) => watchConnection(connection, lost, logger),
        // A connection the application gave us is the application's to close.
        close: async (connection) => {
          if (connection !== given) await connection.close();
        },
      },
      given ? { ...options.reconnect, maxAttempts: 0 } : options.reconnect,
      logger,
      (event) => {
        if (event.type === 'gave-up') hooks.gaveUp(event.error);
        options.onConnectionEvent?.(event);
      },
    );
  }

  /** Connects (trying each URL, with backoff) and readies the connection; rejects when no attempt succeeds. */
  async start(): Promise<void> {
    await this.reconnector.start();
  }

  /** The live connection, or the next one; rejects after `timeoutMs`, or when the client closed or gave up. */
  next(timeoutMs: number, signal: AbortSignal): Promise<ChannelModel> {
    return this.reconnector.next(timeoutMs, signal);
  }

  /** True while `connection` is the live one (not lost, not replaced). */
  isLive(connection: ChannelModel): boolean {
    return this.reconnector.connection === connection;
  }

  /** Stops reconnecting and closes the live connection. */
  close(): Promise<void> {
    return this.reconnector.close();
  }
}

/**
 * Without a heartbeat of its own the client takes the server's (RabbitMQ: 60 s), and a node that stops
 * answering without closing its sockets (paused, cut off by the network) is noticed only after two of them.
 */
const DEFAULT_HEARTBEAT_SECONDS = 10;

/**
 * How long opening a connection may go without an answer (amqplib's socket `timeout`, until the AMQP
 * handshake is done): a paused node's kernel still accepts the TCP connection, and without a limit the
 * handshake would wait for the node to come back instead of trying the next URL.
 */
const OPEN_TIMEOUT_MS = 10_000;

/** The `heartbeatSeconds` option or its default; refused (TypeError) unless a whole number from 0. */
function heartbeatSecondsOf(options: ClientOptions): number {
  const seconds = options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS;
  if (!Number.isInteger(seconds) || seconds < 0)
    throw new TypeError(`rabbitmq client: \`heartbeatSeconds\` must be a whole number from 0, got ${String(seconds)}`);
  return seconds;
}

/** The URL asking for `seconds` of heartbeat, unless it asks for its own. */
export function withHeartbeat(url: string, seconds: number): string {
  if (/[?&]heartbeat=/.test(url)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}heartbeat=${seconds}`;
}

function watchConnection(connection: ChannelModel, lost: (error: unknown) => void, logger: Logger): void {
  // amqplib emits 'error' before 'close' on a failed connection; without a listener it would throw.
  connection.on('error', (error: Error) => logger.warn({ err: error.message }, 'connection error'));
  connection.on('close', (error?: Error) => lost(error ?? new Error('connection closed')));
  connection.on('blocked', (reason: string) =>
    logger.warn({ reason }, 'RabbitMQ blocked the connection (resource alarm); publishes wait'),
  );
  connection.on('unblocked', () => logger.info({}, 'RabbitMQ unblocked the connection'));
}
