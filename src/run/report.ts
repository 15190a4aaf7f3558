import path from 'node:path';
import { colours, type CliIO } from '../cli/io.js';
import type { ResolvedConfig } from '../config/types.js';
import type { DiffReport } from '../diff/format/report.js';
import { ExitCode, formatDiagnostic, type Diagnostic } from '../errors.js';
import { displayPathOf } from '../load/document-set.js';
import type { CompatibilityResult } from './compare.js';
import type { EntryResult, RunMode } from './entry.js';

/** What a run did: the one thing `codegen generate`, `codegen` (the config) and `--watch` report. */
export interface RunOutcome {
  mode: RunMode;
  /** The config the entries come from; absent for `codegen generate`. */
  config?: ResolvedConfig;
  results: EntryResult[];
  compatibility: CompatibilityResult[];
  /** Worker threads started (config runs). */
  threads?: number;
  elapsedMs: number;
  /** The command that brings stale output up to date, for the hint after `--check`. */
  rerun: string;
}

export type ReportFormat = 'text' | 'json' | 'github';

/**
 * Reports a run: the result on stdout when asked for (`json`, or GitHub annotations), the human
 * report on stderr always (the per-file lists only with `text`, as the other formats hold them).
 * Returns the exit code: the worst of every entry and every compatibility check.
 */
export async function reportRun(outcome: RunOutcome, format: ReportFormat, io: CliIO): Promise<number> {
  if (outcome.compatibility.some((r) => r.report)) textFormatter ??= (await import('../diff/format/text.js')).formatText;
  const exitCode = Math.max(ExitCode.ok, ...outcome.results.map((r) => r.exitCode), ...outcome.compatibility.map((r) => r.exitCode));
  if (format === 'json') io.stdout(JSON.stringify(jsonResult(outcome, exitCode, io), null, 2) + '\n');
  else if (format === 'github') io.stdout(await githubAnnotations(outcome, io));
  printHuman(outcome, io, format === 'text');
  return exitCode;
}

/** A file as messages name it: relative to where the user stands, absolute when outside it (as diagnostics do). */
export function shownPath(file: string, io: CliIO): string {
  return displayPathOf(file, io.cwd);
}

interface Totals {
  written: number;
  unchanged: number;
  removed: number;
  failed: number;
}

function totalsOf(results: EntryResult[]): Totals {
  return {
    written: results.reduce((n, r) => n + r.created.length + r.updated.length, 0),
    unchanged: results.reduce((n, r) => n + r.unchanged.length, 0),
    removed: results.reduce((n, r) => n + r.removed.length, 0),
    failed: results.filter((r) => r.status === 'failed').length,
  };
}

function jsonResult(outcome: RunOutcome, exitCode: number, io: CliIO) {
  const { mode, config, results, compatibility } = outcome;
  return {
    mode,
    config: config ? shownPath(config.file, io) : undefined,
    ok: exitCode === ExitCode.ok,
    exitCode,
    upToDate: mode === 'check' ? results.every((r) => r.status === 'ok') : undefined,
    entries: results.map((r) => {
      const compat = compatibility.find((c) => c.entry === r.entry);
      return {
        document: shownPath(r.entry.document, io),
        out: shownPath(r.entry.out, io),
        targets: r.entry.targets,
        status: r.status,
        created: r.created,
        updated: r.updated,
        unchanged: r.unchanged,
        removed: r.removed,
        ...(mode === 'check' ? { missing: r.created, stale: r.updated, extra: r.removed } : {}),
        diagnostics: r.diagnostics,
        ...(r.error ? { error: r.error } : {}),
        fromCache: r.fromCache,
        elapsedMs: r.elapsedMs,
        ...(compat ? { compatibility: { against: compat.against, notes: compat.notes, exitCode: compat.exitCode, ...(compat.error ? { error: compat.error } : {}), report: compat.report } } : {}),
      };
    }),
    totals: totalsOf(results),
    elapsedMs: outcome.elapsedMs,
    threads: outcome.threads,
  };
}

/** A line per diagnostic: ✖ for an error, ! otherwise, then where and what. */
export function diagnosticLines(list: Diagnostic[], c: ReturnType<typeof colours>): string[] {
  return list.map((d) => `${d.severity === 'error' ? c.red('✖') : c.yellow('!')} ${formatDiagnostic(d)}`);
}

/**
 * The human report of one entry: its diagnostics, with `full` the files it lists (missing, stale,
 * extra; or what a dry run would do), and one line saying what happened. `--watch` prints the same
 * lines, saying it goes on watching after a failure.
 */
