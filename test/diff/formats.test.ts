import Ajv from 'ajv';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, freshDir, ROOT, runInProcess } from '../helpers/codegen.js';

const OLD = path.join(FIXTURES, 'example/asyncapi.yaml');
const NEW = path.join(FIXTURES, 'diff/formats/example-new.yaml');
const schema = JSON.parse(readFileSync(path.join(ROOT, 'docs/diff-output.schema.json'), 'utf8'));
const validateReport = new Ajv({ strict: true, allErrors: true }).compile(schema);

interface Report {
  exitCode: number;
  summary: Record<string, number>;
  findings: Array<{ ruleId: string; severity: string; message: string; ignored?: { reason: string }; new?: { file: string; line?: number; pointer: string }; operations: unknown[] }>;
}

async function json(args: string[], cwd = ROOT): Promise<{ code: number; report: Report; stderr: string }> {
  const result = await runInProcess(['diff', ...args, '--format', 'json'], cwd);
  const report = JSON.parse(result.stdout) as Report;
  expect(validateReport(report), JSON.stringify(validateReport.errors, null, 2)).toBe(true);
  return { code: result.code, report, stderr: result.stderr };
}

describe('diff output formats (same findings in every format)', () => {
  it('json: validates against docs/diff-output.schema.json and carries locations, operations, severities', async () => {
    const { code, report } = await json([OLD, NEW, '--no-ignore']);
    expect(code).toBe(1);
    expect(report.exitCode).toBe(1);
    expect(report.summary).toEqual({ breaking: 3, warning: 2, info: 6, ignored: 0 });
    const required = report.findings.find((f) => f.ruleId === 'SCHEMA_REQUIRED_REMOVED' && f.severity === 'breaking')!;
    expect(required.message).toBe('`amount` became optional in AuthorizePayment, which this service sends: consumers that require it will reject new events.');
    expect(required.new).toMatchObject({ pointer: '/components/messages/AuthorizePayment/payload/required', line: 272 });
    expect(required.operations).toEqual([{ id: 'authorizePayment', action: 'send' }]);
    // Sorted: breaking, then warnings, then info.
    const ranks = report.findings.map((f) => ['breaking', 'warning', 'info'].indexOf(f.severity));
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
  });

  it('every format lists the same findings', async () => {
    const { report } = await json([OLD, NEW, '--no-ignore']);
    const ids = report.findings.map((f) => f.ruleId);
    const outputs: Record<string, string> = {};
    for (const format of ['text', 'markdown', 'junit', 'github']) {
      const result = await runInProcess(['diff', OLD, NEW, '--no-ignore', '--format', format]);
      expect(result.code, format).toBe(1);
      outputs[format] = result.stdout;
      for (const id of new Set(ids)) {
        const expected = ids.filter((x) => x === id).length;
        const occurrences = result.stdout.split(id).length - 1;
        expect(occurrences, `${format}: ${id}`).toBeGreaterThanOrEqual(expected);
      }
    }
    // text: grouped by severity, breaking first.
    const text = outputs.text!;
    expect(text.indexOf('BREAKING (3)')).toBeLessThan(text.indexOf('WARNING (2)'));
    expect(text.indexOf('WARNING (2)')).toBeLessThan(text.indexOf('INFO (6)'));
    expect(text).toContain('✖ 3 breaking, 2 warnings, 6 info: failing on breaking');
    // markdown: a headline and one table per severity.
    expect(outputs.markdown).toMatch(/^### ❌ codegen diff: 3 breaking, 2 warnings, 6 info/);
    expect(outputs.markdown).toContain('| | Rule | Finding | Where | Operations |');
    expect(outputs.markdown).toContain('#### Breaking (3)');
    // junit: well-formed enough for CI parsers, failures for breaking findings only.
    const junit = outputs.junit!;
    expect(junit.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="codegen diff" tests="11" failures="3" skipped="0">')).toBe(true);
    expect(junit.match(/<testcase /g)?.length).toBe(11);
    expect(junit.match(/<failure /g)?.length).toBe(3);
    expect(junit.match(/<testcase /g)?.length).toBe(junit.match(/<\/testcase>/g)?.length);
    expect(junit).not.toMatch(/[<>]`/);
    // github: one workflow command per finding, by severity, on the new file's line.
    const github = outputs.github!.trim().split('\n');
    expect(github.filter((l) => l.startsWith('::error ')).length).toBe(3);
    expect(github.filter((l) => l.startsWith('::warning ')).length).toBe(2);
    expect(github.filter((l) => l.startsWith('::notice ')).length).toBe(6);
    expect(github[0]).toMatch(/^::error file=.*example-new\.yaml,title=SCHEMA_REQUIRED_REMOVED \(breaking\),line=272,col=9::`amount` became optional/);
    expect(github.every((l) => !l.startsWith('::') || !l.slice(2).includes('\n'))).toBe(true);
  });

  it('--fail-on changes only the exit code', async () => {
    expect((await runInProcess(['diff', OLD, NEW, '--fail-on', 'never'])).code).toBe(0);
    expect((await runInProcess(['diff', OLD, OLD, '--fail-on', 'info'])).code).toBe(0);
    const { code, report } = await json([OLD, NEW, '--fail-on', 'info']);
    expect(code).toBe(1);
    expect(report.summary.info).toBe(6);
  });

  it('an identical pair reports no changes in every format', async () => {
    for (const format of ['text', 'json', 'markdown', 'junit', 'github']) {
      const result = await runInProcess(['diff', OLD, OLD, '--format', format]);
      expect(result.code, format).toBe(0);
    }
    const { report } = await json([OLD, OLD]);
    expect(report.findings).toEqual([]);
    expect((await runInProcess(['diff', OLD, OLD])).stdout).toContain('✔ no changes');
    expect((await runInProcess(['diff', OLD, OLD, '--format', 'junit'])).stdout).toContain('<testcase classname="codegen.diff" name="no changes');
  });
});

describe('ignore file', () => {
  const ignoreFile = (dir: string, body: string) => {
    const file = path.join(dir, '.codegen-diff-ignore.yaml');
    writeFileSync(file, body);
    return file;
  };

  it('accepts a finding on purpose: still listed as ignored, no longer failing', async () => {
    const dir = freshDir('diff-ignore');
    ignoreFile(
      dir,
      [
        'ignore:',
        '  - rule: SCHEMA_REQUIRED_REMOVED',
        '    pointer: /components/messages/AuthorizePayment/payload/required',
        '    reason: the payments service ignores amount since 2026-10',
        '    expires: 2999-12-31',
        '  - rule: SCHEMA_ENUM_VALUE_ADDED',
        '    pointer: /components/messages/OrderShipped/payload/properties/carrier/enum',
        '    reason: consumers accept unknown carriers',
        '  - rule: SCHEMA_TYPE_WIDENED',
        '    pointer: /components/schemas/OrderItem/properties/quantity/type',
        '    reason: quantities are whole numbers in practice',
      ].join('\n'),
    );
    const { code, report, stderr } = await json([OLD, NEW], dir);
    expect(code).toBe(0);
    expect(report.summary.breaking).toBe(0);
    // Both directions of each change match the entry (same pointer): 3 breaking + 3 info ignored.
    expect(report.summary.ignored).toBe(6);
    const ignored = report.findings.filter((f) => f.ignored);
    expect(ignored.map((f) => f.ignored!.reason)).toContain('the payments service ignores amount since 2026-10');
    expect(stderr).toBe('');
    const text = await runInProcess(['diff', OLD, NEW], dir);
    expect(text.stdout).toContain('IGNORED (6)');
    expect(text.stdout).toContain('ignored: the payments service ignores amount since 2026-10 (until 2999-12-31)');
  });

  it('stops applying after its expiry date, and says so', async () => {
    const dir = freshDir('diff-ignore-expired');
    const file = ignoreFile(dir, 'ignore:\n  - rule: SCHEMA_REQUIRED_REMOVED\n    pointer: /components/messages/AuthorizePayment/payload/required\n    reason: temporary\n    expires: 2020-01-31\n');
    const { code, report, stderr } = await json([OLD, NEW, '--ignore', file], dir);
    expect(code).toBe(1);
    expect(report.summary.ignored).toBe(0);
    expect(stderr).toContain('expired on 2020-01-31 and no longer applies');
  });

  it('reports entries that match nothing, and refuses malformed files (exit 2)', async () => {
    const dir = freshDir('diff-ignore-bad');
    ignoreFile(dir, 'ignore:\n  - rule: SCHEMA_REQUIRED_REMOVED\n    pointer: /nowhere\n    reason: stale entry\n');
    const unused = await runInProcess(['diff', OLD, NEW], dir);
    expect(unused.code).toBe(1);
    expect(unused.stderr).toContain('matched no finding');
    for (const body of ['ignore:\n  - rule: NOT_A_RULE\n    pointer: /x\n    reason: r\n', 'ignore:\n  - rule: SCHEMA_REQUIRED_REMOVED\n    pointer: /x\n', 'ignore:\n  - rule: SCHEMA_REQUIRED_REMOVED\n    pointer: /x\n    reason: r\n    expires: soon\n', 'ignores: []\n']) {
      ignoreFile(dir, body);
      const result = await runInProcess(['diff', OLD, NEW], dir);
      expect(result.code, body).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('E_IGNORE_FILE');
    }
    // --no-ignore skips it; a missing --ignore file cannot run.
    expect((await runInProcess(['diff', OLD, NEW, '--no-ignore'], dir)).code).toBe(1);
    expect((await runInProcess(['diff', OLD, NEW, '--ignore', 'missing.yaml'], dir)).code).toBe(2);
  });
});
