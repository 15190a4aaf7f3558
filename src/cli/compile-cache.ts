import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/**
 * A V8 code cache for the CommonJS modules the CLI loads (ajv, the precompiled AsyncAPI schemas,
 * Handlebars, json-schema-to-typescript, @asyncapi/parser ...): compiling them is a large part of a
 * cold run, and Node 20 has no `module.enableCompileCache`. Only the binary installs it, never the
 * library, so no application's own modules pass through it.
 *
 * An entry is found by the hash of the module's source (V8 itself checks only its length), so an
 * edited or upgraded file never meets another file's code. V8 refuses data from another V8 version
 * or other flags (`cachedDataRejected`); the module then compiles as usual. Two stores are read: the
 * one the build ships (read-only, the package's own large modules) and the user's cache folder,
 * where what was compiled is written once the process ends (a folder that cannot be written only
 * costs time).
 */
export interface CompileCacheOptions {
  /** Folders of entries to read, in order; each is suffixed with the V8 tag. */
  read: string[];
  /** Folder to write missing or rejected entries to (undefined: write nothing). */
  write?: string;
  /** Only modules whose file name passes are cached (default: all). */
  accept?: (filename: string) => boolean;
}

export interface CompileCacheStats {
  hits: number;
  misses: number;
  rejected: number;
}

interface CjsModule {
  exports: unknown;
  require(id: string): unknown;
}

type RequireFunction = ((id: string) => unknown) & Record<string, unknown>;

/** Node's CommonJS internals the hook replaces or rebuilds (as v8-compile-cache does). */
interface ModuleInternals {
  prototype: { _compile(this: CjsModule, content: string, filename: string): unknown };
  wrap(code: string): string;
  _resolveFilename(request: string, parent: CjsModule, isMain: boolean, options?: unknown): string;
  _resolveLookupPaths(request: string, parent: CjsModule): string[] | null;
  _extensions: unknown;
  _cache: unknown;
}

/**
 * Entries are only valid for one V8 build and architecture. Short (a hash), as are entry names: a
 * path in the npm tarball longer than 100 characters needs the tar prefix field some readers miss.
 */
export function v8Tag(): string {
  return `v8-${shortHash(`${process.version}\0${process.arch}\0${process.versions.v8}`).slice(0, 12)}`;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 40);
}

/** Installs the hook for this process; returns live counters (for tests and CODEGEN_TIMINGS). */
export function installCompileCache(options: CompileCacheOptions): CompileCacheStats {
  const internals = Module as unknown as ModuleInternals;
  const original = internals.prototype._compile;
  const stats: CompileCacheStats = { hits: 0, misses: 0, rejected: 0 };
  const readDirs = options.read.map((dir) => path.join(dir, v8Tag()));
  const writeDir = options.write === undefined ? undefined : path.join(options.write, v8Tag());
  const toWrite = new Map<string, vm.Script>();
  internals.prototype._compile = function (content: string, filename: string): unknown {
    // A file starting with `#!` is not valid inside the wrapper: Node's own path handles it.
    if (content.startsWith('#!') || (options.accept && !options.accept(filename))) return original.call(this, content, filename);
    const key = shortHash(content);
    const cachedData = readEntry(readDirs, key);
    let script: vm.Script;
    try {
      script = new vm.Script(internals.wrap(content), { filename, cachedData, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
    } catch {
      // A syntax error: Node's own compile reports it in its usual words.
      return original.call(this, content, filename);
    }
    if (cachedData === undefined) stats.misses++;
    else if (script.cachedDataRejected) stats.rejected++;
    else stats.hits++;
    if (writeDir !== undefined && (cachedData === undefined || script.cachedDataRejected)) toWrite.set(key, script);
    return runWrapper(this, script, filename, internals);
  };
  // Written at exit, so the data also holds the functions the run compiled lazily.
  if (writeDir !== undefined) process.once('exit', () => writeEntries(writeDir, toWrite));
  return stats;
}

function readEntry(dirs: string[], key: string): Buffer | undefined {
  for (const dir of dirs) {
    try {
      return readFileSync(path.join(dir, key));
    } catch {
      // Not in this store.
    }
  }
  return undefined;
}

function writeEntries(dir: string, scripts: Map<string, vm.Script>): void {
  if (scripts.size === 0) return;
  try {
    mkdirSync(dir, { recursive: true });
    for (const [key, script] of scripts) {
      // A temporary name, then a rename: a concurrent run reads a whole entry or none.
      const temp = path.join(dir, `${key}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
      writeFileSync(temp, script.createCachedData());
      renameSync(temp, path.join(dir, key));
    }
  } catch {
    // A cache that cannot be written only costs time.
  }
}

/** Runs the module wrapper as Node's `Module.prototype._compile` does, with the same `require`. */
function runWrapper(module: CjsModule, script: vm.Script, filename: string, internals: ModuleInternals): unknown {
  const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
  const require = ((id: string) => module.require(id)) as RequireFunction;
  const resolve = ((request: string, options?: unknown) => internals._resolveFilename(request, module, false, options)) as RequireFunction;
  resolve.paths = (request: string) => internals._resolveLookupPaths(request, module);
  require.resolve = resolve;
  require.main = process.mainModule;
  require.extensions = internals._extensions;
  require.cache = internals._cache;
  return wrapper.call(module.exports, module.exports, require, module, filename, path.dirname(filename));
}
