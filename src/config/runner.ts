import { existsSync, promises as fs, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cache } from '../cache/cache.js';
import type { DiffReport } from '../diff/format/report.js';
import { CodegenError, ExitCode, type Diagnostic } from '../errors.js';
import { existsAtRevision, unchangedSince } from '../git.js';
import { generateFiles } from '../pipeline/generate.js';
import { generatorVersion } from '../version.js';
import { applyOutput, planOutput, type OutputOptions } from '../write/output.js';
import type { ResolvedConfig, ResolvedEntry } from './types.js';

export type RunMode = 'write' | 'check' | 'dry-run';

/** What one entry of the config did (or would do) to its output folder. */
export interface EntryResult {
  entry: ResolvedEntry;
  /** ok: nothing to do or done; stale: --check found a difference; failed: the entry could not be generated. */
  status: 'ok' | 'stale' | 'failed';
  /** Files new in the folder (missing, with --check). */
  created: string[];
  /** Files whose content changes (stale, with --check). */
  updated: string[];
  unchanged: string[];
  /** Generated files no longer produced (extra, with --check). */
  removed: string[];
  /** Warnings from the document. */
  diagnostics: Diagnostic[];
  /** Why the entry failed. */
  error?: { exitCode: number; diagnostics: Diagnostic[] };
  /** Absolute paths of the document and every file it references (empty when it could not be loaded). */
  inputs: string[];
  fromCache: boolean;
  elapsedMs: number;
  exitCode: number;
}

export interface RunContext {
  mode: RunMode;
  cache: Cache;
  /** Paths in messages are relative to this folder. */
  cwd: string;
}

/**
 * Generates one entry in memory and compares the files with its folder; in write mode applies
 * the plan (atomically: every file goes to a temporary name first). A failing entry writes
 * nothing and keeps the previous output; its error is returned, not thrown, so one bad
 * document never hides the results of the others.
 */
export async function runEntry(entry: ResolvedEntry, context: RunContext): Promise<EntryResult> {
  const started = performance.now();
  const result: EntryResult = { entry, status: 'ok', created: [], updated: [], unchanged: [], removed: [], diagnostics: [], inputs: [], fromCache: false, elapsedMs: 0, exitCode: ExitCode.ok };
  try {
    const generated = await generateFiles({
      // As the user would type it from where they stand: messages name the file the same way.
      document: path.relative(context.cwd, entry.document) || entry.document,
      targets: entry.targets,
      templatesDir: entry.templates,
      eventSource: entry.source,
      role: entry.role,
      validation: entry.validation,
      load: { allowRemoteRefs: entry.allowRemoteRefs, allowOutsideRefs: entry.allowOutsideRefs, cwd: context.cwd },
      cache: context.cache,
    });
    result.inputs = generated.inputs;
    result.fromCache = generated.fromCache;
    result.diagnostics = generated.diagnostics;
    const options: OutputOptions = { generatorVersion: generatorVersion(), protectedPaths: generated.inputs, allowSymlinkedOut: entry.allowSymlinkedOut };
    const plan = await planOutput(entry.out, generated.files, options);
    const exists = await Promise.all(plan.written.map((file) => fs.access(path.join(plan.outDir, file)).then(() => true, () => false)));
    plan.written.forEach((file, i) => (exists[i] ? result.updated : result.created).push(file));
    result.unchanged = plan.unchanged;
    result.removed = plan.removed;
    if (context.mode === 'write' && plan.written.length + plan.removed.length > 0) await applyOutput(plan, generated.files, options);
    if (context.mode === 'check' && plan.written.length + plan.removed.length > 0) {
      result.status = 'stale';
      result.exitCode = ExitCode.findings;
    }
  } catch (error) {
    if (!(error instanceof CodegenError)) throw error;
    result.status = 'failed';
    result.error = { exitCode: error.exitCode, diagnostics: error.diagnostics };
    result.exitCode = error.exitCode;
  }
  result.elapsedMs = Math.round(performance.now() - started);
  return result;
}

/** Worker threads for entries that miss the cache (see runEntries). */
export interface ParallelOptions {
  /** Threads to use in all, this one included (1: none started). */
  threads: number;
  /** Start them only once a run has taken this long: a run answered from the cache never pays for them. */
  afterMs: number;
  /** How the workers open the cache (a Cache object cannot cross threads). */
  cacheDir?: string;
  cacheFallbacks?: string[];
}

