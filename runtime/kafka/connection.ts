// Connecting to a Kafka cluster: the kafkajs instance over a list of brokers, the clients made from it
// that connect on first use (and again after losing their connection), which errors are worth another
// try, and closing it all.
import { Kafka, logLevel, type Admin, type LogEntry } from 'kafkajs';
import type { Logger } from '../logger.js';
import type { KafkaTransportOptions } from './options.js';

export type ConnectionOptions = Pick<KafkaTransportOptions, 'kafka' | 'brokers' | 'clientId' | 'client' | 'logger'>;

/** A kafkajs client that has a connection: a producer, a consumer, the admin client. */
interface Connectable {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * The kafkajs instance (over the given brokers, or the caller's own instance) and the clients made from
 * it that connect on first use: the producers and the admin client. close() disconnects them all.
 */
export class KafkaConnection {
  readonly kafka: Kafka;
  private readonly clients: Array<LazyClient<Connectable>> = [];
  private readonly adminClient: LazyClient<Admin>;

  constructor(options: ConnectionOptions) {
    if (!options.kafka && options.brokers.length === 0)
      throw new TypeError(
        'kafka client: give `brokers` (the document names no kafka server) or an existing `kafka` instance',
      );
    this.kafka =
      options.kafka ??
      new Kafka({
        logLevel: logLevel.INFO,
        logCreator: logCreator(options.logger),
        ...options.client,
        clientId: options.clientId,
        brokers: [...options.brokers],
      });
    this.adminClient = this.lazy(() => this.kafka.admin());
  }

  /** A client connected on first use; close() disconnects it. */
  lazy<C extends Connectable>(create: () => C): LazyClient<C> {
    const client = new LazyClient(create);
    this.clients.push(client);
    return client;
  }

  /** The admin client (topic metadata and creation), connected on first use. */
  admin(): Promise<Admin> {
    return this.adminClient.get();
  }

  /** Disconnects every client made through lazy(); never rejects. */
  async close(): Promise<void> {
    await Promise.allSettled(this.clients.map((client) => client.disconnect()));
  }
}

/** A client connected on first use and, after reset(), connected again on the next use. */
export class LazyClient<C extends Connectable> {
  private connecting: Promise<C> | undefined;
  private client: C | undefined;

  constructor(private readonly create: () => C) {}

  get(): Promise<C> {
    this.connecting ??= (async () => {
      const client = (this.client ??= this.create());
      try {
        await client.connect();
      } catch (error) {
        this.connecting = undefined;
        throw error;
      }
      return client;
    })();
    return this.connecting;
  }

  /** The next get() connects again (after the client lost its connection). */
  reset(): void {
    this.connecting = undefined;
  }

  async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.connecting = undefined;
    if (client) await client.disconnect();
  }
}

const RETRIABLE = new Set([
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSLockTimeout',
  'KafkaJSStaleTopicMetadataAssignment',
]);

/** Errors worth another try: brokers down or moving, leaders changing, timeouts. */
export function isRetriable(error: unknown): boolean {
  for (
    let e: unknown = error, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const { name, retriable } = e as { name?: unknown; retriable?: unknown };
    if (retriable === true || (typeof name === 'string' && RETRIABLE.has(name))) return true;
  }
  return false;
}

/** kafkajs log lines into the client's logger (silent by default). */
function logCreator(logger: Logger) {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
      const entry = { ...fields, kafkajs: namespace };
      if (level === logLevel.ERROR) logger.error(entry, message);
      else if (level === logLevel.WARN) logger.warn(entry, message);
      else if (level === logLevel.INFO) logger.info(entry, message);
      else logger.debug(entry, message);
    };
}
