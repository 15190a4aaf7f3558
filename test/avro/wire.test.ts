/* eslint-disable @typescript-eslint/no-explicit-any */
// Avro events through the real brokers and the real schema registry (Apicurio's Confluent-compatible
// API, scripts/registry.sh), one suite over the brokers (brokers.ts): on Kafka, RabbitMQ, NATS
// JetStream, MQTT 5 and MQTT 3.1.1, typed round trips in the Confluent wire format with
// datacontenttype and dataschema, validation before sending, evolution v1 ↔ v2 with an incompatible
// version refused, and Avro request/reply bodies; where a plain client writes raw bytes and the
// generated client reads its dead letters back (Kafka, RabbitMQ, NATS), a stand-alone avsc producer
// and hostile bodies dead-lettered with their own reasons while the consumer keeps going; core NATS
// for the round trip.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import avsc from 'avsc';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileStrict, FIXTURES, freshDir, generateTo, importGenerated } from '../helpers/codegen.js';
import { REGISTRY_URL, registryUp } from '../helpers/registry.js';
import { waitFor } from '../kafka/support.js';
import { ALL_AVRO_BROKERS, AVRO_BROKERS, expectRefusedBeforeSend, expectRequestReply, FAST_RETRY, rawAttributes, subjectId, withClients } from './brokers.js';

const TARGETS = ['kafka', 'rabbitmq', 'nats', 'mqtt'];

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
    avatar: new Uint8Array([1, 2, n, 255]),
    score: n % 2 === 0 ? 1.5 : 'n/a',
  };
}

/** The title of every signup document: on RabbitMQ, the topic exchange all versions share. */
const SIGNUPS = 'signups';
/** The RabbitMQ exchange of fixtures/avro/asyncapi.yaml (its title, dashed). */
const ACCOUNTS = 'accounts-avro';
const SIGNUP_FORMAT = 'application/vnd.apache.avro;version=1.11.1';

/** A 3.0 document with one Avro message on one channel, sent and received, and an Avro request/reply. */
function signupDocument(dir: string, name: string, fields: unknown[]): string {
  const file = path.join(dir, `${name}.json`);
  const avro = (schema: unknown) => ({ schemaFormat: SIGNUP_FORMAT, schema });
  writeFileSync(file, JSON.stringify({
    asyncapi: '3.0.0',
    info: { title: SIGNUPS, version: '1.0.0' },
    channels: {
      signups: {
        address: 'signups',
        messages: { signup: { name: 'Signup', payload: avro({ type: 'record', name: 'Signup', namespace: 'codegen.evolution', fields }) } },
      },
      checks: {
        address: 'checks',
        messages: { check: { name: 'Check', payload: avro({ type: 'record', name: 'Check', namespace: 'codegen.evolution', fields: [{ name: 'id', type: 'string' }, { name: 'photo', type: 'bytes' }] }) } },
      },
      verdicts: {
        address: 'verdicts',
        messages: { verdict: { name: 'Verdict', payload: avro({ type: 'record', name: 'Verdict', namespace: 'codegen.evolution', fields: [{ name: 'id', type: 'string' }, { name: 'digest', type: 'bytes' }] }) } },
      },
    },
    operations: {
      sendSignup: { action: 'send', channel: { $ref: '#/channels/signups' } },
      receiveSignup: { action: 'receive', channel: { $ref: '#/channels/signups' } },
      askCheck: { action: 'send', channel: { $ref: '#/channels/checks' }, reply: { channel: { $ref: '#/channels/verdicts' } } },
      answerCheck: { action: 'receive', channel: { $ref: '#/channels/checks' }, reply: { channel: { $ref: '#/channels/verdicts' } } },
    },
  }));
  return file;
}

const V1 = [{ name: 'id', type: 'string' }];
const V2 = [...V1, { name: 'plan', type: 'string', default: 'FREE' }];
const INCOMPATIBLE = [...V1, { name: 'count', type: 'int' }];
const SIGNUP_V1 = { type: 'record', name: 'Signup', namespace: 'codegen.evolution', fields: V1 };

let accounts: any;
let v1: any;
let v2: any;
let incompatible: any;

beforeAll(async () => {
  expect(await registryUp(), `no schema registry at ${REGISTRY_URL}; run: bash scripts/registry.sh start && bash scripts/registry.sh wait`).toBe(true);
  const dir = freshDir('avro-evolution');
  const outs = await Promise.all([
    generateTo(path.join(FIXTURES, 'avro/asyncapi.yaml'), TARGETS),
    generateTo(signupDocument(dir, 'v1', V1), TARGETS, freshDir('avro-v1')),
    generateTo(signupDocument(dir, 'v2', V2), TARGETS, freshDir('avro-v2')),
    generateTo(signupDocument(dir, 'incompatible', INCOMPATIBLE), TARGETS, freshDir('avro-incompatible')),
  ]);
  await compileStrict(outs, { emit: true });
  [accounts, v1, v2, incompatible] = await Promise.all(outs.map((out) => importGenerated<any>(out, 'index.js')));
}, 300_000);

