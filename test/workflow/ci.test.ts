import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/codegen.js';
import { BIN, binary, binaryEnv, git, project } from './support.js';

const execFileAsync = promisify(execFile);

interface Step {
  name?: string;
  run?: string;
}

/** The `npx codegen ...` commands of a CI example, with the platform's variables filled in. */
function githubCommands(): string[] {
  const workflow = parse(readFileSync(path.join(ROOT, 'examples/ci/github-actions.yml'), 'utf8')) as { jobs: Record<string, { steps: Step[] }> };
  return Object.values(workflow.jobs)
    .flatMap((job) => job.steps)
    .map((step) => step.run ?? '')
    .filter((run) => run.startsWith('npx codegen'))
    .map((run) => run.replace('${{ github.base_ref }}', 'main'));
}

function gitlabCommands(): string[] {
  const pipeline = parse(readFileSync(path.join(ROOT, 'examples/ci/gitlab-ci.yml'), 'utf8')) as Record<string, { script?: string[] }>;
  return Object.values(pipeline)
    .flatMap((job) => job.script ?? [])
    .filter((line) => line.startsWith('npx codegen'))
    .map((line) => line.replace(/\$CI_MERGE_REQUEST_TARGET_BRANCH_NAME/g, 'main'));
}

/** Runs `npx codegen a b "c" > file` with the built binary; returns the exit code and output. */
async function runCommand(line: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string; redirected?: string }> {
  const tokens = line.split(/\s+/).map((token) => token.replace(/^"(.*)"$/, '$1'));
  expect(tokens.slice(0, 2)).toEqual(['npx', 'codegen']);
  let args = tokens.slice(2);
  let redirect: string | undefined;
  const at = args.indexOf('>');
  if (at !== -1) {
    redirect = args[at + 1];
    args = args.slice(0, at);
  }
  let result: { code: number; stdout: string; stderr: string };
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [BIN, ...args], { cwd, env: binaryEnv() });
    result = { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    result = { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
  if (redirect) writeFileSync(path.join(cwd, redirect), result.stdout);
  return { ...result, redirected: redirect ? result.stdout : undefined };
}

describe('CI examples (examples/ci), run as written against a repository with a breaking change', () => {
  let repo: string;
  beforeAll(async () => {
    repo = project('ci', { 'codegen.config.json': JSON.stringify({ documents: [{ document: 'asyncapi.yaml', out: 'src/events' }] }) });
    await git(repo, 'init', '-q', '-b', 'main');
    expect((await binary([], repo)).code).toBe(0);
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-q', '-m', 'initial');
    // What `actions/checkout` with fetch-depth 0 (or `git fetch origin main`) leaves behind.
    await git(repo, 'update-ref', 'refs/remotes/origin/main', 'HEAD');
    await git(repo, 'checkout', '-q', '-b', 'feature');
    const schema = path.join(repo, 'schemas/user.yaml');
    writeFileSync(schema, readFileSync(schema, 'utf8').replace('    email:\n      type: string\n      format: email\n', '    email:\n      type: integer\n'));
    expect((await binary([], repo)).code).toBe(0);
    await git(repo, 'commit', '-q', '-am', 'email becomes a number');
  });

  it('GitHub Actions: --check passes (output up to date), the diff step fails with annotations', async () => {
    const [check, diff] = githubCommands();
    expect(check).toBe('npx codegen --check --format github');
    expect(diff).toBe('npx codegen diff --against origin/main asyncapi.yaml --format github');
    const checked = await runCommand(check!, repo);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toBe('');
    const diffed = await runCommand(diff!, repo);
    expect(diffed.code).toBe(1);
    expect(diffed.stdout).toMatch(/^::error file=schemas\/user\.yaml,.*title=SCHEMA_[A-Z_]+ \(breaking\)/m);

    // The config-wide variant in the comment does both, with the same annotations.
    const combined = await runCommand('npx codegen --check --against origin/main --format github', repo);
    expect(combined.code).toBe(1);
    expect(combined.stdout).toMatch(/^::error file=schemas\/user\.yaml,.*title=SCHEMA_[A-Z_]+ \(breaking\)/m);

    // Stale output is annotated on the generated file.
    const types = path.join(repo, 'src/events/types.ts');
    const original = readFileSync(types, 'utf8');
    writeFileSync(types, original + '// edited\n');
    const stale = await runCommand(check!, repo);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toContain('::error file=src/events/types.ts,title=codegen --check::stale generated file');
    writeFileSync(types, original);
  });

  it('--baseline compares with the config\'s compatibility.baseline; without one it cannot run', async () => {
    writeFileSync(path.join(repo, 'with-baseline.json'), JSON.stringify({ compatibility: { baseline: 'origin/main' }, documents: [{ document: 'asyncapi.yaml', out: 'src/events' }] }));
    const result = await binary(['--check', '--baseline', '--config', 'with-baseline.json', '--json'], repo);
    expect(result.code).toBe(1);
    const entry = JSON.parse(result.stdout).entries[0];
    expect(entry.status).toBe('ok');
    expect(entry.compatibility).toMatchObject({ against: ['origin/main'], exitCode: 1 });
    expect(entry.compatibility.report.summary.breaking).toBeGreaterThan(0);
    // Accepting warnings and breaks on purpose (failOn: never) reports them and passes.
    writeFileSync(path.join(repo, 'lenient.json'), JSON.stringify({ compatibility: { baseline: 'origin/main', failOn: 'never' }, documents: [{ document: 'asyncapi.yaml', out: 'src/events' }] }));
    const lenient = await binary(['--check', '--baseline', '--config', 'lenient.json'], repo);
    expect(lenient.code).toBe(0);
    expect(lenient.stderr).toMatch(/BREAKING \(\d+\)/);
    const none = await binary(['--check', '--baseline'], repo);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--baseline: documents[0] of codegen.config.json has no compatibility.baseline');
  });

  it('GitLab CI: --check passes, the diff writes a JUnit report with the failure and exits 1', async () => {
    const [check, diff] = gitlabCommands();
    expect(check).toBe('npx codegen --check');
    expect(diff).toBe('npx codegen diff --against "origin/main" asyncapi.yaml --format junit > codegen-diff.xml');
    expect((await runCommand(check!, repo)).code).toBe(0);
    const diffed = await runCommand(diff!, repo);
    expect(diffed.code).toBe(1);
    const xml = readFileSync(path.join(repo, 'codegen-diff.xml'), 'utf8');
    expect(xml).toMatch(/^<\?xml/);
    expect(xml).toMatch(/<failure[^>]*>/);
    expect(xml).toContain('email');
  });
});
