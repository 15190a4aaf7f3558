import type { SourceLocation } from '../../errors.js';
import type { DocumentSet } from '../../load/document-set.js';
import { DocumentReader } from '../../load/reader.js';
import { resolvedDocument } from '../structure.js';

export type Segment = string | number;
export type Path = Segment[];

/** One problem a rule found, at a path of the document the rule looked at. */
export interface Finding {
  path: Path;
  message: string;
  /** Defaults to error. */
  severity?: 'error' | 'warning';
  /** Where to report it, when that is not the path (a `$ref` in another file). */
  location?: SourceLocation;
}

/**
 * What a rule sees, as the parser's rules see it: the document with every `$ref` replaced
 * (`resolved`; a recursive reference stays a `$ref`) or the root file as written (`raw`).
 */
export interface RuleContext {
  set: DocumentSet;
  reader: DocumentReader;
  /** The `asyncapi` field, e.g. "2.6.0". */
  version: string;
  major: number;
  resolved: unknown;
  raw: unknown;
}

/**
 * One of @asyncapi/parser's error rules, implemented natively. `resolved: false` rules read the root
 * file as written (their paths are pointers in it); the others read the resolved document.
 */
export interface Rule {
  id: string;
  major: 2 | 3 | 'any';
  resolved: boolean;
  check(context: RuleContext): Finding[];
}

export function createContext(set: DocumentSet, version: string): RuleContext {
  const reader = new DocumentReader(set);
  return {
    set,
    reader,
    version,
    major: Number(version.split('.')[0]),
    resolved: resolvedDocument(set).value,
    raw: set.root.data,
  };
}


export function has(value: unknown, key: string): boolean {
  return value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, key);
}

export interface Match {
  path: Path;
  value: unknown;
}

/**
 * A small subset of JSONPath, enough for the parser's `given` expressions: segments separated by
 * dots, each a property name, `*` (every property or item) or `[a,b]` (several names).
 * Like jsonpath-plus, a property that exists is matched even when its value is null.
 */
export function select(root: unknown, expression: string): Match[] {
  let matches: Match[] = [{ path: [], value: root }];
  for (const segment of expression.split('.')) {
    const names = segment.startsWith('[') ? segment.slice(1, -1).split(',') : [segment];
    const next: Match[] = [];
    for (const match of matches) {
      const { value } = match;
      if (value === null || typeof value !== 'object') continue;
      if (names[0] === '*') {
        if (Array.isArray(value)) value.forEach((item, index) => next.push({ path: [...match.path, index], value: item }));
        else for (const key of Object.keys(value)) next.push({ path: [...match.path, key], value: (value as Record<string, unknown>)[key] });
        continue;
      }
      for (const name of names) {
        if (has(value, name)) next.push({ path: [...match.path, name], value: (value as Record<string, unknown>)[name] });
      }
    }
    matches = next;
  }
  return matches;
}

/** `select` over several expressions, in order. */
export function selectAll(root: unknown, expressions: readonly string[]): Match[] {
  return expressions.flatMap((expression) => select(root, expression));
}

/** The `{name}` variables of a channel address or server URL (the parser's parseUrlVariables). */
export function urlVariables(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return (value.match(/{(.+?)}/g) ?? []).map((v) => v.slice(1, -1));
}

/** Variables not described in `described` (all of them when it is empty): the parser's getMissingProps. */
export function missingProps(variables: string[], described: Record<string, unknown>): string[] {
  if (Object.keys(described).length === 0) return variables;
  return variables.filter((name) => !has(described, name));
}

/** Described names the address does not use (all of them when it uses none): the parser's getRedundantProps. */
export function redundantProps(variables: string[], described: Record<string, unknown>): string[] {
  if (variables.length === 0) return Object.keys(described);
  return Object.keys(described).filter((name) => !variables.includes(name));
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
