import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultCacheDir } from '../cache/cache.js';
import { colours, type CliIO } from '../cli/io.js';
import { loadConfig, type ResolvedConfig, type ResolvedEntry } from '../config/index.js';
import { CodegenError, usageError } from '../errors.js';
import { stagedFiles } from '../git.js';
import { compareEntry, prefetchDiffEngine, type CompatibilityResult } from '../run/compare.js';
import { runEntries } from '../run/entries.js';
import { cacheEnabled, openProjectCache, type EntryResult, type RunMode } from '../run/entry.js';
import { reportRun, shownPath, type RunOutcome } from '../run/report.js';
import { selectEntries } from '../run/select.js';

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
        if (!flags.json) io.stderr(`${c.dim('nothing to check:')} no ${flags.staged ? 'staged ' : ''}file belongs to a document of ${config.displayPath}\n`);
        return reportRun({ mode, config, results: [], compatibility: [], elapsedMs: elapsed(started), rerun: rerunOf(config) }, flags.json ? 'json' : 'text', io);
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
    // Without a cache that may hold the report, the diff engine's modules load while the output is compared.
    if (compare && !cacheEnabled(flags, io)) prefetchDiffEngine();
    const progress = startProgress(io, flags.json);
    let results: Array<EntryResult<ResolvedEntry>>;
    let threads = 0;
    let compatibility: CompatibilityResult[] = [];
    try {
      const concurrency = concurrencyOf(flags);
      const cacheDir = cacheEnabled(flags, io) ? defaultCacheDir(io.cwd, io.env) : undefined;
      // Threads join a run still going after 300 ms (`CODEGEN_THREADS_AFTER_MS` changes that, for tests:
      // a cold entry can now take less than that, so a test could not otherwise be sure to see them).
      const afterMs = Number(io.env.CODEGEN_THREADS_AFTER_MS ?? 300);
      const parallel = { threads: Math.min(concurrency, os.availableParallelism?.() ?? 1), afterMs, cacheDir };
      const outcome = await runEntries(entries, { mode, cache, cwd: io.cwd }, concurrency, (entry, n) => progress.update(`${n}/${entries.length} ${shownPath(entry.document, io)}`), parallel);
      results = outcome.results;
      threads = outcome.threads;
      if (compare) {
        progress.update('checking compatibility');
        // A document that failed to generate was reported already and cannot be compared.
        const comparable = results.filter((r) => r.status !== 'failed');
        compatibility = await Promise.all(comparable.map((r) => compareEntry(r.entry, refs(r.entry), config, io.cwd, { inputs: r.inputs, cache })));
      }
    } finally {
      progress.done();
    }
    const outcome: RunOutcome = { mode, config, results, compatibility, threads, elapsedMs: elapsed(started), rerun: rerunOf(config) };
    return await reportRun(outcome, flags.json ? 'json' : flags.format, io);
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

/** The command that regenerates this config's documents (with --config when the config is not found from here). */
function rerunOf(config: ResolvedConfig): string {
  return `codegen${config.displayPath.startsWith('..') ? ` --config ${config.displayPath}` : ''}`;
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
