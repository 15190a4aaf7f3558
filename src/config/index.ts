import path from 'node:path';
import { disabledCache, type Cache } from '../cache/cache.js';
import { CodegenError, usageError } from '../errors.js';
import { displayPathOf } from '../load/document-set.js';
import { discoverConfig, type DiscoverOptions } from './discover.js';
import { readConfigFile, type RawConfig } from './load.js';
import type { ResolvedConfig, ResolvedEntry } from './types.js';
import { validateConfig } from './validate.js';

export { CONFIG_FILE_NAMES, configIn, discoverConfig } from './discover.js';
export type * from './types.js';

export interface LoadConfigOptions extends DiscoverOptions {
  /** Where the search starts and what shown paths are relative to. */
  cwd: string;
  /** Remembers transpiled TypeScript configs. */
  cache?: Cache;
}

export interface LoadedConfig {
  config: ResolvedConfig;
  /** Notes for stderr (a config shadowed by another in the same folder). */
  warnings: string[];
}

/**
 * Finds, reads and validates the config. No config, an unreadable one or an invalid one means the
 * command cannot run (exit 2), with the file and key named.
 */
export async function loadConfig(options: LoadConfigOptions): Promise<LoadedConfig> {
  const found = discoverConfig(options.cwd, options);
  if (!found) {
    throw usageError(
      'E_CONFIG_NOT_FOUND',
      'no codegen config found (codegen.config.{ts,mjs,js,json,yaml}, .codegenrc, or a "codegen" key in package.json) in this folder or above it: run `codegen init` to write one, name one with --config, or use `codegen generate <document> --target <t> --out <dir>`',
    );
  }
  const displayPath = displayPathOf(found.file, options.cwd);
  const warnings = found.shadowed.map(
    (other) => `${displayPathOf(other, options.cwd)} is ignored: ${displayPath} takes precedence (keep one config file per folder)`,
  );
  const raw = await readConfigFile(found.file, found.format, displayPath, options.cache ?? disabledCache);
  const dir = path.dirname(found.file);
  const validate = (locate: RawConfig['locate']) => validateConfig(raw.data, { displayPath, dir, pointerPrefix: raw.pointerPrefix, locate });
  let entries: ResolvedEntry[];
  try {
    entries = validate(raw.locate);
  } catch (error) {
    // Read without positions (a JSON config): checked again with them, for the lines in the messages.
    if (!(error instanceof CodegenError) || !raw.locator) throw error;
    entries = validate(await raw.locator());
  }
  return { config: { file: found.file, displayPath, format: found.format, dir, entries }, warnings };
}
