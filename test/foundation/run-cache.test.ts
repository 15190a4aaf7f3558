// A run answered from the content-hash cache must be exactly the run it stands for: any change to a
// file of the document (the root or one it references, directly or through a symlink), to a
// template, to an option or to the generator itself must miss the cache. A hit is found without
// parsing the files (their references are remembered by content), so these also check that the
// remembered references never stand for files whose bytes changed.
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { openCache, type Cache } from '../../src/cache/cache.js';
import { generateFiles, type GenerateRequest } from '../../src/pipeline/generate.js';
import { FIXTURES, freshDir, gitProject } from '../helpers/codegen.js';

// The generator's identity (version, build id, built-in templates), changeable by a test.
const identity = vi.hoisted(() => ({ suffix: '' }));
vi.mock('../../src/cache/fingerprint.js', async (original) => {
  const actual = await original<typeof import('../../src/cache/fingerprint.js')>();
  return { ...actual, buildFingerprint: () => actual.buildFingerprint() + identity.suffix };
});

const temporary: string[] = [];
afterAll(() => temporary.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

interface Project {
  dir: string;
  document: string;
  cache: Cache;
  run(overrides?: Partial<GenerateRequest>): ReturnType<typeof generateFiles>;
}

/** fixtures/multi-file in a git work tree of its own, with an empty cache. */
function project(): Project {
  const dir = gitProject(freshDir('run-cache'));
  temporary.push(dir);
  cpSync(path.join(FIXTURES, 'multi-file'), path.join(dir, 'doc'), { recursive: true });
  const document = path.join(dir, 'doc', 'asyncapi.yaml');
  const cache = openCache(path.join(dir, 'cache'));
  return { dir, document, cache, run: (overrides = {}) => generateFiles({ document, targets: ['nats'], cache, load: { cwd: dir }, ...overrides }) };
}

/** What a run produced, without the flag saying where it came from. */
const contentOf = (result: Awaited<ReturnType<typeof generateFiles>>) => ({ files: result.files, diagnostics: result.diagnostics, inputs: result.inputs });

describe('the run cache', () => {
  beforeEach(() => {
    identity.suffix = '';
  });

  it('answers the same bytes from the cache with what the run produced, and the same inputs', async () => {
    const p = project();
    const first = await p.run();
    expect(first.fromCache).toBe(false);
    expect(first.inputs).toHaveLength(5);
    const second = await p.run();
    expect(second.fromCache).toBe(true);
    expect(contentOf(second)).toEqual(contentOf(first));
  }, 60_000);

  it('misses when a referenced file changes, and when it changes back hits the first run again', async () => {
    const p = project();
    const first = await p.run();
    const stock = path.join(p.dir, 'doc', 'schemas', 'stock.yaml');
    const original = readFileSync(stock, 'utf8');
    writeFileSync(stock, original.replace(/sku:/, 'skuChanged:'));
    const changed = await p.run();
    expect(changed.fromCache).toBe(false);
    expect(changed.files.find((f) => f.path === 'types.ts')!.content).toContain('skuChanged');
    const uncached = await p.run({ cache: undefined });
    expect(contentOf(changed)).toEqual(contentOf(uncached));
    writeFileSync(stock, original);
    const back = await p.run();
    expect(back.fromCache).toBe(true);
    expect(contentOf(back)).toEqual(contentOf(first));
  }, 60_000);

  it('follows a reference added to, or removed from, a file: the new set of files is read', async () => {
    const p = project();
    await p.run();
    const message = path.join(p.dir, 'doc', 'messages', 'stock-changed.yaml');
    const original = readFileSync(message, 'utf8');
    writeFileSync(path.join(p.dir, 'doc', 'schemas', 'other.yaml'), 'type: object\nproperties:\n  addedField:\n    type: string\n');
    writeFileSync(message, original.replace("$ref: '../schemas/stock.yaml'", "$ref: '../schemas/other.yaml'"));
    const changed = await p.run();
    expect(changed.fromCache).toBe(false);
    expect(changed.inputs.map((file) => path.basename(file))).toContain('other.yaml');
    expect(changed.inputs.map((file) => path.basename(file))).not.toContain('stock.yaml');
    expect(changed.files.find((f) => f.path === 'types.ts')!.content).toContain('addedField');
    expect((await p.run()).fromCache).toBe(true);
  }, 60_000);

  it('misses when a reference through a symlink leads to another file with the same bytes elsewhere', async () => {
    const p = project();
    const doc = path.join(p.dir, 'doc');
    // schemas → variant-a; variant-b holds the same bytes: only the path differs.
    cpSync(path.join(doc, 'schemas'), path.join(doc, 'variant-a'), { recursive: true });
    cpSync(path.join(doc, 'schemas'), path.join(doc, 'variant-b'), { recursive: true });
    rmSync(path.join(doc, 'schemas'), { recursive: true });
    symlinkSync('variant-a', path.join(doc, 'schemas'));
    const first = await p.run();
    expect(first.inputs.some((file) => file.includes(`${path.sep}variant-a${path.sep}`))).toBe(true);
    rmSync(path.join(doc, 'schemas'));
    symlinkSync('variant-b', path.join(doc, 'schemas'));
    const second = await p.run();
    expect(second.fromCache).toBe(false);
    expect(second.inputs.some((file) => file.includes(`${path.sep}variant-b${path.sep}`))).toBe(true);
  }, 60_000);

  it('misses when a reference stops resolving, and reports it as a full load does', async () => {
    const p = project();
    await p.run();
    rmSync(path.join(p.dir, 'doc', 'parameters.yaml'));
    await expect(p.run()).rejects.toMatchObject({ diagnostics: [expect.objectContaining({ code: 'E_REF_NOT_FOUND' })] });
  }, 60_000);

  it('misses when an option, a template or the generator changes', async () => {
    const p = project();
    await p.run();
    for (const overrides of [{ targets: ['kafka'] }, { role: 'client' as const }, { validation: false }, { eventSource: 'urn:other' }]) {
      expect((await p.run(overrides)).fromCache, JSON.stringify(overrides)).toBe(false);
      expect((await p.run(overrides)).fromCache, JSON.stringify(overrides)).toBe(true);
    }
    const templates = path.join(p.dir, 'templates');
    mkdirSync(templates);
    writeFileSync(path.join(templates, 'README.md'), 'one\n');
    expect((await p.run({ templatesDir: templates })).fromCache).toBe(false);
    expect((await p.run({ templatesDir: templates })).fromCache).toBe(true);
    writeFileSync(path.join(templates, 'README.md'), 'two\n');
    expect((await p.run({ templatesDir: templates })).fromCache).toBe(false);

    expect((await p.run()).fromCache).toBe(true);
    identity.suffix = ' (another build)';
    expect((await p.run()).fromCache).toBe(false);
  }, 120_000);
});
