// The fault tests on the three-node clusters (scripts/cluster.sh): a generated producer publishes a known
// set of events while generated consumers (two instances sharing the Redis idempotency store) handle them;
// meanwhile a node is killed with SIGKILL (or paused with SIGSTOP, standing in for a network partition,
// which this machine's tests do not build) and brought back. What the application saw is then checked.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, expect } from 'vitest';
import pg from 'pg';
import type { ClaimResult, ClaimingIdempotencyStore } from '../../runtime/idempotency.js';
import { PostgresIdempotencyStore } from '../../runtime/idempotency-postgres.js';
import { RedisIdempotencyStore } from '../../runtime/idempotency-redis.js';
import { compileStrict, emittedFolder, FIXTURES, generateTo, importGenerated, ROOT } from '../helpers/codegen.js';

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

/** The clients a test file opens: closed after the file, then its cluster is stopped (after `extra`). */
export function closedAfterAll(broker: Broker, extra?: () => Promise<void>): Array<{ close(): Promise<void> }> {
  const open: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    await Promise.allSettled(open.splice(0).map((c) => c.close()));
    await extra?.();
    await cluster(broker, 'stop');
  });
  return open;
}

/** What every scenario must show: every acknowledged event handled exactly once; none lost, none invented. */
export function expectExactlyOnce(report: Report): void {
  expect(report.acknowledged).toBe(report.published);
  expect({ lost: report.lost, invented: report.invented, handledTwice: report.handledTwice }).toEqual({ lost: 0, invented: 0, handledTwice: 0 });
}

/** Generates the example document for one target, compiles it with tsc --strict (emitting) and imports it. */
export async function generatedExample(target: Broker): Promise<{ client: any; indexJs: string }> {
  const out = await generateTo(path.join(FIXTURES, 'example/asyncapi.yaml'), [target]);
  await compileStrict([out], { emit: true });
  return {
    client: (await importGenerated<any>(out, 'index.js'))[target],
    indexJs: path.join(emittedFolder(out), 'index.js'),
  };
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
  /** What the broker knows about events never handled (stored? delivered how often?), for the failure message. */
  diagnose?(missing: Event[]): Promise<string>;
}

export interface Fault {
  kind: 'kill' | 'pause';
  /** How long the node stays dead or paused before it is started / resumed. */
  downMs: number;
  /** Start a third consumer instance right after the fault (while the cluster elects a new leader). */
  consumerDuringFault?: boolean;
}

export interface Report {
  broker: Broker;
  fault: string;
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
  /** With `consumerDuringFault`: how starting the third consumer ended ('started', or its error). */
  consumerStartedDuringFault?: string;
}

export const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4'];

interface Publishing {
  attempted: Set<string>;
  acknowledged: Event[];
  startedAt: Map<string, number>;
  ackedAt: Map<string, number>;
  publishErrors: number;
  publishErrorMessages: Set<string>;
  faultAt: number;
}

/**
 * Publishes `total` events (keys round robin, a sequence per key) one at a time, retrying a failed publish with
 * the same id for up to `publishRetryMs`; `fault` runs before the event at a quarter of the way.
 */
async function publishAll(subject: Subject, total: number, fault: () => Promise<void>, publishRetryMs = 60_000): Promise<Publishing> {
  const run: Publishing = {
    attempted: new Set(),
    acknowledged: [],
    startedAt: new Map(),
    ackedAt: new Map(),
    publishErrors: 0,
    publishErrorMessages: new Set(),
    faultAt: 0,
  };
  for (let i = 0; i < total; i++) {
    const event = {
      id: randomUUID(),
      key: KEYS[i % KEYS.length]!,
      seq: Math.floor(i / KEYS.length),
    };
    if (i === Math.floor(total / 4)) {
      run.faultAt = Date.now();
      await fault();
    }
    run.attempted.add(event.id);
    run.startedAt.set(event.id, Date.now());
    const giveUp = Date.now() + publishRetryMs;
    for (;;) {
      try {
        await subject.publish(event);
        run.ackedAt.set(event.id, Date.now());
        run.acknowledged.push(event);
        break;
      } catch (error) {
        run.publishErrors++;
        if (run.publishErrorMessages.size < 5) run.publishErrorMessages.add(String((error as Error)?.message ?? error).slice(0, 200));
        if (Date.now() > giveUp) throw new Error(`publish of event ${i} failed for ${publishRetryMs} ms: ${String(error)}`);
        await sleep(200);
      }
    }
  }
  return run;
}

