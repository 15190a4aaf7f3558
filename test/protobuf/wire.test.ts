/* eslint-disable @typescript-eslint/no-explicit-any */
// Protobuf events through the real brokers and the real schema registry, on the same broker suite as
// Avro (test/avro/brokers.ts): on Kafka, RabbitMQ, NATS JetStream, MQTT 5 and MQTT 3.1.1, typed round
// trips in the Confluent wire format for Protobuf with datacontenttype and dataschema (dead letters
// read back as Protobuf where the client reads them), an invalid payload refused before sending,
// Protobuf request/reply bodies, and without a registry the bare Protobuf body; where a plain client
// writes raw bytes (Kafka, RabbitMQ, NATS), hostile bodies dead-lettered with their own reasons while
// the consumer keeps going; core NATS for the round trip.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileStrict, freshDir, generateTo, importGenerated } from '../helpers/codegen.js';
import { REGISTRY_URL, registryUp } from '../helpers/registry.js';
import { waitFor } from '../kafka/support.js';
import { ALL_AVRO_BROKERS, AVRO_BROKERS, expectRefusedBeforeSend, expectRequestReply, FAST_RETRY, rawAttributes, subjectId, withClients } from '../avro/brokers.js';

const TARGETS = ['kafka', 'rabbitmq', 'nats', 'mqtt'];
/** The document's title: on RabbitMQ, its topic exchange. */
const TITLE = 'pborders';
const FORMAT = 'application/vnd.google.protobuf;version=3';
const ORDER_PROTO = `syntax = "proto3";
package codegen.pb;

message Order {
  string id = 1;
  int32 quantity = 2;
  bytes token = 3;
  repeated string tags = 4;
}
`;
const CHECK_PROTO = 'syntax = "proto3";\npackage codegen.pb;\n\nmessage Check {\n  string id = 1;\n  bytes photo = 2;\n}\n';
const VERDICT_PROTO = 'syntax = "proto3";\npackage codegen.pb;\n\nmessage Verdict {\n  string id = 1;\n  bytes digest = 2;\n}\n';
const ORDER_TYPE = protobuf.parse(ORDER_PROTO).root.lookupType('codegen.pb.Order');

function order(n: number): Record<string, unknown> {
  return { id: `order-${n}`, quantity: n, token: new Uint8Array([n, 0, 255]), tags: ['gift'] };
}

/** A 3.0 document with one Protobuf message sent and received on one channel, and a Protobuf request/reply. */
function ordersDocument(dir: string): string {
  const file = path.join(dir, 'orders.json');
  const proto = (schema: string) => ({ schemaFormat: FORMAT, schema });
  writeFileSync(file, JSON.stringify({
    asyncapi: '3.0.0',
    info: { title: TITLE, version: '1.0.0' },
    channels: {
      orders: { address: 'orders', messages: { order: { name: 'Order', payload: proto(ORDER_PROTO) } } },
      checks: { address: 'checks', messages: { check: { name: 'Check', payload: proto(CHECK_PROTO) } } },
      verdicts: { address: 'verdicts', messages: { verdict: { name: 'Verdict', payload: proto(VERDICT_PROTO) } } },
    },
    operations: {
      sendOrder: { action: 'send', channel: { $ref: '#/channels/orders' } },
      receiveOrder: { action: 'receive', channel: { $ref: '#/channels/orders' } },
      askCheck: { action: 'send', channel: { $ref: '#/channels/checks' }, reply: { channel: { $ref: '#/channels/verdicts' } } },
      answerCheck: { action: 'receive', channel: { $ref: '#/channels/checks' }, reply: { channel: { $ref: '#/channels/verdicts' } } },
    },
  }));
  return file;
}

