import { canRead, describeAvro, type AvroSchema } from '../avro/schema.js';
import type { AvroRule } from '../avro/walk.js';
import type { Impact } from '../types.js';
import { stableStringify } from '../schema/canonical.js';

/** Impact of replacing `before` by `after` under Avro resolution. */
function resolutionImpact(before: AvroSchema, after: AvroSchema): Impact {
  const newReadsOld = canRead(after, before);
  const oldReadsNew = canRead(before, after);
  if (!newReadsOld && !oldReadsNew) return 'both';
  if (!newReadsOld) return 'narrows';
  if (!oldReadsNew) return 'widens';
  return 'none';
}

const named = (s: AvroSchema): s is Extract<AvroSchema, { kind: 'record' | 'enum' | 'fixed' }> => s.kind === 'record' || s.kind === 'enum' || s.kind === 'fixed';

export const AVRO_TYPE_CHANGED: AvroRule = {
  id: 'AVRO_TYPE_CHANGED',
  kind: 'avro',
  category: 'avro',
  severity: 'directional',
  purpose: 'An Avro type changed; judged by the resolution rules (int → long is a promotion new readers accept, long → int is not).',
  message: (a) => `${a.subject} changed from ${a.from} to ${a.to} in ${a.container}`,
  consequence: {
    narrows: 'the new schema cannot read data written with the old one',
    widens: 'consumers reading with the old schema cannot decode data written with the new one',
    both: 'neither schema can read data written with the other',
  },
  check(pair) {
    const o = pair.old.schema;
    const n = pair.new.schema;
    if (o.kind === 'union' || n.kind === 'union') return;
    const sameKind = o.kind === n.kind && (o.kind !== 'primitive' || o.name === (n as typeof o).name);
    if (sameKind) return;
    pair.report(AVRO_TYPE_CHANGED, resolutionImpact(o, n), { from: describeAvro(o), to: describeAvro(n) });
  },
};

export const AVRO_NAME_CHANGED: AvroRule = {
  id: 'AVRO_NAME_CHANGED',
  kind: 'avro',
  category: 'avro',
  severity: 'directional',
  purpose: 'A named Avro type (record, enum, fixed) was renamed without an alias that lets the other version resolve it.',
  message: (a) => `${a.subject} was renamed from ${a.from} to ${a.to} in ${a.container}`,
  consequence: { both: 'Avro resolution matches named types by name: add the old name to `aliases`' },
  check(pair) {
    const o = pair.old.schema;
    const n = pair.new.schema;
    if (!named(o) || !named(n) || o.kind !== n.kind || o.name === n.name) return;
    const newKnowsOld = n.aliases.some((a) => a === o.fullName || a.split('.').pop() === o.name);
    const oldKnowsNew = o.aliases.some((a) => a === n.fullName || a.split('.').pop() === n.name);
    const impact: Impact = !newKnowsOld && !oldKnowsNew ? 'both' : !newKnowsOld ? 'narrows' : !oldKnowsNew ? 'widens' : 'none';
    pair.report(AVRO_NAME_CHANGED, impact, { from: o.fullName, to: n.fullName }, { oldAt: ['name'], newAt: ['name'] });
  },
};

export const AVRO_FIELD_ADDED_WITHOUT_DEFAULT: AvroRule = {
  id: 'AVRO_FIELD_ADDED_WITHOUT_DEFAULT',
  kind: 'avro',
  category: 'avro',
  severity: 'directional',
  purpose: 'A record field was added without a default: the new schema cannot read records written without it.',
  message: (a) => `${a.subject} was added without a default to ${a.container}`,
  consequence: { narrows: 'records written with the old schema lack it, and the new schema has no default to fill in' },
  check(pair) {
    for (const field of pair.fieldPlan().added) {
      if (!field.hasDefault) pair.report(AVRO_FIELD_ADDED_WITHOUT_DEFAULT, 'narrows', {}, { below: field.name, oldAt: ['fields'], newAt: ['fields', field.index] });
    }
  },
};

