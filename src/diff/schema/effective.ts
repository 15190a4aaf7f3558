import { acceptsEverything, childNode, isRecord, type SchemaNode } from './node.js';

/** How a property name is constrained on one side when that side does not declare it. */
export type Effective =
  | { kind: 'declared'; node: SchemaNode }
  | { kind: 'closed' }
  | { kind: 'open' }
  | { kind: 'schema'; node: SchemaNode };

/** How `side` constrains property `name` by its own keywords (properties, patternProperties, additionalProperties). */
export function effective(side: SchemaNode, props: Record<string, unknown>, name: string): Effective {
  if (Object.prototype.hasOwnProperty.call(props, name)) return { kind: 'declared', node: childNode(side, props[name], 'properties', name) };
  const patterns = isRecord(side.schema.patternProperties) ? side.schema.patternProperties : {};
  const matching = Object.keys(patterns).filter((pattern) => safeTest(pattern, name));
  if (matching.length === 1) return { kind: 'schema', node: childNode(side, patterns[matching[0]!], 'patternProperties', matching[0]!) };
  if (matching.length > 1) {
    return { kind: 'schema', node: { schema: { allOf: matching.map((p) => patterns[p]) }, isFalse: false, origin: side.origin, space: side.space } };
  }
  const additional = side.schema.additionalProperties;
  if (additional === false) return { kind: 'closed' };
  if (isRecord(additional) && !acceptsEverything(childNode(side, additional, 'additionalProperties'))) {
    const node = childNode(side, additional, 'additionalProperties');
    return node.isFalse ? { kind: 'closed' } : { kind: 'schema', node };
  }
  return { kind: 'open' };
}

function safeTest(pattern: string, name: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(name);
  } catch {
    return false;
  }
}


/** The own `properties` of a node (empty when absent). */
export function propertiesOf(node: SchemaNode): Record<string, unknown> {
  return isRecord(node.schema.properties) ? node.schema.properties : {};
}

export function requiredOf(schema: Record<string, unknown>): string[] {
  return Array.isArray(schema.required) ? schema.required.filter((n): n is string => typeof n === 'string') : [];
}

const MAX_COMPOSITION_DEPTH = 6;

/** The branches of one composition keyword, resolved (none when absent). */
function branchesOf(node: SchemaNode, keyword: 'allOf' | 'anyOf' | 'oneOf'): SchemaNode[] {
  const list = node.schema[keyword];
  return Array.isArray(list) ? list.map((branch, index) => childNode(node, branch, keyword, index)) : [];
}

/**
 * True when every value valid under `node` satisfies `holds` through the node itself or its
 * composition: the node, one `allOf` branch, or every branch of a non-empty `anyOf`/`oneOf`.
 * How structure moved into `oneOf` branches is still seen as required (or constrained).
 */
export function holdsThroughComposition(node: SchemaNode, holds: (node: SchemaNode) => boolean, depth = 0): boolean {
  if (node.isFalse || holds(node)) return true;
  if (depth >= MAX_COMPOSITION_DEPTH) return false;
  if (branchesOf(node, 'allOf').some((branch) => holdsThroughComposition(branch, holds, depth + 1))) return true;
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const branches = branchesOf(node, keyword);
    if (branches.length > 0 && branches.every((branch) => holdsThroughComposition(branch, holds, depth + 1))) return true;
  }
  return false;
}

/** True when `node` requires property `name`, by itself or through its composition. */
export function requiresThroughComposition(node: SchemaNode, name: string): boolean {
  return holdsThroughComposition(node, (n) => requiredOf(n.schema).includes(name));
}

/**
 * True when every value `node` accepts has property `name` (when present) valid under a schema
 * `within` accepts (or forbidden), by the node's own keywords or through its composition.
 */
export function propertyConstrainedWithin(node: SchemaNode, name: string, within: (property: SchemaNode) => boolean): boolean {
  return holdsThroughComposition(node, (n) => {
    const own = effective(n, propertiesOf(n), name);
    if (own.kind === 'closed') return true;
    if (own.kind === 'open') return false;
    return own.node.isFalse || within(own.node);
  });
}

/** True when the node rejects every object carrying `name` (closed without it, or declared `false`). */
export function forbids(node: SchemaNode, name: string): boolean {
  const own = effective(node, propertiesOf(node), name);
  return own.kind === 'closed' || ((own.kind === 'declared' || own.kind === 'schema') && own.node.isFalse);
}
