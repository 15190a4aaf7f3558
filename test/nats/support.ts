import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { compileStrict, FIXTURES, generateTo, importGenerated, uniqueName } from '../helpers/codegen.js';

export const NATS_URL = process.env.NATS_URL ?? '127.0.0.1:4222';
export const EXAMPLE = path.join(FIXTURES, 'example/asyncapi.yaml');
export const SENSORS = path.join(FIXTURES, 'nats/sensors.yaml');

/** The generated root module, seen loosely: tests reach the NATS client through `nats.createClient`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Generated = { nats: { createClient(options?: Record<string, unknown>): Promise<any>; [name: string]: unknown } } & Record<string, any>;

/** Generates documents for the NATS target, compiles them together with `tsc --strict`, and imports each root index. */
export async function buildGenerated(documents: string[]): Promise<{ outs: string[]; modules: Generated[] }> {
  const outs: string[] = [];
  for (const document of documents) outs.push(await generateTo(document, ['nats']));
  await compileStrict(outs, { emit: true });
  const modules: Generated[] = [];
  for (const out of outs) modules.push(await importGenerated<Generated>(out, 'index.js'));
  return { outs, modules };
}

/** A subject prefix unique to this run (`t-xyz.`); streams get the matching upper-case prefix. */
export function uniquePrefix(label: string): string {
  return `${uniqueName(label).replace(/[^a-zA-Z0-9-]/g, '-')}.`;
}

export function streamPrefixOf(subjectPrefix: string): string {
  return subjectPrefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_');
}

/** A plain connection for what tests do behind the generated client's back. */
export function rawConnection(servers = NATS_URL): Promise<NatsConnection> {
  return connect({ servers, name: 'codegen-test' });
}

/** Deletes every stream whose name starts with the prefix (the streams of one test run). */
export async function deleteStreams(streamPrefix: string, servers = NATS_URL): Promise<void> {
  const nc = await rawConnection(servers);
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) if (name.startsWith(streamPrefix)) names.push(name);
    for (const name of names) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A valid `Order` of the example document. */
export function order(index = 0) {
  return {
    orderId: randomUUID(),
    customerId: `C-${index}`,
    placedAt: new Date().toISOString(),
    currency: 'EUR',
    total: 10 + index,
    items: [{ sku: `SKU-${index}`, quantity: 1, unitPrice: 10 + index }],
  };
}

/** A logger that keeps what it is told, for assertions (and prints nothing). */
export function memoryLogger() {
  const lines: Array<{ level: string; message?: string; data: Record<string, unknown> }> = [];
  const at = (level: string) => (data: Record<string, unknown>, message?: string) => void lines.push({ level, message, data });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}
