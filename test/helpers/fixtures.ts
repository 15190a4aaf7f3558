import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES } from './codegen.js';

/** Documents the parser itself rejects (kept as test data for the refusal path). */
export const REJECTED_BY_PARSER = new Set(['spec/3.0/adeo-kafka-request-reply-asyncapi.yml']);

/** A root AsyncAPI document (parts of split documents have no `asyncapi` field). */
function isRootDocument(file: string): boolean {
  return /^asyncapi:|^\s*"asyncapi"\s*:/m.test(readFileSync(file, 'utf8').slice(0, 4096));
}

/** Every valid AsyncAPI document under fixtures/ (not the broken corpus, diff pairs or hostile inputs; not parts of split documents). */
export function validFixtureDocuments(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const relative = path.relative(FIXTURES, full);
      if (statSync(full).isDirectory()) {
        if (['invalid', 'diff', 'hostile'].includes(relative.split(path.sep)[0]!)) continue;
        walk(full);
      } else if (/\.(ya?ml|json)$/.test(name) && !REJECTED_BY_PARSER.has(relative) && isRootDocument(full)) {
        found.push(relative);
      }
    }
  };
  walk(FIXTURES);
  return found;
}
