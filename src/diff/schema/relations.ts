import { Canonicalizer } from './canonical.js';
import { childNode, has, isRecord, type SchemaNode } from './node.js';

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
 * allowed value, or a property both require with disjoint schemas). False means "maybe overlapping".
 */
export function disjoint(a: SchemaNode, b: SchemaNode, depth = 0): boolean {
  if (a.isFalse || b.isFalse) return true;
  if (depth > 8) return false;
  const ta = effectiveAtoms(a);
  const tb = effectiveAtoms(b);
  if (![...ta].some((atom) => tb.has(atom))) return true;
  const va = allowedValues(a);
  const vb = allowedValues(b);
  if (va && vb && ![...va.keys()].some((key) => vb.has(key))) return true;
  const ra = Array.isArray(a.schema.required) ? a.schema.required : [];
  const rb = Array.isArray(b.schema.required) ? b.schema.required : [];
  const pa = isRecord(a.schema.properties) ? a.schema.properties : {};
  const pb = isRecord(b.schema.properties) ? b.schema.properties : {};
  // Only objects can carry required properties; other types may still overlap.
  if (ta.size === 1 && ta.has('object') && tb.size === 1 && tb.has('object')) {
    for (const name of ra) {
      if (typeof name !== 'string' || !rb.includes(name)) continue;
      if (!Object.prototype.hasOwnProperty.call(pa, name) || !Object.prototype.hasOwnProperty.call(pb, name)) continue;
      if (disjoint(childNode(a, pa[name], 'properties', name), childNode(b, pb[name], 'properties', name), depth + 1)) return true;
    }
  }
  return false;
}

/** True when every pair of branches is disjoint, so `oneOf` means the same as `anyOf`. */
export function pairwiseDisjoint(nodes: SchemaNode[]): boolean {
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) if (!disjoint(nodes[i]!, nodes[j]!)) return false;
  }
  return true;
}
