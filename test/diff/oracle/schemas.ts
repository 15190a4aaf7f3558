import fc from 'fast-check';

/**
 * Random small JSON Schemas and random edits of them, for the empirical oracle. The vocabulary is
 * the one the issue lists: types (with null), properties under open and closed content models,
 * required, enum, const, numeric/length/item/property bounds, pattern, format, multipleOf,
 * uniqueItems, items, nested objects, allOf/anyOf/oneOf, not, and $ref into definitions.
 */

export type Schema = Record<string, unknown> | boolean;

export const PROPS = ['a', 'b', 'c'] as const;
export const VALUES: unknown[] = [0, 1, 2, -1, 3, 1.5, 'a', 'b', 'ab', '', true, false, null];
export const PATTERNS = ['^a', 'b$', '^[ab]*$', '^.{2,}$'];
export const FORMATS = ['date', 'email'];
const SCALAR_TYPES = ['string', 'integer', 'number', 'boolean', 'null'] as const;

const small = fc.integer({ min: -2, max: 4 });
const count = fc.integer({ min: 0, max: 3 });
const typeArb = fc.oneof(
  fc.constantFrom(...SCALAR_TYPES),
  fc.subarray([...SCALAR_TYPES], { minLength: 1, maxLength: 3 }),
);

const scalarArb: fc.Arbitrary<Schema> = fc
  .record(
    {
      type: typeArb,
      enum: fc.subarray(VALUES, { minLength: 1, maxLength: 4 }),
      const: fc.constantFrom(...VALUES),
      minimum: small,
      maximum: small,
      exclusiveMinimum: small,
      exclusiveMaximum: small,
      multipleOf: fc.constantFrom(2, 3, 4, 6),
      minLength: count,
      maxLength: count,
      pattern: fc.constantFrom(...PATTERNS),
      format: fc.constantFrom(...FORMATS),
      description: fc.constantFrom('one', 'two'),
      default: fc.constantFrom(...VALUES),
    },
    { requiredKeys: [] },
  )
  .map((schema) => {
    // Keep schemas readable: at most a few keywords, and const rarely together with enum.
    const keys = Object.keys(schema);
    const out: Record<string, unknown> = {};
    for (const key of keys.slice(0, 4)) out[key] = (schema as Record<string, unknown>)[key];
    return out;
  });

export const schemaArb: fc.Arbitrary<Schema> = fc.letrec<{ schema: Schema; object: Schema; array: Schema; combo: Schema }>((tie) => ({
  schema: fc.oneof({ depthSize: 'small', maxDepth: 3 }, scalarArb, tie('object'), tie('array'), tie('combo'), fc.constantFrom<Schema>(true, {})),
  object: fc
    .record(
      {
        properties: fc.dictionary(fc.constantFrom(...PROPS), tie('schema'), { maxKeys: 3 }),
        required: fc.subarray([...PROPS]),
        additionalProperties: fc.oneof(fc.boolean(), scalarArb),
        minProperties: count,
        maxProperties: count,
        typed: fc.boolean(),
      },
      { requiredKeys: ['properties', 'typed'] },
    )
    .map(({ typed, ...rest }) => (typed ? { type: 'object', ...rest } : rest)),
  array: fc
    .record({ items: tie('schema'), minItems: count, maxItems: count, uniqueItems: fc.boolean() }, { requiredKeys: ['items'] })
    .map((rest) => ({ type: 'array', ...rest })),
  combo: fc.oneof(
    fc.record({ keyword: fc.constantFrom('anyOf', 'oneOf', 'allOf'), branches: fc.array(tie('schema'), { minLength: 1, maxLength: 3 }) }).map(({ keyword, branches }) => ({ [keyword]: branches })),
    fc.record({ not: scalarArb }),
  ),
})).schema;

/** One random edit of a schema node. */
export interface Mutation {
  kind: string;
  pick: number;
  value: unknown;
  schema: Schema;
  n: number;
}

