import path from 'node:path';
import { CodegenError, ExitCode, type Diagnostic } from '../errors.js';
import { displayPathOf, loadDocumentSet, type DocumentSet, type LoadOptions } from '../load/document-set.js';
import { buildModel } from '../model/build.js';
import { validateAndModel } from '../pipeline/document.js';
import { generatorVersion } from '../version.js';
import { diffDocuments, findingKey, sortFindings, usesAvro, type AvscModule, type DiffSide } from './engine.js';
import type { DiffReport, FailOn } from './format/report.js';
import type { GitRevision } from '../git.js';
import { applyIgnores, readIgnoreFile } from './ignore.js';
import { registrySide, type RegistryTarget } from './registry-side.js';
import { VERSION_NOT_BUMPED } from './rules/version.js';
import { BASE_INVALID, DOCUMENT_INVALID } from './rules/validation.js';
import { SEVERITY_RANK, type Finding, type Mode } from './types.js';

export interface DiffRequest {
  /** Old documents (files); ignored when `against` is given. */
  oldFiles: string[];
  /** Git revisions to read the old document (and every file it references) from. */
  against: string[];
  newFile: string;
  mode?: Mode;
  transitive: boolean;
  failOn: FailOn;
  /** --ignore; undefined: `.codegen-diff-ignore.yaml` in the working directory when present. */
  ignoreFile?: string;
  /** --no-ignore */
  noIgnore?: boolean;
  load: Omit<LoadOptions, 'readFile'>;
  cwd: string;
  /** The date ignore-file expiries are checked against (default: today). */
  today?: Date;
  /** --against-registry: the old version of each Avro payload is the latest registered under its subject. */
  againstRegistry?: RegistryTarget;
  /** --strict-base: an old version that does not validate stops the command (exit 2) instead of being compared best-effort. */
  strictBase?: boolean;
  /** Readers of `against` revisions the caller opened (and closes); others are opened here. */
  revisions?: Map<string, GitRevision>;
  /** Called with every document set loaded (the caller remembers their references, src/cache/refs.ts). */
  onLoad?: (set: DocumentSet) => void;
}

export interface DiffOutcome {
  report: DiffReport;
  /** Lines for stderr (expired or unused ignore entries). */
  notes: string[];
}

/**
 * `codegen diff` without the terminal: loads and validates every version, compares the new version
 * with each old one, applies the ignore file and computes the exit code. The new version must
 * validate: its errors are findings (exit 1, nothing compared). An old version that does not
 * validate but can be read into the model is compared best-effort, its errors reported as warnings
 * (`--strict-base`: exit 2); one that cannot be read at all means the command could not run (exit 2).
 */
export async function runDiff(request: DiffRequest): Promise<DiffOutcome> {
  const revisions: GitRevision[] = [];
  try {
    const olds: Array<{ label: string; load: () => Promise<LoadedVersion> }> = [];
    if (request.againstRegistry) {
      const target = request.againstRegistry;
      olds.push({
        label: `registry ${target.url}`,
        load: async () => {
          const version = await loadVersion(request.newFile, { ...request.load, cwd: request.cwd }, 'new', true, request.onLoad);
          return { ...version, side: version.side && (await registrySide(version.side, target)).side };
        },
      });
    } else if (request.against.length > 0) {
      for (const ref of request.against) {
        olds.push({
          label: `${ref}:${displayPathOf(path.resolve(request.cwd, request.newFile), request.cwd)}`,
          load: async () => {
            let revision = request.revisions?.get(ref);
            if (!revision) {
              const { openRevision } = await import('../git.js');
              revision = await openRevision(ref, request.newFile, request.cwd);
              revisions.push(revision);
            }
            const version = await loadVersion(request.newFile, { ...request.load, cwd: request.cwd, readFile: revision.readFile }, `old (${ref})`, request.strictBase ?? false, request.onLoad);
            return { ...version, side: version.side && { ...version.side, revision: ref }, revision: ref };
          },
        });
      }
    } else {
      for (const file of request.oldFiles) olds.push({ label: file, load: () => loadVersion(file, { ...request.load, cwd: request.cwd }, `old (${file})`, request.strictBase ?? false, request.onLoad) });
    }
    const [newVersion, ...oldVersions] = await Promise.all([loadVersion(request.newFile, { ...request.load, cwd: request.cwd }, 'new', false, request.onLoad), ...olds.map((o) => o.load())]);
    const newSide = newVersion!.side;
    const oldSides = oldVersions.map((version) => version.side!);
    const avsc = newSide && [newSide, ...oldSides].some((side) => usesAvro(side.model)) ? ((await import('avsc')).default as unknown as AvscModule) : undefined;

    const merged = new Map<string, Finding>();
    const add = (finding: Finding, index: number) => {
      // The same change found against several old versions is one finding (its old location is the first one's).
      const key = findingKey({ ...finding, old: finding.old && { ...finding.old, file: '' } });
      const known = merged.get(key);
      if (known) known.against.push(olds[index]!.label);
      else merged.set(key, { ...finding, against: [olds[index]!.label] });
    };
    for (const finding of DOCUMENT_INVALID.check({ side: 'new', errors: newVersion!.errors })) merged.set(findingKey(finding), finding);
    oldVersions.forEach((version, index) => {
      for (const finding of BASE_INVALID.check({ side: 'old', errors: version.errors, revision: version.revision })) add(finding, index);
    });
    oldSides.forEach((oldSide, index) => {
      if (!newSide) return; // the new version does not validate: its errors are the findings
      for (const finding of diffDocuments({ old: oldSide, new: newSide, options: { mode: request.mode }, avsc })) {
        // Against the registry both sides are the same document: its version is not what changed.
        if (request.againstRegistry && finding.ruleId === VERSION_NOT_BUMPED.id) continue;
        add(finding, index);
      }
    });
    const ignore = request.noIgnore ? undefined : await readIgnoreFile(request.ignoreFile, request.cwd);
    const applied = applyIgnores(sortFindings([...merged.values()]), ignore, request.today);
    const findings = applied.findings.map(orderKeys);
    const notes = applied.notes;
    const bestEffort = olds.filter((_, index) => oldVersions[index]!.errors.length > 0).map((o) => o.label);
    const active = findings.filter((f) => !f.ignored);
    const failing = request.failOn !== 'never' && active.some((f) => SEVERITY_RANK[f.severity] >= SEVERITY_RANK[request.failOn as Exclude<FailOn, 'never'>]);
    const report: DiffReport = {
      reportVersion: 1,
      tool: { name: 'codegen', version: generatorVersion() },
      old: olds.map((o) => o.label),
      new: request.newFile,
      mode: request.mode ?? 'direction',
      transitive: request.transitive,
      failOn: request.failOn,
      ...(bestEffort.length > 0 ? { bestEffort } : {}),
      summary: {
        breaking: active.filter((f) => f.severity === 'breaking').length,
        warning: active.filter((f) => f.severity === 'warning').length,
        info: active.filter((f) => f.severity === 'info').length,
        ignored: findings.length - active.length,
      },
      exitCode: failing ? 1 : 0,
      findings,
    };
    return { report, notes };
  } finally {
    for (const revision of revisions) revision.close();
  }
}