export const AVRO_FIELD_ADDED_WITH_DEFAULT: AvroRule = {
  id: 'AVRO_FIELD_ADDED_WITH_DEFAULT',
  kind: 'avro',
  category: 'avro',
  severity: 'info',
  purpose: 'A record field was added with a default: compatible both ways.',
  message: (a) => `${a.subject} was added with a default to ${a.container}`,
  check(pair) {
    for (const field of pair.fieldPlan().added) {
      if (field.hasDefault) pair.report(AVRO_FIELD_ADDED_WITH_DEFAULT, 'none', {}, { below: field.name, oldAt: ['fields'], newAt: ['fields', field.index] });
    }
  },
};

export const AVRO_FIELD_REMOVED_WITHOUT_DEFAULT: AvroRule = {
  id: 'AVRO_FIELD_REMOVED_WITHOUT_DEFAULT',
  kind: 'avro',
  category: 'avro',
  severity: 'directional',
  purpose: 'A record field that had no default was removed: readers of the old schema cannot read new records.',
  message: (a) => `${a.subject} was removed from ${a.container}, and the old schema has no default for it`,
  consequence: { widens: 'consumers reading with the old schema cannot decode new records, which lack it' },
  check(pair) {
    for (const field of pair.fieldPlan().removed) {
      if (!field.hasDefault) pair.report(AVRO_FIELD_REMOVED_WITHOUT_DEFAULT, 'widens', {}, { below: field.name, oldAt: ['fields', field.index], newAt: ['fields'] });
    }
  },
};

export const AVRO_FIELD_REMOVED_WITH_DEFAULT: AvroRule = {
  id: 'AVRO_FIELD_REMOVED_WITH_DEFAULT',
  kind: 'avro',
  category: 'avro',
  severity: 'info',
  purpose: 'A record field that had a default was removed: compatible both ways.',
  message: (a) => `${a.subject} was removed from ${a.container} (it had a default)`,
  check(pair) {
    for (const field of pair.fieldPlan().removed) {
      if (field.hasDefault) pair.report(AVRO_FIELD_REMOVED_WITH_DEFAULT, 'none', {}, { below: field.name, oldAt: ['fields', field.index], newAt: ['fields'] });
    }
  },
};

export const AVRO_FIELD_RENAMED: AvroRule = {
  id: 'AVRO_FIELD_RENAMED',
  kind: 'avro',
  category: 'avro',
  severity: 'directional',
  purpose: 'A record field was renamed with an alias; old readers still need a default for the old name.',
  message: (a) => `${a.subject} was renamed from \`${a.from}\` in ${a.container}`,
  consequence: { widens: 'consumers reading with the old schema look for the old name, which new records lack' },
  check(pair) {
    for (const { old, new: next, renamed } of pair.fieldPlan().pairs) {
      if (!renamed) continue;
      const oldReadsNew = old.aliases.includes(next.name) || old.hasDefault;
      pair.report(AVRO_FIELD_RENAMED, oldReadsNew ? 'none' : 'widens', { from: old.name }, { below: next.name, oldAt: ['fields', old.index, 'name'], newAt: ['fields', next.index, 'name'] });
    }
  },
};

export const AVRO_FIELD_DEFAULT_CHANGED: AvroRule = {
  id: 'AVRO_FIELD_DEFAULT_CHANGED',
  kind: 'avro',
  category: 'avro',
  severity: 'info',
  purpose: 'The default of a record field was added, removed or changed (removing it matters only for resolution, reported by other rules).',
  message: (a) => `the default of ${a.subject} went from ${a.from} to ${a.to} in ${a.container}`,
  check(pair) {
    for (const { old, new: next } of pair.fieldPlan().pairs) {
      const before = old.hasDefault ? stableStringify(old.default) : 'none';
      const after = next.hasDefault ? stableStringify(next.default) : 'none';
      if (before !== after) pair.report(AVRO_FIELD_DEFAULT_CHANGED, 'none', { from: before, to: after }, { below: next.name, oldAt: ['fields', old.index, 'default'], newAt: ['fields', next.index, 'default'] });
    }
  },
};

