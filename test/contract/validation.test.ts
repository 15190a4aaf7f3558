/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * The contract, validation on both sides, on every broker (README: "validation on both sides";
 * docs/targets/*.md: "an invalid event throws EventValidationError ... and nothing is sent"):
 *
 * - sending: every refusal is an `EventValidationError` with a documented reason (never a TypeError),
 *   thrown before anything is sent: the raw tap of the broker sees none of the refused events, only
 *   the valid event published after them. What is absent is checked as well as what is present (a
 *   JavaScript caller that leaves out `headers`, `parameters` or a demanded key is refused too).
 * - receiving: an event written by a plain client that breaks the document is never handed to the
 *   handler; it is dead-lettered with its reason, read back raw from the dead-letter destination.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractBrokers, failureOf, waitFor, type RawReading } from './brokers.js';

const READING = { sensor: 'sensor-1', value: 21.5 };

interface Refusal {
  title: string;
  reason: string;
  /** The payload (default READING) and what changes in the broker's usual options (undefined removes one). */
  payload?: unknown;
  options: Record<string, unknown>;
  /** Only where the broker's capabilities say so (a key only where a binding can demand one). */
  when?: 'keys';
}

const REFUSALS: Refusal[] = [
  { title: 'a payload that breaks the schema', reason: 'invalid-payload', payload: { sensor: '', value: 'high' }, options: {} },
  { title: 'a payload with a property the schema does not allow', reason: 'invalid-payload', payload: { ...READING, extra: true }, options: {} },
  { title: 'a header value outside its schema (x-priority 12, maximum 9)', reason: 'invalid-headers', options: { headers: { 'x-tenant': 'acme', 'x-priority': 12 } } },
  { title: 'headers without the required x-tenant', reason: 'invalid-headers', options: { headers: { 'x-priority': 1 } } },
  { title: 'no headers at all while x-tenant is required (a JavaScript caller)', reason: 'invalid-headers', options: { headers: undefined } },
  { title: 'no parameters while the channel has one (a JavaScript caller)', reason: 'invalid-address', options: { parameters: undefined } },
  { title: 'a parameter value outside its enum', reason: 'invalid-address', options: { parameters: { siteId: 'mars' } } },
  ...['ams.1', 'ams/1', 'ams*', '>', 'a b', ''].map((siteId): Refusal => ({ title: `a parameter value ${JSON.stringify(siteId)} (a separator, wildcard, space or nothing; validation off: the address guard itself)`, reason: 'invalid-address', options: { parameters: { siteId }, validate: false } })),
  { title: 'no key while the binding demands one (a JavaScript caller)', reason: 'invalid-key', options: { key: undefined }, when: 'keys' },
  { title: 'a key of the wrong type (a number for a string key)', reason: 'invalid-key', options: { key: 42 }, when: 'keys' },
];

/** A raw event that breaks the document, and what the consumer must do with it. */
interface InboundCase {
  title: string;
  reading: Omit<RawReading, 'id'>;
  reason: string;
  error: RegExp;
}

const INBOUND: InboundCase[] = [
  { title: 'a payload that breaks the schema', reading: { siteId: 'ams', payload: { sensor: 'raw', value: 'high' } }, reason: 'invalid-payload', error: /\/value type: must be number/ },
  { title: 'no x-tenant header (required)', reading: { siteId: 'ams', headers: { 'x-tenant': undefined } }, reason: 'invalid-headers', error: /x-tenant required/ },
  { title: 'x-priority "high" (an integer expected)', reading: { siteId: 'ams', headers: { 'x-priority': 'high' } }, reason: 'invalid-headers', error: /\/x-priority type: must be integer/ },
];

