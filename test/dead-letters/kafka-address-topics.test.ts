/* eslint-disable @typescript-eslint/no-explicit-any */
// Kafka only: a channel whose topic is its address with the parameters filled in has a dead-letter topic
// per concrete topic (`<topic>.dlq`); the accessor reads every one of them and redrives each event to the
// topic it failed on, its parameters read back from that topic.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileStrict, FIXTURES, generateTo, importGenerated, uniqueName } from '../helpers/codegen.js';
import { assertUp, BROKERS, waitFor } from './brokers.js';

let generated: any;
const open: any[] = [];

beforeAll(async () => {
  await assertUp(BROKERS.find((b) => b.name === 'kafka')!);
  const out = await generateTo(path.join(FIXTURES, 'kafka/bindings.yaml'), ['kafka']);
  await compileStrict([out], { emit: true });
  generated = await importGenerated<any>(out, 'index.js');
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(open.map((client) => client.close()));
});

describe('kafka dead letters of topics built from the address', () => {
  it('reads the dead-letter topic of every concrete topic and redrives each event to its own topic', async () => {
    const prefix = `${uniqueName('dl-addr')}.`;
    const kafka = generated.kafka.createClient({ brokers: ['127.0.0.1:9092'], topicPrefix: prefix, consumer: { groupId: `${prefix}g`, fromBeginning: true } });
    open.push(kafka);
    await kafka.declareTopology();
    let fixed = false;
    const handled: string[] = [];
    await kafka.onReading(async (payload: any, context: any) => {
      if (!fixed) throw new Error('not yet');
      handled.push(`${payload.sensorId}@${context.parameters.site}`);
    }, { retry: { maxAttempts: 1 } });
    await kafka.publishReading({ sensorId: 'a', value: 1 }, { key: 's1', parameters: { site: 'north' } });
    await kafka.publishReading({ sensorId: 'b', value: 2 }, { key: 's2', parameters: { site: 'south' } });
    let letters: any[] = [];
    await waitFor(async () => (letters = (await kafka.deadLetters.onReading.inspect()).letters).length === 2, 60_000, () => `2 dead letters (${letters.length})`);
    expect(letters.map((l) => [l.origin.topic, l.origin.deadLetterTopic, l.origin.key, l.current.payload.sensorId])).toEqual([
      [`${prefix}sensors.north.readings`, `${prefix}sensors.north.readings.dlq`, 's1', 'a'],
      [`${prefix}sensors.south.readings`, `${prefix}sensors.south.readings.dlq`, 's2', 'b'],
    ]);
    fixed = true;
    expect((await kafka.deadLetters.onReading.redrive('all')).redriven).toHaveLength(2);
    await waitFor(() => handled.length === 2, 30_000, () => 'the redriven readings');
    expect(handled.sort()).toEqual(['a@north', 'b@south']);
    expect((await kafka.deadLetters.onReading.inspect()).letters).toEqual([]);
  }, 120_000);
});
