import type { Finding } from '../types.js';
import { formatLocation } from '../../errors.js';
import { bestEffortLine, summaryLine, type DiffReport } from './report.js';

const COMMAND = { breaking: 'error', warning: 'warning', info: 'notice' } as const;

/** GitHub Actions workflow commands: one annotation per finding (ignored ones left out), then a summary. */
export function formatGithub(report: DiffReport): string {
  const lines = report.findings.filter((f) => !f.ignored).map(annotation);
  const bestEffort = bestEffortLine(report);
  if (bestEffort) lines.push(`::warning title=${property('codegen diff (best-effort)')}::${data(bestEffort)}`);
  lines.push(`codegen diff: ${summaryLine(report)}${bestEffort ? ' (best-effort)' : ''}`);
  return lines.join('\n') + '\n';
}

function annotation(f: Finding): string {
  // Annotate the new version where the finding has a place there, else the old one (no line: it moved).
  const at = f.new ?? f.old;
  const properties = [`title=${property(`${f.ruleId} (${f.severity})`)}`];
  if (at) {
    properties.unshift(`file=${property(at.file)}`);
    if (at === f.new && at.line !== undefined) properties.push(`line=${at.line}`, `col=${at.column ?? 1}`);
  }
  const detail = [f.message, f.new && `new: ${formatLocation(f.new)}`, f.old && `old: ${formatLocation(f.old)}`].filter(Boolean).join('\n');
  return `::${COMMAND[f.severity]} ${properties.join(',')}::${data(detail)}`;
}

function data(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function property(text: string): string {
  return data(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
