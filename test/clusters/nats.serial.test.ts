// Three-node NATS cluster with JetStream (scripts/cluster.sh nats): the stream (3 replicas) survives its
// leader being killed or paused; the generated clients are given the three servers.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/codegen.js';
import { streamPrefixOf } from '../nats/support.js';
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

let servers: string[];
let nats: any;
let indexJs: string;
let admin: NatsConnection;
const open = closedAfterAll('nats', () => admin?.close());

beforeAll(async () => {
  [servers, { client: nats, indexJs }] = await Promise.all([startCluster('nats'), generatedExample('nats')]);
  admin = await connect({
    servers,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  });
}, 300_000);

async function subjectOnCluster(): Promise<{
  subject: Subject;
  setup: ProcessSetup;
}> {
  const subjectPrefix = `${uniqueName('cl')}.`;
  // What a cluster needs from the application: the server list and replicated streams. The rest is the generated
  // client's defaults (publish and topology retries that outlast a leader election, 5 s pulls).
  const options = { servers, subjectPrefix, stream: { num_replicas: 3 } };
  const producer = await nats.createClient({
    ...options,
    source: 'cluster-test',
  });
  open.push(producer);
  await producer.declareTopology();
  const jsm = await jetstreamManager(admin);
  const streams = (await jsm.streams.names().next()).filter((name) => name.startsWith(streamPrefixOf(subjectPrefix)));
  const stream = streams.find((name) => !name.endsWith('_DLQ'));
  if (!stream) throw new Error('declareTopology created no stream');
  // The client's `stream.num_replicas` reaches every stream it declares, the dead-letter streams included.
  expect(streams.filter((name) => name.endsWith('_DLQ'))).not.toHaveLength(0);
  for (const name of streams) expect((await jsm.streams.info(name)).config.num_replicas, name).toBe(3);
  const subscribe = { durable: 'cluster-test', ackWaitMs: 3000 };
  const watch = watchConsumer(stream, subscribe.durable);
  const subject: Subject = {
    publish: async (event) => {
      await producer.publishOrderCreated(orderOf(event), {
        id: event.id,
        parameters: { region: 'eu' },
        headers: ORDER_HEADERS,
      });
    },
    startConsumer: async (store, handled) => {
      const consumer = await nats.createClient({ ...options, logger: watch.logger });
      open.push(consumer);
      await consumer.onOrderCreated(async (payload: any, context: any) => handled(eventOf(payload, context)), {
        ...subscribe,
        idempotencyStore: store,
      });
    },
    leader: async () => {
      const info = await jsm.streams.info(stream);
      return Number(/^n(\d)$/.exec(info.cluster?.leader ?? '')?.[1]);
    },
    diagnose: (missing) => watch.diagnose(missing.map((e) => e.id)),
  };
  return { subject, setup: { indexJs, client: options, subscribe } };
}

/**
 * What the server and the consumers said about one durable consumer: the server's advisories (leader elected,
 * max deliveries reached, ...) and the consumers' warnings, and on demand the stream and consumer state, with
 * where the given events are stored. Printed after each fault scenario, and in the message of a failed wait.
 */
