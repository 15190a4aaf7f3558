/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * The brokers the binary-payload suites run on (Avro: test/avro/wire.test.ts, Protobuf:
 * test/protobuf/wire.test.ts), behind one interface: each test is written once and run with
 * `describe.each(AVRO_BROKERS)`. A broker says how a generated client is made on names
 * unique to the run, which registry subject its destinations get, and how a plain client (kafkajs,
 * amqplib, @nats-io) writes raw bytes behind the generated client's back (hostile bodies, and a
 * stand-alone avsc producer).
 */
import { connect as amqpConnect } from 'amqplib';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { expect } from 'vitest';
import { REGISTRY_URL } from '../helpers/registry.js';
import { uniqueName } from '../helpers/codegen.js';
import { assertKafkaUp, BROKERS, plainKafka } from '../kafka/support.js';
import { deleteStreams, NATS_URL, rawConnection, streamPrefixOf, uniquePrefix } from '../nats/support.js';
import { AMQP_URL, deleteByPrefix, namePrefix } from '../rabbitmq/support.js';
import { MQTT_URL, rawConnection as mqttConnection, uniquePrefix as mqttPrefix } from '../mqtt/support.js';

export const registry = { url: REGISTRY_URL };
/** Two attempts, quickly: a body that cannot be read is dead-lettered without waiting. */
export const FAST_RETRY = { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20 };

/** The id of the latest schema registered under `subject` (the subject must exist). */
export async function subjectId(subject: string): Promise<number> {
  const response = await fetch(`${REGISTRY_URL}/subjects/${encodeURIComponent(subject)}/versions/latest`);
  expect(response.status, `subject ${subject}`).toBe(200);
  return ((await response.json()) as { id: number }).id;
}

/**
 * The request/reply check both suites run: a document (`root`, title `exchange`) whose `askCheck` sends
 * `{ id, photo: bytes }` and whose `answerCheck` replies `{ id, digest: bytes }`; both bodies travel as
 * `contentType`, each under its own registry subject.
 */
export async function expectRequestReply(broker: AvroBroker, prefix: string, client: (root: any) => Promise<any>, root: any, exchange: string, contentType: string): Promise<void> {
  const responder = await client(root);
  const requester = await client(root);
  const seen: any[] = [];
  await responder.onAnswerCheck(async (payload: any, context: any) => {
    seen.push(context.envelope);
    return { id: payload.id, digest: Uint8Array.from(payload.photo, (byte: number) => 255 - byte) };
  }, broker.subscribeOptions(prefix, 'answerCheck'));
  const reply = await requester.requestAskCheck({ id: 'c1', photo: new Uint8Array([0, 1, 254]) });
  expect(reply.payload).toEqual({ id: 'c1', digest: new Uint8Array([255, 254, 1]) });
  expect(reply.envelope.datacontenttype).toBe(contentType);
  const replyTopic = broker.replyRegistryTopic(prefix, exchange, 'checks', 'verdicts');
  expect(reply.envelope.dataschema).toBe(`${REGISTRY_URL}/schemas/ids/${await subjectId(`${replyTopic}-value`)}`);
  expect(seen[0].datacontenttype).toBe(contentType);
  expect(seen[0].dataschema).toBe(`${REGISTRY_URL}/schemas/ids/${await subjectId(`${broker.registryTopic(prefix, exchange, 'checks')}-value`)}`);
}

/** The check both suites run on a refused publish: invalid-payload naming `pointer`, nothing registered under `address`'s subject. */
export async function expectRefusedBeforeSend(broker: AvroBroker, prefix: string, root: any, publish: Promise<unknown>, pointer: string, exchange: string, address: string): Promise<void> {
  const error: any = await publish.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(root.EventValidationError);
  expect(error.reason).toBe('invalid-payload');
  expect(error.issues.map((i: any) => i.pointer)).toContain(pointer);
  const subject = `${broker.registryTopic(prefix, exchange, address)}-value`;
  expect((await fetch(`${REGISTRY_URL}/subjects/${encodeURIComponent(subject)}/versions`)).status).toBe(404);
}

