import type { Cache } from '../cache/cache.js';
import type { Diagnostic } from '../errors.js';
import type { GeneratedFile, Generator, GeneratorContext } from '../generators/contract.js';
import { operationsGenerator, runtimeGenerator } from '../generators/core.js';
import { typesGenerator } from '../generators/types.js';
import { validatorsGenerator } from '../generators/validators.js';
import { formatFiles } from '../format/prettier.js';
import type { DocumentSet } from '../load/document-set.js';
import { asSeenBy, type Role } from '../model/role.js';
import type { ApiModel } from '../model/types.js';
import { createRenderer } from '../render/renderer.js';
import { createRuntimeSource } from '../render/runtime-source.js';
import { loadTarget } from '../targets/registry.js';
import { buildCoreView } from '../view/core-view.js';
import { generatorVersion } from '../version.js';
import { validateAndModel } from './document.js';
import type { StageTimer } from './timing.js';

const CORE_GENERATORS: Generator[] = [typesGenerator, validatorsGenerator, runtimeGenerator, operationsGenerator];

export interface RenderOptions {
  targets: string[];
  templatesDir?: string;
  eventSource?: string;
  role: Role;
  validation: boolean;
  cache: Cache;
}

/** validate → model → render → format, for a loaded document set. */
export async function renderDocument(
  set: DocumentSet,
  options: RenderOptions,
  timer: StageTimer,
): Promise<{ files: GeneratedFile[]; model: ApiModel; diagnostics: Diagnostic[] }> {
  const { rendered, model, diagnostics } = await renderUnformatted(set, options, timer);
  const files = await formatFiles(rendered, options.cache);
  timer.lap('format');
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, model, diagnostics };
}

/** validate → model → render: the generators' files as they come, before the format stage. */
export async function renderUnformatted(
  set: DocumentSet,
  options: Omit<RenderOptions, 'cache'>,
  timer: StageTimer,
): Promise<{ rendered: GeneratedFile[]; model: ApiModel; diagnostics: Diagnostic[] }> {
  const renderer = createRenderer(options.templatesDir);
  const targetGenerators = await Promise.all(options.targets.map(loadTarget));
  timer.lap('setup');
  const validated = validateAndModel(set, timer);
  const model = asSeenBy(validated.model, options.role);
  const version = generatorVersion();
  const context: GeneratorContext = {
    model,
    view: buildCoreView(model, version, { eventSource: options.eventSource, validateByDefault: options.validation }),
    renderer,
    runtime: createRuntimeSource(renderer, options.templatesDir),
    options: { targets: options.targets, generatorVersion: version, eventSource: options.eventSource, role: options.role, validation: options.validation },
  };
  const rendered: GeneratedFile[] = [];
  for (const generator of [...CORE_GENERATORS, ...targetGenerators]) {
    rendered.push(...(await generator.generate(context)));
    timer.lap(`generate:${generator.name}`);
  }
  return { rendered, model, diagnostics: validated.diagnostics };
}
