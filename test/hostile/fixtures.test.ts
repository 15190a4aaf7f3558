import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, freshDir, runInProcess } from '../helpers/codegen.js';
import { describeDocument } from './documents.js';
import { buildReference, checkFidelity, compileBatch, memoryCache, runDocument, type DocumentResult } from './harness.js';

/**
 * Hand-written hostile documents (fixtures/hostile/), one attack per file: each must be accepted
 * (they are valid AsyncAPI), generate for every target, pass the output scan, compile with
 * `tsc --strict` (all of them as one program) and load, with the document's strings intact.
 */

const DIR = path.join(FIXTURES, 'hostile');
const NAMES = readdirSync(DIR).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
const results = new Map<string, DocumentResult>();

beforeAll(async () => {
  const dir = freshDir('hostile-fixtures');
  const cache = memoryCache();
  const reference = await buildReference(dir, cache);
  const all: DocumentResult[] = [];
  for (const [index, name] of NAMES.entries()) {
    const text = readFileSync(path.join(DIR, name), 'utf8');
    const doc = describeDocument(parse(text) as Record<string, unknown>, text, name.endsWith('.json') ? 'json' : 'yaml');
    const result = await runDocument(index, doc, dir, reference, cache);
    results.set(name, result);
    all.push(result);
  }
  const compiled = await compileBatch(dir, reference, all);
  expect(compiled.other).toEqual([]);
  for (const result of all) {
    for (const message of compiled.byDocument.get(result.index) ?? []) result.problems.push({ kind: 'compile', message });
    if (result.out && !compiled.byDocument.has(result.index)) {
      for (const message of await checkFidelity(dir, compiled.emitDir, result)) result.problems.push({ kind: 'fidelity', message });
    }
  }
}, 900_000);

describe('hand-written hostile documents', () => {
  it.each(NAMES)('%s: valid, generated for every target, scanned clean, compiled, loaded with its strings intact', async (name) => {
    const validate = await runInProcess(['validate', path.join(DIR, name), '--engine', 'fast']);
    expect(validate.code, validate.stderr).toBe(0);
    const result = results.get(name)!;
    expect(result.problems.map((p) => `${p.kind}: ${p.message.slice(0, 500)}`), result.file).toEqual([]);
  });
});
