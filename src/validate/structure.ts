import { createRequire } from 'node:module';
import path from 'node:path';
import type { Diagnostic } from '../errors.js';
import type { DocumentSet } from '../load/document-set.js';
import { parsePointer } from '../load/pointer.js';
import { isRecord } from '../load/json.js';
import { DocumentReader, type Located } from '../load/reader.js';
import { DIST_DIR } from '../package-paths.js';

const require = createRequire(import.meta.url);
// Precompiled by scripts/build-schemas.mjs into <package>/dist/asyncapi-schemas (the same path from src/ and dist/).
const SCHEMAS_DIR = path.join(DIST_DIR, 'asyncapi-schemas');

export const SUPPORTED_VERSIONS = ['2.0.0', '2.1.0', '2.2.0', '2.3.0', '2.4.0', '2.5.0', '2.6.0', '3.0.0', '3.1.0'];

export interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}
export type CompiledValidator = ((data: unknown) => boolean) & { errors?: AjvError[] | null };

/** Loads the validator precompiled at build time (scripts/build-schemas.mjs) for one AsyncAPI version. */
export function loadValidator(version: string): CompiledValidator {
  const module = require(path.join(SCHEMAS_DIR, `${version}.cjs`)) as CompiledValidator | { default: CompiledValidator };
  return typeof module === 'function' ? module : module.default;
}

/**
 * Checks the document's structure against the official AsyncAPI JSON Schema, on the resolved
 * document as @asyncapi/parser does, and reports each error at its source file and pointer.
 */
