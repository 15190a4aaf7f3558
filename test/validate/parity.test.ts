// Parity between the two validation engines: for every document under fixtures/ (recursively; not
// fixtures/diff, whose many small cases are checked by the diff tests), @asyncapi/parser
// (parserDiagnostics) and the fast path `generate` uses (loadValidatedDocument) give the same
// verdict. The documents of fixtures/invalid/expectations.yaml are compared in corpus.test.ts,
// through `codegen validate` with each engine, so the parser does not run twice on them.
//
// Known disagreements, both parser bugs on valid documents (the hostile fixtures have them on purpose):
// its YAML reader (@stoplight/yaml) turns a `__proto__` key into the object's prototype, so it checks a
// different document and reports errors that are not there (a channel parameter "missing", a schema
// property "type" inherited from the prototype); and its reference resolver calls
// `target.hasOwnProperty(key)`, so a key named `hasOwnProperty` crashes it ("uncaught-error"). For
// those documents the parser is given the same document with such keys renamed everywhere.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CodegenError, ExitCode, type Diagnostic } from '../../src/errors.js';
import { loadDocumentSet } from '../../src/load/document-set.js';
import { loadValidatedDocument } from '../../src/pipeline/document.js';
import { parserDiagnostics } from '../../src/validate/parser.js';
import { FIXTURES, freshDir, ROOT, runInProcess } from '../helpers/codegen.js';

type Verdict = { valid: boolean; errors: Diagnostic[] };

const CORPUS = new Set(Object.keys(parse(readFileSync(path.join(FIXTURES, 'invalid/expectations.yaml'), 'utf8')) as object).map((name) => `invalid/${name}`));

function documents(dir = FIXTURES): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const full = path.join(dir, name);
      const relative = path.relative(FIXTURES, full);
      if (statSync(full).isDirectory()) return relative === 'diff' ? [] : documents(full);
      return /\.(ya?ml|json)$/.test(name) && relative !== 'invalid/expectations.yaml' && !CORPUS.has(relative) ? [relative] : [];
    });
}

/** A document the loader refuses (syntax, refused reference) is refused before either engine runs. */
function refused(error: unknown): Verdict {
  if (error instanceof CodegenError && error.exitCode === ExitCode.findings) return { valid: false, errors: error.diagnostics };
  throw error;
}

/** Keys the parser misreads (see above), and what they are renamed to for it. */
const MISREAD_KEYS: Array<[string, string]> = [
  ['__proto__', 'proto_key'],
  ['hasOwnProperty', 'has_own_property'],
];

/** The document the parser is given: misread keys renamed, in a copy (its references are internal). */
function parserInput(file: string): string {
  const text = readFileSync(file, 'utf8');
  if (!MISREAD_KEYS.some(([key]) => text.includes(key))) return file;
  const copy = path.join(freshDir('parity-keys'), path.basename(file));
  writeFileSync(copy, MISREAD_KEYS.reduce((t, [key, renamed]) => t.replaceAll(key, renamed), text));
  return copy;
}

async function parserVerdict(file: string): Promise<Verdict> {
  let set;
  try {
    set = await loadDocumentSet(file);
  } catch (error) {
    return refused(error);
  }
  const errors = (await parserDiagnostics(set)).filter((d) => d.severity === 'error');
  return { valid: errors.length === 0, errors };
}

async function fastVerdict(file: string): Promise<Verdict> {
  try {
    await loadValidatedDocument(file);
    return { valid: true, errors: [] };
  } catch (error) {
    return refused(error);
  }
}

const summary = (v: Verdict) => (v.valid ? 'valid' : `invalid: ${v.errors.map((d) => `${d.code} ${d.location?.pointer ?? ''}`).join('; ')}`);

describe('fast path and @asyncapi/parser agree', () => {
  // The parser takes over a second to import: once for this file, outside any one test's time.
  beforeAll(async () => {
    await import('@asyncapi/parser');
  }, 120_000);

  const all = documents();

  it('covers the public examples, the project fixtures and the parts of split documents', () => {
    expect(all.filter((d) => d.startsWith('spec/2.6/')).length).toBeGreaterThanOrEqual(16);
    expect(all.filter((d) => d.startsWith('spec/3.0/')).length).toBeGreaterThanOrEqual(19);
    expect(all).toContain('example/asyncapi.yaml');
    expect(all).toContain('invalid/parts/messages.yaml');
  });

  it.each(all)('%s', async (document) => {
    const file = path.join(FIXTURES, document);
    const [reference, fast] = [await parserVerdict(parserInput(file)), await fastVerdict(file)];
    expect(fast.valid, `parser: ${summary(reference)}\nfast: ${summary(fast)}`).toBe(reference.valid);
  });

  it('refuses the adeo Kafka example with both engines, exit 1, at a line and column', async () => {
    const document = 'fixtures/spec/3.0/adeo-kafka-request-reply-asyncapi.yml';
    for (const engine of ['parser', 'fast']) {
      const result = await runInProcess(['validate', document, '--engine', engine], ROOT);
      expect(result.code, result.stderr).toBe(1);
      // Its Avro payloads and Kafka key are remote references (refused by default); what the
      // document then holds there does not match the 3.0 schema.
      expect(result.stderr).toMatch(/adeo-kafka-request-reply-asyncapi\.yml:\d+:\d+ \(#\/components\/messages\/[^)]+\): error E_REMOTE_REF/);
      expect(result.stderr).toMatch(/adeo-kafka-request-reply-asyncapi\.yml:\d+:\d+ \(#\/components\/messages\/[^)]+\): error asyncapi-document-resolved/);
    }
  });
});
