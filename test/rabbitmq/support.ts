import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { connect, type Channel, type ChannelModel, type GetMessage, type Options } from 'amqplib';
import { compileStrict, emittedFolder, FIXTURES, freshDir, generateTo, importGenerated, uniqueName } from '../helpers/codegen.js';

const execFileAsync = promisify(execFile);

export const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** The generated modules the tests use, loosely typed: the tests drive them as an application would. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;

export interface Generated {
  /** Folder of the generated TypeScript. */
  out: string;
  /** The emitted JavaScript's index, for child processes. */
  indexJs: string;
  root: Loose;
  rabbitmq: Loose;
}

/**
 * Generates each fixture with the rabbitmq target, type-checks all of them as one `tsc --strict`
 * program (emitting JavaScript) and imports them.
 */
export async function generateAndImport(fixtures: string[]): Promise<Generated[]> {
  const outs: string[] = [];
  for (const fixture of fixtures) outs.push(await generateTo(path.join(FIXTURES, fixture), ['rabbitmq'], freshDir(`rabbitmq-${path.basename(fixture)}`)));
  await compileStrict(outs, { emit: true });
  return Promise.all(
    outs.map(async (out) => {
      const root = await importGenerated<Loose>(out, 'index.js');
      return { out, indexJs: path.join(emittedFolder(out), 'index.js'), root, rabbitmq: root.rabbitmq };
    }),
  );
}

/**
 * A document with one channel `things` (address `things.created`, its amqp binding as given) that the
 * application both sends to (`publishSendThing`) and receives from (`onThing`); `head` holds info and servers.
 */
export function thingsDocument(channelBinding: string, head = 'info: { title: Things, version: 1.0.0 }'): string {
  return `asyncapi: 3.0.0
${head}
channels:
  things:
    address: things.created
    messages:
      thing: { payload: { type: object, required: [id], properties: { id: { type: string } } } }
    bindings:
      amqp: ${channelBinding}
operations:
  sendThing: { action: send, channel: { $ref: '#/channels/things' } }
  onThing: { action: receive, channel: { $ref: '#/channels/things' } }
`;
}

/** A unique prefix for exchange and queue names, so runs never collide. */
export function namePrefix(label: string): string {
  return `${uniqueName(`codegen-${label}`)}.`;
}

/** A plain amqplib connection for looking at queues and injecting raw messages. */
export class Broker {
  private constructor(
    readonly connection: ChannelModel,
    readonly channel: Channel,
  ) {}

  static async open(url = AMQP_URL): Promise<Broker> {
    const connection = await connect(url);
    const channel = await connection.createChannel();
    return new Broker(connection, channel);
  }

  /** A fresh exclusive queue bound to `exchange` with `key`, to see what a publisher sends. */
  async probe(exchange: string, key: string): Promise<string> {
    const { queue } = await this.channel.assertQueue('', { exclusive: true, autoDelete: true });
    await this.channel.bindQueue(queue, exchange, key);
    return queue;
  }

  /** Waits until `count` messages could be taken from `queue` (acknowledged), or fails after `timeoutMs`. */
  async take(queue: string, count: number, timeoutMs = 10_000): Promise<GetMessage[]> {
    const messages: GetMessage[] = [];
    const deadline = Date.now() + timeoutMs;
    while (messages.length < count) {
      const message = await this.channel.get(queue, { noAck: true });
      if (message) messages.push(message);
      else if (Date.now() > deadline) throw new Error(`only ${messages.length} of ${count} messages in ${queue} after ${timeoutMs} ms`);
      else await sleep(25);
    }
    return messages;
  }

  async count(queue: string): Promise<number> {
    return (await this.channel.checkQueue(queue)).messageCount;
  }

  publish(exchange: string, routingKey: string, body: Buffer | string, options: Options.Publish = {}): void {
    this.channel.publish(exchange, routingKey, Buffer.isBuffer(body) ? body : Buffer.from(body), options);
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}

/** Valid CloudEvents headers for a raw message (what a well-behaved producer sends). */
export function cloudEventHeaders(type: string, id = uniqueName('raw')): Record<string, string> {
  return { 'cloudEvents:specversion': '1.0', 'cloudEvents:id': id, 'cloudEvents:source': '/tests', 'cloudEvents:type': type, 'cloudEvents:time': new Date().toISOString() };
}

export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('rabbitmqctl', ['-q', ...args], { timeout: 30_000 });
  return stdout;
}

/** Deletes every queue and exchange whose name starts with `prefix` (default vhost). */
export async function deleteByPrefix(prefix: string, vhost = '/'): Promise<void> {
  const queues = JSON.parse((await rabbitmqctl('list_queues', '-p', vhost, 'name', '--formatter', 'json')) || '[]') as Array<{ name: string }>;
  const exchanges = JSON.parse((await rabbitmqctl('list_exchanges', '-p', vhost, 'name', '--formatter', 'json')) || '[]') as Array<{ name: string }>;
  const broker = await Broker.open(vhost === '/' ? AMQP_URL : `${AMQP_URL}/${encodeURIComponent(vhost)}`);
  try {
    for (const { name } of queues.filter((q) => q.name.startsWith(prefix))) await broker.channel.deleteQueue(name);
    for (const { name } of exchanges.filter((e) => e.name.startsWith(prefix))) await broker.channel.deleteExchange(name);
  } finally {
    await broker.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` until it holds, or fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
