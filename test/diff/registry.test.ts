import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rulesReference } from '../../src/diff/docs.js';
import { RULES, ruleById } from '../../src/diff/registry.js';
import { CATEGORIES } from '../../src/diff/types.js';
import { FIXTURES, ROOT, runInProcess } from '../helpers/codegen.js';

describe('diff rule registry', () => {
  it('holds valid rules: unique permanent ids, known categories, a purpose sentence, a check', () => {
    const ids = new Set<string>();
    for (const rule of RULES) {
      expect(rule.id, rule.id).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/);
      expect(ids.has(rule.id), `duplicate ${rule.id}`).toBe(false);
      ids.add(rule.id);
      expect(CATEGORIES, rule.id).toContain(rule.category);
      expect(['breaking', 'warning', 'info', 'directional'], rule.id).toContain(rule.severity);
      expect(rule.purpose, rule.id).toMatch(/^[A-Z`].{10,}\.$/);
      expect(typeof rule.message, rule.id).toBe('function');
      expect(typeof rule.check, rule.id).toBe('function');
      if (rule.deprecated) expect(ruleById(rule.deprecated.replacedBy), `${rule.id} → ${rule.deprecated.replacedBy}`).toBeDefined();
    }
    expect(RULES.length).toBeGreaterThanOrEqual(60);
  });

  it('every rule id is exercised by the change table or another diff test', () => {
    const sources = [
      ...readdirRecursive(path.join(FIXTURES, 'diff/cases')),
      ...readdirRecursive(path.join(ROOT, 'test/diff')),
    ].map((file) => readFileSync(file, 'utf8')).join('\n');
    const untested = RULES.filter((rule) => !rule.deprecated && !sources.includes(rule.id)).map((r) => r.id);
    expect(untested).toEqual([]);
  });

  it('docs/diff.md lists every rule (generated from the registry; CODEGEN_UPDATE_DOCS=1 rewrites it)', () => {
    const file = path.join(ROOT, 'docs/diff.md');
    const text = readFileSync(file, 'utf8');
    const start = '<!-- rules:start (generated from src/diff/registry.ts) -->\n';
    const end = '<!-- rules:end -->';
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    expect(from).toBeGreaterThan(-1);
    expect(to).toBeGreaterThan(from);
    const expected = `${start}\n${rulesReference()}\n`;
    if (process.env.CODEGEN_UPDATE_DOCS === '1') writeFileSync(file, text.slice(0, from) + expected + text.slice(to));
    else expect(text.slice(from, to)).toBe(expected);
  });

  it('the same API in AsyncAPI 2.6 and 3.0 (streetlights) differs by nothing breaking', async () => {
    const result = await runInProcess(['diff', path.join(FIXTURES, 'spec/2.6/streetlights-kafka.yml'), path.join(FIXTURES, 'spec/3.0/streetlights-kafka-asyncapi.yml'), '--format', 'json']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { summary: { breaking: number } };
    expect(report.summary.breaking).toBe(0);
  });
});

function readdirRecursive(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? readdirRecursive(full) : [full];
  });
}
