import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Cache } from '../cache/cache.js';
import { colours, type CliIO } from '../cli/io.js';
import { loadConfig } from '../config/index.js';
import type { ResolvedConfig, ResolvedEntry } from '../config/types.js';
import { CodegenError, ExitCode } from '../errors.js';
import { runEntry, type EntryResult } from '../run/entry.js';
import { diagnosticLines, entryLines } from '../run/report.js';
import { Debouncer, FileSet } from './watcher.js';

export interface WatchOptions {
  cwd: string;
  /** `--config <file>`. */
  configPath?: string;
  io: CliIO;
  /** Stops watching (SIGINT in the CLI). The run in progress finishes first: output is never left half-written. */
  signal: AbortSignal;
  cache: Cache;
  /** Quiet period after the last change before a run (default 100 ms). */
  debounceMs?: number;
}

/**
 * `codegen --watch`: runs every entry of the config, then again whenever a document, a file it
 * references, a template or the config changes (only the entries concerned; everything when the
 * config changes, after reloading it). A failing run shows its errors and keeps the previous
 * output; watching goes on. Returns 0 when stopped through the signal.
 */
export async function watchConfig(options: WatchOptions): Promise<number> {
  const { io, signal } = options;
  const c = colours(io);
  const say = (text: string) => io.stderr(`${c.dim(`[${new Date().toTimeString().slice(0, 8)}]`)} ${text}\n`);
  const debouncer = new Debouncer(options.debounceMs ?? 100);
  const files = new FileSet((file) => debouncer.add(file));
  const state: WatchState = { config: undefined, configFiles: [], inputs: new Map(), hashes: new Map() };

  try {
    await reloadConfig(options, state, say, c);
    if (state.config) await runAndReport(state.config.entries, options, state, say, c);
    refreshWatch(files, state);
    say(`watching ${files.size} file(s)${state.config ? ` for ${state.config.entries.length} document(s)` : ''} (press Ctrl-C to stop)`);
    for (;;) {
      const batch = await debouncer.next(signal);
      if (!batch) break;
      const changed = [...batch].filter((file) => contentChanged(file, state));
      if (changed.length === 0) continue;
      if (changed.some((file) => state.configFiles.includes(file)) || !state.config) {
        say(`${relative(changed[0]!, options.cwd)} changed: reloading the config`);
        const loaded = await reloadConfig(options, state, say, c);
        if (loaded) await runAndReport(state.config!.entries, options, state, say, c);
      } else {
        const entries = state.config.entries.filter((entry) => concerns(entry, changed, state));
        if (entries.length === 0) continue;
        say(`${changed.map((file) => relative(file, options.cwd)).join(', ')} changed`);
        await runAndReport(entries, options, state, say, c);
      }
      refreshWatch(files, state);
      if (signal.aborted) break;
    }
  } finally {
    files.close();
    debouncer.close();
  }
  say('stopped watching');
  return ExitCode.ok;
}

interface WatchState {
  config?: ResolvedConfig;
  /** The config file (and package.json for a `codegen` key there). */
  configFiles: string[];
  /** Entry index → the absolute paths of its document and every file it references (from the last run that could load it). */
  inputs: Map<number, string[]>;
  /** Content hashes of watched files, so a save that changes nothing triggers nothing. */
  hashes: Map<string, string>;
}

type Say = (text: string) => void;
type Colours = ReturnType<typeof colours>;

async function reloadConfig(options: WatchOptions, state: WatchState, say: Say, c: Colours): Promise<boolean> {
  try {
    const { config, warnings } = await loadConfig({ cwd: options.cwd, explicit: options.configPath, cache: options.cache });
    for (const warning of warnings) say(`${c.yellow('!')} ${warning}`);
    state.config = config;
    state.configFiles = [config.file];
    state.inputs = new Map();
    remember(config.file, state);
    return true;
  } catch (error) {
    if (!(error instanceof CodegenError)) throw error;
    diagnosticLines(error.diagnostics, c).forEach(say);
    if (!state.config && error.diagnostics[0]?.code === 'E_CONFIG_NOT_FOUND') throw error;
    say(`${c.red('✖')} the config could not be loaded; ${state.config ? 'nothing regenerated until it is fixed' : 'fix it'}: watching it for changes`);
    // Keep watching the broken config (its path is known from the error, or from the last good load).
    const file = error.diagnostics.find((d) => d.location)?.location?.file;
    if (file && state.configFiles.length === 0) state.configFiles = [path.resolve(options.cwd, file)];
    return false;
  }
}

async function runAndReport(entries: ResolvedEntry[], options: WatchOptions, state: WatchState, say: Say, c: Colours): Promise<void> {
  for (const entry of entries) {
    // The inputs as this run reads them: hashed now, not after the run, when a save made meanwhile
    // would be taken for what was generated and never trigger its own run.
    for (const file of [entry.document, ...(state.inputs.get(entry.index) ?? [])]) remember(file, state);
    let result: EntryResult<ResolvedEntry>;
    try {
      result = await runEntry(entry, { mode: 'write', cache: options.cache, cwd: options.cwd });
    } catch (error) {
      // An internal error must not end the watch either.
      say(`${c.red('internal error')} (a bug in codegen; please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      continue;
    }
    for (const line of entryLines(result, 'write', options.io, { full: true, watching: true })) say(line);
    if (result.status === 'failed') {
      // A document that cannot be loaded has no known inputs: keep the last known ones, and the document.
      state.inputs.set(entry.index, [...new Set([...(state.inputs.get(entry.index) ?? []), entry.document])]);
    } else {
      state.inputs.set(entry.index, result.inputs);
    }
    for (const file of state.inputs.get(entry.index) ?? []) remember(file, state);
  }
}

function refreshWatch(files: FileSet, state: WatchState): void {
  const watched = new Set<string>(state.configFiles);
  const trees = new Set<string>();
  for (const entry of state.config?.entries ?? []) {
    watched.add(entry.document);
    for (const input of state.inputs.get(entry.index) ?? []) if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) watched.add(input);
    if (entry.templates) trees.add(entry.templates);
  }
  files.update(watched, trees);
}

function concerns(entry: ResolvedEntry, changed: string[], state: WatchState): boolean {
  const inputs = state.inputs.get(entry.index) ?? [entry.document];
  return changed.some((file) => file === entry.document || inputs.includes(file) || (entry.templates !== undefined && (file === entry.templates || file.startsWith(entry.templates + path.sep))));
}

function hashFile(file: string): string {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return 'missing';
  }
}

/** Records a file's content hash once; later changes are recorded when they are seen (contentChanged). */
function remember(file: string, state: WatchState): void {
  if (!state.hashes.has(file)) state.hashes.set(file, hashFile(file));
}

/** True when the file's content differs from the last run's (template folders: always). */
function contentChanged(file: string, state: WatchState): boolean {
  const before = state.hashes.get(file);
  if (before === undefined) return true;
  const now = hashFile(file);
  if (now === before) return false;
  state.hashes.set(file, now);
  return true;
}

function relative(file: string, cwd: string): string {
  return path.relative(cwd, file) || '.';
}

/** An AbortSignal fired by the first SIGINT or SIGTERM; a second one ends the process as usual. */
export function processSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const stop = () => {
    dispose();
    controller.abort();
  };
  const dispose = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return { signal: controller.signal, dispose };
}
