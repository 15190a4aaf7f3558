// `codegen validate` remembers the parser's verdict by content: a second run on the same bytes is
// answered without importing the parser, and any change to any file of the document asks it again.
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, freshDir, runBinary } from '../helpers/codegen.js';

function remembered(cacheDir: string): number {
  const dir = path.join(cacheDir, 'validate');
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce((count, shard) => count + readdirSync(path.join(dir, shard)).length, 0);
}

describe('validate: the remembered parser verdict', () => {
  it('answers the same bytes the same way, and asks the parser again when any file of the document changes', async () => {
    const dir = freshDir('validate-cache');
    cpSync(path.join(FIXTURES, 'multi-file'), path.join(dir, 'doc'), { recursive: true });
    const cacheDir = path.join(dir, 'cache');
    const env = { CODEGEN_CACHE: '1', CODEGEN_CACHE_DIR: cacheDir };
    const run = () => runBinary(['validate', 'doc/asyncapi.yaml'], { cwd: dir, env });

    const first = await run();
    expect(first.code).toBe(0);
    expect(remembered(cacheDir)).toBe(1);
    const second = await run();
    expect(second).toEqual(first);
    expect(remembered(cacheDir)).toBe(1);

    // A referenced file (not the root) turns invalid: the verdict follows it.
    const parameters = path.join(dir, 'doc/parameters.yaml');
    const valid = readFileSync(parameters, 'utf8');
    writeFileSync(parameters, valid.replace(/description:/, 'description: 42\n  bogus:'));
    const broken = await run();
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/parameters\.yaml:\d+:\d+/);
    expect(remembered(cacheDir)).toBe(2);

    writeFileSync(parameters, valid);
    expect(await run()).toEqual(first);

    const uncached = await runBinary(['validate', 'doc/asyncapi.yaml', '--no-cache'], { cwd: dir, env: { ...env, CODEGEN_CACHE_DIR: path.join(dir, 'other') } });
    expect(uncached).toEqual(first);
    expect(existsSync(path.join(dir, 'other'))).toBe(false);
  }, 120_000);
});