export function validateStructure(set: DocumentSet): Diagnostic[] {
  const reader = new DocumentReader(set);
  const version = isRecord(set.root.data) ? set.root.data.asyncapi : undefined;
  const rootLocation = { file: set.root.displayPath, pointer: '' };
  if (!isRecord(set.root.data)) {
    return [{ code: 'asyncapi-is-asyncapi', severity: 'error', message: 'the document is not an object: an AsyncAPI document is a YAML or JSON mapping', location: { ...rootLocation, line: 1, column: 1 } }];
  }
  if (typeof version !== 'string') {
    return [{ code: 'asyncapi-is-asyncapi', severity: 'error', message: 'this is not an AsyncAPI document: the "asyncapi" field with the specification version is missing', location: { ...rootLocation, line: 1, column: 1 } }];
  }
  if (!SUPPORTED_VERSIONS.includes(version)) {
    const position = set.root.locate('/asyncapi');
    return [{ code: 'asyncapi-is-asyncapi', severity: 'error', message: `version "${version}" is not supported; supported: ${SUPPORTED_VERSIONS.join(', ')}`, location: { file: set.root.displayPath, pointer: '/asyncapi', ...position } }];
  }
  const validator = loadValidator(version);
  const resolved = resolvedDocument(set).value;
  if (validator(resolved)) return [];
  const seen = new Set<string>();
  return prepareErrors(validator.errors ?? []).map((error) => {
    const at = locatePath(reader, parsePointer(error.instancePath));
    const position = at.node.at.file.locate(at.node.at.pointer);
    return {
      code: 'asyncapi-document-resolved',
      severity: 'error' as const,
      message: `${error.message ?? error.keyword}${at.rest.length ? ` (at ${error.instancePath})` : ''}`,
      location: { file: at.node.at.file.displayPath, pointer: at.node.at.pointer, ...position },
    };
  }).filter((d) => {
    // A shared component is reached once per reference in the resolved document: report it once.
    const key = `${d.message}|${d.location.file}|${d.location.pointer}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * A copy of the document with every `$ref` replaced by its target. A reference that loops back
 * (a recursive schema) stays a `$ref`, which the AsyncAPI schema accepts as a Reference Object.
 */
export function resolveForValidation(
  reader: DocumentReader,
  node: Located,
  path: Set<string>,
  onUnresolved?: (node: Located, error: unknown) => void,
  state: ResolveState = { memo: new Map(), cycleBreaks: 0 },
): unknown {
  let resolved: Located;
  try {
    resolved = reader.resolve(node);
  } catch (error) {
    onUnresolved?.(node, error);
    // An unresolvable reference is reported by the loader or the rules; here it stays a Reference Object.
    return node.value;
  }
  const key = reader.key(resolved);
  if (path.has(key)) {
    state.cycleBreaks++;
    return node.value;
  }
  const value = resolved.value;
  if (value === null || typeof value !== 'object') return value;
  // A component referenced many times is copied once: a 500-channel document otherwise spends a third
  // of its load time here. Only subtrees that did not cut a cycle are reused (those depend on the path).
  const memoized = state.memo.get(key);
  if (memoized !== undefined) return memoized;
  const breaksBefore = state.cycleBreaks;
  path.add(key);
  let out: unknown;
  if (Array.isArray(value)) {
    out = value.map((_, index) => resolveForValidation(reader, reader.rawChild(resolved, index)!, path, onUnresolved, state));
  } else {
    const record: Record<string, unknown> = {};
    for (const name of Object.keys(value)) {
      Object.defineProperty(record, name, { value: resolveForValidation(reader, reader.rawChild(resolved, name)!, path, onUnresolved, state), enumerable: true, writable: true, configurable: true });
    }
    out = record;
  }
  path.delete(key);
  if (state.cycleBreaks === breaksBefore) state.memo.set(key, out);
  return out;
}

interface ResolveState {
  memo: Map<string, unknown>;
  cycleBreaks: number;
}

/** The resolved document of a set, and the `$ref`s that did not resolve (where they are written). */
export interface ResolvedDocument {
  value: unknown;
  unresolved: Array<{ node: Located; error: unknown }>;
}
const resolvedDocuments = new WeakMap<DocumentSet, ResolvedDocument>();

/** resolveForValidation on the root, computed once per document set (structure and rules share it). */
export function resolvedDocument(set: DocumentSet): ResolvedDocument {
  let found = resolvedDocuments.get(set);
  if (!found) {
    const reader = new DocumentReader(set);
    const unresolved: ResolvedDocument['unresolved'] = [];
    found = { value: resolveForValidation(reader, reader.root(), new Set(), (node, error) => unresolved.push({ node, error })), unresolved };
    resolvedDocuments.set(set, found);
  }
  return found;
}

/** Follows a path of the resolved document back into the source files. */
export function locatePath(reader: DocumentReader, segments: string[]): { node: Located; rest: string[] } {
  let node = reader.root();
  for (let i = 0; i < segments.length; i++) {
    let next: Located | undefined;
    try {
      next = reader.child(node, segments[i]!);
    } catch {
      // The path goes through a reference that could not be resolved: point at the reference.
      next = reader.rawChild(node, segments[i]!);
      if (next) return { node: next, rest: segments.slice(i + 1) };
    }
    if (!next) return { node, rest: segments.slice(i) };
    node = next;
  }
  return { node, rest: [] };
}

/** The parser's own clean-up of ajv errors (documentStructure.prepareResults), so both report alike. */
function prepareErrors(errors: AjvError[]): AjvError[] {
  const list = errors.map((e) => ({ ...e }));
  for (let i = 0; i < list.length; i++) {
    const error = list[i]!;
    if (error.keyword === 'additionalProperties') {
      const extra = String(error.params.additionalProperty).replace(/~/g, '~0').replace(/\//g, '~1');
      error.instancePath = `${error.instancePath}/${extra}`;
    } else if (error.keyword === 'required' && error.params.missingProperty === '$ref') {
      list.splice(i, 1);
      i--;
    }
  }
  for (let i = 0; i < list.length; i++) {
    const error = list[i]!;
    const next = list[i + 1];
    if (next && next.instancePath === error.instancePath) {
      list.splice(i + 1, 1);
      i--;
    } else if (i > 0 && (error.keyword === 'oneOf' || (error.keyword === 'required' && error.params.missingProperty === '$ref')) && list[i - 1]!.instancePath.startsWith(error.instancePath)) {
      list.splice(i, 1);
      i--;
    }
  }
  return list;
}
