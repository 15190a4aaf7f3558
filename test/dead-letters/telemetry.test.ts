/* eslint-disable @typescript-eslint/no-explicit-any */
// Inspect, redrive and discard in spans and metrics (the real OpenTelemetry SDK), and in the logs, on every broker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installOpenTelemetry, type Otel } from '../observability/support.js';
import { assertUp, BROKERS, createClient, generateExample, order, publishOptions, waitFor, type Generated } from './brokers.js';

let generated: Generated;
let otel: Otel;
const open: any[] = [];

beforeAll(async () => {
  otel = installOpenTelemetry();
  generated = await generateExample(BROKERS.map((b) => b.name));
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(open.map((client) => client.close()));
  await otel.uninstall();
});

function memoryLogger() {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, message, fields });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

describe.each(BROKERS)('dead-letter telemetry on $name', (broker) => {
  beforeAll(() => assertUp(broker));

  it('records a span per call with its counts, counts redriven and discarded events, and logs each', async () => {
    const names = broker.names();
    const { logger, lines } = memoryLogger();
    const client = await createClient(generated, broker, { ...broker.clientOptions(names), logger });
    open.push(client);
    const handled: string[] = [];
    let fixed = false;
    await client.onOrderCreated(async (_payload: any, context: any) => {
      if (!fixed) throw new Error('not yet');
      handled.push(context.envelope.id);
    }, broker.consumerOptions(names));
    const [kept, dropped] = await Promise.all(['a', 'b'].map((c) => client.publishOrderCreated(order(c), publishOptions())));
    let count = 0;
    await waitFor(async () => (count = (await client.deadLetters.onOrderCreated.inspect()).letters.length) === 2, 60_000, () => `2 dead letters (${count})`);
    fixed = true;

    otel.exporter.reset();
    const queue = client.deadLetters.onOrderCreated;
    expect((await queue.redrive({ ids: [kept.id] })).redriven).toHaveLength(1);
    expect((await queue.discard({ ids: [dropped.id] }, { reason: 'duplicate order' })).discarded).toHaveLength(1);
    await waitFor(() => handled.includes(kept.id), 30_000, () => 'the redriven event handled');

    const spans = otel.exporter.getFinishedSpans().filter((s) => / (inspect|redrive|discard)$/.test(s.name));
    const redrive = spans.find((s) => s.name.endsWith(' redrive'))!;
    const discard = spans.find((s) => s.name.endsWith(' discard'))!;
    expect(redrive.attributes).toMatchObject({ 'messaging.system': broker.name, 'messaging.operation.name': 'redrive', 'messaging.operation.type': 'send', 'codegen.operation': 'onOrderCreated', 'codegen.dead_letters.redriven': 1, 'codegen.dead_letters.invalid': 0 });
    expect(discard.attributes).toMatchObject({ 'messaging.operation.type': 'settle', 'codegen.dead_letters.discarded': 1 });
    const redriven = await otel.points('codegen.messaging.redriven.messages');
    const discarded = await otel.points('codegen.messaging.discarded.messages');
    const mine = (points: Array<{ attributes: Record<string, unknown>; value: number }>) => points.filter((p) => p.attributes['messaging.destination.name'] === redrive.attributes['messaging.destination.name']);
    expect(mine(redriven).map((p) => p.value)).toEqual([1]);
    expect(mine(discarded).map((p) => p.value)).toEqual([1]);
    expect(lines.find((l) => l.message === 'dead letter redriven')?.fields).toMatchObject({ eventId: kept.id, reason: 'handler-failed' });
    expect(lines.find((l) => l.message === 'dead letter discarded')?.fields).toMatchObject({ eventId: dropped.id, discardReason: 'duplicate order' });
  }, 120_000);
});
