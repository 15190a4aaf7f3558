// Three-node Kafka cluster in KRaft mode (scripts/cluster.sh kafka): a topic with replication factor 3 and
// min.insync.replicas 2 (the generated client's `topology` option) survives its partition leader being killed
// or paused; the generated clients are given the three brokers and keep their default idempotent producer.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { Kafka, logLevel, type Admin } from 'kafkajs';
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
  sleep,
  startCluster,
  type ProcessSetup,
  type Subject,
} from './support.js';

let brokers: string[];
let kafka: any;
let indexJs: string;
let admin: Admin;
const open = closedAfterAll('kafka', () => admin?.disconnect());

beforeAll(async () => {
  [brokers, { client: kafka, indexJs }] = await Promise.all([startCluster('kafka'), generatedExample('kafka')]);
  admin = new Kafka({
    clientId: 'cluster-test-admin',
    brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
}, 300_000);

async function subjectOnCluster(): Promise<{
  subject: Subject;
  setup: ProcessSetup;
}> {
  const topicPrefix = `${uniqueName('cl')}.`;
  const topic = `${topicPrefix}orders.created`;
  // Settings for a cluster: the broker list; the producer is idempotent with acks=all by default; the
  // example document asks for one replica, the `topology` option makes it 3 with min.insync.replicas 2.
  const options = { brokers, topicPrefix, topology: { replicationFactor: 3, minInsyncReplicas: 2 } };
  const declaring = kafka.createClient({ ...options, clientId: 'cluster-topology' });
  open.push(declaring);
  const report = await declaring.declareTopology();
  expect(report.created).toContain(topic);
  // Right after creation a broker may not know the partitions yet ("does not host this topic-partition").
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.fetchTopicOffsets(topic);
      break;
    } catch (error) {
      if (attempt >= 20) throw error;
      await sleep(500);
    }
  }
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  expect(metadata.topics[0]!.partitions.map((p) => p.replicas.length)).toEqual([3, 3, 3]);
  const producer = kafka.createClient({
    ...options,
    clientId: 'cluster-producer',
  });
  open.push(producer);
  const subscribe = {
    groupId: `${topicPrefix}group`,
    fromBeginning: true,
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1_000,
  };
  const subject: Subject = {
    publish: async (event) => {
      await producer.publishOrderCreated(orderOf(event), {
        id: event.id,
        key: event.key,
        parameters: { region: 'eu' },
        headers: ORDER_HEADERS,
      });
    },
    startConsumer: async (store, handled) => {
      const consumer = kafka.createClient({
        ...options,
        clientId: 'cluster-consumer',
      });
      open.push(consumer);
      await consumer.onOrderCreated(async (payload: any, context: any) => handled(eventOf(payload, context)), {
        ...subscribe,
        idempotencyStore: store,
      });
    },
    leader: async () => {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      return metadata.topics[0]!.partitions.find((p) => p.partitionId === 0)!.leader;
    },
  };
  return {
    subject,
    setup: {
      indexJs,
      client: { ...options, clientId: 'cluster-consumer' },
      subscribe,
    },
  };
}

describe('Kafka three-node cluster', () => {
  it('kill -9 of the partition leader mid-stream: every acknowledged event handled exactly once, in order per key', async () => {
    const report = await runScenario('kafka', (await subjectOnCluster()).subject, { kind: 'kill', downMs: 20_000 });
    expect(report.node).toBeGreaterThanOrEqual(1);
    expectExactlyOnce(report);
    expect(report.outOfOrderKeys).toEqual([]);
    expect(report.publishRecoverMs).toBeLessThan(20_000); // on two brokers, before the third came back
  }, 300_000);

  it('SIGSTOP of the partition leader (standing in for a network partition of that broker), then SIGCONT', async () => {
    const report = await runScenario('kafka', (await subjectOnCluster()).subject, { kind: 'pause', downMs: 15_000 }, 200);
    expectExactlyOnce(report);
    expect(report.outOfOrderKeys).toEqual([]);
  }, 300_000);

  it('kill -9 of the partition leader and SIGKILL of one of two consumer processes: the shared PostgreSQL store absorbs the redeliveries', async () => {
    const { subject, setup } = await subjectOnCluster();
    const report = await runCrashScenario('kafka', subject, setup, 15_000);
    expectExactlyOnce(report);
    expect(report.outOfOrderKeys).toEqual([]);
  }, 300_000);
});
