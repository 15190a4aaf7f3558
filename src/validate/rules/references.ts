// What the parser finds about `$ref`s: targets that do not exist (Spectral's invalid-ref) and
// references where the specification allows none (asyncapi-document-unresolved).
import { CodegenError } from '../../errors.js';
import { collectRefs } from '../../load/document-set.js';
import type { DocumentSet } from '../../load/document-set.js';
import { loadValidator, resolvedDocument, type AjvError } from '../structure.js';
import type { Finding, RuleContext } from './context.js';
import { instanceSegments } from './json-schema.js';

/**
 * invalid-ref: every `$ref` reachable from the root resolves to a value (the resolution the
 * structure check made records those that do not). A chain of references that loops without
 * reaching one is refused too (@asyncapi/parser 3.6 never returns on such a document).
 */
export function unresolvableRefs(context: RuleContext): Finding[] {
  return brokenRefs(context.set, false);
}

/** `$ref`s reachable from the root that do not resolve (or, with `onlyCycles`, that loop). */
export function brokenRefs(set: DocumentSet, onlyCycles: boolean): Finding[] {
  const findings: Finding[] = [];
  for (const { node, error } of resolvedDocument(set).unresolved) {
    if (!(error instanceof CodegenError)) throw error;
    const diagnostic = error.diagnostics[0]!;
    if (onlyCycles && diagnostic.code !== 'E_REF_CYCLE') continue;
    const ref = (node.value as { $ref: string }).$ref;
    const message = diagnostic.code === 'E_REF_CYCLE' ? `'${ref}' starts a chain of $refs that loops without reaching a value` : `'${ref}' does not exist`;
    findings.push({ path: [], message, location: diagnostic.location });
  }
  return findings;
}

/**
 * Positions where the 3.x schema the parser uses on the resolved document expects an object but the
 * document as written must hold a Reference (prepareV3ResolvedSchema): a `$ref` there is allowed.
 */
function referenceOnlyPosition(segments: string[]): boolean {
  const path = segments[0] === 'components' ? segments.slice(1) : segments;
  if (path[0] === 'channels') return path.length === 4 && path[2] === 'servers';
  if (path[0] !== 'operations' && path[0] !== 'replies') return false;
  let rest = path.slice(2);
  if (path[0] === 'operations' && rest[0] === 'reply') rest = rest.slice(1);
  return (rest.length === 1 && rest[0] === 'channel') || (rest.length === 2 && rest[0] === 'messages');
}

/** better-ajv-errors drops the errors of a node that failed an `anyOf` when deeper errors explain it. */
function hiddenByAnyOf(errors: AjvError[], instancePath: string): boolean {
  const anyOfHere = errors.some((e) => e.keyword === 'anyOf' && e.instancePath === instancePath);
  return anyOfHere && errors.some((e) => e.instancePath.startsWith(instancePath + '/'));
}

/**
 * asyncapi-document-unresolved: the root file as written, checked against the AsyncAPI schema,
 * keeping only the complaints about a `$ref` where the specification allows no Reference Object.
 */
export function unresolvedStructure(context: RuleContext): Finding[] {
  if (collectRefs(context.raw).length === 0) return [];
  const validator = loadValidator(context.version);
  if (validator(context.raw)) return [];
  const errors = validator.errors ?? [];
  return errors
    .filter((error) => error.keyword === 'additionalProperties' && error.params.additionalProperty === '$ref')
    .filter((error) => !(context.major === 3 && referenceOnlyPosition(instanceSegments(error.instancePath))))
    .filter((error) => !hiddenByAnyOf(errors, error.instancePath))
    .map((error) => ({ path: instanceSegments(error.instancePath), message: 'Referencing in this place is not allowed' }));
}