export const AVRO_ENUM_SYMBOL_ADDED: AvroRule = {
  id: 'AVRO_ENUM_SYMBOL_ADDED',
  kind: 'avro',
  category: 'avro',
  severity: 'directional',
  purpose: 'An Avro enum gained a symbol; readers of the old schema fail on it unless their enum has a default.',
  message: (a) => `${a.subject} gained the symbol(s) ${a.symbols} in ${a.container}`,
  consequence: { widens: 'consumers reading with the old schema fail on the new symbols (the old enum has no default)' },
  check(pair) {
    const o = pair.old.schema;
    const n = pair.new.schema;
    if (o.kind !== 'enum' || n.kind !== 'enum') return;
    const added = n.symbols.filter((s) => !o.symbols.includes(s));
    if (added.length > 0) pair.report(AVRO_ENUM_SYMBOL_ADDED, o.default !== undefined ? 'none' : 'widens', { symbols: added.join(', ') }, { oldAt: ['symbols'], newAt: ['symbols'] });
  },
};

export const AVRO_ENUM_SYMBOL_REMOVED: AvroRule = {
  id: 'AVRO_ENUM_SYMBOL_REMOVED',
  kind: 'avro',
  category: 'avro',
  severity: 'directional',
  purpose: 'An Avro enum lost a symbol; the new schema fails on old data carrying it unless the new enum has a default.',
  message: (a) => `${a.subject} lost the symbol(s) ${a.symbols} in ${a.container}`,
  consequence: { narrows: 'data written with the old schema may carry the removed symbols, which the new schema cannot read' },
  check(pair) {
    const o = pair.old.schema;
    const n = pair.new.schema;
    if (o.kind !== 'enum' || n.kind !== 'enum') return;
    const removed = o.symbols.filter((s) => !n.symbols.includes(s));
    if (removed.length > 0) pair.report(AVRO_ENUM_SYMBOL_REMOVED, n.default !== undefined ? 'none' : 'narrows', { symbols: removed.join(', ') }, { oldAt: ['symbols'], newAt: ['symbols'] });
  },
};

export const AVRO_UNION_BRANCH_ADDED: AvroRule = {
  id: 'AVRO_UNION_BRANCH_ADDED',
  kind: 'avro',
  category: 'avro',
  severity: 'directional',
  purpose: 'A union gained a branch (or a type became a union): readers of the old schema cannot read values of the new branch.',
  message: (a) => `${a.subject} now also accepts ${a.branch} in ${a.container}`,
  consequence: { widens: 'consumers reading with the old schema cannot decode values of the new branch' },
  check(pair) {
    const o = pair.old.schema;
    const n = pair.new.schema;
    if (o.kind !== 'union' && n.kind !== 'union') return;
    for (const branch of pair.unionPlan().added) {
      pair.report(AVRO_UNION_BRANCH_ADDED, canRead(o, branch.schema) ? 'none' : 'widens', { branch: describeAvro(branch.schema) });
    }
  },
};

export const AVRO_UNION_BRANCH_REMOVED: AvroRule = {
  id: 'AVRO_UNION_BRANCH_REMOVED',
  kind: 'avro',
  category: 'avro',
  severity: 'directional',
  purpose: 'A union lost a branch (or stopped being a union): the new schema cannot read old values of that branch.',
  message: (a) => `${a.subject} no longer accepts ${a.branch} in ${a.container}`,
  consequence: { narrows: 'data written with the old schema may hold the removed branch, which the new schema cannot read' },
  check(pair) {
    const o = pair.old.schema;
    const n = pair.new.schema;
    if (o.kind !== 'union' && n.kind !== 'union') return;
    for (const branch of pair.unionPlan().removed) {
      pair.report(AVRO_UNION_BRANCH_REMOVED, canRead(n, branch.schema) ? 'none' : 'narrows', { branch: describeAvro(branch.schema) });
    }
  },
};