/** The Confluent wire format of `value` written with `schema` under registry id `id`. */
function framed(id: number, schema: unknown, value: unknown): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, avsc.Type.forSchema(schema as avsc.Schema).toBuffer(value)]);
}

/** Registers `schema` under `subject` as a stand-alone producer would, and returns its id. */
async function register(subject: string, schema: unknown): Promise<number> {
  const response = await fetch(`${REGISTRY_URL}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify(avsc.Type.forSchema(schema as avsc.Schema).schema()) }),
  });
  return ((await response.json()) as { id: number }).id;
}

describe.each(ALL_AVRO_BROKERS)('Avro on $label with the schema registry', (broker) => {
  beforeAll(() => broker.assertUp());

  it('round-trips typed events (bytes included) in the Confluent wire format, with datacontenttype and dataschema; dead letters inspected and redriven as Avro', () =>
    withClients(broker, 'avro-rt', async (prefix, client) => {
      const producer = await client(accounts);
      const consumer = await client(accounts);
      const received: any[] = [];
      let failUser3 = true;
      await consumer.onReceiveUserSignedUp(async (payload: any, context: any) => {
        // Until redriven, user 3 fails, so it is dead-lettered unchanged: the raw bytes as they were sent.
        if (failUser3 && payload.email === 'user3@example.com') throw new Error('kept for its bytes');
        received.push({ payload, envelope: context.envelope });
      }, { ...broker.subscribeOptions(prefix, 'receiveUserSignedUp'), retry: FAST_RETRY });
      await producer.publishSendUserSignedUp(user(1));
      await producer.publishSendUserSignedUp(user(2));
      await waitFor(() => received.length === 2, 30_000, 'two events');
      expect(received.map((r) => r.payload)).toEqual([user(1), user(2)]);
      expect(received[0].payload.avatar).toBeInstanceOf(Uint8Array);
      const id = await subjectId(`${broker.registryTopic(prefix, ACCOUNTS, 'user.signedup')}-value`);
      expect(received[0].envelope.datacontenttype).toBe('application/avro');
      expect(received[0].envelope.dataschema).toBe(`${REGISTRY_URL}/schemas/ids/${id}`);

      if (!broker.deadLetters) return; // MQTT clients do not read their dead letters back yet (docs/targets/mqtt.md)
      await producer.publishSendUserSignedUp(user(3));
      let letters: any[] = [];
      await waitFor(async () => (letters = (await consumer.deadLetters.onReceiveUserSignedUp.inspect()).letters).length === 1, 30_000, 'the dead letter');
      const body = Buffer.from(letters[0].body);
      expect(body[0]).toBe(0);
      expect(body.readUInt32BE(1)).toBe(id);
      expect(letters[0].current).toEqual({ valid: true, payload: user(3), headers: expect.anything() });
      // Redriven, the same bytes are read again by the consumer.
      failUser3 = false;
      expect((await consumer.deadLetters.onReceiveUserSignedUp.redrive('all')).redriven).toHaveLength(1);
      await waitFor(() => received.length === 3, 30_000, 'the redriven event');
      expect(received[2].payload).toEqual(user(3));
    }), 90_000);

  it('refuses an invalid payload before sending (invalid-payload, the field named), nothing registered', () =>
    withClients(broker, 'avro-invalid', async (prefix, client) => {
      const producer = await client(accounts);
      await expectRefusedBeforeSend(broker, prefix, accounts, producer.publishSendUserSignedUp({ ...user(1), plan: 'GOLD' }), '/plan', ACCOUNTS, 'user.signedup');
    }), 60_000);

  it('evolves both ways: v1 producer → v2 consumer (default filled in), v2 producer → v1 consumer (field dropped); an incompatible v2 is refused', () =>
    withClients(broker, 'avro-evolve', async (prefix, client) => {
      const subject = `${broker.registryTopic(prefix, SIGNUPS, 'signups')}-value`;
      await fetch(`${REGISTRY_URL}/config/${encodeURIComponent(subject)}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ compatibility: 'BACKWARD' }) });
      const [producer1, producer2, consumer1, consumer2] = await Promise.all([client(v1), client(v2), client(v1), client(v2)]);
      const byV1: any[] = [];
      const byV2: any[] = [];
      await consumer1.onReceiveSignup(async (payload: any) => void byV1.push(payload), broker.subscribeOptions(prefix, 'v1'));
      await consumer2.onReceiveSignup(async (payload: any) => void byV2.push(payload), broker.subscribeOptions(prefix, 'v2'));
      await producer1.publishSendSignup({ id: 'old' });
      await producer2.publishSendSignup({ id: 'new', plan: 'PRO' });
      await waitFor(() => byV1.length === 2 && byV2.length === 2, 30_000, 'both consumers to read both events');
      expect(byV2).toEqual([{ id: 'old', plan: 'FREE' }, { id: 'new', plan: 'PRO' }]);
      expect(byV1).toEqual([{ id: 'old' }, { id: 'new' }]);

      // An incompatible v2 (a field added without a default) is refused by the registry.
      const refusing = await client(incompatible);
      const error = await refusing.publishSendSignup({ id: 'x', count: 1 }).catch((e: unknown) => e);
      expect(error?.name).toBe('SchemaRegistryError');
      expect(error.status).toBe(409);
    }), 90_000);

  it('sends Avro request and reply bodies (bytes survive both ways), each with its own registry subject', () =>
    withClients(broker, 'avro-rr', (prefix, client) => expectRequestReply(broker, prefix, client, v1, SIGNUPS, 'application/avro')), 60_000);
});

