import path from 'node:path';
import { CodegenError, ExitCode, type Diagnostic } from '../errors.js';
import { isRecord } from '../load/json.js';
import { isTarget, TARGET_NAMES } from '../targets/registry.js';
import type { CompatibilityMode, ResolvedEntry } from './types.js';

/** What the validator needs to name the place of an error. */
export interface ValidationContext {
  /** The config file as shown to the user. */
  displayPath: string;
  /** Folder relative paths are resolved from. */
  dir: string;
  pointerPrefix: string;
  locate?: (pointer: string) => { line: number; column: number } | undefined;
}

const ENTRY_OPTION_KEYS = ['targets', 'templates', 'source', 'role', 'validation', 'compatibility', 'allowRemoteRefs', 'allowOutsideRefs', 'allowSymlinkedOut'] as const;
const TOP_KEYS = ['$schema', 'documents', ...ENTRY_OPTION_KEYS];
const DOCUMENT_KEYS = ['document', 'out', ...ENTRY_OPTION_KEYS];
const COMPATIBILITY_KEYS = ['mode', 'baseline', 'transitive', 'failOn', 'ignore'];
const MODES: CompatibilityMode[] = ['backward', 'forward', 'full', 'none'];
const FAIL_ON = ['breaking', 'warning', 'info', 'never'] as const;
const ROLES = ['application', 'client'] as const;

type Path = Array<string | number>;
type Options = Record<string, unknown>;

/**
 * Checks a config's data and resolves it into entries. Every problem is reported at once, each
 * naming the file, the key (`documents[1].targets[0]`), its JSON pointer and, for JSON and YAML
 * configs, its line: exit 2, since the command cannot run with a broken config.
 */
