import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hashOf, type Cache } from '../cache/cache.js';
import { CodegenError, ExitCode, usageError, type Diagnostic } from '../errors.js';
import { PACKAGE_NAME } from '../package-paths.js';
import type { ConfigFormat } from './types.js';

/** A config file read into plain data, with what is needed to point at a key in it. */
export interface RawConfig {
  data: unknown;
  /** Prefix of every pointer into `data` inside the file (`/codegen` for package.json). */
  pointerPrefix: string;
  /** Line and column of a pointer (YAML and JSON configs only). */
  locate?: (pointer: string) => { line: number; column: number } | undefined;
  /** For a JSON config read without the YAML machinery: loads it and gives `locate` (for errors). */
  locator?: () => Promise<RawConfig['locate']>;
}

/**
 * Reads a config file of any supported format. JSON and YAML are parsed (with line numbers for
 * errors); ESM/CommonJS configs are imported; TypeScript configs are transpiled with the project's
 * own `typescript` package (remembered in the content-hash cache, so later runs never load it).
 */
export async function readConfigFile(file: string, format: ConfigFormat, displayPath: string, cache: Cache): Promise<RawConfig> {
  switch (format) {
    case 'json':
    case 'yaml':
    case 'rc':
      return parseData(file, displayPath);
    case 'package.json': {
      const parsed = await parseData(file, displayPath);
      const data = (parsed.data as Record<string, unknown>).codegen;
      return { ...parsed, data, pointerPrefix: '/codegen' };
    }
    case 'ts':
      return { data: await exported(await importTypeScript(file, displayPath, cache), displayPath), pointerPrefix: '' };
    default:
      return { data: await exported(await importJavaScript(file, format, displayPath), displayPath), pointerPrefix: '' };
  }
}

function readText(file: string, displayPath: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw usageError('E_CONFIG_UNREADABLE', `cannot read ${displayPath}: ${(error as Error).message}`, { file: displayPath, pointer: '' });
  }
}

async function parseData(file: string, displayPath: string): Promise<RawConfig> {
  const text = readText(file, displayPath);
  // A JSON config (what the hook usually reads) skips src/load/source-file.ts and the YAML parser it
  // loads; they are loaded only when an error needs a line (`locator`) or the text is not plain JSON.
  const json = text.trimStart().startsWith('{') ? parsedJson(text) : undefined;
  if (json) return { data: json.data, pointerPrefix: '', locator: async () => (await sourceOf(file, displayPath, text)).locate };
  const source = await sourceOf(file, displayPath, text);
  return { data: source.data, pointerPrefix: '', locate: source.locate };
}

function parsedJson(text: string): { data: unknown } | undefined {
  try {
    return { data: JSON.parse(text) as unknown };
  } catch {
    return undefined; // the full parse below says where the syntax error is
  }
}

async function sourceOf(file: string, displayPath: string, text: string): Promise<{ data: unknown; locate: NonNullable<RawConfig['locate']> }> {
  const { parseSourceText } = await import('../load/source-file.js');
  try {
    const source = parseSourceText(file, displayPath, text);
    return { data: source.data, locate: (pointer) => source.locate(pointer) };
  } catch (error) {
    if (!(error instanceof CodegenError)) throw error;
    // A config that cannot be read means the command cannot run: exit 2, not "invalid document".
    throw new CodegenError(
      ExitCode.usage,
      error.diagnostics.map((d): Diagnostic => ({ ...d, code: d.code === 'E_EMPTY_DOCUMENT' ? 'E_CONFIG_EMPTY' : 'E_CONFIG_SYNTAX', message: d.message.replace(/\bdocument\b/, 'config file') })),
    );
  }
}

async function exported(module: Record<string, unknown>, displayPath: string): Promise<unknown> {
  // ESM: the default export; CommonJS (loaded with require, wrapped): module.exports.
  let value: unknown = module.default;
  if (value === undefined || value === null) {
    throw usageError('E_CONFIG_NO_EXPORT', `${displayPath} exports no config: write \`export default defineConfig({ ... })\` (or \`module.exports = { ... }\`)`, { file: displayPath, pointer: '' });
  }
  if (typeof value === 'function') {
    try {
      value = await (value as () => unknown)();
    } catch (error) {
      throw usageError('E_CONFIG_LOAD', `${displayPath}: the exported config function threw: ${messageOf(error)}`, { file: displayPath, pointer: '' });
    }
  }
  return value;
}

async function importJavaScript(file: string, format: ConfigFormat, displayPath: string): Promise<Record<string, unknown>> {
  if (format === 'cjs' || (format === 'js' && packageType(file) !== 'module')) {
    // require() with its cache cleared, so `--watch` sees an edited config.
    const require = createRequire(file);
    delete require.cache[file];
    try {
      return { default: require(file) as unknown };
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_REQUIRE_ESM') return importESM(file, displayPath);
      throw loadError(error, displayPath);
    }
  }
  return importESM(file, displayPath);
}

async function importESM(file: string, displayPath: string): Promise<Record<string, unknown>> {
  try {
    // A query makes each load a new module instance: `--watch` re-reads an edited config.
    return (await import(`${pathToFileURL(file).href}?t=${Date.now()}-${randomBytes(3).toString('hex')}`)) as Record<string, unknown>;
  } catch (error) {
    if (importsMissingSelf(error)) {
      // `import { defineConfig } from 'asyncapi-codegen-ts'` with codegen run through npx (not
      // installed in the project): load a copy whose import points at the running codegen.
      return importSource(file, rewriteSelfImports(readText(file, displayPath)), displayPath);
    }
    throw loadError(error, displayPath);
  }
}