export function entryLines(r: EntryResult, mode: RunMode, io: CliIO, options: { full: boolean; watching?: boolean }): string[] {
  const c = colours(io);
  const head = `${shownPath(r.entry.document, io)} → ${shownPath(r.entry.out, io)}`;
  const lines = diagnosticLines(r.diagnostics, c);
  if (r.status === 'failed') {
    lines.push(...diagnosticLines(r.error!.diagnostics, c));
    lines.push(`${c.red('✖')} ${head}: failed${mode === 'write' ? '; the previous output is kept' : ''}${options.watching ? '. Watching for changes…' : ''}`);
    return lines;
  }
  const join = (file: string) => path.join(shownPath(r.entry.out, io), file);
  if (mode === 'check') {
    if (options.full) {
      for (const file of r.created) lines.push(`${c.yellow('missing')}  ${join(file)}`);
      for (const file of r.updated) lines.push(`${c.yellow('stale')}    ${join(file)}`);
      for (const file of r.removed) lines.push(`${c.yellow('extra')}    ${join(file)}`);
    }
    const bad = r.created.length + r.updated.length + r.removed.length;
    lines.push(bad === 0 ? `${c.green('✔')} ${head}: up to date (${r.unchanged.length} files)` : `${c.red('✖')} ${head}: ${bad} generated file(s) out of date`);
  } else if (mode === 'dry-run') {
    for (const file of r.created) lines.push(`create   ${join(file)}`);
    for (const file of r.updated) lines.push(`update   ${join(file)}`);
    for (const file of r.removed) lines.push(`remove   ${join(file)}`);
    lines.push(`${c.dim('•')} ${head}: would write ${r.created.length + r.updated.length} file(s), ${r.unchanged.length} unchanged, ${r.removed.length} to remove`);
  } else {
    lines.push(`${c.green('✔')} ${head}: wrote ${r.created.length + r.updated.length} file(s), ${r.unchanged.length} unchanged, ${r.removed.length} removed (${r.elapsedMs} ms)`);
  }
  return lines;
}

function printHuman(outcome: RunOutcome, io: CliIO, full: boolean): void {
  const { mode, results, compatibility, elapsedMs } = outcome;
  const c = colours(io);
  const err = (text: string) => io.stderr(text + '\n');
  for (const r of results) entryLines(r, mode, io, { full }).forEach(err);
  for (const compat of compatibility) {
    for (const note of compat.notes) err(`${c.yellow('!')} ${note}`);
    if (compat.error) {
      diagnosticLines(compat.error.diagnostics, c).forEach(err);
      err(`${c.red('✖')} ${shownPath(compat.entry.document, io)}: the compatibility check could not run`);
    } else if (compat.report && full) {
      io.stderr(textFormatter ? textFormatter(compat.report, c) : '');
    } else if (compat.report) {
      err(`${compat.report.exitCode === 0 ? c.green('✔') : c.red('✖')} ${shownPath(compat.entry.document, io)} against ${compat.against.join(', ')}: ${compat.report.summary.breaking} breaking, ${compat.report.summary.warning} warning(s)`);
    }
  }
  const t = totalsOf(results);
  const documents = `${results.length} document${results.length === 1 ? '' : 's'}`;
  const time = elapsedMs >= 1000 ? `${(elapsedMs / 1000).toFixed(1)} s` : `${elapsedMs} ms`;
  if (results.length > 1) {
    if (mode === 'check') {
      const stale = results.filter((r) => r.status === 'stale');
      const files = stale.reduce((n, r) => n + r.created.length + r.updated.length + r.removed.length, 0);
      err(stale.length === 0 && t.failed === 0 ? `${c.green('✔')} ${documents} up to date (${time})` : `${c.red('✖')} ${files} generated file(s) out of date in ${stale.length} of ${documents}${t.failed ? `, ${t.failed} failed` : ''} (${time})`);
    } else {
      err(`${t.failed ? c.red('✖') : c.green('✔')} ${documents}: ${mode === 'dry-run' ? 'would write' : 'wrote'} ${t.written} file(s), ${t.unchanged} unchanged, ${t.removed} ${mode === 'dry-run' ? 'to remove' : 'removed'}${t.failed ? `, ${t.failed} failed` : ''} (${time})`);
    }
  }
  if (mode === 'check' && results.some((r) => r.status === 'stale')) err(`run \`${outcome.rerun}\` to update the generated code`);
}

/** The diff's text formatter, loaded only when a compatibility report is to be printed. */
let textFormatter: ((report: DiffReport, c: ReturnType<typeof colours>) => string) | undefined;

/** GitHub Actions workflow commands: an annotation per missing, stale or extra file and per finding. */
async function githubAnnotations(outcome: RunOutcome, io: CliIO): Promise<string> {
  const lines: string[] = [];
  const escape = (text: string) => text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const property = (text: string) => escape(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
  for (const r of outcome.results) {
    const file = (name: string) => property(path.join(shownPath(r.entry.out, io), name));
    if (r.status === 'failed') {
      for (const d of r.error!.diagnostics) {
        const at = d.location;
        lines.push(`::error ${at ? `file=${property(at.file)}${at.line !== undefined ? `,line=${at.line},col=${at.column ?? 1}` : ''},` : ''}title=${property(`codegen ${d.code}`)}::${escape(d.message)}`);
      }
      continue;
    }
    if (outcome.mode !== 'check') continue;
    const document = shownPath(r.entry.document, io);
    for (const name of r.created) lines.push(`::error file=${file(name)},title=codegen --check::${escape(`missing generated file: run \`npx ${outcome.rerun}\` to generate it from ${document}`)}`);
    for (const name of r.updated) lines.push(`::error file=${file(name)},title=codegen --check::${escape(`stale generated file: it differs from what ${document} generates; run \`npx ${outcome.rerun}\``)}`);
    for (const name of r.removed) lines.push(`::error file=${file(name)},title=codegen --check::${escape(`extra generated file: ${document} no longer generates it; run \`npx ${outcome.rerun}\` to remove it`)}`);
  }
  if (outcome.compatibility.some((c) => c.report)) {
    const { formatGithub } = await import('../diff/format/github.js');
    for (const compat of outcome.compatibility) if (compat.report) lines.push(formatGithub(compat.report).trimEnd());
  }
  return lines.length > 0 ? lines.join('\n') + '\n' : '';
}