function watchConsumer(stream: string, durable: string) {
  const advisories: string[] = [];
  const subscription = admin.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.*.${stream}.${durable}`, {
    callback: (_error, message) => advisories.push(`${message.subject.split('.')[4]} ${message.string()}`),
  });
  open.push({ close: async () => subscription.unsubscribe() });
  const logged: string[] = [];
  const log = (level: string) => (object: object, message?: string) => logged.push(`${level} ${message} ${JSON.stringify(object)}`);
  const logger = { debug: () => undefined, info: () => undefined, warn: log('warn'), error: log('error') };
  const kinds = () => {
    const counts: Record<string, number> = {};
    for (const advisory of advisories) counts[advisory.split(' ')[0]!] = (counts[advisory.split(' ')[0]!] ?? 0) + 1;
    return counts;
  };
  // A diagnosis only informs: right after a fault the JetStream API may still answer "temporarily
  // unavailable", which must not fail a scenario whose events were all handled.
  const diagnose = (ids: string[]): Promise<string> => inspect(ids).catch((failure: unknown) => `diagnosis failed: ${String(failure)}`);
  const inspect = async (ids: string[]): Promise<string> => {
    const jsm = await jetstreamManager(admin);
    const info = await jsm.streams.info(stream);
    const stored: string[] = [];
    for (let seq = info.state.first_seq; ids.length > 0 && seq <= info.state.last_seq; seq++) {
      const id = (await jsm.streams.getMessage(stream, { seq }).catch(() => undefined))?.header.get('Nats-Msg-Id');
      if (id && ids.includes(id)) stored.push(`${id}@${seq}`);
    }
    const consumer = await jsm.consumers.info(stream, durable);
    const { delivered, ack_floor, num_ack_pending, num_redelivered, num_pending } = consumer;
    return JSON.stringify({
      missingStored: stored,
      streamMessages: info.state.messages,
      consumer: { delivered, ack_floor, num_ack_pending, num_redelivered, num_pending, leader: consumer.cluster?.leader },
      advisories: kinds(),
      notLeaderAdvisories: advisories.filter((a) => !a.startsWith('LEADER')).slice(0, 10),
      logged: logged.length,
      loggedAboutMissing: logged.filter((line) => ids.some((id) => line.includes(id))).slice(0, 10),
      firstLogged: logged.slice(0, 5),
    });
  };
  return { logger, diagnose };
}

describe('NATS three-node cluster', () => {
  it('stream.num_replicas scales the streams a client declared before with one replica', async () => {
    const subjectPrefix = `${uniqueName('cl')}.`;
    const before = await nats.createClient({ servers, subjectPrefix });
    open.push(before);
    await before.declareTopology();
    const after = await nats.createClient({ servers, subjectPrefix, stream: { num_replicas: 3 } });
    open.push(after);
    await after.declareTopology();
    const jsm = await jetstreamManager(admin);
    const streams = (await jsm.streams.names().next()).filter((name) => name.startsWith(streamPrefixOf(subjectPrefix)));
    const replicas = await Promise.all(streams.map(async (name) => (await jsm.streams.info(name)).config.num_replicas));
    expect(replicas.length).toBeGreaterThanOrEqual(2);
    expect(replicas.filter((count) => count !== 3)).toEqual([]);
  }, 120_000);

  it('kill -9 of the stream leader mid-stream: every acknowledged event handled exactly once, none lost or invented', async () => {
    const { subject } = await subjectOnCluster();
    const report = await runScenario('nats', subject, { kind: 'kill', downMs: 12_000, consumerDuringFault: true });
    console.log(`nats consumer after the kill: ${await subject.diagnose!([])}`);
    expect(report.node).toBeGreaterThanOrEqual(1);
    // The producer goes on with two nodes, before the third is back (its publishes retry through the election).
    expect(report.publishRecoverMs).toBeLessThan(12_000);
    // onX() called during the election waits it out (topologyRetry) instead of rejecting.
    expect(report.consumerStartedDuringFault).toBe('started');
    expectExactlyOnce(report);
  }, 300_000);

  it('SIGSTOP of the stream leader (standing in for a network partition of that node), then SIGCONT', async () => {
    const { subject } = await subjectOnCluster();
    const report = await runScenario('nats', subject, { kind: 'pause', downMs: 8000 }, 200);
    console.log(`nats consumer after the pause: ${await subject.diagnose!([])}`);
    expectExactlyOnce(report);
  }, 300_000);

  it('kill -9 of the stream leader and SIGKILL of one of two consumer processes: the shared PostgreSQL store absorbs the redeliveries', async () => {
    const { subject, setup } = await subjectOnCluster();
    const report = await runCrashScenario('nats', subject, setup, 8000);
    expectExactlyOnce(report);
  }, 300_000);
});