export function validateConfig(data: unknown, context: ValidationContext): ResolvedEntry[] {
  const problems: Diagnostic[] = [];
  const report = (code: string, at: Path, message: string) => {
    const pointer = context.pointerPrefix + at.map((p) => '/' + String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
    const position = context.locate?.(pointer);
    problems.push({
      code,
      severity: 'error',
      message: at.length > 0 ? `${keyName(at)}: ${message}` : message,
      location: { file: context.displayPath, pointer, ...(position ? { line: position.line, column: position.column } : {}) },
    });
  };

  if (!isRecord(data)) {
    report('E_CONFIG_TYPE', [], `the config must be an object with a "documents" list, got ${describe(data)}`);
    throw new CodegenError(ExitCode.usage, problems);
  }
  checkKeys(data, [], TOP_KEYS, report);
  const defaults = readOptions(data, [], report);
  const entries: ResolvedEntry[] = [];
  const documents = data.documents;
  if (documents === undefined) report('E_CONFIG_MISSING', [], 'missing required key "documents" (a list of { document, targets, out })');
  else if (!Array.isArray(documents)) report('E_CONFIG_TYPE', ['documents'], `must be a list of { document, targets, out }, got ${describe(documents)}`);
  else if (documents.length === 0) report('E_CONFIG_VALUE', ['documents'], 'is empty: list at least one { document, targets, out }');
  else {
    documents.forEach((entry, index) => {
      const at: Path = ['documents', index];
      if (!isRecord(entry)) {
        report('E_CONFIG_TYPE', at, `must be an object { document, targets, out }, got ${describe(entry)}`);
        return;
      }
      checkKeys(entry, at, DOCUMENT_KEYS, report);
      const document = requiredString(entry, at, 'document', report);
      const out = requiredString(entry, at, 'out', report);
      const options = { ...defaults, ...readOptions(entry, at, report) };
      if (document === undefined || out === undefined) return;
      entries.push(resolveEntry(index, document, out, options, context));
    });
  }
  checkDistinctOutputs(entries, context.dir, report);
  if (problems.length > 0) throw new CodegenError(ExitCode.usage, problems);
  return entries;
}

type Report = (code: string, at: Path, message: string) => void;

/** The entry options at one level (top level or entry), type-checked; absent keys are left out. */
function readOptions(record: Record<string, unknown>, at: Path, report: Report): Options {
  const options: Options = {};
  const has = (key: string) => record[key] !== undefined;
  if (has('targets')) {
    const value = record.targets;
    const list = typeof value === 'string' ? value.split(',').map((t) => t.trim()).filter(Boolean) : value;
    if (!Array.isArray(list)) report('E_CONFIG_TYPE', [...at, 'targets'], `must be a list of targets (${TARGET_NAMES.join(', ')}), got ${describe(value)}`);
    else {
      list.forEach((target, i) => {
        const where = typeof value === 'string' ? [...at, 'targets'] : [...at, 'targets', i];
        if (typeof target !== 'string') report('E_CONFIG_TYPE', where, `must be a target name (${TARGET_NAMES.join(', ')}), got ${describe(target)}`);
        else if (!isTarget(target)) report('E_CONFIG_VALUE', where, `unknown target "${target}"${suggestion(target, TARGET_NAMES)}; choose from ${TARGET_NAMES.join(', ')}`);
      });
      options.targets = [...new Set(list.filter((t): t is string => typeof t === 'string'))];
    }
  }
  for (const key of ['templates', 'source'] as const) {
    if (!has(key)) continue;
    if (typeof record[key] !== 'string' || record[key] === '') report('E_CONFIG_TYPE', [...at, key], `must be a non-empty string, got ${describe(record[key])}`);
    else options[key] = record[key];
  }
  for (const key of ['validation', 'allowRemoteRefs', 'allowOutsideRefs', 'allowSymlinkedOut'] as const) {
    if (!has(key)) continue;
    if (typeof record[key] !== 'boolean') report('E_CONFIG_TYPE', [...at, key], `must be true or false, got ${describe(record[key])}`);
    else options[key] = record[key];
  }
  if (has('role')) {
    if (!ROLES.includes(record.role as (typeof ROLES)[number])) report('E_CONFIG_VALUE', [...at, 'role'], `must be one of ${ROLES.map((r) => `"${r}"`).join(', ')}, got ${describe(record.role)}`);
    else options.role = record.role;
  }
  if (has('compatibility')) options.compatibility = readCompatibility(record.compatibility, [...at, 'compatibility'], report);
  return options;
}

function readCompatibility(value: unknown, at: Path, report: Report): Options | undefined {
  if (!isRecord(value)) {
    report('E_CONFIG_TYPE', at, `must be an object { mode, baseline, transitive, failOn, ignore }, got ${describe(value)}`);
    return undefined;
  }
  checkKeys(value, at, COMPATIBILITY_KEYS, report);
  const result: Options = {};
  if (value.mode !== undefined) {
    if (!MODES.includes(value.mode as CompatibilityMode)) report('E_CONFIG_VALUE', [...at, 'mode'], `must be one of ${MODES.map((m) => `"${m}"`).join(', ')} (leave it out to judge by direction), got ${describe(value.mode)}`);
    else result.mode = value.mode;
  }
  if (value.baseline !== undefined) {
    const list = typeof value.baseline === 'string' ? [value.baseline] : value.baseline;
    if (!Array.isArray(list) || list.length === 0 || list.some((ref) => typeof ref !== 'string' || ref.trim() === '' || ref.startsWith('-'))) {
      report('E_CONFIG_TYPE', [...at, 'baseline'], `must be a git revision (e.g. "origin/main") or a non-empty list of them, got ${describe(value.baseline)}`);
    } else result.baseline = list;
  }
  if (value.transitive !== undefined) {
    if (typeof value.transitive !== 'boolean') report('E_CONFIG_TYPE', [...at, 'transitive'], `must be true or false, got ${describe(value.transitive)}`);
    else result.transitive = value.transitive;
  }
  if (value.failOn !== undefined) {
    if (!FAIL_ON.includes(value.failOn as (typeof FAIL_ON)[number])) report('E_CONFIG_VALUE', [...at, 'failOn'], `must be one of ${FAIL_ON.map((f) => `"${f}"`).join(', ')}, got ${describe(value.failOn)}`);
    else result.failOn = value.failOn;
  }
  if (value.ignore !== undefined) {
    if (value.ignore !== false && (typeof value.ignore !== 'string' || value.ignore === '')) report('E_CONFIG_TYPE', [...at, 'ignore'], `must be a file name or false, got ${describe(value.ignore)}`);
    else result.ignore = value.ignore;
  }
  return result;
}

function resolveEntry(index: number, document: string, out: string, options: Options, context: ValidationContext): ResolvedEntry {
  const compatibility = (options.compatibility ?? {}) as Options;
  const baseline = (compatibility.baseline as string[] | undefined) ?? [];
  const ignore = compatibility.ignore as string | false | undefined;
  return {
    index,
    label: document,
    document: path.resolve(context.dir, document),
    out: path.resolve(context.dir, out),
    targets: ((options.targets as string[] | undefined) ?? []).slice().sort(),
    templates: typeof options.templates === 'string' ? path.resolve(context.dir, options.templates) : undefined,
    source: options.source as string | undefined,
    role: (options.role as ResolvedEntry['role'] | undefined) ?? 'application',
    validation: (options.validation as boolean | undefined) ?? true,
    compatibility: {
      mode: compatibility.mode as CompatibilityMode | undefined,
      baseline,
      transitive: (compatibility.transitive as boolean | undefined) ?? baseline.length > 1,
      failOn: (compatibility.failOn as ResolvedEntry['compatibility']['failOn'] | undefined) ?? 'breaking',
      ignore: typeof ignore === 'string' ? path.resolve(context.dir, ignore) : ignore,
    },
    allowRemoteRefs: (options.allowRemoteRefs as boolean | undefined) ?? false,
    allowOutsideRefs: (options.allowOutsideRefs as boolean | undefined) ?? false,
    allowSymlinkedOut: (options.allowSymlinkedOut as boolean | undefined) ?? false,
    projectRoot: context.dir,
  };
}

/** Two entries writing one folder would remove each other's files (each keeps a manifest there). */
function checkDistinctOutputs(entries: ResolvedEntry[], dir: string, report: Report): void {
  const seen = new Map<string, ResolvedEntry>();
  for (const entry of entries) {
    const first = seen.get(entry.out);
    if (first) report('E_CONFIG_VALUE', ['documents', entry.index, 'out'], `"${path.relative(dir, entry.out) || '.'}" is also the output folder of documents[${first.index}]; each document needs a folder of its own`);
    else seen.set(entry.out, entry);
    if (entry.out === entry.document) report('E_CONFIG_VALUE', ['documents', entry.index, 'out'], 'is the document itself');
  }
}

function checkKeys(record: Record<string, unknown>, at: Path, known: readonly string[], report: Report): void {
  for (const key of Object.keys(record)) {
    if (known.includes(key)) continue;
    const where = at.length > 0 ? ` in ${keyName(at)}` : '';
    report('E_CONFIG_UNKNOWN_KEY', [...at, key], `unknown key "${key}"${where}${suggestion(key, known)}; allowed: ${known.filter((k) => k !== '$schema').join(', ')}`);
  }
}

function requiredString(record: Record<string, unknown>, at: Path, key: string, report: Report): string | undefined {
  const value = record[key];
  if (value === undefined) {
    report('E_CONFIG_MISSING', at, `missing required key "${key}"`);
    return undefined;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    report('E_CONFIG_TYPE', [...at, key], `must be a non-empty string (a path relative to the config file), got ${describe(value)}`);
    return undefined;
  }
  return value;
}

/** `documents[0].compatibility.mode` */
export function keyName(at: Path): string {
  return at.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  return `${typeof value} ${String(value)}`;
}


/** ` (did you mean "targets"?)` for a near miss. */
function suggestion(given: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(given.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

/** Edit distance where swapping two neighbouring letters counts as one edit ("nast" → "nats"). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
