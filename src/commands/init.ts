import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { colours, type CliIO } from '../cli/io.js';
import { configIn } from '../config/discover.js';
import { ExitCode, usageError } from '../errors.js';
import { PACKAGE_NAME } from '../package-paths.js';
import { isTarget, TARGET_NAMES } from '../targets/registry.js';

export type InitFormat = 'ts' | 'mjs' | 'json' | 'yaml';
const FORMATS: InitFormat[] = ['ts', 'mjs', 'json', 'yaml'];

export interface InitFlags {
  yes: boolean;
  document?: string;
  /** Comma-separated targets; '' for none. */
  target?: string;
  out?: string;
  format?: string;
  /** Do not add scripts to package.json. */
  scripts: boolean;
}

/** Asks one question and returns the answer (empty for the default). Tests pass a scripted one. */
export type Ask = (question: string) => Promise<string>;

interface Answers {
  document: string;
  targets: string[];
  out: string;
  format: InitFormat;
}

/**
 * `codegen init`: writes a config file, an example document when the named one does not exist,
 * and the package.json scripts. On a terminal it asks a few questions; with --yes or without a
 * terminal it asks nothing and uses the flags and defaults. It never overwrites a file: an
 * existing config stops it, and scripts already in package.json are kept as they are.
 */
export async function initCommand(flags: InitFlags, io: CliIO, ask?: Ask): Promise<number> {
  const c = colours(io);
  const cwd = io.cwd;
  const existing = configIn(cwd);
  if (existing) {
    io.stderr(`${c.yellow('!')} ${path.relative(cwd, existing.file)} already exists: nothing written (codegen init never overwrites a file)\n`);
    return ExitCode.ok;
  }
  const defaults = detectDefaults(cwd);
  checkFlagValues(flags);
  const interactive = !flags.yes && (ask !== undefined || (io.isTTY && Boolean(process.stdin.isTTY)));
  const answers = interactive ? await askQuestions(flags, defaults, ask ?? terminalAsk(), io) : fromFlags(flags, defaults);

  const written: string[] = [];
  const kept: string[] = [];
  const configName = `codegen.config.${answers.format}`;
  writeNew(path.join(cwd, configName), configText(answers), written, kept);
  const documentPath = path.resolve(cwd, answers.document);
  if (!existsSync(documentPath)) writeNew(documentPath, exampleDocument(answers.targets), written, kept, true);
  const scripts = flags.scripts ? addScripts(cwd) : { added: [], present: [], noPackage: false };

  for (const file of written) io.stderr(`${c.green('✔')} wrote ${path.relative(cwd, file)}\n`);
  for (const file of kept) io.stderr(`${c.yellow('!')} ${path.relative(cwd, file)} exists: kept as it is\n`);
  if (scripts.added.length > 0) io.stderr(`${c.green('✔')} added to package.json scripts: ${scripts.added.join(', ')}\n`);
  if (scripts.present.length > 0) io.stderr(`${c.dim(`package.json already has scripts named ${scripts.present.join(', ')}: kept as they are`)}\n`);
  if (scripts.noPackage) io.stderr(`${c.dim('no package.json here: add "codegen": "codegen" and "codegen:check": "codegen --check" to its scripts when you create one')}\n`);
  if (answers.targets.length === 0) io.stderr(`${c.dim(`no target chosen: types, validators and the envelope only; add targets (${TARGET_NAMES.join(', ')}) in ${configName}`)}\n`);
  io.stderr(`\nnext: ${c.bold('npx codegen')} writes ${answers.out}; ${c.bold('npx codegen --check')} in CI fails when it is stale (docs: workflow.md)\n`);
  return ExitCode.ok;
}

function checkFlagValues(flags: InitFlags): void {
  if (flags.target !== undefined) parseTargets(flags.target);
  if (flags.format !== undefined && !FORMATS.includes(flags.format as InitFormat)) {
    throw usageError('E_USAGE', `--format ${flags.format}: choose one of ${FORMATS.join(', ')}`);
  }
  if (flags.out !== undefined && flags.out.trim() === '') throw usageError('E_USAGE', '--out must not be empty');
  if (flags.document !== undefined && flags.document.trim() === '') throw usageError('E_USAGE', '--document must not be empty');
}

