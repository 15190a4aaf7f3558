import type { Finding } from '../types.js';
import { formatLocation } from '../../errors.js';
import { bestEffortLine, describeMode, operationsText, summaryLine, type DiffReport } from './report.js';

const ICON = { breaking: '🔴', warning: '🟠', info: '🔵' } as const;

/** A pull-request comment: a headline, then one table per severity. */
export function formatMarkdown(report: DiffReport): string {
  const out: string[] = [];
  const verdict = report.exitCode === 1 ? '❌' : '✅';
  out.push(`### ${verdict} codegen diff: ${summaryLine(report)}`, '');
  out.push(`${report.old.map(code).join(', ')} → ${code(report.new)} · mode: ${describeMode(report)} · fail on: ${report.failOn}`, '');
  const bestEffort = bestEffortLine(report);
  if (bestEffort) out.push(`> ⚠️ ${bestEffort}`, '');
  if (report.findings.length === 0) {
    out.push('No changes.');
    return out.join('\n') + '\n';
  }
  const sections: Array<[string, Finding[]]> = [
    ['Breaking', report.findings.filter((f) => !f.ignored && f.severity === 'breaking')],
    ['Warnings', report.findings.filter((f) => !f.ignored && f.severity === 'warning')],
    ['Info', report.findings.filter((f) => !f.ignored && f.severity === 'info')],
    ['Ignored', report.findings.filter((f) => f.ignored)],
  ];
  for (const [title, findings] of sections) {
    if (findings.length === 0) continue;
    const table = [`| | Rule | Finding | Where | Operations |`, `|---|---|---|---|---|`];
    for (const f of findings) {
      const where = [f.new && `new: ${code(formatLocation(f.new))}`, f.old && `old: ${code(formatLocation(f.old))}`].filter(Boolean).join('<br>');
      const message = f.ignored ? `${cell(f.message)}<br>_ignored: ${cell(f.ignored.reason)}${f.ignored.expires ? ` (until ${f.ignored.expires})` : ''}_` : cell(f.message);
      table.push(`| ${ICON[f.severity]} | ${code(f.ruleId)} | ${message} | ${where} | ${cell(operationsText(f))} |`);
    }
    const body = [`#### ${title} (${findings.length})`, '', ...table, ''];
    // Long info lists fold away so the breaking changes stay visible.
    if (title === 'Info' || title === 'Ignored') out.push('<details>', `<summary>${title} (${findings.length})</summary>`, '', ...table, '', '</details>', '');
    else out.push(...body);
  }
  return out.join('\n') + '\n';
}

/** Text safe inside a table cell. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function code(text: string): string {
  const clean = text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  return clean.includes('`') ? `\`\` ${clean} \`\`` : `\`${clean}\``;
}
