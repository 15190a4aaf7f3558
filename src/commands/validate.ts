import path from 'node:path';
import { colours, type CliIO } from '../cli/io.js';
import { CodegenError, ExitCode, formatDiagnostic, type Diagnostic } from '../errors.js';
import { loadDocumentSet } from '../load/document-set.js';
import { loadValidatedDocument } from '../pipeline/document.js';
import { parserDiagnostics } from '../validate/parser.js';

export interface ValidateFlags {
  engine: 'parser' | 'fast';
  json: boolean;
  allowRemoteRefs: boolean;
  allowOutsideRefs: boolean;
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
      diagnostics = await parserDiagnostics(set);
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