function parseTargets(text: string): string[] {
  const targets = text.split(',').map((t) => t.trim()).filter((t) => t !== '' && t !== 'none');
  for (const target of targets) {
    if (!isTarget(target)) throw usageError('E_UNKNOWN_TARGET', `unknown target "${target}"; choose from ${TARGET_NAMES.join(', ')} (comma-separated), or none`);
  }
  return [...new Set(targets)];
}

interface Defaults {
  document: string;
  out: string;
  format: InitFormat;
}

/** An AsyncAPI document already in the folder, and the config format the project can load. */
function detectDefaults(cwd: string): Defaults {
  let document = 'asyncapi.yaml';
  const candidates = ['asyncapi.yaml', 'asyncapi.yml', 'asyncapi.json'];
  const found = candidates.find((name) => existsSync(path.join(cwd, name))) ?? findAsyncApiFile(cwd);
  if (found) document = found;
  return { document, out: 'src/events', format: canLoadTypeScript(cwd) ? 'ts' : 'mjs' };
}

/** A YAML or JSON file in the folder (or in api/, docs/, spec/) that starts like an AsyncAPI document. */
function findAsyncApiFile(cwd: string): string | undefined {
  for (const dir of ['.', 'api', 'docs', 'spec', 'specs', 'asyncapi']) {
    let names: string[];
    try {
      names = readdirSync(path.join(cwd, dir)).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      if (!/\.(ya?ml|json)$/i.test(name) || name === 'package.json' || name.startsWith('.')) continue;
      try {
        const head = readFileSync(path.join(cwd, dir, name), 'utf8').slice(0, 2000);
        if (/^\s*["']?asyncapi["']?\s*:/m.test(head)) return path.join(dir, name).split(path.sep).join('/');
      } catch {
        // unreadable: not ours
      }
    }
  }
  return undefined;
}

/** A TypeScript config needs the project's own `typescript` (see src/config/load.ts) and a tsconfig. */
function canLoadTypeScript(cwd: string): boolean {
  if (!existsSync(path.join(cwd, 'tsconfig.json'))) return false;
  try {
    createRequire(path.join(cwd, 'package.json')).resolve('typescript');
    return true;
  } catch {
    return false;
  }
}

function fromFlags(flags: InitFlags, defaults: Defaults): Answers {
  return {
    document: flags.document ?? defaults.document,
    targets: flags.target !== undefined ? parseTargets(flags.target) : [],
    out: flags.out ?? defaults.out,
    format: (flags.format as InitFormat | undefined) ?? defaults.format,
  };
}

async function askQuestions(flags: InitFlags, defaults: Defaults, ask: Ask, io: CliIO): Promise<Answers> {
  const question = async <T>(text: string, fallback: string, parse: (answer: string) => T): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      const answer = (await ask(`${text} (${fallback || 'none'}): `)).trim();
      try {
        return parse(answer === '' ? fallback : answer);
      } catch (error) {
        // Asked again with the reason, three times at most.
        if (attempt === 3) throw error;
        io.stderr(`${colours(io).yellow('!')} ${(error as Error).message}\n`);
      }
    }
  };
  const document = flags.document ?? (await question('AsyncAPI document', defaults.document, (a) => a));
  const targets = flags.target !== undefined ? parseTargets(flags.target) : await question(`Targets: ${TARGET_NAMES.join(', ')} (comma-separated), or none`, 'kafka', parseTargets);
  const out = flags.out ?? (await question('Output folder', defaults.out, (a) => a));
  const format =
    (flags.format as InitFormat | undefined) ??
    (await question(`Config format: ${FORMATS.join(', ')}`, defaults.format, (a) => {
      if (!FORMATS.includes(a as InitFormat)) throw usageError('E_USAGE', `choose one of ${FORMATS.join(', ')}`);
      return a as InitFormat;
    }));
  return { document, targets, out, format };
}

function terminalAsk(): Ask {
  return async (question) => {
    const { createInterface } = await import('node:readline/promises');
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  };
}

/** Writes a file only when nothing is there (`wx`): a file created meanwhile is kept too. */
function writeNew(file: string, text: string, written: string[], kept: string[], makeDir = false): void {
  try {
    if (makeDir) createParent(file);
    writeFileSync(file, text, { flag: 'wx' });
    written.push(file);
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST') kept.push(file);
    else throw usageError('E_WRITE_FAILED', `cannot write ${file}: ${(error as Error).message}`);
  }
}

function createParent(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
}

