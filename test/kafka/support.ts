/* eslint-disable @typescript-eslint/no-explicit-any */
import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel, type Admin, type KafkaMessage } from 'kafkajs';
import { compileStrict, emittedFolder, FIXTURES, generateTo, importGenerated, ROOT } from '../helpers/codegen.js';

const execFileAsync = promisify(execFile);

export const BROKERS = ['127.0.0.1:9092'];

/** Fails (never skips) when no broker answers: the suite needs a real Kafka. */
export async function assertKafkaUp(): Promise<void> {
  const ok = await new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: 9092 });
    const done = (value: boolean) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(3000, () => done(false));
    socket.on('connect', () => done(true));
    socket.on('error', () => done(false));
  });
  if (!ok) throw new Error('Kafka is not running on 127.0.0.1:9092: run `bash scripts/kafka.sh start && bash scripts/kafka.sh wait` (npm test starts it)');
}

/** Runs scripts/kafka.sh (restart keeps topics and offsets; start + wait after). */
export async function kafkaScript(...args: string[]): Promise<void> {
  await execFileAsync('bash', [path.join(ROOT, 'scripts/kafka.sh'), ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
}

/** Makes sure the broker runs (other suites use it): start keeping data, then wait until it serves. */
export async function ensureKafkaRunning(): Promise<void> {
  await kafkaScript('start', '--keep-data');
  await kafkaScript('wait');
}

export interface GeneratedExample {
  /** The generated root module (types, validators, errors, the `kafka` namespace). */
  root: any;
  kafka: any;
  /** Folder of the emitted JavaScript (for child processes). */
  js: string;
}

/**
 * Generates documents for the kafka target, compiles them with tsc --strict (one program) and
 * imports each (default: the bundled example and fixtures/kafka/bindings.yaml).
 */
export async function generateFixtures(documents = ['example/asyncapi.yaml', 'kafka/bindings.yaml']): Promise<GeneratedExample[]> {
  const outs = await Promise.all(documents.map((document) => generateTo(path.join(FIXTURES, document), ['kafka'])));
  await compileStrict(outs, { emit: true });
  return Promise.all(
    outs.map(async (out) => {
      const root = await importGenerated<any>(out, 'index.js');
      return { root, kafka: root.kafka, js: emittedFolder(out) };
    }),
  );
}

/** A plain kafkajs instance for what the tests do beside the generated client (raw records, admin). */
export function plainKafka(): Kafka {
  return new Kafka({ clientId: 'codegen-tests', brokers: BROKERS, logLevel: logLevel.NOTHING });
}

export async function withAdmin<R>(work: (admin: Admin) => Promise<R>): Promise<R> {
  const admin = plainKafka().admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Committed offset of a group per partition of a topic. */
export async function committedOffsets(groupId: string, topic: string): Promise<Map<number, string>> {
  return withAdmin(async (admin) => {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((entry?.partitions ?? []).map((p) => [p.partition, p.offset]));
  });
}

export interface RawRecord {
  topic: string;
  partition: number;
  message: KafkaMessage;
  headers: Record<string, string>;
}

/** Reads a topic from the beginning with a plain consumer until `count` records arrived. */
export async function readTopic(topic: string, count: number, options: { readUncommitted?: boolean; timeoutMs?: number } = {}): Promise<RawRecord[]> {
  const consumer = plainKafka().consumer({ groupId: `reader-${topic}-${Date.now()}`, readUncommitted: options.readUncommitted ?? false, maxWaitTimeInMs: 200 });
  const records: RawRecord[] = [];
  await consumer.connect();
  try {
    // The topic may not exist yet (created on first publish): ask again until it does.
    for (let attempt = 1; ; attempt++) {
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        break;
      } catch (error) {
        if (attempt >= 40) throw error;
        await sleep(250);
      }
    }
    await consumer.run({
      eachMessage: async ({ topic: t, partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) if (value !== undefined) headers[name] = String(Array.isArray(value) ? value[0] : value);
        records.push({ topic: t, partition, message, headers });
      },
    });
    await waitFor(() => records.length >= count, options.timeoutMs ?? 30_000, `${count} records on ${topic} (got ${records.length})`);
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** Polls until `condition` holds; fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A valid `Order` payload of the example document; `sequence` travels in the first item's quantity. */
export function order(sequence: number, orderId = '6f1c1d1e-8b2a-4c55-9d0e-2f4a3b5c6d7e'): Record<string, unknown> {
  return {
    orderId,
    customerId: `C-${sequence}`,
    placedAt: '2026-11-26T08:00:00Z',
    currency: 'EUR',
    total: sequence,
    items: [{ sku: 'SKU-1', quantity: sequence + 1, unitPrice: 1 }],
  };
}

/** A logger that keeps what it was told (warnings and errors), for assertions and failure messages. */
export function memoryLogger(): { logger: Record<string, (o: Record<string, unknown>, m?: string) => void>; lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (o: Record<string, unknown>, m?: string) => void lines.push(`${level} ${m ?? ''} ${JSON.stringify(o)}`);
  return { logger: { debug: () => undefined, info: () => undefined, warn: keep('warn'), error: keep('error') }, lines };
}
