import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultCacheDir, openCache, readOnlyCache, type Cache } from '../cache/cache.js';
import { colours, type CliIO } from '../cli/io.js';
import { loadConfig } from '../config/index.js';
import { compareEntry, prepareComparison, runEntries, selectEntries, type CompatibilityResult, type EntryResult, type RunMode } from '../config/runner.js';
import type { ResolvedConfig } from '../config/types.js';
import { CodegenError, ExitCode, formatDiagnostic, usageError, type Diagnostic } from '../errors.js';
import { SHIPPED_FORMAT_CACHE } from '../format/prettier.js';
import { stagedFiles } from '../git.js';

export interface RunConfigFlags {
  config?: string;
  check: boolean;
  dryRun: boolean;
  watch: boolean;
  json: boolean;
  /** `--against <ref>`: also check each document's compatibility against this git revision. */
  against?: string;
  /** `--baseline`: also check each document against its configured compatibility.baseline revisions. */
  baseline: boolean;
  staged: boolean;
  format: 'text' | 'github';
  concurrency?: string;
  /** commander's `--no-cache` sets this to false. */
  cache: boolean;
}

/**
 * `codegen` with no subcommand: runs every entry of the config file (or, with files or --staged,
 * the entries those files concern). `--check` writes nothing and exits 1 when any generated file
 * is missing, stale or extra; `--against <ref>` also runs the compatibility check of each entry's
 * document against that git revision, in the same process; `--watch` regenerates on change.
 */
export async function runConfigCommand(files: string[], flags: RunConfigFlags, io: CliIO): Promise<number> {
  checkFlags(files, flags);
  checkFiles(files, io);
  const cache = openProjectCache(flags, io);
  if (flags.watch) {
    const { watchConfig, processSignal } = await import('../watch/index.js');
    const stop = processSignal();
    try {
      return await watchConfig({ cwd: io.cwd, configPath: flags.config, io, signal: stop.signal, cache });
    } finally {
      stop.dispose();
    }
  }
  const started = performance.now();
  const mode: RunMode = flags.check ? 'check' : flags.dryRun ? 'dry-run' : 'write';
  try {
    // A hook's start-up is most of its time: ask git for the staged files while the config loads.
    const stagedEarly = flags.staged && flags.config === undefined ? stagedFiles(io.cwd).catch((error: unknown) => error) : undefined;
    const { config, warnings } = await loadConfig({ cwd: io.cwd, explicit: flags.config, cache });
    const c = colours(io);
    for (const warning of warnings) io.stderr(`${c.yellow('!')} ${warning}\n`);
    let entries = config.entries;
    if (files.length > 0 || flags.staged) {
      const changed = flags.staged ? await staged(stagedEarly, config.dir) : files;
      entries = await selectEntries(config, changed, io.cwd);
      if (entries.length === 0) {
        if (flags.json) io.stdout(JSON.stringify({ mode, config: shownPath(config.file, io), ok: true, exitCode: 0, entries: [], totals: totalsOf([]), elapsedMs: elapsed(started) }, null, 2) + '\n');
        else io.stderr(`${c.dim('nothing to check:')} no ${flags.staged ? 'staged ' : ''}file belongs to a document of ${config.displayPath}\n`);
        return ExitCode.ok;
      }
    }
    const refs = (entry: (typeof entries)[number]) => (flags.against !== undefined ? [flags.against] : flags.baseline ? entry.compatibility.baseline : []);
    if (flags.baseline) {
      const missing = entries.filter((entry) => entry.compatibility.baseline.length === 0);
      if (missing.length > 0) {
        throw usageError('E_USAGE', `--baseline: ${missing.map((e) => `documents[${e.index}]`).join(', ')} of ${config.displayPath} has no compatibility.baseline; set one (e.g. baseline: 'origin/main') or name a revision with --against`);
      }
    }
    const compare = flags.against !== undefined || flags.baseline;
    // Started now, finished while the output is compared: the diff engine's modules and the git
    // look-ups ("does the document exist at that revision?") overlap with the check.
    const prepared = compare ? new Map(entries.map((entry) => [entry, prepareComparison(entry, refs(entry))])) : undefined;
    const progress = startProgress(io, flags.json);
    let results: EntryResult[];
    let threads = 0;
    let compatibility: CompatibilityResult[] = [];
    try {
      const concurrency = concurrencyOf(flags);
      const cacheDir = cacheEnabled(flags, io) ? defaultCacheDir(io.cwd, io.env) : undefined;
      const parallel = { threads: Math.min(concurrency, os.availableParallelism?.() ?? 1), afterMs: 300, cacheDir, cacheFallbacks: [SHIPPED_FORMAT_CACHE] };
      const outcome = await runEntries(entries, { mode, cache, cwd: io.cwd }, concurrency, (entry, n) => progress.update(`${n}/${entries.length} ${shownPath(entry.document, io)}`), parallel);
      results = outcome.results;
      threads = outcome.threads;
      if (compare) {
        progress.update('checking compatibility');
        // A document that failed to generate was reported already and cannot be compared.
        const comparable = results.filter((r) => r.status !== 'failed');
        compatibility = await Promise.all(comparable.map((r) => compareEntry(r.entry, refs(r.entry), config, io.cwd, { inputs: r.inputs, prepared: prepared?.get(r.entry) })));
      }
    } finally {
      progress.done();
    }
    if (compatibility.some((r) => r.report)) await prepareTextFormatter();
    const exitCode = Math.max(ExitCode.ok, ...results.map((r) => r.exitCode), ...compatibility.map((r) => r.exitCode));
    const elapsedMs = elapsed(started);
    if (flags.json) io.stdout(JSON.stringify({ ...jsonResult(mode, config, results, compatibility, exitCode, elapsedMs, io), threads }, null, 2) + '\n');
    else if (flags.format === 'github') io.stdout(await githubAnnotations(mode, results, compatibility, io));
    printHuman(mode, config, results, compatibility, elapsedMs, io, !flags.json && flags.format !== 'github');
    return exitCode;
  } catch (error) {
    if (flags.json && error instanceof CodegenError) {
      io.stdout(JSON.stringify({ mode, ok: false, exitCode: error.exitCode, error: { diagnostics: error.diagnostics }, entries: [], elapsedMs: elapsed(started) }, null, 2) + '\n');
    }
    throw error;
  }
}

