import fc from 'fast-check';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { formatFiles, PRETTIER_OPTIONS, splitHeader } from '../../src/format/prettier.js';
import type { GeneratorContext } from '../../src/generators/contract.js';
import { typesGenerator } from '../../src/generators/types.js';
import { layoutTypes } from '../../src/generators/types-layout.js';
import { schemaDescription } from '../../src/model/names.js';
import { createRenderer } from '../../src/render/renderer.js';

type Schema = Record<string, unknown>;

const DEFINITIONS = ['Alpha', 'Beta', 'GammaWithARatherLongNameForALineOfItsOwn'];
const long = (stem: string) => `${stem}-${'x'.repeat(40)}`;
// Keys json-schema-to-typescript prints bare, keys it quotes (quotes inside, both kinds), and names of Object.prototype.
const KEYS = ['a', 'id', 'x-tenant', "it's", 'say "hi"', `both ' and "`, 'constructor', '__proto__', '1', 'a b', 'back\\slash', long('key'), 'aPropertyNameLongEnoughToPushItsTypeTowardsTheEdgeOfTheLineWhenTheTypeIsAUnion'];
const TEXTS = ['on', 'off', "it's", 'say "hi"', `'both' "kinds" '`, 'back\\slash', '', long('value'), long('another')];
// Values the layout leaves to prettier (a character it does not measure, a number prettier rewrites): rare, so most documents are laid out.
const RARE = fc.constantFrom<unknown>('tab\there', 'caf\u00e9', 1e21);
const enumValue = fc.oneof({ arbitrary: fc.constantFrom<unknown>(...TEXTS, 0, 1, -1, 2.5, true, null), weight: 100 }, { arbitrary: RARE, weight: 1 });
const DESCRIPTIONS = [
  'One line.',
  'Two\nlines.',
  'Blank\n\nline and   trailing spaces   \n  leading spaces',
  'Closes */ a comment and opens /* one',
  ' * looks like a star line\n*',
  '@ts-ignore this',
  'x'.repeat(130),
];

const scalar: fc.Arbitrary<Schema> = fc.oneof(
  fc.constantFrom<Schema>({ type: 'string' }, { type: 'integer' }, { type: 'number' }, { type: 'boolean' }, { type: 'null' }, { type: ['string', 'null'] }, {}),
  fc.array(enumValue, { minLength: 1, maxLength: 8 }).map((values) => ({ enum: values })),
  fc.constantFrom(...TEXTS).map((value) => ({ const: value })),
  fc.constantFrom(...DEFINITIONS).map((name) => ({ $ref: `#/definitions/${name}` })),
);

const schema: fc.Arbitrary<Schema> = fc.letrec<{ any: Schema; object: Schema; array: Schema; combo: Schema }>((tie) => ({
  any: fc
    .tuple(fc.oneof({ depthSize: 'small', maxDepth: 3 }, scalar, tie('object'), tie('array'), tie('combo')), fc.option(fc.constantFrom(...DESCRIPTIONS), { nil: undefined }))
    .map(([body, description]) => (description === undefined || body.$ref ? body : { ...body, description: schemaDescription(description) })),
  object: fc
    .record(
      {
        properties: fc.dictionary(fc.constantFrom(...KEYS), tie('any'), { maxKeys: 4 }),
        required: fc.subarray(KEYS),
        additionalProperties: fc.oneof(fc.boolean(), tie('any')),
        patternProperties: fc.constantFrom({ '^x-': { type: 'string' } }),
      },
      { requiredKeys: ['properties'] },
    )
    .map((body) => ({ type: 'object', ...body })),
  array: fc.oneof(
    tie('any').map((items) => ({ type: 'array', items })),
    fc.record({ items: fc.array(tie('any'), { minLength: 1, maxLength: 3 }), minItems: fc.nat(3), additionalItems: fc.oneof(fc.boolean(), tie('any')) }, { requiredKeys: ['items'] }).map((body) => ({ type: 'array', ...body })),
  ),
  combo: fc
    .record({ keyword: fc.constantFrom('anyOf', 'oneOf', 'allOf'), branches: fc.array(tie('any'), { minLength: 1, maxLength: 4 }) })
    .map(({ keyword, branches }) => ({ [keyword]: branches })),
})).any;

async function typesFile(schemas: Record<string, Schema>) {
  const context = { model: { schemas }, view: { headerComment: 'Generated.' }, renderer: createRenderer() } as unknown as GeneratorContext;
  try {
    const [file] = await typesGenerator.generate(context);
    return file!;
  } catch (error) {
    // json-schema-to-typescript merges a definition into an identical one; the model never gives it two such.
    fc.pre(!String(error).includes('did not keep the type name'));
    throw error;
  }
}

describe("types.ts in prettier's form (src/generators/types-layout.ts)", () => {
  it('is what prettier prints whenever it is flagged and kept, for random schemas', async () => {
    let kept = 0;
    await fc.assert(
      fc.asyncProperty(fc.tuple(...DEFINITIONS.map(() => schema)), async (bodies) => {
        // A definition that is a bare reference (a cycle for json-schema-to-typescript) is one the model never makes.
        const definition = (body: Schema): Schema => (body.$ref ? { type: 'object', properties: { ref: body } } : body);
        const file = await typesFile(Object.fromEntries(DEFINITIONS.map((name, index) => [name, definition(bodies[index]!)])));
        if (!file.prettierForm) return;
        const out = (await formatFiles([file]))[0]!;
        if (out.content !== file.content) return; // not kept (a line too wide): prettier formatted it
        kept++;
        const { body } = splitHeader(file.content);
        expect(await prettier.format(body, { ...PRETTIER_OPTIONS, filepath: 'types.ts' })).toBe(body);
      }),
      { numRuns: 400 },
    );
    // The property is not vacuous: many random documents are laid out and kept.
    expect(kept).toBeGreaterThan(40);
  }, 120_000);

  it('leaves to prettier what it does not model', () => {
    expect(layoutTypes('export enum Colour {\nRed = "red"\n}')).toBeUndefined();
    expect(layoutTypes('export type A = 1e+21')).toBeUndefined();
    expect(layoutTypes('export interface A {\n"a;"?: -1[][]\n}')).toBeUndefined();
    expect(layoutTypes('export type A = "caf\u00e9"')).toBeUndefined();
    expect(layoutTypes('')).toBeUndefined();
  });

  it('leaves a document without schemas to prettier (the template would end in blank lines)', async () => {
    const file = await typesFile({});
    expect(file.prettierForm).toBe(false);
    const { body } = splitHeader((await formatFiles([file]))[0]!.content);
    expect(body).toBe(await prettier.format(body, { ...PRETTIER_OPTIONS, filepath: 'types.ts' }));
  });

  it('breaks a long union one member per line, with its comment re-indented', () => {
    const members = [`"${'a'.repeat(50)}"`, `"${'b'.repeat(50)}"`, '"it\'s"'];
    const source = `export interface A {\n/**\n * Kind.  \n * \n */\nkind?: (${members.join(' | ')})\n}`;
    expect(layoutTypes(source)).toBe(
      [
        'export interface A {',
        '  /**',
        '   * Kind.',
        '   *',
        '   */',
        '  kind?:',
        `    | '${'a'.repeat(50)}'`,
        `    | '${'b'.repeat(50)}'`,
        '    | "it\'s";',
        '}',
      ].join('\n'),
    );
  });
});
