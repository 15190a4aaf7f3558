import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { PRETTIER_OPTIONS } from '../../src/format/prettier.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const RUNTIME = path.join(ROOT, 'runtime');

function runtimeFiles(): string[] {
  return readdirSync(RUNTIME, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .sort();
}

function templateFiles(dir = path.join(ROOT, 'templates')): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.hbs') && !file.startsWith('partials'))
    .map((file) => path.join(dir, file));
}

describe('the run-time source (runtime/)', () => {
  it('type-checks as strictly as the generated code', async () => {
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const run = promisify(execFile)(process.execPath, [tsc, '-p', path.join(RUNTIME, 'tsconfig.json')]);
    await expect(run.catch((e: { stdout?: string }) => Promise.reject(new Error(e.stdout)))).resolves.toBeDefined();
  });

  // It is copied into the output without prettier, so it must already be in prettier's form.
  it.each(runtimeFiles())('%s is formatted as the generated code is', async (file) => {
    const text = readFileSync(path.join(RUNTIME, file), 'utf8');
    expect(await prettier.format(text, { ...PRETTIER_OPTIONS, filepath: file })).toBe(text);
  });

  it('is never imported from a template folder, and no template is static TypeScript', () => {
    const statics = templateFiles().filter((file) => !/\{\{/.test(readFileSync(file, 'utf8').replace(/\{\{> *header *\}\}/g, '')));
    expect(statics.map((file) => path.relative(ROOT, file))).toEqual([]);
  });

  it('imports nothing generated: only Node built-ins, broker clients and itself', () => {
    const generated = /from '\.\.?\/(\.\.\/)*(types|validators|operations)\.js'/;
    const offenders = runtimeFiles().filter((file) => generated.test(readFileSync(path.join(RUNTIME, file), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
