import { SEVERITY_RANK, type Finding } from '../types.js';
import { formatLocation } from '../../errors.js';
import { bestEffortLine, operationsText, type DiffReport } from './report.js';

/** JUnit XML: one test case per finding; findings at or above --fail-on are failures, ignored ones skipped. */
export function formatJunit(report: DiffReport): string {
  const failing = (f: Finding) => !f.ignored && report.failOn !== 'never' && SEVERITY_RANK[f.severity] >= SEVERITY_RANK[report.failOn];
  const cases = report.findings.map((f) => {
    const name = xml(`${f.ruleId}: ${f.message}`);
    const details = xml(
      [f.new && `new: ${formatLocation(f.new)}`, f.old && `old: ${formatLocation(f.old)}`, f.operations.length > 0 && `operations: ${operationsText(f)}`, `severity: ${f.severity}`]
        .filter(Boolean)
        .join('\n'),
    );
    const classname = xml(`codegen.diff.${f.category}.${f.ruleId}`);
    if (f.ignored) return `    <testcase classname="${classname}" name="${name}">\n      <skipped message="${xml(`ignored: ${f.ignored.reason}`)}"/>\n    </testcase>`;
    if (failing(f)) return `    <testcase classname="${classname}" name="${name}">\n      <failure type="${f.severity}" message="${xml(f.message)}">${details}</failure>\n    </testcase>`;
    return `    <testcase classname="${classname}" name="${name}">\n      <system-out>${details}</system-out>\n    </testcase>`;
  });
  if (cases.length === 0) cases.push(`    <testcase classname="codegen.diff" name="${xml(`no changes between ${report.old.join(', ')} and ${report.new}`)}"/>`);
  const failures = report.findings.filter(failing).length;
  const skipped = report.findings.filter((f) => f.ignored).length;
  const tests = Math.max(1, report.findings.length);
  const bestEffort = bestEffortLine(report);
  const suite = xml(`codegen diff ${report.old.join(', ')} → ${report.new}${bestEffort ? ' (best-effort)' : ''}`);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="codegen diff" tests="${tests}" failures="${failures}" skipped="${skipped}">`,
    `  <testsuite name="${suite}" tests="${tests}" failures="${failures}" skipped="${skipped}" errors="0">`,
    ...(bestEffort ? [`    <properties>\n      <property name="best-effort" value="${xml(bestEffort)}"/>\n    </properties>`] : []),
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

function xml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\n/g, '&#10;');
}
