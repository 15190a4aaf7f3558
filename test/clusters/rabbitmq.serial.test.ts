// Three-node RabbitMQ cluster (scripts/cluster.sh rabbitmq) with quorum queues (the client's `queueType` option):
// the queue survives its leader node being killed or paused; the generated clients are given the three nodes' URLs.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/codegen.js';
import {
  cluster,
  closedAfterAll,
  expectExactlyOnce,
  eventOf,
  generatedExample,
  ORDER_HEADERS,
  orderOf,
  runCrashScenario,
  runScenario,
  startCluster,
  type ProcessSetup,
  type Subject,
} from './support.js';

let urls: string[];
let rabbitmq: any;
let indexJs: string;
const open = closedAfterAll('rabbitmq');

beforeAll(async () => {
  let servers: string[];
  [servers, { client: rabbitmq, indexJs }] = await Promise.all([startCluster('rabbitmq'), generatedExample('rabbitmq')]);
  urls = servers.map((server) => `amqp://guest:guest@${server}`);
}, 300_000);

async function subjectOnCluster(): Promise<{
  subject: Subject;
  setup: ProcessSetup;
}> {
  const namePrefix = `${uniqueName('cl')}.`;
  // Settings for a cluster: the list of nodes (the client reconnects to a live one and declares again, its
  // default 10 s heartbeat notices a paused node) and quorum queues (`queueType`; dead-letter queues follow).
  const options = {
    urls,
    queueType: 'quorum',
    namePrefix,
    reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
  };
  const producer = await rabbitmq.createClient({
    ...options,
    serviceName: 'cluster-producer',
  });
  open.push(producer);
  let queue = `${namePrefix}cluster.onOrderCreated`;
  const subject: Subject = {
    publish: async (event) => {
      await producer.publishOrderCreated(orderOf(event), {
        id: event.id,
        parameters: { region: 'eu' },
        headers: ORDER_HEADERS,
      });
    },
    startConsumer: async (store, handled) => {
      const consumer = await rabbitmq.createClient({
        ...options,
        serviceName: 'cluster',
      });
      open.push(consumer);
      const subscription = await consumer.onOrderCreated(async (payload: any, context: any) => handled(eventOf(payload, context)), {
        idempotencyStore: store,
      });
      queue = subscription.queue;
    },
    leader: async () => {
      const listing = await cluster('rabbitmq', 'ctl', '1', 'list_queues', 'name', 'type', 'leader', '--quiet', '--no-table-headers');
      const line = listing.split('\n').find((l) => l.startsWith(`${queue}\t`));
      expect(line, `queue ${queue} in:\n${listing}`).toMatch(/\tquorum\t/);
      return Number(/codegen-(\d)@/.exec(line!)?.[1]);
    },
  };
  return {
    subject,
    setup: {
      indexJs,
      client: { ...options, serviceName: 'cluster' },
      subscribe: {},
    },
  };
}

describe('RabbitMQ three-node cluster (quorum queues)', () => {
  it('kill -9 of the queue leader mid-stream: every confirmed event handled exactly once, none lost or invented', async () => {
    const report = await runScenario('rabbitmq', (await subjectOnCluster()).subject, { kind: 'kill', downMs: 20_000 });
    expect(report.node).toBeGreaterThanOrEqual(1);
    expectExactlyOnce(report);
    // RabbitMQ 3.10.8 nacks events routed through an exchange to a quorum queue whose leader node was killed
    // until that node is back (plain amqplib shows the same; through the default exchange they are confirmed at
    // once): the publisher sees those nacks as rejected publishes, which it retries, so nothing is lost.
    expect(report.publishErrorMessages.every((m) => /refused the event \(nack\)|connection|channel/i.test(m))).toBe(true);
    expect(report.recoverMs).toBeLessThan(20_000 + 30_000);
  }, 300_000);

  it('SIGSTOP of the queue leader (standing in for a network partition of that node), then SIGCONT', async () => {
    const report = await runScenario('rabbitmq', (await subjectOnCluster()).subject, { kind: 'pause', downMs: 15_000 }, 200);
    expectExactlyOnce(report);
  }, 300_000);

  it('kill -9 of the queue leader and SIGKILL of one of two consumer processes: the shared PostgreSQL store absorbs the redeliveries', async () => {
    const { subject, setup } = await subjectOnCluster();
    const report = await runCrashScenario('rabbitmq', subject, setup, 10_000);
    expectExactlyOnce(report);
  }, 300_000);
});
