import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A content-addressed cache on disk: values are stored under the hash of everything that
 * produced them, so an entry is either right or never found. Formatting and whole runs use it;
 * a fresh machine simply misses. Disable with `--no-cache` or CODEGEN_CACHE=0.
 */
export interface Cache {
  get(kind: string, key: string): string | undefined;
  set(kind: string, key: string, value: string): void;
}

export const disabledCache: Cache = { get: () => undefined, set: () => undefined };

export function hashOf(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(String(part.length)).update(':').update(part);
  return hash.digest('hex');
}

/** `<cwd>/node_modules/.cache/codegen` when the project has node_modules (the usual place), else a temp folder. */
export function defaultCacheDir(cwd: string, env: Record<string, string | undefined>): string {
  if (env.CODEGEN_CACHE_DIR) return path.resolve(cwd, env.CODEGEN_CACHE_DIR);
  if (existsSync(path.join(cwd, 'node_modules'))) return path.join(cwd, 'node_modules', '.cache', 'codegen');
  return path.join(os.tmpdir(), `codegen-cache-${typeof process.getuid === 'function' ? process.getuid() : 'user'}`);
}

export function openCache(dir: string): Cache {
  const entryPath = (base: string, kind: string, key: string) => path.join(base, kind, key.slice(0, 2), key);
  return {
    get(kind, key) {
      try {
        return readFileSync(entryPath(dir, kind, key), 'utf8');
      } catch {
        return undefined; // a miss
      }
    },
    set(kind, key, value) {
      const target = entryPath(dir, kind, key);
      try {
        mkdirSync(path.dirname(target), { recursive: true });
        const temp = `${target}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
        writeFileSync(temp, value);
        renameSync(temp, target);
      } catch {
        // A cache that cannot be written only costs time.
      }
    },
  };
}
