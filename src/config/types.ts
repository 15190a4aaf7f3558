/**
 * The configuration file's shape (`codegen.config.ts` and friends). Everything here is what users
 * write; `ResolvedConfig` below is what the loader hands to commands, with every default applied
 * and every path made absolute.
 */
import type { TargetName } from '../targets/registry.js';

export type { TargetName };

/** Schema-registry style compatibility modes (see docs/workflow.md and `codegen diff --mode`). */
export type CompatibilityMode = 'backward' | 'forward' | 'full' | 'none';

export interface CompatibilityConfig {
  /**
   * Mode for every message. Default: by direction, as `codegen diff` does (a message the
   * application sends is judged FORWARD, one it receives BACKWARD).
   */
  mode?: CompatibilityMode;
  /**
   * Git revision(s) `codegen --against` compares the document with when no revision is named on
   * the command line (for example `origin/main`). Several revisions mean a transitive check.
   */
  baseline?: string | string[];
  /** Check against every baseline revision (implied when `baseline` lists several). */
  transitive?: boolean;
  /** Lowest severity that fails the check. Default: `breaking`. */
  failOn?: 'breaking' | 'warning' | 'info' | 'never';
  /**
   * Ignore file accepting findings on purpose, relative to the config file.
   * Default: `.codegen-diff-ignore.yaml` next to the config file when present; `false`: none.
   */
  ignore?: string | false;
}

/** Options an entry may set, and the top level may set for every entry. */
export interface EntryOptions {
  /** Broker targets (one or several TargetName); none: types, validators, envelope and operation specs only. */
  targets?: TargetName[] | TargetName;
  /** Folder of templates overriding the built-in ones by file name (relative to the config file). */
  templates?: string;
  /** CloudEvents `source` for producers. Default: derived from the document title. */
  source?: string;
  /**
   * Which side of the document the code is for. `application` (the default): the document
   * describes this application, its operations are what it sends and receives. `client`: code for
   * a client of that application: what it sends is consumed, what it receives is published, requests
   * it answers are made.
   */
  role?: 'application' | 'client';
  /**
   * Validation of payloads, headers and parameters in the generated clients when neither the client
   * nor the call says (default: on). Off still generates the validators; `validate: true` turns it back on.
   */
  validation?: boolean;
  /** How `codegen --against` judges changes to the document. */
  compatibility?: CompatibilityConfig;
  /** Allow `$ref`s to http(s) URLs. */
  allowRemoteRefs?: boolean;
  /** Allow `$ref`s to files outside the project root (the config file's folder). */
  allowOutsideRefs?: boolean;
  /** Allow an output folder reached through a symbolic link. */
  allowSymlinkedOut?: boolean;
}

/** One document and where its code goes. */
export interface DocumentConfig extends EntryOptions {
  /** The AsyncAPI document (YAML or JSON), relative to the config file. */
  document: string;
  /** Output folder, relative to the config file. Each entry needs a folder of its own. */
  out: string;
}

export interface CodegenConfig extends EntryOptions {
  /** Editors' JSON-schema hint; ignored by codegen. */
  $schema?: string;
  /** One or more documents, each with its targets and output folder. */
  documents: DocumentConfig[];
}

/** The config file may also export a function returning the config (or a promise of it). */
export type CodegenConfigExport = CodegenConfig | (() => CodegenConfig | Promise<CodegenConfig>);

/**
 * Identity function that gives a TypeScript (or JSDoc-typed) config its types:
 *
 * ```ts
 * import { defineConfig } from 'asyncapi-codegen-ts';
 * export default defineConfig({ documents: [{ document: 'asyncapi.yaml', targets: ['kafka'], out: 'src/events' }] });
 * ```
 */
export function defineConfig(config: CodegenConfigExport): CodegenConfigExport {
  // Not generic on purpose: a parameter of the config type makes TypeScript reject misspelt keys.
  return config;
}

/** Where a config came from. */
export type ConfigFormat = 'ts' | 'esm' | 'js' | 'cjs' | 'json' | 'yaml' | 'rc' | 'package.json';

/** One entry with every default applied and every path absolute. */
export interface ResolvedEntry {
  /** Position in `documents` (0-based). */
  index: number;
  /** The document as written in the config (for messages). */
  label: string;
  document: string;
  out: string;
  targets: string[];
  templates?: string;
  source?: string;
  role: 'application' | 'client';
  validation: boolean;
  compatibility: {
    mode?: CompatibilityMode;
    baseline: string[];
    transitive: boolean;
    failOn: 'breaking' | 'warning' | 'info' | 'never';
    /** Absolute path, `false` for none, undefined for the default. */
    ignore?: string | false;
  };
  allowRemoteRefs: boolean;
  allowOutsideRefs: boolean;
  allowSymlinkedOut: boolean;
  /** The folder the document's `$ref`s may reach: the config file's folder. */
  projectRoot: string;
}

export interface ResolvedConfig {
  /** Absolute path of the config file. */
  file: string;
  /** The config file as shown to the user. */
  displayPath: string;
  format: ConfigFormat;
  /** Folder every relative path of the config is resolved from. */
  dir: string;
  entries: ResolvedEntry[];
}
