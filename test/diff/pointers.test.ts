import { describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/codegen.js';
import { caseRuns, writeCase } from './case-table.js';

interface Found {
  ruleId: string;
  message: string;
  old?: { pointer: string };
  new?: { pointer: string };
}

/** The findings of one rule for a change-table case. */
async function findings(caseName: string, ruleId: string): Promise<Found[]> {
  const run = caseRuns().find((r) => r.name.startsWith(caseName))!;
  const files = writeCase(run);
  const result = await runInProcess(['diff', files.old, files.new, '--format', 'json', '--no-ignore'], files.dir);
  return (JSON.parse(result.stdout) as { findings: Found[] }).findings.filter((f) => f.ruleId === ruleId);
}

/** Where those findings point, in both versions. */
async function locations(caseName: string, ruleId: string): Promise<Array<{ old?: string; new?: string }>> {
  return (await findings(caseName, ruleId)).map((f) => ({ old: f.old?.pointer, new: f.new?.pointer }));
}

describe('diff finding locations and sentences', () => {
  it('a server whose host is written with its scheme is named once (not amqp://amqp://)', async () => {
    const [added] = await findings('server-added-with-scheme', 'SERVER_ADDED');
    expect(added!.message).toBe('Server `local` (amqp://localhost:5673) was added.');
  });

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