const KINDS = [
  'type', 'addNull', 'dropType', 'enumAdd', 'enumDrop', 'enumSet', 'enumClear', 'const', 'constClear',
  'bound', 'boundClear', 'pattern', 'patternClear', 'format', 'formatClear', 'required', 'propAdd', 'propDrop',
  'additional', 'unique', 'wrapAnyOf', 'wrapOneOf', 'wrapAllOf', 'branchAdd', 'branchDrop', 'not', 'notClear',
  'reorder', 'toRef', 'describe', 'replace',
] as const;
const BOUNDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'multipleOf'];

export const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom(...KINDS),
  pick: fc.nat(),
  value: fc.constantFrom(...VALUES),
  schema: fc.oneof(scalarArb, fc.constantFrom<Schema>({ type: 'object', properties: { a: { type: 'string' } } }, { type: 'array', items: { type: 'integer' } })),
  n: fc.integer({ min: -1, max: 4 }),
});

/** A schema with the definitions its `$ref`s point into. */
export interface Rooted {
  root: Schema;
  definitions: Record<string, Schema>;
}

/** Every object-valued schema position of a rooted schema, with a setter. */
function positions(rooted: Rooted): Array<{ get: () => Schema; set: (s: Schema) => void }> {
  const out: Array<{ get: () => Schema; set: (s: Schema) => void }> = [];
  const visit = (get: () => Schema, set: (s: Schema) => void, depth: number) => {
    out.push({ get, set });
    const node = get();
    if (typeof node !== 'object' || depth > 6) return;
    const n = node as Record<string, unknown>;
    if (n.properties && typeof n.properties === 'object') {
      for (const key of Object.keys(n.properties)) {
        const props = n.properties as Record<string, Schema>;
        visit(() => props[key]!, (s) => (props[key] = s), depth + 1);
      }
    }
    for (const key of ['items', 'additionalProperties', 'not']) {
      if (n[key] !== undefined && typeof n[key] === 'object') visit(() => n[key] as Schema, (s) => (n[key] = s), depth + 1);
    }
    for (const key of ['anyOf', 'oneOf', 'allOf']) {
      if (Array.isArray(n[key])) (n[key] as Schema[]).forEach((_, i) => visit(() => (n[key] as Schema[])[i]!, (s) => ((n[key] as Schema[])[i] = s), depth + 1));
    }
  };
  visit(() => rooted.root, (s) => (rooted.root = s), 0);
  for (const name of Object.keys(rooted.definitions)) visit(() => rooted.definitions[name]!, (s) => (rooted.definitions[name] = s), 1);
  return out;
}

