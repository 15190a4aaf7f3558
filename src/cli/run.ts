import { createRequire } from 'node:module';
import type { Command as CommandType } from 'commander';
import { CodegenError, ExitCode, formatDiagnostic } from '../errors.js';
import { TARGET_NAMES } from '../targets/registry.js';
import { generatorVersion } from '../version.js';
import { colours, processIO, type CliIO } from './io.js';

// commander is CommonJS: required as such, since importing it through its ESM wrapper makes Node scan
// its source for export names first (about 2 ms of every command's start-up, issue 14).
const { Command, CommanderError, Option } = createRequire(import.meta.url)('commander') as typeof import('commander');

/**
 * The command line. `bin/codegen.js` calls `run(argv)` and exits with the code it returns;
 * nothing below calls process.exit. Commands are loaded lazily so `--version` stays instant.
 */
export async function run(argv: string[], io: CliIO = processIO): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = new Command('codegen')
    .description('AsyncAPI → typed event-driven TypeScript for RabbitMQ, Kafka and NATS, and a breaking-change gate.')
    .version(generatorVersion(), '-v, --version')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError(false);

  const refOptions = (command: CommandType) =>
    command
      .option('--allow-remote-refs', 'allow $refs to http(s) URLs', false)
      .option('--allow-outside-refs', 'allow $refs to files outside the project root (the git work tree, else the current folder)', false);

  refOptions(
    program
      .command('generate')
      .description('generate TypeScript from an AsyncAPI document')
      .argument('<document>', 'AsyncAPI document (YAML or JSON)')
      .option('-t, --target <targets>', `${TARGET_NAMES.join(', ')} (comma-separated for several); none: types, validators and envelope only`, '')
      .requiredOption('-o, --out <dir>', 'output folder')
      .option('--templates <dir>', 'folder of templates overriding the built-in ones by file name')
      .option('--source <uri>', 'CloudEvents source for producers (default: derived from the document title)')
      .addOption(new Option('--role <role>', 'code for the application the document describes, or for a client of it').choices(['application', 'client']).default('application'))
      .option('--no-validation', 'generated clients do not validate unless asked (validate: true); validators are still generated')
      .option('--check', 'write nothing; exit 1 when the output folder is not up to date', false)
      .option('--dry-run', 'show what would be written, changed and removed; write nothing', false)
      .option('--allow-symlinked-out', 'allow an output folder reached through a symbolic link', false)
      .option('--no-cache', 'do not read or write the content-hash cache (node_modules/.cache/codegen)')
      .option('--json', 'print a machine-readable result on stdout', false),
  ).action(async (document: string, options) => {
    const { generateCommand } = await import('../commands/generate.js');
    exitCode = await generateCommand(document, options, io);
  });

  refOptions(
    program
      .command('validate')
      .description('validate an AsyncAPI document (2.0–2.6, 3.0, 3.1), with file, line, column and JSON pointer for each finding')
      .argument('<document>', 'AsyncAPI document (YAML or JSON)')
      .addOption(new Option('--engine <engine>', 'parser: the full @asyncapi/parser run (reference); fast: the precompiled checks generate uses').choices(['parser', 'fast']).default('parser'))
      .option('--no-cache', "do not read or write the parser's remembered verdicts (node_modules/.cache/codegen)")
      .option('--json', 'print the findings as JSON on stdout', false),
  ).action(async (document: string, options) => {
    const { validateCommand } = await import('../commands/validate.js');
    exitCode = await validateCommand(document, options, io);
  });

  refOptions(
    program
      .command('diff')
      .description('report breaking changes between two versions of an AsyncAPI document (exit 1 on findings at or above --fail-on)')
      .argument('<documents...>', 'old and new document; with --against, only the new one; with --transitive, several old ones then the new one')
      .option('--against <ref>', 'compare with the document (and every file it references) at this git revision; repeat with --transitive', (value: string, previous: string[]) => [...previous, value], [] as string[])
      .addOption(new Option('--mode <mode>', 'compatibility mode for every message (default: by direction: send FORWARD, receive BACKWARD)').choices(['backward', 'forward', 'full', 'none']))
      .option('--against-registry <url>', "compare each Avro message with the latest version registered under its subject (a Confluent-compatible schema registry's API URL)")
      .addOption(new Option('--subject-strategy <strategy>', 'subject naming with --against-registry').choices(['topic', 'record', 'topic-record']).default('topic'))
      .option('--transitive', 'check the new version against every old version given', false)
      .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'markdown', 'junit', 'github']).default('text'))
      .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding has this severity or a higher one').choices(['breaking', 'warning', 'info', 'never']).default('breaking'))
      .option('--ignore <file>', 'ignore file accepting findings on purpose (default: .codegen-diff-ignore.yaml when present)')
      .option('--no-ignore', 'do not read any ignore file')
      .option('--strict-base', 'refuse to compare an old version that does not validate (exit 2) instead of comparing it best-effort', false),
  ).action(async (documents: string[], options) => {
    const { diffCommand } = await import('../commands/diff.js');
    exitCode = await diffCommand(documents, options, io);
  });

  // No subcommand: run the config file (src/commands/run-config.ts). Positional options keep these
  // flags apart from the subcommands' own (`codegen generate x --check` is generate's --check).
  program
    .enablePositionalOptions()
    .argument('[files...]', 'only the documents these files concern (a document, a file it references, a template, a generated file); default: every document')
    .option('-c, --config <file>', 'config file (default: codegen.config.{ts,mjs,js,cjs,json,yaml,yml}, .codegenrc*, or "codegen" in package.json, searched from here up to the repository root)')
    .option('--check', 'write nothing; exit 1 when a generated file is missing, stale or extra, listing them', false)
    .option('--dry-run', 'show what would be written, changed and removed; write nothing', false)
    .option('-w, --watch', 'regenerate when a document, a file it references, a template or the config changes', false)
    .option('--against <ref>', 'also check each document for breaking changes against this git revision (codegen diff, same process)')
    .option('--baseline', "also check each document against its config's compatibility.baseline revisions", false)
    .option('--staged', 'only the documents that files staged in git concern (for pre-commit hooks)', false)
    .option('--json', 'print a machine-readable result on stdout', false)
    .addOption(new Option('--format <format>', 'text, or github: GitHub Actions annotations on stdout').choices(['text', 'github']).default('text'))
    .option('--concurrency <n>', 'documents processed at the same time (default: the number of CPUs, 2 to 8)')
    .option('--no-cache', 'do not read or write the content-hash cache (node_modules/.cache/codegen)')
    .action(async (files: string[], options) => {
      const { runConfigCommand } = await import('../commands/run-config.js');
      exitCode = await runConfigCommand(files, options, io);
    });

  program
    .command('init')
    .description('write a config file, an example document if there is none, and package.json scripts; never overwrites a file')
    .option('-y, --yes', 'ask nothing; use the flags and defaults (also without a terminal)', false)
    .option('--document <file>', 'AsyncAPI document (default: one found here, else asyncapi.yaml, written as an example)')
    .option('-t, --target <targets>', `${TARGET_NAMES.join(', ')} (comma-separated), or none`)
    .option('-o, --out <dir>', 'output folder (default: src/events)')
    .addOption(new Option('--format <format>', 'config file format (default: ts when the project has typescript and a tsconfig.json, else mjs)').choices(['ts', 'mjs', 'json', 'yaml']))
    .option('--no-scripts', 'do not add scripts to package.json')
    .action(async (options) => {
      const { initCommand } = await import('../commands/init.js');
      exitCode = await initCommand(options, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

export function reportError(error: unknown, io: CliIO): number {
  const c = colours(io);
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.ok;
    return ExitCode.usage;
  }
  if (error instanceof CodegenError) {
    for (const diagnostic of error.diagnostics) io.stderr(`${c.red('✖')} ${formatDiagnostic(diagnostic)}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr(`${c.red('internal error')} (a bug in codegen; please report it with the document that caused it):\n${message}\n`);
  return ExitCode.usage;
}