/** The same key order in every finding, for readable JSON. */
function orderKeys(f: Finding): Finding {
  const out: Finding = { ruleId: f.ruleId, severity: f.severity, category: f.category, message: f.message, impact: f.impact } as Finding;
  if (f.direction) out.direction = f.direction;
  if (f.mode) out.mode = f.mode;
  out.operations = f.operations;
  if (f.messageId) out.messageId = f.messageId;
  if (f.new) out.new = f.new;
  if (f.old) out.old = f.old;
  out.against = f.against;
  if (f.ignored) out.ignored = f.ignored;
  return out;
}

/** One version: its model when it has one, and its validation errors (the new one: none means valid). */
interface LoadedVersion {
  side?: DiffSide;
  errors: Diagnostic[];
  revision?: string;
}

/**
 * Loads and validates one version. The new version's errors are returned (the gate reports them);
 * an old version is read into the model despite its errors (best-effort) unless `strict`; an old
 * version that cannot be read at all, or is not AsyncAPI, stops the command (exit 2).
 */
async function loadVersion(file: string, options: LoadOptions, role: string, strict: boolean, onLoad?: (set: DocumentSet) => void): Promise<LoadedVersion> {
  const isNew = role === 'new';
  let set: DocumentSet;
  try {
    // Positions are recorded during the one parse: every finding gets a line and column.
    set = await loadDocumentSet(file, { ...options, positions: true });
    onLoad?.(set);
  } catch (error) {
    if (isNew && error instanceof CodegenError && error.exitCode === ExitCode.findings) return { errors: error.diagnostics };
    throw cannotCompare(error, role, file, 'could not be read');
  }
  try {
    const { model } = validateAndModel(set);
    return { side: { model, set }, errors: [] };
  } catch (error) {
    if (!(error instanceof CodegenError) || error.exitCode !== ExitCode.findings) throw error;
    const errors = error.diagnostics.filter((d) => d.severity === 'error');
    if (isNew) return { errors };
    if (strict) throw cannotCompare(error, role, file, 'is not a valid AsyncAPI document (--strict-base)');
    if (!/^[23]\./.test(String((set.root.data as { asyncapi?: unknown } | null)?.asyncapi ?? ''))) throw cannotCompare(error, role, file, 'is not an AsyncAPI 2.x or 3.x document');
    try {
      return { side: { model: buildModel(set), set }, errors };
    } catch (buildError) {
      throw cannotCompare(error, role, file, `does not validate and cannot be read into the model (${(buildError as Error).message})`);
    }
  }
}

/** Exit 2: the command could not run, with the reason and the document's own diagnostics. */
function cannotCompare(error: unknown, role: string, file: string, reason: string): unknown {
  if (!(error instanceof CodegenError) || error.exitCode === ExitCode.usage) return error;
  const headline: Diagnostic = { code: 'E_DIFF_INVALID_DOCUMENT', severity: 'error', message: `cannot compare: the ${role} document ${file} ${reason} (see below)` };
  return new CodegenError(ExitCode.usage, [headline, ...error.diagnostics]);
}

export type { DiffReport, FailOn } from './format/report.js';
export type { Finding, Mode, Severity } from './types.js';
