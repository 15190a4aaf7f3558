import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ResolvedConfig, ResolvedEntry } from '../config/types.js';
import type { DiffReport } from '../diff/format/report.js';
import { CodegenError, ExitCode, type Diagnostic } from '../errors.js';
import { existsAtRevision, unchangedSince } from '../git.js';

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
      load: { allowRemoteRefs: entry.allowRemoteRefs, allowOutsideRefs: entry.allowOutsideRefs, projectRoot: entry.projectRoot },
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
