import { createRequire } from 'node:module';
import type { Document, LineCounter, Node } from 'yaml';
import jsYaml from 'js-yaml';
import { documentError, usageError } from '../errors.js';
import { parsePointer, pointerOfPath, type PathStep } from './pointer.js';
import { positionRecorder, type PositionNode } from './positions.js';

/** One parsed file of a document set. */
export interface SourceFile {
  /** Absolute, normalised path (or URL for remote files); the identity of the file. */
  id: string;
  /** The path to show the user. */
  displayPath: string;
  text: string;
  data: unknown;
  /** Line and column (1-based) of the value at a JSON pointer, when it can be found. */
  locate(pointer: string): { line: number; column: number } | undefined;
  /**
   * Where each node starts, recorded while parsing when asked (`positions` below); null when the text
   * could not be indexed; absent when not recorded (JSON, YAML with aliases, or not asked).
   */
  positions?: PositionNode | null;
}

export interface ParseOptions {
  /** Record where each node starts while parsing (`diff` reports a line and column for every finding). */
  positions?: boolean;
}

// The `yaml` package is loaded only when needed (aliases, errors, locations): it costs ~40 ms to import.
const require = createRequire(import.meta.url);
let yamlModule: typeof import('yaml') | undefined;
function yamlLib(): typeof import('yaml') {
  yamlModule ??= require('yaml') as typeof import('yaml');
  return yamlModule;
}

/** YAML aliases beyond this count are refused: a "billion laughs" document never expands. */
export const MAX_YAML_ALIASES = 1000;

export function parseSourceText(id: string, displayPath: string, text: string, options: ParseOptions = {}): SourceFile {
  if (text.includes('\u0000')) {
    throw usageError('E_BINARY_FILE', `${displayPath} is a binary file, not a YAML or JSON document`, {
      file: displayPath,
      pointer: '',
    });
  }
  if (text.trim() === '') {
    throw documentError('E_EMPTY_DOCUMENT', `${displayPath} is empty`, { file: displayPath, pointer: '', line: 1, column: 1 });
  }
  if (/\.proto$/i.test(id)) return protoSourceFile(id, displayPath, text);
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let json: { data: unknown } | undefined;
    try {
      json = { data: JSON.parse(text) as unknown };
    } catch {
      // Fall through: the YAML parser gives the line and column of the syntax error.
    }
    if (json) return makeSourceFile(id, displayPath, text, json.data);
  }
  const fast = hasAliases(text) ? undefined : parseWithoutAliases(text, options.positions ?? false);
  if (fast) return makeSourceFile(id, displayPath, text, fast.data, fast.positions);
  // Aliases (or a syntax error): the `yaml` parser limits alias expansion and locates errors precisely.
  let parsed: { document: Document; lineCounter: LineCounter };
  try {
    parsed = parseYaml(text);
  } catch (error) {
    if (error instanceof RangeError) throw tooDeep(displayPath, '');
    throw error;
  }
  const { document, lineCounter } = parsed;
  const firstError = document.errors[0];
  if (firstError && /call stack/i.test(firstError.message)) throw tooDeep(displayPath, '');
  if (firstError) {
    const position = lineCounter.linePos(firstError.pos[0]);
    throw documentError('E_SYNTAX', `malformed YAML/JSON: ${firstLine(firstError.message)}`, {
      file: displayPath,
      pointer: '',
      line: position.line,
      column: position.col,
    });
  }
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    if (error instanceof RangeError) throw tooDeep(displayPath, '');
    const message = error instanceof Error ? error.message : String(error);
    if (/alias/i.test(message)) {
      throw documentError(
        'E_YAML_ALIAS_BOMB',
        `refused: the document expands YAML aliases more than ${MAX_YAML_ALIASES} times (resource exhaustion guard)`,
        { file: displayPath, pointer: '' },
      );
    }
    throw documentError('E_SYNTAX', `malformed YAML: ${firstLine(message)}`, { file: displayPath, pointer: '' });
  }
  const file = makeSourceFile(id, displayPath, text, data);
  file.locate = (pointer) => locateInYaml(document, lineCounter, pointer);
  return file;
}

/** Any YAML alias token (`*name` where a node may start); false positives only cost the slower parser. */
function hasAliases(text: string): boolean {
  return /(?:^|[\s[{,:-])\*[^\s,[\]{}]/m.test(text);
}

/**
 * js-yaml with the YAML 1.2 core schema (timestamps stay strings, as in JSON) is several times faster
 * than the `yaml` package. It is used only for documents without aliases: js-yaml shares aliased
 * nodes, which a later walk would expand without limit.
 */
function parseWithoutAliases(text: string, positions: boolean): { data: unknown; positions?: PositionNode | null } | undefined {
  try {
    if (!positions) return { data: jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA }) };
    // The listener only observes: the data is what the same parse without it returns.
    const recorder = positionRecorder();
    const data = jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA, listener: recorder.listener });
    return { data, positions: recorder.root() };
  } catch {
    return undefined;
  }
}

/**
 * A `.proto` file reached by `$ref` (a Protobuf payload): its value is its text, as an inline
 * Protobuf schema is a string; the model parses it (src/model/protobuf.ts).
 */
