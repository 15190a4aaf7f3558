import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { loadValidatedDocument } from '../../src/pipeline/document.js';
import type { ApiModel, JsonSchema } from '../../src/model/types.js';
import { compileStrict, FIXTURES, generateTo, importGenerated } from '../helpers/codegen.js';
import { validFixtureDocuments } from '../helpers/fixtures.js';

type Result = { ok: true; value: unknown } | { ok: false; issues: Array<{ pointer: string; rule: string; message: string }> };
type Validators = Record<string, (data: unknown) => Result>;

interface Loaded {
  model: ApiModel;
  validators: Validators;
  /** ajv compiling the same schemas at run time: the reference verdict. */
  reference: (typeName: string, data: unknown) => boolean;
}

function referenceValidator(model: ApiModel): Loaded['reference'] {
  const ajv = new Ajv({ allErrors: true, strict: false, logger: false });
  addFormatsModule.default(ajv);
  ajv.addSchema({ $id: 'reference.json', definitions: model.schemas as Record<string, JsonSchema> });
  return (typeName, data) => ajv.getSchema(`reference.json#/definitions/${typeName}`)!(structuredClone(data)) as boolean;
}

/** Each mutation of a valid example, with the pointer and rule the validator must name. */
interface Mutation {
  label: string;
  value: unknown;
  pointer: string;
  rule: string;
}

function resolve(model: ApiModel, schema: JsonSchema): Record<string, unknown> {
  let current = schema;
  for (let i = 0; i < 20 && typeof current === 'object' && typeof current.$ref === 'string'; i++) {
    current = model.schemas[(current.$ref as string).replace('#/definitions/', '')] ?? {};
  }
  return typeof current === 'object' ? current : {};
}

const WRONG_TYPE: Record<string, unknown> = { string: 12345, integer: 'not a number', number: 'not a number', boolean: 'yes', object: 'not an object', array: 'not an array' };
const BAD_FORMAT: Record<string, string> = { 'date-time': 'yesterday at noon', uuid: 'not-a-uuid', email: 'not an email', date: '2026-13-45', uri: 'not a uri' };

function mutations(model: ApiModel, schemaName: string, example: Record<string, unknown>): Mutation[] {
  const schema = resolve(model, model.schemas[schemaName]!);
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = (schema.required ?? []) as string[];
  const out: Mutation[] = [];
  for (const field of required.filter((f) => f in example)) {
    const copy = { ...example };
    delete copy[field];
    out.push({ label: `required ${field} removed`, value: copy, pointer: `/${field}`, rule: 'required' });
  }
  for (const [field, raw] of Object.entries(properties)) {
    if (!(field in example)) continue;
    const property = resolve(model, raw);
    const type = property.type;
    if (typeof type === 'string' && type in WRONG_TYPE) {
      out.push({ label: `${field} of the wrong type`, value: { ...example, [field]: WRONG_TYPE[type] }, pointer: `/${field}`, rule: 'type' });
    }
    if (typeof property.format === 'string' && property.format in BAD_FORMAT) {
      out.push({ label: `${field} in a bad ${property.format} format`, value: { ...example, [field]: BAD_FORMAT[property.format] }, pointer: `/${field}`, rule: 'format' });
    }
  }
  if (schema.additionalProperties === false) {
    out.push({ label: 'extra property', value: { ...example, unexpectedField: 1 }, pointer: '/unexpectedField', rule: 'additionalProperties' });
  }
  return out;
}

describe('generated validators against the documents’ own examples', () => {
  const documents = validFixtureDocuments();
  const loaded = new Map<string, Loaded>();

  beforeAll(async () => {
    const outs: Array<[string, string]> = [];
    for (const document of documents) outs.push([document, await generateTo(path.join(FIXTURES, document), [])]);
    await compileStrict(outs.map(([, out]) => out), { emit: true });
    for (const [document, out] of outs) {
      const { model } = await loadValidatedDocument(path.join(FIXTURES, document));
      loaded.set(document, { model, validators: await importGenerated<Validators>(out, 'validators.js'), reference: referenceValidator(model) });
    }
  }, 600_000);

  it('accepts every example payload and header set, and rejects each mutation naming the field and the rule', () => {
    let examples = 0;
    let mutated = 0;
    const invalidExamples: string[] = [];
    for (const [document, { model, validators, reference }] of loaded) {
      for (const message of model.messages) {
        for (const example of message.examples) {
          if (example.payload !== undefined) {
            const result = validators[`validate${message.payloadTypeName}`]!(example.payload);
            // Some public examples contradict their own schemas; there the verdict must match ajv's.
            if (!reference(message.payloadTypeName, example.payload)) {
              expect(result.ok, `${document} ${message.id} invalid example payload`).toBe(false);
              invalidExamples.push(`${document} ${message.id}`);
              continue;
            }
            expect(result, `${document} ${message.id} example payload`).toMatchObject({ ok: true });
            examples++;
            if (example.payload && typeof example.payload === 'object' && !Array.isArray(example.payload)) {
              for (const mutation of mutations(model, message.payloadTypeName, example.payload as Record<string, unknown>)) {
                const rejected = validators[`validate${message.payloadTypeName}`]!(mutation.value);
                expect(rejected.ok, `${document} ${message.id}: ${mutation.label}`).toBe(false);
                if (!rejected.ok) {
                  expect(rejected.issues, `${document} ${message.id}: ${mutation.label}`).toContainEqual(expect.objectContaining({ pointer: mutation.pointer, rule: mutation.rule }));
                }
                mutated++;
              }
            }
          }
          if (example.headers && message.headersTypeName) {
            const result = validators[`validate${message.headersTypeName}`]!(example.headers);
            expect(result, `${document} ${message.id} example headers`).toMatchObject({ ok: true });
          }
        }
      }
    }
    expect(examples).toBeGreaterThanOrEqual(10);
    expect(mutated).toBeGreaterThanOrEqual(20);
    // Known: the Kraken examples use status values ("unsubscribed", "error") outside the schema's enum.
    expect(invalidExamples.every((e) => e.includes('kraken'))).toBe(true);
  });

  it('coerces header values carried as text to the types the document declares', () => {
    const { validators } = loaded.get('example/asyncapi.yaml')!;
    expect(validators.validateOrderHeaders!({ 'x-tenant': 'acme', 'x-priority': '3' })).toEqual({ ok: true, value: { 'x-tenant': 'acme', 'x-priority': 3 } });
    const wrong = validators.validateOrderHeaders!({ 'x-tenant': 'acme', 'x-priority': 'high' });
    expect(wrong).toMatchObject({ ok: false, issues: [expect.objectContaining({ pointer: '/x-priority', rule: 'type' })] });
  });

  it('handles recursive schemas (a note with replies of notes)', () => {
    const { validators } = loaded.get('example/asyncapi.yaml')!;
    const order = loaded.get('example/asyncapi.yaml')!.model.messages.find((m) => m.id === 'OrderCreated')!.examples[0]!.payload as Record<string, unknown>;
    const deep = { ...order, notes: { text: 'a', replies: [{ text: 'b', replies: [{ text: 'c' }] }] } };
    expect(validators.validateOrder!(deep).ok).toBe(true);
    const broken = { ...order, notes: { text: 'a', replies: [{ replies: [] }] } };
    expect(validators.validateOrder!(broken)).toMatchObject({ ok: false, issues: [expect.objectContaining({ pointer: '/notes/replies/0/text', rule: 'required' })] });
  });
});
