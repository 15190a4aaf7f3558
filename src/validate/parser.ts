import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic } from '../errors.js';
import type { DocumentSet } from '../load/document-set.js';
import { toPointer } from '../load/pointer.js';
import { refCycles } from './rules.js';

const SEVERITIES: Array<Diagnostic['severity']> = ['error', 'warning', 'info', 'info'];

/**
 * Runs @asyncapi/parser (loaded only here: it takes over a second to import) on a loaded document
 * and maps each of its findings to file, line, column and JSON pointer.
 */
export async function parserDiagnostics(set: DocumentSet): Promise<Diagnostic[]> {
  // @asyncapi/parser 3.6 never returns on a chain of $refs that loops (A → B → A): refuse it first.
  const cycles = refCycles(set);
  if (cycles.length > 0) return [...set.problems, ...cycles];
  const { Parser } = await import('@asyncapi/parser');
  // The parser reads references only from the files the loader already read and allowed:
  // it never fetches a URL or opens a file the user did not allow.
  const fromLoadedSet = (schema: string) => ({
    schema,
    order: 1,
    read: (uri: unknown) => {
      const href = String(uri);
      const id = schema === 'file' ? (href.startsWith('file:') ? fileURLToPath(href) : decodeURIComponent(href)) : href;
      const file = set.files.get(id) ?? set.files.get(set.aliases.get(id) ?? '');
      // A refused or unreadable file is already reported (set.problems). The parser's own readers
      // would run after a throw and fetch it anyway, so it gets an empty document instead.
      if (!file) return '{}';
      // A .proto file's value is its text (src/load): the parser gets that value, as a JSON string.
      return typeof file.data === 'string' ? JSON.stringify(file.data) : file.text;
    },
  });
  const parser = new Parser({ __unstable: { resolver: { resolvers: ['file', 'http', 'https'].map(fromLoadedSet) } } } as never);
  const { diagnostics } = await parser.parse(set.root.text, { source: set.root.id });
  const mapped: Diagnostic[] = diagnostics.map((d) => {
    const source = d.source && d.source !== set.root.id ? displayOf(set, d.source) : set.root.displayPath;
    return {
      code: String(d.code),
      severity: SEVERITIES[d.severity] ?? 'info',
      message: d.message,
      location: {
        file: source,
        pointer: toPointer(d.path.map(String)),
        line: d.range.start.line + 1,
        column: d.range.start.character + 1,
      },
    };
  });
  return [...set.problems, ...mapped];
}

function displayOf(set: DocumentSet, source: string): string {
  const file = set.files.get(source) ?? set.files.get(path.resolve(source));
  return file?.displayPath ?? source;
}
