import { CodegenError, ExitCode, type Diagnostic } from '../errors.js';
import { loadDocumentSet, type DocumentSet, type LoadOptions } from '../load/document-set.js';
import { buildModel } from '../model/build.js';
import type { ApiModel } from '../model/types.js';
import { validateRules } from '../validate/rules.js';
import { validateStructure } from '../validate/structure.js';
import { stageTimer, type StageTimer } from './timing.js';

export interface LoadedDocument {
  set: DocumentSet;
  model: ApiModel;
  /** Warnings and notes found on the way (errors throw). */
  diagnostics: Diagnostic[];
}

/**
 * load → validate → model: the first three stages, shared by generate, validate and diff.
 * A document with any error never reaches the model stage.
 */
export async function loadValidatedDocument(file: string, options: LoadOptions = {}, timer: StageTimer = stageTimer()): Promise<LoadedDocument> {
  const set = await loadDocumentSet(file, options);
  timer.lap('load');
  return { set, ...validateAndModel(set, timer) };
}

/** validate → model on a loaded document set. */
export function validateAndModel(set: DocumentSet, timer: StageTimer = stageTimer()): { model: ApiModel; diagnostics: Diagnostic[] } {
  const structural = validateStructure(set);
  const diagnostics = [...set.problems, ...(structural.length > 0 || set.problems.length > 0 ? structural : validateRules(set))];
  timer.lap('validate');
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new CodegenError(ExitCode.findings, errors);
  const model = buildModel(set);
  timer.lap('model');
  return { model, diagnostics: [...diagnostics, ...model.warnings] };
}
