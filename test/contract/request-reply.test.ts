/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * The contract, request/reply, on every broker (README: `requestX` resolves with
 * `{ payload, headers, envelope }`; docs/targets/*.md "Request/reply"): the reply is the responder's
 * return value, validated; an invalid request is refused before sending; a responder that fails, and
 * a request nobody answers, end the request as the broker's capabilities say.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractBrokers, failureOf } from './brokers.js';

/** The responder's behaviour, chosen by the request's `item`. */
const FAIL = 'fail';
const BAD_REPLY = 'bad-reply';
const TIMEOUT_MS = 2_000;

describe.each(contractBrokers())('$name: request/reply', ({ create }) => {
  const broker = create();
  let requester: any;
  let responder: any;
  const answered: any[] = [];

  beforeAll(async () => {
    await broker.start();
    requester = await broker.client();
    responder = await broker.client();
  });

  afterAll(async () => {
    await broker.stop();
  });

  function request(item: string, quantity = 2): Promise<any> {
    return requester.requestQuote({ item, quantity }, { timeoutMs: TIMEOUT_MS });
  }

  // First, while no responder listens.
  it(`a request nobody answers rejects with ${broker.capabilities.noResponder}`, async () => {
    const error = await failureOf(() => request('nobody'));
    expect(error).toBeInstanceOf(broker.root[broker.capabilities.noResponder]);
  });

  it('the reply is what the responder returned, validated, with its envelope', async () => {
    await broker.subscribe(
      responder,
      'onAnswerQuote',
      (quote: any, context: any) => {
        answered.push({ quote, context });
        if (quote.item === FAIL) throw new Error('no price for this item');
        if (quote.item === BAD_REPLY) return { item: quote.item, price: 'free' };
        return { item: quote.item, price: quote.quantity * 2.5 };
      },
      'quotes',
    );
    const reply = await request('widget', 4);
    expect(reply.payload).toEqual({ item: 'widget', price: 10 });
    expect(reply.envelope).toMatchObject({ specversion: '1.0', type: 'com.example.contract.quote' });
    expect(answered.map((a) => a.quote)).toContainEqual({ item: 'widget', quantity: 4 });
  });

  it('refuses an invalid request with EventValidationError (invalid-payload) before sending; the responder never sees it', async () => {
    const before = answered.length;
    const error = await failureOf(() => requester.requestQuote({ item: 'widget', quantity: 0 }, { timeoutMs: TIMEOUT_MS }));
    expect(error).toBeInstanceOf(broker.root.EventValidationError);
    expect(error.reason).toBe('invalid-payload');
    await request('after-the-refusal'); // answered: so the refused one would have been seen first
    expect(answered.slice(before).map((a) => a.quote.item)).toEqual(['after-the-refusal']);
  });

  it(`a responder that throws makes the request reject with ${broker.capabilities.responderFailure}`, async () => {
    const error = await failureOf(() => request(FAIL));
    expect(error).toBeInstanceOf(broker.root[broker.capabilities.responderFailure]);
    if (error instanceof broker.root.RequestFailedError) expect(error.reason).toBe('handler-failed');
  });

  it(`an invalid reply never reaches the requester: the request rejects with ${broker.capabilities.responderFailure}`, async () => {
    const error = await failureOf(() => request(BAD_REPLY));
    expect(error).toBeInstanceOf(broker.root[broker.capabilities.responderFailure]);
  });
});