/** Runs `test` with generated clients on `broker`, closed and cleaned up after it. */
export async function withClients(broker: AvroBroker, label: string, test: (prefix: string, client: (root: any, extra?: Record<string, unknown>) => Promise<any>) => Promise<void>): Promise<void> {
  const prefix = broker.prefix(label);
  const clients: any[] = [];
  try {
    await test(prefix, async (root, extra = {}) => {
      const client = await root[broker.target].createClient({ ...broker.clientOptions(prefix), ...extra });
      clients.push(client);
      return client;
    });
  } finally {
    await Promise.allSettled(clients.map((client) => client.close()));
    await broker.cleanUp(prefix).catch(() => undefined);
  }
}

/** The CloudEvents attributes a raw event carries (a well-behaved producer's). */
export function rawAttributes(id: string, type: string): Record<string, string> {
  return { specversion: '1.0', id, type, source: '/avro-tests' };
}

export interface AvroBroker {
  /** As the test names show it. */
  readonly label: string;
  /** The generated namespace (`root.kafka`, `root.rabbitmq`, `root.nats`). */
  readonly target: 'kafka' | 'rabbitmq' | 'nats' | 'mqtt';
  /** Whether the client reads its dead letters back (`client.deadLetters.onX`): not on MQTT yet. */
  readonly deadLetters: boolean;
  /** Fails the suite when the broker is not running. */
  assertUp(): Promise<void>;
  /** A prefix unique to one test: every topic, exchange, queue, subject and stream of it starts with it. */
  prefix(label: string): string;
  /** The options of a generated client on `prefix`'s names, with the schema registry. */
  clientOptions(prefix: string): Record<string, unknown>;
  /** The options of a consumer named `group`, reading from the start. */
  subscribeOptions(prefix: string, group: string): Record<string, unknown>;
  /**
   * The destination name the registry subject of `address` is made from (Kafka: the topic). `exchange`:
   * RabbitMQ's exchange for a channel without an amqp binding (named after the document's title).
   */
  registryTopic(prefix: string, exchange: string, address: string): string;
  /**
   * The same for the reply to a request on `address` whose reply channel is `replyAddress`: Kafka's reply
   * topic; RabbitMQ and NATS reply to a name made per request, so the request's destination with `.reply`.
   */
  replyRegistryTopic(prefix: string, exchange: string, address: string, replyAddress: string): string;
  /** Writes raw bytes with a plain client to the destination of `address`, the attributes as the broker's headers. */
  inject(prefix: string, exchange: string, address: string, messages: Array<{ body: Buffer; attributes: Record<string, string> }>): Promise<void>;
  /** Deletes what the test made on the broker. */
  cleanUp(prefix: string): Promise<void>;
}

/** The service name every RabbitMQ client of the suite uses: its queues are `<prefix><SERVICE>.<group>`. */
const SERVICE = 'avro';

const kafka: AvroBroker = {
  label: 'Kafka',
  target: 'kafka',
  deadLetters: true,
  assertUp: assertKafkaUp,
  prefix: (label) => `${uniqueName(label)}.`,
  clientOptions: (prefix) => ({ brokers: BROKERS, topicPrefix: prefix, schemaRegistry: registry }),
  subscribeOptions: (prefix, group) => ({ groupId: `${prefix}${group}`, fromBeginning: true }),
  registryTopic: (prefix, _exchange, address) => `${prefix}${address}`,
  replyRegistryTopic: (prefix, _exchange, _address, replyAddress) => `${prefix}${replyAddress}`,
  async inject(prefix, _exchange, address, messages) {
    const producer = plainKafka().producer();
    await producer.connect();
    try {
      await producer.send({
        topic: `${prefix}${address}`,
        messages: messages.map(({ body, attributes }) => ({
          value: body,
          headers: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [`ce_${k}`, v])),
        })),
      });
    } finally {
      await producer.disconnect();
    }
  },
  cleanUp: async () => {},
};

