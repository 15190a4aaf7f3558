// A thin operator command over the generated dead-letter API, for the bundled example document
// (generated into example-out/ by `npm run example`). Everything it does is one call of
// `client.deadLetters.<onX>`; see docs/dead-letters.md.
//
//   operate.js <rabbitmq|kafka|nats> <onX> inspect [--limit 20] [--after ID]
//   operate.js <rabbitmq|kafka|nats> <onX> redrive [--reason R]... [--ids A,B] [--rate 50] [--include-invalid]
//   operate.js <rabbitmq|kafka|nats> <onX> discard --why TEXT [--reason R]... [--ids A,B]
//
// Options: --prefix P (the client's topic, subject or name prefix). Brokers: KAFKA_BROKERS, NATS_URL, AMQP_URL.
// Prints JSON on stdout; exit code 2 on bad arguments.
import { parseArgs } from 'node:util';
import { kafka, nats, rabbitmq, type DeadLetterReason, type DeadLetterSelection } from '../../example-out/index.js';

type Broker = 'rabbitmq' | 'kafka' | 'nats';
type Queues = Record<string, Parameters<typeof run>[0] | undefined>;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    limit: { type: 'string' },
    after: { type: 'string' },
    reason: { type: 'string', multiple: true },
    ids: { type: 'string' },
    rate: { type: 'string' },
    'include-invalid': { type: 'boolean' },
    why: { type: 'string' },
    prefix: { type: 'string' },
  },
});
const [broker, operation, call] = positionals as [Broker, string, string];

/** The selection the options name: ids, else reasons, else all. */
function selection(): DeadLetterSelection<unknown, unknown, unknown> {
  if (values.ids) return { ids: values.ids.split(',') };
  if (values.reason) return { reason: values.reason as DeadLetterReason[] };
  return 'all';
}

async function run(queue: {
  inspect(options: { limit?: number; after?: string }): Promise<unknown>;
  redrive(selection: DeadLetterSelection<never, never, never>, options: { ratePerSecond?: number; includeInvalid?: boolean }): Promise<unknown>;
  discard(selection: DeadLetterSelection<never, never, never>, options: { reason: string }): Promise<unknown>;
}): Promise<unknown> {
  if (call === 'inspect') return queue.inspect({ limit: values.limit ? Number(values.limit) : undefined, after: values.after });
  if (call === 'redrive')
    return queue.redrive(selection(), { ratePerSecond: values.rate ? Number(values.rate) : undefined, includeInvalid: values['include-invalid'] });
  if (call === 'discard' && values.why) return queue.discard(selection(), { reason: values.why });
  throw new UsageError(`unknown call ${JSON.stringify(call)} (inspect, redrive, or discard with --why)`);
}

class UsageError extends Error {}

async function connect(): Promise<{ deadLetters: object; close(): Promise<void> }> {
  const prefix = values.prefix ?? '';
  if (broker === 'kafka') return kafka.createClient({ brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), topicPrefix: prefix });
  if (broker === 'nats') return nats.createClient({ servers: process.env.NATS_URL ?? '127.0.0.1:4222', subjectPrefix: prefix });
  if (broker === 'rabbitmq') return rabbitmq.createClient({ urls: [process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'], namePrefix: prefix });
  throw new UsageError(`unknown broker ${JSON.stringify(broker)} (rabbitmq, kafka, nats)`);
}

try {
  const client = await connect();
  try {
    const queue = (client.deadLetters as Queues)[operation];
    if (!queue) throw new UsageError(`no receive operation ${JSON.stringify(operation)}: ${Object.keys(client.deadLetters).join(', ')}`);
    process.stdout.write(`${JSON.stringify(await run(queue), (key, value) => (key === 'body' ? undefined : value), 2)}\n`);
  } finally {
    await client.close();
  }
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
