import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES } from './codegen.js';

/** Documents the parser itself rejects (kept as test data for the refusal path). */
export const REJECTED_BY_PARSER = new Set(['spec/3.0/adeo-kafka-request-reply-asyncapi.yml']);

/** Every valid AsyncAPI document under fixtures/ (not the broken corpus, not diff pairs, not split-file parts). */
export function validFixtureDocuments(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const relative = path.relative(FIXTURES, full);
      if (statSync(full).isDirectory()) {
        if (['invalid', 'diff', 'hostile'].includes(relative.split(path.sep)[0]!)) continue;
        if (relative.startsWith('multi-file') && relative !== 'multi-file') continue;
        walk(full);
      } else if (/\.(ya?ml|json)$/.test(name) && !REJECTED_BY_PARSER.has(relative)) {
        if (relative.startsWith('multi-file') && name !== 'asyncapi.yaml') continue;
        found.push(relative);
      }
    }
  };
  walk(FIXTURES);
  return found;
}
