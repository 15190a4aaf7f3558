// A consumer in a process of its own, so a test can kill it with SIGKILL in the middle of a stream.
// Usage: node consumer.mjs <generated index.js> <amqp url> <name prefix> <log file> [stall after]
// Appends the id of every event it handled to the log file (synchronously: a kill loses no line),
// and prints "ready" once it consumes. With "stall after" N, handlers after the Nth never finish, so
// the events they hold stay unacknowledged until the test kills the process: "mid-stream" does not
// depend on how fast the machine is.
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [indexJs, url, namePrefix, logFile, stallAfter] = process.argv.slice(2);
let started = 0;
const generated = await import(pathToFileURL(indexJs).href);
const client = await generated.rabbitmq.createClient({ urls: [url], namePrefix, serviceName: 'crash' });
await client.onOrderCreated(
  async (_payload, context) => {
    if (stallAfter !== undefined && ++started > Number(stallAfter)) await new Promise(() => {});
    await new Promise((resolve) => setTimeout(resolve, 2));
    appendFileSync(logFile, `${context.envelope.id}\n`);
  },
  { concurrency: 10 },
);
process.stdout.write('ready\n');
