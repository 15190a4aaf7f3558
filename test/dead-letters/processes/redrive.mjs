// A redrive in a process of its own, so a test can kill it with SIGKILL halfway.
// Usage: node redrive.mjs <generated index.js> <broker> <client options JSON> <selection JSON> <ratePerSecond>
// Prints the result as JSON on its last line.
import { pathToFileURL } from 'node:url';

const [indexJs, broker, options, selection, rate] = process.argv.slice(2);
const generated = await import(pathToFileURL(indexJs).href);
const client = await generated[broker].createClient(JSON.parse(options));
const result = await client.deadLetters.onOrderCreated.redrive(JSON.parse(selection), { ratePerSecond: Number(rate) });
process.stdout.write(`${JSON.stringify(result)}\n`);
await client.close();
