import path from 'node:path';
import { colours, type CliIO } from '../cli/io.js';
import { CodegenError, ExitCode, formatDiagnostic, type Diagnostic } from '../errors.js';
import { loadDocumentSet } from '../load/document-set.js';
import { loadValidatedDocument } from '../pipeline/document.js';
import { parserDiagnostics } from '../validate/parser.js';
import { defaultCacheDir, disabledCache, hashOf, openCache, type Cache } from '../cache/cache.js';
import { buildFingerprint } from '../cache/fingerprint.js';
import type { DocumentSet } from '../load/document-set.js';

export interface ValidateFlags {
  engine: 'parser' | 'fast';
  json: boolean;
  allowRemoteRefs: boolean;
  allowOutsideRefs: boolean;
  /** commander's `--no-cache` sets this to false. */
  cache: boolean;
}

/**
 * Validates with @asyncapi/parser, the reference, after the tool's own loader has refused
 * what it must (remote or outside references, alias bombs) and located syntax errors.
 */
export async function validateCommand(document: string, flags: ValidateFlags, io: CliIO): Promise<number> {
  const load = { allowRemoteRefs: flags.allowRemoteRefs, allowOutsideRefs: flags.allowOutsideRefs, cwd: io.cwd };
  let diagnostics: Diagnostic[];
  try {
    if (flags.engine === 'fast') {
      diagnostics = (await loadValidatedDocument(document, load)).diagnostics;
    } else {
      const set = await loadDocumentSet(document, load);
      const cache = flags.cache !== false && io.env.CODEGEN_CACHE !== '0' ? openCache(defaultCacheDir(io.cwd, io.env)) : disabledCache;
      diagnostics = await rememberedParserDiagnostics(set, document, cache);
    }
  } catch (error) {
    if (!(error instanceof CodegenError) || error.exitCode !== ExitCode.findings) throw error;
    diagnostics = error.diagnostics;
  }
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (flags.json) io.stdout(JSON.stringify({ valid: errors.length === 0, diagnostics }, null, 2) + '\n');
  const c = colours(io);
  for (const d of diagnostics) io.stderr(`${d.severity === 'error' ? c.red('✖') : c.yellow('!')} ${formatDiagnostic(d)}\n`);
  if (errors.length === 0) io.stderr(`${c.green('✔')} ${document} is a valid AsyncAPI document\n`);
  else io.stderr(`${c.red('✖')} ${document}: ${errors.length} error(s)\n`);
  return errors.length === 0 ? ExitCode.ok : ExitCode.findings;
}

/**
 * The parser's verdict, remembered by content: importing @asyncapi/parser and compiling its schema
 * takes over a second, and a pre-commit hook or an editor asks again about the same bytes. The key
 * holds everything the findings depend on: this build of codegen (and so the parser it ships), the
 * path as typed (messages show it), and every file of the document with its contents.
 */
async function rememberedParserDiagnostics(set: DocumentSet, document: string, cache: Cache): Promise<Diagnostic[]> {
  const files = [...set.files.values()].map((file) => `${file.id}\n${file.text}`);
  const key = hashOf(buildFingerprint(), 'parser-verdict', document, JSON.stringify(set.problems), ...files);
  const remembered = cache.get('validate', key);
  if (remembered !== undefined) return JSON.parse(remembered) as Diagnostic[];
  const diagnostics = await parserDiagnostics(set);
  cache.set('validate', key, JSON.stringify(diagnostics));
  return diagnostics;
}