async function staged(early: Promise<unknown> | undefined, dir: string): Promise<string[]> {
  const value = early ? await early : await stagedFiles(dir);
  if (value instanceof Error) throw value;
  return value as string[];
}

/** Incompatible flags are refused before any work (exit 2). */
function checkFlags(files: string[], flags: RunConfigFlags): void {
  const refuse = (message: string) => {
    throw usageError('E_USAGE', message);
  };
  if (flags.check && flags.dryRun) refuse('--check and --dry-run cannot be combined: --check already writes nothing');
  if (flags.watch) {
    for (const [on, name] of [[flags.check, '--check'], [flags.dryRun, '--dry-run'], [flags.json, '--json'], [flags.staged, '--staged'], [flags.against !== undefined, '--against'], [flags.baseline, '--baseline'], [flags.format !== 'text', '--format']] as const) {
      if (on) refuse(`--watch cannot be combined with ${name}`);
    }
    if (files.length > 0) refuse(`--watch runs every document of the config; it takes no files (got ${files.join(', ')})`);
  }
  if (flags.against !== undefined && flags.baseline) refuse('give either --against <revision> or --baseline, not both');
  if (flags.staged && files.length > 0) refuse('give either --staged or a list of files, not both');
  if (flags.json && flags.format !== 'text') refuse('--json and --format cannot be combined');
  if (flags.format !== 'text' && flags.format !== 'github') refuse(`--format ${String(flags.format)}: choose text or github`);
  if (flags.concurrency !== undefined && !/^[1-9][0-9]*$/.test(flags.concurrency)) refuse(`--concurrency ${flags.concurrency}: give a whole number of at least 1`);
}

const COMMANDS = ['generate', 'validate', 'diff', 'init'];

/** Files named on the command line must exist: a typo of a command name must not read as "nothing to check". */
function checkFiles(files: string[], io: CliIO): void {
  for (const file of files) {
    if (existsSync(path.resolve(io.cwd, file))) continue;
    const command = !file.includes('.') && !file.includes('/') ? `; and "${file}" is not a command (${COMMANDS.join(', ')})` : '';
    throw usageError('E_USAGE', `no such file: ${file}${command}`);
  }
}

function cacheEnabled(flags: { cache: boolean }, io: CliIO): boolean {
  return flags.cache && io.env.CODEGEN_CACHE !== '0';
}

export function openProjectCache(flags: { cache: boolean }, io: CliIO): Cache {
  return cacheEnabled(flags, io) ? openCache(defaultCacheDir(io.cwd, io.env), [SHIPPED_FORMAT_CACHE]) : readOnlyCache([SHIPPED_FORMAT_CACHE]);
}