describe.each(AVRO_BROKERS)('Avro on $label: bytes written behind the generated client', (broker) => {
  beforeAll(() => broker.assertUp());

  it('reads what a stand-alone avsc producer wrote with the registry (no generated code)', () =>
    withClients(broker, 'avro-interop', async (prefix, client) => {
      const id = await register(`${broker.registryTopic(prefix, SIGNUPS, 'signups')}-value`, SIGNUP_V1);
      const consumer = await client(v1);
      const received: any[] = [];
      await consumer.onReceiveSignup(async (payload: any) => void received.push(payload), broker.subscribeOptions(prefix, 'receiveSignup'));
      await broker.inject(prefix, SIGNUPS, 'signups', [{ body: framed(id, SIGNUP_V1, { id: 'from-avsc' }), attributes: rawAttributes('avsc-1', 'Signup') }]);
      await waitFor(() => received.length === 1, 30_000, 'the avsc event');
      expect(received).toEqual([{ id: 'from-avsc' }]);
    }), 60_000);

  it('dead-letters hostile bodies with distinct reasons and keeps consuming', () =>
    withClients(broker, 'avro-hostile', async (prefix, client) => {
      const id = await register(`${broker.registryTopic(prefix, SIGNUPS, 'signups')}-value`, SIGNUP_V1);
      const good = framed(id, SIGNUP_V1, { id: 'good-bytes' });
      const unknownId = Buffer.from(good);
      unknownId.writeUInt32BE(2_000_000_000, 1);
      const consumer = await client(v1);
      const handled: string[] = [];
      await consumer.onReceiveSignup(async (payload: any) => void handled.push(payload.id), { ...broker.subscribeOptions(prefix, 'receiveSignup'), retry: FAST_RETRY });
      const producer = await client(v1);
      await producer.publishSendSignup({ id: 'first' });
      await waitFor(() => handled.includes('first'), 30_000, 'the first event');
      await broker.inject(prefix, SIGNUPS, 'signups', [
        { body: Buffer.from('{"id":"json"}'), attributes: rawAttributes('no-magic', 'Signup') },
        { body: unknownId, attributes: rawAttributes('unknown-id', 'Signup') },
        { body: good.subarray(0, good.length - 3), attributes: rawAttributes('truncated', 'Signup') },
      ]);
      await producer.publishSendSignup({ id: 'last' });
      await waitFor(() => handled.includes('last'), 30_000, 'the event after the hostile ones');
      expect(handled).toEqual(['first', 'last']);
      let letters: any[] = [];
      await waitFor(async () => (letters = (await consumer.deadLetters.onReceiveSignup.inspect()).letters).length === 3, 30_000, 'three dead letters');
      expect(Object.fromEntries(letters.map((l) => [l.eventId, l.reason]))).toEqual({ 'no-magic': 'not-schema-framed', 'unknown-id': 'unknown-schema', truncated: 'not-avro' });
    }), 90_000);
});

describe('Avro on core NATS', () => {
  const nats = AVRO_BROKERS.find((broker) => broker.target === 'nats')!;

  it('round-trips typed events in the Confluent wire format', () =>
    withClients(nats, 'avro-core', async (prefix, client) => {
      const producer = await client(accounts, { mode: 'core' });
      const consumer = await client(accounts, { mode: 'core' });
      const received: any[] = [];
      await consumer.onReceiveUserSignedUp(async (payload: any, context: any) => void received.push({ payload, envelope: context.envelope }));
      await producer.publishSendUserSignedUp(user(1));
      await waitFor(() => received.length === 1, 30_000, 'the event');
      expect(received[0].payload).toEqual(user(1));
      const id = await subjectId(`${prefix}user.signedup-value`);
      expect(received[0].envelope.dataschema).toBe(`${REGISTRY_URL}/schemas/ids/${id}`);
    }), 60_000);
});

