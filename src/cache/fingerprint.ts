import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { BUILTIN_TEMPLATES_DIR } from '../render/paths.js';
import { generatorVersion } from '../version.js';
import { hashOf } from './cache.js';
import { DIST_DIR } from '../package-paths.js';

let cachedBuild: string | undefined;

/**
 * Identifies the generator that produces an output: its version, the id of its build
 * (written by `npm run build`) and its built-in templates.
 */
export function buildFingerprint(): string {
  if (cachedBuild !== undefined) return cachedBuild;
  let buildId = '';
  try {
    buildId = readFileSync(path.join(DIST_DIR, 'build-id'), 'utf8');
  } catch {
    buildId = 'unbuilt';
  }
  cachedBuild = hashOf(generatorVersion(), buildId, templatesFingerprint(BUILTIN_TEMPLATES_DIR));
  return cachedBuild;
}

/** A hash of every file under a template folder (names and contents). */
export function templatesFingerprint(dir: string): string {
  const parts: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (statSync(full).isFile()) parts.push(path.relative(dir, full), readFileSync(full, 'utf8'));
    }
  };
  try {
    walk(dir);
  } catch {
    return 'missing';
  }
  return hashOf(...parts);
}
