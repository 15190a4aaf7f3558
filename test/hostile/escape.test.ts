import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, freshDir, gitProject, runInProcess } from '../helpers/codegen.js';

/**
 * Documents that try to make the generator read or write where it must not. What
 * test/foundation/bad-input.test.ts and output.test.ts already cover (a `../` reference, a symlink
 * out of the folder, http://127.0.0.1:1, --out at /, at the document, through a symlink) is not
 * repeated here; this file adds the rest.
 */

const VALID = readFileSync(path.join(FIXTURES, 'orders/orders-3.0.yaml'), 'utf8');
const LINE_REF = "$ref: '#/components/schemas/OrderLine'";

/** A project folder holding `doc.yaml` (a valid document whose OrderLine reference is replaced by `ref`). */
function project(label: string, ref?: string): { root: string; dir: string; doc: string } {
  const root = freshDir(label);
  const dir = gitProject(path.join(root, 'project'));
  const doc = path.join(dir, 'doc.yaml');
  writeFileSync(doc, ref === undefined ? VALID : VALID.replace(LINE_REF, `$ref: '${ref}'`));
  return { root, dir, doc };
}

function expectClean(result: { code: number; stderr: string }, code: number, message: RegExp): void {
  expect(result.code, result.stderr).toBe(code);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
}

describe('references that leave the document', () => {
  it.each([
    ['a relative path up to /etc/passwd', '../../../../../../../../etc/passwd', /refused \$ref "\.\.\/(?:\.\.\/)+etc\/passwd": it leaves the project root, the git work tree holding the document \(\.\); pass --allow-outside-refs/],
    ['an absolute path', '/etc/passwd', /refused \$ref "\/etc\/passwd": it leaves the project root/],
    ['an absolute path with a pointer', '/etc/passwd#/root', /refused \$ref "\/etc\/passwd": it leaves the project root/],
    ['a file: URL', 'file:///etc/passwd', /refused remote \$ref "file:\/\/\/etc\/passwd": remote references are off by default; pass --allow-remote-refs/],
  ])('%s: refused (exit 1), said where, nothing written, for generate and both validate engines', async (_, ref, message) => {
    const { dir } = project('escape-ref', ref);
    const out = path.join(dir, 'out');
    expectClean(await runInProcess(['generate', 'doc.yaml', '-t', 'kafka', '-o', out], dir), 1, message);
    expect(existsSync(out)).toBe(false);
    expectClean(await runInProcess(['validate', 'doc.yaml', '--engine', 'fast'], dir), 1, message);
    expectClean(await runInProcess(['validate', 'doc.yaml'], dir), 1, message);
  });

  it('with --allow-outside-refs, a file outside is read (the flag works) but a non-document is still refused cleanly', async () => {
    const { root, dir } = project('escape-allowed', '../shared/line.yaml');
    mkdirSync(path.join(root, 'shared'));
    writeFileSync(path.join(root, 'shared', 'line.yaml'), 'type: object\nproperties:\n  sku: { type: string }\n');
    expect((await runInProcess(['generate', 'doc.yaml', '-o', 'out', '--allow-outside-refs'], dir)).code).toBe(0);
    const passwd = project('escape-passwd', '/etc/passwd');
    const result = await runInProcess(['generate', 'doc.yaml', '-o', 'out', '--allow-outside-refs'], passwd.dir);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(existsSync(path.join(passwd.dir, 'out'))).toBe(false);
  });

  it('never opens a FIFO or a device: a named pipe in the folder, /dev/zero outside it', async () => {
    const { dir } = project('escape-fifo', './pipe.yaml');
    execFileSync('mkfifo', [path.join(dir, 'pipe.yaml')]);
    // Opening a FIFO for reading blocks until a writer comes: reaching the end of this test is the proof.
    expectClean(await runInProcess(['generate', 'doc.yaml', '-o', 'out'], dir), 1, /refused: pipe\.yaml is not a regular file/);
    const zero = project('escape-zero', '/dev/zero');
    expectClean(await runInProcess(['generate', 'doc.yaml', '-o', 'out', '--allow-outside-refs'], zero.dir), 1, /refused: \/dev\/zero is not a regular file/);
    expect(existsSync(path.join(zero.dir, 'out'))).toBe(false);
  });

  it('a document that is itself a FIFO is refused, not waited for', async () => {
    const { dir } = project('escape-fifo-root');
    execFileSync('mkfifo', [path.join(dir, 'fifo.yaml')]);
    expectClean(await runInProcess(['generate', 'fifo.yaml', '-o', 'out'], dir), 1, /not a regular file/);
  });
});

