/* eslint-disable @typescript-eslint/no-explicit-any */
// Protobuf payloads become TypeScript types, validators and a run-time codec: the project's fixture
// (a .proto reached by $ref, and an inline one) generates, compiles under --strict, validates, and
// its codec writes the bytes protobufjs (the reference here) reads and reads what protobufjs writes.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileStrict, FIXTURES, freshDir, generateTo, importGenerated, runInProcess } from '../helpers/codegen.js';

type Result = { ok: true; value: unknown } | { ok: false; issues: Array<{ pointer: string; rule: string; message: string }> };

const DOCUMENT = path.join(FIXTURES, 'protobuf/asyncapi.yaml');
const PROTO = readFileSync(path.join(FIXTURES, 'protobuf/schemas/shop.proto'), 'utf8');

/** A valid OrderPlaced as the generated types describe it. */
export function orderPlaced(n = 1): Record<string, unknown> {
  return {
    orderId: `order-${n}`,
    amountCents: 2 ** 40 + n,
    note: 'leave at the door',
    lines: [{ sku: 'SKU-1', quantity: 2 }, { sku: 'SKU-2', quantity: 0 }],
    attributes: { channel: 'web', 'a/b': 'c~d' },
    linesByPosition: { '-1': { sku: 'SKU-9', quantity: 1 }, '7': { sku: 'SKU-7', quantity: 3 } },
    iban: 'DE89370400440532013000',
    status: 'STATUS_PAID',
    placedAt: { seconds: 1_780_000_000, nanos: 500 },
    customer: { name: 'Ada', referredBy: { name: 'Grace' } },
    checksum: new Uint8Array([1, 2, 3, n]),
    priorities: [1, -2, 2147483647, -2147483648],
    weightKg: 1.25,
    discount: 0.5,
    gift: true,
    items: 4294967295,
    delta: -7,
    balance: -(2 ** 50),
    shelf: 4294967295,
    batch: Number.MAX_SAFE_INTEGER,
    offset: -5,
    ledger: Number.MIN_SAFE_INTEGER,
    views: 2 ** 53 - 1,
    history: ['STATUS_UNSPECIFIED', 'STATUS_SHIPPED'],
  };
}

/** What protobufjs's toObject gives, in the generated types' representation. */
const TO_OBJECT = { longs: Number, enums: String, bytes: Uint8Array as unknown as typeof String, defaults: true, arrays: true, objects: true } as const;

function reference(): protobuf.Type {
  const parsed = protobuf.parse(PROTO);
  parsed.root.addJSON(protobuf.common.get('google/protobuf/timestamp.proto')!.nested!);
  parsed.root.resolveAll();
  return parsed.root.lookupType('shop.v1.OrderPlaced');
}

