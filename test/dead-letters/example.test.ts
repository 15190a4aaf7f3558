/* eslint-disable @typescript-eslint/no-explicit-any */
// The runnable example of docs/dead-letters.md: examples/dead-letters/operate.ts compiled beside the bundled
// example's generated code, as the guide says, and run against NATS: inspect, redrive by reason, discard.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileStrict, emittedFolder, freshDir, importGenerated, ROOT, runInProcess } from '../helpers/codegen.js';
import { assertUp, BROKERS, order, publishOptions, waitFor } from './brokers.js';

const execFileAsync = promisify(execFile);
const nats = BROKERS.find((b) => b.name === 'nats')!;
let operate: string;
let root: any;
const open: any[] = [];

beforeAll(async () => {
  await assertUp(nats);
  const dir = freshDir('dead-letters-example');
  const result = await runInProcess(['generate', path.join(ROOT, 'fixtures/example/asyncapi.yaml'), '--target', 'rabbitmq,kafka,nats', '--out', path.join(dir, 'example-out')]);
  expect(result.code, result.stderr).toBe(0);
  mkdirSync(path.join(dir, 'examples/dead-letters'), { recursive: true });
  copyFileSync(path.join(ROOT, 'examples/dead-letters/operate.ts'), path.join(dir, 'examples/dead-letters/operate.ts'));
  await compileStrict([dir], { emit: true });
  operate = path.join(emittedFolder(dir), 'examples/dead-letters/operate.js');
  root = await importGenerated<any>(dir, 'example-out/index.js');
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(open.map((client) => client.close()));
});

async function command(...args: string[]): Promise<any> {
  const { stdout } = await execFileAsync(process.execPath, [operate, ...args]);
  return JSON.parse(stdout);
}

describe('the dead-letter example command', () => {
  it('inspects, redrives by reason and discards over the generated API', async () => {
    const names = nats.names();
    const client = await root.nats.createClient(nats.clientOptions(names));
    open.push(client);
    let fixed = false;
    const handled: string[] = [];
    await client.onOrderCreated(async (_payload: any, context: any) => {
      if (!fixed) throw new Error('not yet');
      handled.push(context.envelope.id);
    }, nats.consumerOptions(names));
    const failed = await client.publishOrderCreated(order('a'), publishOptions());
    const invalid = await client.publishOrderCreated({ ...order('b'), total: 'x' }, publishOptions({ validate: false }));
    let letters: any[] = [];
    await waitFor(async () => (letters = (await command('nats', 'onOrderCreated', 'inspect', '--prefix', names.prefix)).letters).length === 2, 30_000, () => `2 dead letters (${letters.length})`);
    expect(letters.map((l) => [l.eventId, l.reason])).toEqual([[failed.id, 'handler-failed'], [invalid.id, 'invalid-payload']]);

    fixed = true;
    const redrive = await command('nats', 'onOrderCreated', 'redrive', '--reason', 'handler-failed', '--rate', '10', '--prefix', names.prefix);
    expect(redrive.redriven.map((r: any) => r.eventId)).toEqual([failed.id]);
    await waitFor(() => handled.includes(failed.id), 30_000, () => 'the redriven event handled');
    const discard = await command('nats', 'onOrderCreated', 'discard', '--ids', invalid.id, '--why', 'test order', '--prefix', names.prefix);
    expect(discard.discarded.map((r: any) => r.eventId)).toEqual([invalid.id]);
    expect((await command('nats', 'onOrderCreated', 'inspect', '--prefix', names.prefix)).letters).toEqual([]);
  }, 120_000);

  it('refuses an unknown operation with exit code 2', async () => {
    await expect(execFileAsync(process.execPath, [operate, 'nats', 'onNothing', 'inspect'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/no receive operation "onNothing": onOrderCreated, onOrderLifecycle/) });
  });
});
