import { defaultCacheDir, disabledCache, openCache, type Cache } from '../cache/cache.js';
import type { CliIO } from '../cli/io.js';
import type { ResolvedEntry } from '../config/types.js';
import { CodegenError, ExitCode, type Diagnostic } from '../errors.js';
import { displayPathOf } from '../load/document-set.js';
import { generateFiles } from '../pipeline/generate.js';
import { generatorVersion } from '../version.js';
import { applyOutput, planOutput, type OutputOptions } from '../write/output.js';

export type RunMode = 'write' | 'check' | 'dry-run';

/**
 * One generate-and-save: a document, what to generate from it, and the folder it goes to (every path
 * absolute). A config entry is one; `codegen generate` makes one from its flags.
 */
export type GenerateJob = Pick<
  ResolvedEntry,
  'document' | 'out' | 'targets' | 'templates' | 'source' | 'role' | 'validation' | 'allowRemoteRefs' | 'allowOutsideRefs' | 'allowSymlinkedOut'
> &
  Partial<Pick<ResolvedEntry, 'projectRoot'>>;

/** What one job did (or would do) to its output folder. */
export interface EntryResult<J extends GenerateJob = GenerateJob> {
  entry: J;
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

/** Whether runs may read and write the project's content-hash cache: not with `--no-cache`, nor with CODEGEN_CACHE=0. */
export function cacheEnabled(flags: { cache: boolean }, io: Pick<CliIO, 'env'>): boolean {
  return flags.cache && io.env.CODEGEN_CACHE !== '0';
}

/** The project's cache (node_modules/.cache/codegen), or none when disabled. */
export function openProjectCache(flags: { cache: boolean }, io: Pick<CliIO, 'env' | 'cwd'>): Cache {
  return cacheEnabled(flags, io) ? openCache(defaultCacheDir(io.cwd, io.env)) : disabledCache;
}

/**
 * Generates one job in memory and compares the files with its folder; in write mode applies the
 * plan (atomically: every file goes to a temporary name first). A failing job writes nothing and
 * keeps the previous output; its error is returned, not thrown, so one bad document never hides
 * the results of the others.
 */
export async function runEntry<J extends GenerateJob>(entry: J, context: RunContext): Promise<EntryResult<J>> {
  const started = performance.now();
  const result: EntryResult<J> = { entry, status: 'ok', created: [], updated: [], unchanged: [], removed: [], diagnostics: [], inputs: [], fromCache: false, elapsedMs: 0, exitCode: ExitCode.ok };
  try {
    const generated = await generateFiles({
      // Messages name the document as every other file: relative to where the user stands when inside it.
      document: displayPathOf(entry.document, context.cwd),
      targets: entry.targets,
      templatesDir: entry.templates,
      eventSource: entry.source,
      role: entry.role,
      validation: entry.validation,
      load: { allowRemoteRefs: entry.allowRemoteRefs, allowOutsideRefs: entry.allowOutsideRefs, projectRoot: entry.projectRoot, cwd: context.cwd },
      cache: context.cache,
    });
    result.inputs = generated.inputs;
    result.fromCache = generated.fromCache;
    result.diagnostics = generated.diagnostics;
    const options: OutputOptions = { generatorVersion: generatorVersion(), protectedPaths: generated.inputs, allowSymlinkedOut: entry.allowSymlinkedOut };
    const plan = await planOutput(entry.out, generated.files, options);
    result.created = plan.created;
    result.updated = plan.updated;
    result.unchanged = plan.unchanged;
    result.removed = plan.removed;
    const changes = plan.written.length + plan.removed.length;
    if (context.mode === 'write' && changes > 0) await applyOutput(plan, generated.files, options);
    if (context.mode === 'check' && changes > 0) {
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
