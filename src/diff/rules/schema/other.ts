import { stableStringify } from '../../schema/canonical.js';
import { has, titleOf } from '../../schema/node.js';
import type { SchemaPair, SchemaRule } from '../../schema/walk.js';

/** Keywords without a rule of their own: any change to them counts as breaking both ways. */
const GENERIC_KEYWORDS = [
  'contains', 'minContains', 'maxContains', 'propertyNames', 'dependencies', 'dependentRequired', 'dependentSchemas',
  'patternProperties', 'prefixItems', 'unevaluatedItems', 'unevaluatedProperties',
];

function keywordText(pair: SchemaPair, side: 'old' | 'new', keywords: string[]): string {
  const node = pair[side];
  const subset: Record<string, unknown> = {};
  for (const keyword of keywords) if (has(node.schema, keyword)) subset[keyword] = node.schema[keyword];
  return pair.canon.of({ schema: subset, isFalse: false, space: node.space });
}

export const SCHEMA_KEYWORD_CHANGED: SchemaRule = {
  id: 'SCHEMA_KEYWORD_CHANGED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A keyword without a finer rule (if/then/else, contains, propertyNames, patternProperties, dependencies, ...) changed; counted as breaking both ways.',
  message: (a) => `\`${a.keyword}\` of ${a.subject} changed in ${a.container}`,
  consequence: { both: 'codegen does not prove this change safe in either direction' },
  check(pair) {
    for (const keyword of GENERIC_KEYWORDS) {
      if (!has(pair.old.schema, keyword) && !has(pair.new.schema, keyword)) continue;
      if (keywordText(pair, 'old', [keyword]) !== keywordText(pair, 'new', [keyword])) {
        pair.report(SCHEMA_KEYWORD_CHANGED, 'both', { keyword }, { oldAt: [keyword], newAt: [keyword] });
      }
    }
    const conditional = ['if', 'then', 'else'];
    if (conditional.some((k) => has(pair.old.schema, k) || has(pair.new.schema, k))) {
      if (keywordText(pair, 'old', conditional) !== keywordText(pair, 'new', conditional)) {
        pair.report(SCHEMA_KEYWORD_CHANGED, 'both', { keyword: 'if/then/else' }, { oldAt: ['if'], newAt: ['if'] });
      }
    }
  },
};

export const SCHEMA_NOW_REJECTS_EVERYTHING: SchemaRule = {
  id: 'SCHEMA_NOW_REJECTS_EVERYTHING',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A schema became `false`: no value is accepted there any more.',
  onFalse: true,
  message: (a) => `${a.subject} no longer accepts any value in ${a.container}`,
  consequence: { narrows: 'events from producers that send it will be rejected' },
  check(pair) {
    if (pair.new.isFalse && !pair.old.isFalse) pair.report(SCHEMA_NOW_REJECTS_EVERYTHING, 'narrows');
  },
};

export const SCHEMA_NO_LONGER_REJECTS_EVERYTHING: SchemaRule = {
  id: 'SCHEMA_NO_LONGER_REJECTS_EVERYTHING',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A `false` schema (nothing accepted) now accepts values.',
  onFalse: true,
  message: (a) => `${a.subject} now accepts values in ${a.container}, where it accepted none before`,
  consequence: { widens: 'consumers validating against the old schema reject new events that carry it' },
  check(pair) {
    if (pair.old.isFalse && !pair.new.isFalse) pair.report(SCHEMA_NO_LONGER_REJECTS_EVERYTHING, 'widens');
  },
};

export const SCHEMA_DESCRIPTION_CHANGED: SchemaRule = {
  id: 'SCHEMA_DESCRIPTION_CHANGED',
  kind: 'schema',
  category: 'schema',
  severity: 'info',
  purpose: 'A description (or title) changed: documentation only.',
  message: (a) => `the ${a.keyword} of ${a.subject} changed in ${a.container}`,
  check(pair) {
    if (pair.old.schema.description !== pair.new.schema.description) {
      pair.report(SCHEMA_DESCRIPTION_CHANGED, 'none', { keyword: 'description' }, { oldAt: ['description'], newAt: ['description'] });
    } else if (titleOf(pair.old) !== titleOf(pair.new)) {
      pair.report(SCHEMA_DESCRIPTION_CHANGED, 'none', { keyword: 'title' }, { oldAt: ['title'], newAt: ['title'] });
    }
  },
};

export const SCHEMA_DEFAULT_CHANGED: SchemaRule = {
  id: 'SCHEMA_DEFAULT_CHANGED',
  kind: 'schema',
  category: 'schema',
  severity: 'info',
  purpose: 'A `default` was added, removed or changed: validation is unaffected, but code that fills defaults behaves differently.',
  message: (a) => `the default of ${a.subject} went from ${a.from} to ${a.to} in ${a.container}`,
  check(pair) {
    const before = has(pair.old.schema, 'default') ? stableStringify(pair.old.schema.default) : 'none';
    const after = has(pair.new.schema, 'default') ? stableStringify(pair.new.schema.default) : 'none';
    if (before !== after) pair.report(SCHEMA_DEFAULT_CHANGED, 'none', { from: before, to: after }, { oldAt: ['default'], newAt: ['default'] });
  },
};

export const SCHEMA_DEPRECATED: SchemaRule = {
  id: 'SCHEMA_DEPRECATED',
  kind: 'schema',
  category: 'schema',
  severity: 'warning',
  purpose: 'A value was marked `deprecated`: it is likely to be removed in a later version.',
  message: (a) => `${a.subject} is now deprecated in ${a.container}`,
  check(pair) {
    if (pair.new.schema.deprecated === true && pair.old.schema.deprecated !== true) pair.report(SCHEMA_DEPRECATED, 'none', {}, { newAt: ['deprecated'] });
  },
};

export const otherRules = [
  SCHEMA_KEYWORD_CHANGED,
  SCHEMA_NOW_REJECTS_EVERYTHING,
  SCHEMA_NO_LONGER_REJECTS_EVERYTHING,
  SCHEMA_DESCRIPTION_CHANGED,
  SCHEMA_DEFAULT_CHANGED,
  SCHEMA_DEPRECATED,
];
