import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';
import { emittedFolder, freshDir } from '../helpers/codegen.js';
import { buildGenerated, delay, EXAMPLE, memoryLogger, order, waitFor, type Generated } from './support.js';

/**
 * A broker restarted and a consumer killed mid-stream, on a Mosquitto of this test's own (another port, its own persistence
 * folder), so the shared broker at 1883 and the tests that use it are never disturbed.
 */
let example: Generated;
let indexUrl: string;
let broker: PrivateBroker;

/** A consumer in a process of its own (a stable session id), recording each processed order id before it is acknowledged. */
const CONSUMER_SCRIPT = `
import { appendFileSync } from 'node:fs';
const [indexUrl, url, prefix, log] = process.argv.slice(2);
const { mqtt } = await import(indexUrl);
const client = await mqtt.createClient({ servers: [url], topicPrefix: prefix, clientId: 'crash-test' });
await client.onOrderCreated(async (payload) => {
  await new Promise((resolve) => setTimeout(resolve, 4));
  appendFileSync(log, payload.orderId + '\\n');
});
process.stdout.write('ready\\n');
process.on('SIGTERM', () => client.close().then(() => process.exit(0)));
`;

function startConsumer(script: string, prefix: string, log: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [script, indexUrl, broker.url, prefix, log], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`consumer exited early (${code})`)));
  });
}

function linesOf(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

class PrivateBroker {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly conf: string,
  ) {}

  static async create(): Promise<PrivateBroker> {
    const dir = freshDir('mosquitto');
    const port = await freePort();
    const conf = path.join(dir, 'mosquitto.conf');
    // `user root`: run as the test's user, so the persistence folder it made stays writable.
    writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence true', `persistence_location ${dir}/`, 'user root', ''].join('\n'));
    return new PrivateBroker(port, conf);
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('mosquitto', ['-c', this.conf], { stdio: 'ignore' });
    this.process = child;
    await waitFor(() => portAnswers(this.port), 10_000, `mosquitto on ${this.port}`);
  }

  /** SIGTERM: Mosquitto saves its sessions and queued messages, as a restarted service does. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

beforeAll(async () => {
  const built = await buildGenerated([EXAMPLE]);
  [example] = built.modules as [Generated];
  indexUrl = pathToFileURL(path.join(emittedFolder(built.outs[0]!), 'index.js')).href;
  broker = await PrivateBroker.create();
  await broker.start();
}, 120_000);

afterAll(async () => {
  await broker?.stop();
});

describe('MQTT target: resilience (on a Mosquitto of its own)', () => {
  it('loses nothing when the broker restarts mid-stream: publishes wait for it, and the persistent session delivers what was queued', async () => {
    const options = { servers: [broker.url], topicPrefix: `restart-${randomUUID()}/` };
    const producer = await example.mqtt.createClient({ ...options, clientId: `producer-${randomUUID()}` });
    const { lines, logger } = memoryLogger();
    const consumer = await example.mqtt.createClient({ ...options, clientId: `consumer-${randomUUID()}`, logger });
    const seen = new Map<string, number>();
    await consumer.onOrderCreated(async (payload: any) => {
      seen.set(payload.orderId, (seen.get(payload.orderId) ?? 0) + 1);
      await delay(2);
    });
    const ids: string[] = [];
    const publishing = (async () => {
      for (let i = 0; i < 300; i++) {
        const payload = order(i);
        ids.push(payload.orderId);
        await producer.publishOrderCreated(payload, { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
        await delay(5);
      }
    })();
    await waitFor(() => seen.size >= 100, 20_000, 'the first 100 events');
    await broker.stop();
    // Mid-stream: the producer is still publishing when the broker goes.
    expect(ids.length).toBeLessThan(300);
    await delay(1000);
    await broker.start();
    await publishing;
    await waitFor(() => seen.size === 300, 60_000, "all 300 events");
    expect(ids.every((id) => seen.get(id) === 1)).toBe(true);
    expect(lines.some((line) => line.message === 'MQTT connection lost; reconnecting')).toBe(true);
    expect(lines.some((line) => line.message === 'MQTT connection restored' && line.data.sessionPresent === true)).toBe(true);
    await Promise.all([producer.close(), consumer.close()]);
  }, 120_000);

  it('loses nothing when the consumer process is killed with SIGKILL mid-stream: its session brings back what it had not acknowledged', async () => {
    const prefix = `kill-${randomUUID()}/`;
    const dir = freshDir('mqtt-kill');
    const script = path.join(dir, 'consumer.mjs');
    const log = path.join(dir, 'processed.log');
    writeFileSync(script, CONSUMER_SCRIPT);
    // The session exists (and subscribes) before anything is published.
    const first = await startConsumer(script, prefix, log);
    const producer = await example.mqtt.createClient({ servers: [broker.url], topicPrefix: prefix, clientId: `producer-${randomUUID()}` });
    const ids: string[] = [];
    try {
      for (let i = 0; i < 400; i++) {
        const payload = order(i);
        ids.push(payload.orderId);
        await producer.publishOrderCreated(payload, { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
      }
    } finally {
      await producer.close();
    }
    await waitFor(() => linesOf(log).length >= 80, 20_000, 'the first consumer to get going');
    const exited = new Promise((resolve) => first.once('exit', resolve));
    first.kill('SIGKILL');
    await exited;
    expect(new Set(linesOf(log)).size).toBeLessThan(ids.length);

    const second = await startConsumer(script, prefix, log);
    try {
      await waitFor(() => new Set(linesOf(log)).size >= ids.length, 30_000, 'every event processed');
    } finally {
      const done = new Promise((resolve) => second.once('exit', resolve));
      second.kill('SIGTERM');
      await done;
    }
    expect([...new Set(linesOf(log))].sort()).toEqual([...ids].sort());
  }, 120_000);
});
