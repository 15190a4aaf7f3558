/* eslint-disable @typescript-eslint/no-explicit-any */
// Avro events through the real Kafka broker and the real schema registry (Apicurio's
// Confluent-compatible API, scripts/registry.sh): typed round trips in the Confluent wire format,
// interop with a stand-alone avsc producer and consumer, evolution v1 ↔ v2, an incompatible version
// refused, and hostile bodies dead-lettered with their own reasons while the consumer keeps going.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import avsc from 'avsc';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileStrict, FIXTURES, freshDir, generateTo, importGenerated, uniqueName } from '../helpers/codegen.js';
import { REGISTRY_URL, registryUp } from '../helpers/registry.js';
import { assertKafkaUp, BROKERS, plainKafka, readTopic, waitFor } from '../kafka/support.js';

const FAST_RETRY = { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20 };
const registry = { url: REGISTRY_URL };

function user(n: number): Record<string, unknown> {
  return {
    userId: `6f1c5a52-0f4e-4c5e-9a7e-2d1b8f6c9e${String(n).padStart(2, '0')}`,
    email: `user${n}@example.com`,
    age: n % 2 === 0 ? null : 40 + n,
    plan: 'PRO',
    signedUpAt: 1_780_000_000_000 + n,
    birthDate: null,
    tags: ['beta'],
    attributes: { locale: 'en' },
    address: { street: '1 Main St', zip: '12345' },
    billingAddress: n % 2 === 0 ? null : { company: 'ACME', vatId: 'DE1' },
    avatar: new Uint8Array([1, 2, n]),
    score: n % 2 === 0 ? 1.5 : 'n/a',
  };
}

/** A 3.0 document with one Avro message on one channel, sent and received. */
function signupDocument(dir: string, name: string, fields: unknown[]): string {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({
    asyncapi: '3.0.0',
    info: { title: name, version: '1.0.0' },
    channels: {
      signups: {
        address: 'signups',
        messages: { signup: { name: 'Signup', payload: { schemaFormat: 'application/vnd.apache.avro;version=1.11.1', schema: { type: 'record', name: 'Signup', namespace: 'codegen.evolution', fields } } } },
      },
    },
    operations: {
      sendSignup: { action: 'send', channel: { $ref: '#/channels/signups' } },
      receiveSignup: { action: 'receive', channel: { $ref: '#/channels/signups' } },
    },
  }));
  return file;
}

const V1 = [{ name: 'id', type: 'string' }];
const V2 = [...V1, { name: 'plan', type: 'string', default: 'FREE' }];
const INCOMPATIBLE = [...V1, { name: 'count', type: 'int' }];

let accounts: any;
let v1: any;
let v2: any;
let incompatible: any;

beforeAll(async () => {
  await assertKafkaUp();
  expect(await registryUp(), `no schema registry at ${REGISTRY_URL}; run: bash scripts/registry.sh start && bash scripts/registry.sh wait`).toBe(true);
  const dir = freshDir('avro-evolution');
  const outs = await Promise.all([
    generateTo(path.join(FIXTURES, 'avro/asyncapi.yaml'), ['kafka']),
    generateTo(signupDocument(dir, 'v1', V1), ['kafka'], freshDir('avro-v1')),
    generateTo(signupDocument(dir, 'v2', V2), ['kafka'], freshDir('avro-v2')),
    generateTo(signupDocument(dir, 'incompatible', INCOMPATIBLE), ['kafka'], freshDir('avro-incompatible')),
  ]);
  await compileStrict(outs, { emit: true });
  [accounts, v1, v2, incompatible] = await Promise.all(outs.map((out) => importGenerated<any>(out, 'index.js')));
}, 240_000);

async function subjectId(subject: string): Promise<number> {
  const response = await fetch(`${REGISTRY_URL}/subjects/${subject}/versions/latest`);
  return ((await response.json()) as { id: number }).id;
}

