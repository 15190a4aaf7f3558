import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { jsonSchemaToTypescript } from '../../src/generators/types.js';

describe('loading json-schema-to-typescript without its prettier', () => {
  it('compiles types, and leaves the real prettier to every later require', async () => {
    const source = await jsonSchemaToTypescript().compile(
      { type: 'object', properties: { id: { type: 'string' } }, required: ['id'], additionalProperties: false },
      'Thing',
      { bannerComment: '', format: false },
    );
    expect(source).toMatch(/export interface Thing \{\s*id: string;?\s*\}/);
    // The stand-in answered json-schema-to-typescript's own require only: prettier, required now from
    // the same place, is the real one and formats.
    const fromJsts = createRequire(createRequire(import.meta.url).resolve('json-schema-to-typescript'));
    const prettier = fromJsts('prettier') as { format(source: string, options: object): Promise<string> };
    expect(await prettier.format('const  a =  1', { parser: 'babel' })).toBe('const a = 1;\n');
  });
});
