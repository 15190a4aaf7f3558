// The fault tests on the three-node clusters (scripts/cluster.sh): a generated producer publishes a known
// set of events while generated consumers (two instances sharing the Redis idempotency store) handle them;
// meanwhile a node is killed with SIGKILL (or paused with SIGSTOP, standing in for a network partition,
// which this machine's tests do not build) and brought back. What the application saw is then checked.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { ClaimResult, ClaimingIdempotencyStore } from '../../runtime/idempotency.js';
import { RedisIdempotencyStore } from '../../runtime/idempotency-redis.js';
import { compileStrict, FIXTURES, generateTo, importGenerated, ROOT } from '../helpers/codegen.js';

const execFileAsync = promisify(execFile);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export type Broker = 'nats' | 'kafka' | 'rabbitmq';

/** Runs scripts/cluster.sh and returns its stdout. */
export async function cluster(broker: Broker, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('bash', [path.join(ROOT, 'scripts/cluster.sh'), broker, ...args], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
    timeout: 300_000,
  });
  return stdout.trim();
}

/** Starts the cluster for one test file (stopping leftovers of an interrupted run first). */
export async function startCluster(broker: Broker): Promise<string[]> {
  await cluster(broker, 'stop');
  await cluster(broker, 'start');
  return (await cluster(broker, 'servers')).split(',');
}

export async function clusterMemoryMiB(broker: Broker): Promise<number> {
  const total = /total: (\d+) MiB/.exec(await cluster(broker, 'memory'));
  return Number(total?.[1] ?? 0);
}

/** Generates the example document for one target, compiles it with tsc --strict (emitting) and imports it. */
export async function generatedExample(target: Broker): Promise<any> {
  const out = await generateTo(path.join(FIXTURES, 'example/asyncapi.yaml'), [target]);
  await compileStrict([out], { emit: true });
  return (await importGenerated<any>(out, 'index.js'))[target];
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await sleep(100);
  }
}

// ---- the shared idempotency store, counting what it absorbs ----

/** A Redis store that counts the duplicates it absorbed (claims that found the id done). */
export class CountingStore implements ClaimingIdempotencyStore {
  constructor(
    private readonly inner: RedisIdempotencyStore,
    private readonly counts: { absorbed: number },
  ) {}
  async claim(id: string, leaseMs: number): Promise<ClaimResult> {
    const result = await this.inner.claim(id, leaseMs);
    if (result === 'done') this.counts.absorbed++;
    return result;
  }
  commit = (id: string) => this.inner.commit(id);
  release = (id: string) => this.inner.release(id);
  has = (id: string) => this.inner.has(id);
  add = (id: string) => this.inner.add(id);
}

// ---- the scenario ----

export interface Event {
  id: string;
  key: string;
  seq: number;
}

/** What the broker-specific part provides: generated clients on the cluster, and who leads. */
export interface Subject {
  /** Publishes one event (the same id on every retry), resolving when the broker acknowledged it. */
  publish(event: Event): Promise<void>;
  /** Starts a consumer instance whose handler calls `handled` once per handler run. */
  startConsumer(store: ClaimingIdempotencyStore, handled: (event: Event) => void): Promise<void>;
  /** The node (1-3) that leads the partition / stream / queue the events go to. */
  leader(): Promise<number>;
}

export interface Fault {
  kind: 'kill' | 'pause';
  /** How long the node stays dead or paused before it is started / resumed. */
  downMs: number;
}

export interface Report {
  broker: Broker;
  fault: Fault['kind'];
  node: number;
  published: number;
  acknowledged: number;
  handled: number;
  handledTwice: number;
  lost: number;
  invented: number;
  duplicatesAbsorbed: number;
  publishErrors: number;
  /** The distinct messages of those errors (a few). */
  publishErrorMessages: string[];
  /** From the fault until an event published after it was acknowledged by the broker… */
  publishRecoverMs: number;
  /** … and until it was handled. */
  recoverMs: number;
  outOfOrderKeys: string[];
  clusterMiB: number;
}

export const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4'];

/**
 * Publishes `total` events (keys round robin, a sequence per key), one at a time with retries of the same id
 * for up to `publishRetryMs`; after a quarter of them the leader gets the fault, and is brought back
 * `fault.downMs` later. Waits (bounded) until every acknowledged event was handled, then reports.
 */
