// A consumer process the contract suite kills with SIGKILL: it subscribes one operation of the
// generated client (emitted JavaScript), says `ready`, and holds every event it gets (a handler that
// never finishes), printing `got <text>`.
// Arguments: <index.js> <target> <client options JSON> <operation> <consumer options JSON>.
import { pathToFileURL } from 'node:url';

const [indexJs, target, clientOptions, operation, consumerOptions] = process.argv.slice(2);
const root = await import(pathToFileURL(indexJs).href);
const client = await root[target].createClient(JSON.parse(clientOptions));
await client[operation](async (payload) => {
  process.stdout.write(`got ${payload.text}\n`);
  await new Promise(() => undefined);
}, JSON.parse(consumerOptions));
process.stdout.write('ready\n');
