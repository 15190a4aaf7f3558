/* eslint-disable @typescript-eslint/no-explicit-any */
// Dead letters on every broker, one suite: inspect (reasons, origins, paging), redrive by reason after a
// fix (each event handled once, other reasons left), a redrive killed with SIGKILL halfway and run again
// (nothing lost, nothing handled twice), an event that no longer validates (reported, left in place),
// discard (only what was asked).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertUp, BROKERS, createClient, generateExample, order, publishOptions, waitFor, type DeadLetterBroker, type Generated, type RunNames } from './brokers.js';

const REDRIVE_PROCESS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'processes/redrive.mjs');

let generated: Generated;
const open: any[] = [];

beforeAll(async () => {
  generated = await generateExample(BROKERS.map((b) => b.name));
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(open.map((client) => client.close()));
});

/** The application: consumes orderCreated, failing for the customers in `failing` until fixed; counts each handled event. */
async function application(broker: DeadLetterBroker, names: RunNames, failing: (customer: string) => boolean) {
  const client = await createClient(generated, broker, broker.clientOptions(names));
  open.push(client);
  const handled = new Map<string, number>();
  const state = { fixed: false };
  await client.onOrderCreated(async (payload: any, context: any) => {
    if (!state.fixed && failing(payload.customerId)) throw new Error(`cannot ship to ${payload.customerId}`);
    handled.set(context.envelope.id, (handled.get(context.envelope.id) ?? 0) + 1);
  }, broker.consumerOptions(names));
  return { client, handled, state };
}

/** Every dead letter of orderCreated, page after page. */
async function everyDeadLetter(client: any, pageSize = 2): Promise<any[]> {
  const all: any[] = [];
  for (let after: string | undefined; ; ) {
    const page = await client.deadLetters.onOrderCreated.inspect({ limit: pageSize, after });
    all.push(...page.letters);
    if (page.next === undefined) return all;
    after = page.next;
  }
}

async function deadLettersReach(client: any, count: number): Promise<any[]> {
  let letters: any[] = [];
  await waitFor(async () => (letters = await everyDeadLetter(client, 100)).length >= count, 60_000, () => `${count} dead letters (${letters.length})`);
  return letters;
}

