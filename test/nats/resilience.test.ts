import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emittedFolder, freshDir } from '../helpers/codegen.js';
import { buildGenerated, delay, deleteStreams, EXAMPLE, memoryLogger, order, streamPrefixOf, uniquePrefix, waitFor, type Generated } from './support.js';

/**
 * What at-least-once means when things break: a consumer killed with SIGKILL, a NATS server restarted
 * under the client, a connection dropped by the client. Run against the real server (and, for the restart,
 * a private nats-server this test starts and stops itself; the shared server on 4222 is never touched).
 */
let example: Generated;
let indexUrl: string;
const prefixes: string[] = [];

beforeAll(async () => {
  const built = await buildGenerated([EXAMPLE]);
  example = built.modules[0]!;
  indexUrl = pathToFileURL(path.join(emittedFolder(built.outs[0]!), 'index.js')).href;
});

afterAll(async () => {
  for (const prefix of prefixes) await deleteStreams(streamPrefixOf(prefix)).catch(() => undefined);
});

function prefixFor(label: string): string {
  const prefix = uniquePrefix(label);
  prefixes.push(prefix);
  return prefix;
}

/** A consumer in a process of its own, recording each processed order id (one line each) before it is acknowledged. */
const CONSUMER_SCRIPT = `
import { appendFileSync } from 'node:fs';
const [indexUrl, prefix, log] = process.argv.slice(2);
const { nats } = await import(indexUrl);
const client = await nats.createClient({ subjectPrefix: prefix });
await client.onOrderCreated(async (payload, event) => {
  await new Promise((resolve) => setTimeout(resolve, 4));
  appendFileSync(log, payload.orderId + '\\n');
}, { durable: 'crash-test', ackWaitMs: 1500 });
process.stdout.write('ready\\n');
process.on('SIGTERM', () => client.close().then(() => process.exit(0)));
`;

function startConsumer(script: string, prefix: string, log: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [script, indexUrl, prefix, log], { stdio: ['ignore', 'pipe', 'inherit'] });
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A private nats-server with JetStream and its own store, which the test may kill and restart. */
async function startServer(port: number, storeDir: string): Promise<ChildProcess> {
  const server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: 'ignore' });
  await waitFor(() => listening(port), 15_000, `nats-server on port ${port}`);
  return server;
}

async function stopServer(server: ChildProcess, port: number): Promise<void> {
  if (server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGKILL');
    await exited;
  }
  await waitFor(async () => !(await listening(port)), 10_000, 'server stopped');
}

