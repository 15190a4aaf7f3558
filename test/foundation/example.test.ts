import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileStrict, FIXTURES, generateTo, importGenerated } from '../helpers/codegen.js';

describe('bundled example', () => {
  it('generates for every target, compiles under --strict and validates its own examples', async () => {
    const out = await generateTo(path.join(FIXTURES, 'example/asyncapi.yaml'), ['rabbitmq', 'kafka', 'nats']);
    await compileStrict([out], { emit: true });
    const generated = await importGenerated<Record<string, (data: unknown) => { ok: boolean }>>(out, 'validators.js');
    expect(generated.validateOrder!({ orderId: 'x' }).ok).toBe(false);
  });
});
