import { colours, type CliIO } from '../cli/io.js';
import { usageError } from '../errors.js';
import type { DiffReport, FailOn, OutputFormat } from '../diff/format/report.js';
import { runDiff } from '../diff/index.js';
import type { Mode } from '../diff/types.js';

export interface DiffFlags {
  against: string[];
  mode?: Mode;
  transitive: boolean;
  format: OutputFormat;
  failOn: FailOn;
  ignore?: string | false;
  allowRemoteRefs: boolean;
  allowOutsideRefs: boolean;
  strictBase?: boolean;
}

/**
 * `codegen diff <old> <new>`, `codegen diff --against <ref> <file>`, and with --transitive several
 * old versions. The report goes to stdout in the chosen format; notes go to stderr.
 * Exit 0: nothing at or above --fail-on; 1: something is; 2: the command could not run.
 */
export async function diffCommand(documents: string[], flags: DiffFlags, io: CliIO): Promise<number> {
  const against = flags.against ?? [];
  let oldFiles: string[];
  let newFile: string;
  if (against.length > 0) {
    if (documents.length !== 1) throw usageError('E_USAGE', `with --against, give exactly one document (the new version), not ${documents.length}`);
    if (against.length > 1 && !flags.transitive) throw usageError('E_USAGE', 'several --against revisions need --transitive');
    oldFiles = [];
    newFile = documents[0]!;
  } else {
    if (documents.length < 2) throw usageError('E_USAGE', 'give the old and the new document (codegen diff old.yaml new.yaml), or --against <git-ref> with one document');
    if (documents.length > 2 && !flags.transitive) throw usageError('E_USAGE', `${documents.length} documents given: compare several old versions with --transitive (the last document is the new one)`);
    oldFiles = documents.slice(0, -1);
    newFile = documents[documents.length - 1]!;
  }
  const { report, notes } = await runDiff({
    oldFiles,
    against,
    newFile,
    mode: flags.mode,
    transitive: flags.transitive,
    failOn: flags.failOn,
    ignoreFile: typeof flags.ignore === 'string' ? flags.ignore : undefined,
    noIgnore: flags.ignore === false,
    load: { allowRemoteRefs: flags.allowRemoteRefs, allowOutsideRefs: flags.allowOutsideRefs },
    cwd: io.cwd,
    strictBase: flags.strictBase,
  });
  const c = colours(io);
  for (const note of notes) io.stderr(`${c.yellow('!')} ${note}\n`);
  io.stdout(await render(report, flags.format, io));
  return report.exitCode;
}

/** The report in one format (each formatter is loaded only when asked for). */
export async function render(report: DiffReport, format: OutputFormat, io: CliIO): Promise<string> {
  switch (format) {
    case 'json':
      return JSON.stringify(report, null, 2) + '\n';
    case 'markdown':
      return (await import('../diff/format/markdown.js')).formatMarkdown(report);
    case 'junit':
      return (await import('../diff/format/junit.js')).formatJunit(report);
    case 'github':
      return (await import('../diff/format/github.js')).formatGithub(report);
    default:
      return (await import('../diff/format/text.js')).formatText(report, colours(io));
  }
}
