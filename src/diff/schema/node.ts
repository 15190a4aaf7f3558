import { isRecord } from '../../load/json.js';
import { appendPointer } from '../../load/pointer.js';
import type { JsonSchema, Origin } from '../../model/types.js';

/** The schemas of one document: the model's `definitions` map and where each entry is written. */
export interface SchemaSpace {
  defs: Record<string, JsonSchema>;
  origins: Record<string, Origin>;
  /** Titles the model keeps apart from its schema copies (src/model/schemas.ts). */
  titles?: WeakMap<object, string>;
}

/** A schema in object form, where it is written, and the definition it was reached through. */
export interface SchemaNode {
  schema: Record<string, unknown>;
  /** `false`: rejects everything. */
  isFalse: boolean;
  origin?: Origin;
  space: SchemaSpace;
  /** Name of the definition this node is (when reached through `$ref`), for cycle detection. */
  refName?: string;
  /** Set when the node was wrapped as a one-branch `anyOf`/`oneOf`/`allOf` to compare with one. */
  wrappedIn?: string;
  /** For a wrapped node: where its one branch is written, and whether the composition is written too. */
  branchOrigin?: Origin;
  wrappedReal?: boolean;
  /** Set when the node is the lone branch of a written `anyOf`/`oneOf`/`allOf`: that keyword and where it is. */
  unwrapped?: { keyword: string; origin?: Origin };
}

/** Keywords that only annotate: they never change which instances a schema accepts. */
export const ANNOTATION_KEYWORDS = new Set([
  'title', 'description', 'default', 'examples', 'example', 'deprecated', 'readOnly', 'writeOnly', '$comment',
  '$id', 'id', '$schema', 'externalDocs', 'discriminator', 'xml', 'definitions', '$defs', 'contentMediaType', 'contentEncoding',
  'contentSchema', '$anchor', '$dynamicAnchor', '$vocabulary',
]);

/** Assertion keywords the comparison understands; anything else that is not an annotation is ignored by validators. */
export const KNOWN_KEYWORDS = new Set([
  'type', 'enum', 'const', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum',
  'maxLength', 'minLength', 'pattern', 'format', 'items', 'additionalItems', 'maxItems', 'minItems', 'uniqueItems',
  'contains', 'maxContains', 'minContains', 'maxProperties', 'minProperties', 'required', 'properties',
  'patternProperties', 'additionalProperties', 'dependencies', 'dependentRequired', 'dependentSchemas',
  'propertyNames', 'if', 'then', 'else', 'allOf', 'anyOf', 'oneOf', 'not', 'prefixItems', 'unevaluatedItems',
  'unevaluatedProperties', '$ref',
]);

export function isAnnotation(keyword: string): boolean {
  return ANNOTATION_KEYWORDS.has(keyword) || keyword.startsWith('x-');
}

const MAX_REF_HOPS = 64;

/** Wraps a schema value written at `origin`. */
export function nodeOf(schema: JsonSchema | undefined, space: SchemaSpace, origin?: Origin): SchemaNode {
  return resolveNode({ schema: toObject(schema), isFalse: schema === false, origin, space });
}

/** A child of a node (`properties/amount`, `items`, ...), resolved. */
export function childNode(parent: SchemaNode, value: unknown, ...segments: Array<string | number>): SchemaNode {
  const wrapped = parent.wrappedIn !== undefined && segments[0] === parent.wrappedIn;
  const origin = wrapped ? parent.branchOrigin : parent.origin ? { file: parent.origin.file, pointer: appendPointer(parent.origin.pointer, ...segments) } : undefined;
  return resolveNode({ schema: toObject(value), isFalse: value === false, origin, space: parent.space });
}

/** The node that accepts everything (an absent keyword). */
export function trueNode(space: SchemaSpace, origin?: Origin): SchemaNode {
  return { schema: {}, isFalse: false, origin, space };
}

/**
 * Follows `$ref`s to the definition and unwraps a lone single-branch `allOf`/`anyOf`/`oneOf`,
 * so `{ allOf: [X] }`, `{ $ref: X }` and X itself compare equal.
 */