/** Brings the node back after `downMs`: start-node after a kill, SIGCONT after a pause. */
function restoreLater(broker: Broker, fault: Fault, node: number): Promise<void> {
  return sleep(fault.downMs).then(async () => {
    await cluster(broker, fault.kind === 'kill' ? 'start-node' : 'resume', String(node));
    await cluster(broker, 'ready'); // the next test finds the whole cluster serving
  });
}

/** What the application saw, per event id: how often it was handled, when first, in which order per key. */
interface Handling {
  runs: Map<string, number>;
  handledAt: Map<string, number>;
  order: Map<string, number[]>;
}

async function report(
  broker: Broker,
  fault: string,
  node: number,
  run: Publishing,
  seen: Handling,
  duplicatesAbsorbed: number,
  consumerStartedDuringFault?: string,
): Promise<Report> {
  const afterFault = run.acknowledged.filter((e) => run.startedAt.get(e.id)! > run.faultAt);
  const earliest = (times: Map<string, number>) => Math.min(...afterFault.map((e) => times.get(e.id) ?? Infinity)) - run.faultAt;
  const result: Report = {
    broker,
    fault,
    node,
    published: run.attempted.size,
    acknowledged: run.acknowledged.length,
    handled: seen.runs.size,
    handledTwice: [...seen.runs.values()].filter((n) => n > 1).length,
    lost: run.acknowledged.filter((e) => !seen.runs.has(e.id)).length,
    invented: [...seen.runs.keys()].filter((id) => !run.attempted.has(id)).length,
    duplicatesAbsorbed,
    publishErrors: run.publishErrors,
    publishErrorMessages: [...run.publishErrorMessages],
    publishRecoverMs: earliest(run.ackedAt),
    recoverMs: earliest(seen.handledAt),
    outOfOrderKeys: [...seen.order].filter(([, seqs]) => seqs.some((s, i) => i > 0 && s < seqs[i - 1]!)).map(([key]) => key),
    clusterMiB: await clusterMemoryMiB(broker),
    ...(consumerStartedDuringFault === undefined ? {} : { consumerStartedDuringFault }),
  };
  console.log(`cluster fault report: ${JSON.stringify(result)}`);
  return result;
}

function newHandling(): Handling & { record(event: Event, at?: number): void } {
  const seen = {
    runs: new Map<string, number>(),
    handledAt: new Map<string, number>(),
    order: new Map<string, number[]>(),
  };
  return {
    ...seen,
    record(event, at = Date.now()) {
      seen.runs.set(event.id, (seen.runs.get(event.id) ?? 0) + 1);
      if (!seen.order.has(event.key)) seen.order.set(event.key, []);
      seen.order.get(event.key)!.push(event.seq);
      if (!seen.handledAt.has(event.id)) seen.handledAt.set(event.id, at);
    },
  };
}

/**
 * Two consumer instances (in this process) share the Redis store while the leader gets the fault a quarter of
 * the way through publishing, and is brought back `fault.downMs` later. Waits (bounded) until every
 * acknowledged event was handled, then reports.
 */
export async function runScenario(broker: Broker, subject: Subject, fault: Fault, total = 400): Promise<Report> {
  const redis = new Redis('redis://127.0.0.1:6379', {
    maxRetriesPerRequest: 2,
  });
  const keyPrefix = `codegen-cluster-test:${randomUUID()}:`;
  const counts = { absorbed: 0 };
  const newStore = () => new CountingStore(new RedisIdempotencyStore({ client: redis, keyPrefix }), counts);
  const seen = newHandling();
  for (let instance = 0; instance < 2; instance++) {
    await subject.startConsumer(newStore(), (e) => seen.record(e));
  }
  let node = 0;
  let restored: Promise<void> = Promise.resolve();
  let lateStart: Promise<string> | undefined;
  try {
    const run = await publishAll(subject, total, async () => {
      node = await subject.leader();
      await cluster(broker, fault.kind, String(node));
      restored = restoreLater(broker, fault, node);
      if (fault.consumerDuringFault)
        lateStart = subject
          .startConsumer(newStore(), (e) => seen.record(e))
          .then(
            () => 'started',
            (error: unknown) => String(error),
          );
    });
    await restored;
    await waitFor(
      () => run.acknowledged.every((e) => seen.runs.has(e.id)),
      120_000,
      () => `every acknowledged event to be handled (${run.acknowledged.filter((e) => seen.runs.has(e.id)).length}/${run.acknowledged.length})`,
    ).catch(async (error: unknown) => {
      const missing = run.acknowledged.filter((e) => !seen.runs.has(e.id));
      const diagnosis = await subject.diagnose?.(missing).catch((failure: unknown) => `diagnosis failed: ${String(failure)}`);
      throw new Error(`${(error as Error).message}${diagnosis ? `; ${diagnosis}` : ''}`);
    });
    await sleep(2000); // redeliveries still under way would show as events handled twice
    return await report(broker, fault.kind, node, run, seen, counts.absorbed, await lateStart);
  } finally {
    await restored.catch(() => undefined);
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  }
}

