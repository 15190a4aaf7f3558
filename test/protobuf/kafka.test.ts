/* eslint-disable @typescript-eslint/no-explicit-any */
// Protobuf events through the real Kafka broker and the real schema registry (Apicurio's
// Confluent-compatible API, scripts/registry.sh): typed round trips in the Confluent wire format for
// Protobuf (schema id, message indexes), the schema registered as PROTOBUF, interop with a
// stand-alone protobufjs producer and consumer, an invalid payload refused before anything is sent,
// and hostile bodies dead-lettered with their own reasons while the consumer keeps going.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileStrict, FIXTURES, generateTo, importGenerated, uniqueName } from '../helpers/codegen.js';
import { REGISTRY_URL, registryUp } from '../helpers/registry.js';
import { assertKafkaUp, BROKERS, plainKafka, readTopic, waitFor } from '../kafka/support.js';

const FAST_RETRY = { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20 };
const registry = { url: REGISTRY_URL };
const PROTO = readFileSync(path.join(FIXTURES, 'protobuf/schemas/shop.proto'), 'utf8');
const REGISTRY_JSON = 'application/vnd.schemaregistry.v1+json';

function order(n: number): Record<string, unknown> {
  return {
    orderId: `order-${n}`,
    amountCents: 2 ** 40 + n,
    ...(n % 2 === 0 ? { note: 'gift wrap' } : {}),
    lines: [{ sku: 'SKU-1', quantity: n }],
    attributes: { channel: 'web' },
    linesByPosition: { '1': { sku: 'SKU-1', quantity: n } },
    ...(n % 2 === 0 ? { cardToken: 'tok' } : { iban: 'DE89370400440532013000' }),
    status: 'STATUS_PAID',
    placedAt: { seconds: 1_780_000_000 + n, nanos: 0 },
    customer: { name: 'Ada' },
    checksum: new Uint8Array([n]),
    priorities: [n, -n],
    weightKg: 1.5,
    discount: 0,
    gift: n % 2 === 0,
    items: n,
    delta: -n,
    balance: -(2 ** 50),
    shelf: 1,
    batch: 2,
    offset: -3,
    ledger: 4,
    views: 5,
    history: ['STATUS_PAID'],
  };
}

function userRenamed(id: string): Record<string, unknown> {
  return { userId: id, name: 'Ada Lovelace' };
}

/** The inline .proto of UserRenamed, as the document holds it. */
const USER_PROTO = 'syntax = "proto3";\npackage accounts;\n\nmessage UserRenamed {\n  string user_id = 1;\n  string name = 2;\n  optional string previous_name = 3;\n}\n';

let shop: any;

beforeAll(async () => {
  await assertKafkaUp();
  expect(await registryUp(), `no schema registry at ${REGISTRY_URL}; run: bash scripts/registry.sh start && bash scripts/registry.sh wait`).toBe(true);
  const out = await generateTo(path.join(FIXTURES, 'protobuf/asyncapi.yaml'), ['kafka']);
  await compileStrict([out], { emit: true });
  shop = await importGenerated<any>(out, 'index.js');
}, 240_000);

async function latest(subject: string): Promise<{ id: number; schema: string; schemaType?: string }> {
  const response = await fetch(`${REGISTRY_URL}/subjects/${subject}/versions/latest`);
  return (await response.json()) as { id: number; schema: string; schemaType?: string };
}