export function resolveNode(node: SchemaNode): SchemaNode {
  let current = node;
  for (let hops = 0; hops < MAX_REF_HOPS; hops++) {
    const ref = current.schema.$ref;
    if (typeof ref === 'string') {
      const name = definitionName(ref);
      const target = name !== undefined ? current.space.defs[name] : undefined;
      if (target === undefined) return current;
      const siblings = assertionSiblings(current.schema);
      const resolved: SchemaNode = {
        schema: toObject(target),
        isFalse: target === false,
        origin: current.space.origins[name!] ?? current.origin,
        space: current.space,
        refName: name,
      };
      // `$ref` with assertion siblings (2019+ semantics): both apply.
      if (siblings) return { schema: { ...siblings, allOf: [target] }, isFalse: false, origin: current.origin, space: current.space };
      current = resolved;
      continue;
    }
    const single = singleBranch(current.schema);
    if (single) {
      const [keyword, branch] = single;
      const origin = current.origin ? { file: current.origin.file, pointer: appendPointer(current.origin.pointer, keyword, 0) } : undefined;
      current = { schema: toObject(branch), isFalse: branch === false, origin, space: current.space, refName: current.refName, unwrapped: { keyword, origin: current.origin } };
      continue;
    }
    return current;
  }
  return current;
}

function definitionName(ref: string): string | undefined {
  const match = /^#\/(?:definitions|\$defs)\/(.+)$/.exec(ref);
  return match ? decodeURIComponent(match[1]!).replace(/~1/g, '/').replace(/~0/g, '~') : undefined;
}

function assertionSiblings(schema: Record<string, unknown>): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(schema)) {
    if (key === '$ref' || isAnnotation(key) || !KNOWN_KEYWORDS.has(key)) continue;
    out ??= {};
    out[key] = schema[key];
  }
  return out;
}

/** `{ allOf: [X] }` (and anyOf/oneOf) with nothing else asserted: the branch. */
function singleBranch(schema: Record<string, unknown>): [string, unknown] | undefined {
  let found: [string, unknown] | undefined;
  for (const key of Object.keys(schema)) {
    if (isAnnotation(key) || !KNOWN_KEYWORDS.has(key)) continue;
    if ((key === 'allOf' || key === 'anyOf' || key === 'oneOf') && Array.isArray(schema[key]) && (schema[key] as unknown[]).length === 1 && !found) {
      found = [key, (schema[key] as unknown[])[0]];
      continue;
    }
    return undefined;
  }
  return found;
}

/** The assertion keywords of a schema (annotations and unknown keywords left out). */
export function assertionKeywords(schema: Record<string, unknown>): string[] {
  return Object.keys(schema).filter((key) => schema[key] !== undefined && !isAnnotation(key) && KNOWN_KEYWORDS.has(key));
}

/**
 * When one side is only an `anyOf`/`oneOf`/`allOf` and the other side does not use that keyword,
 * the other side is read as a one-branch composition, so `A` → `anyOf: [A, B]` is one added branch.
 */
export function alignComposition(oldNode: SchemaNode, newNode: SchemaNode): [SchemaNode, SchemaNode] {
  for (const keyword of ['anyOf', 'oneOf', 'allOf']) {
    const only = (node: SchemaNode) => Array.isArray(node.schema[keyword]) && assertionKeywords(node.schema).length === 1;
    if (only(newNode) && !has(oldNode.schema, keyword) && !oldNode.isFalse && !acceptsEverything(oldNode)) return [wrap(oldNode, keyword), newNode];
    if (only(oldNode) && !has(newNode.schema, keyword) && !newNode.isFalse && !acceptsEverything(newNode)) return [oldNode, wrap(newNode, keyword)];
  }
  return [oldNode, newNode];
}

function wrap(node: SchemaNode, keyword: string): SchemaNode {
  const real = node.unwrapped?.keyword === keyword;
  const origin = real ? node.unwrapped!.origin : node.origin;
  return { schema: { [keyword]: [node.schema] }, isFalse: false, origin, space: node.space, refName: node.refName, wrappedIn: keyword, branchOrigin: node.origin, wrappedReal: real };
}

export function toObject(schema: unknown): Record<string, unknown> {
  if (schema === false) return { not: {} };
  if (schema !== null && typeof schema === 'object' && !Array.isArray(schema)) return schema as Record<string, unknown>;
  return {};
}

/** True for `{}`/`true` and schemas holding only annotations. */
/** The `title` of a schema, written in it or kept apart by the model. */
export function titleOf(node: SchemaNode): string | undefined {
  const own = node.schema.title;
  return typeof own === 'string' ? own : node.space.titles?.get(node.schema);
}

export function acceptsEverything(node: SchemaNode): boolean {
  if (node.isFalse) return false;
  return Object.keys(node.schema).every((key) => isAnnotation(key) || !KNOWN_KEYWORDS.has(key));
}

export function has(schema: Record<string, unknown>, keyword: string): boolean {
  return Object.prototype.hasOwnProperty.call(schema, keyword) && schema[keyword] !== undefined;
}

// The schema walkers take it from here; the one definition is in load/json.ts.
export { isRecord };
