import type { colours } from '../../cli/io.js';
import type { Finding } from '../types.js';
import { formatLocation } from '../../errors.js';
import { bestEffortLine, describeMode, operationsText, summaryLine, type DiffReport } from './report.js';

type Colours = ReturnType<typeof colours>;

/** Human output, grouped by severity (breaking first), ignored findings last. */
export function formatText(report: DiffReport, c: Colours): string {
  const lines: string[] = [];
  lines.push(`${c.bold('codegen diff')}  ${report.old.join(', ')} → ${report.new}`);
  lines.push(c.dim(`mode: ${describeMode(report)} · fail on: ${report.failOn}`));
  const bestEffort = bestEffortLine(report);
  if (bestEffort) lines.push(c.yellow(`! ${bestEffort}`));
  const groups: Array<[string, Finding[], (t: string) => string]> = [
    ['BREAKING', report.findings.filter((f) => !f.ignored && f.severity === 'breaking'), c.red],
    ['WARNING', report.findings.filter((f) => !f.ignored && f.severity === 'warning'), c.yellow],
    ['INFO', report.findings.filter((f) => !f.ignored && f.severity === 'info'), c.dim],
    ['IGNORED', report.findings.filter((f) => f.ignored), c.dim],
  ];
  for (const [title, findings, paint] of groups) {
    if (findings.length === 0) continue;
    lines.push('', paint(`${title} (${findings.length})`));
    for (const f of findings) {
      lines.push(`  ${paint(f.ruleId)}  ${f.message}`);
      if (f.new) lines.push(`    new: ${formatLocation(f.new)}`);
      if (f.old) lines.push(`    old: ${formatLocation(f.old)}`);
      if (f.operations.length > 0) lines.push(`    operations: ${operationsText(f)}`);
      if (f.against.length > 1) lines.push(`    against: ${f.against.join(', ')}`);
      if (f.ignored) lines.push(`    ignored: ${f.ignored.reason}${f.ignored.expires ? ` (until ${f.ignored.expires})` : ''}`);
    }
  }
  lines.push('');
  if (report.findings.length === 0) lines.push(`${c.green('✔')} no changes`);
  else if (report.exitCode === 0) lines.push(`${c.green('✔')} ${summaryLine(report)}: nothing at or above ${report.failOn}${bestEffort ? ' (best-effort)' : ''}`);
  else lines.push(`${c.red('✖')} ${summaryLine(report)}: failing on ${report.failOn}`);
  return lines.join('\n') + '\n';
}
