// Avro payloads become TypeScript types and validators: the project's fixture (inline, component
// and .avsc payloads, every Avro type) and the public Avro examples generate, compile under
// --strict, and validate as avsc (the reference implementation) does.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import avsc from 'avsc';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVERYTHING_SCHEMA } from './everything.js';
import { compileStrict, FIXTURES, freshDir, generateTo, importGenerated, ROOT, runInProcess } from '../helpers/codegen.js';

/** The public Avro examples (shared/specs/avro, beside the project: see its README). */
const SHARED_AVRO = path.resolve(ROOT, '../shared/specs/avro');

type Result = { ok: true; value: unknown } | { ok: false; issues: Array<{ pointer: string; rule: string; message: string }> };
type Validators = Record<string, (data: unknown) => Result>;

const DOCUMENT = path.join(FIXTURES, 'avro/asyncapi.yaml');

/** A valid OrderPlaced as the generated types describe it. */
function order(): Record<string, unknown> {
  return {
    orderId: '6f1c5a52-0f4e-4c5e-9a7e-2d1b8f6c9e10',
    customerId: 'a3bb189e-8bf9-3888-9912-ace4e6543002',
    lines: [{ sku: 'SKU-1', quantity: 2, unitPrice: '12.50' }],
    status: 'PAID',
    checksum: new Uint8Array(16),
    placedAt: 1_780_000_000_000_000,
    deliveryWindow: null,
    parent: null,
    weightKg: 1.5,
    gift: false,
  };
}

function user(): Record<string, unknown> {
  return {
    userId: '6f1c5a52-0f4e-4c5e-9a7e-2d1b8f6c9e10',
    email: 'ada@example.com',
    age: null,
    plan: 'PRO',
    signedUpAt: 1_780_000_000_000,
    birthDate: 7000,
    tags: ['beta'],
    attributes: { locale: 'en' },
    address: { street: '1 Main St', zip: '12345' },
    billingAddress: { company: 'ACME', vatId: null },
    avatar: new Uint8Array([1, 2, 3]),
    score: 'n/a',
  };
}

describe('Avro payloads: types', () => {
  let out: string;
  let types: string;
  beforeAll(async () => {
    out = await generateTo(DOCUMENT, ['kafka', 'rabbitmq', 'nats']);
    types = readFileSync(path.join(out, 'types.ts'), 'utf8');
  }, 120_000);

  it('maps records, enums, unions, arrays, maps, bytes, fixed, logical types and docs', () => {
    expect(types).toContain('export interface UserSignedUp {');
    expect(types).toContain('export type Plan = \'FREE\' | \'PRO\' | \'ENTERPRISE\';');
    expect(types).toMatch(/age: null \| number;/);
    expect(types).toMatch(/tags: string\[\];/);
    expect(types).toMatch(/attributes: \{\s*\[k: string\]: string \| undefined;\s*\};/);
    expect(types).toMatch(/avatar: null \| Uint8Array;/);
    expect(types).toMatch(/score: number \| string;/);
    expect(types).toContain('export type Md5 = Uint8Array;');
    expect(types).toMatch(/Avro timestamp-millis: milliseconds since 1970-01-01T00:00:00Z\.\s*\*\/\s*signedUpAt: number;/);
    expect(types).toMatch(/Avro decimal \(scale 2, precision 10\) as decimal text[^*]*\*\/\s*unitPrice: string;/);
    expect(types).toMatch(/A user finished signing up\.\s*\*\/\s*export interface UserSignedUp/);
    // A recursive reference through a union, from an .avsc file reached by $ref.
    expect(types).toMatch(/parent: null \| OrderPlaced;/);
  });

  it('keeps namespaces apart: two records named Address are two types', () => {
    expect(types).toContain('export interface Address {');
    expect(types).toContain('export interface ComExampleBillingAddress {');
    expect(types).toMatch(/billingAddress: null \| ComExampleBillingAddress;/);
  });

  it('compiles under tsc --strict with every target', async () => {
    await compileStrict([out]);
  }, 120_000);
});

