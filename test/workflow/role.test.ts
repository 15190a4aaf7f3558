// `role: client` and `validation: false`, end to end: the payments document is generated twice, as
// the service it describes and as a client of that service (with validation off by default), both
// compiled as one `tsc --strict` program, and the two talk to each other on each real broker.
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileStrict, FIXTURES, freshDir, importGenerated, runInProcess, uniqueName } from '../helpers/codegen.js';
import { assertKafkaUp, BROKERS } from '../kafka/support.js';

const DOCUMENT = path.join(FIXTURES, 'workflow/role/payments.yaml');
type Loose = any; // eslint-disable-line @typescript-eslint/no-explicit-any

let service: Loose;
let client: Loose;
const open: Array<{ close(): Promise<void> }> = [];

async function generate(role: string, ...flags: string[]): Promise<string> {
  const out = path.join(freshDir(`role-${role}`), 'out');
  const result = await runInProcess(['generate', DOCUMENT, '--target', 'rabbitmq,kafka,nats,mqtt', '--out', out, '--role', role, ...flags]);
  if (result.code !== 0) throw new Error(result.stderr);
  return out;
}

beforeAll(async () => {
  const serviceOut = await generate('application');
  const clientOut = await generate('client', '--no-validation');
  await compileStrict([serviceOut, clientOut], { emit: true });
  service = await importGenerated(serviceOut);
  client = await importGenerated(clientOut);
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(open.splice(0).map((c) => c.close()));
});

function track<T extends { close(): Promise<void> }>(created: T): T {
  open.push(created);
  return created;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** What differs between the targets' clients: how they are made, and the shapes of handler and reply. */
interface Broker {
  connect(module: Loose, isolation: string): Promise<Loose>;
  /** A receive handler's payload, from the handler's arguments. */
  payloadOf(args: Loose[]): Loose;
  /** A request's reply payload, from what `requestX` resolved with. */
  replyPayload(reply: Loose): Loose;
  /** Extra options of `onX` (Kafka: a group and the log's start). */
  consumeOptions(isolation: string, name: string): Loose;
}

const BROKERS_UNDER_TEST: Record<string, Broker> = {
  rabbitmq: {
    connect: async (module, isolation) => track(await module.rabbitmq.createClient({ namePrefix: isolation })),
    payloadOf: ([payload]) => payload,
    replyPayload: (reply) => reply.payload,
    consumeOptions: () => ({}),
  },
  kafka: {
    connect: async (module, isolation) => {
      const created = track(module.kafka.createClient({ brokers: BROKERS, topicPrefix: isolation }));
      await created.declareTopology();
      return created;
    },
    payloadOf: ([payload]) => payload,
    replyPayload: (reply) => reply.payload,
    consumeOptions: (isolation, name) => ({ groupId: `${isolation}${name}`, fromBeginning: true }),
  },
  nats: {
    connect: async (module, isolation) => track(await module.nats.createClient({ subjectPrefix: isolation })),
    payloadOf: ([payload]) => payload,
    replyPayload: (reply) => reply.payload,
    consumeOptions: () => ({}),
  },
  mqtt: {
    connect: async (module, isolation) => track(await module.mqtt.createClient({ servers: ['mqtt://127.0.0.1:1883'], topicPrefix: isolation, clientId: uniqueName('role') })),
    payloadOf: ([payload]) => payload,
    replyPayload: (reply) => reply.payload,
    consumeOptions: () => ({ cleanStart: true }),
  },
};

describe('role: client', () => {
  it('turns the operations round: what the service receives the client sends, and the other way', () => {
    for (const target of ['rabbitmq', 'kafka', 'nats', 'mqtt']) {
      const serviceClient = service[target].Client ?? service[target].KafkaClient ?? service[target].NatsClient ?? service[target].MqttClient;
      const clientClient = client[target].Client ?? client[target].KafkaClient ?? client[target].NatsClient ?? client[target].MqttClient;
      const methods = (type: Loose) => {
        const names = new Set<string>();
        for (let proto = type.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
          for (const name of Object.getOwnPropertyNames(proto)) if (/^(publish|request|on)[A-Z]/.test(name)) names.add(name);
        }
        return [...names].sort();
      };
      expect(methods(serviceClient), target).toEqual(['onAuthorize', 'onReceiveRefund', 'publishSendCaptured']);
      // The service's verbs are dropped on the way round: `receiveRefund` → `publishRefund`.
      expect(methods(clientClient), target).toEqual(['onCaptured', 'publishRefund', 'requestAuthorize']);
    }
  });

  for (const [target, broker] of Object.entries(BROKERS_UNDER_TEST)) {
    it(`${target}: the client and the service talk to each other, and only the service validates by default`, async () => {
      if (target === 'kafka') await assertKafkaUp();
      const isolation = `${uniqueName(`role-${target}`).replace(/[^a-zA-Z0-9-]/g, '-')}.`;
      const payments = await broker.connect(service, isolation);
      const shop = await broker.connect(client, isolation);

      await payments.onAuthorize(async (...args: Loose[]) => {
        const request = broker.payloadOf(args);
        return { orderId: request.orderId, approved: request.amount < 100 };
      }, broker.consumeOptions(isolation, 'payments-authorize'));
      const refunds: Loose[] = [];
      await payments.onReceiveRefund(async (...args: Loose[]) => void refunds.push(broker.payloadOf(args)), broker.consumeOptions(isolation, 'payments-refunds'));
      const captured: Loose[] = [];
      await shop.onCaptured(async (...args: Loose[]) => void captured.push(broker.payloadOf(args)), broker.consumeOptions(isolation, 'shop-captured'));

      const orderId = randomUUID();
      const reply = await shop.requestAuthorize({ orderId, amount: 42 }, { timeoutMs: 20_000 });
      expect(broker.replyPayload(reply)).toEqual({ orderId, approved: true });
      await payments.publishSendCaptured({ orderId, amount: 42 });
      await shop.publishRefund({ orderId, amount: 12 });
      await waitFor(() => captured.length === 1 && refunds.length === 1, 'the captured event and the refund');
      expect(captured).toEqual([{ orderId, amount: 42 }]);
      expect(refunds).toEqual([{ orderId, amount: 12 }]);

      // validation: false: the client sends an invalid payload unless asked to check it; the
      // service (generated with validation on) refuses the same payload before it leaves.
      const invalid = { orderId: '', amount: -1 };
      await expect(payments.publishSendCaptured(invalid)).rejects.toMatchObject({ name: 'EventValidationError' });
      await expect(shop.publishRefund(invalid, { validate: true })).rejects.toMatchObject({ name: 'EventValidationError' });
      await expect(shop.publishRefund(invalid)).resolves.toBeDefined();
    }, 120_000);
  }
});
