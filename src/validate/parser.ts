import path from 'node:path';
import type { Diagnostic } from '../errors.js';
import type { DocumentSet } from '../load/document-set.js';
import { toPointer } from '../load/pointer.js';

const SEVERITIES: Array<Diagnostic['severity']> = ['error', 'warning', 'info', 'info'];

/**
 * Runs @asyncapi/parser (loaded only here: it takes over a second to import) on a loaded document
 * and maps each of its findings to file, line, column and JSON pointer.
 */
export async function parserDiagnostics(set: DocumentSet): Promise<Diagnostic[]> {
  const { Parser } = await import('@asyncapi/parser');
  const parser = new Parser();
  const { diagnostics } = await parser.parse(set.root.text, { source: set.root.id });
  return diagnostics.map((d) => {
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
}

function displayOf(set: DocumentSet, source: string): string {
  const file = set.files.get(source) ?? set.files.get(path.resolve(source));
  return file?.displayPath ?? source;
}
