/**
 * The dead-letter API at the type level, on every target: `client.deadLetters.onX` exists for each
 * receive operation without a reply and no other, the payload is the operation's type where the event
 * validates, the origin is the broker's own, and selections and options refuse what they do not take.
 * One snippet per target beside the generated code of the example, compiled with it under `tsc --strict`:
 * a line that must not compile carries `// @ts-expect-error` (tsc reports the directive when it compiles).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileStrict, FIXTURES, generateTo } from '../helpers/codegen.js';

const ORIGIN_FIELD = { rabbitmq: 'routingKey', kafka: 'partition', nats: 'subject' } as const;
const OTHER_FIELD = { rabbitmq: 'partition', kafka: 'subject', nats: 'routingKey' } as const;

function snippet(target: keyof typeof ORIGIN_FIELD): string {
  return `
import { ${target}, type DeadLetter, type Order } from '../index.js';
declare const client: Awaited<ReturnType<typeof ${target}.createClient>>;
export async function check(): Promise<void> {
  const page = await client.deadLetters.onOrderCreated.inspect({ limit: 10, after: 'x' });
  for (const letter of page.letters) {
    const origin = letter.origin.${ORIGIN_FIELD[target]};
    // @ts-expect-error the origin is the broker's own
    void letter.origin.${OTHER_FIELD[target]};
    if (letter.current.valid) {
      const order: Order = letter.current.payload;
      const tenant: string = letter.current.headers['x-tenant'];
      void order, void tenant, void origin;
    } else {
      // @ts-expect-error an event that does not validate has no typed payload
      void letter.current.payload;
      void letter.current.error;
    }
  }
  const first: DeadLetter<Order, unknown, unknown> | undefined = page.letters[0];
  void first;
  await client.deadLetters.onOrderCreated.redrive({ reason: ['handler-failed', 'invalid-payload'] }, { ratePerSecond: 10 });
  await client.deadLetters.onOrderCreated.redrive((letter) => letter.attempts > 2 && letter.current.valid);
  await client.deadLetters.onOrderLifecycle.redrive('all', { includeInvalid: true });
  // @ts-expect-error not a dead-letter reason
  await client.deadLetters.onOrderCreated.redrive({ reason: 'broken' });
  // @ts-expect-error a discard says why
  await client.deadLetters.onOrderCreated.discard({ ids: ['1'] });
  await client.deadLetters.onOrderCreated.discard({ ids: ['1'] }, { reason: 'test order' });
  // @ts-expect-error operations that answer requests have none
  void client.deadLetters.onHandlePaymentAuthorization;
  // @ts-expect-error send operations have none
  void client.deadLetters.publishOrderCreated;
}
`;
}

describe('dead letters at the type level', () => {
  it('types each receive operation\'s dead letters on every target, under tsc --strict', async () => {
    const out = await generateTo(path.join(FIXTURES, 'example/asyncapi.yaml'), ['rabbitmq', 'kafka', 'nats']);
    mkdirSync(path.join(out, 'checks'));
    for (const target of ['rabbitmq', 'kafka', 'nats'] as const) writeFileSync(path.join(out, 'checks', `${target}.ts`), snippet(target));
    await expect(compileStrict([out])).resolves.toBeUndefined();
  }, 120_000);
});
