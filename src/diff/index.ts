import path from 'node:path';
import { CodegenError, ExitCode, type Diagnostic } from '../errors.js';
import type { LoadOptions } from '../load/document-set.js';
import { displayPathOf } from '../load/document-set.js';
import { loadValidatedDocument } from '../pipeline/document.js';
import { generatorVersion } from '../version.js';
import { diffDocuments, findingKey, sortFindings, usesAvro, type AvscModule, type DiffSide } from './engine.js';
import type { DiffReport, FailOn } from './format/report.js';
import type { GitRevision } from '../git.js';
import { applyIgnores, readIgnoreFile } from './ignore.js';
import { registrySide, type RegistryTarget } from './registry-side.js';
import { VERSION_NOT_BUMPED } from './rules/document.js';
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
}

export interface DiffOutcome {
  report: DiffReport;
  /** Lines for stderr (expired or unused ignore entries). */
  notes: string[];
}

/**
 * `codegen diff` without the terminal: loads and validates every version (an invalid one means
 * the command could not run: exit 2, never "no breaking changes"), compares the new version with
 * each old one, applies the ignore file and computes the exit code.
 */
export async function runDiff(request: DiffRequest): Promise<DiffOutcome> {
  const revisions: GitRevision[] = [];
  try {
    const olds: Array<{ label: string; load: () => Promise<DiffSide> }> = [];
    if (request.againstRegistry) {
      const target = request.againstRegistry;
      olds.push({
        label: `registry ${target.url}`,
        load: async () => (await registrySide(await loadSide(request.newFile, { ...request.load, cwd: request.cwd }, 'new'), target)).side,
      });
    } else if (request.against.length > 0) {
      for (const ref of request.against) {
        olds.push({
          label: `${ref}:${displayPathOf(path.resolve(request.cwd, request.newFile), request.cwd)}`,
          load: async () => {
            const { openRevision } = await import('../git.js');
            const revision = await openRevision(ref, request.newFile, request.cwd);
            revisions.push(revision);
            const side = await loadSide(request.newFile, { ...request.load, cwd: request.cwd, readFile: revision.readFile }, `old (${ref})`);
            return { ...side, revision: ref };
          },
        });
      }
    } else {
      for (const file of request.oldFiles) olds.push({ label: file, load: () => loadSide(file, { ...request.load, cwd: request.cwd }, `old (${file})`) });
    }
    const [newSide, ...oldSides] = await Promise.all([loadSide(request.newFile, { ...request.load, cwd: request.cwd }, 'new'), ...olds.map((o) => o.load())]);
    const avsc = [newSide!, ...oldSides].some((side) => usesAvro(side.model)) ? ((await import('avsc')).default as unknown as AvscModule) : undefined;

    const merged = new Map<string, Finding>();
    oldSides.forEach((oldSide, index) => {
      for (const finding of diffDocuments({ old: oldSide, new: newSide!, options: { mode: request.mode }, avsc })) {
        // Against the registry both sides are the same document: its version is not what changed.
        if (request.againstRegistry && finding.ruleId === VERSION_NOT_BUMPED.id) continue;
        // The same change found against several old versions is one finding (its old location is the first one's).
        const key = findingKey({ ...finding, old: finding.old && { ...finding.old, file: '' } });
        const known = merged.get(key);
        if (known) known.against.push(olds[index]!.label);
        else merged.set(key, { ...finding, against: [olds[index]!.label] });
      }
    });
    const ignore = request.noIgnore ? undefined : await readIgnoreFile(request.ignoreFile, request.cwd);
    const applied = applyIgnores(sortFindings([...merged.values()]), ignore, request.today);
    const findings = applied.findings.map(orderKeys);
    const notes = applied.notes;
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

/** Loads and validates one version; an invalid document cannot be compared (exit 2). */
async function loadSide(file: string, options: LoadOptions, role: string): Promise<DiffSide> {
  try {
    const loaded = await loadValidatedDocument(file, options);
    return { model: loaded.model, set: loaded.set };
  } catch (error) {
    if (error instanceof CodegenError && error.exitCode !== ExitCode.usage) {
      const headline: Diagnostic = {
        code: 'E_DIFF_INVALID_DOCUMENT',
        severity: 'error',
        message: `cannot compare: the ${role} document ${file} could not be loaded or is not a valid AsyncAPI document (see below)`,
      };
      throw new CodegenError(ExitCode.usage, [headline, ...error.diagnostics]);
    }
    throw error;
  }
}

export type { DiffReport, FailOn } from './format/report.js';
export type { Finding, Mode, Severity } from './types.js';
