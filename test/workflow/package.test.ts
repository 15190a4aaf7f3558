import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_NAME } from '../../src/package-paths.js';
import { FIXTURES, ROOT, runBinary } from '../helpers/codegen.js';

/**
 * The package as a user gets it: `npm pack` (the build is `npm test`'s first step; packing here
 * does not build again), publint and "are the types wrong" on the tarball, then an install into a
 * fresh, empty project outside this repository (from the npm cache), where `npx codegen` must work
 * with no build step and no dev dependency.
 */

const execFileAsync = promisify(execFile);
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  bin: Record<string, string>;
  engines: { node: string };
  devDependencies: Record<string, string>;
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1', CODEGEN_CACHE: undefined, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const npm = (args: string[], cwd: string) => run('npm', args, cwd);
/** `npx` as users type it, told never to fetch a package from the registry (npm's `codegen` is another tool). */
const npx = (args: string[], cwd: string) => run('npx', args, cwd, { npm_config_yes: 'false' });

let work: string;
let tarball: string;
let files: string[];
let project: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'codegen-package-'));
  const packed = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT);
  expect(packed.code, packed.stderr).toBe(0);
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = path.join(work, info!.filename);
  files = info!.files.map((f) => f.path).sort();
  project = path.join(work, 'project');
  cpSync(path.join(FIXTURES, 'example'), project, { recursive: true });
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'events-app', version: '1.0.0', private: true, type: 'module' }, null, 2));
  const installed = await npm(['install', '--save-dev', '--prefer-offline', '--no-audit', '--no-fund', tarball], project);
  expect(installed.code, installed.stderr).toBe(0);
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe(`the npm package ${PACKAGE_NAME}`, () => {
  it('is named as the code says, runs as `codegen`, and states the Node versions it is tested on', () => {
    expect(manifest.name).toBe(PACKAGE_NAME);
    expect(manifest.bin).toEqual({ codegen: 'bin/codegen.js' });
    const lowest = Number(/^>=(\d+)$/.exec(manifest.engines.node)?.[1]);
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(lowest);
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme.slice(0, 1200)).toContain(`npm install --save-dev ${PACKAGE_NAME}`);
    expect(readme).toContain(`Node ${lowest}`);
  });

  it('packs dist/ built, the templates and the run-time sources, and nothing users do not need', () => {
    // Every template and run-time source the generator reads, whatever their layout.
    const sources = (folder: string) => (readdirSync(path.join(ROOT, folder), { recursive: true }) as string[]).filter((f) => /\.(?:hbs|ts)$/.test(f)).map((f) => `${folder}/${f.split(path.sep).join('/')}`);
    expect(sources('runtime').length).toBeGreaterThan(10);
    for (const needed of ['package.json', 'README.md', 'LICENSE', 'bin/codegen.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/run.js', 'dist/precompiled-templates.cjs', ...sources('templates'), ...sources('runtime')]) {
      expect(files).toContain(needed);
    }
    const unwanted = files.filter((file) => /^(?:src|test|bench|fixtures|scripts|docs|examples|node_modules|\.cache|\.ci)\//.test(file) || /(?:^|\/)tsconfig\.json$|\.prettierrc/.test(file));
    expect(unwanted).toEqual([]);
  });

  it('passes publint and "are the types wrong" (an ESM-only package)', async () => {
    const publint = await run(path.join(ROOT, 'node_modules/.bin/publint'), [tarball, '--strict'], work);
    expect(publint.code, publint.stdout + publint.stderr).toBe(0);
    expect(publint.stdout).toMatch(/All good!/);
    const attw = await run(path.join(ROOT, 'node_modules/.bin/attw'), [tarball, '--profile', 'esm-only', '--format', 'ascii'], work);
    expect(attw.code, attw.stdout + attw.stderr).toBe(0);
  });

  it('installs into an empty project without a build step or a dev dependency', () => {
    const modules = readdirSync(path.join(project, 'node_modules'));
    for (const dev of ['typescript', 'vitest', 'fast-check', 'publint']) expect(modules).not.toContain(dev);
    expect(existsSync(path.join(project, 'node_modules', PACKAGE_NAME, 'dist', 'cli', 'run.js'))).toBe(true);
    expect(existsSync(path.join(project, 'node_modules', PACKAGE_NAME, 'src'))).toBe(false);
  });

  it('npx codegen --version, generate and diff work there; generate writes what the repository build writes', async () => {
    const version = await npx(['codegen', '--version'], project);
    expect(version).toMatchObject({ code: 0, stdout: `${manifest.version}\n` });
    const generated = await npx(['codegen', 'generate', 'asyncapi.yaml', '-t', 'kafka', '-o', 'out'], project);
    expect(generated.code, generated.stderr).toBe(0);
    // Every folder the generator reads (templates, run-time sources, precompiled parts) came with the package.
    const all = await npx(['codegen', 'generate', 'asyncapi.yaml', '-t', 'rabbitmq,kafka,nats', '-o', 'all'], project);
    expect(all.code, all.stderr).toBe(0);
    const reference = path.join(work, 'reference');
    const fromRepository = await runBinary(['generate', path.join(project, 'asyncapi.yaml'), '-t', 'rabbitmq,kafka,nats', '-o', reference]);
    expect(fromRepository.code, fromRepository.stderr).toBe(0);
    const list = (dir: string) => (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).sort();
    expect(list(path.join(project, 'all'))).toEqual(list(reference));
    for (const file of list(reference)) expect(readFileSync(path.join(project, 'all', file), 'utf8'), file).toBe(readFileSync(path.join(reference, file), 'utf8'));

    const newer = path.join(project, 'asyncapi-next.yaml');
    writeFileSync(newer, readFileSync(path.join(project, 'asyncapi.yaml'), 'utf8').replace('required: [orderId, status, shippedAt, carrier]', 'required: [orderId, status, shippedAt]'));
    expect(await npx(['codegen', 'diff', 'asyncapi.yaml', 'asyncapi.yaml'], project)).toMatchObject({ code: 0 });
    const breaking = await npx(['codegen', 'diff', 'asyncapi.yaml', 'asyncapi-next.yaml', '--format', 'json'], project);
    expect(breaking.code, breaking.stderr).toBe(1);
    expect((JSON.parse(breaking.stdout) as { summary: { breaking: number } }).summary.breaking).toBeGreaterThan(0);
  }, 120_000);

  it('a config importing the package by its name works with the installed package', async () => {
    writeFileSync(
      path.join(project, 'codegen.config.mjs'),
      `import { defineConfig } from '${PACKAGE_NAME}';\nexport default defineConfig({ documents: [{ document: 'asyncapi.yaml', targets: ['nats'], out: 'from-config' }] });\n`,
    );
    const result = await npx(['codegen'], project);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(path.join(project, 'from-config', 'nats', 'client.ts'))).toBe(true);
    expect(await npx(['codegen', '--check'], project)).toMatchObject({ code: 0 });
  }, 60_000);
});
