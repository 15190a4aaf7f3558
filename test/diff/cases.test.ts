import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { FIXTURES, freshDir, runInProcess } from '../helpers/codegen.js';

/**
 * The change table: fixtures/diff/cases/*.yaml, one change kind per file. A case names a base
 * document (fixtures/diff/bases/<name>.yaml), or several to run it once per base (a send and a
 * receive variant), and gives the old and the new version as JSON merge patches of it (RFC 7386:
 * `null` deletes, lists are replaced whole). Without a base, `old`/`new` are whole documents.
 * `files` adds referenced files next to both versions. `expect` holds the exit code and the exact
 * list of findings ("RULE_ID severity"), per base when they differ by direction.
 */

interface Expectation {
  exit: number;
  findings?: string[];
  /** A substring the JSON report or stderr must contain (for exit 2: the reason). */
  stderr?: string;
}

interface Case {
  title: string;
  base?: string | string[];
  old?: unknown;
  new?: unknown;
  files?: Record<string, unknown>;
  args?: string[];
  expect: Expectation | Record<string, Expectation>;
}

const CASES = path.join(FIXTURES, 'diff/cases');
const BASES = path.join(FIXTURES, 'diff/bases');

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

function loadBase(name: string): unknown {
  return parse(readFileSync(path.join(BASES, `${name}.yaml`), 'utf8'));
}

const files = readdirSync(CASES).filter((f) => f.endsWith('.yaml')).sort();

describe('diff change table', () => {
  it('has at least 60 change kinds', () => {
    expect(files.length).toBeGreaterThanOrEqual(60);
  });

  for (const file of files) {
    const spec = parse(readFileSync(path.join(CASES, file), 'utf8')) as Case;
    const bases = spec.base === undefined ? [undefined] : Array.isArray(spec.base) ? spec.base : [spec.base];
    for (const base of bases) {
      const name = `${file.replace(/\.yaml$/, '')}${base ? ` [${base}]` : ''}: ${spec.title}`;
      it(name, async () => {
        const expected = (base && (spec.expect as Record<string, Expectation>)[base]) ?? (spec.expect as Expectation);
        expect(expected.exit, `${file}: missing expectation for ${base}`).toBeTypeOf('number');
        const dir = freshDir(`diff-case-${file}`);
        const write = (side: 'old' | 'new', doc: unknown) => {
          const folder = path.join(dir, side);
          mkdirSync(folder, { recursive: true });
          for (const [relative, content] of Object.entries(spec.files ?? {})) {
            const value = (content as Record<string, unknown>)?.[side] ?? content;
            writeFileSync(path.join(folder, relative), typeof value === 'string' ? value : stringify(value));
          }
          const target = path.join(folder, 'asyncapi.yaml');
          writeFileSync(target, typeof doc === 'string' ? doc : stringify(doc));
          return target;
        };
        const oldDoc = base ? mergePatch(loadBase(base), spec.old ?? {}) : spec.old;
        const newDoc = base ? mergePatch(loadBase(base), spec.new ?? {}) : spec.new;
        const result = await runInProcess(['diff', write('old', oldDoc), write('new', newDoc), '--format', 'json', '--no-ignore', ...(spec.args ?? [])], dir);
        const context = `${name}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
        expect(result.code, context).toBe(expected.exit);
        if (expected.stderr) expect(result.stderr, context).toContain(expected.stderr);
        if (expected.exit === 2) {
          expect(result.stdout, context).toBe('');
          return;
        }
        const report = JSON.parse(result.stdout) as { findings: Array<{ ruleId: string; severity: string }> };
        const actual = report.findings.map((f) => `${f.ruleId} ${f.severity}`).sort();
        expect(actual, context).toEqual([...(expected.findings ?? [])].sort());
      });
    }
  }
});
