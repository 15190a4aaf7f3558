import type { SchemaNode } from '../../schema/node.js';
import { declaredAtoms } from '../../schema/relations.js';
import type { SchemaPair, SchemaRule } from '../../schema/walk.js';

interface Bound {
  value: number;
  exclusive: boolean;
  keyword: string;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function integerOnly(node: SchemaNode): boolean {
  const atoms = declaredAtoms(node);
  return atoms.size === 1 && atoms.has('integer');
}

/**
 * The effective numeric bound of one side: `minimum` and `exclusiveMinimum` together (draft-04
 * boolean form too); for integers, exclusive bounds become inclusive ones (> 0 is ≥ 1).
 */
function numericBound(node: SchemaNode, side: 'lower' | 'upper'): Bound | undefined {
  const s = node.schema;
  const inclusiveKey = side === 'lower' ? 'minimum' : 'maximum';
  const exclusiveKey = side === 'lower' ? 'exclusiveMinimum' : 'exclusiveMaximum';
  const candidates: Bound[] = [];
  const inclusive = num(s[inclusiveKey]);
  if (inclusive !== undefined) candidates.push({ value: inclusive, exclusive: s[exclusiveKey] === true, keyword: s[exclusiveKey] === true ? exclusiveKey : inclusiveKey });
  const exclusive = num(s[exclusiveKey]);
  if (exclusive !== undefined) candidates.push({ value: exclusive, exclusive: true, keyword: exclusiveKey });
  if (candidates.length === 0) return undefined;
  const normalised = integerOnly(node)
    ? candidates.map((b) => ({
        keyword: b.keyword,
        exclusive: false,
        value: side === 'lower' ? (b.exclusive ? Math.floor(b.value) + 1 : Math.ceil(b.value)) : b.exclusive ? Math.ceil(b.value) - 1 : Math.floor(b.value),
      }))
    : candidates;
  // The tightest bound wins.
  return normalised.reduce((best, b) => (tightness(b, best, side) > 0 ? b : best));
}

/** > 0 when `a` is tighter than `b`. */
function tightness(a: Bound, b: Bound, side: 'lower' | 'upper'): number {
  if (a.value !== b.value) return side === 'lower' ? a.value - b.value : b.value - a.value;
  return Number(a.exclusive) - Number(b.exclusive);
}

function show(bound: Bound | undefined, side: 'lower' | 'upper'): string {
  if (!bound) return 'none';
  return `${side === 'lower' ? (bound.exclusive ? '>' : '≥') : bound.exclusive ? '<' : '≤'} ${bound.value}`;
}

function numericRule(id: string, side: 'lower' | 'upper', tighter: boolean): SchemaRule {
  const impact = tighter ? 'narrows' : 'widens';
  const rule: SchemaRule = {
    id,
    kind: 'schema',
    category: 'schema',
    severity: 'directional',
    purpose: `The ${side} bound of a number (${side === 'lower' ? 'minimum / exclusiveMinimum' : 'maximum / exclusiveMaximum'}) was ${tighter ? 'tightened or added' : 'loosened or removed'}.`,
    message: (a) => `the ${side} bound of ${a.subject} went from ${a.from} to ${a.to} in ${a.container}`,
    consequence: tighter
      ? { narrows: 'events from producers sending values beyond the new bound will be rejected' }
      : { widens: 'consumers validating against the old schema will reject values beyond the old bound' },
    check(pair: SchemaPair) {
      const before = numericBound(pair.old, side);
      const after = numericBound(pair.new, side);
      if (!before && !after) return;
      const t = !before ? 1 : !after ? -1 : tightness(after, before, side);
      if (t === 0 || (t > 0) !== tighter) return;
      const keyword = (after ?? before)!.keyword;
      pair.report(rule, impact, { from: show(before, side), to: show(after, side) }, { oldAt: [before?.keyword ?? keyword], newAt: [after?.keyword ?? keyword] });
    },
  };
  return rule;
}

export const SCHEMA_MINIMUM_INCREASED = numericRule('SCHEMA_MINIMUM_INCREASED', 'lower', true);
export const SCHEMA_MINIMUM_DECREASED = numericRule('SCHEMA_MINIMUM_DECREASED', 'lower', false);
export const SCHEMA_MAXIMUM_DECREASED = numericRule('SCHEMA_MAXIMUM_DECREASED', 'upper', true);
export const SCHEMA_MAXIMUM_INCREASED = numericRule('SCHEMA_MAXIMUM_INCREASED', 'upper', false);

/** minLength/maxLength, minItems/maxItems, minProperties/maxProperties: absent min is 0, absent max is ∞. */
function countRule(id: string, keyword: string, what: string, tighter: boolean): SchemaRule {
  const isMin = keyword.startsWith('min');
  const impact = tighter ? 'narrows' : 'widens';
  const read = (schema: Record<string, unknown>): number => num(schema[keyword]) ?? (isMin ? 0 : Infinity);
  const rule: SchemaRule = {
    id,
    kind: 'schema',
    category: 'schema',
    severity: 'directional',
    purpose: `\`${keyword}\` (${what}) was ${isMin === tighter ? 'raised or added' : 'lowered or removed'}.`,
    message: (a) => `${keyword} of ${a.subject} went from ${a.from} to ${a.to} in ${a.container}`,
    consequence: tighter
      ? { narrows: `events from producers sending ${what} outside the new limit will be rejected` }
      : { widens: `consumers validating against the old schema will reject ${what} outside the old limit` },
    check(pair: SchemaPair) {
      const before = read(pair.old.schema);
      const after = read(pair.new.schema);
      if (before === after) return;
      const isTighter = isMin ? after > before : after < before;
      if (isTighter !== tighter) return;
      const show = (n: number) => (n === Infinity ? 'none' : String(n));
      pair.report(rule, impact, { from: show(before), to: show(after) }, { oldAt: [keyword], newAt: [keyword] });
    },
  };
  return rule;
}

export const SCHEMA_MIN_LENGTH_INCREASED = countRule('SCHEMA_MIN_LENGTH_INCREASED', 'minLength', 'string lengths', true);
export const SCHEMA_MIN_LENGTH_DECREASED = countRule('SCHEMA_MIN_LENGTH_DECREASED', 'minLength', 'string lengths', false);
export const SCHEMA_MAX_LENGTH_DECREASED = countRule('SCHEMA_MAX_LENGTH_DECREASED', 'maxLength', 'string lengths', true);
export const SCHEMA_MAX_LENGTH_INCREASED = countRule('SCHEMA_MAX_LENGTH_INCREASED', 'maxLength', 'string lengths', false);
export const SCHEMA_MIN_ITEMS_INCREASED = countRule('SCHEMA_MIN_ITEMS_INCREASED', 'minItems', 'array sizes', true);
export const SCHEMA_MIN_ITEMS_DECREASED = countRule('SCHEMA_MIN_ITEMS_DECREASED', 'minItems', 'array sizes', false);
export const SCHEMA_MAX_ITEMS_DECREASED = countRule('SCHEMA_MAX_ITEMS_DECREASED', 'maxItems', 'array sizes', true);
export const SCHEMA_MAX_ITEMS_INCREASED = countRule('SCHEMA_MAX_ITEMS_INCREASED', 'maxItems', 'array sizes', false);
export const SCHEMA_MIN_PROPERTIES_INCREASED = countRule('SCHEMA_MIN_PROPERTIES_INCREASED', 'minProperties', 'property counts', true);
export const SCHEMA_MIN_PROPERTIES_DECREASED = countRule('SCHEMA_MIN_PROPERTIES_DECREASED', 'minProperties', 'property counts', false);
export const SCHEMA_MAX_PROPERTIES_DECREASED = countRule('SCHEMA_MAX_PROPERTIES_DECREASED', 'maxProperties', 'property counts', true);
export const SCHEMA_MAX_PROPERTIES_INCREASED = countRule('SCHEMA_MAX_PROPERTIES_INCREASED', 'maxProperties', 'property counts', false);

export const SCHEMA_MULTIPLE_OF_CHANGED: SchemaRule = {
  id: 'SCHEMA_MULTIPLE_OF_CHANGED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: '`multipleOf` was added, removed or changed (a multiple of the old step narrows, a divisor widens).',
  message: (a) => `multipleOf of ${a.subject} went from ${a.from} to ${a.to} in ${a.container}`,
  check(pair) {
    const before = num(pair.old.schema.multipleOf);
    const after = num(pair.new.schema.multipleOf);
    if (before === after) return;
    let impact: 'narrows' | 'widens' | 'both';
    if (before === undefined) impact = 'narrows';
    else if (after === undefined) impact = 'widens';
    else if (Number.isInteger(after / before)) impact = 'narrows';
    else if (Number.isInteger(before / after)) impact = 'widens';
    else impact = 'both';
    pair.report(SCHEMA_MULTIPLE_OF_CHANGED, impact, { from: before === undefined ? 'none' : String(before), to: after === undefined ? 'none' : String(after) }, { oldAt: ['multipleOf'], newAt: ['multipleOf'] });
  },
};

export const boundRules = [
  SCHEMA_MINIMUM_INCREASED,
  SCHEMA_MINIMUM_DECREASED,
  SCHEMA_MAXIMUM_DECREASED,
  SCHEMA_MAXIMUM_INCREASED,
  SCHEMA_MIN_LENGTH_INCREASED,
  SCHEMA_MIN_LENGTH_DECREASED,
  SCHEMA_MAX_LENGTH_DECREASED,
  SCHEMA_MAX_LENGTH_INCREASED,
  SCHEMA_MIN_ITEMS_INCREASED,
  SCHEMA_MIN_ITEMS_DECREASED,
  SCHEMA_MAX_ITEMS_DECREASED,
  SCHEMA_MAX_ITEMS_INCREASED,
  SCHEMA_MIN_PROPERTIES_INCREASED,
  SCHEMA_MIN_PROPERTIES_DECREASED,
  SCHEMA_MAX_PROPERTIES_DECREASED,
  SCHEMA_MAX_PROPERTIES_INCREASED,
  SCHEMA_MULTIPLE_OF_CHANGED,
];