describe('Avro payloads: validators', () => {
  let validators: Validators;
  beforeAll(async () => {
    const out = await generateTo(DOCUMENT, ['kafka']);
    await compileStrict([out], { emit: true });
    validators = await importGenerated<Validators>(out, 'validators.js');
  }, 180_000);

  it('accept valid events', () => {
    expect(validators.validateUserSignedUp!(user())).toEqual({ ok: true, value: user() });
    expect(validators.validateOrderPlaced!(order()).ok).toBe(true);
    expect(validators.validateOrderPlaced!({ ...order(), parent: order() }).ok).toBe(true);
  });

  it.each([
    ['a missing field', { email: undefined }, '/email', 'required'],
    ['a field Avro does not know', { nickname: 'ada' }, '/nickname', 'additionalProperties'],
    ['a symbol outside the enum', { plan: 'GOLD' }, '/plan', 'enum'],
    ['an int above 32 bits', { birthDate: 2 ** 31 }, '/birthDate', 'maximum'],
    ['a long beyond the safe integer range', { signedUpAt: 2 ** 60 }, '/signedUpAt', 'maximum'],
    ['text where bytes go', { avatar: 'AQID' }, '/avatar', 'x-codegen-bytes'],
    ['a union branch that does not exist', { age: 'forty' }, '/age', 'type'],
    ['a map value of the wrong type', { attributes: { locale: 1 } }, '/attributes/locale', 'type'],
    ['an invalid uuid', { userId: 'not-a-uuid' }, '/userId', 'format'],
  ])('refuse %s, naming the field', (_label, change, pointer, rule) => {
    const value = { ...user(), ...change };
    for (const key of Object.keys(change)) if ((change as Record<string, unknown>)[key] === undefined) delete value[key];
    const result = validators.validateUserSignedUp!(value);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => `${i.pointer} ${i.rule}`)).toContain(`${pointer} ${rule}`);
  });

  it('refuse a fixed of the wrong size and a decimal with too many places', () => {
    const wrongSize = validators.validateOrderPlaced!({ ...order(), checksum: new Uint8Array(15) });
    expect(wrongSize.ok === false && wrongSize.issues.some((i) => i.pointer === '/checksum' && /16 bytes/.test(i.message))).toBe(true);
    const places = validators.validateOrderPlaced!({ ...order(), lines: [{ sku: 'A', quantity: 1, unitPrice: '1.005' }] });
    expect(places.ok === false && places.issues.some((i) => i.pointer === '/lines/0/unitPrice')).toBe(true);
  });

});

describe('Avro payloads: the validators agree with avsc', () => {
  let validate: (data: unknown) => Result;
  beforeAll(async () => {
    const dir = freshDir('avro-plain');
    const document = path.join(dir, 'asyncapi.json');
    writeFileSync(document, JSON.stringify({
      asyncapi: '3.0.0',
      info: { title: 'plain', version: '1.0.0' },
      channels: { everything: { address: 'everything', messages: { everything: { payload: { schemaFormat: 'application/vnd.apache.avro+json;version=1.11.1', schema: EVERYTHING_SCHEMA } } } } },
      operations: { sendEverything: { action: 'send', channel: { $ref: '#/channels/everything' } } },
    }));
    const out = await generateTo(document, ['kafka'], dir);
    await compileStrict([out], { emit: true });
    validate = (await importGenerated<Validators>(out, 'validators.js')).validateEverything!;
  }, 180_000);

  it('on values avsc makes and on each of their fields mutated', () => {
    const type = avsc.Type.forSchema(EVERYTHING_SCHEMA as avsc.Schema);
    let compared = 0;
    for (let i = 0; i < 200; i++) {
      // Plain data (avsc's records are class instances with enumerable prototype methods).
      const value = structuredClone(type.random()) as Record<string, unknown>;
      expect(validate(value), JSON.stringify(value)).toMatchObject({ ok: true });
      for (const key of Object.keys(value)) {
        const mutated = { ...value, [key]: mutate(value[key]) };
        expect(validate(mutated).ok, `${key}: ${JSON.stringify(mutated[key])}`).toBe(type.isValid(withBuffers(mutated)));
        compared++;
      }
    }
    expect(compared).toBe(200 * EVERYTHING_SCHEMA.fields.length);
  });
});

