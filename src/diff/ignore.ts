import { promises as fs } from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.js';
import { parseSourceText } from '../load/source-file.js';
import { ruleById } from './registry.js';
import type { Finding } from './types.js';

export const DEFAULT_IGNORE_FILE = '.codegen-diff-ignore.yaml';

/**
 * One accepted finding:
 *   - rule: SCHEMA_REQUIRED_ADDED
 *     pointer: /components/schemas/Order/required
 *     reason: every producer sends amount since 2026-10
 *     expires: 2026-12-31     # optional; from the next day on, the entry stops applying
 *     file: asyncapi.yaml     # optional; the file the pointer is in
 */
export interface IgnoreEntry {
  rule: string;
  pointer: string;
  reason: string;
  expires?: string;
  file?: string;
  /** Position in the file, for messages. */
  line?: number;
}

export interface IgnoreFile {
  path: string;
  entries: IgnoreEntry[];
}

export interface IgnoreOutcome {
  findings: Finding[];
  /** Notes for stderr: expired entries, entries that matched nothing. */
  notes: string[];
}

/**
 * Reads the ignore file named by --ignore (must exist), or the default one in the working
 * directory when present. A malformed file cannot run (exit 2): silently ignoring nothing would
 * fail builds, ignoring too much would hide breaks.
 */
export async function readIgnoreFile(explicit: string | undefined, cwd: string): Promise<IgnoreFile | undefined> {
  const file = path.resolve(cwd, explicit ?? DEFAULT_IGNORE_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    if (explicit === undefined) return undefined;
    throw usageError('E_IGNORE_FILE', `cannot read the ignore file ${explicit}`, { file: explicit, pointer: '' });
  }
  const shown = explicit ?? DEFAULT_IGNORE_FILE;
  const source = parseSourceText(file, shown, text.trim() === '' ? '{}' : text);
  const data = source.data as unknown;
  const fail = (message: string, pointer: string) => {
    throw usageError('E_IGNORE_FILE', message, { file: shown, pointer, ...source.locate(pointer) });
  };
  if (data === null || typeof data !== 'object' || Array.isArray(data)) fail('the ignore file must be a mapping with an `ignore:` list', '');
  const record = data as Record<string, unknown>;
  for (const key of Object.keys(record)) if (key !== 'ignore') fail(`unknown key "${key}" (expected only \`ignore:\`)`, `/${key}`);
  const list = record.ignore ?? [];
  if (!Array.isArray(list)) fail('`ignore:` must be a list of entries', '/ignore');
  const entries: IgnoreEntry[] = (list as unknown[]).map((item, index) => {
    const at = `/ignore/${index}`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) fail('each entry is a mapping with rule, pointer and reason', at);
    const e = item as Record<string, unknown>;
    for (const key of Object.keys(e)) if (!['rule', 'pointer', 'reason', 'expires', 'file'].includes(key)) fail(`unknown key "${key}" (expected rule, pointer, reason, expires, file)`, `${at}/${key}`);
    if (typeof e.rule !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(e.rule)) fail('`rule` must be a rule id such as SCHEMA_REQUIRED_ADDED', `${at}/rule`);
    if (!ruleById(e.rule as string)) fail(`unknown rule "${e.rule as string}" (see docs/diff.md for the list)`, `${at}/rule`);
    if (typeof e.pointer !== 'string' || (e.pointer !== '' && !e.pointer.startsWith('/'))) fail('`pointer` must be a JSON pointer such as /components/schemas/Order/required', `${at}/pointer`);
    if (typeof e.reason !== 'string' || e.reason.trim() === '') fail('`reason` must say why the finding is accepted', `${at}/reason`);
    let expires: string | undefined;
    if (e.expires !== undefined) {
      const value = e.expires instanceof Date ? e.expires.toISOString().slice(0, 10) : e.expires;
      if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) fail('`expires` must be a date written YYYY-MM-DD', `${at}/expires`);
      expires = value as string;
    }
    if (e.file !== undefined && typeof e.file !== 'string') fail('`file` must be a path', `${at}/file`);
    return { rule: e.rule as string, pointer: e.pointer as string, reason: (e.reason as string).trim(), expires, file: e.file as string | undefined, line: source.locate(at)?.line };
  });
  return { path: shown, entries };
}

/** Marks the findings the ignore file accepts; expired entries no longer apply. */
export function applyIgnores(findings: Finding[], ignore: IgnoreFile | undefined, today: Date = new Date()): IgnoreOutcome {
  if (!ignore) return { findings, notes: [] };
  const day = today.toISOString().slice(0, 10);
  const notes: string[] = [];
  const live = ignore.entries.filter((entry) => {
    if (entry.expires !== undefined && entry.expires < day) {
      notes.push(`${ignore.path}${entry.line ? `:${entry.line}` : ''}: the entry for ${entry.rule} at ${entry.pointer || '(root)'} expired on ${entry.expires} and no longer applies`);
      return false;
    }
    return true;
  });
  const used = new Set<IgnoreEntry>();
  const out = findings.map((finding) => {
    const entry = live.find((e) => e.rule === finding.ruleId && matches(e, finding));
    if (!entry) return finding;
    used.add(entry);
    return { ...finding, ignored: { reason: entry.reason, ...(entry.expires ? { expires: entry.expires } : {}) } };
  });
  for (const entry of live) {
    if (!used.has(entry)) notes.push(`${ignore.path}${entry.line ? `:${entry.line}` : ''}: the entry for ${entry.rule} at ${entry.pointer || '(root)'} matched no finding`);
  }
  return { findings: out, notes };
}

function matches(entry: IgnoreEntry, finding: Finding): boolean {
  return [finding.new, finding.old].some((location) => {
    if (!location || location.pointer !== entry.pointer) return false;
    if (entry.file === undefined) return true;
    return path.normalize(location.file) === path.normalize(entry.file);
  });
}
