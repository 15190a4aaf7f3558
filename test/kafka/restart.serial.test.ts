// The one disruptive test: it stops and restarts the shared Kafka broker, so it runs on its own,
// after the main suite (`npm test` runs *.serial.test.ts files in a second, sequential vitest run).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/codegen.js';
import { assertKafkaUp, BROKERS, ensureKafkaRunning, generateFixtures, kafkaScript, memoryLogger, order, sleep, waitFor, type GeneratedExample } from './support.js';

let generated: GeneratedExample;
const open: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  await assertKafkaUp();
  [generated] = await generateFixtures();
});

afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((c) => c.close()));
});

function client(prefix: string, options: Record<string, unknown> = {}): any {
  const created = generated.kafka.createClient({ brokers: BROKERS, topicPrefix: prefix, ...options });
  open.push(created);
  return created;
}

describe('kafka: broker restart', () => {
  it('recovers producer and consumer when the broker stops and starts again mid-stream; nothing is lost', async () => {
    const prefix = uniqueName('k-restart') + '.';
    const { logger, lines } = memoryLogger();
    const kafka = client(prefix, { logger });
    await kafka.declareTopology();
    const received = new Set<string>();
    await kafka.onOrderCreated(async (_p: any, context: any) => void received.add(context.envelope.id), {
      groupId: `${prefix}g`,
      fromBeginning: true,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1_000,
    });
    const ids: string[] = [];
    let stop = false;
    const publisher = (async () => {
      for (let i = 0; !stop; i++) {
        const event = await kafka.publishOrderCreated(order(i), { key: `k${i % 5}`, parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } });
        ids.push(event.id);
        await sleep(10);
      }
    })();
    try {
      await waitFor(() => ids.length >= 50 && received.size >= 20, 30_000, 'traffic before the restart');
      const beforeRestart = ids.length;
      await kafkaScript('restart');
      const afterRestart = ids.length;
      await waitFor(() => ids.length >= afterRestart + 50, 90_000, () => `publishing to resume (${ids.length})`);
      stop = true;
      await publisher;
      await waitFor(() => ids.every((id) => received.has(id)), 90_000, () => `every event (${received.size}/${ids.length}); log: ${lines.slice(-5).join(' | ')}`);
      // How many sends land during the outage depends on how fast the broker comes back; what
      // must hold is that publishing went on past it, and every event sent arrived.
      expect(ids.length).toBeGreaterThanOrEqual(Math.max(beforeRestart, afterRestart) + 50);
      expect(ids.every((id) => received.has(id))).toBe(true);
      // The outage was real: the client saw it and recovered by itself.
      expect(lines.some((l) => /produce failed; retrying|consumer crashed|Connection/i.test(l))).toBe(true);
    } finally {
      stop = true;
      await ensureKafkaRunning();
      await publisher.catch(() => undefined);
    }
  }, 240_000);
});

