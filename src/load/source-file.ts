import { createRequire } from 'node:module';
import type { Document, LineCounter, Node } from 'yaml';
import jsYaml from 'js-yaml';
import { documentError, usageError } from '../errors.js';
import { parsePointer } from './pointer.js';

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

export function parseSourceText(id: string, displayPath: string, text: string): SourceFile {
  if (text.includes('\u0000')) {
    throw usageError('E_BINARY_FILE', `${displayPath} is a binary file, not a YAML or JSON document`, {
      file: displayPath,
      pointer: '',
    });
  }
  if (text.trim() === '') {
    throw documentError('E_EMPTY_DOCUMENT', `${displayPath} is empty`, { file: displayPath, pointer: '', line: 1, column: 1 });
  }
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const data: unknown = JSON.parse(text);
      return makeSourceFile(id, displayPath, text, data);
    } catch {
      // Fall through: the YAML parser gives the line and column of the syntax error.
    }
  }
  const fast = hasAliases(text) ? undefined : parseWithoutAliases(text);
  if (fast) return makeSourceFile(id, displayPath, text, fast.data);
  // Aliases (or a syntax error): the `yaml` parser limits alias expansion and locates errors precisely.
  const { document, lineCounter } = parseYaml(text);
  const firstError = document.errors[0];
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
function parseWithoutAliases(text: string): { data: unknown } | undefined {
  try {
    return { data: jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA }) };
  } catch {
    return undefined;
  }
}

function makeSourceFile(id: string, displayPath: string, text: string, data: unknown): SourceFile {
  let cached: { document: Document; lineCounter: LineCounter } | undefined;
  return {
    id,
    displayPath,
    text,
    data,
    // Locations are needed only when something is reported, so JSON is re-read as YAML lazily.
    locate(pointer) {
      cached ??= parseYaml(text);
      return locateInYaml(cached.document, cached.lineCounter, pointer);
    },
  };
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
