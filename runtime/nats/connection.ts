// The NATS connection of a client: opened from a list of servers (or given by the user), watched for
// disconnections (the library reconnects by itself), and released on close.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ClientClosedError, errorMessage } from '../errors.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import type { NatsClientOptions, TransportDefaults } from './options.js';

export class Connection {
  private constructor(
    readonly nats: NatsConnection,
    /** Opened by the client (so closed by it), rather than passed in by the user. */
    private readonly owned: boolean,
  ) {}

  /** The user's connection when given, else one to the listed servers (the document's by default). */
  static async open(options: NatsClientOptions, defaults: TransportDefaults): Promise<Connection> {
    if (options.connection) return new Connection(options.connection, false);
    const listed = options.servers ?? defaults.servers;
    const servers = Array.isArray(listed) ? listed : [listed];
    const connection = await connect({
      name: defaults.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      // The client's own errors name the operation and subject; the library's async stack capture (an Error
      // created per request, JetStream publishes included) costs more than it tells.
      noAsyncTraces: true,
      ...options.connectionOptions,
      ...(servers.length > 0 ? { servers } : {}),
    });
    return new Connection(connection, true);
  }

  /** Logs disconnections and reconnections until the client closes (the library reconnects by itself). */
  async watch(logger: Logger, lifecycle: Lifecycle): Promise<void> {
    try {
      for await (const status of this.nats.status()) {
        if (status.type === 'disconnect') logger.warn({ server: status.server }, 'NATS connection lost; reconnecting');
        else if (status.type === 'reconnect') logger.info({ server: status.server }, 'NATS connection restored');
        else if (status.type === 'error') logger.error({ err: errorMessage(status.error) }, 'NATS connection error');
        else if (status.type === 'slowConsumer')
          logger.warn({ sub: status.sub }, 'NATS slow consumer: events are being dropped');
        if (!lifecycle.isOpen) break;
      }
    } catch {
      // The connection closed.
    }
  }

  assertOpen(): void {
    if (this.nats.isClosed()) throw new ClientClosedError();
  }

  /** Drains the connection the client opened; only flushes one that was passed in. */
  async release(): Promise<void> {
    if (this.nats.isClosed()) return;
    if (this.owned) await this.nats.drain().catch(() => this.nats.close());
    else await this.nats.flush();
  }
}
