// The error rules of @asyncapi/parser's 2.x core ruleset (ruleset/v2/ruleset.js), one function each.
// Each checks the same input preconditions as the parser's function (which skips input it does not
// expect) so both accept and refuse the same documents.
import { isRecord } from '../../load/json.js';
import { has, isStringArray, missingProps, redundantProps, select, selectAll, urlVariables, type Finding, type Path, type RuleContext } from './context.js';

const OAUTH2_FLOWS = ['implicit', 'password', 'clientCredentials', 'authorizationCode'];

/** Operations in the parser's order (getAllOperations): per channel, subscribe then publish. */
export function v2Operations(document: unknown): Array<{ path: Path; operation: Record<string, unknown> }> {
  const channels = isRecord(document) ? document.channels : undefined;
  if (!isRecord(channels)) return [];
  const found: Array<{ path: Path; operation: Record<string, unknown> }> = [];
  for (const [address, channel] of Object.entries(channels)) {
    if (!isRecord(channel)) continue;
    for (const kind of ['subscribe', 'publish']) {
      const operation = channel[kind];
      if (isRecord(operation)) found.push({ path: ['channels', address, kind], operation });
    }
  }
  return found;
}

/** Messages of every operation (getAllMessages): the message, or each item of its `oneOf`. */
export function v2Messages(document: unknown): Array<{ path: Path; message: Record<string, unknown> }> {
  const found: Array<{ path: Path; message: Record<string, unknown> }> = [];
  for (const { path, operation } of v2Operations(document)) {
    const message = operation.message;
    if (!isRecord(message)) continue;
    if (Array.isArray(message.oneOf)) {
      message.oneOf.forEach((item, index) => {
        if (isRecord(item)) found.push({ path: [...path, 'message', 'oneOf', index], message: item });
      });
    } else {
      found.push({ path: [...path, 'message'], message });
    }
  }
  return found;
}

/** A security requirement names defined schemes, and an OAuth2 requirement only scopes its flows define. */
function securityRequirements(context: RuleContext, expression: string, objectType: 'Server' | 'Operation'): Finding[] {
  const findings: Finding[] = [];
  // The parser reads the schemes from the document as written (ctx.document.data), not resolved.
  const components = isRecord(context.raw) ? context.raw.components : undefined;
  const schemes = isRecord(components) && isRecord(components.securitySchemes) ? components.securitySchemes : {};
  for (const { path, value } of select(context.resolved, expression)) {
    if (!isRecord(value) || !Object.values(value).every(isStringArray)) continue;
    for (const [name, scopes] of Object.entries(value) as Array<[string, string[]]>) {
      if (!has(schemes, name)) findings.push({ path: [...path, name], message: `${objectType} must not reference an undefined security scheme.` });
      const scheme = schemes[name];
      if (!isRecord(scheme) || scheme.type !== 'oauth2') continue;
      const available = oauth2Scopes(scheme.flows);
      scopes.forEach((scope, index) => {
        if (!available.includes(scope)) {
          findings.push({ path: [...path, name, index], message: `Non-existing security scope for the specified security scheme. Available: [${available.join(', ')}]` });
        }
      });
    }
  }
  return findings;
}

function oauth2Scopes(flows: unknown): string[] {
  const scopes = new Set<string>();
  for (const key of OAUTH2_FLOWS) {
    const flow = isRecord(flows) ? flows[key] : undefined;
    if (isRecord(flow) && flow.scopes !== null && typeof flow.scopes === 'object') Object.keys(flow.scopes).forEach((s) => scopes.add(s));
  }
  return [...scopes];
}

export function serverSecurity(context: RuleContext): Finding[] {
  return securityRequirements(context, 'servers.*.security.*', 'Server');
}

export function operationSecurity(context: RuleContext): Finding[] {
  return securityRequirements(context, 'channels.*.[publish,subscribe].security.*', 'Operation');
}

/** Every `{variable}` of a server URL is described in `variables`, and nothing else is. */
export function serverVariables(context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const { path, value } of selectAll(context.resolved, ['servers.*', 'components.servers.*'])) {
    if (!isRecord(value) || typeof value.url !== 'string' || !isRecord(value.variables)) continue;
    const used = urlVariables(value.url);
    if (used.length === 0) continue;
    const missing = missingProps(used, value.variables);
    if (missing.length) findings.push({ path: [...path, 'variables'], message: `Not all server's variables are described with "variables" object. Missed: ${missing.join(', ')}.` });
    for (const name of redundantProps(used, value.variables)) {
      findings.push({ path: [...path, 'variables', name], message: `Server's "variables" object has redundant defined "${name}" url variable.` });
    }
  }
  return findings;
}

/** Every `{parameter}` of a channel name is described in `parameters`, and nothing else is. */
export function channelParameters(context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const { path, value } of select(context.resolved, 'channels.*')) {
    if (!isRecord(value) || !isRecord(value.parameters)) continue;
    const used = urlVariables(String(path[path.length - 1]));
    if (used.length === 0) continue;
    const missing = missingProps(used, value.parameters);
    if (missing.length) findings.push({ path: [...path, 'parameters'], message: `Not all channel's parameters are described with "parameters" object. Missed: ${missing.join(', ')}.` });
    for (const name of redundantProps(used, value.parameters)) {
      findings.push({ path: [...path, 'parameters', name], message: `Channel's "parameters" object has redundant defined "${name}" parameter.` });
    }
  }
  return findings;
}

