import type { Change, Use } from './rule.js';
import type { Direction, DiffOptions, Finding, Impact, Mode, OperationRef, Severity } from './types.js';

/**
 * Judging: a change becomes findings, one per way it is used (send, receive, unspecified), each
 * breaking or not for the compatibility mode in force, with the sentence a developer reads.
 */

const DEFAULT_MODE: Record<Direction, Mode> = { send: 'forward', receive: 'backward', unspecified: 'full' };

function breaks(impact: Impact, mode: Mode): boolean {
  if (impact === 'none' || mode === 'none') return false;
  if (impact === 'both') return true;
  return impact === 'narrows' ? mode === 'backward' || mode === 'full' : mode === 'forward' || mode === 'full';
}

/** Turns one change into findings: one per use for a directional rule, one otherwise. */
export function judge(change: Change, options: DiffOptions): Finding[] {
  const rule = change.rule;
  const base = {
    ruleId: rule.id,
    category: rule.category,
    impact: change.impact,
    messageId: change.messageId,
    old: change.old,
    new: change.new,
    against: [] as string[],
  };
  if (rule.severity !== 'directional') {
    const severity: Severity = options.mode === 'none' && rule.severity === 'breaking' ? 'warning' : rule.severity;
    const operations = uniqueOperations(change.uses.flatMap((u) => u.operations));
    const direction = change.uses.length === 1 ? change.uses[0]!.direction : undefined;
    const suffix = options.mode === 'none' && rule.severity === 'breaking' ? ' (not enforced: --mode none)' : '';
    return [{ ...base, severity, message: `${capitalise(change.text)}${suffix}.`, operations, direction, mode: options.mode }];
  }
  const uses: Use[] = change.uses.length > 0 ? change.uses : [{ direction: 'unspecified', operations: [] }];
  return uses.map((use) => {
    const mode = options.mode ?? DEFAULT_MODE[use.direction];
    let severity: Severity = breaks(change.impact, mode) ? 'breaking' : 'info';
    if (mode === 'none' && breaks(change.impact, DEFAULT_MODE[use.direction])) severity = 'warning';
    return {
      ...base,
      severity,
      message: sentence(change, use.direction, mode, options.mode !== undefined, severity === 'breaking'),
      operations: uniqueOperations(use.operations),
      direction: use.direction,
      mode,
    };
  });
}

function sentence(change: Change, direction: Direction, mode: Mode, forced: boolean, breaking: boolean): string {
  const rule = change.rule;
  const inSchema = rule.category === 'schema' || rule.category === 'avro';
  let role: string;
  if (direction === 'unspecified') role = inSchema ? ', which no operation sends or receives (judged FULL)' : ' (no operation sends or receives it; judged FULL)';
  else if (inSchema) role = `, which this service ${direction === 'send' ? 'sends' : 'receives'}`;
  else role = ` (this service ${direction === 'send' ? 'sends' : 'receives'} it)`;
  if (forced) role += ` (judged ${mode.toUpperCase()} by --mode)`;
  let tail: string;
  if (change.impact === 'none') return `${capitalise(change.text)}${role}.`;
  if (breaking) {
    const impact = change.impact as 'narrows' | 'widens' | 'both';
    tail = rule.consequence?.[impact] ?? genericConsequence(impact, direction);
  } else if (mode === 'none') tail = 'not enforced (--mode none)';
  else if (!forced && direction === 'send') tail = 'compatible, consumers of the old version still accept every new event';
  else if (!forced && direction === 'receive') tail = 'compatible, events from producers of the old version are still accepted';
  else tail = `compatible under ${mode.toUpperCase()}`;
  return `${capitalise(change.text)}${role}: ${tail}.`;
}

function genericConsequence(impact: 'narrows' | 'widens' | 'both', direction: Direction): string {
  if (impact === 'both') return 'data valid under one version may be rejected under the other';
  if (impact === 'narrows') return direction === 'receive' ? 'events from producers still using the old schema will be rejected' : 'data valid under the old version is rejected by the new one';
  return direction === 'send' ? 'consumers validating against the old schema will reject new events' : 'data valid under the new version is rejected by readers of the old one';
}

export function capitalise(text: string): string {
  return text.length > 0 && text[0] !== '`' ? text[0]!.toUpperCase() + text.slice(1) : text;
}

export function uniqueOperations(operations: OperationRef[]): OperationRef[] {
  const seen = new Set<string>();
  return operations.filter((op) => {
    const key = `${op.action}:${op.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
