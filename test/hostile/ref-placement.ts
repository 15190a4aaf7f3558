import { buildDocument, type AsyncApiVersion, type HostileDocument, type Json, type RawDocument } from './documents.js';

/**
 * `$ref`s under every keyword a schema may hold, known and unknown, each naming a value of the kind
 * the keyword takes there (a schema, a map or a list of schemas, a list of names, a type, a number),
 * in the same document and in another file. Real documents put `$ref`s in such places (a `schema:`
 * key inside a property, a property written without `properties`): json-schema-to-typescript and ajv
 * must never see one the model did not rewrite, whatever the keyword.
 */

/** The schema every placed `$ref` points into (a component, and the same in shared/target.json). */
const TARGET = {
  type: 'object',
  description: 'The schema the placed references name.',
  required: ['note'],
  maxProperties: 8,
  properties: { note: { type: 'string', maxLength: 40 } },
  anyOf: [{ required: ['note'] }],
};

/** A reference to `pointer` inside the target schema. */
type Ref = (pointer?: string) => Json;

/** One property schema per placement: the keyword under test holds a `$ref` (name → schema). */
export function placements(ref: Ref): Record<string, Json> {
  return {
    // Keywords whose value is a schema, a list or a map of schemas.
    properties: { type: 'object', properties: { x: ref() } },
    additionalProperties: { type: 'object', additionalProperties: ref() },
    items: { type: 'array', items: ref() },
    itemsList: { type: 'array', items: [ref()] },
    additionalItems: { type: 'array', items: [{ type: 'string' }], additionalItems: ref() },
    prefixItems: { type: 'array', prefixItems: [ref()] },
    contains: { type: 'array', contains: ref() },
    not: { not: ref() },
    ifThenElse: { if: ref(), then: ref(), else: ref() },
    allOf: { allOf: [ref()] },
    anyOf: { anyOf: [ref(), { type: 'string' }] },
    oneOf: { oneOf: [ref(), { type: 'string' }] },
    patternProperties: { type: 'object', patternProperties: { '^a': ref() } },
    propertyNames: { type: 'object', propertyNames: ref('/properties/note') },
    dependenciesSchema: { type: 'object', dependencies: { a: ref() } },
    dependenciesNames: { type: 'object', dependencies: { a: ref('/required') } },
    dependentSchemas: { type: 'object', dependentSchemas: { a: ref() } },
    dependentRequired: { type: 'object', dependentRequired: { a: ref('/required') } },
    definitions: { type: 'object', definitions: { D: ref() } },
    defs: { type: 'object', $defs: { D: ref() } },
    unevaluatedProperties: { type: 'object', unevaluatedProperties: ref() },
    unevaluatedItems: { type: 'array', unevaluatedItems: ref() },
    contentSchema: { type: 'string', contentMediaType: 'application/json', contentSchema: ref() },
    // The map or the list itself a reference.
    propertiesMap: { type: 'object', properties: ref('/properties') },
    allOfList: { allOf: ref('/anyOf') },
    // Keywords whose value is data: the reference names a value of the right kind.
    required: { type: 'object', properties: { note: { type: 'string' } }, required: ref('/required') },
    type: { type: ref('/properties/note/type') },
    const: { type: 'string', const: ref('/properties/note/type') },
    enum: { type: 'string', enum: [ref('/properties/note/type')] },
    default: { type: 'string', default: ref('/properties/note/type') },
    examples: { type: 'string', examples: [ref('/properties/note/type')] },
    maxLength: { type: 'string', maxLength: ref('/properties/note/maxLength') },
    maxProperties: { type: 'object', maxProperties: ref('/maxProperties') },
    description: { type: 'string', description: ref('/description') },
    // Unknown keywords: the shapes seen in real documents, a misspelling, extensions.
    unknownSchema: { type: 'object', schema: ref() },
    forgottenProperties: { type: 'object', schemeId: ref() },
    misspelt: { oneof: [ref()] },
    extension: { type: 'object', 'x-shape': ref() },
    extensionDeep: { type: 'object', 'x-meta': { nested: [ref()] } },
  };
}

/** The placements whose keyword is no JSON Schema keyword and holds a schema: each is reported as a warning. */
export const MISTAKEN_PLACEMENTS = ['unknownSchema', 'forgottenProperties', 'misspelt'];

/** Two documents of one version: every placement referring within the document, and into shared/target.json. */
export function refPlacementDocuments(version: AsyncApiVersion): HostileDocument[] {
  return (['local', 'external'] as const).map((where) => {
    const ref: Ref = (pointer = '') => ({ $ref: `${where === 'local' ? '#/components/schemas' : './shared/target.json#'}/RefTarget${pointer}` });
    const payload = placements(ref);
    const raw: RawDocument = {
      title: `$ref placement (${where})`,
      version: '1.0.0',
      servers: [],
      schemas: [{ key: 'RefTarget', schema: { kind: 'json', value: TARGET } }],
      channels: [{ key: 'placed', address: [{ literal: 'placed' }], parameterTexts: [], messages: [{ key: 'placed', payload: { kind: 'json', value: { type: 'object', properties: payload } } }] }],
      operations: [{ key: 'sendPlaced', send: true, channel: 0, messages: [] }],
      format: 'json',
    };
    const doc = buildDocument(raw, version, Object.keys(payload).length);
    return where === 'local' ? doc : { ...doc, files: { 'shared/target.json': JSON.stringify({ RefTarget: TARGET }, null, 1) } };
  });
}