export function configText(answers: Answers): string {
  const entry = { document: toPosix(answers.document), targets: answers.targets, out: toPosix(answers.out) };
  switch (answers.format) {
    case 'json':
      return JSON.stringify({ documents: [entry] }, null, 2) + '\n';
    case 'yaml':
      return [
        '# codegen configuration (see the docs: workflow.md)',
        'documents:',
        `  - document: ${yamlString(entry.document)}`,
        `    targets: [${entry.targets.map(yamlString).join(', ')}]`,
        `    out: ${yamlString(entry.out)}`,
        '',
      ].join('\n');
    case 'ts':
      // defineConfig from the package types the config; codegen resolves that import itself when it is not installed locally.
      return [`import { defineConfig } from '${PACKAGE_NAME}';`, '', `export default defineConfig(${moduleObject(entry)});`, ''].join('\n');
    default:
      return [
        '// codegen configuration (see the docs: workflow.md)',
        `/** @type {import('${PACKAGE_NAME}').CodegenConfig} */`,
        `export default ${moduleObject(entry)};`,
        '',
      ].join('\n');
  }
}

/** The config object as TypeScript or JavaScript source (the same in both). */
function moduleObject(entry: { document: string; targets: string[]; out: string }): string {
  return [
    '{',
    '  documents: [',
    '    {',
    `      document: ${tsString(entry.document)},`,
    `      targets: [${entry.targets.map(tsString).join(', ')}],`,
    `      out: ${tsString(entry.out)},`,
    '    },',
    '  ],',
    '}',
  ].join('\n');
}

function toPosix(file: string): string {
  return file.split(path.sep).join('/');
}

function tsString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function yamlString(text: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(text) && !/^(true|false|null|yes|no|on|off|~)$/i.test(text) ? text : JSON.stringify(text);
}

/** Adds `codegen` and `codegen:check` scripts; an existing script of that name is never replaced. */
function addScripts(cwd: string): { added: string[]; present: string[]; noPackage: boolean } {
  const file = path.join(cwd, 'package.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { added: [], present: [], noPackage: true };
  }
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw usageError('E_PACKAGE_JSON', 'package.json is not valid JSON: scripts not added (fix it, or pass --no-scripts)');
  }
  const scripts = (data.scripts && typeof data.scripts === 'object' ? data.scripts : {}) as Record<string, string>;
  const wanted: Record<string, string> = { codegen: 'codegen', 'codegen:check': 'codegen --check' };
  const added: string[] = [];
  const present: string[] = [];
  for (const [name, command] of Object.entries(wanted)) {
    if (name in scripts) present.push(name);
    else {
      scripts[name] = command;
      added.push(name);
    }
  }
  if (added.length > 0) {
    data.scripts = scripts;
    const indent = /^[ \t]+(?=")/m.exec(text)?.[0] ?? '  ';
    writeFileSync(file, JSON.stringify(data, null, indent) + (text.endsWith('\n') ? '\n' : ''));
  }
  return { added, present, noPackage: false };
}

/** A small valid AsyncAPI 3.0 document: one event the application sends and receives. */
export function exampleDocument(targets: string[]): string {
  return `asyncapi: 3.0.0
info:
  title: Accounts
  version: 1.0.0
  description: |
    Example written by \`codegen init\`${targets.length ? ` for ${targets.join(', ')}` : ''}: replace it with your service's events.
defaultContentType: application/json
channels:
  userSignedUp:
    address: accounts.user.signed-up
    description: A user created an account.
    messages:
      userSignedUp:
        $ref: '#/components/messages/UserSignedUp'
operations:
  publishUserSignedUp:
    action: send
    summary: Announce a new account.
    channel:
      $ref: '#/channels/userSignedUp'
    messages:
      - $ref: '#/channels/userSignedUp/messages/userSignedUp'
  onUserSignedUp:
    action: receive
    summary: React to a new account.
    channel:
      $ref: '#/channels/userSignedUp'
    messages:
      - $ref: '#/channels/userSignedUp/messages/userSignedUp'
components:
  messages:
    UserSignedUp:
      name: UserSignedUp
      title: User signed up
      payload:
        $ref: '#/components/schemas/UserSignedUp'
  schemas:
    UserSignedUp:
      type: object
      additionalProperties: false
      required: [userId, email, signedUpAt]
      properties:
        userId:
          type: string
          format: uuid
        email:
          type: string
          format: email
        signedUpAt:
          type: string
          format: date-time
`;
}