function protoSourceFile(id: string, displayPath: string, text: string): SourceFile {
  return { id, displayPath, text, data: text, locate: (pointer) => (pointer === '' ? { line: 1, column: 1 } : undefined) };
}

function makeSourceFile(id: string, displayPath: string, text: string, data: unknown, positions?: PositionNode | null): SourceFile {
  const problem = inspectData(data);
  if (problem?.kind === 'unpaired-surrogate') {
    throw documentError(
      'E_INVALID_UNICODE',
      'a string holds an unpaired UTF-16 surrogate (an escape like "\\ud800" alone): it is not valid Unicode and cannot be written to generated code',
      { file: displayPath, pointer: problem.pointer },
    );
  }
  if (problem?.kind === 'too-deep') throw tooDeep(displayPath, problem.pointer);
  if (problem?.kind === 'too-wide') {
    throw documentError('E_TOO_WIDE', `refused: a mapping or list has ${problem.entries} entries, over the ${MAX_ENTRIES} limit (resource exhaustion guard)`, {
      file: displayPath,
      pointer: problem.pointer,
    });
  }
  let cached: { document: Document; lineCounter: LineCounter } | undefined;
  return {
    id,
    displayPath,
    text,
    data,
    ...(positions !== undefined ? { positions } : {}),
    // Locations are needed only when something is reported, so JSON is re-read as YAML lazily.
    locate(pointer) {
      cached ??= parseYaml(text);
      return locateInYaml(cached.document, cached.lineCounter, pointer);
    },
  };
}

/**
 * Deepest nesting of mappings and lists accepted in a file. Real documents stay far below (a schema
 * nested 100 levels deep is about 210 levels here); deeper input is refused before anything walks it
 * recursively (the model's own limit, MAX_SCHEMA_DEPTH = 128, stays reachable below this one). The
 * `yaml` parser itself overflows the stack near 1,000 levels: that is reported as the same refusal.
 */
export const MAX_NESTING_DEPTH = 512;

/**
 * Most entries in one mapping or list (the properties of a schema, an enum, the channels...). The time
 * to generate grows faster than linearly with the width of a schema (formatting a 30,000-member
 * interface takes minutes); 10,000 takes seconds (bench/hostile/RESULTS.md). Checked right after
 * parsing, before validation walks the document.
 */
export const MAX_ENTRIES = 10_000;

function tooDeep(displayPath: string, pointer: string) {
  // The place where the nesting starts is what helps; the full pointer would be thousands of characters.
  const segments = pointer.split('/');
  const shown = segments.length > 13 ? `${segments.slice(0, 13).join('/')}/…` : pointer;
  return documentError('E_TOO_DEEP', `refused: the document nests mappings and lists more than ${MAX_NESTING_DEPTH} levels deep (resource exhaustion guard)`, {
    file: displayPath,
    pointer: shown,
  });
}

const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * One walk over the parsed data (without recursion): the first key or string holding an unpaired
 * surrogate, the first value nested deeper than MAX_NESTING_DEPTH, or the first mapping or list with
 * more than MAX_ENTRIES entries.
 */
function inspectData(data: unknown): { kind: 'unpaired-surrogate' | 'too-deep' | 'too-wide'; pointer: string; entries?: number } | undefined {
  type Step = PathStep & { node: unknown; depth: number };
  const stack: Step[] = [{ node: data, parent: undefined, segment: '', depth: 0 }];
  while (stack.length > 0) {
    const step = stack.pop()!;
    const { node, depth } = step;
    const path = depth === 0 ? undefined : step;
    if (typeof node === 'string') {
      if (UNPAIRED_SURROGATE.test(node)) return { kind: 'unpaired-surrogate', pointer: pointerOfPath(path) };
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    if (depth >= MAX_NESTING_DEPTH) return { kind: 'too-deep', pointer: pointerOfPath(path) };
    const keys = Object.keys(node);
    if (keys.length > MAX_ENTRIES) return { kind: 'too-wide', pointer: pointerOfPath(path), entries: keys.length };
    for (const key of keys) {
      if (UNPAIRED_SURROGATE.test(key)) return { kind: 'unpaired-surrogate', pointer: pointerOfPath({ parent: path, segment: key }) };
      stack.push({ node: (node as Record<string, unknown>)[key], parent: path, segment: key, depth: depth + 1 });
    }
  }
  return undefined;
}

function parseYaml(text: string): { document: Document; lineCounter: LineCounter } {
  const { LineCounter, parseDocument } = yamlLib();
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  return { document, lineCounter };
}

function locateInYaml(document: Document, lineCounter: LineCounter, pointer: string) {
  const { isMap, isSeq, isPair, isScalar } = yamlLib();
  let node: unknown = document.contents;
  let offset = (node as Node | null)?.range?.[0];
  let segments: string[];
  try {
    segments = parsePointer(pointer);
  } catch {
    return undefined;
  }
  for (const segment of segments) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === segment);
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)];
      if (!item) break;
      node = item;
      offset = (item as Node).range?.[0] ?? offset;
    } else {
      break;
    }
  }
  if (offset === undefined) return undefined;
  const position = lineCounter.linePos(offset);
  return { line: position.line, column: position.col };
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