describe('NATS target: resilience (JetStream mode)', () => {
  it('loses nothing when the consumer process is killed with SIGKILL mid-stream and restarted', async () => {
    const prefix = prefixFor('nats-kill');
    const dir = freshDir('nats-kill');
    const script = path.join(dir, 'consumer.mjs');
    const log = path.join(dir, 'processed.log');
    writeFileSync(script, CONSUMER_SCRIPT);
    const producer = await example.nats.createClient({ subjectPrefix: prefix });
    const ids: string[] = [];
    try {
      await producer.declareTopology();
      await Promise.all(
        Array.from({ length: 400 }, (_, i) => {
          const payload = order(i);
          ids.push(payload.orderId);
          return producer.publishOrderCreated(payload, { parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
        }),
      );
    } finally {
      await producer.close();
    }

    const first = await startConsumer(script, prefix, log);
    await waitFor(() => linesOf(log).length >= 80, 20_000, 'the first consumer to get going');
    const exited = new Promise((resolve) => first.once('exit', resolve));
    first.kill('SIGKILL');
    await exited;
    const beforeCrash = new Set(linesOf(log));
    expect(beforeCrash.size).toBeLessThan(ids.length);

    const second = await startConsumer(script, prefix, log);
    try {
      await waitFor(() => new Set(linesOf(log)).size >= ids.length, 30_000, 'every event processed');
    } finally {
      const done = new Promise((resolve) => second.once('exit', resolve));
      second.kill('SIGTERM');
      await done;
    }
    const processed = new Set(linesOf(log));
    expect([...processed].sort()).toEqual([...ids].sort());
  });

  it('resumes publishing and consuming when the server restarts, and loses nothing', async () => {
    const prefix = prefixFor('nats-restart');
    const port = await freePort();
    const storeDir = path.join(freshDir('nats-store'), 'jetstream');
    mkdirSync(storeDir, { recursive: true });
    let server = await startServer(port, storeDir);
    const options = { servers: [`127.0.0.1:${port}`], subjectPrefix: prefix, connectionOptions: { reconnectTimeWait: 250 }, publishRetry: { maxAttempts: 20, initialDelayMs: 200, maxDelayMs: 1000 }, publishTimeoutMs: 2000 };
    const { lines, logger } = memoryLogger();
    const producer = await example.nats.createClient({ ...options, logger });
    const consumer = await example.nats.createClient(options);
    try {
      const received = new Set<string>();
      await consumer.onOrderCreated(async (payload: any, event: any) => void received.add(payload.orderId), { durable: 'restart', ackWaitMs: 2000 });
      const ids: string[] = [];
      const publishing = (async () => {
        for (let i = 0; i < 150; i++) {
          const payload = order(i);
          ids.push(payload.orderId);
          await producer.publishOrderCreated(payload, { parameters: { region: 'us' }, headers: { 'x-tenant': 'acme' } });
          await delay(10);
        }
      })();
      await waitFor(() => ids.length >= 50, 20_000, 'first events');
      await stopServer(server, port);
      await delay(1000);
      server = await startServer(port, storeDir);
      await publishing;
      await waitFor(() => received.size >= ids.length, 45_000, 'every event after the restart');
      expect([...received].sort()).toEqual([...ids].sort());
      // The restart happened under the publishing client: it lost the connection and got it back.
      expect(lines.map((line) => line.message)).toEqual(expect.arrayContaining(['NATS connection lost; reconnecting', 'NATS connection restored']));
    } finally {
      await Promise.allSettled([producer.close(), consumer.close()]);
      await stopServer(server, port);
    }
  });

  it('close() ends the retries of a consumer being started: onX() rejects with ClientClosedError, nothing retried after', async () => {
    // A server without JetStream: every JetStream API request meets "no responders", which onX() retries (topologyRetry).
    const port = await freePort();
    const server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    await waitFor(() => listening(port), 15_000, `nats-server on port ${port}`);
    const events: string[] = [];
    const logger = {
      ...memoryLogger().logger,
      warn: (_data: Record<string, unknown>, message?: string) => void events.push(`warn: ${message}`),
    };
    const client = await example.nats.createClient({ servers: [`127.0.0.1:${port}`], subjectPrefix: prefixFor('nats-close-retry'), logger });
    try {
      const starting = client.onOrderCreated(async () => undefined, { durable: 'close-retry' }).then(
        () => events.push('onX resolved'),
        (error: Error) => events.push(`onX rejected: ${error.name}`),
      );
      await waitFor(() => events.includes('warn: JetStream request failed; retrying'), 20_000, 'a retried JetStream request');
      events.push('close called');
      await client.close();
      events.push('closed');
      await starting;
      // Without the closing signal the retries went on after close() (about 16 s of waits), logged each time.
      expect(events.slice(events.indexOf('close called'))).toEqual(['close called', 'onX rejected: ClientClosedError', 'closed']);
    } finally {
      await client.close();
      await stopServer(server, port);
    }
  });

  it('resumes after a client-side forced reconnect, and loses nothing', async () => {
    const prefix = prefixFor('nats-reconnect');
    // Events on the wire when a connection drops are redelivered after the ack wait; a publish whose
    // acknowledgement was lost is retried (same Nats-Msg-Id) after the publish timeout: both kept short here.
    const options = { subjectPrefix: prefix, connectionOptions: { reconnectTimeWait: 100 }, publishTimeoutMs: 1000 };
    const producer = await example.nats.createClient(options);
    const consumer = await example.nats.createClient(options);
    try {
      const received = new Set<string>();
      await consumer.onOrderCreated(async (payload: any, event: any) => void received.add(payload.orderId), { durable: 'reconnect', ackWaitMs: 2000 });
      const ids: string[] = [];
      for (let i = 0; i < 200; i++) {
        const payload = order(i);
        ids.push(payload.orderId);
        await producer.publishOrderCreated(payload, { parameters: { region: 'apac' }, headers: { 'x-tenant': 'acme' } });
        if (i === 60) await producer.connection.reconnect();
        if (i === 120) await consumer.connection.reconnect();
      }
      await waitFor(() => received.size >= ids.length, 45_000, 'every event after the reconnections');
      expect([...received].sort()).toEqual([...ids].sort());
    } finally {
      await Promise.allSettled([producer.close(), consumer.close()]);
    }
  });
});