/**
 * Documents processed at the same time. Runs answered from the cache overlap in this thread;
 * runs that miss it get worker threads, up to the number of CPUs (see runEntries).
 */
function concurrencyOf(flags: RunConfigFlags): number {
  return flags.concurrency ? Number(flags.concurrency) : Math.max(2, Math.min(8, os.availableParallelism?.() ?? 2));
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

function shownPath(file: string, io: CliIO): string {
  return path.relative(io.cwd, file) || '.';
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

function jsonResult(mode: RunMode, config: ResolvedConfig, results: EntryResult[], compatibility: CompatibilityResult[], exitCode: number, elapsedMs: number, io: CliIO) {
  const out = (r: EntryResult) => shownPath(r.entry.out, io);
  return {
    mode,
    config: shownPath(config.file, io),
    ok: exitCode === ExitCode.ok,
    exitCode,
    upToDate: mode === 'check' ? results.every((r) => r.status === 'ok') : undefined,
    entries: results.map((r) => {
      const compat = compatibility.find((c) => c.entry === r.entry);
      return {
        document: shownPath(r.entry.document, io),
        out: out(r),
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
    elapsedMs,
  };
}

function printHuman(mode: RunMode, config: ResolvedConfig, results: EntryResult[], compatibility: CompatibilityResult[], elapsedMs: number, io: CliIO, full: boolean): void {
  const c = colours(io);
  const err = (text: string) => io.stderr(text + '\n');
  const printDiagnostics = (list: Diagnostic[]) => {
    for (const d of list) err(`${d.severity === 'error' ? c.red('✖') : c.yellow('!')} ${formatDiagnostic(d)}`);
  };
  for (const r of results) {
    const head = `${shownPath(r.entry.document, io)} → ${shownPath(r.entry.out, io)}`;
    printDiagnostics(r.diagnostics);
    if (r.status === 'failed') {
      printDiagnostics(r.error!.diagnostics);
      err(`${c.red('✖')} ${head}: failed${mode === 'write' ? '; the previous output is kept' : ''}`);
      continue;
    }
    const join = (file: string) => path.join(shownPath(r.entry.out, io), file);
    if (mode === 'check') {
      if (full) {
        for (const file of r.created) err(`${c.yellow('missing')}  ${join(file)}`);
        for (const file of r.updated) err(`${c.yellow('stale')}    ${join(file)}`);
        for (const file of r.removed) err(`${c.yellow('extra')}    ${join(file)}`);
      }
      const bad = r.created.length + r.updated.length + r.removed.length;
      err(bad === 0 ? `${c.green('✔')} ${head}: up to date (${r.unchanged.length} files)` : `${c.red('✖')} ${head}: ${bad} generated file(s) out of date`);
    } else if (mode === 'dry-run') {
      for (const file of r.created) err(`create   ${join(file)}`);
      for (const file of r.updated) err(`update   ${join(file)}`);
      for (const file of r.removed) err(`remove   ${join(file)}`);
      err(`${c.dim('•')} ${head}: would write ${r.created.length + r.updated.length} file(s), ${r.unchanged.length} unchanged, ${r.removed.length} to remove`);
    } else {
      err(`${c.green('✔')} ${head}: wrote ${r.created.length + r.updated.length} file(s), ${r.unchanged.length} unchanged, ${r.removed.length} removed (${r.elapsedMs} ms)`);
    }
  }
  for (const compat of compatibility) {
    for (const note of compat.notes) err(`${c.yellow('!')} ${note}`);
    if (compat.error) {
      printDiagnostics(compat.error.diagnostics);
      err(`${c.red('✖')} ${shownPath(compat.entry.document, io)}: the compatibility check could not run`);
    } else if (compat.report && full) {
      io.stderr(formatTextReport(compat.report, io));
    } else if (compat.report) {
      err(`${compat.report.exitCode === 0 ? c.green('✔') : c.red('✖')} ${shownPath(compat.entry.document, io)} against ${compat.against.join(', ')}: ${compat.report.summary.breaking} breaking, ${compat.report.summary.warning} warning(s)`);
    }
  }
  const t = totalsOf(results);
  const documents = `${results.length} document${results.length === 1 ? '' : 's'}`;
  const time = elapsedMs >= 1000 ? `${(elapsedMs / 1000).toFixed(1)} s` : `${elapsedMs} ms`;
  if (results.length > 1 || t.failed > 0) {
    if (mode === 'check') {
      const stale = results.filter((r) => r.status === 'stale');
      const files = stale.reduce((n, r) => n + r.created.length + r.updated.length + r.removed.length, 0);
      err(stale.length === 0 && t.failed === 0 ? `${c.green('✔')} ${documents} up to date (${time})` : `${c.red('✖')} ${files} generated file(s) out of date in ${stale.length} of ${documents}${t.failed ? `, ${t.failed} failed` : ''} (${time})`);
    } else {
      err(`${t.failed ? c.red('✖') : c.green('✔')} ${documents}: ${mode === 'dry-run' ? 'would write' : 'wrote'} ${t.written} file(s), ${t.unchanged} unchanged, ${t.removed} ${mode === 'dry-run' ? 'to remove' : 'removed'}${t.failed ? `, ${t.failed} failed` : ''} (${time})`);
    }
  }
  if (mode === 'check' && results.some((r) => r.status === 'stale')) err(`run \`codegen\`${config.displayPath.startsWith('..') ? ` --config ${config.displayPath}` : ''} to update the generated code`);
}

let textFormatter: ((report: DiffReport, c: ReturnType<typeof colours>) => string) | undefined;
type DiffReport = NonNullable<CompatibilityResult['report']>;

function formatTextReport(report: DiffReport, io: CliIO): string {
  return textFormatter ? textFormatter(report, colours(io)) : '';
}

/** GitHub Actions workflow commands: an annotation per missing, stale or extra file and per finding. */
async function githubAnnotations(mode: RunMode, results: EntryResult[], compatibility: CompatibilityResult[], io: CliIO): Promise<string> {
  const lines: string[] = [];
  const escape = (text: string) => text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const property = (text: string) => escape(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
  for (const r of results) {
    const file = (name: string) => property(path.join(shownPath(r.entry.out, io), name));
    if (r.status === 'failed') {
      for (const d of r.error!.diagnostics) {
        const at = d.location;
        lines.push(`::error ${at ? `file=${property(at.file)}${at.line !== undefined ? `,line=${at.line},col=${at.column ?? 1}` : ''},` : ''}title=${property(`codegen ${d.code}`)}::${escape(d.message)}`);
      }
      continue;
    }
    if (mode !== 'check') continue;
    const document = shownPath(r.entry.document, io);
    for (const name of r.created) lines.push(`::error file=${file(name)},title=codegen --check::${escape(`missing generated file: run \`npx codegen\` to generate it from ${document}`)}`);
    for (const name of r.updated) lines.push(`::error file=${file(name)},title=codegen --check::${escape(`stale generated file: it differs from what ${document} generates; run \`npx codegen\``)}`);
    for (const name of r.removed) lines.push(`::error file=${file(name)},title=codegen --check::${escape(`extra generated file: ${document} no longer generates it; run \`npx codegen\` to remove it`)}`);
  }
  if (compatibility.some((c) => c.report)) {
    const { formatGithub } = await import('../diff/format/github.js');
    for (const compat of compatibility) if (compat.report) lines.push(formatGithub(compat.report).trimEnd());
  }
  return lines.length > 0 ? lines.join('\n') + '\n' : '';
}

/** Loads the diff's text formatter when a compatibility report is to be printed. */
export async function prepareTextFormatter(): Promise<void> {
  textFormatter ??= (await import('../diff/format/text.js')).formatText;
}

/**
 * A one-line progress indicator on stderr: only on a terminal, never in CI, and only once a run has
 * taken 300 ms (`CODEGEN_PROGRESS_AFTER_MS` changes that, for tests and slow terminals).
 */
function startProgress(io: CliIO, json: boolean) {
  const enabled = io.isTTY && !json && io.env.CI === undefined;
  const afterMs = Number(io.env.CODEGEN_PROGRESS_AFTER_MS ?? 300);
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let text = '';
  let frame = 0;
  let shown = false;
  let timer: NodeJS.Timeout | undefined;
  const draw = () => {
    shown = true;
    io.stderr(`\r\u001b[K${frames[frame++ % frames.length]} ${text}`);
  };
  const first = enabled
    ? setTimeout(() => {
        draw();
        timer = setInterval(draw, 120);
        timer.unref();
      }, afterMs)
    : undefined;
  first?.unref();
  return {
    update(next: string) {
      text = next;
    },
    done() {
      if (first) clearTimeout(first);
      if (timer) clearInterval(timer);
      if (shown) io.stderr('\r\u001b[K');
    },
  };
}
