// The run-time's Avro binary codec against avsc (the reference implementation) and its registry
// client against the real schema registry (scripts/registry.sh): same bytes both ways, schema
// resolution between versions, the Confluent wire format, and hostile bodies refused with reasons.
import { randomUUID } from 'node:crypto';
import avsc from 'avsc';
import { describe, expect, it } from 'vitest';
import { AvroError, decodeAvro, encodeAvro, parseAvroSchema } from '../../runtime/avro/codec.js';
import { AvroPayloadCodec } from '../../runtime/avro/payload.js';
import { SchemaRegistryClient, SchemaRegistryError } from '../../runtime/schema-registry/client.js';
import { REGISTRY_URL, registryUp } from '../helpers/registry.js';
import { EVERYTHING_SCHEMA } from './everything.js';

/** avsc's values as the generated code has them: plain objects, Uint8Array bytes. */
function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

describe('Avro binary codec', () => {
  const reference = avsc.Type.forSchema(EVERYTHING_SCHEMA as avsc.Schema);
  const type = parseAvroSchema(EVERYTHING_SCHEMA);

  it('writes the same bytes as avsc and reads what avsc writes (300 random values)', () => {
    for (let i = 0; i < 300; i++) {
      const value = reference.random();
      const expected = reference.toBuffer(value);
      expect(Buffer.from(encodeAvro(type, plain(value)))).toEqual(expected);
      expect(decodeAvro(type, type, expected)).toEqual(plain(reference.fromBuffer(expected)));
    }
  });

  it('resolves a v1 body with a v2 reader (field added with a default) and the reverse (field ignored)', () => {
    const v1 = { type: 'record', name: 'User', fields: [{ name: 'id', type: 'string' }, { name: 'age', type: 'int' }] };
    const v2 = { ...v1, fields: [...v1.fields, { name: 'email', type: ['null', 'string'], default: null }, { name: 'tags', type: { type: 'array', items: 'string' }, default: ['new'] }] };
    const written = avsc.Type.forSchema(v1 as avsc.Schema).toBuffer({ id: 'u1', age: 41 });
    expect(decodeAvro(parseAvroSchema(v1), parseAvroSchema(v2), written)).toEqual({ id: 'u1', age: 41, email: null, tags: ['new'] });
    const newer = avsc.Type.forSchema(v2 as avsc.Schema).toBuffer({ id: 'u2', age: 7, email: 'a@b.c', tags: [] });
    expect(decodeAvro(parseAvroSchema(v2), parseAvroSchema(v1), newer)).toEqual({ id: 'u2', age: 7 });
  });

  it('promotes int to long and double, and falls back to the enum default for an unknown symbol', () => {
    const writer = parseAvroSchema({ type: 'record', name: 'R', fields: [{ name: 'n', type: 'int' }, { name: 's', type: { type: 'enum', name: 'S', symbols: ['A', 'NEW'] } }] });
    const reader = parseAvroSchema({ type: 'record', name: 'R', fields: [{ name: 'n', type: 'double' }, { name: 's', type: { type: 'enum', name: 'S', symbols: ['A', 'OTHER'], default: 'OTHER' } }] });
    expect(decodeAvro(writer, reader, encodeAvro(writer, { n: 3, s: 'NEW' }))).toEqual({ n: 3, s: 'OTHER' });
  });

  it('writes decimals as avsc reads them (unscaled two\'s complement)', () => {
    const schema = { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 };
    const type = parseAvroSchema(schema);
    for (const text of ['0.00', '12.50', '-12.50', '-0.01', '99999999.99', '128.00', '-128.00']) {
      const bytes = encodeAvro(type, text);
      expect(decodeAvro(type, type, bytes)).toBe(text);
      const unscaled = BigInt(text.replace('.', ''));
      const raw = avsc.Type.forSchema('bytes').fromBuffer(Buffer.from(bytes)) as Buffer;
      expect(BigInt.asIntN(raw.length * 8, BigInt('0x' + raw.toString('hex')))).toBe(unscaled);
    }
  });

  it('names the field a value does not fit', () => {
    expect(() => encodeAvro(type, { ...(plain(reference.random()) as object), small: 2 ** 40 })).toThrowError(AvroError);
    try {
      encodeAvro(type, { ...(plain(reference.random()) as object), lookup: { a: 'x' } });
    } catch (error) {
      expect((error as AvroError).pointer).toBe('/lookup/a');
    }
  });

  it('refuses truncated bodies, trailing bytes and hostile counts without allocating', () => {
    const body = reference.toBuffer(reference.random());
    expect(() => decodeAvro(type, type, body.subarray(0, body.length - 1))).toThrow(/truncated/);
    expect(() => decodeAvro(type, type, Buffer.concat([body, Buffer.from([1])]))).toThrow(/left after the value/);
    const list = parseAvroSchema({ type: 'array', items: 'long' });
    expect(() => decodeAvro(list, list, Uint8Array.from([0xfe, 0xff, 0xff, 0xff, 0x0f]))).toThrow(/larger than the body/);
    const text = parseAvroSchema('string');
    expect(() => decodeAvro(text, text, Uint8Array.from([0xfe, 0xff, 0xff, 0xff, 0x0f, 0x41]))).toThrow(/truncated/);
  });
});