describe.each(contractBrokers())('$name: validation on both sides', ({ create }) => {
  const broker = create();
  let client: any;
  const handled: Array<{ payload: any; context: any }> = [];

  beforeAll(async () => {
    await broker.start();
    client = await broker.client();
    await broker.subscribe(client, 'onReading', (payload, context) => void handled.push({ payload, context }), 'onReading');
  });

  afterAll(async () => {
    await broker.stop();
  });

  /** Publishes a valid event and waits until the tap saw it: anything sent before it has arrived too. */
  async function publishMarker(): Promise<void> {
    const { id } = await client.publishReading(READING, broker.readingOptions());
    await waitFor(
      () => broker.seen().some((message) => message.id === id),
      () => `the valid event ${id} on the raw tap (saw ${broker.seen().length})`,
    );
  }

  const refusals = REFUSALS.filter((refusal) => refusal.when === undefined || broker.capabilities[refusal.when]);

  for (const refusal of refusals) it(`refuses ${refusal.title} with EventValidationError (${refusal.reason}) before sending`, async () => {
    const id = `refused-${randomUUID()}`;
    const options: Record<string, unknown> = { ...broker.readingOptions(), ...refusal.options, id };
    for (const [name, value] of Object.entries(refusal.options)) if (value === undefined) delete options[name];
    const error = await failureOf(() => client.publishReading(refusal.payload ?? READING, options));
    expect(error).not.toBeInstanceOf(TypeError);
    expect(error).toBeInstanceOf(broker.root.EventValidationError);
    expect({ name: error.name, reason: error.reason }).toEqual({ name: 'EventValidationError', reason: refusal.reason });
    // Nothing reached the broker: once the valid event published next arrived, the tap still saw no event with the refused id.
    await publishMarker();
    expect(broker.seen().filter((message) => message.id === id)).toEqual([]);
  });

  it(`${broker.capabilities.keys ? 'sends with the demanded key' : 'demands no key'}, and the consumer gets payload, headers and parameters typed`, async () => {
    const { id } = await client.publishReading(READING, broker.readingOptions({ headers: { 'x-tenant': 'acme', 'x-priority': 3 }, parameters: { siteId: 'fra' } }));
    await waitFor(
      () => handled.some((event) => event.context.envelope.id === id),
      () => `the handler to get ${id}`,
    );
    const event = handled.find((e) => e.context.envelope.id === id)!;
    expect(event.payload).toEqual(READING);
    expect(event.context.headers).toMatchObject({ 'x-tenant': 'acme', 'x-priority': 3 }); // the number, converted back
    if (broker.capabilities.keys) expect(event.context.key).toBe('sensor-1');
    expect(event.context.parameters).toEqual({ siteId: 'fra' });
  });

  for (const inbound of INBOUND) it(`dead-letters a received event with ${inbound.title} (${inbound.reason}), never handing it to the handler`, async () => {
    const id = randomUUID();
    await broker.inject({ ...inbound.reading, id });
    await waitFor(
      async () => (await broker.deadLetters()).some((letter) => letter.id === id),
      () => `the dead letter of ${id}`,
    );
    const letter = (await broker.deadLetters()).find((l) => l.id === id)!;
    expect(letter.headers['x-codegen-dead-letter-reason']).toBe(inbound.reason);
    expect(letter.headers['x-codegen-error']).toMatch(inbound.error);
    expect(letter.headers['x-codegen-operation']).toBe('onReading');
    expect(handled.some((event) => event.context.envelope.id === id)).toBe(false);
  });

  it('with validate: false a publish sends an invalid payload; the consumer, validating, dead-letters it (invalid-payload)', async () => {
    const { id } = await client.publishReading({ sensor: 'unchecked', value: 'high' }, broker.readingOptions({ validate: false }));
    await waitFor(
      async () => (await broker.deadLetters()).some((letter) => letter.id === id),
      () => `the dead letter of ${id}`,
    );
    const letter = (await broker.deadLetters()).find((l) => l.id === id)!;
    expect(letter.headers['x-codegen-dead-letter-reason']).toBe('invalid-payload');
    expect(handled.some((event) => event.context.envelope.id === id)).toBe(false);
  });

  it(`an address whose parameter is outside the enum is ${broker.capabilities.invalidAddressOnReceipt} on receipt`, async () => {
    const id = randomUUID();
    await broker.inject({ siteId: 'mars', id });
    if (broker.capabilities.invalidAddressOnReceipt === 'dead-lettered') {
      await waitFor(
        async () => (await broker.deadLetters()).some((letter) => letter.id === id),
        () => `the dead letter of ${id}`,
      );
      const letter = (await broker.deadLetters()).find((l) => l.id === id)!;
      expect(letter.headers['x-codegen-dead-letter-reason']).toBe('invalid-address');
      expect(handled.some((event) => event.context.envelope.id === id)).toBe(false);
    } else {
      await waitFor(
        () => handled.some((event) => event.context.envelope.id === id),
        () => `the handler to get ${id}`,
      );
      expect(handled.find((event) => event.context.envelope.id === id)!.context.parameters).toBeUndefined();
      expect((await broker.deadLetters()).some((letter) => letter.id === id)).toBe(false);
    }
  });
});