describe('no network access unless allowed', () => {
  let server: Server;
  let requests: string[];
  let base: string;

  beforeAll(async () => {
    requests = [];
    server = createServer((request, response) => {
      requests.push(request.url ?? '');
      if (request.url === '/endless') {
        // A server that never stops sending: the reader must stop at its size limit.
        response.writeHead(200, { 'content-type': 'application/yaml' });
        const chunk = Buffer.alloc(1024 * 1024, 0x61);
        const pump = () => {
          while (response.write(chunk)) {
            if (response.destroyed) return;
          }
          response.once('drain', pump);
        };
        response.on('close', () => response.removeAllListeners('drain'));
        pump();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/yaml' });
      response.end('type: object\nproperties:\n  sku: { type: string }\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('makes no request for a remote $ref, a $schema, a $id, or any URL in the document, in generate and both validate engines', async () => {
    const { dir } = project('no-fetch', `${base}/line.yaml`);
    const text = readFileSync(path.join(dir, 'doc.yaml'), 'utf8')
      .replace('  title: Orders', `  title: Orders\n  termsOfService: ${base}/terms\n  externalDocs:\n    url: ${base}/docs`)
      .replace(/(\n {4}Order:\n)/, `$1      $schema: '${base}/schema'\n      $id: '${base}/id'\n`);
    writeFileSync(path.join(dir, 'doc.yaml'), text);
    requests.length = 0;
    expectClean(await runInProcess(['generate', 'doc.yaml', '-o', 'out'], dir), 1, /refused remote \$ref .*--allow-remote-refs/);
    expectClean(await runInProcess(['validate', 'doc.yaml', '--engine', 'fast'], dir), 1, /refused remote \$ref/);
    expectClean(await runInProcess(['validate', 'doc.yaml'], dir), 1, /refused remote \$ref/);
    expect(requests).toEqual([]);
    // The positive control: with the flag, the same server is asked once per run, and nothing else.
    const allowed = await runInProcess(['generate', 'doc.yaml', '-o', 'out', '--allow-remote-refs'], dir);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(requests).toEqual(['/line.yaml']);
  });

  it('with --allow-remote-refs, a response that never ends is cut at the size limit', async () => {
    const { dir } = project('endless', `${base}/endless`);
    const started = Date.now();
    const result = await runInProcess(['generate', 'doc.yaml', '-o', 'out', '--allow-remote-refs'], dir);
    expectClean(result, 1, /cannot fetch http:\/\/127\.0\.0\.1:\d+\/endless: response larger than the \d+-byte limit/);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  });
});

describe('YAML cannot run code', () => {
  it.each([
    ['a JavaScript function tag', "!!js/function 'function () { globalThis.pwned = true }'"],
    ['a Python object tag', '!!python/object/apply:os.system ["touch pwned"]'],
    ['an unknown local tag', '!pwned {a: 1}'],
  ])('%s is data or an error, never executed', async (_, value) => {
    const { dir } = project('yaml-tag');
    writeFileSync(path.join(dir, 'doc.yaml'), VALID.replace('  title: Orders', `  title: Orders\n  x-note: ${value}`));
    const result = await runInProcess(['generate', 'doc.yaml', '-o', 'out'], dir);
    expect([0, 1]).toContain(result.code);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    expect((globalThis as Record<string, unknown>).pwned).toBeUndefined();
    expect(existsSync(path.join(dir, 'pwned'))).toBe(false);
  });
});

describe('the output folder', () => {
  it('a hand-edited manifest cannot make codegen delete files outside the output folder', async () => {
    const { root, dir } = project('manifest-escape');
    const out = path.join(dir, 'out');
    expect((await runInProcess(['generate', 'doc.yaml', '-t', 'kafka', '-o', out], dir)).code).toBe(0);
    const victims = [path.join(root, 'victim.txt'), path.join(dir, 'victim.txt'), path.join(root, 'abs-victim.txt')];
    for (const victim of victims) writeFileSync(victim, 'keep me');
    const manifestPath = path.join(out, '.codegen-manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files: Record<string, string> };
    manifest.files['../victim.txt'] = 'x';
    manifest.files['../../victim.txt'] = 'x';
    manifest.files['kafka/../../victim.txt'] = 'x';
    manifest.files[path.join(root, 'abs-victim.txt')] = 'x';
    writeFileSync(manifestPath, JSON.stringify(manifest));
    // Switching targets removes the stale kafka files: only those.
    expect((await runInProcess(['generate', 'doc.yaml', '-t', 'nats', '-o', out], dir)).code).toBe(0);
    for (const victim of victims) expect(readFileSync(victim, 'utf8')).toBe('keep me');
    expect(existsSync(path.join(out, 'kafka'))).toBe(false);
  });

  it('a symbolic link inside the output folder does not lead writes outside it', async () => {
    const { root, dir } = project('inner-symlink');
    const out = path.join(dir, 'out');
    const elsewhere = path.join(root, 'elsewhere');
    mkdirSync(elsewhere);
    mkdirSync(out);
    symlinkSync(elsewhere, path.join(out, 'runtime'));
    const result = await runInProcess(['generate', 'doc.yaml', '-o', out], dir);
    expect(readdirSync(elsewhere)).toEqual([]);
    expectClean(result, 2, /runtime inside the output folder is a symbolic link/);
  });
});