// ---- consumers in processes of their own, killed with SIGKILL ----

const CONSUMER_SCRIPT = path.join(import.meta.dirname, 'processes/consumer.mjs');
const POSTGRES_URL = process.env.CODEGEN_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** How the consumer processes create their generated client and subscribe. */
export interface ProcessSetup {
  indexJs: string;
  client: Record<string, unknown>;
  subscribe: Record<string, unknown>;
}

class ConsumerProcess {
  absorbed = 0;
  private constructor(readonly child: ChildProcess) {}

  static async start(broker: Broker, setup: ProcessSetup, table: string): Promise<ConsumerProcess> {
    const config = JSON.stringify({
      client: setup.client,
      subscribe: setup.subscribe,
      table,
      postgres: POSTGRES_URL,
    });
    const child = spawn(process.execPath, [CONSUMER_SCRIPT, broker, setup.indexJs, config], { stdio: ['ignore', 'pipe', 'inherit'] });
    const consumer = new ConsumerProcess(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        consumer.absorbed += text.split('absorbed').length - 1;
        if (text.includes('ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`consumer exited with ${code} before it was ready`)));
    });
    return consumer;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}

/**
 * Like runScenario, with the two consumer instances in processes of their own, handling into PostgreSQL with
 * the shared PostgreSQL store. At the fault, consumer A is killed with SIGKILL together with the leader node;
 * A is started again two seconds later, the node after `downMs`.
 */
export async function runCrashScenario(broker: Broker, subject: Subject, setup: ProcessSetup, downMs: number, total = 400): Promise<Report> {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
  const table = `codegen_cluster_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await pool.query(
    `CREATE TABLE "${table}_handled" (id text NOT NULL, key text NOT NULL, seq int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`,
  );
  await new PostgresIdempotencyStore({ pool, table }).has('create the table once, not in two processes at once');
  const consumers = [await ConsumerProcess.start(broker, setup, table), await ConsumerProcess.start(broker, setup, table)];
  let node = 0;
  let restored: Promise<void> = Promise.resolve();
  try {
    const run = await publishAll(subject, total, async () => {
      node = await subject.leader();
      await Promise.all([consumers[0]!.kill(), cluster(broker, 'kill', String(node))]);
      restored = Promise.all([
        sleep(2000).then(async () => void consumers.push(await ConsumerProcess.start(broker, setup, table))),
        restoreLater(broker, { kind: 'kill', downMs }, node),
      ]).then(() => undefined);
    });
    await restored;
    const handledRows = async () =>
      (await pool.query(`SELECT id, key, seq, at FROM "${table}_handled" ORDER BY at`)).rows as Array<Event & { at: Date }>;
    const handledIds = async () => new Set((await handledRows()).map((row) => row.id));
    await waitFor(
      async () => {
        const ids = await handledIds();
        return run.acknowledged.every((e) => ids.has(e.id));
      },
      120_000,
      () => 'every acknowledged event to be handled',
    );
    await sleep(3000); // redeliveries still under way would show as events handled twice
    const seen = newHandling();
    for (const row of await handledRows()) seen.record(row, row.at.getTime());
    return await report(
      broker,
      'kill + consumer SIGKILL',
      node,
      run,
      seen,
      consumers.reduce((sum, c) => sum + c.absorbed, 0),
    );
  } finally {
    await restored.catch(() => undefined);
    await Promise.all(consumers.map((c) => c.kill()));
    await pool.query(`DROP TABLE IF EXISTS "${table}_handled"`);
    await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    await pool.end();
  }
}

/** The example document's Order carrying the event's key and sequence, and the event read back from it. */
export function orderOf(event: Event) {
  const item = { sku: 'S', quantity: 1, unitPrice: event.seq };
  return {
    orderId: event.id,
    customerId: event.key,
    placedAt: new Date().toISOString(),
    currency: 'EUR',
    total: event.seq,
    items: [item],
  };
}

export function eventOf(payload: { orderId: string; customerId: string; total: number }, context: { envelope: { id: string } }): Event {
  return {
    id: context.envelope.id,
    key: payload.customerId,
    seq: payload.total,
  };
}

export const ORDER_HEADERS = { 'x-tenant': 'acme' };
