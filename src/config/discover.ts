import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.js';
import { gitWorkTreeRoot } from '../git.js';
import { isRecord } from '../load/json.js';
import type { ConfigFormat } from './types.js';

/**
 * The file names a config may have, in order of precedence: when a folder holds several, the first
 * one wins and the others are named in a warning. `package.json` counts only with a `codegen` key.
 */
export const CONFIG_FILE_NAMES: ReadonlyArray<readonly [string, ConfigFormat]> = [
  ['codegen.config.ts', 'ts'],
  ['codegen.config.mjs', 'esm'],
  ['codegen.config.js', 'js'],
  ['codegen.config.cjs', 'cjs'],
  ['codegen.config.json', 'json'],
  ['codegen.config.yaml', 'yaml'],
  ['codegen.config.yml', 'yaml'],
  ['.codegenrc', 'rc'],
  ['.codegenrc.json', 'json'],
  ['.codegenrc.yaml', 'yaml'],
  ['.codegenrc.yml', 'yaml'],
  ['package.json', 'package.json'],
];

export interface FoundConfig {
  file: string;
  format: ConfigFormat;
  /** Other config files in the same folder, ignored (lower precedence). */
  shadowed: string[];
}

export interface DiscoverOptions {
  /** `--config <file>`: use this file, do not search. */
  explicit?: string;
  /** Do not search above this folder (default: the repository root, i.e. the first folder holding `.git`). */
  stopAt?: string;
}

/**
 * Finds the config: `--config` when given, else the first folder from `cwd` upwards that holds one
 * of CONFIG_FILE_NAMES. The search stops at the repository root (a folder holding `.git`) or at
 * `stopAt`, so a project never picks up a config from outside its repository.
 */
export function discoverConfig(cwd: string, options: DiscoverOptions = {}): FoundConfig | undefined {
  if (options.explicit !== undefined) return explicitConfig(cwd, options.explicit);
  let dir = path.resolve(cwd);
  const stop = options.stopAt ? path.resolve(options.stopAt) : undefined;
  const root = gitWorkTreeRoot(dir);
  for (;;) {
    const found = configIn(dir);
    if (found) return found;
    if (dir === stop || dir === root) return undefined;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The config file in one folder (no search upwards), if any. */
export function configIn(dir: string): FoundConfig | undefined {
  const present: Array<readonly [string, ConfigFormat]> = [];
  for (const entry of CONFIG_FILE_NAMES) {
    const file = path.join(dir, entry[0]);
    if (!isFile(file)) continue;
    if (entry[1] === 'package.json' && !hasCodegenKey(file)) continue;
    present.push([file, entry[1]]);
  }
  if (present.length === 0) return undefined;
  return { file: present[0]![0], format: present[0]![1], shadowed: present.slice(1).map(([file]) => file) };
}

function explicitConfig(cwd: string, given: string): FoundConfig {
  const file = path.resolve(cwd, given);
  if (!existsSync(file)) throw usageError('E_CONFIG_NOT_FOUND', `--config ${given}: no such file`);
  if (!isFile(file)) throw usageError('E_CONFIG_NOT_FOUND', `--config ${given} is a folder, not a config file`);
  return { file, format: formatOf(file), shadowed: [] };
}

/** The format of a config file from its name: by extension, `.codegenrc` and unknown ones as YAML (which includes JSON). */
export function formatOf(file: string): ConfigFormat {
  const base = path.basename(file);
  if (base === 'package.json') return 'package.json';
  const known = CONFIG_FILE_NAMES.find(([name]) => name === base);
  if (known) return known[1];
  switch (path.extname(base).toLowerCase()) {
    case '.ts':
    case '.mts':
      return 'ts';
    case '.mjs':
      return 'esm';
    case '.js':
      return 'js';
    case '.cjs':
      return 'cjs';
    case '.json':
      return 'json';
    case '.yaml':
    case '.yml':
      return 'yaml';
    default:
      return 'rc';
  }
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function hasCodegenKey(file: string): boolean {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return isRecord(data) && 'codegen' in data;
  } catch {
    return false;
  }
}
