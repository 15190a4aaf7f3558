import { describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/codegen.js';
import { caseRuns, writeCase } from './case-table.js';

/** Locations the findings of a change-table case point at, in both versions. */
async function locations(caseName: string, ruleId: string): Promise<Array<{ old?: string; new?: string }>> {
  const run = caseRuns().find((r) => r.name.startsWith(caseName))!;
  const files = writeCase(run);
  const result = await runInProcess(['diff', files.old, files.new, '--format', 'json', '--no-ignore'], files.dir);
  const report = JSON.parse(result.stdout) as { findings: Array<{ ruleId: string; old?: { pointer: string }; new?: { pointer: string } }> };
  return report.findings.filter((f) => f.ruleId === ruleId).map((f) => ({ old: f.old?.pointer, new: f.new?.pointer }));
}

describe('diff finding locations', () => {
  it('a oneOf left with one branch: the new side points at the oneOf, not at a keyword under its remaining branch', async () => {
    expect(await locations('schema-oneof-closed-branch-removed [send]', 'SCHEMA_ONEOF_BRANCH_REMOVED')).toEqual([
      { old: '/components/schemas/Payment/oneOf/1', new: '/components/schemas/Payment/oneOf' },
    ]);
  });

  it('a renamed message whose CloudEvents type changes: one finding, at the name in both versions', async () => {
    expect(await locations('message-renamed-type-changes [send]', 'MESSAGE_NAME_CHANGED')).toEqual([
      { old: '/components/messages/OrderPlaced/name', new: '/components/messages/OrderSubmitted/name' },
    ]);
  });
});
