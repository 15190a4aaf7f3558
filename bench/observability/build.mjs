// Generates the bundled example with the CLI (bin/codegen.js, so `npm run build` first) and compiles it
// with tsc --strict to JavaScript under .cache/bench-observability.
import path from 'node:path';
import { buildGenerated as build, ROOT } from '../lib/throughput.mjs';

export { ROOT };
export const WORK = path.join(ROOT, '.cache', 'bench-observability');

/** Returns the folder of the emitted JavaScript. */
export function buildGenerated(targets = ['rabbitmq', 'kafka', 'nats']) {
  return build({ work: WORK, targets });
}
