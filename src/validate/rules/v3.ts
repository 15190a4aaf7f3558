// The error rules of @asyncapi/parser's 3.x core ruleset (ruleset/v3/ruleset.js), one function each.
import { createRequire } from 'node:module';
import { isRecord } from '../../load/json.js';
import { has, missingProps, redundantProps, select, selectAll, urlVariables, type Finding, type RuleContext } from './context.js';

const require = createRequire(import.meta.url);
let uriReference: RegExp | undefined;

/** ajv-formats' `uri-reference`, which the parser's input schema applies to `$ref`s. */
function isUriReference(value: string): boolean {
  uriReference ??= (require('ajv-formats/dist/formats.js') as { fullFormats: Record<string, RegExp> }).fullFormats['uri-reference']!;
  return uriReference.test(value);
}

/** `{ $ref?: uri-reference string }`, the parser's referenceSchema. */
function isReferenceShape(value: unknown): value is { $ref?: string } {
  if (!isRecord(value)) return false;
  if (!has(value, '$ref')) return true;
  return typeof value.$ref === 'string' && isUriReference(value.$ref);
}

/** An operation's messages are messages of its own channel (read as written: `$ref`s compared as text). */
export function operationMessagesFromReferredChannel(context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const { path, value } of selectAll(context.raw, ['operations.*', 'components.operations.*'])) {
    if (!isRecord(value)) continue;
    if (has(value, 'channel') && !isReferenceShape(value.channel)) continue;
    if (has(value, 'messages') && !(Array.isArray(value.messages) && value.messages.every(isReferenceShape))) continue;
    const channel = (value.channel as { $ref?: string } | undefined)?.$ref;
    ((value.messages as Array<{ $ref?: string }> | undefined) ?? []).forEach((message, index) => {
      if (message.$ref && !message.$ref.startsWith(`${channel}/messages`)) {
        findings.push({ path: [...path, 'messages', index], message: 'Operation message does not belong to the specified channel.' });
      }
    });
  }
  return findings;
}

/** Spectral's `pattern` with `match`: only strings are checked. */
function mustMatch(value: unknown, pattern: RegExp): boolean {
  return typeof value !== 'string' || pattern.test(value);
}

/** A root operation's `channel` is a `$ref` into the root `channels`. */
export function operationChannelUnambiguity(context: RuleContext): Finding[] {
  const message = 'The "channel" field of an operation under the root "operations" object must always reference a channel under the root "channels" object.';
  const findings: Finding[] = [];
  for (const { path, value } of select(context.raw, 'operations.*')) {
    // Spectral reads the field `channel.$ref`; a value that is not an object is checked itself.
    const notObject = value === null || typeof value !== 'object';
    const target = notObject ? value : isRecord(value) && isRecord(value.channel) ? value.channel.$ref : undefined;
    if (!mustMatch(target, /#\/channels\//)) findings.push({ path: notObject ? path : [...path, 'channel', '$ref'], message });
  }
  return findings;
}

/** A root channel's `servers` are `$ref`s into the root `servers`. */
export function channelServersUnambiguity(context: RuleContext): Finding[] {
  const message = 'The "servers" field of a channel under the root "channels" object must always reference a subset of the servers under the root "servers" object.';
  const findings: Finding[] = [];
  for (const { path, value } of select(context.raw, 'channels.*')) {
    if (value === null || typeof value !== 'object') {
      if (!mustMatch(value, /#\/servers\//)) findings.push({ path, message });
      continue;
    }
    for (const ref of select(value, 'servers.*.$ref')) {
      if (!mustMatch(ref.value, /#\/servers\//)) findings.push({ path: [...path, ...ref.path], message });
    }
  }
  return findings;
}

/** Every `{parameter}` of a channel address is described in `parameters`, and nothing else is. */
export function channelParameters(context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const { path, value } of selectAll(context.resolved, ['channels.*', 'components.channels.*'])) {
    if (!isRecord(value) || !isRecord(value.parameters)) continue;
    if (has(value, 'address') && value.address !== null && typeof value.address !== 'string') continue;
    const used = urlVariables(value.address ?? '');
    const missing = missingProps(used, value.parameters);
    if (missing.length) findings.push({ path: [...path, 'parameters'], message: `Not all channel's parameters are described with "parameters" object. Missed: ${missing.join(', ')}.` });
    for (const name of redundantProps(used, value.parameters)) {
      findings.push({ path: [...path, 'parameters', name], message: `Channel's "parameters" object has redundant defined "${name}" parameter.` });
    }
  }
  return findings;
}
