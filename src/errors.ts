/**
 * Typed errors. A user error prints one line (or a short list) without a stack;
 * anything else is an internal error and asks for a bug report.
 */
export const ExitCode = {
  ok: 0,
  /** The check found a problem: invalid document, breaking change, stale output. */
  findings: 1,
  /** The command could not run: bad flags, missing file, unreadable config. */
  usage: 2,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Where something is written: the one location type of every message (diagnostics, diff findings,
 * the model's origins), printed by formatLocation.
 */
export interface SourceLocation {
  /** Path of the file as the user named it (relative to the working directory when possible). */
  file: string;
  /** JSON pointer inside that file ("" for the whole document). */
  pointer: string;
  line?: number;
  column?: number;
  /** The git revision the file was read from (`diff --against`). */
  revision?: string;
}

export interface Diagnostic {
  code: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
  location?: SourceLocation;
}

export class CodegenError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly diagnostics: Diagnostic[];
  constructor(exitCode: ExitCodeValue, diagnostics: Diagnostic[] | Diagnostic) {
    const list = Array.isArray(diagnostics) ? diagnostics : [diagnostics];
    super(list.map((d) => d.message).join('\n'));
    this.name = 'CodegenError';
    this.exitCode = exitCode;
    this.diagnostics = list;
  }
}

/** The document is not acceptable (exit 1). */
export function documentError(code: string, message: string, location?: SourceLocation): CodegenError {
  return new CodegenError(ExitCode.findings, { code, severity: 'error', message, location });
}

/** The command could not run (exit 2). */
export function usageError(code: string, message: string, location?: SourceLocation): CodegenError {
  return new CodegenError(ExitCode.usage, { code, severity: 'error', message, location });
}

/** `origin/main:asyncapi.yaml:12:5 (#/components/schemas/Order)`: revision, file, line, column, pointer. */
export function formatLocation(location: SourceLocation | undefined): string {
  if (!location) return '';
  const revision = location.revision ? `${location.revision}:` : '';
  const position = location.line !== undefined ? `:${location.line}:${location.column ?? 1}` : '';
  return `${revision}${location.file}${position} (#${location.pointer})`;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = formatLocation(d.location);
  return `${where ? where + ': ' : ''}${d.severity} ${d.code}: ${d.message}`;
}
