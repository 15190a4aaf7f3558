import { execFile } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/codegen.js';
import { BIN, binary, binaryEnv, git, gitEnv, project } from './support.js';

const execFileAsync = promisify(execFile);

interface HookDefinition {
  id: string;
  entry: string;
  files: string;
  pass_filenames: boolean;
}

const HOOKS = parse(readFileSync(path.join(ROOT, '.pre-commit-hooks.yaml'), 'utf8')) as HookDefinition[];

/** The documented husky hook (docs/workflow.md): `npx codegen --check --against HEAD --staged`, here with the built binary. */
function installHusky(repo: string): void {
  const hook = path.join(repo, '.git/hooks/pre-commit');
  writeFileSync(hook, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" --check --against HEAD --staged\n`);
  chmodSync(hook, 0o755);
}

/**
 * What the pre-commit framework does with .pre-commit-hooks.yaml's `codegen` hook: the staged files
 * matching `files`, passed after `entry` (the hook is skipped when none match).
 */
function installPreCommitFramework(repo: string): void {
  const definition = HOOKS.find((hook) => hook.id === 'codegen')!;
  const [command, ...args] = definition.entry.split(/\s+/);
  expect(command).toBe('codegen');
  const runner = path.join(repo, '.git/hooks/pre-commit-framework.mjs');
  writeFileSync(
    runner,
    `import { execFileSync, spawnSync } from 'node:child_process';
const staged = execFileSync('git', ['diff', '--cached', '--name-only', '--diff-filter=ACMR', '-z']).toString().split('\\0').filter(Boolean);
const pattern = new RegExp(${JSON.stringify(definition.files)});
const files = staged.filter((file) => pattern.test(file));
if (files.length === 0) process.exit(0);
const result = spawnSync(process.execPath, [${JSON.stringify(BIN)}, ...${JSON.stringify(args)}, ...${definition.pass_filenames ? 'files' : '[]'}], { stdio: 'inherit' });
process.exit(result.status ?? 1);
`,
  );
  const hook = path.join(repo, '.git/hooks/pre-commit');
  writeFileSync(hook, `#!/bin/sh\nexec "${process.execPath}" "${runner}"\n`);
  chmodSync(hook, 0o755);
}

/** `git commit`, returning its exit code and everything the hook printed. */
async function commit(repo: string, message: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync('git', ['commit', '-m', message], { cwd: repo, env: { ...gitEnv(), ...binaryEnv() } });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

async function commitCount(repo: string): Promise<number> {
  return Number((await git(repo, 'rev-list', '--count', 'HEAD')).trim());
}

/** A git repository with the workflow fixture, its config and its generated code committed. */
async function repository(label: string): Promise<string> {
  const repo = project(label, { 'codegen.config.json': JSON.stringify({ documents: [{ document: 'asyncapi.yaml', out: 'src/events' }] }, null, 2) + '\n' });
  await git(repo, 'init', '-q', '-b', 'main');
  const generated = await binary([], repo);
  expect(generated.code).toBe(0);
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '-q', '-m', 'initial');
  return repo;
}

function editSchema(repo: string, edit: (text: string) => string): void {
  const file = path.join(repo, 'schemas/user.yaml');
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
}

const describeEmail = (text: string) => text.replace('      format: email\n', '      format: email\n      description: Where the welcome mail goes.\n');
const breakEmail = (text: string) => text.replace('    email:\n      type: string\n      format: email\n', '    email:\n      type: integer\n');

describe('.pre-commit-hooks.yaml', () => {
  it('declares the hooks the docs describe', () => {
    expect(HOOKS.map((hook) => [hook.id, hook.entry])).toEqual([
      ['codegen', 'codegen --check --against HEAD'],
      ['codegen-check', 'codegen --check'],
    ]);
    const files = new RegExp(HOOKS[0]!.files);
    for (const file of ['asyncapi.yaml', 'api/orders.yml', 'schemas/user.json', 'templates/kafka/client.ts.hbs', 'codegen.config.ts', 'src/events/types.ts', '.codegenrc']) expect(files.test(file), file).toBe(true);
    for (const file of ['README.md', 'image.png']) expect(files.test(file), file).toBe(false);
  });
});

for (const [name, install] of [
  ['pre-commit framework hook (.pre-commit-hooks.yaml)', installPreCommitFramework],
  ['husky hook (--staged)', installHusky],
] as const) {
  describe(name, () => {
    let repo: string;
    beforeAll(async () => {
      repo = await repository('hook');
      install(repo);
    });

    it('a compatible change (a description), regenerated and staged: the commit passes', async () => {
      editSchema(repo, describeEmail);
      expect((await binary([], repo)).code).toBe(0);
      await git(repo, 'add', '-A');
      const before = await commitCount(repo);
      const result = await commit(repo, 'describe email');
      expect(result.code, result.output).toBe(0);
      expect(result.output).toContain('✔ asyncapi.yaml → src/events: up to date');
      expect(await commitCount(repo)).toBe(before + 1);
    });

    it('a breaking change, regenerated and staged: the commit is blocked with the finding', async () => {
      editSchema(repo, breakEmail);
      expect((await binary([], repo)).code).toBe(0);
      await git(repo, 'add', '-A');
      const before = await commitCount(repo);
      const result = await commit(repo, 'email becomes a number');
      expect(result.code).not.toBe(0);
      expect(result.output).toContain('✔ asyncapi.yaml → src/events: up to date');
      expect(result.output).toMatch(/BREAKING \(\d+\)/);
      expect(result.output).toMatch(/SCHEMA_[A-Z_]+ .*email/);
      expect(result.output).toContain('schemas/user.yaml');
      expect(await commitCount(repo)).toBe(before);
      // Undo for the next case.
      await git(repo, 'reset', '-q', '--hard', 'HEAD');
    });

    it('a document staged without regenerating: the commit is blocked, listing the stale files', async () => {
      editSchema(repo, (text) => text + '    locale:\n      type: string\n');
      await git(repo, 'add', 'schemas/user.yaml');
      const before = await commitCount(repo);
      const result = await commit(repo, 'forgot to regenerate');
      expect(result.code).not.toBe(0);
      expect(result.output).toContain('stale    src/events/types.ts');
      expect(result.output).toContain('run `codegen` to update the generated code');
      expect(await commitCount(repo)).toBe(before);
      await git(repo, 'reset', '-q', '--hard', 'HEAD');
    });

    it('a hand-edited generated file staged: blocked', async () => {
      const file = path.join(repo, 'src/events/types.ts');
      writeFileSync(file, readFileSync(file, 'utf8') + '// tweak\n');
      await git(repo, 'add', '-A');
      const result = await commit(repo, 'tweak generated code');
      expect(result.code).not.toBe(0);
      expect(result.output).toContain('stale    src/events/types.ts');
      // The document did not change: the compatibility check has nothing to compare.
      expect(result.output).toContain('asyncapi.yaml and the files it references are unchanged since HEAD: nothing to compare');
      await git(repo, 'reset', '-q', '--hard', 'HEAD');
    });

    it('a new document (not in HEAD yet) and an unrelated change pass', async () => {
      const config = JSON.stringify({ documents: [{ document: 'asyncapi.yaml', out: 'src/events' }, { document: 'billing.yaml', out: 'src/billing' }] }, null, 2) + '\n';
      writeFileSync(path.join(repo, 'codegen.config.json'), config);
      writeFileSync(path.join(repo, 'billing.yaml'), readFileSync(path.join(repo, 'asyncapi.yaml'), 'utf8').replace('title: Accounts', 'title: Billing'));
      expect((await binary([], repo)).code).toBe(0);
      await git(repo, 'add', '-A');
      let result = await commit(repo, 'billing events');
      expect(result.code, result.output).toBe(0);
      expect(result.output).toContain('billing.yaml does not exist at HEAD: a new document, nothing to compare');
      writeFileSync(path.join(repo, 'README.md'), '# service\n');
      await git(repo, 'add', 'README.md');
      result = await commit(repo, 'readme');
      expect(result.code, result.output).toBe(0);
    });
  });
}

// The hook remembers each comparison's report by content (src/run/compare.ts): a report must never
// answer for other bytes of any file of either version, nor for another ignore file.
describe('the remembered comparison (--check --against HEAD --staged, run twice)', () => {
  const hook = ['--check', '--against', 'HEAD', '--staged'];
  const remembered = (): number => {
    const dir = path.join(binaryEnv().CODEGEN_CACHE_DIR!, 'diff');
    return existsSync(dir) ? readdirSync(dir).reduce((count, shard) => count + readdirSync(path.join(dir, shard)).length, 0) : 0;
  };

  it('blocks a breaking change each time, passes once it is undone in a referenced file, and follows the ignore file', async () => {
    const repo = await repository('hook-remembered');
    const stage = async (edit: (text: string) => string) => {
      const file = path.join(repo, 'schemas/user.yaml');
      writeFileSync(file, edit(readFileSync(path.join(repo, 'schemas/user.original.yaml'), 'utf8')));
      expect((await binary([], repo)).code).toBe(0);
      await git(repo, 'add', '-A');
    };
    writeFileSync(path.join(repo, 'schemas/user.original.yaml'), readFileSync(path.join(repo, 'schemas/user.yaml'), 'utf8'));

    await stage(breakEmail);
    const first = await binary(hook, repo);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stderr).toMatch(/SCHEMA_[A-Z_]+ .*email/);
    const count = remembered();
    expect(count).toBeGreaterThan(0);
    const second = await binary(hook, repo);
    expect(second).toEqual(first);
    expect(remembered()).toBe(count);

    // Only the referenced file changes (the root document's bytes are the same).
    await stage(describeEmail);
    const compatible = await binary(hook, repo);
    expect(compatible.code, compatible.stderr).toBe(0);
    expect(compatible.stderr).not.toMatch(/BREAKING/);

    await stage(breakEmail);
    expect(await binary(hook, repo)).toEqual(first);

    const findings = JSON.parse((await binary(['diff', 'asyncapi.yaml', '--against', 'HEAD', '--format', 'json'], repo)).stdout).findings as Array<{ ruleId: string; new?: { pointer: string }; old?: { pointer: string } }>;
    const ignore = findings.map((f) => `  - rule: ${f.ruleId}\n    pointer: ${JSON.stringify(f.new?.pointer ?? f.old?.pointer)}\n    reason: accepted in this test\n`).join('');
    writeFileSync(path.join(repo, '.codegen-diff-ignore.yaml'), `ignore:\n${ignore}`);
    const ignored = await binary(hook, repo);
    expect(ignored.code, ignored.stderr).toBe(0);
    rmSync(path.join(repo, '.codegen-diff-ignore.yaml'));
    expect(await binary(hook, repo)).toEqual(first);
  });
});
