import type { SchemaPair, SchemaRule } from '../../schema/walk.js';

function stringKeyword(pair: SchemaPair, keyword: string): { before?: string; after?: string } {
  const read = (schema: Record<string, unknown>) => (typeof schema[keyword] === 'string' ? (schema[keyword] as string) : undefined);
  return { before: read(pair.old.schema), after: read(pair.new.schema) };
}

export const SCHEMA_PATTERN_ADDED: SchemaRule = {
  id: 'SCHEMA_PATTERN_ADDED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A string must now match a `pattern`.',
  message: (a) => `${a.subject} must now match ${a.to} in ${a.container}`,
  consequence: { narrows: 'events from producers sending strings that do not match will be rejected' },
  check(pair) {
    const { before, after } = stringKeyword(pair, 'pattern');
    if (before === undefined && after !== undefined) pair.report(SCHEMA_PATTERN_ADDED, 'narrows', { to: `/${after}/` }, { newAt: ['pattern'] });
  },
};

export const SCHEMA_PATTERN_REMOVED: SchemaRule = {
  id: 'SCHEMA_PATTERN_REMOVED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A string no longer has to match a `pattern`.',
  message: (a) => `${a.subject} no longer has to match ${a.from} in ${a.container}`,
  consequence: { widens: 'consumers validating against the old schema will reject strings that do not match the old pattern' },
  check(pair) {
    const { before, after } = stringKeyword(pair, 'pattern');
    if (before !== undefined && after === undefined) pair.report(SCHEMA_PATTERN_REMOVED, 'widens', { from: `/${before}/` }, { oldAt: ['pattern'] });
  },
};

export const SCHEMA_PATTERN_CHANGED: SchemaRule = {
  id: 'SCHEMA_PATTERN_CHANGED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A `pattern` changed; regular languages are not compared, so the change counts as breaking in both directions.',
  message: (a) => `the pattern of ${a.subject} changed from ${a.from} to ${a.to} in ${a.container}`,
  consequence: { both: 'strings valid under one pattern may be rejected under the other' },
  check(pair) {
    const { before, after } = stringKeyword(pair, 'pattern');
    if (before !== undefined && after !== undefined && before !== after) {
      pair.report(SCHEMA_PATTERN_CHANGED, 'both', { from: `/${before}/`, to: `/${after}/` }, { oldAt: ['pattern'], newAt: ['pattern'] });
    }
  },
};

export const SCHEMA_FORMAT_ADDED: SchemaRule = {
  id: 'SCHEMA_FORMAT_ADDED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A value must now have a `format` (the generated validators check formats).',
  message: (a) => `${a.subject} must now be a ${a.to} in ${a.container}`,
  consequence: { narrows: 'events from producers sending values in another form will be rejected' },
  check(pair) {
    const { before, after } = stringKeyword(pair, 'format');
    if (before === undefined && after !== undefined) pair.report(SCHEMA_FORMAT_ADDED, 'narrows', { to: after }, { newAt: ['format'] });
  },
};

export const SCHEMA_FORMAT_REMOVED: SchemaRule = {
  id: 'SCHEMA_FORMAT_REMOVED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A value no longer has to have a `format`.',
  message: (a) => `${a.subject} no longer has to be a ${a.from} in ${a.container}`,
  consequence: { widens: 'consumers validating against the old schema will reject values not in the old format' },
  check(pair) {
    const { before, after } = stringKeyword(pair, 'format');
    if (before !== undefined && after === undefined) pair.report(SCHEMA_FORMAT_REMOVED, 'widens', { from: before }, { oldAt: ['format'] });
  },
};

export const SCHEMA_FORMAT_CHANGED: SchemaRule = {
  id: 'SCHEMA_FORMAT_CHANGED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A value changed `format` (date → date-time, ...).',
  message: (a) => `the format of ${a.subject} changed from ${a.from} to ${a.to} in ${a.container}`,
  consequence: { both: 'values valid in one format are rejected by the other version' },
  check(pair) {
    const { before, after } = stringKeyword(pair, 'format');
    if (before !== undefined && after !== undefined && before !== after) {
      pair.report(SCHEMA_FORMAT_CHANGED, 'both', { from: before, to: after }, { oldAt: ['format'], newAt: ['format'] });
    }
  },
};

export const SCHEMA_UNIQUE_ITEMS_ADDED: SchemaRule = {
  id: 'SCHEMA_UNIQUE_ITEMS_ADDED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'An array must now hold unique items.',
  message: (a) => `${a.subject} must now hold unique items in ${a.container}`,
  check(pair) {
    if (pair.new.schema.uniqueItems === true && pair.old.schema.uniqueItems !== true) pair.report(SCHEMA_UNIQUE_ITEMS_ADDED, 'narrows', {}, { newAt: ['uniqueItems'] });
  },
};

export const SCHEMA_UNIQUE_ITEMS_REMOVED: SchemaRule = {
  id: 'SCHEMA_UNIQUE_ITEMS_REMOVED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'An array no longer has to hold unique items.',
  message: (a) => `${a.subject} may now hold duplicate items in ${a.container}`,
  check(pair) {
    if (pair.old.schema.uniqueItems === true && pair.new.schema.uniqueItems !== true) pair.report(SCHEMA_UNIQUE_ITEMS_REMOVED, 'widens', {}, { oldAt: ['uniqueItems'] });
  },
};

export const stringRules = [
  SCHEMA_PATTERN_ADDED,
  SCHEMA_PATTERN_REMOVED,
  SCHEMA_PATTERN_CHANGED,
  SCHEMA_FORMAT_ADDED,
  SCHEMA_FORMAT_REMOVED,
  SCHEMA_FORMAT_CHANGED,
  SCHEMA_UNIQUE_ITEMS_ADDED,
  SCHEMA_UNIQUE_ITEMS_REMOVED,
];