describe('Avro on Kafka with the schema registry', () => {
  it('round-trips typed events in the Confluent wire format, with datacontenttype and dataschema', async () => {
    const prefix = uniqueName('avro-rt') + '.';
    const client = accounts.kafka.createClient({ brokers: BROKERS, topicPrefix: prefix, schemaRegistry: registry });
    try {
      const received: any[] = [];
      await client.onReceiveUserSignedUp(async (payload: any, context: any) => void received.push({ payload, envelope: context.envelope }), { groupId: `${prefix}g`, fromBeginning: true });
      await client.publishSendUserSignedUp(user(1), { key: 'u1' });
      await client.publishSendUserSignedUp(user(2), { key: 'u2' });
      await waitFor(() => received.length === 2, 30_000, 'two events');
      expect(received.map((r) => r.payload)).toEqual([user(1), user(2)]);
      const id = await subjectId(`${prefix}user.signedup-value`);
      expect(received[0].envelope.datacontenttype).toBe('application/avro');
      expect(received[0].envelope.dataschema).toBe(`${REGISTRY_URL}/schemas/ids/${id}`);
      const [raw] = await readTopic(`${prefix}user.signedup`, 1);
      expect(raw!.message.value![0]).toBe(0);
      expect(raw!.message.value!.readUInt32BE(1)).toBe(id);
      expect(raw!.headers['content-type']).toBe('application/avro');
    } finally {
      await client.close();
    }
  }, 60_000);

  it('refuses an invalid payload before sending (invalid-payload, the field named), nothing registered', async () => {
    const prefix = uniqueName('avro-invalid') + '.';
    const client = accounts.kafka.createClient({ brokers: BROKERS, topicPrefix: prefix, schemaRegistry: registry });
    try {
      const error = await client.publishSendUserSignedUp({ ...user(1), plan: 'GOLD' }, { key: 'u1' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(accounts.EventValidationError);
      expect(error.reason).toBe('invalid-payload');
      expect(error.issues.map((i: any) => i.pointer)).toContain('/plan');
      expect((await fetch(`${REGISTRY_URL}/subjects/${prefix}user.signedup-value/versions`)).status).toBe(404);
    } finally {
      await client.close();
    }
  });

  it('a stand-alone avsc producer and consumer (no generated code) interoperate with the generated client', async () => {
    const prefix = uniqueName('avro-interop') + '.';
    const topic = `${prefix}signups`;
    const type = avsc.Type.forSchema({ type: 'record', name: 'Signup', namespace: 'codegen.evolution', fields: V1 } as avsc.Schema);
    // The stand-alone producer registers its schema and writes magic byte, id, body.
    const registered = await fetch(`${REGISTRY_URL}/subjects/${topic}-value/versions`, { method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify({ schema: JSON.stringify(type.schema()) }) });
    const { id } = (await registered.json()) as { id: number };
    const header = Buffer.alloc(5);
    header.writeUInt32BE(id, 1);
    const client = v1.kafka.createClient({ brokers: BROKERS, topicPrefix: prefix, schemaRegistry: registry });
    try {
      const received: any[] = [];
      await client.onReceiveSignup(async (payload: any) => void received.push(payload), { groupId: `${prefix}g`, fromBeginning: true });
      const producer = plainKafka().producer();
      await producer.connect();
      await producer.send({ topic, messages: [{ value: Buffer.concat([header, type.toBuffer({ id: 'from-avsc' })]), headers: { ce_specversion: '1.0', ce_id: 'avsc-1', ce_type: 'Signup', ce_source: '/avsc' } }] });
      await producer.disconnect();
      await waitFor(() => received.length === 1, 30_000, 'the avsc event');
      expect(received).toEqual([{ id: 'from-avsc' }]);

      // The reverse: the generated producer, read by a stand-alone consumer that looks the id up.
      await client.publishSendSignup({ id: 'from-codegen' });
      const records = await readTopic(topic, 2);
      const value = records[1]!.message.value!;
      expect(value[0]).toBe(0);
      const writer = (await (await fetch(`${REGISTRY_URL}/schemas/ids/${value.readUInt32BE(1)}`)).json()) as { schema: string };
      expect(avsc.Type.forSchema(JSON.parse(writer.schema)).fromBuffer(value.subarray(5))).toEqual({ id: 'from-codegen' });
    } finally {
      await client.close();
    }
  }, 60_000);

  it('evolves both ways: v1 producer → v2 consumer (default filled in), v2 producer → v1 consumer (field dropped)', async () => {
    const prefix = uniqueName('avro-evolve') + '.';
    const producers = [v1, v2].map((g) => g.kafka.createClient({ brokers: BROKERS, topicPrefix: prefix, schemaRegistry: registry }));
    const consumers = [v1, v2].map((g) => g.kafka.createClient({ brokers: BROKERS, topicPrefix: prefix, schemaRegistry: registry }));
    try {
      await fetch(`${REGISTRY_URL}/config/${prefix}signups-value`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ compatibility: 'BACKWARD' }) });
      const byV1: any[] = [];
      const byV2: any[] = [];
      await consumers[0].onReceiveSignup(async (payload: any) => void byV1.push(payload), { groupId: `${prefix}v1`, fromBeginning: true });
      await consumers[1].onReceiveSignup(async (payload: any) => void byV2.push(payload), { groupId: `${prefix}v2`, fromBeginning: true });
      await producers[0].publishSendSignup({ id: 'old' });
      await producers[1].publishSendSignup({ id: 'new', plan: 'PRO' });
      await waitFor(() => byV1.length === 2 && byV2.length === 2, 30_000, 'both consumers to read both events');
      expect(byV2).toEqual([{ id: 'old', plan: 'FREE' }, { id: 'new', plan: 'PRO' }]);
      expect(byV1).toEqual([{ id: 'old' }, { id: 'new' }]);

      // An incompatible v2 (a field added without a default) is refused by the registry.
      const refusing = incompatible.kafka.createClient({ brokers: BROKERS, topicPrefix: prefix, schemaRegistry: registry });
      try {
        const error = await refusing.publishSendSignup({ id: 'x', count: 1 }).catch((e: unknown) => e);
        expect(error?.name).toBe('SchemaRegistryError');
        expect(error.status).toBe(409);
      } finally {
        await refusing.close();
      }
    } finally {
      await Promise.all([...producers, ...consumers].map((c) => c.close()));
    }
  }, 90_000);

  it('dead-letters hostile bodies with distinct reasons and keeps consuming', async () => {
    const prefix = uniqueName('avro-hostile') + '.';
    const topic = `${prefix}signups`;
    const client = v1.kafka.createClient({ brokers: BROKERS, topicPrefix: prefix, schemaRegistry: registry });
    try {
      await client.publishSendSignup({ id: 'first' });
      const [first] = await readTopic(topic, 1);
      const good = first!.message.value!;
      const unknownId = Buffer.from(good);
      unknownId.writeUInt32BE(2_000_000_000, 1);
      const ce = (id: string) => ({ ce_specversion: '1.0', ce_id: id, ce_type: 'Signup', ce_source: '/tests' });
      const producer = plainKafka().producer();
      await producer.connect();
      await producer.send({
        topic,
        messages: [
          { value: Buffer.from('{"id":"json"}'), headers: ce('no-magic') },
          { value: unknownId, headers: ce('unknown-id') },
          { value: good.subarray(0, good.length - 3), headers: ce('truncated') },
        ],
      });
      await producer.disconnect();
      await client.publishSendSignup({ id: 'last' });
      const handled: string[] = [];
      await client.onReceiveSignup(async (payload: any) => void handled.push(payload.id), { groupId: `${prefix}g`, fromBeginning: true, retry: FAST_RETRY });
      await waitFor(() => handled.includes('last'), 30_000, 'the event after the hostile ones');
      expect(handled).toEqual(['first', 'last']);
      const dead = await readTopic(`${topic}.dlq`, 3);
      const reasons = Object.fromEntries(dead.map((r) => [r.headers.ce_id, r.headers['x-codegen-dead-letter-reason']]));
      expect(reasons).toEqual({ 'no-magic': 'not-schema-framed', 'unknown-id': 'unknown-schema', truncated: 'not-avro' });
    } finally {
      await client.close();
    }
  }, 60_000);
});
