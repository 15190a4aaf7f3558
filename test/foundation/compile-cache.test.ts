import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, freshDir, runBinary } from '../helpers/codegen.js';

// The hook replaces Node's CommonJS compile for the whole process, so it is tried in child processes
// (the built dist/, as the binary uses it), never inside the test runner.
const HOOK = pathToFileURL(path.join(ROOT, 'dist/cli/compile-cache.js')).href;
const SETUP = pathToFileURL(path.join(ROOT, 'dist/cli/compile-cache-setup.js')).href;

interface Loaded {
  stats: { hits: number; misses: number; rejected: number } | null;
  value: unknown;
}

/** Requires `module.cjs` of `dir` in a fresh process, through the hook unless `hook` is false. */
function load(dir: string, options: { hook?: boolean; store?: string } = {}): Loaded {
  const script = `
    import { createRequire } from 'node:module';
    import { installCompileCache } from ${JSON.stringify(HOOK)};
    const store = ${JSON.stringify(options.store ?? path.join(dir, 'store'))};
    const stats = ${options.hook === false ? 'null' : 'installCompileCache({ read: [store], write: store })'};
    const value = createRequire(import.meta.url)(${JSON.stringify(path.join(dir, 'module.cjs'))});
    process.stdout.write(JSON.stringify({ stats, value }));
  `;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as Loaded;
}

/** A module reporting what Node hands a CommonJS module, and a value computed by a lazily compiled function. */
const PROBE = `
  const path = require('node:path');
  function later(n) { return n * 6; }
  module.exports = {
    answer: later(7),
    thisIsExports: this === module.exports,
    filename: path.basename(__filename),
    dirname: __dirname === path.dirname(__filename),
    resolves: path.basename(require.resolve('./helper.cjs')),
    lookupPaths: Array.isArray(require.resolve.paths('ajv')),
    helper: require('./helper.cjs'),
    cache: typeof require.cache,
    stack: new Error('here').stack.split('\\n')[1].includes('module.cjs:'),
  };
`;

function probeDir(): string {
  const dir = freshDir('compile-cache');
  writeFileSync(path.join(dir, 'module.cjs'), PROBE);
  writeFileSync(path.join(dir, 'helper.cjs'), 'module.exports = "helped";\n');
  return dir;
}

function entries(store: string): string[] {
  return readdirSync(store, { recursive: true, encoding: 'utf8' }).filter((name) => !name.endsWith('.tmp') && /[0-9a-f]{40}$/.test(name));
}

describe('the CommonJS compile cache', () => {
  it('gives a module what Node gives it, and reuses the compiled code on the next run', () => {
    const dir = probeDir();
    const plain = load(dir, { hook: false });
    const first = load(dir);
    expect(first.value).toEqual(plain.value);
    expect(first.stats).toEqual({ hits: 0, misses: 2, rejected: 0 });
    expect(entries(path.join(dir, 'store'))).toHaveLength(2);
    const second = load(dir);
    expect(second.value).toEqual(plain.value);
    expect(second.stats).toEqual({ hits: 2, misses: 0, rejected: 0 });
  });

  it('never runs another text of a file, even one of the same length', () => {
    const dir = freshDir('compile-cache-edit');
    writeFileSync(path.join(dir, 'module.cjs'), 'module.exports = 1;\n');
    expect(load(dir).value).toBe(1);
    writeFileSync(path.join(dir, 'module.cjs'), 'module.exports = 2;\n');
    const edited = load(dir);
    expect(edited.value).toBe(2);
    expect(edited.stats?.misses).toBe(1);
  });

  it('compiles as usual when an entry is damaged, and replaces it', () => {
    const dir = probeDir();
    const plain = load(dir, { hook: false });
    load(dir);
    for (const entry of entries(path.join(dir, 'store'))) writeFileSync(path.join(dir, 'store', entry), 'not V8 code');
    const damaged = load(dir);
    expect(damaged.value).toEqual(plain.value);
    expect(damaged.stats).toEqual({ hits: 0, misses: 0, rejected: 2 });
    expect(load(dir).stats).toEqual({ hits: 2, misses: 0, rejected: 0 });
  });

  it('only costs time when its folder cannot be written', () => {
    const dir = probeDir();
    const blocked = path.join(dir, 'a-file');
    writeFileSync(blocked, '');
    const plain = load(dir, { hook: false });
    expect(load(dir, { store: path.join(blocked, 'store') }).value).toEqual(plain.value);
    expect(load(dir, { store: path.join(blocked, 'store') }).stats).toEqual({ hits: 0, misses: 2, rejected: 0 });
  });

  it("leaves a user's own CommonJS (a config file) to Node", async () => {
    const { isPackageCode } = (await import(SETUP)) as { isPackageCode: (file: string) => boolean };
    expect(isPackageCode(path.join(ROOT, 'node_modules', 'ajv', 'dist', 'ajv.js'))).toBe(true);
    expect(isPackageCode(path.join(ROOT, 'dist', 'asyncapi-schemas', '3.0.0.cjs'))).toBe(true);
    expect(isPackageCode(path.join(ROOT, 'codegen.config.cjs'))).toBe(false);
  });

  it('ships entries for the precompiled AsyncAPI schemas that this Node accepts', () => {
    const script = `
      import { createRequire } from 'node:module';
      import { installCliCompileCache } from ${JSON.stringify(SETUP)};
      const stats = installCliCompileCache(process.cwd(), {}, ['validate', 'asyncapi.yaml', '--no-cache']);
      createRequire(import.meta.url)(${JSON.stringify(path.join(ROOT, 'dist/asyncapi-schemas/3.0.0.cjs'))});
      process.stdout.write(JSON.stringify(stats));
    `;
    const stats = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as Loaded['stats'];
    expect(stats).toEqual({ hits: 1, misses: 0, rejected: 0 });
  });

  it('is written to the cache folder by the binary, and not at all with CODEGEN_CACHE=0 or --no-cache', async () => {
    const document = path.join(FIXTURES, 'spec/3.0/streetlights-mqtt-asyncapi.yml');
    const cacheDir = freshDir('compile-cache-cli');
    const args = ['validate', document, '--engine', 'fast'];
    const uncached = await runBinary(args, { env: { CODEGEN_COMPILE_CACHE: '0' } });
    // The test run sets CODEGEN_CACHE=0 for every test (vitest.config.ts): turned back on here.
    const first = await runBinary(args, { env: { CODEGEN_CACHE: '1', CODEGEN_CACHE_DIR: cacheDir } });
    expect(entries(path.join(cacheDir, 'compile')).length).toBeGreaterThan(0);
    const second = await runBinary(args, { env: { CODEGEN_CACHE: '1', CODEGEN_CACHE_DIR: cacheDir } });
    for (const result of [first, second]) expect(result).toEqual(uncached);
    const off = freshDir('compile-cache-off');
    expect(await runBinary(args, { env: { CODEGEN_CACHE_DIR: off, CODEGEN_CACHE: '0' } })).toEqual(uncached);
    expect(existsSync(path.join(off, 'compile'))).toBe(false);
    expect(await runBinary([...args, '--no-cache'], { env: { CODEGEN_CACHE: '1', CODEGEN_CACHE_DIR: off } })).toEqual(uncached);
    expect(existsSync(path.join(off, 'compile'))).toBe(false);
  });
});