export interface RunEntriesOutcome {
  results: EntryResult[];
  /** Worker threads started. */
  threads: number;
}

const WORKER_FILE = fileURLToPath(new URL('./worker.js', import.meta.url));

/**
 * Runs entries, results in the entries' order. In this thread, `concurrency` entries are in flight
 * at a time (loading, cache reads and the comparison with the disk overlap). When the run is still
 * going after `parallel.afterMs` with entries left (a sign they miss the cache: rendering and
 * formatting are CPU-bound), worker threads join in and take the remaining entries.
 */
export async function runEntries(
  entries: ResolvedEntry[],
  context: RunContext,
  concurrency: number,
  onStart?: (entry: ResolvedEntry, started: number) => void,
  parallel?: ParallelOptions,
): Promise<RunEntriesOutcome> {
  const results = new Array<EntryResult>(entries.length);
  let next = 0;
  let started = 0;
  let threads = 0;
  const take = (): number | undefined => {
    if (next >= entries.length) return undefined;
    onStart?.(entries[next]!, ++started);
    return next++;
  };
  const lane = async () => {
    for (let index = take(); index !== undefined; index = take()) results[index] = await runEntry(entries[index]!, context);
  };
  const workerLane = async () => {
    const { Worker } = await import('node:worker_threads');
    const worker = new Worker(WORKER_FILE, { workerData: { mode: context.mode, cwd: context.cwd, cacheDir: parallel?.cacheDir, cacheFallbacks: parallel?.cacheFallbacks ?? [] } });
    threads++;
    try {
      for (let index = take(); index !== undefined; index = take()) {
        const answer = await ask(worker, entries[index]!);
        // Copies come back from the thread; keep the caller's entry objects.
        results[index] = answer ? { ...answer, entry: entries[index]! } : await runEntry(entries[index]!, context);
      }
    } finally {
      await worker.terminate();
    }
  };
  const useThreads = parallel !== undefined && parallel.threads > 1 && entries.length > 1 && existsSync(WORKER_FILE);
  // With threads to come, this thread takes one entry at a time and leaves the rest to them.
  const lanes: Array<Promise<void>> = Array.from({ length: useThreads ? 1 : Math.max(1, Math.min(concurrency, entries.length)) }, lane);
  let timer: NodeJS.Timeout | undefined;
  const extra: Array<Promise<void>> = [];
  if (useThreads) {
    timer = setTimeout(() => {
      for (let i = 1; i < Math.min(parallel.threads, entries.length - next + 1); i++) extra.push(workerLane());
    }, parallel.afterMs);
    timer.unref();
  }
  try {
    await Promise.all(lanes);
    await Promise.all(extra);
  } finally {
    if (timer) clearTimeout(timer);
  }
  return { results, threads };
}

/** One entry on a worker thread; undefined when the thread failed (the entry then runs here). */
function ask(worker: import('node:worker_threads').Worker, entry: ResolvedEntry): Promise<EntryResult | undefined> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { ok: true; result: EntryResult } | { ok: false; error: string }) => {
      cleanup();
      if (message.ok) resolve(message.result);
      else reject(new Error(message.error));
    };
    const onError = () => {
      cleanup();
      resolve(undefined);
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.postMessage(entry);
  });
}

/** The compatibility check of one entry against git revisions. */
export interface CompatibilityResult {
  entry: ResolvedEntry;
  /** Revisions compared with. */
  against: string[];
  report?: DiffReport;
  /** Notes for stderr: a new document with nothing to compare, expired ignore entries. */
  notes: string[];
  error?: { exitCode: number; diagnostics: Diagnostic[] };
  exitCode: number;
}

/**
 * `codegen diff --against <ref>` for one entry, through the diff engine in this process (one
 * process for both checks keeps a pre-commit hook fast). A document that does not exist at a
 * revision is new there: nothing can break, so that revision is skipped with a note.
 */