/**
 * A channel's `servers` are names of the root `servers` (functions/channelServers.js, shared by 2.x
 * and 3.x). Like the parser, it looks only when every channel's `servers` is a list of names.
 */
export function channelServers(context: RuleContext): Finding[] {
  const document = context.resolved;
  if (!isRecord(document) || !document.channels) return [];
  const { servers, channels } = document;
  if (servers !== undefined && !isRecord(servers)) return [];
  if (!isRecord(channels)) return [];
  const all = Object.values(channels);
  if (!all.every((c) => isRecord(c) && (c.servers === undefined || isStringArray(c.servers)))) return [];
  const names = Object.keys(servers ?? {});
  const findings: Finding[] = [];
  for (const [address, channel] of Object.entries(channels) as Array<[string, Record<string, unknown>]>) {
    if (!channel.servers) continue;
    (channel.servers as string[]).forEach((name, index) => {
      if (!names.includes(name)) findings.push({ path: ['channels', address, 'servers', index], message: 'Channel contains server that are not defined on the "servers" object.' });
    });
  }
  return findings;
}

/** A channel key has no `?` or `#` (2.x keys are addresses; the 3.x rule checks channel ids the same way). */
export function channelNoQueryNorFragment(context: RuleContext): Finding[] {
  const channels = isRecord(context.resolved) ? context.resolved.channels : undefined;
  if (channels === null || typeof channels !== 'object') return [];
  return Object.keys(channels)
    .filter((key) => /[?#]/.test(key))
    .map((key) => ({ path: ['channels', key], message: 'Channel address should not include query ("?") or fragment ("#") delimiter.' }));
}

/** The last trait that sets a string `field` wins, else the object's own. */
function idOf(object: Record<string, unknown>, field: string): { id: string; path: Path } | undefined {
  if (Array.isArray(object.traits)) {
    for (let i = object.traits.length - 1; i >= 0; i--) {
      const trait = object.traits[i];
      if (isRecord(trait) && typeof trait[field] === 'string') return { id: trait[field] as string, path: ['traits', i, field] };
    }
  }
  return typeof object[field] === 'string' ? { id: object[field] as string, path: [field] } : undefined;
}

function duplicates(items: Array<{ path: Path; object: Record<string, unknown> }>, field: string, message: string): Finding[] {
  const seen = new Set<string>();
  const findings: Finding[] = [];
  for (const { path, object } of items) {
    const found = idOf(object, field);
    if (!found) continue;
    if (seen.has(found.id)) findings.push({ path: [...path, ...found.path], message });
    else seen.add(found.id);
  }
  return findings;
}

export function operationIdUniqueness(context: RuleContext): Finding[] {
  const items = v2Operations(context.resolved).map(({ path, operation }) => ({ path, object: operation }));
  return duplicates(items, 'operationId', '"operationId" must be unique across all the operations.');
}

export function messageIdUniqueness(context: RuleContext): Finding[] {
  const items = v2Messages(context.resolved).map(({ path, message }) => ({ path, object: message }));
  return duplicates(items, 'messageId', '"messageId" must be unique across all the messages.');
}

const TAG_LISTS = [
  'tags',
  'channels.*.[publish,subscribe].tags',
  'components.channels.*.[publish,subscribe].tags',
  'channels.*.[publish,subscribe].traits.*.tags',
  'components.channels.*.[publish,subscribe].traits.*.tags',
  'components.operationTraits.*.tags',
  'channels.*.[publish,subscribe].message.tags',
  'channels.*.[publish,subscribe].message.oneOf.*.tags',
  'components.channels.*.[publish,subscribe].message.tags',
  'components.channels.*.[publish,subscribe].message.oneOf.*.tags',
  'components.messages.*.tags',
  'channels.*.[publish,subscribe].message.traits.*.tags',
  'channels.*.[publish,subscribe].message.oneOf.*.traits.*.tags',
  'components.channels.*.[publish,subscribe].message.traits.*.tags',
  'components.channels.*.[publish,subscribe].message.oneOf.*.traits.*.tags',
  'components.messages.*.traits.*.tags',
  'components.messageTraits.*.tags',
];

/** Tag names are unique within each list of tags. */
export function tagsUniqueness(context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const { path, value } of selectAll(context.resolved, TAG_LISTS)) {
    if (!Array.isArray(value) || !value.every((tag) => isRecord(tag) && typeof tag.name === 'string')) continue;
    const names = value.map((tag) => (tag as { name: string }).name);
    names.forEach((name, index) => {
      if (names.indexOf(name) !== index) findings.push({ path: [...path, index, 'name'], message: `"tags" object contains duplicate tag name "${name}".` });
    });
  }
  return findings;
}
