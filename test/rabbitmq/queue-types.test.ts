// Queue types and the connection settings a cluster needs, on the real broker: quorum queues from the
// `queueType` option or the channel binding's `x-queue-type` (dead-letter queues following), refused where
// the document's queue cannot be one, the default heartbeat, and the topology declared again after the
// broker lost it (the vhost deleted and created again: what a client sees reconnecting to another node).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileStrict, freshDir, generateTo, importGenerated, runInProcess, uniqueName } from '../helpers/codegen.js';
import { AMQP_URL, rabbitmqctl, sleep, thingsDocument, waitFor, type Loose } from './support.js';

function writeDocument(channelBinding: string): string {
  const file = path.join(freshDir('rabbitmq-queue-types'), 'asyncapi.yaml');
  writeFileSync(file, thingsDocument(channelBinding));
  return file;
}

let vhost: string;
let url: string;
/** The channel binding says nothing of queue types. */
let plain: Loose;
/** The channel binding says `x-queue-type: quorum`. */
let quorum: Loose;
/** An `is: queue` channel whose queue is exclusive. */
let exclusive: Loose;
const clients: Loose[] = [];

beforeAll(async () => {
  vhost = uniqueName('codegen-queue-types');
  await rabbitmqctl('add_vhost', vhost);
  await rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
  url = `${AMQP_URL}/${encodeURIComponent(vhost)}`;
  const documents = [
    '{ is: routingKey, exchange: { name: things, type: topic } }',
    '{ is: routingKey, exchange: { name: things-q, type: topic }, x-queue-type: quorum }',
    '{ is: queue, queue: { name: private-things, exclusive: true } }',
  ];
  const outs = await Promise.all(documents.map((binding) => generateTo(writeDocument(binding), ['rabbitmq'])));
  await compileStrict(outs, { emit: true });
  [plain, quorum, exclusive] = await Promise.all(outs.map(async (out) => (await importGenerated<Loose>(out)).rabbitmq));
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((client) => client.close()));
  await rabbitmqctl('delete_vhost', vhost);
});

async function client(rabbitmq: Loose, options: Record<string, unknown>): Promise<Loose> {
  const created = await rabbitmq.createClient({ urls: [url], closeTimeoutMs: 2_000, ...options });
  clients.push(created);
  return created;
}

/** The vhost's queues and their types, by name. */
async function queueTypes(): Promise<Map<string, string>> {
  const listing = JSON.parse((await rabbitmqctl('list_queues', '-p', vhost, 'name', 'type', '--formatter', 'json')) || '[]') as Array<{ name: string; type: string }>;
  return new Map(listing.map((queue) => [queue.name, queue.type]));
}

/** Publishes `ids` and waits until the consumer got them all. */
async function roundTrip(producer: Loose, received: string[], ids: string[]): Promise<void> {
  for (const id of ids) await producer.publishSendThing({ id });
  await waitFor(() => ids.every((id) => received.includes(id)), `events ${ids.join(', ')} (got ${received.join(', ')})`, 15_000);
}

describe('rabbitmq: queue types', () => {
  it('declares the consumer queue and its dead-letter queue as quorum queues with `queueType: quorum`, and carries events', async () => {
    const serviceName = uniqueName('opt');
    const consumer = await client(plain, { serviceName, queueType: 'quorum' });
    const received: string[] = [];
    await consumer.onThing(async (payload: { id: string }) => void received.push(payload.id));
    await roundTrip(consumer, received, ['a', 'b']);
    const types = await queueTypes();
    expect(types.get(`${serviceName}.onThing`)).toBe('quorum');
    expect(types.get(`${serviceName}.onThing.dlq`)).toBe('quorum');
  });

  it('takes the type from the channel binding `x-queue-type`; without either, queues are classic', async () => {
    const fromBinding = uniqueName('binding');
    const byDefault = uniqueName('default');
    const received: string[] = [];
    const consumer = await client(quorum, { serviceName: fromBinding });
    await consumer.onThing(async (payload: { id: string }) => void received.push(payload.id));
    await roundTrip(consumer, received, ['c']);
    await (await client(plain, { serviceName: byDefault })).onThing(async () => undefined);
    const types = await queueTypes();
    expect(types.get(`${fromBinding}.onThing`)).toBe('quorum');
    expect(types.get(`${fromBinding}.onThing.dlq`)).toBe('quorum');
    expect(types.get(`${byDefault}.onThing`)).toBe('classic');
    expect(types.get(`${byDefault}.onThing.dlq`)).toBe('classic');
  });

  it('keeps a server-named exclusive subscription classic under `queueType: quorum` (it lives as long as its connection)', async () => {
    const serviceName = uniqueName('excl');
    const consumer = await client(plain, { serviceName, queueType: 'quorum' });
    const subscription = await consumer.onThing(async () => undefined, { exclusive: true });
    const types = await queueTypes();
    expect(types.get(subscription.queue)).toBe('classic');
    expect(types.get(`${serviceName}.onThing.dlq`)).toBe('quorum');
  });

  it('refuses `queueType: quorum` for an exclusive queue of the document when the client is created, before connecting', async () => {
    await expect(exclusive.createClient({ urls: ['amqp://127.0.0.1:1'], queueType: 'quorum' })).rejects.toThrow(
      /queue private-things cannot be a quorum queue: the document makes it exclusive/,
    );
  });

  it('refuses `x-queue-type: quorum` on an exclusive queue binding, and a stream type, as document errors at the field', async () => {
    const contradiction = await runInProcess(['generate', writeDocument('{ is: queue, queue: { name: q, exclusive: true }, x-queue-type: quorum }'), '--target', 'rabbitmq', '--out', freshDir('rabbitmq-qt-out')]);
    expect(contradiction.code).toBe(1);
    expect(contradiction.stderr).toContain('#/channels/things/bindings/amqp/x-queue-type');
    expect(contradiction.stderr).toMatch(/a quorum queue is durable, not exclusive, not auto-deleted/);
    const stream = await runInProcess(['generate', writeDocument('{ is: routingKey, exchange: { name: s, type: topic }, x-queue-type: stream }'), '--target', 'rabbitmq', '--out', freshDir('rabbitmq-qt-out')]);
    expect(stream.code).toBe(1);
    expect(stream.stderr).toMatch(/"x-queue-type" must be one of "classic", "quorum"/);
  });
});

