import path from 'node:path';
import { disabledCache, hashOf, type Cache } from '../cache/cache.js';
import { buildFingerprint, templatesFingerprint } from '../cache/fingerprint.js';
import { usageError, type Diagnostic } from '../errors.js';
import type { GeneratedFile } from '../generators/contract.js';
import { inputFilesOf, loadDocumentSet, type InputFiles, type LoadOptions } from '../load/document-set.js';
import { inputsKeyParts, knownInputs, rememberRefs } from '../cache/refs.js';
import type { Role } from '../model/role.js';
import type { ApiModel } from '../model/types.js';
import { isTarget, TARGET_NAMES } from '../targets/registry.js';
import { stageTimer, type StageTimer } from './timing.js';

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
  // First without parsing: the files' bytes, and their references remembered by content, give the
  // run's key; a hit needs nothing else. Anything unknown or wrong: the full load below.
  const known = await knownInputs(cache, request.document, request.load ?? {});
  timer.lap('inputs');
  const hit = known && fromCache(cache, runCacheKey(known, targets, request), known, timer);
  if (hit) return hit;
  const set = await loadDocumentSet(request.document, request.load);
  timer.lap('load');
  rememberRefs(cache, set);
  const inputs = inputFilesOf(set);
  const runKey = runCacheKey(inputs, targets, request);
  const cached = fromCache(cache, runKey, inputs, timer);
  if (cached) return cached;
  const { renderDocument } = await import('./render-document.js');
  // Loading the later stages' modules is timed apart, so `validate` measures validation only.
  timer.lap('import');
  const { files, model, diagnostics } = await renderDocument(
    set,
    { targets, templatesDir: request.templatesDir, eventSource: request.eventSource, role: request.role ?? 'application', validation: request.validation ?? true, cache },
    timer,
  );
  cache.set('run', runKey, runEntryText(files, diagnostics));
  timer.report();
  return { files, model, diagnostics, inputs: [...set.files.keys()], fromCache: false };
}

function fromCache(cache: Cache, runKey: string, inputs: InputFiles, timer: StageTimer): GenerateResult | undefined {
  const cached = cache.get('run', runKey);
  const entry = cached === undefined ? undefined : readRunEntry(cached);
  if (entry === undefined) return undefined;
  timer.lap('cache-hit');
  timer.report();
  return { files: entry.files, diagnostics: entry.diagnostics, inputs: inputs.files.map((file) => file.id), fromCache: true };
}

/**
 * A run as the cache keeps it: one JSON line (the diagnostics, and each file without its content
 * but with its length), then the contents back to back. Reading slices the contents out of the
 * text instead of parsing half a megabyte of escaped JSON strings (issue 14: the warm run).
 */
const RUN_ENTRY_FORMAT = 'header line, then contents';

function runEntryText(files: GeneratedFile[], diagnostics: Diagnostic[]): string {
  const header = { diagnostics, files: files.map(({ content, ...file }) => [file, content.length] as const) };
  return `${JSON.stringify(header)}\n${files.map((file) => file.content).join('')}`;
}

function readRunEntry(text: string): { files: GeneratedFile[]; diagnostics: Diagnostic[] } | undefined {
  const newline = text.indexOf('\n');
  let header: { diagnostics: Diagnostic[]; files: Array<[Omit<GeneratedFile, 'content'>, number]> };
  try {
    header = JSON.parse(text.slice(0, newline)) as typeof header;
  } catch {
    return undefined; // not an entry of this shape: a miss
  }
  let at = newline + 1;
  const files = header.files.map(([file, length]) => ({ ...file, content: text.slice(at, (at += length)) }));
  return at === text.length ? { files, diagnostics: header.diagnostics } : undefined;
}

/**
 * Everything a run's output depends on: the generator, its templates, the inputs (each file's path
 * from the root's folder and its text, in the order they were found, and the symlinks the references
 * went through) and the options.
 */
function runCacheKey(inputs: InputFiles, targets: string[], request: GenerateRequest): string {
  return hashOf(
    buildFingerprint(),
    RUN_ENTRY_FORMAT,
    request.templatesDir ? templatesFingerprint(request.templatesDir) : '',
    targets.join(','),
    request.eventSource ?? '',
    request.role ?? 'application',
    String(request.validation ?? true),
    ...inputsKeyParts(inputs, (file) => path.relative(inputs.baseDir, file)),
  );
}
