import type { SchemaPair, SchemaRule } from '../../schema/walk.js';
import { allowedValues } from '../../schema/relations.js';
import { has } from '../../schema/node.js';

const MAX_LISTED = 5;

function list(values: unknown[]): string {
  const shown = values.slice(0, MAX_LISTED).map((v) => JSON.stringify(v));
  return values.length > MAX_LISTED ? `${shown.join(', ')} and ${values.length - MAX_LISTED} more` : shown.join(', ');
}

/** enum and const read as one set of allowed values, so `const: a` → `enum: [a, b]` is one widening. */
function valueChange(pair: SchemaPair) {
  return pair.memo('values', () => computeValueChange(pair));
}

function computeValueChange(pair: SchemaPair) {
  const before = allowedValues(pair.old);
  const after = allowedValues(pair.new);
  const oldConst = has(pair.old.schema, 'const');
  const newConst = has(pair.new.schema, 'const');
  const keyword = (constant: boolean) => (constant ? 'const' : 'enum');
  return { before, after, oldConst, newConst, oldAt: [keyword(oldConst)], newAt: [keyword(newConst)] };
}

export const SCHEMA_ENUM_VALUE_ADDED: SchemaRule = {
  id: 'SCHEMA_ENUM_VALUE_ADDED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'An enum accepts a value it did not accept before.',
  message: (a) => `${a.subject} accepts new value(s) ${a.values} in ${a.container}`,
  consequence: { widens: 'consumers validating against the old schema will reject events carrying the new values' },
  check(pair) {
    const c = valueChange(pair);
    if (!c.before || !c.after || c.oldConst || c.newConst) return;
    const added = [...c.after].filter(([key]) => !c.before!.has(key)).map(([, v]) => v);
    if (added.length > 0) pair.report(SCHEMA_ENUM_VALUE_ADDED, 'widens', { values: list(added) }, { oldAt: c.oldAt, newAt: c.newAt });
  },
};

export const SCHEMA_ENUM_VALUE_REMOVED: SchemaRule = {
  id: 'SCHEMA_ENUM_VALUE_REMOVED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'An enum no longer accepts a value it accepted before.',
  message: (a) => `${a.subject} no longer accepts ${a.values} in ${a.container}`,
  consequence: { narrows: 'events from producers still sending the removed values will be rejected' },
  check(pair) {
    const c = valueChange(pair);
    if (!c.before || !c.after || c.oldConst || c.newConst) return;
    const removed = [...c.before].filter(([key]) => !c.after!.has(key)).map(([, v]) => v);
    if (removed.length > 0) pair.report(SCHEMA_ENUM_VALUE_REMOVED, 'narrows', { values: list(removed) }, { oldAt: c.oldAt, newAt: c.newAt });
  },
};

export const SCHEMA_ENUM_ADDED: SchemaRule = {
  id: 'SCHEMA_ENUM_ADDED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A value that was free is now limited to an enum.',
  message: (a) => `${a.subject} is now limited to ${a.values} in ${a.container}`,
  check(pair) {
    const c = valueChange(pair);
    if (c.before || !c.after || c.newConst) return;
    pair.report(SCHEMA_ENUM_ADDED, 'narrows', { values: list([...c.after.values()]) }, { newAt: c.newAt });
  },
};

export const SCHEMA_ENUM_REMOVED: SchemaRule = {
  id: 'SCHEMA_ENUM_REMOVED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A value limited to an enum is now free.',
  message: (a) => `${a.subject} is no longer limited to ${a.values} in ${a.container}`,
  check(pair) {
    const c = valueChange(pair);
    if (!c.before || c.after || c.oldConst) return;
    pair.report(SCHEMA_ENUM_REMOVED, 'widens', { values: list([...c.before.values()]) }, { oldAt: c.oldAt });
  },
};

export const SCHEMA_CONST_ADDED: SchemaRule = {
  id: 'SCHEMA_CONST_ADDED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A value is now fixed by `const`.',
  message: (a) => `${a.subject} is now fixed to ${a.value} in ${a.container}`,
  check(pair) {
    const c = valueChange(pair);
    if (!c.newConst || c.before) return;
    pair.report(SCHEMA_CONST_ADDED, 'narrows', { value: JSON.stringify(pair.new.schema.const) }, { newAt: ['const'] });
  },
};

export const SCHEMA_CONST_REMOVED: SchemaRule = {
  id: 'SCHEMA_CONST_REMOVED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A value fixed by `const` is now free.',
  message: (a) => `${a.subject} is no longer fixed to ${a.value} in ${a.container}`,
  check(pair) {
    const c = valueChange(pair);
    if (!c.oldConst || c.after) return;
    pair.report(SCHEMA_CONST_REMOVED, 'widens', { value: JSON.stringify(pair.old.schema.const) }, { oldAt: ['const'] });
  },
};

export const SCHEMA_CONST_CHANGED: SchemaRule = {
  id: 'SCHEMA_CONST_CHANGED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A value fixed by `const` is fixed to another value, or moved between const and enum.',
  message: (a) => `${a.subject} changed from ${a.from} to ${a.to} in ${a.container}`,
  consequence: { both: 'events with the old value are rejected by the new schema and the other way round' },
  check(pair) {
    const c = valueChange(pair);
    if (!c.before || !c.after) return;
    if (c.oldConst && c.newConst) {
      const [oldKey] = [...c.before.keys()];
      const [newKey] = [...c.after.keys()];
      if (oldKey === newKey) return;
      pair.report(SCHEMA_CONST_CHANGED, 'both', { from: JSON.stringify(pair.old.schema.const), to: JSON.stringify(pair.new.schema.const) }, { oldAt: ['const'], newAt: ['const'] });
      return;
    }
    if (c.oldConst === c.newConst) return; // enum → enum: value rules
    // const ↔ enum: report the difference as one change.
    const added = [...c.after.keys()].filter((key) => !c.before!.has(key)).length;
    const removed = [...c.before.keys()].filter((key) => !c.after!.has(key)).length;
    if (added === 0 && removed === 0) return;
    const impact = added > 0 && removed > 0 ? 'both' : added > 0 ? 'widens' : 'narrows';
    pair.report(SCHEMA_CONST_CHANGED, impact, { from: describe(pair.old.schema, c.oldConst), to: describe(pair.new.schema, c.newConst) }, { oldAt: c.oldAt, newAt: c.newAt });
  },
};

function describe(schema: Record<string, unknown>, constant: boolean): string {
  return constant ? JSON.stringify(schema.const) : `one of ${list(schema.enum as unknown[])}`;
}

export const valueRules = [SCHEMA_ENUM_VALUE_ADDED, SCHEMA_ENUM_VALUE_REMOVED, SCHEMA_ENUM_ADDED, SCHEMA_ENUM_REMOVED, SCHEMA_CONST_ADDED, SCHEMA_CONST_REMOVED, SCHEMA_CONST_CHANGED];
