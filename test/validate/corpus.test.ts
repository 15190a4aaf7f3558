// The corpus of broken documents (fixtures/invalid/) through the CLI: `codegen validate` with the
// fast engine and with @asyncapi/parser (the default), and `codegen generate`. Each gives the exit
// code, rule and message of fixtures/invalid/expectations.yaml, at the file, line, column and JSON
// pointer it names, and generate writes nothing. As both engines must agree on every document
// here, this is also the parity test for this folder (parity.test.ts covers the rest of fixtures/).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FIXTURES, freshDir, runInProcess } from '../helpers/codegen.js';

interface Expectation {
  exit: number;
  code: string;
  message: string;
  at: string;
  pointer: string;
  file?: string;
  parser?: { code: string; message: string };
}

const DIR = path.join(FIXTURES, 'invalid');
const EXPECTATIONS = parse(readFileSync(path.join(DIR, 'expectations.yaml'), 'utf8')) as Record<string, Expectation>;
const CASES = Object.entries(EXPECTATIONS);

/** The stderr line reporting the expected code and message at the expected place (`file:line:column (#pointer)`). */
function reportedLine(stderr: string, document: string, e: Expectation): string | undefined {
  const where = `fixtures/invalid/${e.file ?? document}:${e.at} (#${e.pointer}): `;
  return stderr.split('\n').find((line) => line.includes(where) && line.includes(` ${e.code}: `) && line.includes(e.message));
}

describe('the corpus of broken documents', () => {
  // The parser takes over a second to import: once for this file, outside any one test's time.
  beforeAll(async () => {
    await import('@asyncapi/parser');
  }, 120_000);

  it('has an expectation for every document, in 2.x and 3.x, and every rule of the fast path', async () => {
    const documents = readdirSync(DIR).filter((name) => /\.(ya?ml|json)$/.test(name) && name !== 'expectations.yaml');
    expect(documents.sort()).toEqual(Object.keys(EXPECTATIONS).sort());
    expect(documents.filter((d) => /-2\.\d\./.test(d)).length).toBeGreaterThanOrEqual(15);
    expect(documents.filter((d) => /-3\.\d\./.test(d)).length).toBeGreaterThanOrEqual(15);
    const { RULES } = await import('../../src/validate/rules.js');
    const covered = new Set(CASES.map(([, e]) => e.code));
    // asyncapi3-channel-servers never fires on a document the 3.x schema accepts: there a channel's
    // servers are references, resolved to objects, which the rule's precondition (names) skips.
    const unreachable = ['asyncapi3-channel-servers'];
    for (const rule of RULES) if (!unreachable.includes(rule.id)) expect(covered, rule.id).toContain(rule.id);
  });

  it.each(CASES)('validate --engine fast: %s', async (document, e) => {
    const result = await runInProcess(['validate', path.join('fixtures/invalid', document), '--engine', 'fast']);
    expect(result.code).toBe(e.exit);
    expect(reportedLine(result.stderr, document, e), result.stderr).toBeDefined();
  });

  it.each(CASES)('generate: %s', async (document, e) => {
    const out = path.join(freshDir('corpus'), 'out');
    const result = await runInProcess(['generate', path.join('fixtures/invalid', document), '--target', 'kafka', '--out', out]);
    expect(result.code).toBe(e.exit);
    expect(reportedLine(result.stderr, document, e), result.stderr).toBeDefined();
    expect(existsSync(out)).toBe(e.exit === 0);
  });

  it.each(CASES)('validate (@asyncapi/parser): %s', async (document, e) => {
    const result = await runInProcess(['validate', path.join('fixtures/invalid', document)]);
    // Parity: the reference engine refuses (or accepts) exactly what the fast path does.
    expect(result.code).toBe(e.exit);
    const expected = e.parser ?? { code: e.code, message: e.message };
    const file = `fixtures/invalid/${e.file ?? document}`;
    const line = result.stderr.split('\n').find((l) => l.includes(`${file}:`) && l.includes(` ${expected.code}: `) && l.includes(expected.message));
    expect(line, result.stderr).toBeDefined();
    expect(line).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+ \\(#[^)]*\\)`));
  });
});