/** Registers the Order .proto under `subject` as a stand-alone producer would, and returns its id. */
async function register(subject: string): Promise<number> {
  const response = await fetch(`${REGISTRY_URL}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: ORDER_PROTO, schemaType: 'PROTOBUF' }),
  });
  return ((await response.json()) as { id: number }).id;
}

/** Confluent's Protobuf wire format of `value` (protobufjs): magic byte, id, message indexes `[0]`, body. */
function framed(id: number, value: Record<string, unknown>): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, Buffer.from(ORDER_TYPE.encode(ORDER_TYPE.fromObject(value)).finish())]);
}

let orders: any;

beforeAll(async () => {
  expect(await registryUp(), `no schema registry at ${REGISTRY_URL}; run: bash scripts/registry.sh start && bash scripts/registry.sh wait`).toBe(true);
  const out = await generateTo(ordersDocument(freshDir('protobuf-brokers')), TARGETS, freshDir('protobuf-brokers-out'));
  await compileStrict([out], { emit: true });
  orders = await importGenerated<any>(out, 'index.js');
}, 300_000);

describe.each(ALL_AVRO_BROKERS)('Protobuf on $label with the schema registry', (broker) => {
  beforeAll(() => broker.assertUp());

  it('round-trips typed events in the Confluent wire format for Protobuf, with datacontenttype and dataschema; dead letters read as Protobuf', () =>
    withClients(broker, 'pb-rt', async (prefix, client) => {
      const producer = await client(orders);
      const consumer = await client(orders);
      const received: any[] = [];
      let failOrder3 = true;
      await consumer.onReceiveOrder(async (payload: any, context: any) => {
        if (failOrder3 && payload.id === 'order-3') throw new Error('kept for its bytes');
        received.push({ payload, envelope: context.envelope });
      }, { ...broker.subscribeOptions(prefix, 'receiveOrder'), retry: FAST_RETRY });
      await producer.publishSendOrder(order(1));
      await producer.publishSendOrder(order(2));
      await waitFor(() => received.length === 2, 30_000, 'two events');
      expect(received.map((r) => r.payload)).toEqual([order(1), order(2)]);
      const id = await subjectId(`${broker.registryTopic(prefix, TITLE, 'orders')}-value`);
      expect(received[0].envelope.datacontenttype).toBe('application/protobuf');
      expect(received[0].envelope.dataschema).toBe(`${REGISTRY_URL}/schemas/ids/${id}`);

      if (!broker.deadLetters) return; // MQTT clients do not read their dead letters back yet (docs/targets/mqtt.md)
      await producer.publishSendOrder(order(3));
      let letters: any[] = [];
      await waitFor(async () => (letters = (await consumer.deadLetters.onReceiveOrder.inspect()).letters).length === 1, 30_000, 'the dead letter');
      const body = Buffer.from(letters[0].body);
      expect([body[0], body.readUInt32BE(1), body[5]]).toEqual([0, id, 0]);
      expect(ORDER_TYPE.toObject(ORDER_TYPE.decode(body.subarray(6)), { bytes: Array })).toMatchObject({ id: 'order-3', quantity: 3 });
      expect(letters[0].current).toEqual({ valid: true, payload: order(3), headers: expect.anything() });
      failOrder3 = false;
      expect((await consumer.deadLetters.onReceiveOrder.redrive('all')).redriven).toHaveLength(1);
      await waitFor(() => received.length === 3, 30_000, 'the redriven event');
      expect(received[2].payload).toEqual(order(3));
    }), 90_000);

  it('refuses an invalid payload before sending (invalid-payload, the field named), nothing registered', () =>
    withClients(broker, 'pb-invalid', async (prefix, client) => {
      const producer = await client(orders);
      await expectRefusedBeforeSend(broker, prefix, orders, producer.publishSendOrder({ ...order(1), quantity: 'many' }), '/quantity', TITLE, 'orders');
    }), 60_000);

  it('sends Protobuf request and reply bodies (bytes survive both ways), each with its own registry subject', () =>
    withClients(broker, 'pb-rr', (prefix, client) => expectRequestReply(broker, prefix, client, orders, TITLE, 'application/protobuf')), 60_000);

  it('without a registry, sends and reads the bare Protobuf body (events and request/reply)', () =>
    withClients(broker, 'pb-bare', async (prefix, client) => {
      const producer = await client(orders, { schemaRegistry: undefined });
      const consumer = await client(orders, { schemaRegistry: undefined });
      const received: any[] = [];
      await consumer.onReceiveOrder(async (payload: any, context: any) => void received.push({ payload, envelope: context.envelope }), broker.subscribeOptions(prefix, 'receiveOrder'));
      await consumer.onAnswerCheck(async (payload: any) => ({ id: payload.id, digest: payload.photo }), broker.subscribeOptions(prefix, 'answerCheck'));
      await producer.publishSendOrder(order(4));
      await waitFor(() => received.length === 1, 30_000, 'the event');
      expect(received[0].payload).toEqual(order(4));
      expect(received[0].envelope.datacontenttype).toBe('application/protobuf');
      expect(received[0].envelope.dataschema).toBeUndefined();
      const reply = await producer.requestAskCheck({ id: 'c2', photo: new Uint8Array([7]) });
      expect(reply.payload).toEqual({ id: 'c2', digest: new Uint8Array([7]) });
    }), 60_000);
});

describe.each(AVRO_BROKERS)('Protobuf on $label: bytes written behind the generated client', (broker) => {
  beforeAll(() => broker.assertUp());

  it('reads a stand-alone protobufjs producer, and dead-letters hostile bodies with distinct reasons, consuming on', () =>
    withClients(broker, 'pb-hostile', async (prefix, client) => {
      const id = await register(`${broker.registryTopic(prefix, TITLE, 'orders')}-value`);
      const good = framed(id, order(5));
      const unknownId = Buffer.from(good);
      unknownId.writeUInt32BE(2_000_000_000, 1);
      const consumer = await client(orders);
      const handled: string[] = [];
      await consumer.onReceiveOrder(async (payload: any) => void handled.push(payload.id), { ...broker.subscribeOptions(prefix, 'receiveOrder'), retry: FAST_RETRY });
      await broker.inject(prefix, TITLE, 'orders', [
        { body: good, attributes: rawAttributes('protobufjs', 'Order') },
        { body: Buffer.from('{"id":"json"}'), attributes: rawAttributes('no-magic', 'Order') },
        { body: unknownId, attributes: rawAttributes('unknown-id', 'Order') },
        { body: good.subarray(0, good.length - 3), attributes: rawAttributes('truncated', 'Order') },
        { body: Buffer.concat([good.subarray(0, 5), Buffer.from([0x7f])]), attributes: rawAttributes('bad-indexes', 'Order') },
      ]);
      const producer = await client(orders);
      await producer.publishSendOrder(order(6));
      await waitFor(() => handled.includes('order-6'), 30_000, 'the event after the hostile ones');
      expect(handled).toEqual(['order-5', 'order-6']);
      let letters: any[] = [];
      await waitFor(async () => (letters = (await consumer.deadLetters.onReceiveOrder.inspect()).letters).length === 4, 30_000, 'four dead letters');
      expect(Object.fromEntries(letters.map((l) => [l.eventId, l.reason]))).toEqual({
        'no-magic': 'not-schema-framed',
        'unknown-id': 'unknown-schema',
        truncated: 'not-protobuf',
        'bad-indexes': 'not-protobuf',
      });
    }), 90_000);
});

describe('Protobuf on core NATS', () => {
  const nats = AVRO_BROKERS.find((broker) => broker.target === 'nats')!;

  it('round-trips typed events in the Confluent wire format for Protobuf', () =>
    withClients(nats, 'pb-core', async (prefix, client) => {
      const producer = await client(orders, { mode: 'core' });
      const consumer = await client(orders, { mode: 'core' });
      const received: any[] = [];
      await consumer.onReceiveOrder(async (payload: any, context: any) => void received.push({ payload, envelope: context.envelope }));
      await producer.publishSendOrder(order(7));
      await waitFor(() => received.length === 1, 30_000, 'the event');
      expect(received[0].payload).toEqual(order(7));
      expect(received[0].envelope.dataschema).toBe(`${REGISTRY_URL}/schemas/ids/${await subjectId(`${prefix}orders-value`)}`);
    }), 60_000);
});