async function importTypeScript(file: string, displayPath: string, cache: Cache): Promise<Record<string, unknown>> {
  const source = readText(file, displayPath);
  const key = hashOf('codegen-config-ts-1', source);
  let js = cache.get('config-ts', key);
  if (js === undefined) {
    js = transpile(file, source, displayPath);
    cache.set('config-ts', key, js);
  }
  return importSource(file, rewriteSelfImports(js), displayPath);
}

interface TypeScriptApi {
  transpileModule(
    input: string,
    options: { fileName: string; reportDiagnostics: boolean; compilerOptions: Record<string, unknown> },
  ): {
    outputText: string;
    diagnostics?: Array<{ category: number; start?: number; file?: { getLineAndCharacterOfPosition(p: number): { line: number; character: number } }; messageText: string | { messageText: string } }>;
  };
  ModuleKind: { ESNext: number };
  ScriptTarget: { ES2022: number };
  DiagnosticCategory: { Error: number };
}

/** Strips the types with the `typescript` package installed in the user's project (never ours: users need not have it). */
function transpile(file: string, source: string, displayPath: string): string {
  let ts: TypeScriptApi;
  try {
    const require = createRequire(file);
    ts = require(require.resolve('typescript')) as TypeScriptApi;
  } catch {
    throw usageError(
      'E_CONFIG_TS_UNSUPPORTED',
      `${displayPath} is TypeScript, and loading it needs the \`typescript\` package, which is not installed in this project: run \`npm install --save-dev typescript\`, or write the config as codegen.config.mjs, .js, .json or .yaml`,
      { file: displayPath, pointer: '' },
    );
  }
  const output = ts.transpileModule(source, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, isolatedModules: true, sourceMap: false },
  });
  const errors = (output.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    throw new CodegenError(
      ExitCode.usage,
      errors.map((d): Diagnostic => {
        const position = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
        const text = typeof d.messageText === 'string' ? d.messageText : d.messageText.messageText;
        return {
          code: 'E_CONFIG_SYNTAX',
          severity: 'error',
          message: `cannot load ${displayPath}: ${text}`,
          location: { file: displayPath, pointer: '', ...(position ? { line: position.line + 1, column: position.character + 1 } : {}) },
        };
      }),
    );
  }
  return output.outputText;
}

/**
 * Imports JavaScript text as if it were the config file: written next to it under a hidden unique
 * name (so its relative imports and packages resolve as the config's would), then removed.
 */
async function importSource(file: string, js: string, displayPath: string): Promise<Record<string, unknown>> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.mjs`);
  try {
    writeFileSync(temp, js, { flag: 'wx' });
  } catch (error) {
    throw usageError('E_CONFIG_LOAD', `cannot load ${displayPath}: cannot write a temporary file next to it (${messageOf(error)})`, { file: displayPath, pointer: '' });
  }
  try {
    return (await import(pathToFileURL(temp).href)) as Record<string, unknown>;
  } catch (error) {
    throw loadError(error, displayPath);
  } finally {
    rmSync(temp, { force: true });
  }
}

/** The running codegen's package entry (dist/index.js; src/index.ts when run from source by the tests). */
function selfEntry(): string {
  for (const candidate of ['../index.js', '../index.ts']) {
    const file = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(file)) return pathToFileURL(file).href;
  }
  return pathToFileURL(fileURLToPath(new URL('../index.js', import.meta.url))).href;
}

/**
 * The package as configs import it: by its npm name, or as `codegen` (what the docs said before the
 * package had a name of its own; the npm package `codegen` is another tool).
 */
const SELF_IMPORT = `(?:${PACKAGE_NAME}|codegen)`;

/** Points `import ... from 'asyncapi-codegen-ts'` at the running codegen, so a config works whether or not it is installed locally. */
export function rewriteSelfImports(js: string): string {
  const entry = JSON.stringify(selfEntry());
  return js.replace(new RegExp(`(\\bfrom\\s*|\\bimport\\s*\\(\\s*|\\bimport\\s+)(['"])${SELF_IMPORT}\\2`, 'g'), (_match, before: string) => `${before}${entry}`);
}

function importsMissingSelf(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e?.code === 'ERR_MODULE_NOT_FOUND' && new RegExp(`['"]${SELF_IMPORT}['"]`).test(e.message ?? '');
}

function loadError(error: unknown, displayPath: string): CodegenError {
  const e = error as { code?: string; message?: string };
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') {
    return usageError('E_CONFIG_LOAD', `cannot load ${displayPath}: ${firstLine(e.message ?? '')}`, { file: displayPath, pointer: '' });
  }
  const kind = error instanceof SyntaxError ? 'E_CONFIG_SYNTAX' : 'E_CONFIG_LOAD';
  return usageError(kind, `cannot load ${displayPath}: ${firstLine(messageOf(error))}`, { file: displayPath, pointer: '' });
}

function packageType(file: string): string | undefined {
  let dir = path.dirname(file);
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: string }).type;
      } catch {
        return undefined;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