describe('Protobuf on Kafka with the schema registry', () => {
  it('round-trips typed events in the Confluent wire format, the .proto registered as PROTOBUF', async () => {
    const prefix = uniqueName('pb-rt') + '.';
    const client = shop.kafka.createClient({ brokers: BROKERS, topicPrefix: prefix, schemaRegistry: registry });
    try {
      const received: any[] = [];
      await client.onReceiveOrderPlaced(async (payload: any, context: any) => void received.push({ payload, envelope: context.envelope }), { groupId: `${prefix}g`, fromBeginning: true });
      await client.publishSendOrderPlaced(order(1), { key: 'o1' });
      await client.publishSendOrderPlaced(order(2), { key: 'o2' });
      await waitFor(() => received.length === 2, 30_000, 'two events');
      expect(received.map((r) => r.payload)).toEqual([order(1), order(2)]);
      const registered = await latest(`${prefix}order.placed-value`);
      expect(registered.schemaType).toBe('PROTOBUF');
      expect(registered.schema).toBe(PROTO);
      expect(received[0].envelope.datacontenttype).toBe('application/protobuf');
      expect(received[0].envelope.dataschema).toBe(`${REGISTRY_URL}/schemas/ids/${registered.id}`);
      const [raw] = await readTopic(`${prefix}order.placed`, 1);
      const value = raw!.message.value!;
      expect(value[0]).toBe(0);
      expect(value.readUInt32BE(1)).toBe(registered.id);
      // OrderPlaced is the file's second message: indexes [1], written as count 1, index 1 (zigzag: 2, 2).
      expect([...value.subarray(5, 7)]).toEqual([2, 2]);
      expect(raw!.headers['content-type']).toBe('application/protobuf');
    } finally {
      await client.close();
    }
  }, 60_000);

  it('refuses an invalid payload before sending (invalid-payload, the field named), nothing registered', async () => {
    const prefix = uniqueName('pb-invalid') + '.';
    const client = shop.kafka.createClient({ brokers: BROKERS, topicPrefix: prefix, schemaRegistry: registry });
    try {
      for (const [change, pointer] of [
        [{ amountCents: '12' }, '/amountCents'],
        [{ status: 1 }, '/status'],
        [{ priorities: [1.5] }, '/priorities/0'],
        [{ amountCents: 2 ** 60 }, '/amountCents'],
      ] as const) {
        const error = await client.publishSendOrderPlaced({ ...order(1), ...change }, { key: 'o1' }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(shop.EventValidationError);
        expect(error.reason).toBe('invalid-payload');
        expect(error.issues.map((i: any) => i.pointer)).toContain(pointer);
      }
      expect((await fetch(`${REGISTRY_URL}/subjects/${prefix}order.placed-value/versions`)).status).toBe(404);
    } finally {
      await client.close();
    }
  });

  it('a stand-alone protobufjs producer and consumer (no generated code) interoperate with the generated client', async () => {
    const prefix = uniqueName('pb-interop') + '.';
    const topic = `${prefix}user.renamed`;
    const type = protobuf.parse(USER_PROTO).root.lookupType('accounts.UserRenamed');
    // The stand-alone producer registers its .proto and writes magic byte, id, message indexes [0], body.
    const registered = await fetch(`${REGISTRY_URL}/subjects/${topic}-value/versions`, { method: 'POST', headers: { 'content-type': REGISTRY_JSON }, body: JSON.stringify({ schemaType: 'PROTOBUF', schema: USER_PROTO }) });
    const { id } = (await registered.json()) as { id: number };
    const header = Buffer.alloc(6);
    header.writeUInt32BE(id, 1);
    const client = shop.kafka.createClient({ brokers: BROKERS, topicPrefix: prefix, schemaRegistry: registry });
    try {
      const received: any[] = [];
      await client.onReceiveUserRenamed(async (payload: any) => void received.push(payload), { groupId: `${prefix}g`, fromBeginning: true });
      const producer = plainKafka().producer();
      await producer.connect();
      const body = type.encode(type.fromObject({ userId: 'u-pbjs', name: 'Grace', previousName: 'G' })).finish();
      await producer.send({ topic, messages: [{ value: Buffer.concat([header, body]), headers: { ce_specversion: '1.0', ce_id: 'pbjs-1', ce_type: 'UserRenamed', ce_source: '/protobufjs' } }] });
      await producer.disconnect();
      await waitFor(() => received.length === 1, 30_000, 'the protobufjs event');
      expect(received).toEqual([{ userId: 'u-pbjs', name: 'Grace', previousName: 'G' }]);

      // The reverse: the generated producer, read by a stand-alone consumer that looks the id up.
      await client.publishSendUserRenamed(userRenamed('u-codegen'));
      const records = await readTopic(topic, 2);
      const value = records[1]!.message.value!;
      expect(value[0]).toBe(0);
      expect(value.readUInt32BE(1)).toBe(id); // the same .proto text: the same id
      expect(value[5]).toBe(0); // message indexes [0]: the single byte 0
      const writer = (await (await fetch(`${REGISTRY_URL}/schemas/ids/${value.readUInt32BE(1)}`)).json()) as { schema: string };
      const readerType = protobuf.parse(writer.schema).root.lookupType('accounts.UserRenamed');
      expect(readerType.toObject(readerType.decode(value.subarray(6)))).toEqual({ userId: 'u-codegen', name: 'Ada Lovelace' });
    } finally {
      await client.close();
    }
  }, 60_000);

  it('dead-letters hostile bodies with distinct reasons and keeps consuming', async () => {
    const prefix = uniqueName('pb-hostile') + '.';
    const topic = `${prefix}user.renamed`;
    const client = shop.kafka.createClient({ brokers: BROKERS, topicPrefix: prefix, schemaRegistry: registry });
    try {
      await client.publishSendUserRenamed(userRenamed('first'));
      const [first] = await readTopic(topic, 1);
      const good = first!.message.value!;
      const unknownId = Buffer.from(good);
      unknownId.writeUInt32BE(2_000_000_000, 1);
      const framed = (bytes: number[]) => Buffer.concat([good.subarray(0, 6), Buffer.from(bytes)]);
      const ce = (id: string) => ({ ce_specversion: '1.0', ce_id: id, ce_type: 'UserRenamed', ce_source: '/tests' });
      const producer = plainKafka().producer();
      await producer.connect();
      await producer.send({
        topic,
        messages: [
          { value: Buffer.from('{"userId":"json"}'), headers: ce('no-magic') },
          { value: unknownId, headers: ce('unknown-id') },
          { value: good.subarray(0, good.length - 3), headers: ce('truncated') },
          { value: framed([0x0a, 0x02, 0xc3, 0x28]), headers: ce('bad-utf8') },
          { value: Buffer.concat([good.subarray(0, 5), Buffer.from([0x7f])]), headers: ce('bad-indexes') },
          { value: framed([0x0a, 0x01, 0x61]), headers: ce('framed-by-hand') },
        ],
      });
      await producer.disconnect();
      await client.publishSendUserRenamed(userRenamed('last'));
      const handled: string[] = [];
      await client.onReceiveUserRenamed(async (payload: any) => void handled.push(payload.userId), { groupId: `${prefix}g`, fromBeginning: true, retry: FAST_RETRY });
      await waitFor(() => handled.includes('last'), 30_000, 'the event after the hostile ones');
      expect(handled).toEqual(['first', 'a', 'last']);
      const dead = await readTopic(`${topic}.dlq`, 5);
      const reasons = Object.fromEntries(dead.map((r) => [r.headers.ce_id, r.headers['x-codegen-dead-letter-reason']]));
      expect(reasons).toEqual({ 'no-magic': 'not-schema-framed', 'unknown-id': 'unknown-schema', truncated: 'not-protobuf', 'bad-utf8': 'not-protobuf', 'bad-indexes': 'not-protobuf' });
    } finally {
      await client.close();
    }
  }, 60_000);
});
