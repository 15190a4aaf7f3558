import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDir, uniqueName } from '../helpers/codegen.js';
import { AMQP_URL, deleteByPrefix, generateAndImport, namePrefix, rabbitmqctl, sleep, waitFor, type Generated, type Loose } from './support.js';

const CONSUMER_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'processes/consumer.mjs');

let example: Generated;
const prefix = namePrefix('resilience');
const children: ChildProcess[] = [];

beforeAll(async () => {
  [example] = await generateAndImport(['example/asyncapi.yaml']);
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await deleteByPrefix(prefix);
});

function order(total: number) {
  return { orderId: randomUUID(), customerId: 'C-1', placedAt: new Date().toISOString(), currency: 'EUR', total, items: [{ sku: 'S', quantity: 1, unitPrice: total }] };
}

const headers = { 'x-tenant': 'acme' };

/** Starts the consumer process and resolves once it consumes. */
async function startConsumer(log: string, stallAfter?: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CONSUMER_SCRIPT, example.indexJs, AMQP_URL, prefix, log, ...(stallAfter === undefined ? [] : [String(stallAfter)])], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`consumer exited with ${code} before it was ready`)));
  });
  return child;
}

function handledIds(log: string): string[] {
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
}

describe('rabbitmq client resilience', () => {
  it('loses nothing when the consumer process is killed with SIGKILL mid-stream and restarted', async () => {
    const log = path.join(freshDir('rabbitmq-sigkill'), 'handled.log');
    // The first process handles 60 events, then holds the next ones unacknowledged until it is killed.
    const first = await startConsumer(log, 60);
    const producer = await example.rabbitmq.createClient({ urls: [AMQP_URL], namePrefix: prefix, serviceName: 'crash-producer' });
    const published: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const sent = await Promise.all(Array.from({ length: 40 }, (_, i) => producer.publishOrderCreated(order(batch * 40 + i), { parameters: { region: 'eu' }, headers })));
      published.push(...sent.map((p: Loose) => p.id));
    }
    await waitFor(() => handledIds(log).length >= 60, 'the first events to be handled');
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const beforeRestart = new Set(handledIds(log)).size;
    expect(beforeRestart).toBeLessThan(published.length);

    await startConsumer(log);
    await waitFor(() => published.every((id) => new Set(handledIds(log)).has(id)), 'every event to be handled after the restart', 30_000);
    const handled = handledIds(log);
    // At-least-once: only events in flight at the kill (at most the prefetch) may have been handled twice.
    expect(handled.length - new Set(handled).size).toBeLessThanOrEqual(10);
    await producer.close();
  });

  it('reconnects producer and consumer when the broker drops their connections; nothing lost, no duplicate side effects', async () => {
    const vhost = uniqueName('codegen-drop');
    await rabbitmqctl('add_vhost', vhost);
    await rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
    const url = `${AMQP_URL}/${encodeURIComponent(vhost)}`;
    const events: Loose[] = [];
    const options = { urls: [url], reconnect: { initialDelayMs: 50, maxDelayMs: 500 }, onConnectionEvent: (event: Loose) => events.push(event) };
    try {
      const consumer = await example.rabbitmq.createClient({ ...options, serviceName: 'drop-consumer' });
      const producer = await example.rabbitmq.createClient({ ...options, serviceName: 'drop-producer' });
      const sideEffects = new Map<string, number>();
      await consumer.onOrderCreated(async (payload: Loose) => {
        await sleep(1);
        sideEffects.set(payload.orderId, (sideEffects.get(payload.orderId) ?? 0) + 1);
      });
      const published: string[] = [];
      const count = (type: string) => events.filter((e) => e.type === type).length;
      const dropped = rabbitmqctl('close_all_connections', '--vhost', vhost, 'test');
      dropped.catch(() => undefined); // awaited below; a failure must not surface as an unhandled rejection first
      // Keep publishing until both clients have seen the drop and 30 batches are out: the drop lands mid-stream
      // however long rabbitmqctl takes to start.
      for (let batch = 0; batch < 30 || (count('disconnected') < 2 && batch < 600); batch++) {
        const orders = Array.from({ length: 20 }, (_, i) => order(batch * 20 + i));
        await Promise.all(orders.map((o) => producer.publishOrderCreated(o, { parameters: { region: 'us' }, headers })));
        published.push(...orders.map((o) => o.orderId));
        await sleep(40);
      }
      await dropped;
      await waitFor(() => count('disconnected') >= 2 && count('connected') >= 4, 'both clients to reconnect', 30_000);
      await waitFor(() => published.every((id) => sideEffects.has(id)), 'every event after the reconnection', 30_000);
      await sleep(300);
      expect([...sideEffects.values()].every((count) => count === 1)).toBe(true);
      expect(sideEffects.size).toBe(published.length);
      expect(count('disconnected')).toBe(2);
      expect(count('connected')).toBeGreaterThanOrEqual(4);
      await Promise.all([consumer.close(), producer.close()]);
    } finally {
      await rabbitmqctl('delete_vhost', vhost);
    }
  });
});
