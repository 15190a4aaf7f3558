// One MQTT connection (an MQTT.js client): opened to a list of brokers with a client id and session
// settings, watched (the library reconnects by itself, trying the brokers in turn), and closed with a
// DISCONNECT, so the broker keeps the session and publishes no last will. The client holds one for
// publishing and replies, and each consumer one of its own: a consumer acknowledges an event only after
// its handler, and MQTT.js reads nothing else from that connection meanwhile.
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { ConnectionUnavailableError, redact } from '../reconnect.js';
import { sleep } from '../retry.js';
import type { LastWill, MqttClientOptions, MqttSettings } from './options.js';

/** What one connection is: its client id and its session. */
export interface SessionSpec {
  clientId: string;
  /** Start without the broker's stored session (and, on 3.1.1, leave none behind). */
  clean: boolean;
  /** MQTT 5: how long the broker keeps the session after the connection ends. */
  sessionExpirySeconds: number;
  will?: LastWill;
}

/** Hands a received message over; `done` acknowledges it (PUBACK / PUBCOMP) and lets the next one in. */
export type Receiver = (packet: IPublishPacket, done: (error?: Error) => void) => void;

/** MQTT 5 reason code of a PUBACK or PUBREC: accepted, and no subscription matched. */
const NO_MATCHING_SUBSCRIBERS = 16;

export class MqttConnection {
  /** Message ids of publishes the broker said no subscriber matched (MQTT.js resolves them without saying). */
  private readonly unmatched = new Set<number>();

  private constructor(
    readonly client: MqttClient,
    readonly clientId: string,
  ) {
    client.on('packetreceive', (packet) => {
      if ((packet.cmd === 'puback' || packet.cmd === 'pubrec') && packet.reasonCode === NO_MATCHING_SUBSCRIBERS)
        this.unmatched.add(packet.messageId!);
    });
  }

  /** Whether the broker said no subscriber matched the acknowledged publish with this message id (once). */
  takeUnmatched(messageId: number | undefined): boolean {
    return messageId !== undefined && this.unmatched.delete(messageId);
  }

  /**
   * Connects to the first broker that answers within `connectTimeoutMs` (the library tries the list in
   * turn); rejects at once when a broker refuses the client (bad credentials, a client id it rejects).
   * `receive` is in place before the session resumes, so events the broker kept are not missed.
   */
  static async open(
    servers: readonly string[],
    settings: MqttSettings,
    options: MqttClientOptions,
    session: SessionSpec,
    logger: Logger,
    receive?: Receiver,
  ): Promise<MqttConnection> {
    if (servers.length === 0)
      throw new TypeError('mqtt client: give `servers` (the document names no MQTT server the client can use)');
    const client = connect({
      reconnectPeriod: 1000,
      ...options.connectionOptions,
      servers: servers.map(brokerOf),
      protocolVersion: settings.mqttVersion === '3.1.1' ? 4 : 5,
      clientId: session.clientId,
      clean: session.clean,
      keepalive: settings.keepAliveSeconds,
      connectTimeout: settings.connectTimeoutMs,
      manualConnect: true,
      ...(settings.mqttVersion === '5.0' && !session.clean
        ? { properties: { sessionExpiryInterval: session.sessionExpirySeconds } }
        : {}),
      ...(session.will ? { will: willOf(session.will) } : {}),
    });
    if (receive) client.handleMessage = receive;
    const connection = new MqttConnection(client, session.clientId);
    await connection.connected(settings.connectTimeoutMs, servers);
    connection.watch(logger);
    return connection;
  }

  private connected(timeoutMs: number, servers: readonly string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      let lastError: unknown;
      const finish = (error?: unknown) => {
        clearTimeout(timer);
        this.client.off('connect', onConnect);
        this.client.off('error', onError);
        if (error === undefined) return resolve();
        this.client.end(true);
        reject(error);
      };
      const onConnect = () => finish();
      const onError = (error: Error & { code?: unknown }) => {
        lastError = error;
        // A number is the broker's refusal (CONNACK reason code): trying again will not help.
        if (typeof error.code === 'number') finish(error);
      };
      const timer = setTimeout(() => {
        const why = lastError === undefined ? '' : `: ${errorMessage(lastError)}`;
        const where = servers.map(redact).join(', ');
        finish(new ConnectionUnavailableError(`no MQTT broker answered within ${timeoutMs} ms (${where})${why}`));
      }, timeoutMs);
      this.client.on('connect', onConnect);
      this.client.on('error', onError);
      this.client.connect();
    });
  }

  /** Logs losses and reconnections (the library reconnects by itself). */
  private watch(logger: Logger): void {
    const clientId = this.clientId;
    this.client.on('offline', () => logger.warn({ clientId }, 'MQTT connection lost; reconnecting'));
    this.client.on('connect', (connack) =>
      logger.info({ clientId, sessionPresent: connack.sessionPresent }, 'MQTT connection restored'),
    );
    this.client.on('error', (error) => logger.warn({ clientId, err: errorMessage(error) }, 'MQTT connection error'));
  }

  get isConnected(): boolean {
    return this.client.connected;
  }

  /**
   * Sends DISCONNECT once what is in flight was acknowledged, so the broker keeps the session and drops
   * the last will; a connection that cannot say goodbye in `timeoutMs` (the broker is down) is cut.
   */
  async close(timeoutMs: number): Promise<void> {
    if (this.client.disconnected) return;
    const graceful = this.client.connected ? this.client.endAsync() : Promise.reject(new Error('not connected'));
    const deadline = new AbortController();
    const ended = await Promise.race([
      graceful.then(
        () => true,
        () => false,
      ),
      sleep(timeoutMs, deadline.signal).then(() => false),
    ]);
    deadline.abort();
    if (!ended) await this.client.endAsync(true).catch(() => undefined);
  }
}

/** `mqtt://host:1883`, `mqtts://host`, `host:port` or `host` as MQTT.js takes a broker. */
export function brokerOf(server: string): { host: string; port: number; protocol: 'mqtt' | 'mqtts' | 'ws' | 'wss' } {
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `mqtt://${server}`);
  const protocol = url.protocol.replace(/:$/, '');
  if (protocol !== 'mqtt' && protocol !== 'mqtts' && protocol !== 'ws' && protocol !== 'wss' && protocol !== 'tcp')
    throw new TypeError(`${redact(server)}: not an MQTT broker address (mqtt://, mqtts://, ws://, wss://)`);
  const secure = protocol === 'mqtts' || protocol === 'wss';
  const port = url.port === '' ? (secure ? 8883 : 1883) : Number(url.port);
  return { host: url.hostname, port, protocol: protocol === 'tcp' ? 'mqtt' : protocol };
}

function willOf(will: LastWill): NonNullable<IClientOptions['will']> {
  return { topic: will.topic, payload: Buffer.from(will.payload), qos: will.qos ?? 1, retain: will.retain ?? false };
}