const rabbitmq: AvroBroker = {
  label: 'RabbitMQ',
  target: 'rabbitmq',
  deadLetters: true,
  async assertUp() {
    const connection = await amqpConnect(AMQP_URL);
    await connection.close();
  },
  prefix: (label) => namePrefix(label),
  clientOptions: (prefix) => ({ urls: [AMQP_URL], namePrefix: prefix, serviceName: SERVICE, schemaRegistry: registry }),
  subscribeOptions: (prefix, group) => ({ queue: `${SERVICE}.${group}` }),
  // A channel without an amqp binding: the document's topic exchange, the address as routing key.
  registryTopic: (prefix, exchange, address) => `${prefix}${exchange}.${address}`,
  replyRegistryTopic: (prefix, exchange, address) => `${prefix}${exchange}.${address}.reply`,
  async inject(prefix, exchange, address, messages) {
    const connection = await amqpConnect(AMQP_URL);
    try {
      const channel = await connection.createConfirmChannel();
      for (const { body, attributes } of messages) {
        const headers = Object.fromEntries(Object.entries(attributes).map(([k, v]) => [`cloudEvents:${k}`, v]));
        channel.publish(`${prefix}${exchange}`, address, body, { headers, messageId: attributes.id, persistent: true });
      }
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
  },
  cleanUp: (prefix) => deleteByPrefix(prefix),
};

const nats: AvroBroker = {
  label: 'NATS JetStream',
  target: 'nats',
  deadLetters: true,
  async assertUp() {
    await (await rawConnection()).close();
  },
  prefix: (label) => uniquePrefix(label),
  clientOptions: (prefix) => ({ servers: NATS_URL, subjectPrefix: prefix, schemaRegistry: registry }),
  subscribeOptions: (_prefix, group) => ({ durable: group }),
  registryTopic: (prefix, _exchange, address) => `${prefix}${address}`,
  replyRegistryTopic: (prefix, _exchange, address) => `${prefix}${address}.reply`,
  async inject(prefix, _exchange, address, messages) {
    const connection = await rawConnection();
    try {
      const { jetstream } = await import('@nats-io/jetstream');
      const js = jetstream(connection);
      for (const { body, attributes } of messages) {
        const headers = natsHeaders();
        for (const [key, value] of Object.entries(attributes)) headers.set(`ce-${key}`, value);
        await js.publish(`${prefix}${address}`, body, { headers, msgID: attributes.id });
      }
    } finally {
      await connection.close();
    }
  },
  cleanUp: (prefix) => deleteStreams(streamPrefixOf(prefix)),
};

/** MQTT 5 (attributes as user properties) or 3.1.1 (the structured event, the Avro body as `data_base64`). */
function mqtt(version: '5' | '3.1.1'): AvroBroker {
  // Addresses with dots become topic levels (`user.signedup` → `user/signedup`).
  const topic = (prefix: string, address: string) => `${prefix}${address.replace(/\./g, '/')}`;
  return {
    label: `MQTT ${version}`,
    target: 'mqtt',
    deadLetters: false,
    async assertUp() {
      (await mqttConnection()).end(true);
    },
    prefix: (label) => mqttPrefix(label),
    clientOptions: (prefix) => ({ servers: [MQTT_URL], topicPrefix: prefix, mqttVersion: version, schemaRegistry: registry }),
    subscribeOptions: () => ({}),
    registryTopic: (prefix, _exchange, address) => topic(prefix, address),
    replyRegistryTopic: (prefix, _exchange, address) => `${topic(prefix, address)}.reply`,
    inject: () => Promise.reject(new Error('no raw MQTT writer in this suite')),
    cleanUp: async () => {},
  };
}

/** The brokers with a raw writer and readable dead letters: every test. */
export const AVRO_BROKERS: AvroBroker[] = [kafka, rabbitmq, nats];
/** Every broker that carries Avro and Protobuf: the round trip, validation, evolution and request/reply. */
export const ALL_AVRO_BROKERS: AvroBroker[] = [...AVRO_BROKERS, mqtt('5'), mqtt('3.1.1')];
