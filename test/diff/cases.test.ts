import { describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/codegen.js';
import { caseFiles, caseRuns, writeCase } from './case-table.js';

describe('diff change table', () => {
  it('has at least 60 change kinds', () => {
    expect(caseFiles.length).toBeGreaterThanOrEqual(60);
  });

  for (const run of caseRuns()) {
    it(run.name, async () => {
      const expected = run.expected;
      expect(expected.exit, `${run.file}: missing expectation for ${run.base}`).toBeTypeOf('number');
      const files = writeCase(run);
      const result = await runInProcess(['diff', files.old, files.new, '--format', 'json', '--no-ignore', ...(run.spec.args ?? [])], files.dir);
      const context = `${run.name}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
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
});