export async function compareEntry(
  entry: ResolvedEntry,
  refs: string[],
  config: ResolvedConfig,
  cwd: string,
  options: { inputs?: string[]; prepared?: Promise<boolean[]> } = {},
): Promise<CompatibilityResult> {
  const result: CompatibilityResult = { entry, against: [], notes: [], exitCode: ExitCode.ok };
  const shown = path.relative(cwd, entry.document) || entry.document;
  const inputs = options.inputs ?? [];
  try {
    const present = await (options.prepared ?? prepareComparison(entry, refs));
    refs.forEach((ref, i) => {
      if (present[i]) result.against.push(ref);
      else result.notes.push(`${shown} does not exist at ${ref}: a new document, nothing to compare`);
    });
    if (result.against.length === 0) return result;
    // Nothing of the document changed (only its generated code or the config did): no diff to run.
    const unchanged = inputs.length > 0 && (await Promise.all(result.against.map((ref) => unchangedSince(inputs, ref)))).every(Boolean);
    if (unchanged) {
      result.notes.push(`${shown} and the files it references are unchanged since ${result.against.join(', ')}: nothing to compare`);
      result.against = [];
      return result;
    }
    const { runDiff } = await import('../diff/index.js');
    const ignore = entry.compatibility.ignore;
    const defaultIgnore = path.join(config.dir, '.codegen-diff-ignore.yaml');
    const ignoreFile = typeof ignore === 'string' ? ignore : ignore === undefined && existsSync(defaultIgnore) ? defaultIgnore : undefined;
    const { report, notes } = await runDiff({
      oldFiles: [],
      against: result.against,
      newFile: shown,
      mode: entry.compatibility.mode,
      transitive: result.against.length > 1 || entry.compatibility.transitive,
      failOn: entry.compatibility.failOn,
      ignoreFile,
      noIgnore: ignoreFile === undefined,
      load: { allowRemoteRefs: entry.allowRemoteRefs, allowOutsideRefs: entry.allowOutsideRefs },
      cwd,
    });
    result.report = report;
    result.notes.push(...notes);
    result.exitCode = report.exitCode;
  } catch (error) {
    if (!(error instanceof CodegenError)) throw error;
    result.error = { exitCode: error.exitCode, diagnostics: error.diagnostics };
    result.exitCode = error.exitCode;
  }
  return result;
}

/**
 * What can be done before the comparison itself: loading the diff engine, and asking git whether
 * the document exists at each revision. Returns, per revision, whether it does.
 */
export function prepareComparison(entry: ResolvedEntry, refs: string[]): Promise<boolean[]> {
  void import('../diff/index.js').catch(() => undefined);
  return Promise.all(refs.map((ref) => existsAtRevision(entry.document, ref)));
}

/**
 * The entries a list of changed files concerns: a file is the config itself (every entry), an
 * entry's document, a file the document references, a template of the entry, or a file in its
 * output folder (a hand-edited generated file must be checked too). Referenced files are found
 * by loading (not validating) the documents, only when some changed file matched nothing cheaper.
 */
export async function selectEntries(config: ResolvedConfig, files: string[], cwd: string): Promise<ResolvedEntry[]> {
  const changed = new Set(files.map((file) => realOrResolved(path.resolve(cwd, file))));
  if (changed.has(realOrResolved(config.file))) return config.entries;
  const inside = (file: string, dir: string) => file === dir || file.startsWith(dir + path.sep);
  const selected = new Set<ResolvedEntry>();
  const unmatched = new Set(changed);
  for (const entry of config.entries) {
    const document = realOrResolved(entry.document);
    const out = realOrResolved(entry.out);
    const templates = entry.templates ? realOrResolved(entry.templates) : undefined;
    for (const file of changed) {
      if (file === document || inside(file, out) || (templates !== undefined && inside(file, templates))) {
        selected.add(entry);
        unmatched.delete(file);
      }
    }
  }
  const mayBeReferenced = [...unmatched].filter((file) => /\.(ya?ml|json)$/i.test(file));
  if (mayBeReferenced.length > 0) {
    const { loadDocumentSet } = await import('../load/document-set.js');
    for (const entry of config.entries) {
      if (selected.has(entry)) continue;
      try {
        const set = await loadDocumentSet(entry.document, { allowRemoteRefs: false, allowOutsideRefs: entry.allowOutsideRefs, cwd });
        const inputs = new Set([...set.files.keys()].map(realOrResolved));
        if (mayBeReferenced.some((file) => inputs.has(file))) selected.add(entry);
      } catch {
        // A document that cannot be loaded is not selected here; if it was changed itself, it matched above.
      }
    }
  }
  return config.entries.filter((entry) => selected.has(entry));
}

function realOrResolved(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    // Deleted files (and folders not created yet): resolve the parent folder, keep the name.
    try {
      return path.join(realpathSync(path.dirname(file)), path.basename(file));
    } catch {
      return path.resolve(file);
    }
  }
}
