import type { Diagnostic, SourceLocation } from '../errors.js';
import type { DocumentSet } from '../load/document-set.js';
import { appendPointer, toPointer } from '../load/pointer.js';
import { isRecord } from '../load/json.js';
import { createContext, type Finding, type Rule, type RuleContext } from './rules/context.js';
import { brokenRefs, unresolvableRefs, unresolvedStructure } from './rules/references.js';
import * as v2 from './rules/v2.js';
import { messageExamples, messageExamplesCustomFormat, payloadSchemas, schemaDefault, schemaExamples } from './rules/v2-schemas.js';
import * as v3 from './rules/v3.js';
import { locatePath, SUPPORTED_VERSIONS } from './structure.js';

/**
 * Every error rule of @asyncapi/parser 3.x beyond the JSON Schema of the document (which
 * structure.ts checks), under the parser's own rule ids. `resolved: false` rules read the root file
 * as written, the others the document with its references replaced, as the parser's rules do.
 */
export const RULES: readonly Rule[] = [
  { id: 'invalid-ref', major: 'any', resolved: true, check: unresolvableRefs },
  { id: 'asyncapi-document-unresolved', major: 'any', resolved: false, check: unresolvedStructure },
  { id: 'asyncapi2-server-security', major: 2, resolved: true, check: v2.serverSecurity },
  { id: 'asyncapi2-server-variables', major: 2, resolved: true, check: v2.serverVariables },
  { id: 'asyncapi2-channel-parameters', major: 2, resolved: true, check: v2.channelParameters },
  { id: 'asyncapi2-channel-servers', major: 2, resolved: true, check: v2.channelServers },
  { id: 'asyncapi2-channel-no-query-nor-fragment', major: 2, resolved: true, check: v2.channelNoQueryNorFragment },
  { id: 'asyncapi2-operation-operationId-uniqueness', major: 2, resolved: true, check: v2.operationIdUniqueness },
  { id: 'asyncapi2-operation-security', major: 2, resolved: true, check: v2.operationSecurity },
  { id: 'asyncapi2-message-examples', major: 2, resolved: true, check: messageExamples },
  { id: 'asyncapi2-message-examples-custom-format', major: 2, resolved: true, check: messageExamplesCustomFormat },
  { id: 'asyncapi2-message-messageId-uniqueness', major: 2, resolved: true, check: v2.messageIdUniqueness },
  { id: 'asyncapi2-tags-uniqueness', major: 2, resolved: true, check: v2.tagsUniqueness },
  { id: 'asyncapi2-schemas', major: 2, resolved: true, check: payloadSchemas },
  { id: 'asyncapi2-schema-default', major: 2, resolved: true, check: schemaDefault },
  { id: 'asyncapi2-schema-examples', major: 2, resolved: true, check: schemaExamples },
  { id: 'asyncapi3-operation-messages-from-referred-channel', major: 3, resolved: false, check: v3.operationMessagesFromReferredChannel },
  { id: 'asyncapi3-required-operation-channel-unambiguity', major: 3, resolved: false, check: v3.operationChannelUnambiguity },
  { id: 'asyncapi3-required-channel-servers-unambiguity', major: 3, resolved: false, check: v3.channelServersUnambiguity },
  { id: 'asyncapi3-channel-servers', major: 3, resolved: true, check: v2.channelServers },
  { id: 'asyncapi3-channel-no-query-nor-fragment', major: 3, resolved: true, check: v2.channelNoQueryNorFragment },
  { id: 'asyncapi3-channel-parameters', major: 3, resolved: true, check: v3.channelParameters },
];

/**
 * The semantic rules @asyncapi/parser enforces beyond the JSON Schema (unique operation ids,
 * parameters that match the address, ...), implemented natively so `generate` need not load the parser.
 * Expects a document whose structure validateStructure accepted.
 */
export function validateRules(set: DocumentSet): Diagnostic[] {
  const version = isRecord(set.root.data) ? set.root.data.asyncapi : undefined;
  if (typeof version !== 'string' || !SUPPORTED_VERSIONS.includes(version)) return [];
  const context = createContext(set, version);
  const seen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const rule of RULES) {
    if (rule.major !== 'any' && rule.major !== context.major) continue;
    for (const finding of rule.check(context)) {
      const diagnostic: Diagnostic = { code: rule.id, severity: finding.severity ?? 'error', message: finding.message, location: locate(context, rule, finding) };
      // A shared component is reached once per reference to it: report it once.
      const key = `${diagnostic.code}|${diagnostic.message}|${diagnostic.location?.file}|${diagnostic.location?.pointer}`;
      if (seen.has(key)) continue;
      seen.add(key);
      diagnostics.push(diagnostic);
    }
  }
  return diagnostics;
}

/**
 * Chains of `$ref`s that loop without reaching a value (A → B → A), as invalid-ref errors.
 * @asyncapi/parser 3.6 never returns on such a document, so the parser engine checks this first.
 */
export function refCycles(set: DocumentSet): Diagnostic[] {
  return unresolvedRefDiagnostics(set, true);
}

/**
 * Every `$ref` reachable from the root that does not resolve, as invalid-ref errors (the rule of the
 * same id, usable on its own: for instance to say why the structure check failed at a reference).
 */
export function unresolvedRefDiagnostics(set: DocumentSet, onlyCycles = false): Diagnostic[] {
  return brokenRefs(set, onlyCycles).map((finding) => ({ code: 'invalid-ref', severity: 'error', message: finding.message, location: finding.location }));
}

/** File, line, column and pointer of a finding: in the root file as written, or followed through `$ref`s. */
function locate(context: RuleContext, rule: Rule, finding: Finding): SourceLocation {
  if (finding.location) return finding.location;
  const segments = finding.path.map(String);
  if (!rule.resolved) {
    const pointer = toPointer(segments);
    return { file: context.set.root.displayPath, pointer, ...context.set.root.locate(pointer) };
  }
  const { node, rest } = locatePath(context.reader, segments);
  return { file: node.at.file.displayPath, pointer: appendPointer(node.at.pointer, ...rest), ...node.at.file.locate(node.at.pointer) };
}
