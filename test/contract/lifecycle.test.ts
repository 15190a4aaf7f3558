/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * The contract, a client's life, on every broker (README: "graceful shutdown, reconnection";
 * docs/targets/*.md "Close", "Reconnection"): `close()` lets the handlers and publishes in progress
 * finish before it resolves, and a closed client refuses publishes and requests with `ClientClosedError`, sending
 * nothing; a client whose connection is cut reconnects and goes on publishing and consuming, where
 * the broker's capabilities say that can be done on a shared broker, and the data says why not where
 * it cannot.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/codegen.js';
import { contractBrokers, failureOf, sleep, waitFor } from './brokers.js';

const SLOW_HANDLER_MS = 500;

describe.each(contractBrokers())('$name: close and reconnection', ({ create }) => {
  const broker = create();

  beforeAll(async () => {
    await broker.start();
  });

  afterAll(async () => {
    await broker.stop();
  });

  it('close() waits for the handler in progress, then refuses publishes and requests with ClientClosedError, sending nothing', async () => {
    const client = await broker.client();
    const steps: string[] = [];
    await broker.subscribe(
      client,
      'onReading',
      async (payload: any) => {
        steps.push(`handler started ${payload.sensor}`);
        await sleep(SLOW_HANDLER_MS);
        steps.push(`handler finished ${payload.sensor}`);
      },
      'closing',
    );
    await client.publishReading({ sensor: 'slow', value: 1 }, broker.readingOptions());
    await waitFor(
      () => steps.includes('handler started slow'),
      () => 'the slow handler to start',
    );
    await client.close();
    steps.push('close resolved');
    expect(steps).toEqual(['handler started slow', 'handler finished slow', 'close resolved']);
    expect((await broker.deadLetters()).length).toBe(0);

    const id = 'after-close';
    const publish = await failureOf(() => client.publishReading({ sensor: 'late', value: 1 }, broker.readingOptions({ id })));
    expect(publish).toBeInstanceOf(broker.root.ClientClosedError);
    const request = await failureOf(() => client.requestQuote({ item: 'late', quantity: 1 }, { timeoutMs: 1_000 }));
    expect(request).toBeInstanceOf(broker.root.ClientClosedError);
    await client.close(); // again: no error
    await sleep(100);
    expect(broker.seen().filter((message) => message.id === id)).toEqual([]);
  });

  it('close() lets publishes in progress finish: they resolve, and the events reach the broker', async () => {
    const client = await broker.client();
    const publishes = Array.from({ length: 20 }, (_, i) => client.publishReading({ sensor: `in-flight-${i}`, value: i }, broker.readingOptions()));
    await client.close();
    const ids = (await Promise.all(publishes)).map((published: any) => published.id);
    await waitFor(
      () => ids.every((id) => broker.seen().some((message) => message.id === id)),
      () => `every event published before close() on the raw tap (saw ${ids.filter((id) => broker.seen().some((m) => m.id === id)).length} of ${ids.length})`,
    );
  });

  const reconnection = broker.capabilities.reconnection;
  if (reconnection.exercised) {
    it(`reconnects after ${reconnection.how}, and publishes and consumes again`, async () => {
      const client = await broker.severableClient();
      const notes: string[] = [];
      await broker.subscribe(client, 'onNote', (note: any) => void notes.push(note.text), 'reconnecting');
      await client.publishNote({ text: 'before' });
      await waitFor(
        () => notes.includes('before'),
        () => 'the note sent before the cut',
      );
      await broker.sever(client);
      await client.publishNote({ text: 'after' });
      if (reconnection.publishedAfterTheCut === 'may be lost') {
        // At-most-once: keep publishing until the consumer, resubscribed, gets one (bounded).
        for (let i = 0; i < 40 && !notes.includes('after'); i++) {
          await sleep(250);
          await client.publishNote({ text: 'after' });
        }
      }
      await waitFor(
        () => notes.includes('after'),
        () => `the note sent after the cut (got ${JSON.stringify(notes)})`,
        30_000,
      );
      await sleep(100);
      if (reconnection.publishedAfterTheCut === 'delivered') expect(notes).toEqual(['before', 'after']);
      else expect(notes.slice(0, 2)).toEqual(['before', 'after']);
    });
  } else {
    it('reconnection is not exercised on the shared broker: the capability data says why and names the test that does it', () => {
      const test = /test\/\S+\.test\.ts/.exec(reconnection.why)?.[0];
      expect(test, 'the reason names the test file that exercises reconnection').toBeDefined();
      expect(existsSync(path.join(ROOT, test!))).toBe(true);
    });
  }
});
