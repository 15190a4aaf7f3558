// src/git.ts, the one module that calls git, on real repositories: the work tree root (from the
// file system), the staged files, and what exists or changed at a revision.
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitWorkTreeRoot, openRevision, stagedFiles, unchangedSince } from '../../src/git.js';
import { freshDir } from '../helpers/codegen.js';
import { git } from './support.js';

/** A repository with one committed file, `api/asyncapi.yaml`. */
async function repository(label: string): Promise<string> {
  const repo = freshDir(label);
  await git(repo, 'init', '-q', '-b', 'main');
  mkdirSync(path.join(repo, 'api'));
  writeFileSync(path.join(repo, 'api/asyncapi.yaml'), 'asyncapi: 3.0.0\n');
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '-q', '-m', 'initial');
  return repo;
}

describe('src/git.ts', () => {
  it('gitWorkTreeRoot: the nearest folder upwards with a .git folder or file', async () => {
    const repo = await repository('git-root');
    mkdirSync(path.join(repo, 'a/b/c'), { recursive: true });
    expect(gitWorkTreeRoot(path.join(repo, 'a/b/c'))).toBe(repo);
    expect(gitWorkTreeRoot(repo)).toBe(repo);
    // A linked worktree or a submodule has a `.git` file: its folder is a root of its own.
    writeFileSync(path.join(repo, 'a/.git'), 'gitdir: ../.git/worktrees/a\n');
    expect(gitWorkTreeRoot(path.join(repo, 'a/b/c'))).toBe(path.join(repo, 'a'));
  });

  it('a revision reader and unchangedSince answer from the revision, not the working tree', async () => {
    const repo = await repository('git-revision');
    const document = path.join(repo, 'api/asyncapi.yaml');
    const added = path.join(repo, 'api/new.yaml');
    writeFileSync(added, 'asyncapi: 3.0.0\n');
    const revision = await openRevision('HEAD', document, repo);
    try {
      expect(await revision.readFile(document)).toBe(readFileSync(document, 'utf8'));
      expect(await revision.readFile(added)).toBeUndefined();
    } finally {
      revision.close();
    }
    // A ref that names nothing is not "a new document": the ref itself is reported.
    await expect(openRevision('no-such-branch', added, repo)).rejects.toMatchObject({ diagnostics: [expect.objectContaining({ code: 'E_BAD_REF' })] });
    expect(await unchangedSince([document], 'HEAD')).toBe(true);
    writeFileSync(document, 'asyncapi: 3.1.0\n');
    expect(await unchangedSince([document], 'HEAD')).toBe(false);
    expect(await unchangedSince([document], '--output=x')).toBe(false);
  });

  it('stagedFiles lists what is staged, as absolute paths; where git cannot run, a usage error', async () => {
    const repo = await repository('git-staged');
    writeFileSync(path.join(repo, 'api/asyncapi.yaml'), 'asyncapi: 3.1.0\n');
    writeFileSync(path.join(repo, 'notes.md'), 'not staged\n');
    await git(repo, 'add', 'api/asyncapi.yaml');
    expect(await stagedFiles(path.join(repo, 'api'))).toEqual([path.join(realpathSync(repo), 'api/asyncapi.yaml')]);
    await expect(stagedFiles(path.join(repo, 'no-such-folder'))).rejects.toThrow(/--staged needs a git repository/);
  });
});
