import { Canonicalizer } from './canonical.js';
import { forbids, propertiesOf, requiredOf } from './effective.js';
import { childNode, has, type SchemaNode } from './node.js';

/**
 * JSON types as disjoint atoms: `number` is split into its integer and non-integer parts, so
 * "integer → number" is a widening and "number → integer" a narrowing.
 */
export type TypeAtom = 'null' | 'boolean' | 'object' | 'array' | 'string' | 'integer' | 'fraction';
export const ALL_ATOMS: readonly TypeAtom[] = ['null', 'boolean', 'object', 'array', 'string', 'integer', 'fraction'];

export function atomsOf(type: string): TypeAtom[] {
  if (type === 'number') return ['integer', 'fraction'];
  return (ALL_ATOMS as readonly string[]).includes(type) ? [type as TypeAtom] : [];
}

/** The JSON type of a value, as an atom. */
export function atomOfValue(value: unknown): TypeAtom {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'fraction';
  if (typeof value === 'object') return 'object';
  return typeof value as 'string' | 'boolean';
}

const declaredCache = new WeakMap<object, Set<TypeAtom>>();
const effectiveCache = new WeakMap<object, Set<TypeAtom>>();

/** Declared types (all when `type` is absent). Cached per schema object: treat the set as read-only. */
export function declaredAtoms(node: SchemaNode): Set<TypeAtom> {
  let atoms = declaredCache.get(node.schema);
  if (atoms) return atoms;
  const type = node.schema.type;
  if (type === undefined) atoms = new Set(ALL_ATOMS);
  else {
    const list = Array.isArray(type) ? type : [type];
    atoms = new Set(list.flatMap((t) => (typeof t === 'string' ? atomsOf(t) : [])));
  }
  declaredCache.set(node.schema, atoms);
  return atoms;
}

/** The values allowed by `enum` and `const` together (undefined: not restricted to a list). */
export function allowedValues(node: SchemaNode): Map<string, unknown> | undefined {
  let values: Map<string, unknown> | undefined;
  if (Array.isArray(node.schema.enum)) values = new Map(node.schema.enum.map((v) => [Canonicalizer.value(v), v]));
  if (has(node.schema, 'const')) {
    const key = Canonicalizer.value(node.schema.const);
    values = !values || values.has(key) ? new Map([[key, node.schema.const]]) : new Map();
  }
  return values;
}

/** Types the node can accept: declared types, limited to the types of its allowed values. Cached: read-only. */
export function effectiveAtoms(node: SchemaNode): Set<TypeAtom> {
  let atoms = effectiveCache.get(node.schema);
  if (atoms) return atoms;
  const declared = declaredAtoms(node);
  const values = allowedValues(node);
  atoms = values ? new Set([...values.values()].map(atomOfValue).filter((atom) => declared.has(atom))) : declared;
  effectiveCache.set(node.schema, atoms);
  return atoms;
}

/**
 * True when no instance can be valid under both schemas (provably: different types, no common
 * allowed value, a property both require with disjoint schemas, or a property one requires and
 * the other forbids). `parent` is the schema both are branches of: its `type`, `required` and
 * `properties` apply to both. False means "maybe overlapping".
 */
export function disjoint(a: SchemaNode, b: SchemaNode, depth = 0, parent?: SchemaNode): boolean {
  if (a.isFalse || b.isFalse) return true;
  if (depth > 8) return false;
  const ta = withParent(effectiveAtoms(a), parent);
  const tb = withParent(effectiveAtoms(b), parent);
  const common = [...ta].filter((atom) => tb.has(atom));
  if (common.length === 0) return true;
  const va = allowedValues(a);
  const vb = allowedValues(b);
  if (va && vb && ![...va.keys()].some((key) => vb.has(key))) return true;
  // Only objects can carry required properties; other common types may still overlap.
  if (common.length !== 1 || common[0] !== 'object') return false;
  const ra = requiredNames(a, parent);
  const rb = requiredNames(b, parent);
  for (const name of ra) {
    if (forbids(b, name)) return true;
    if (!rb.has(name)) continue;
    const sa = propertySchema(a, name, parent);
    const sb = propertySchema(b, name, parent);
    if (sa && sb && disjoint(sa, sb, depth + 1)) return true;
  }
  for (const name of rb) if (forbids(a, name)) return true;
  return false;
}

function withParent(atoms: Set<TypeAtom>, parent: SchemaNode | undefined): Set<TypeAtom> {
  if (!parent) return atoms;
  const outer = effectiveAtoms(parent);
  return new Set([...atoms].filter((atom) => outer.has(atom)));
}

function requiredNames(node: SchemaNode, parent: SchemaNode | undefined): Set<string> {
  return new Set([...requiredOf(node.schema), ...(parent ? requiredOf(parent.schema) : [])]);
}

/** The schema a branch puts on a property (its own declaration, else the parent's). */
function propertySchema(node: SchemaNode, name: string, parent: SchemaNode | undefined): SchemaNode | undefined {
  const own = propertiesOf(node);
  if (Object.prototype.hasOwnProperty.call(own, name)) return childNode(node, own[name], 'properties', name);
  const outer = parent ? propertiesOf(parent) : {};
  return parent && Object.prototype.hasOwnProperty.call(outer, name) ? childNode(parent, outer[name], 'properties', name) : undefined;
}

/** True when every pair of branches is disjoint, so `oneOf` means the same as `anyOf`. */
export function pairwiseDisjoint(nodes: SchemaNode[], parent?: SchemaNode): boolean {
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) if (!disjoint(nodes[i]!, nodes[j]!, 0, parent)) return false;
  }
  return true;
}
