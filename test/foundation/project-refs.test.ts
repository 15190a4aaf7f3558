import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, freshDir, gitProject, runInProcess, type CliResult } from '../helpers/codegen.js';

/**
 * `$ref`s across the folders of one project: fixtures/social-media has two services whose documents
 * share `../common/messages.yaml` (the layout of the multi-file example of the AsyncAPI
 * specification). The project root — the config file's folder, else the git work tree, else the
 * current folder, else the document's folder — is the boundary, the same for every command.
 */

const SERVICE = path.join('comments-service', 'asyncapi.yaml');
const temporary: string[] = [];
afterAll(() => temporary.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function git(dir: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.email=test@example.com', '-c', 'user.name=test', '-c', 'commit.gpgsign=false', ...args], { cwd: dir });
}

/** The social-media project copied into `dir` (its own git work tree when `withGit`). */
function socialMedia(dir: string, withGit: boolean): string {
  if (withGit) gitProject(dir);
  cpSync(path.join(FIXTURES, 'social-media'), dir, { recursive: true });
  return dir;
}

/** A folder outside any git work tree (the test folders are inside this repository's). */
function outsideGit(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'codegen-project-'));
  temporary.push(dir);
  return dir;
}

function expectOk(result: CliResult): void {
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).not.toMatch(/E_OUTSIDE_REF|refused/);
}

function expectRefused(result: CliResult, root: RegExp): void {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stderr).toMatch(/refused \$ref "\.\.\/common\/messages\.yaml": it leaves the project root, /);
  expect(result.stderr).toMatch(root);
  expect(result.stderr).toMatch(/--allow-outside-refs/);
  expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
}

/** generate, validate (both engines) and diff on the comments service, from `cwd`, with `document` as typed there. */
async function everyCommand(cwd: string, document: string): Promise<CliResult[]> {
  const notifications = path.join(path.dirname(document), '..', 'notifications-service', 'asyncapi.yaml');
  return [
    await runInProcess(['generate', document, '-t', 'kafka', '-o', path.join(cwd, 'out')], cwd),
    await runInProcess(['validate', document, '--engine', 'fast'], cwd),
    await runInProcess(['validate', document], cwd),
    // Two services sharing ../common: the notifications service lacks a channel, which is reported, not refused.
    await runInProcess(['diff', notifications, document, '--format', 'json'], cwd),
  ];
}

describe('$refs across the folders of one project', () => {
  it('in a git work tree: every command follows ../common/ from the project root and from a service folder', async () => {
    const project = socialMedia(freshDir('project-git'), true);
    for (const result of await everyCommand(project, SERVICE)) expectOk(result);
    for (const result of await everyCommand(path.join(project, 'comments-service'), 'asyncapi.yaml')) expectOk(result);
    const types = readFileSync(path.join(project, 'comments-service', 'out', 'types.ts'), 'utf8');
    expect(types).toMatch(/export interface CommentChangedPayload \{/);
  }, 60_000);

  it('diff --against a git revision reads ../common/ at that revision, from a service folder', async () => {
    const project = socialMedia(freshDir('project-against'), true);
    git(project, 'add', '.');
    git(project, 'commit', '-q', '-m', 'v1');
    const schemas = path.join(project, 'common', 'schemas.yaml');
    writeFileSync(schemas, readFileSync(schemas, 'utf8').replace('required: [commentId, likeCount]', 'required: [commentId]'));
    const result = await runInProcess(['diff', '--against', 'HEAD', 'asyncapi.yaml', '--format', 'json'], path.join(project, 'comments-service'));
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as { findings: Array<{ ruleId: string; new?: { file: string } }> };
    const removed = report.findings.find((f) => f.ruleId === 'SCHEMA_REQUIRED_REMOVED');
    expect(removed?.new?.file).toBe(path.join(project, 'common', 'schemas.yaml'));
  }, 60_000);

  it('refuses a $ref that leaves the git work tree, naming the root; --allow-outside-refs allows it', async () => {
    const outer = freshDir('project-beyond');
    const project = socialMedia(path.join(outer, 'repo'), true);
    cpSync(path.join(project, 'common'), path.join(outer, 'common'), { recursive: true });
    const service = path.join(project, 'comments-service', 'asyncapi.yaml');
    writeFileSync(service, readFileSync(service, 'utf8').replaceAll('../common/', '../../common/'));
    const result = await runInProcess(['generate', SERVICE, '-t', 'kafka', '-o', 'out'], project);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/refused \$ref "\.\.\/\.\.\/common\/messages\.yaml": it leaves the project root, the git work tree holding the document \(\.\)/);
    expect(existsSync(path.join(project, 'out'))).toBe(false);
    // With the flag, the same document is read.
    expectOk(await runInProcess(['generate', SERVICE, '-t', 'kafka', '-o', 'out', '--allow-outside-refs'], project));
  });

  it('with a config file, its folder is the root: the project-level config reaches ../common/, a config inside the service does not', async () => {
    const project = socialMedia(freshDir('project-config'), true);
    const config = (document: string) => JSON.stringify({ documents: [{ document, out: 'out', targets: ['kafka'] }] });
    writeFileSync(path.join(project, 'codegen.config.json'), config(SERVICE));
    expectOk(await runInProcess([], project));
    expectOk(await runInProcess(['--check'], project));
    // The same config from a sub-folder: the root stays the config file's folder.
    expectOk(await runInProcess(['--check', '--config', path.join('..', 'codegen.config.json')], path.join(project, 'notifications-service')));
    const service = path.join(project, 'comments-service');
    writeFileSync(path.join(service, 'codegen.config.json'), config('asyncapi.yaml'));
    expectRefused(await runInProcess([], service), /the config file's folder \(\.\)/);
    expect(existsSync(path.join(service, 'out'))).toBe(false);
  }, 60_000);

  it("outside any git work tree: the current folder when it holds the document, else the document's folder", async () => {
    const project = socialMedia(outsideGit(), false);
    for (const result of await everyCommand(project, SERVICE)) expectOk(result);
    // From the service folder, the current folder is the root: ../common is outside it.
    expectRefused(await runInProcess(['generate', 'asyncapi.yaml', '-t', 'kafka', '-o', 'out'], path.join(project, 'comments-service')), /the current folder \(\.\)/);
    // From a folder that does not hold the document, the document's folder is the root.
    const elsewhere = outsideGit();
    expectRefused(await runInProcess(['validate', path.join(project, SERVICE), '--engine', 'fast'], elsewhere), /the document's folder \(/);
  }, 60_000);
});