describe(`Avro with the schema registry at ${REGISTRY_URL}`, () => {
  const schemaV1 = JSON.stringify({ type: 'record', name: 'Signup', namespace: 'codegen.test', fields: [{ name: 'id', type: 'string' }] });
  const schemaV2 = JSON.stringify({ type: 'record', name: 'Signup', namespace: 'codegen.test', fields: [{ name: 'id', type: 'string' }, { name: 'plan', type: 'string', default: 'FREE' }] });

  it('registers on first publish, frames bodies (magic 0 + id), and reads them back by id', async () => {
    expect(await registryUp(), `no schema registry at ${REGISTRY_URL}; run: bash scripts/registry.sh start`).toBe(true);
    const topic = `codegen-codec-${randomUUID()}`;
    const codec = new AvroPayloadCodec(schemaV1, new SchemaRegistryClient({ url: REGISTRY_URL }));
    const encoded = await codec.encode({ id: 'u1' }, topic, 'signup');
    expect(encoded.body[0]).toBe(0);
    const id = new DataView(encoded.body.buffer).getUint32(1);
    expect(encoded.dataschema).toBe(`${REGISTRY_URL}/schemas/ids/${id}`);
    expect(encoded.datacontenttype).toBe('application/avro');
    const latest = await new SchemaRegistryClient({ url: REGISTRY_URL }).latest(`${topic}-value`);
    expect(latest?.id).toBe(id);
    // What avsc writes after the same header is the same body.
    expect(Buffer.from(encoded.body.subarray(5))).toEqual(avsc.Type.forSchema(JSON.parse(schemaV1)).toBuffer({ id: 'u1' }));
    expect(await codec.decode(encoded.body)).toEqual({ ok: true, value: { id: 'u1' } });
  });

  it('evolves both ways: v1 data read by a v2 consumer, v2 data read by a v1 consumer', async () => {
    const topic = `codegen-evolve-${randomUUID()}`;
    const registry = () => new SchemaRegistryClient({ url: REGISTRY_URL });
    const v1 = new AvroPayloadCodec(schemaV1, registry());
    const v2 = new AvroPayloadCodec(schemaV2, registry());
    const fromV1 = await v1.encode({ id: 'old' }, topic, 'signup');
    const fromV2 = await v2.encode({ id: 'new', plan: 'PRO' }, topic, 'signup');
    expect(await v2.decode(fromV1.body)).toEqual({ ok: true, value: { id: 'old', plan: 'FREE' } });
    expect(await v1.decode(fromV2.body)).toEqual({ ok: true, value: { id: 'new' } });
  });

  it('fails with SchemaRegistryError (409) when the registry refuses an incompatible version', async () => {
    const topic = `codegen-incompatible-${randomUUID()}`;
    const client = new SchemaRegistryClient({ url: REGISTRY_URL });
    await new AvroPayloadCodec(schemaV1, client).encode({ id: 'a' }, topic, 'signup');
    await fetch(`${REGISTRY_URL}/config/${topic}-value`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ compatibility: 'BACKWARD' }) });
    const incompatible = JSON.stringify({ type: 'record', name: 'Signup', namespace: 'codegen.test', fields: [{ name: 'id', type: 'string' }, { name: 'count', type: 'int' }] });
    const error = await new AvroPayloadCodec(incompatible, client).encode({ id: 'a', count: 1 }, topic, 'signup').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaRegistryError);
    expect((error as SchemaRegistryError).status).toBe(409);
    expect((error as Error).message).toMatch(/incompatible/);
  });

  it('look-up only: a schema the registry lacks is an error, a registered one is found', async () => {
    const topic = `codegen-lookup-${randomUUID()}`;
    const lookup = new AvroPayloadCodec(schemaV1, new SchemaRegistryClient({ url: REGISTRY_URL, autoRegister: false }));
    const missing = await lookup.encode({ id: 'a' }, topic, 'signup').catch((e: unknown) => e);
    expect((missing as SchemaRegistryError).status).toBe(404);
    await new AvroPayloadCodec(schemaV1, new SchemaRegistryClient({ url: REGISTRY_URL })).encode({ id: 'a' }, topic, 'signup');
    expect((await lookup.encode({ id: 'b' }, topic, 'signup')).body[0]).toBe(0);
  });

  it('names subjects by topic, record or topic and record', () => {
    const subject = (strategy: 'topic' | 'record' | 'topic-record') => new SchemaRegistryClient({ url: REGISTRY_URL, subjectNameStrategy: strategy }).subject('orders', 'com.example.Order');
    expect([subject('topic'), subject('record'), subject('topic-record')]).toEqual(['orders-value', 'com.example.Order', 'orders-com.example.Order']);
  });

  it('gives hostile bodies distinct reasons: no magic byte, unknown schema id, truncated body', async () => {
    const codec = new AvroPayloadCodec(schemaV1, new SchemaRegistryClient({ url: REGISTRY_URL }));
    const good = (await codec.encode({ id: 'some id' }, `codegen-hostile-${randomUUID()}`, 'signup')).body;
    expect(await codec.decode(new TextEncoder().encode('{"id":"some id"}'))).toMatchObject({ ok: false, reason: 'not-schema-framed' });
    const unknown = Uint8Array.from(good);
    new DataView(unknown.buffer).setUint32(1, 2_000_000_000);
    expect(await codec.decode(unknown)).toMatchObject({ ok: false, reason: 'unknown-schema' });
    expect(await codec.decode(good.subarray(0, good.length - 2))).toMatchObject({ ok: false, reason: 'not-avro' });
  });

  it('times out and reports an unreachable registry clearly', async () => {
    const client = new SchemaRegistryClient({ url: 'http://127.0.0.1:9/apis/ccompat/v7', timeoutMs: 500 });
    const error = await client.idOf('x-value', '"string"').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaRegistryError);
    expect((error as Error).message).toMatch(/cannot be reached/);
  });
});
