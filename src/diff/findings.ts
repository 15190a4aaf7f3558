import type { Origin } from '../model/types.js';
import { uniqueOperations } from './judge.js';
import { PositionIndex } from './locate.js';
import type { Change } from './rule.js';
import { SEVERITY_RANK, type DiffRun, type Finding, type FindingLocation } from './types.js';

/**
 * A change inside a schema several messages share (a common definition) is one change: the walker
 * finds it once per message, with the same locations. Merged, it lists every operation concerned
 * and names the first message "and N other messages".
 */
export function mergeSharedChanges(changes: Change[]): Change[] {
  const out: Change[] = [];
  const groups = new Map<string, { change: Change; containers: string[] }>();
  for (const change of changes) {
    const container = change.args?.container;
    if (container === undefined || !change.old || !change.new) {
      out.push(change);
      continue;
    }
    const key = [change.rule.id, change.impact, change.old.file, change.old.pointer, change.new.file, change.new.pointer].join('\u0000');
    const group = groups.get(key);
    if (!group) {
      const copy: Change = { ...change, uses: change.uses.map((u) => ({ direction: u.direction, operations: [...u.operations] })) };
      groups.set(key, { change: copy, containers: [container] });
      out.push(copy);
      continue;
    }
    if (!group.containers.includes(container)) group.containers.push(container);
    for (const use of change.uses) {
      const known = group.change.uses.find((u) => u.direction === use.direction);
      if (known) known.operations.push(...use.operations);
      else group.change.uses.push({ direction: use.direction, operations: [...use.operations] });
    }
  }
  for (const { change, containers } of groups.values()) {
    if (containers.length < 2) continue;
    const others = containers.length - 1;
    change.text = change.rule.message({ ...change.args!, container: `${containers[0]} and ${others} other message${others === 1 ? '' : 's'}` });
  }
  return out;
}

/** Adds line and column (and the git revision) to the findings' locations. */
export function locator(run: DiffRun) {
  const files = { old: new Map<string, PositionIndex>(), new: new Map<string, PositionIndex>() };
  for (const side of ['old', 'new'] as const) for (const file of run[side].set.files.values()) files[side].set(file.displayPath, new PositionIndex(file));
  return (side: 'old' | 'new', origin: Origin | FindingLocation): FindingLocation => {
    const location: FindingLocation = { file: origin.file, pointer: origin.pointer };
    const file = files[side].get(origin.file);
    const position = file?.locate(origin.pointer);
    if (position) Object.assign(location, position);
    if (run[side].revision) location.revision = run[side].revision;
    return location;
  };
}

export function findingKey(f: Finding): string {
  return [f.ruleId, f.severity, f.direction ?? '', f.old?.file ?? '', f.old?.pointer ?? '', f.new?.file ?? '', f.new?.pointer ?? '', f.message].join('\u0000');
}

export function dedupe(findings: Finding[]): Finding[] {
  const seen = new Map<string, Finding>();
  for (const finding of findings) {
    const key = findingKey(finding);
    const known = seen.get(key);
    if (known) known.operations = uniqueOperations([...known.operations, ...finding.operations]);
    else seen.set(key, finding);
  }
  return [...seen.values()];
}

export function sortFindings(findings: Finding[]): Finding[] {
  const text = (l?: FindingLocation) => (l ? `${l.file}\u0000${l.pointer}` : '\uffff');
  return findings.sort(
    (a, b) =>
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
      compare(text(a.new ?? a.old), text(b.new ?? b.old)) ||
      compare(a.ruleId, b.ruleId) ||
      compare(a.direction ?? '', b.direction ?? '') ||
      compare(a.message, b.message),
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
