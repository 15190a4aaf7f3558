import path from 'node:path';
import { disabledCache, hashOf, type Cache } from '../cache/cache.js';
import { buildFingerprint, templatesFingerprint } from '../cache/fingerprint.js';
import { usageError, type Diagnostic } from '../errors.js';
import type { GeneratedFile } from '../generators/contract.js';
import { loadDocumentSet, type DocumentSet, type LoadOptions } from '../load/document-set.js';
import type { Role } from '../model/role.js';
import type { ApiModel } from '../model/types.js';
import { isTarget, TARGET_NAMES } from '../targets/registry.js';
import { stageTimer } from './timing.js';

export interface GenerateRequest {
  document: string;
  targets: string[];
  templatesDir?: string;
  eventSource?: string;
  /** Generate for the application the document describes (default) or for a client of it. */
  role?: Role;
  /** false: generated clients do not validate unless a call or client option asks them to. */
  validation?: boolean;
  load?: LoadOptions;
  /** Where formatted files and whole runs are remembered (see src/cache). */
  cache?: Cache;
}

export interface GenerateResult {
  files: GeneratedFile[];
  /** Absent when the whole run came from the cache. */
  model?: ApiModel;
  diagnostics: Diagnostic[];
  /** Absolute paths of the document's files, for watchers and hooks. */
  inputs: string[];
  fromCache: boolean;
}

/** Checks the requested targets before any work is done. No target: types, validators, envelope and operation specs only. */
export function checkTargets(targets: string[]): void {
  for (const target of targets) {
    if (!isTarget(target)) throw usageError('E_UNKNOWN_TARGET', `unknown target "${target}"; choose from ${TARGET_NAMES.join(', ')}`);
  }
}

/**
 * The whole pipeline in memory: load → validate → model → render → format. Returns files; writes nothing.
 * If any generator fails, nothing is returned, so nothing is written. A run whose inputs were seen
 * before is answered from the content-hash cache without loading the heavy stages at all.
 */
export async function generateFiles(request: GenerateRequest): Promise<GenerateResult> {
  const timer = stageTimer();
  checkTargets(request.targets);
  const targets = [...new Set(request.targets)].sort();
  const cache = request.cache ?? disabledCache;
  const set = await loadDocumentSet(request.document, request.load);
  timer.lap('load');
  const inputs = [...set.files.keys()];
  const runKey = runCacheKey(set, targets, request);
  const cached = cache.get('run', runKey);
  if (cached !== undefined) {
    const entry = JSON.parse(cached) as { files: GeneratedFile[]; diagnostics: Diagnostic[] };
    timer.lap('cache-hit');
    timer.report();
    return { files: entry.files, diagnostics: entry.diagnostics, inputs, fromCache: true };
  }
  const { renderDocument } = await import('./render-document.js');
  // Loading the later stages' modules is timed apart, so `validate` measures validation only.
  timer.lap('import');
  const { files, model, diagnostics } = await renderDocument(
    set,
    { targets, templatesDir: request.templatesDir, eventSource: request.eventSource, role: request.role ?? 'application', validation: request.validation ?? true, cache },
    timer,
  );
  cache.set('run', runKey, JSON.stringify({ files, diagnostics }));
  timer.report();
  return { files, model, diagnostics, inputs, fromCache: false };
}

/** Everything a run's output depends on: the generator, its templates, the inputs and the options. */
function runCacheKey(set: DocumentSet, targets: string[], request: GenerateRequest): string {
  const documents = [...set.files.values()].map((file) => `${path.relative(set.baseDir, file.id)}\n${file.text}`);
  return hashOf(
    buildFingerprint(),
    request.templatesDir ? templatesFingerprint(request.templatesDir) : '',
    targets.join(','),
    request.eventSource ?? '',
    request.role ?? 'application',
    String(request.validation ?? true),
    ...documents,
  );
}