export const AVRO_FIXED_SIZE_CHANGED: AvroRule = {
  id: 'AVRO_FIXED_SIZE_CHANGED',
  kind: 'avro',
  category: 'avro',
  severity: 'directional',
  purpose: 'The size of an Avro `fixed` changed: neither version can read the other.',
  message: (a) => `the size of ${a.subject} went from ${a.from} to ${a.to} bytes in ${a.container}`,
  check(pair) {
    const o = pair.old.schema;
    const n = pair.new.schema;
    if (o.kind === 'fixed' && n.kind === 'fixed' && o.size !== n.size) pair.report(AVRO_FIXED_SIZE_CHANGED, 'both', { from: String(o.size), to: String(n.size) }, { oldAt: ['size'], newAt: ['size'] });
  },
};

export const AVRO_LOGICAL_TYPE_CHANGED: AvroRule = {
  id: 'AVRO_LOGICAL_TYPE_CHANGED',
  kind: 'avro',
  category: 'avro',
  severity: 'warning',
  purpose: 'The logical type of a value changed (timestamp-millis → timestamp-micros, ...): it still decodes, but means something else.',
  message: (a) => `the logical type of ${a.subject} went from ${a.from} to ${a.to} in ${a.container}: the bytes decode, but their meaning changes`,
  check(pair) {
    const o = pair.old.schema;
    const n = pair.new.schema;
    if ((o.kind !== 'primitive' && o.kind !== 'fixed') || o.kind !== n.kind) return;
    if (o.kind === 'primitive' && o.name !== (n as typeof o).name) return;
    const before = o.logicalType ?? 'none';
    const after = (n as typeof o).logicalType ?? 'none';
    if (before !== after) pair.report(AVRO_LOGICAL_TYPE_CHANGED, 'none', { from: before, to: after }, { oldAt: ['logicalType'], newAt: ['logicalType'] });
  },
};

export const AVRO_DOC_CHANGED: AvroRule = {
  id: 'AVRO_DOC_CHANGED',
  kind: 'avro',
  category: 'avro',
  severity: 'info',
  purpose: 'The `doc` of an Avro type or field changed: documentation only.',
  message: (a) => `the doc of ${a.subject} changed in ${a.container}`,
  check(pair) {
    const o = pair.old.schema;
    const n = pair.new.schema;
    if ((o.kind === 'record' || o.kind === 'enum') && o.kind === n.kind && o.doc !== (n as typeof o).doc) pair.report(AVRO_DOC_CHANGED, 'none', {}, { oldAt: ['doc'], newAt: ['doc'] });
    for (const { old, new: next } of pair.fieldPlan().pairs) {
      if (old.doc !== next.doc) pair.report(AVRO_DOC_CHANGED, 'none', {}, { below: next.name, oldAt: ['fields', old.index, 'doc'], newAt: ['fields', next.index, 'doc'] });
    }
  },
};

/** Run by the engine: avsc's own resolver disagrees with the rules above (a safety net). */
export const avroRules = [
  AVRO_TYPE_CHANGED,
  AVRO_NAME_CHANGED,
  AVRO_FIELD_ADDED_WITHOUT_DEFAULT,
  AVRO_FIELD_ADDED_WITH_DEFAULT,
  AVRO_FIELD_REMOVED_WITHOUT_DEFAULT,
  AVRO_FIELD_REMOVED_WITH_DEFAULT,
  AVRO_FIELD_RENAMED,
  AVRO_FIELD_DEFAULT_CHANGED,
  AVRO_ENUM_SYMBOL_ADDED,
  AVRO_ENUM_SYMBOL_REMOVED,
  AVRO_UNION_BRANCH_ADDED,
  AVRO_UNION_BRANCH_REMOVED,
  AVRO_FIXED_SIZE_CHANGED,
  AVRO_LOGICAL_TYPE_CHANGED,
  AVRO_DOC_CHANGED,
];
