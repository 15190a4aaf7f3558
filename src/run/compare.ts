import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { disabledCache, hashOf, type Cache } from '../cache/cache.js';
import { buildFingerprint } from '../cache/fingerprint.js';
import { inputsKeyParts, knownInputs, rememberRefs } from '../cache/refs.js';
import type { ResolvedConfig, ResolvedEntry } from '../config/types.js';
import type { DiffRequest } from '../diff/index.js';
import type { DiffReport } from '../diff/format/report.js';
import { CodegenError, ExitCode, type Diagnostic } from '../errors.js';
import { openRevision, unchangedSince, type GitRevision } from '../git.js';
import type { InputFiles } from '../load/document-set.js';

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
  options: { inputs?: string[]; cache?: Cache } = {},
): Promise<CompatibilityResult> {
  const result: CompatibilityResult = { entry, against: [], notes: [], exitCode: ExitCode.ok };
  const shown = path.relative(cwd, entry.document) || entry.document;
  const inputs = options.inputs ?? [];
  const cache = options.cache ?? disabledCache;
  // One reader (`git rev-parse`, then one `git cat-file --batch`) per revision answers everything
  // asked of it below: whether the document exists there, its files' bytes, and the diff's reads.
  const revisions = new Map<string, GitRevision>();
  try {
    for (const ref of refs) revisions.set(ref, await openRevision(ref, shown, cwd));
    for (const ref of refs) {
      if ((await revisions.get(ref)!.readFile(entry.document)) !== undefined) result.against.push(ref);
      else result.notes.push(`${shown} does not exist at ${ref}: a new document, nothing to compare`);
    }
    if (result.against.length === 0) return result;
    const ignore = entry.compatibility.ignore;
    const defaultIgnore = path.join(config.dir, '.codegen-diff-ignore.yaml');
    const ignoreFile = typeof ignore === 'string' ? ignore : ignore === undefined && existsSync(defaultIgnore) ? defaultIgnore : undefined;
    const request: DiffRequest = {
      oldFiles: [],
      against: result.against,
      newFile: shown,
      mode: entry.compatibility.mode,
      transitive: result.against.length > 1 || entry.compatibility.transitive,
      failOn: entry.compatibility.failOn,
      strictBase: entry.compatibility.strictBase,
      ignoreFile,
      noIgnore: ignoreFile === undefined,
      load: { allowRemoteRefs: entry.allowRemoteRefs, allowOutsideRefs: entry.allowOutsideRefs, projectRoot: entry.projectRoot },
      cwd,
      revisions,
      onLoad: (set) => rememberRefs(cache, set),
    };
    const known = await knownVersions(cache, request);
    // Nothing of the document changed (only its generated code or the config did): no diff to run.
    const unchanged = known ? known.olds.every((old) => sameFiles(old, known.new)) : inputs.length > 0 && (await Promise.all(result.against.map((ref) => unchangedSince(inputs, ref)))).every(Boolean);
    if (unchanged) {
      result.notes.push(`${shown} and the files it references are unchanged since ${result.against.join(', ')}: nothing to compare`);
      result.against = [];
      return result;
    }
    const key = known && diffKey(request, known);
    const remembered = key === undefined ? undefined : cache.get('diff', key);
    const { report, notes } = remembered !== undefined ? (JSON.parse(remembered) as { report: DiffReport; notes: string[] }) : await diffAndRemember(request, cache, key);
    result.report = report;
    result.notes.push(...notes);
    result.exitCode = report.exitCode;
  } catch (error) {
    if (!(error instanceof CodegenError)) throw error;
    result.error = { exitCode: error.exitCode, diagnostics: error.diagnostics };
    result.exitCode = error.exitCode;
  } finally {
    for (const revision of revisions.values()) revision.close();
  }
  return result;
}

async function diffAndRemember(request: DiffRequest, cache: Cache, key: string | undefined): Promise<{ report: DiffReport; notes: string[] }> {
  const { runDiff } = await import('../diff/index.js');
  const outcome = await runDiff(request);
  // The references of both versions are remembered now: the next run finds the key without parsing.
  const known = key ?? (await knownVersions(cache, request).then((versions) => versions && diffKey(request, versions)));
  if (known !== undefined) cache.set('diff', known, JSON.stringify(outcome));
  return outcome;
}

interface KnownVersions {
  new: InputFiles;
  olds: InputFiles[];
}

/**
 * The files of the new version (working tree) and of each old one (git), unparsed, when every
 * file's references are remembered (src/cache/refs.ts); undefined otherwise, or when a version
 * cannot be read that way (the diff then says why).
 */
async function knownVersions(cache: Cache, request: DiffRequest): Promise<KnownVersions | undefined> {
  if (cache === disabledCache) return undefined;
  const load = { ...request.load, cwd: request.cwd };
  const fresh = await knownInputs(cache, request.newFile, load);
  if (!fresh) return undefined;
  const olds: InputFiles[] = [];
  for (const ref of request.against) {
    const revision = request.revisions?.get(ref);
    const old = revision && (await knownInputs(cache, request.newFile, { ...load, readFile: revision.readFile }));
    if (!old) return undefined;
    olds.push(old);
  }
  return { new: fresh, olds };
}

function sameFiles(a: InputFiles, b: InputFiles): boolean {
  return a.files.length === b.files.length && a.files.every((file, i) => file.id === b.files[i]!.id && file.text === b.files[i]!.text);
}

/**
 * Everything a comparison's report depends on: the generator (its rules), every file of every
 * version (path and text), the options, the ignore file's text and the day (entries expire), the
 * folder paths are shown from.
 */
function diffKey(request: DiffRequest, versions: KnownVersions): string | undefined {
  let ignore = '';
  if (request.ignoreFile !== undefined) {
    try {
      ignore = `${request.ignoreFile}\n${new Date().toISOString().slice(0, 10)}\n${readFileSync(path.resolve(request.cwd, request.ignoreFile), 'utf8')}`;
    } catch {
      return undefined; // the diff reports an unreadable ignore file
    }
  }
  const { onLoad: _onLoad, revisions: _revisions, ...options } = request;
  const sides = [versions.new, ...versions.olds].flatMap((inputs) => ['version', ...inputsKeyParts(inputs, (file) => file)]);
  return hashOf(buildFingerprint(), JSON.stringify(options), ignore, ...sides);
}

/** Loads the diff engine now, for a comparison to come that no remembered report can answer (no cache). */
export function prefetchDiffEngine(): void {
  void import('../diff/index.js').catch(() => undefined);
}
