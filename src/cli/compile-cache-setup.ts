import path from 'node:path';
import { defaultCacheDir } from '../cache/cache.js';
import { DIST_DIR } from '../package-paths.js';
import { installCompileCache, type CompileCacheStats } from './compile-cache.js';

/** What the build ships (scripts/build-compile-cache.mjs): code of the package's own large modules. */
export const SHIPPED_COMPILE_CACHE = path.join(DIST_DIR, 'compile-cache');

/**
 * The binary's compile cache: the shipped entries, then `<cache folder>/compile`. `--no-cache` and
 * CODEGEN_CACHE=0 (the cache folder is neither read nor written) leave only the shipped entries, part
 * of the package like its precompiled templates; CODEGEN_COMPILE_CACHE=0 turns the hook off altogether.
 * Runs before commander parses the command line, so `--no-cache` is looked for as a word of it.
 */
export function installCliCompileCache(cwd: string, env: Record<string, string | undefined>, argv: string[]): CompileCacheStats | undefined {
  if (env.CODEGEN_COMPILE_CACHE === '0') return undefined;
  if (env.CODEGEN_CACHE === '0' || argv.includes('--no-cache')) {
    // Only the package's own modules can hit: others would pay for hashing and find nothing.
    return installCompileCache({ read: [SHIPPED_COMPILE_CACHE], accept: (file) => file.startsWith(DIST_DIR + path.sep) });
  }
  const userStore = path.join(defaultCacheDir(cwd, env), 'compile');
  return installCompileCache({ read: [SHIPPED_COMPILE_CACHE, userStore], write: userStore, accept: isPackageCode });
}

/** Installed packages and this package's build: a user's own CommonJS (a `codegen.config.cjs`) compiles as Node compiles it. */
export function isPackageCode(file: string): boolean {
  return file.includes(`${path.sep}node_modules${path.sep}`) || file.startsWith(DIST_DIR + path.sep);
}