function runRedrive(broker: DeadLetterBroker, names: RunNames, selection: unknown, ratePerSecond: number) {
  const args = [REDRIVE_PROCESS, generated.indexJs, broker.name, JSON.stringify(broker.clientOptions(names)), JSON.stringify(selection), String(ratePerSecond)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

describe.each(BROKERS)('dead letters on $name', (broker) => {
  beforeAll(() => assertUp(broker));

  it('lists events dead-lettered for different reasons with their reasons and origins; a redrive by reason after a fix handles each once; invalid ones stay; discard takes only what was asked', async () => {
    const names = broker.names();
    const app = await application(broker, names, (customer) => customer.startsWith('fail-'));
    const failing = await Promise.all(['fail-1', 'fail-2', 'fail-3'].map((c) => app.client.publishOrderCreated(order(c), publishOptions())));
    const invalid = await Promise.all(['bad-1', 'bad-2'].map((c) => app.client.publishOrderCreated({ ...order(c), total: 'not a number' }, publishOptions({ validate: false }))));
    const fine = await app.client.publishOrderCreated(order('fine'), publishOptions());
    await waitFor(() => app.handled.has(fine.id), 30_000, () => 'the valid event handled');

    const letters = await deadLettersReach(app.client, 5);
    expect(letters).toHaveLength(5);
    const reasonOf = new Map(letters.map((l) => [l.eventId, l.reason]));
    for (const event of failing) expect(reasonOf.get(event.id)).toBe('handler-failed');
    for (const event of invalid) expect(reasonOf.get(event.id)).toBe('invalid-payload');
    for (const letter of letters) {
      broker.expectOrigin(letter.origin, names);
      expect(letter.operation).toBe('onOrderCreated');
      expect(letter.attempts).toBe(1);
      expect(Date.parse(letter.deadLetteredAt)).toBeGreaterThan(Date.now() - 120_000);
      expect(letter.envelope.id).toBe(letter.eventId);
      expect(letter.headers['x-tenant']).toBe('acme');
      if (letter.reason === 'handler-failed') {
        expect(letter.error).toMatch(/cannot ship to fail-/);
        expect(letter.current).toMatchObject({ valid: true, payload: { currency: 'EUR' }, headers: { 'x-tenant': 'acme' } });
      } else {
        expect(letter.current).toMatchObject({ valid: false, reason: 'invalid-payload' });
        expect(letter.current.error).toMatch(/\/total/);
        expect(JSON.parse(Buffer.from(letter.body).toString('utf8')).total).toBe('not a number');
      }
    }

    // The events that no longer validate are reported, not redriven, and stay.
    const refused = await app.client.deadLetters.onOrderCreated.redrive({ reason: 'invalid-payload' });
    expect(refused.redriven).toEqual([]);
    expect(refused.invalid.map((r: any) => r.eventId).sort()).toEqual(invalid.map((e: any) => e.id).sort());
    expect(refused.invalid[0].error).toMatch(/payload invalid/);
    expect(refused.unselected).toBe(3);
    expect(await everyDeadLetter(app.client)).toHaveLength(5);

    // After the fix: a redrive by reason handles each event once and leaves the other reason in place.
    app.state.fixed = true;
    const result = await app.client.deadLetters.onOrderCreated.redrive({ reason: 'handler-failed' }, { ratePerSecond: 50 });
    expect(result.redriven.map((r: any) => r.eventId).sort()).toEqual(failing.map((e: any) => e.id).sort());
    expect(result.invalid).toEqual([]);
    await waitFor(() => failing.every((e: any) => app.handled.has(e.id)), 30_000, () => 'the redriven events handled');
    const left = await everyDeadLetter(app.client);
    expect(left.map((l) => l.reason)).toEqual(['invalid-payload', 'invalid-payload']);
    // A second redrive of the same reason finds nothing.
    expect((await app.client.deadLetters.onOrderCreated.redrive({ reason: 'handler-failed' })).redriven).toEqual([]);

    // Discard takes only the dead letter named.
    const discarded = await app.client.deadLetters.onOrderCreated.discard({ ids: [left[0].id] }, { reason: 'test order' });
    expect(discarded.discarded.map((r: any) => r.id)).toEqual([left[0].id]);
    expect(discarded.unselected).toBe(1);
    const remaining = await everyDeadLetter(app.client);
    expect(remaining.map((l) => l.id)).toEqual([left[1].id]);

    for (const event of [...failing, fine]) expect(app.handled.get(event.id), event.id).toBe(1);
    expect(app.handled.size).toBe(4);
  }, 180_000);

  it('finds no dead letters where nothing was ever dead-lettered, a redrive there does nothing, and a closed client refuses', async () => {
    const names = broker.names();
    const client = await createClient(generated, broker, broker.clientOptions(names));
    open.push(client);
    expect(await client.deadLetters.onOrderCreated.inspect()).toEqual({ letters: [], next: undefined });
    expect(await client.deadLetters.onOrderCreated.redrive('all')).toEqual({ redriven: [], invalid: [], unselected: 0 });
    await client.close();
    await expect(client.deadLetters.onOrderCreated.inspect()).rejects.toMatchObject({ name: 'ClientClosedError' });
  }, 60_000);

  it('loses nothing and handles nothing twice when the redrive process is killed with SIGKILL halfway and run again', async () => {
    const names = broker.names();
    const app = await application(broker, names, () => true);
    const total = 24;
    const events = await Promise.all(Array.from({ length: total }, (_, i) => app.client.publishOrderCreated(order(`c-${i}`), publishOptions())));
    await deadLettersReach(app.client, total);
    app.state.fixed = true;

    const first = runRedrive(broker, names, 'all', 8);
    await waitFor(() => app.handled.size >= 6 || first.child.exitCode !== null, 60_000, () => `6 events redriven (${app.handled.size}; ${first.output()})`);
    first.child.kill('SIGKILL');
    await first.exited;
    const afterKill = app.handled.size;
    expect(afterKill, first.output()).toBeLessThan(total);

    const second = runRedrive(broker, names, 'all', 1000);
    expect(await second.exited, second.output()).toBe(0);
    await waitFor(() => app.handled.size >= total, 60_000, () => `all ${total} events handled (${app.handled.size})`);
    expect(new Set(app.handled.keys())).toEqual(new Set(events.map((e: any) => e.id)));
    for (const [id, times] of app.handled) expect(times, id).toBe(1);
    expect(await everyDeadLetter(app.client, 100)).toEqual([]);
    await broker.expectAllSettled?.(names);
  }, 180_000);
});

describe('dead letters on core NATS (a capability of its own)', () => {
  const nats = BROKERS.find((b) => b.name === 'nats')!;
  beforeAll(() => assertUp(nats));

  it('cannot read dead letters no stream stores (said so); once a stream stores the dead-letter subject, inspects and redrives them', async () => {
    const names = nats.names();
    const core = { ...nats.clientOptions(names), mode: 'core' };
    const app = await createClient(generated, nats, core);
    open.push(app);
    await expect(app.deadLetters.onOrderCreated.inspect()).rejects.toMatchObject({ name: 'DeadLettersUnavailableError', message: /core NATS publishes dead letters without storing them/ });

    // A JetStream client's topology stores the dead-letter subject of the channel (`<stream>_DLQ`).
    const jetstream = await createClient(generated, nats, nats.clientOptions(names));
    open.push(jetstream);
    await jetstream.declareTopology();
    const handled: string[] = [];
    const state = { fixed: false };
    await app.onOrderCreated(async (_payload: any, context: any) => {
      if (!state.fixed) throw new Error('not yet');
      handled.push(context.envelope.id);
    }, { retry: { maxAttempts: 1 }, queue: `${names.prefix}core` });
    const event = await app.publishOrderCreated(order('core'), publishOptions());
    const [letter] = await deadLettersReach(app, 1);
    expect(letter).toMatchObject({ eventId: event.id, reason: 'handler-failed', origin: { subject: `${names.prefix}orders.eu.created`, stream: undefined, sequence: undefined } });

    state.fixed = true;
    const result = await app.deadLetters.onOrderCreated.redrive('all');
    expect(result.redriven.map((r: any) => r.eventId)).toEqual([event.id]);
    await waitFor(() => handled.length === 1, 20_000, () => 'the redriven core event handled');
    expect(handled).toEqual([event.id]);
    expect(await everyDeadLetter(app)).toEqual([]);
  }, 60_000);
});
