/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * The contract, delivery, on every broker (README: "at-least-once by default, idempotent consumers,
 * retries with backoff, dead-letter destinations"; docs/targets/*.md "Delivery guarantees"):
 * an event is handled once, in order; an id published twice, or written twice by another producer,
 * runs the handler once; a failing handler is retried and then dead-lettered with its reason (read
 * raw from the dead-letter destination); an event published while no consumer runs is kept, or (core
 * NATS) lost, as the broker's capabilities say; so is an event held by a consumer process killed with
 * SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractBrokers, FAST_RETRY, generatedIndex, sleep, waitFor, type ContractBroker } from './brokers.js';

const CONSUMER_PROCESS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'processes/consumer.mjs');
/** Consumer processes started here, killed at the end whatever happened to the test. */
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** The handler's behaviour, chosen by the payload's `sensor`. */
const OK = 'ok';
const FAIL_ONCE = 'fail-once';
const FAIL_ALWAYS = 'fail-always';

interface Handled {
  id: string;
  attempt: number;
  payload: any;
  context: any;
}

describe.each(contractBrokers())('$name: delivery', ({ create }) => {
  const broker = create();
  let producer: any;
  let consumer: any;
  let subscription: any;
  const handled: Handled[] = [];
  const handledOf = (id: string) => handled.filter((event) => event.id === id);

  beforeAll(async () => {
    await broker.start();
    producer = await broker.client();
    consumer = await broker.client();
    subscription = await broker.subscribe(
      consumer,
      'onReading',
      (payload, context) => {
        if (payload.sensor === FAIL_ALWAYS || (payload.sensor === FAIL_ONCE && context.attempt === 1)) throw new Error(`${payload.sensor} on attempt ${context.attempt}`);
        handled.push({ id: context.envelope.id, attempt: context.attempt, payload, context });
      },
      'onReading',
    );
  });

  afterAll(async () => {
    await broker.stop();
  });

  function publish(sensor: string, extra: Record<string, unknown> = {}): Promise<any> {
    return producer.publishReading({ sensor, value: 1 }, broker.readingOptions(extra));
  }

  /** Publishes a valid event and waits until it was handled: the events before it were settled. */
  async function settled(): Promise<void> {
    const { id } = await publish(OK);
    await waitFor(
      () => handledOf(id).length > 0,
      () => `the handler to get ${id}`,
    );
  }

  it('hands a published event to the handler once, with its envelope, headers and parameters', async () => {
    const published = await publish(OK, { parameters: { siteId: 'lon' } });
    await settled();
    const [event, ...more] = handledOf(published.id);
    expect(more).toEqual([]);
    expect(event!.attempt).toBe(1);
    expect(event!.context.envelope).toMatchObject({ id: published.id, specversion: '1.0', type: 'com.example.contract.reading' });
    expect(event!.context.headers).toMatchObject({ 'x-tenant': 'acme' });
    expect(event!.context.parameters).toEqual({ siteId: 'lon' });
  });

  it('hands events to the handler in the order they were published (one at a time)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await publish(OK)).id);
    await settled();
    const order = handled.map((event) => event.id).filter((id) => ids.includes(id));
    expect(order).toEqual(ids);
  });

  it(`runs the handler once for an id published twice (dropped by the ${broker.capabilities.duplicateDroppedBy})`, async () => {
    const id = randomUUID();
    const first = await publish(OK, { id });
    const second = await publish(OK, { id });
    await settled();
    expect(handledOf(id)).toHaveLength(1);
    if (broker.capabilities.duplicateDroppedBy === 'broker') {
      // JetStream stored it once (the publish says so); core subscribers, like the tap, still see both.
      expect([first.duplicate, second.duplicate]).toEqual([false, true]);
    } else {
      expect(broker.seen().filter((message) => message.id === id)).toHaveLength(2);
    }
  });

  it('runs the handler once for an id another producer wrote twice (the idempotent consumer)', async () => {
    const id = randomUUID();
    await broker.inject({ siteId: 'ams', id });
    await broker.inject({ siteId: 'ams', id });
    await settled();
    expect(handledOf(id)).toHaveLength(1);
    expect(broker.seen().filter((message) => message.id === id)).toHaveLength(2);
  });

  it(`retries a failing handler (${broker.capabilities.retry}): the second attempt succeeds`, async () => {
    const { id } = await publish(FAIL_ONCE);
    await waitFor(
      () => handledOf(id).length > 0,
      () => `the retry of ${id}`,
    );
    await settled();
    expect(handledOf(id).map((event) => event.attempt)).toEqual([2]);
    const redelivered = await broker.redeliveries(subscription);
    if (broker.capabilities.retry === 'redelivered by the broker') expect(redelivered).toBeGreaterThan(0);
    else expect(redelivered).toBeUndefined();
    expect((await broker.deadLetters()).some((letter) => letter.id === id)).toBe(false);
  });

  it('dead-letters an event whose handler keeps failing, with the reason, the attempts and the body unchanged; then carries on', async () => {
    const { id } = await publish(FAIL_ALWAYS);
    await waitFor(
      async () => (await broker.deadLetters()).some((letter) => letter.id === id),
      () => `the dead letter of ${id} at ${broker.capabilities.deadLetterDestination}`,
    );
    const letter = (await broker.deadLetters()).find((l) => l.id === id)!;
    expect(letter.destination).toBe(broker.documentedDeadLetterDestination('ams'));
    expect(letter.headers).toMatchObject({
      'x-codegen-dead-letter-reason': 'handler-failed',
      'x-codegen-attempts': String(FAST_RETRY.maxAttempts),
      'x-codegen-operation': 'onReading',
    });
    expect(letter.headers['x-codegen-error']).toMatch(/fail-always on attempt 2/);
    expect(JSON.parse(letter.body.toString('utf8'))).toEqual({ sensor: FAIL_ALWAYS, value: 1 });
    expect(handledOf(id)).toEqual([]);
    await settled(); // still consuming
  });

  it(`${broker.capabilities.keepsEventsWithoutConsumer ? 'keeps' : 'loses'} an event published while no consumer runs`, async () => {
    const seen: string[] = [];
    const onNote = (payload: any) => void seen.push(payload.text);
    const first = await broker.subscribe(consumer, 'onNote', onNote, 'later');
    await first.close();
    await producer.publishNote({ text: 'while nobody listened' });
    await broker.reached(producer); // before anyone listens again
    await broker.subscribe(consumer, 'onNote', onNote, 'later');
    await producer.publishNote({ text: 'after the consumer came back' });
    await waitFor(
      () => seen.includes('after the consumer came back'),
      () => `the note sent after the consumer came back (got ${JSON.stringify(seen)})`,
    );
    await sleep(100);
    expect(seen).toEqual(broker.capabilities.keepsEventsWithoutConsumer ? ['while nobody listened', 'after the consumer came back'] : ['after the consumer came back']);
  });

  it(`${broker.capabilities.survivesConsumerCrash ? 'delivers again' : 'loses'} an event held by a consumer process killed with SIGKILL`, async () => {
    const { child, lines } = await startConsumerProcess(broker, 'crash');
    await producer.publishNote({ text: `held ${randomUUID()}` });
    // The process holds the first note it gets: this one, or (a new group or durable reading from the
    // start of the log) one an earlier test sent.
    await waitFor(
      () => lines.some((line) => line.startsWith('got ')),
      () => `the consumer process to get a note (it printed ${JSON.stringify(lines)})`,
    );
    const held = lines.find((line) => line.startsWith('got '))!.slice('got '.length);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const seen: string[] = [];
    await broker.subscribe(consumer, 'onNote', (note: any) => void seen.push(note.text), 'crash');
    const after = `after the crash ${randomUUID()}`;
    await producer.publishNote({ text: after });
    await waitFor(
      () => seen.includes(after) && (!broker.capabilities.survivesConsumerCrash || seen.includes(held)),
      () => `the next consumer to get ${broker.capabilities.survivesConsumerCrash ? 'both notes' : 'the note sent after the crash'} (got ${JSON.stringify(seen)})`,
      30_000,
    );
    await sleep(100);
    expect(seen.includes(held)).toBe(broker.capabilities.survivesConsumerCrash);
  });
});

/** Starts processes/consumer.mjs as consumer `group` of `onNote`; resolves once it consumes. */
async function startConsumerProcess(broker: ContractBroker, group: string): Promise<{ child: ChildProcess; lines: string[] }> {
  const args = [CONSUMER_PROCESS, await generatedIndex(), broker.capabilities.target, JSON.stringify(broker.clientOptions()), 'onNote', JSON.stringify(broker.subscribeOptions('onNote', group))];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`the consumer process exited with ${code} before it was ready`))));
  exited.catch(() => undefined); // after ready, an exit is the test's doing
  await Promise.race([
    waitFor(
      () => lines.includes('ready'),
      () => `the consumer process to be ready (it printed ${JSON.stringify(lines)})`,
    ),
    exited,
  ]);
  return { child, lines };
}