/** avsc takes bytes as Node.js Buffers only (the generated code takes any Uint8Array). */
function withBuffers(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (Array.isArray(value)) return value.map(withBuffers);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withBuffers(v)]));
  return value;
}

function mutate(value: unknown): unknown {
  if (value === null) return 0;
  if (typeof value === 'string') return 42;
  if (typeof value === 'number') return Number.isInteger(value) ? 'text' : true;
  if (typeof value === 'boolean') return 'yes';
  if (value instanceof Uint8Array) return Array.from(value);
  if (Array.isArray(value)) return value.length > 0 ? [mutate(value[0])] : {};
  if (typeof value === 'object') return null;
  return undefined;
}

describe('Avro payloads: the public examples', () => {
  it('generate typed payloads for every message and compile under --strict', async () => {
    const dir = freshDir('avro-public');
    const outs = [await generateTo(path.join(SHARED_AVRO, 'asyncapi-with-reused-enums.yaml'), ['kafka'], freshDir('avro-reused-enums'))];
    expect(readFileSync(path.join(outs[0]!, 'types.ts'), 'utf8')).toContain("export type MyEnum = 'A' | 'B' | 'C';");
    const messages = readdirSync(path.join(SHARED_AVRO, 'messages')).filter((f) => f.endsWith('.json')).sort();
    expect(messages.length).toBeGreaterThanOrEqual(8);
    // Each message object wrapped in a 2.6 document of its own.
    for (const file of messages) {
      const message = JSON.parse(readFileSync(path.join(SHARED_AVRO, 'messages', file), 'utf8'));
      const document = path.join(dir, file.replace(/\.json$/, '.asyncapi.json'));
      writeFileSync(document, JSON.stringify({
        asyncapi: '2.6.0',
        info: { title: file, version: '1.0.0' },
        channels: { example: { publish: { operationId: 'publishExample', message } } },
      }));
      const out = await generateTo(document, ['kafka'], freshDir(file));
      const types = readFileSync(path.join(out, 'types.ts'), 'utf8');
      expect(types, file).not.toMatch(/= unknown;/);
      expect(types, file).toMatch(/export interface \w+ \{/);
      outs.push(out);
    }
    await compileStrict(outs);
  }, 240_000);
});

describe('Avro payloads: an operation mixing Avro and other messages', () => {
  const yaml = (reply: boolean) => `asyncapi: 3.0.0
info:
  title: Mixed
  version: 1.0.0
channels:
  events:
    address: events
    messages:
      avro:
        payload:
          schemaFormat: application/vnd.apache.avro;version=1.9.0
          schema: { type: record, name: Created, fields: [{ name: id, type: string }] }
      json:
        payload: { type: object, properties: { id: { type: string } } }
  single:
    address: single
    messages:
      json:
        payload: { type: object }
operations:
  publishEvents:
    action: send
    channel: { $ref: '#/channels/${reply ? 'single' : 'events'}' }
${reply ? "    reply:\n      channel: { $ref: '#/channels/events' }\n" : ''}`;

  it.each([
    ['an operation', false, 'operation', '#/operations/publishEvents', 21],
    ['a reply', true, 'reply', '#/operations/publishEvents/reply', 24],
  ])('%s is refused at generation with its file, line and JSON pointer, nothing written', async (_label, reply, what, pointer, line) => {
    const dir = freshDir('avro-mixed');
    writeFileSync(path.join(dir, 'asyncapi.yaml'), yaml(reply));
    const result = await runInProcess(['generate', 'asyncapi.yaml', '-t', 'kafka', '-o', 'out'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('E_AVRO_SEVERAL_MESSAGES');
    expect(result.stderr).toContain(`the ${what} of "publishEvents" has 2 messages and avro is Avro`);
    expect(result.stderr).toMatch(new RegExp(`asyncapi\\.yaml:${line}:\\d+ \\(${pointer.replace(/\//g, '\\/')}\\)`));
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  });
});
