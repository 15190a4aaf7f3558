// A consumer in a process of its own, so a test can kill it with SIGKILL in the middle of a stream.
// Usage: node consumer.mjs <generated index.js> <amqp url> <name prefix> <log file>
// Appends the id of every event it handled to the log file (synchronously: a kill loses no line),
// and prints "ready" once it consumes.
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [indexJs, url, namePrefix, logFile] = process.argv.slice(2);
const generated = await import(pathToFileURL(indexJs).href);
const client = await generated.rabbitmq.createClient({ urls: [url], namePrefix, serviceName: 'crash' });
await client.onOrderCreated(
  async (_payload, context) => {
    await new Promise((resolve) => setTimeout(resolve, 2));
    appendFileSync(logFile, `${context.envelope.id}\n`);
  },
  { concurrency: 10 },
);
process.stdout.write('ready\n');