describe('rabbitmq: connection settings for a cluster', () => {
  it('asks for a 10 s heartbeat by default; `heartbeatSeconds` and a URL `?heartbeat=` change it', async () => {
    const names = { byDefault: uniqueName('hb-default'), option: uniqueName('hb-option'), url: uniqueName('hb-url') };
    await client(plain, { connectionName: names.byDefault });
    await client(plain, { connectionName: names.option, heartbeatSeconds: 25 });
    await client(plain, { connectionName: names.url, heartbeatSeconds: 25, urls: [`${url}?heartbeat=7`] });
    const connections = JSON.parse(await rabbitmqctl('list_connections', 'name', 'timeout', 'client_properties', '--formatter', 'json')) as Array<{ timeout: number; client_properties: unknown }>;
    const timeoutOf = (name: string) => connections.find((c) => JSON.stringify(c.client_properties).includes(name))?.timeout;
    expect({ byDefault: timeoutOf(names.byDefault), option: timeoutOf(names.option), url: timeoutOf(names.url) }).toEqual({ byDefault: 10, option: 25, url: 7 });
    await expect(plain.createClient({ urls: [url], heartbeatSeconds: -1 })).rejects.toThrow(/`heartbeatSeconds` must be a whole number from 0/);
  });

  it('after losing its connection starts again at the next address (a paused node may accept connections it never serves)', async () => {
    const own = uniqueName('codegen-rotate');
    await rabbitmqctl('add_vhost', own);
    await rabbitmqctl('set_permissions', '-p', own, 'guest', '.*', '.*', '.*');
    const events: Array<{ type: string; address?: string }> = [];
    try {
      // Two addresses of the one broker, told apart by a query parameter.
      const base = `${AMQP_URL}/${encodeURIComponent(own)}`;
      await client(plain, {
        urls: [base, `${base}?frameMax=131072`],
        reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
        onConnectionEvent: (event: { type: string; address?: string }) => events.push(event),
      });
      await rabbitmqctl('close_all_connections', '--vhost', own, 'test');
      await waitFor(() => events.filter((e) => e.type === 'connected').length >= 2, 'the client to connect again', 15_000);
      const addresses = events.filter((e) => e.type === 'connected').map((e) => /frameMax/.test(e.address ?? ''));
      expect(addresses).toEqual([false, true]);
    } finally {
      await rabbitmqctl('delete_vhost', own);
    }
  });

  it('reconnects from a dead address to a live one and declares its topology again after the broker lost it (vhost deleted and re-created)', async () => {
    const lost = uniqueName('codegen-lost');
    const create = async () => {
      await rabbitmqctl('add_vhost', lost);
      await rabbitmqctl('set_permissions', '-p', lost, 'guest', '.*', '.*', '.*');
    };
    await create();
    const events: Array<{ type: string }> = [];
    const serviceName = uniqueName('lost');
    try {
      const consumer = await client(plain, {
        serviceName,
        queueType: 'quorum',
        urls: ['amqp://guest:guest@127.0.0.1:1', `${AMQP_URL}/${encodeURIComponent(lost)}`],
        reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
        onConnectionEvent: (event: { type: string }) => events.push(event),
      });
      const received: string[] = [];
      await consumer.onThing(async (payload: { id: string }) => void received.push(payload.id));
      await roundTrip(consumer, received, ['before']);
      // Deleting the vhost closes the client's connection and removes its exchange and queues.
      await rabbitmqctl('delete_vhost', lost);
      await waitFor(() => events.some((e) => e.type === 'disconnected'), 'the client to see its connection closed', 15_000);
      await sleep(300);
      await create();
      await waitFor(() => events.filter((e) => e.type === 'connected').length >= 2, 'the client to connect again', 30_000);
      await roundTrip(consumer, received, ['after']);
      const listing = JSON.parse(await rabbitmqctl('list_queues', '-p', lost, 'name', 'type', '--formatter', 'json')) as Array<{ name: string; type: string }>;
      expect(listing.filter((q) => q.name.startsWith(serviceName)).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
        { name: `${serviceName}.onThing`, type: 'quorum' },
        { name: `${serviceName}.onThing.dlq`, type: 'quorum' },
      ]);
    } finally {
      await rabbitmqctl('delete_vhost', lost).catch(() => undefined);
    }
  }, 90_000);
});
