import { allowedValues, effectiveAtoms, type TypeAtom } from '../../schema/relations.js';
import type { SchemaPair, SchemaRule } from '../../schema/walk.js';

/**
 * A value list (enum/const) added or removed already tells the story when the type change goes the
 * same way (`const: 1` → `{}` widens both the values and the types): one finding, not two.
 */
function explainedByValues(pair: SchemaPair, impact: 'narrows' | 'widens'): boolean {
  const before = allowedValues(pair.old) !== undefined;
  const after = allowedValues(pair.new) !== undefined;
  return impact === 'widens' ? before && !after : !before && after;
}

/** "integer", "string or null", "number" (integer and fraction together read as number). */
export function describeAtoms(atoms: Iterable<TypeAtom>): string {
  const set = new Set(atoms);
  const names: string[] = [];
  for (const atom of ['object', 'array', 'string', 'number', 'integer', 'fraction', 'boolean', 'null'] as const) {
    if (atom === 'number') {
      if (set.has('integer') && set.has('fraction')) names.push('number');
    } else if (atom === 'integer' || atom === 'fraction') {
      if (set.has(atom) && !(set.has('integer') && set.has('fraction'))) names.push(atom === 'integer' ? 'integer' : 'non-integer number');
    } else if (set.has(atom)) names.push(atom);
  }
  if (names.length === 0) return 'nothing';
  if (names.length === 7 || set.size === 7) return 'any type';
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

function typeChange(pair: SchemaPair): { added: TypeAtom[]; removed: TypeAtom[]; from: string; to: string } | undefined {
  return pair.memo('type', () => computeTypeChange(pair));
}

function computeTypeChange(pair: SchemaPair): { added: TypeAtom[]; removed: TypeAtom[]; from: string; to: string } | undefined {
  const before = effectiveAtoms(pair.old);
  const after = effectiveAtoms(pair.new);
  const added = [...after].filter((t) => !before.has(t));
  const removed = [...before].filter((t) => !after.has(t));
  if (added.length === 0 && removed.length === 0) return undefined;
  return { added, removed, from: describeAtoms(before), to: describeAtoms(after) };
}

export const SCHEMA_TYPE_WIDENED: SchemaRule = {
  id: 'SCHEMA_TYPE_WIDENED',
  kind: 'schema',
  decidesType: true,
  category: 'schema',
  severity: 'directional',
  purpose: 'A value accepts more types than before (integer → number, a type added to the list, null added).',
  message: (a) => (a.onlyNull === 'yes' ? `${a.subject} became nullable in ${a.container}` : `${a.subject} widened from ${a.from} to ${a.to} in ${a.container}`),
  consequence: { widens: 'consumers validating against the old schema will reject new events that use the new types' },
  check(pair) {
    const change = typeChange(pair);
    if (!change || change.removed.length > 0 || explainedByValues(pair, 'widens')) return;
    pair.report(SCHEMA_TYPE_WIDENED, 'widens', { from: change.from, to: change.to, onlyNull: change.added.length === 1 && change.added[0] === 'null' ? 'yes' : 'no' }, { oldAt: ['type'], newAt: ['type'] });
  },
};

export const SCHEMA_TYPE_NARROWED: SchemaRule = {
  id: 'SCHEMA_TYPE_NARROWED',
  kind: 'schema',
  decidesType: true,
  category: 'schema',
  severity: 'directional',
  purpose: 'A value accepts fewer types than before (number → integer, a type removed from the list, null no longer allowed).',
  message: (a) => `${a.subject} narrowed from ${a.from} to ${a.to} in ${a.container}`,
  consequence: { narrows: 'events from producers still sending the removed types will be rejected' },
  check(pair) {
    const change = typeChange(pair);
    if (!change || change.added.length > 0 || explainedByValues(pair, 'narrows')) return;
    pair.report(SCHEMA_TYPE_NARROWED, 'narrows', { from: change.from, to: change.to }, { oldAt: ['type'], newAt: ['type'] });
  },
};

export const SCHEMA_TYPE_CHANGED: SchemaRule = {
  id: 'SCHEMA_TYPE_CHANGED',
  kind: 'schema',
  decidesType: true,
  category: 'schema',
  severity: 'directional',
  purpose: 'A value changed to an unrelated type (string → integer): old and new values are mutually invalid.',
  message: (a) => `${a.subject} changed type from ${a.from} to ${a.to} in ${a.container}`,
  consequence: { both: 'values written for one version are rejected by the other' },
  check(pair) {
    const change = typeChange(pair);
    if (!change || change.added.length === 0 || change.removed.length === 0) return;
    pair.report(SCHEMA_TYPE_CHANGED, 'both', { from: change.from, to: change.to }, { oldAt: ['type'], newAt: ['type'] });
  },
};

export const typeRules = [SCHEMA_TYPE_WIDENED, SCHEMA_TYPE_NARROWED, SCHEMA_TYPE_CHANGED];
