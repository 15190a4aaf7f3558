import type { LoadOptions } from '../load/document-set.js';
import type { Diagnostic } from '../errors.js';
import { usageError } from '../errors.js';
import type { GeneratedFile, Generator, GeneratorContext } from '../generators/contract.js';
import { operationsGenerator, runtimeGenerator } from '../generators/core.js';
import { typesGenerator } from '../generators/types.js';
import { validatorsGenerator } from '../generators/validators.js';
import { formatFiles } from '../format/prettier.js';
import type { ApiModel } from '../model/types.js';
import { createRenderer } from '../render/renderer.js';
import { isTarget, loadTarget, TARGET_NAMES } from '../targets/registry.js';
import { buildCoreView } from '../view/core-view.js';
import { generatorVersion } from '../version.js';
import { loadValidatedDocument } from './document.js';

export interface GenerateRequest {
  document: string;
  targets: string[];
  templatesDir?: string;
  eventSource?: string;
  load?: LoadOptions;
}

export interface GenerateResult {
  files: GeneratedFile[];
  model: ApiModel;
  diagnostics: Diagnostic[];
}

const CORE_GENERATORS: Generator[] = [typesGenerator, validatorsGenerator, runtimeGenerator, operationsGenerator];

/** Checks the requested targets before any work is done. */
export function checkTargets(targets: string[]): void {
  if (targets.length === 0) throw usageError('E_USAGE', `no --target given; choose from ${TARGET_NAMES.join(', ')}`);
  for (const target of targets) {
    if (!isTarget(target)) throw usageError('E_UNKNOWN_TARGET', `unknown target "${target}"; choose from ${TARGET_NAMES.join(', ')}`);
  }
}

/**
 * The whole pipeline in memory: load → validate → model → render → format. Returns files; writes nothing.
 * If any generator fails, nothing is returned, so nothing is written.
 */
export async function generateFiles(request: GenerateRequest): Promise<GenerateResult> {
  checkTargets(request.targets);
  const targets = [...new Set(request.targets)].sort();
  const targetGenerators = await Promise.all(targets.map(loadTarget));
  const renderer = createRenderer(request.templatesDir);
  const { model, diagnostics } = await loadValidatedDocument(request.document, request.load);
  const version = generatorVersion();
  const context: GeneratorContext = {
    model,
    view: buildCoreView(model, version, request.eventSource),
    renderer,
    options: { targets, generatorVersion: version, eventSource: request.eventSource },
  };
  const rendered: GeneratedFile[] = [];
  for (const generator of [...CORE_GENERATORS, ...targetGenerators]) rendered.push(...(await generator.generate(context)));
  const files = await formatFiles(rendered);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, model, diagnostics };
}
