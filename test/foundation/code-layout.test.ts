import fc from 'fast-check';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { inPrettierForm, PRETTIER_OPTIONS } from '../../src/format/prettier.js';
import {
  callStatement,
  callWithLastObject,
  Code,
  declaration,
  literalNode,
  methodSignature,
  objectBody,
  typeAlias,
  typedMember,
  unionAlias,
  type LiteralNode,
} from '../../src/view/code-layout.js';

// The clients skip prettier when the view's layouts (src/view/code-layout.ts) left every line of
// code within the width: on random code, whatever the format stage would keep must be exactly what
// prettier prints. Lengths cross the print width, so both sides of every layout are tried.

const identifier = fc
  .tuple(fc.constantFrom('a', 'on', 'spec', 'topic', 'validate', 'x'), fc.integer({ min: 0, max: 90 }))
  .map(([stem, length]) => stem + 'Z'.repeat(length));
const key = fc.oneof(identifier, fc.constantFrom('a-b', "it's", 'k"1', '__proto__', '1', '', 'x y', 'ünï', '*/', '${y}', 'class'));
const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.tuple(fc.constantFrom('', "'", '"', "it's \"q\"", '\\', 'ü'), fc.integer({ min: 0, max: 120 })).map(([mark, length]) => mark + 'q'.repeat(length) + mark),
);
const code = fc.oneof(
  identifier.map((name) => new Code(`operations.${name}Spec`)),
  identifier.map((name) => new Code(name)),
  identifier.map((name) => new Code(`() => '${name}'`)),
  fc.constantFrom(new Code('undefined'), new Code('acceptAny'), new Code('slashSubjects(true, false)')),
);
const { value: literal } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, text, fc.boolean(), fc.integer({ min: -5, max: 100_000 }), fc.constant(null), code, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
}));
const object = fc.dictionary(key, literal, { minKeys: 1, maxKeys: 6 });

const simpleType = fc.oneof(identifier.map((name) => `types.${name}`), fc.constantFrom('string', 'void', 'Record<string, string>', 'Record<string, never>', "'a' | 'b'"));
const type = fc.oneof(
  simpleType,
  fc.array(simpleType, { minLength: 2, maxLength: 4 }).map((types) => types.join(' | ')),
  fc.tuple(simpleType, fc.array(fc.tuple(fc.constantFrom('key', 'parameters', 'headers'), simpleType), { maxLength: 3 })).map(
    ([base, members]) => [`SendOptions<${base}>`, ...members.map(([name, member]) => `{ ${name}: ${member} }`)].join(' & '),
  ),
);
const generic = fc.tuple(fc.constantFrom('SendRoute', 'Promise', 'DeadLetters', 'X'), fc.array(type, { minLength: 1, maxLength: 5 })).map(([name, args]) => `${name}<${args.join(', ')}>`);

/** The format stage keeps `source` as it is only when prettier would print it so. */
async function expectPrettierFormWhenKept(source: string): Promise<void> {
  if (!inPrettierForm(source)) return;
  expect(source).toBe(await prettier.format(source, { ...PRETTIER_OPTIONS, filepath: 'x.ts' }));
}

const RUNS = { numRuns: 150 };

describe('code laid out by the view, kept only when prettier would print it so', () => {
  it('declarations of typed literals (routes, topology), broken open or not', async () => {
    await fc.assert(
      fc.asyncProperty(identifier, fc.oneof(generic, type), object, fc.boolean(), async (name, annotation, value, expanded) => {
        await expectPrettierFormWhenKept(`${declaration(`const ${name}`, annotation, literalNode(value), expanded)}\n`);
      }),
      RUNS,
    );
  });

  it('the properties of an object written broken open', async () => {
    await fc.assert(
      fc.asyncProperty(identifier, object, async (name, value) => {
        const entries = Object.entries(value).map(([property, item]): [string, LiteralNode] => [property, literalNode(item)]);
        await expectPrettierFormWhenKept(`const o = {\n  ${name}: {\n${objectBody('    ', entries)}\n  },\n};\n`);
      }),
      RUNS,
    );
  });

  it('method signatures, interface members and transport calls', async () => {
    await fc.assert(
      fc.asyncProperty(identifier, fc.oneof(generic, type), fc.oneof(generic, type), generic, fc.array(identifier, { minLength: 1, maxLength: 5 }), async (name, first, second, returned, args) => {
        const parameters = [{ name: 'payload', type: first }, { name: 'options', type: second, defaultValue: '{}' }];
        const body = callStatement('    ', `return this.#transport.${name}`, args, ';');
        await expectPrettierFormWhenKept(`class C {\n${methodSignature('  ', name, parameters, returned)}\n${body}\n  }\n}\n`);
        await expectPrettierFormWhenKept(`interface I {\n${typedMember('  ', `readonly ${name}`, returned)}\n}\n`);
      }),
      RUNS,
    );
  });

  it('type aliases: references, intersections and unions', async () => {
    await fc.assert(
      fc.asyncProperty(identifier, fc.oneof(generic, type), fc.array(text, { minLength: 1, maxLength: 6 }), async (name, aliased, members) => {
        await expectPrettierFormWhenKept(`${typeAlias(`export type ${name}`, aliased)}\n`);
        await expectPrettierFormWhenKept(`${unionAlias(`export type ${name}`, members.map((member) => (literalNode(member) as { text: string }).text))}\n`);
      }),
      RUNS,
    );
  });

  it('a call whose last argument is an object', async () => {
    await fc.assert(
      fc.asyncProperty(identifier, fc.dictionary(key, fc.oneof(text, fc.boolean(), fc.array(text, { maxLength: 3 })), { minKeys: 1, maxKeys: 5 }), async (name, value) => {
        const statement = callWithLastObject('  ', `const transport = await ${name}.connect`, ['options'], literalNode(value), ';');
        await expectPrettierFormWhenKept(`async function f() {\n${statement}\n  return transport;\n}\n`);
      }),
      RUNS,
    );
  });
});
