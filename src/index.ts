/**
 * The package entry (`import { defineConfig } from 'asyncapi-codegen-ts'`). Config files import it, so it
 * stays tiny: the pipeline behind `generate` and `loadConfig` is loaded only when they are called.
 */
import type { LoadConfigOptions, LoadedConfig } from './config/index.js';
import type { GenerateRequest, GenerateResult } from './pipeline/generate.js';

export { defineConfig } from './config/types.js';
export type {
  CodegenConfig,
  CodegenConfigExport,
  CompatibilityConfig,
  CompatibilityMode,
  DocumentConfig,
  EntryOptions,
  ResolvedConfig,
  ResolvedEntry,
  TargetName,
} from './config/types.js';
export type { GenerateRequest, GenerateResult } from './pipeline/generate.js';
export type { GeneratedFile } from './generators/contract.js';
export type { LoadConfigOptions, LoadedConfig } from './config/index.js';

/** Runs the pipeline in memory (load → validate → model → render → format) and returns the files; writes nothing. */
export async function generate(request: GenerateRequest): Promise<GenerateResult> {
  const { generateFiles } = await import('./pipeline/generate.js');
  return generateFiles(request);
}

/** Finds, reads and validates the codegen config the way the CLI does. */
export async function loadConfig(options: LoadConfigOptions): Promise<LoadedConfig> {
  const config = await import('./config/index.js');
  return config.loadConfig(options);
}