export async function runScenario(broker: Broker, subject: Subject, fault: Fault, total = 400, publishRetryMs = 60_000): Promise<Report> {
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
  const keyPrefix = `codegen-cluster-test:${randomUUID()}:`;
  const counts = { absorbed: 0 };
  const runs = new Map<string, number>();
  const order = new Map<string, number[]>();
  const handledAt = new Map<string, number>();
  const handled = (event: Event) => {
    runs.set(event.id, (runs.get(event.id) ?? 0) + 1);
    if (!order.has(event.key)) order.set(event.key, []);
    order.get(event.key)!.push(event.seq);
    if (!handledAt.has(event.id)) handledAt.set(event.id, Date.now());
  };
  for (let instance = 0; instance < 2; instance++) {
    await subject.startConsumer(new CountingStore(new RedisIdempotencyStore({ client: redis, keyPrefix }), counts), handled);
  }

  const attempted = new Set<string>();
  const acknowledged: Event[] = [];
  const startedAt = new Map<string, number>();
  const ackedAt = new Map<string, number>();
  let publishErrors = 0;
  const publishErrorMessages = new Set<string>();
  let faultAt = 0;
  let node = 0;
  let faulted: Promise<void> = Promise.resolve();
  try {
    for (let i = 0; i < total; i++) {
      const key = KEYS[i % KEYS.length]!;
      const event = { id: randomUUID(), key, seq: Math.floor(i / KEYS.length) };
      if (i === Math.floor(total / 4)) {
        node = await subject.leader();
        faultAt = Date.now();
        await cluster(broker, fault.kind, String(node));
        faulted = sleep(fault.downMs).then(() => cluster(broker, fault.kind === 'kill' ? 'start-node' : 'resume', String(node)).then(() => undefined));
      }
      attempted.add(event.id);
      startedAt.set(event.id, Date.now());
      const giveUp = Date.now() + publishRetryMs;
      for (;;) {
        try {
          await subject.publish(event);
          ackedAt.set(event.id, Date.now());
          acknowledged.push(event);
          break;
        } catch (error) {
          publishErrors++;
          if (publishErrorMessages.size < 5) publishErrorMessages.add(String((error as Error)?.message ?? error).slice(0, 200));
          if (Date.now() > giveUp) throw new Error(`publish of event ${i} failed for ${publishRetryMs} ms: ${String(error)}`);
          await sleep(200);
        }
      }
    }
  } finally {
    await faulted;
  }
  await waitFor(
    () => acknowledged.every((e) => runs.has(e.id)),
    120_000,
    () => `every acknowledged event to be handled (${acknowledged.filter((e) => runs.has(e.id)).length}/${acknowledged.length})`,
  );
  await sleep(2000); // redeliveries still under way would show as events handled twice
  const afterFault = acknowledged.filter((e) => startedAt.get(e.id)! > faultAt);
  const earliest = (times: Map<string, number>) => Math.min(...afterFault.map((e) => times.get(e.id)!)) - faultAt;
  const report: Report = {
    broker,
    fault: fault.kind,
    node,
    published: attempted.size,
    acknowledged: acknowledged.length,
    handled: runs.size,
    handledTwice: [...runs.values()].filter((n) => n > 1).length,
    lost: acknowledged.filter((e) => !runs.has(e.id)).length,
    invented: [...runs.keys()].filter((id) => !attempted.has(id)).length,
    duplicatesAbsorbed: counts.absorbed,
    publishErrors,
    publishErrorMessages: [...publishErrorMessages],
    publishRecoverMs: earliest(ackedAt),
    recoverMs: earliest(handledAt),
    outOfOrderKeys: [...order].filter(([, seqs]) => seqs.some((s, i) => i > 0 && s < seqs[i - 1]!)).map(([key]) => key),
    clusterMiB: await clusterMemoryMiB(broker),
  };
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  console.log(`cluster fault report: ${JSON.stringify(report)}`);
  return report;
}

/** The example document's Order carrying the event's key and sequence, and the event read back from it. */
export function orderOf(event: Event) {
  const item = { sku: 'S', quantity: 1, unitPrice: event.seq };
  return { orderId: event.id, customerId: event.key, placedAt: new Date().toISOString(), currency: 'EUR', total: event.seq, items: [item] };
}

export function eventOf(payload: { orderId: string; customerId: string; total: number }, context: { envelope: { id: string } }): Event {
  return { id: context.envelope.id, key: payload.customerId, seq: payload.total };
}

export const ORDER_HEADERS = { 'x-tenant': 'acme' };
