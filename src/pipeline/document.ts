import { CodegenError, ExitCode, type Diagnostic } from '../errors.js';
import { loadDocumentSet, type DocumentSet, type LoadOptions } from '../load/document-set.js';
import { buildModel } from '../model/build.js';
import type { ApiModel } from '../model/types.js';
import { validateRules } from '../validate/rules.js';
import { validateStructure } from '../validate/structure.js';

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
export async function loadValidatedDocument(file: string, options: LoadOptions = {}): Promise<LoadedDocument> {
  const set = await loadDocumentSet(file, options);
  const structural = validateStructure(set);
  const diagnostics = structural.length > 0 ? structural : validateRules(set);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new CodegenError(ExitCode.findings, errors);
  const model = buildModel(set);
  return { set, model, diagnostics };
}