function shuffled<T>(list: T[], seed: number): T[] {
  const copy = [...list];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = (seed + i * 7) % (i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/** Applies edits to a copy; `reorder` and `toRef` keep the meaning, the others usually change it. */
export function mutate(base: Rooted, mutations: Mutation[]): Rooted {
  const rooted: Rooted = structuredClone(base);
  for (const m of mutations) {
    const spots = positions(rooted);
    const spot = spots[m.pick % spots.length]!;
    let node = spot.get();
    if (typeof node === 'boolean') {
      if (m.kind === 'replace' || m.kind === 'type') spot.set(structuredClone(m.schema));
      else spot.set(node ? {} : { not: {} });
      continue;
    }
    node = node as Record<string, unknown>;
    const n = node;
    switch (m.kind) {
      case 'type':
        n.type = SCALAR_TYPES[Math.abs(m.n) % SCALAR_TYPES.length];
        break;
      case 'addNull':
        n.type = n.type === undefined ? 'null' : [...new Set([...(Array.isArray(n.type) ? n.type : [n.type]), 'null'])];
        break;
      case 'dropType':
        delete n.type;
        break;
      case 'enumAdd':
        n.enum = [...new Set([...(Array.isArray(n.enum) ? n.enum : []), m.value])];
        break;
      case 'enumDrop':
        if (Array.isArray(n.enum) && n.enum.length > 1) n.enum = n.enum.slice(1);
        break;
      case 'enumSet':
        n.enum = VALUES.slice(Math.abs(m.n) % 5, (Math.abs(m.n) % 5) + 3);
        break;
      case 'enumClear':
        delete n.enum;
        break;
      case 'const':
        n.const = m.value;
        break;
      case 'constClear':
        delete n.const;
        break;
      case 'bound': {
        const keyword = BOUNDS[m.pick % BOUNDS.length]!;
        n[keyword] = keyword === 'multipleOf' ? [2, 3, 4, 6][Math.abs(m.n) % 4] : /Length|Items|Properties/.test(keyword) ? Math.abs(m.n) : m.n;
        break;
      }
      case 'boundClear':
        delete n[BOUNDS[m.pick % BOUNDS.length]!];
        break;
      case 'pattern':
        n.pattern = PATTERNS[m.pick % PATTERNS.length];
        break;
      case 'patternClear':
        delete n.pattern;
        break;
      case 'format':
        n.format = FORMATS[m.pick % FORMATS.length];
        break;
      case 'formatClear':
        delete n.format;
        break;
      case 'required': {
        const prop = PROPS[m.pick % PROPS.length]!;
        const list = Array.isArray(n.required) ? (n.required as string[]) : [];
        n.required = list.includes(prop) ? list.filter((p) => p !== prop) : [...list, prop];
        break;
      }
      case 'propAdd': {
        const props = (n.properties ??= {}) as Record<string, Schema>;
        props[PROPS[m.pick % PROPS.length]!] = structuredClone(m.schema);
        break;
      }
      case 'propDrop':
        if (n.properties && typeof n.properties === 'object') delete (n.properties as Record<string, Schema>)[PROPS[m.pick % PROPS.length]!];
        break;
      case 'additional':
        if (m.n < 0) delete n.additionalProperties;
        else n.additionalProperties = m.n === 0 ? false : m.n === 1 ? true : structuredClone(m.schema);
        break;
      case 'unique':
        n.uniqueItems = !n.uniqueItems;
        break;
      case 'wrapAnyOf':
      case 'wrapOneOf':
      case 'wrapAllOf': {
        const keyword = m.kind === 'wrapAnyOf' ? 'anyOf' : m.kind === 'wrapOneOf' ? 'oneOf' : 'allOf';
        spot.set({ [keyword]: m.n > 1 ? [node, structuredClone(m.schema)] : [node] });
        break;
      }
      case 'branchAdd':
        for (const keyword of ['anyOf', 'oneOf', 'allOf']) if (Array.isArray(n[keyword])) (n[keyword] as Schema[]).push(structuredClone(m.schema));
        break;
      case 'branchDrop':
        for (const keyword of ['anyOf', 'oneOf', 'allOf']) if (Array.isArray(n[keyword]) && (n[keyword] as Schema[]).length > 1) (n[keyword] as Schema[]).splice(m.pick % (n[keyword] as Schema[]).length, 1);
        break;
      case 'not':
        n.not = structuredClone(m.schema);
        break;
      case 'notClear':
        delete n.not;
        break;
      case 'reorder':
        if (Array.isArray(n.enum)) n.enum = shuffled(n.enum, m.pick);
        if (Array.isArray(n.required)) n.required = shuffled(n.required as string[], m.pick);
        for (const keyword of ['anyOf', 'oneOf', 'allOf']) if (Array.isArray(n[keyword])) n[keyword] = shuffled(n[keyword] as Schema[], m.pick);
        break;
      case 'toRef': {
        // Same schema, reached through a $ref (an equivalent document).
        const name = `D${Object.keys(rooted.definitions).length}`;
        rooted.definitions[name] = structuredClone(node);
        spot.set({ $ref: `#/definitions/${name}` });
        break;
      }
      case 'describe':
        n.description = `changed ${m.n}`;
        break;
      case 'replace':
        spot.set(structuredClone(m.schema));
        break;
    }
  }
  return rooted;
}

export const rootedArb: fc.Arbitrary<Rooted> = fc
  .tuple(schemaArb, fc.boolean())
  .map(([schema, viaRef]) => (viaRef ? { root: { $ref: '#/definitions/Root' }, definitions: { Root: schema } } : { root: schema, definitions: {} }));

export const pairArb = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(rootedArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 })).map(([base, mutations]) => ({ old: base, new: mutate(base, mutations) })) },
  { weight: 1, arbitrary: fc.tuple(rootedArb, rootedArb).map(([a, b]) => ({ old: a, new: b })) },
);
