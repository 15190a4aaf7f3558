import { isAnnotation, isRecord, KNOWN_KEYWORDS, resolveNode, toObject, type SchemaNode, type SchemaSpace } from './node.js';

/** Keywords whose array value is a set: order does not matter. */
const SET_KEYWORDS = new Set(['required', 'enum', 'type']);
const SCHEMA_VALUED = new Set(['items', 'additionalItems', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties']);
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'dependentSchemas']);
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);

/**
 * A canonical text for a schema: `$ref`s inlined (cycles become back-references), annotations
 * dropped (unless asked for), set-like arrays sorted, keys sorted, `true` ≡ `{}`. Two schemas with
 * the same canonical text accept the same instances.
 */
export class Canonicalizer {
  private readonly memo = new Map<Record<string, unknown>, string>();
  private readonly memoAnnotated = new Map<Record<string, unknown>, string>();

  of(node: SchemaNode, annotations = false): string {
    return this.visit(resolveNode(node), annotations, []).text;
  }

  private readonly sameMemo = new WeakMap<object, Map<object, boolean>>();

  /**
   * True when two schemas are written identically (keys in any order), following `$ref`s on both
   * sides: the cheap test for the common case, an unchanged schema. False says nothing; the
   * canonical texts decide then.
   */
  same(a: SchemaNode, b: SchemaNode): boolean {
    return a.isFalse === b.isFalse && this.sameValue(a.schema, b.schema, a.space, b.space);
  }

  private sameValue(a: unknown, b: unknown, spaceA: SchemaSpace, spaceB: SchemaSpace): boolean {
    if (a === b) return true;
    if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
    if (Array.isArray(a) || Array.isArray(b)) {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) if (!this.sameValue(a[i], b[i], spaceA, spaceB)) return false;
      return true;
    }
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    let memo = this.sameMemo.get(ra);
    const known = memo?.get(rb);
    if (known !== undefined) return known;
    if (!memo) this.sameMemo.set(ra, (memo = new Map()));
    memo.set(rb, true); // a cycle: assume equal on the way back
    let result = true;
    const keys = Object.keys(ra);
    if (keys.length !== Object.keys(rb).length || spaceA.titles?.get(ra) !== spaceB.titles?.get(rb)) result = false;
    for (let i = 0; result && i < keys.length; i++) {
      const key = keys[i]!;
      if (!Object.prototype.hasOwnProperty.call(rb, key)) result = false;
      else if (key === '$ref' && typeof ra.$ref === 'string' && typeof rb.$ref === 'string') {
        const ta = targetOf(ra.$ref, spaceA);
        const tb = targetOf(rb.$ref, spaceB);
        result = ta !== undefined && tb !== undefined ? this.sameValue(ta, tb, spaceA, spaceB) : ra.$ref === rb.$ref;
      } else result = this.sameValue(ra[key], rb[key], spaceA, spaceB);
    }
    memo.set(rb, result);
    return result;
  }

  /** Canonical text of a plain value (enum members, const, defaults): key order ignored. */
  static value(value: unknown): string {
    return stableStringify(value);
  }

  private visit(node: SchemaNode, annotations: boolean, stack: Array<Record<string, unknown>>): { text: string; backRef: number } {
    if (node.isFalse) return { text: 'false', backRef: Infinity };
    const schema = node.schema;
    const memo = annotations ? this.memoAnnotated : this.memo;
    const known = memo.get(schema);
    if (known !== undefined) return { text: known, backRef: Infinity };
    const onStack = stack.indexOf(schema);
    if (onStack !== -1) return { text: `{"$rec":${stack.length - onStack}}`, backRef: onStack };
    stack.push(schema);
    const depth = stack.length - 1;
    let backRef = Infinity;
    const parts: string[] = [];
    const child = (value: unknown): string => {
      const result = this.visit(resolveNode({ schema: toObject(value), isFalse: value === false, space: node.space }), annotations, stack);
      backRef = Math.min(backRef, result.backRef);
      return result.text;
    };
    for (const key of Object.keys(schema).sort()) {
      const value = schema[key];
      if (value === undefined || key === '$ref') continue;
      if (isAnnotation(key) ? !annotations || key === 'definitions' || key === '$defs' : !KNOWN_KEYWORDS.has(key)) continue;
      if (key === 'required' && Array.isArray(value) && value.length === 0) continue;
      let text: string;
      if (SCHEMA_VALUED.has(key) && (isRecord(value) || typeof value === 'boolean')) text = child(value);
      else if (key === 'items' && Array.isArray(value)) text = `[${value.map(child).join(',')}]`;
      else if (SCHEMA_MAPS.has(key) && isRecord(value)) text = `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${child(value[k])}`).join(',')}}`;
      else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) {
        const branches = value.map(child);
        text = `[${(key === 'prefixItems' ? branches : branches.sort()).join(',')}]`;
      } else if (SET_KEYWORDS.has(key) && Array.isArray(value)) text = `[${[...new Set(value.map(stableStringify))].sort().join(',')}]`;
      else if (key === 'type' && typeof value === 'string') text = `[${JSON.stringify(value)}]`;
      else text = stableStringify(value);
      parts.push(`${JSON.stringify(key)}:${text}`);
    }
    stack.pop();
    const text = parts.length === 0 ? 'true' : `{${parts.join(',')}}`;
    // A subtree that refers back above itself depends on its context: only memoise self-contained ones.
    if (backRef >= depth) memo.set(schema, text);
    return { text, backRef: backRef >= depth ? Infinity : backRef };
  }
}

function targetOf(ref: string, space: SchemaSpace): unknown {
  const match = /^#\/(?:definitions|\$defs)\/(.+)$/.exec(ref);
  return match ? space.defs[decodeURIComponent(match[1]!).replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
}

export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .sort()
    .filter((k) => record[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${stableStringify(record[k])}`)
    .join(',')}}`;
}

export function canonicalOf(schema: unknown, space: SchemaSpace): string {
  return new Canonicalizer().of({ schema: toObject(schema), isFalse: schema === false, space });
}