/** Plain data: protobufjs's objects are instances, Buffers where we have Uint8Arrays, null for an absent message. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, plain(v)]));
  return value;
}

let out: string;
let generated: any;
let validators: Record<string, (data: unknown) => Result>;

beforeAll(async () => {
  out = await generateTo(DOCUMENT, ['kafka', 'rabbitmq', 'nats']);
  await compileStrict([out], { emit: true });
  generated = await importGenerated<any>(out, 'index.js');
  validators = await importGenerated<any>(out, 'validators.js');
}, 180_000);

describe('Protobuf payloads: types', () => {
  it('maps messages, scalars, enums, repeated, maps, oneof, optional, nested and well-known types', () => {
    const types = readFileSync(path.join(out, 'types.ts'), 'utf8');
    expect(types).toMatch(/An order was placed\.\s*\*\/\s*export interface OrderPlaced \{/);
    expect(types).toMatch(/The order's id\.\s*\*\/\s*orderId: string;/);
    expect(types).toContain('amountCents: number;');
    expect(types).toContain('note?: string;');
    expect(types).toContain('lines: Line[];');
    expect(types).toMatch(/linesByPosition: \{\s*\[k: string\]: Line;\s*\};/);
    expect(types).toContain('cardToken?: string;');
    expect(types).toContain('iban?: string;');
    expect(types).toContain("export type Status = 'STATUS_UNSPECIFIED' | 'STATUS_PAID' | 'STATUS_SHIPPED';");
    expect(types).toContain('placedAt?: Timestamp;');
    expect(types).toMatch(/export interface Timestamp \{\s*seconds: number;\s*nanos: number;\s*\}/);
    expect(types).toMatch(/export interface Customer \{\s*name: string;\s*referredBy\?: Customer;\s*\}/);
    expect(types).toContain('checksum: Uint8Array;');
    expect(types).toContain('history: Status[];');
    // The inline .proto of the other message.
    expect(types).toMatch(/export interface UserRenamed \{\s*userId: string;\s*name: string;\s*previousName\?: string;\s*\}/);
  });

  it('ships the Protobuf codec and the registry client, not the Avro codec', () => {
    const files = Object.keys(JSON.parse(readFileSync(path.join(out, '.codegen-manifest.json'), 'utf8')).files);
    expect(files).toEqual(expect.arrayContaining(['runtime/protobuf/codec.ts', 'runtime/protobuf/payload.ts', 'runtime/schema-registry/client.ts']));
    expect(files.some((f: string) => f.startsWith('runtime/avro/'))).toBe(false);
  });
});

describe('Protobuf payloads: validators', () => {
  it('accept a valid event', () => {
    expect(validators.validateOrderPlaced!(orderPlaced())).toMatchObject({ ok: true });
  });

  it.each([
    ['a missing field without presence', { orderId: undefined }, '/orderId', 'required'],
    ['a field the message does not have', { nickname: 'ada' }, '/nickname', 'additionalProperties'],
    ['a name outside the enum', { status: 'GOLD' }, '/status', 'enum'],
    ['an enum number', { status: 1 }, '/status', 'type'],
    ['an int32 above 32 bits', { priorities: [2 ** 31] }, '/priorities/0', 'maximum'],
    ['a negative uint32', { items: -1 }, '/items', 'minimum'],
    ['an int64 beyond the safe integer range', { amountCents: 2 ** 60 }, '/amountCents', 'maximum'],
    ['a fraction in an integer', { delta: 1.5 }, '/delta', 'type'],
    ['text where bytes go', { checksum: 'AQID' }, '/checksum', 'x-codegen-bytes'],
    ['a non-integer key of an int32 map', { linesByPosition: { one: { sku: 'A', quantity: 1 } } }, '/linesByPosition', 'propertyNames'],
    ['a number where a string goes', { orderId: 7 }, '/orderId', 'type'],
    ['null for a message', { customer: null }, '/customer', 'type'],
  ])('refuse %s, naming the field', (_label, change, pointer, rule) => {
    const value = { ...orderPlaced(), ...change };
    for (const key of Object.keys(change)) if ((change as Record<string, unknown>)[key] === undefined) delete value[key];
    const result = validators.validateOrderPlaced!(value);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => `${i.pointer} ${i.rule}`)).toContain(`${pointer} ${rule}`);
  });

  it('refuse two members of one oneof', () => {
    const result = validators.validateOrderPlaced!({ ...orderPlaced(), cardToken: 'tok' });
    expect(result.ok).toBe(false);
  });
});

describe('Protobuf payloads: the codec agrees with protobufjs', () => {
  const codec = () => generated.operations.sendOrderPlaced.payloadCodec(undefined);

  it('protobufjs reads what the generated codec writes', async () => {
    const { body, datacontenttype } = await codec().encode(orderPlaced(), 'order.placed', 'sendOrderPlaced');
    expect(datacontenttype).toBe('application/protobuf');
    const type = reference();
    expect(plain(type.toObject(type.decode(body), TO_OBJECT))).toEqual(orderPlaced());
  });

  it('the generated codec reads what protobufjs writes (packed and unpacked, defaults left out)', async () => {
    const type = reference();
    const body = type.encode(type.fromObject(orderPlaced(2))).finish();
    expect(await codec().decode(body)).toEqual({ ok: true, value: orderPlaced(2) });
    // proto3 leaves defaults out: they are read back as the defaults.
    const empty = await codec().decode(new Uint8Array(0));
    expect(empty).toMatchObject({ ok: true, value: { orderId: '', amountCents: 0, lines: [], attributes: {}, status: 'STATUS_UNSPECIFIED', checksum: new Uint8Array(0) } });
    expect('customer' in (empty as any).value).toBe(false);
    // Unpacked repeated scalars (proto2 style) read the same.
    const unpacked = new protobuf.Writer();
    for (const n of [3, -4]) unpacked.uint32((13 << 3) | 0).int32(n);
    expect(await codec().decode(unpacked.finish())).toMatchObject({ ok: true, value: { priorities: [3, -4] } });
  });

  it('writes the same bytes as protobufjs', async () => {
    const type = reference();
    // protobufjs writes a proto3 zero it is given (quantity: 0); protoc and this codec leave it out.
    const value = { ...orderPlaced(3), lines: [{ sku: 'SKU-1', quantity: 2 }], attributes: { channel: 'web' }, linesByPosition: {} };
    const ours = (await codec().encode(value, 'order.placed', 'sendOrderPlaced')).body;
    expect(Buffer.from(ours).toString('hex')).toBe(Buffer.from(type.encode(type.fromObject(value)).finish()).toString('hex'));
  });

  it('agrees with protobufjs on every integer type over random values, both ways', async () => {
    const type = reference();
    const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    const uint32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
    const int64 = fc.oneof(fc.maxSafeInteger(), fc.integer({ min: -1000, max: 1000 }));
    const uint64 = fc.oneof(fc.maxSafeNat(), fc.nat(1000));
    const numbers = fc.record({ amountCents: int64, balance: int64, ledger: int64, batch: uint64, views: uint64, delta: int32, items: uint32, offset: int32, shelf: uint32, priorities: fc.array(int32, { maxLength: 5 }), weightKg: fc.double({ noNaN: true }) });
    await fc.assert(
      fc.asyncProperty(numbers, async (changes) => {
        const value = { ...orderPlaced(), ...changes };
        const ours = (await codec().encode(value, 'order.placed', 'sendOrderPlaced')).body;
        expect(plain(type.toObject(type.decode(ours), TO_OBJECT))).toEqual(value);
        expect(await codec().decode(type.encode(type.fromObject(value)).finish())).toEqual({ ok: true, value });
      }),
      { numRuns: 300 },
    );
  });

  it('skips unknown fields and reads an unknown enum number as the default', async () => {
    const writer = new protobuf.Writer();
    writer.uint32((99 << 3) | 2).string('from a newer writer');
    writer.uint32((9 << 3) | 0).int32(42);
    writer.uint32((1 << 3) | 2).string('o-1');
    expect(await codec().decode(writer.finish())).toMatchObject({ ok: true, value: { orderId: 'o-1', status: 'STATUS_UNSPECIFIED' } });
  });

  it.each([
    ['a truncated varint', [0x08, 0xff]],
    ['a length past the end', [0x0a, 0x05, 0x61]],
    ['a varint longer than ten bytes', [0x10, ...new Array(11).fill(0xff), 0x01]],
    ['invalid UTF-8', [0x0a, 0x02, 0xc3, 0x28]],
    ['a wrong wire type', [0x0d, 0, 0, 0, 0]],
    ['an int64 past 2^53', [0x10, ...[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]]],
    ['a group (deprecated wire type 3)', [0xfb, 0x01]],
    ['field number 0', [0x00, 0x01]],
  ])('refuses %s as not-protobuf', async (_label, bytes) => {
    expect(await codec().decode(new Uint8Array(bytes))).toMatchObject({ ok: false, reason: 'not-protobuf' });
  });

  it('refuses messages nested past the depth limit', async () => {
    let body = new Uint8Array(0);
    for (let i = 0; i < 200; i++) {
      const w = new protobuf.Writer();
      w.uint32((2 << 3) | 2).bytes(body);
      body = w.finish();
    }
    const w = new protobuf.Writer();
    w.uint32((11 << 3) | 2).bytes(body);
    expect(await codec().decode(w.finish())).toMatchObject({ ok: false, reason: 'not-protobuf', error: expect.stringMatching(/deeper/) });
  });

  it('keeps a map key __proto__ as data', async () => {
    const type = reference();
    const body = type.encode(type.fromObject({ attributes: { ['__proto__']: 'x' } })).finish();
    const result = await codec().decode(body);
    expect(Object.getPrototypeOf(result.value.attributes)).toBe(Object.prototype);
    expect(Object.keys(result.value.attributes)).toEqual(['__proto__']);
  });

  it('refuses a wrong value with EventValidationError even with validation off (the codec checks types)', async () => {
    // Thrown, not a rejected promise: like Avro's, the codec returns a promise only when it asks the registry.
    let error: any;
    try {
      codec().encode({ ...orderPlaced(), amountCents: '12' }, 'order.placed', 'sendOrderPlaced');
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(generated.EventValidationError);
    expect(error.issues[0].pointer).toBe('/amountCents');
  });
});

describe('Protobuf payloads: proto2, a message chosen by name', () => {
  const PROTO2 = 'syntax = "proto2";\npackage legacy;\nmessage First { optional string a = 1; }\nmessage Reading {\n  required int32 sensor = 1;\n  optional string unit = 2 [default = "C"];\n  repeated sint32 samples = 3;\n  repeated int32 packed = 4 [packed = true];\n  enum Kind { HEAT = 1; COLD = 2; }\n  optional Kind kind = 5;\n}\n';
  let generated2: any;
  let out2: string;
  beforeAll(async () => {
    const dir = freshDir('protobuf-proto2');
    const document = path.join(dir, 'asyncapi.json');
    writeFileSync(document, JSON.stringify({
      asyncapi: '3.0.0',
      info: { title: 'proto2', version: '1.0.0' },
      channels: { readings: { address: 'readings', messages: { reading: { 'x-protobuf-message': 'legacy.Reading', payload: { schemaFormat: 'application/vnd.google.protobuf;version=2', schema: PROTO2 } } } } },
      operations: { sendReading: { action: 'send', channel: { $ref: '#/channels/readings' } } },
    }));
    out2 = await generateTo(document, ['kafka'], dir);
    await compileStrict([out2], { emit: true });
    generated2 = await importGenerated<any>(out2, 'index.js');
  }, 180_000);

  it('types required and optional fields as proto2 says, and round-trips with protobufjs', async () => {
    const types = readFileSync(path.join(out2, 'types.ts'), 'utf8');
    expect(types).toMatch(/export interface Reading \{\s*sensor: number;[^}]*unit\?: string;\s*samples: number\[\];\s*packed: number\[\];\s*kind\?: Kind;\s*\}/);
    const type = protobuf.parse(PROTO2).root.lookupType('legacy.Reading');
    const codec = generated2.operations.sendReading.payloadCodec(undefined);
    const value = { sensor: -3, samples: [-1, 5], packed: [7, -8], kind: 'COLD' };
    const body = (await codec.encode(value, 'readings', 'sendReading')).body;
    expect(type.toObject(type.decode(body), { enums: String })).toEqual(value);
    expect(await codec.decode(body)).toEqual({ ok: true, value });
    // [packed = true] is written packed (protobufjs writes it unpacked; both are read).
    expect(Buffer.from(body).toString('hex')).toContain('220b07f8ffffffffffffffff01');
    expect(await codec.decode(type.encode(type.fromObject(value)).finish())).toEqual({ ok: true, value });
    // The message indexes of the file's second message.
    const literal = readFileSync(path.join(out2, 'operations.ts'), 'utf8').match(/protobufCodec\(\s*('.*')/)![1]!;
    expect(JSON.parse(new Function(`return ${literal}`)() as string).messageIndexes).toEqual([1]);
  });
});

describe('Protobuf payloads: bad documents', () => {
  function document(message: Record<string, unknown>): string {
    const dir = freshDir('protobuf-bad');
    const file = path.join(dir, 'asyncapi.json');
    writeFileSync(file, JSON.stringify({
      asyncapi: '2.6.0',
      info: { title: 'bad', version: '1.0.0' },
      channels: { c: { subscribe: { operationId: 'send', message: { schemaFormat: 'application/vnd.google.protobuf;version=3', ...message } } } },
    }));
    return file;
  }

  it('refuses an operation mixing a Protobuf message with another (E_PROTOBUF_SEVERAL_MESSAGES), nothing written', async () => {
    const file = path.join(freshDir('protobuf-several'), 'asyncapi.json');
    const protobufMessage = { name: 'A', schemaFormat: 'application/vnd.google.protobuf;version=3', payload: 'message A { string a = 1; }' };
    writeFileSync(file, JSON.stringify({
      asyncapi: '2.6.0',
      info: { title: 'several', version: '1.0.0' },
      channels: { c: { subscribe: { operationId: 'send', message: { oneOf: [protobufMessage, { name: 'B', payload: { type: 'string' } }] } } } },
    }));
    const outDir = freshDir('protobuf-several-out');
    const result = await runInProcess(['generate', file, '--target', 'kafka', '--out', outDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('E_PROTOBUF_SEVERAL_MESSAGES');
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('reads a .proto without a syntax statement as proto3 when the schemaFormat says version=3', async () => {
    const outDir = freshDir('protobuf-no-syntax-out');
    const result = await runInProcess(['generate', document({ payload: 'message Order { string id = 1; }' }), '--target', 'kafka', '--out', outDir]);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(path.join(outDir, 'types.ts'), 'utf8')).toMatch(/export interface Order \{\s*id: string;\s*\}/);
  });

  it.each([
    ['a syntax error', { payload: 'syntax = "proto3"; message { }' }, 'E_PROTOBUF_SCHEMA'],
    ['an import of another file', { payload: 'syntax = "proto3"; import "other.proto"; message A { string a = 1; }' }, 'E_PROTOBUF_IMPORT'],
    ['a message name that is not there', { 'x-protobuf-message': 'Nope', payload: 'syntax = "proto3"; message A { string a = 1; }' }, 'E_PROTOBUF_MESSAGE'],
    ['a payload that is not .proto text', { payload: { type: 'object' } }, 'E_PROTOBUF_SCHEMA'],
  ])('refuses %s with its code, exit 1, nothing written', async (_label, message, code) => {
    const outDir = freshDir('protobuf-bad-out');
    const result = await runInProcess(['generate', document(message), '--target', 'kafka', '--out', outDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(code);
    expect(readdirSync(outDir)).toEqual([]);
  });
});
