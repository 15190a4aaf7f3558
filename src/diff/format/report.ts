import type { Finding, Mode, Severity } from '../types.js';

export type FailOn = Severity | 'never';
export const FAIL_ON: readonly FailOn[] = ['breaking', 'warning', 'info', 'never'];
export type OutputFormat = 'text' | 'json' | 'markdown' | 'junit' | 'github';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['text', 'json', 'markdown', 'junit', 'github'];

/** What every output format prints: the same findings, the same summary. */
export interface DiffReport {
  /** Version of this report's shape (docs/diff-output.schema.json). */
  reportVersion: 1;
  tool: { name: 'codegen'; version: string };
  /** The old versions compared against (a file, or `ref:file` with --against); several with --transitive. */
  old: string[];
  new: string;
  /** The --mode given, or "direction" (send: forward, receive: backward, no operation: full). */
  mode: Mode | 'direction';
  transitive: boolean;
  failOn: FailOn;
  /** The old versions that do not validate and were compared best-effort (their errors are BASE_INVALID warnings). */
  bestEffort?: string[];
  summary: { breaking: number; warning: number; info: number; ignored: number };
  /** 0: nothing at or above failOn (ignored findings excepted); 1: something is. */
  exitCode: 0 | 1;
  findings: Finding[];
}

export function describeMode(report: DiffReport): string {
  const mode = report.mode === 'direction' ? 'by direction (send: FORWARD, receive: BACKWARD, no operation: FULL)' : report.mode.toUpperCase();
  return `${mode}${report.transitive ? ', transitive' : ''}`;
}

/** "best-effort: old.yaml does not validate ..." when an old version was compared best-effort. */
export function bestEffortLine(report: DiffReport): string | undefined {
  if (!report.bestEffort?.length) return undefined;
  return `best-effort verdict: ${report.bestEffort.join(', ')} does not validate (its errors are BASE_INVALID warnings); --strict-base refuses to compare it`;
}

export function summaryLine(report: DiffReport): string {
  const s = report.summary;
  return `${s.breaking} breaking, ${s.warning} warning${s.warning === 1 ? '' : 's'}, ${s.info} info${s.ignored > 0 ? `, ${s.ignored} ignored` : ''}`;
}

export function operationsText(finding: Finding): string {
  return finding.operations.map((op) => `${op.action} ${op.id}`).join(', ');
}
