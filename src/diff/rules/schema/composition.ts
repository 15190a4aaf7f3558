import { has } from '../../schema/node.js';
import { effectiveAtoms } from '../../schema/relations.js';
import type { SchemaPair, SchemaRule } from '../../schema/walk.js';
import { describeAtoms } from './type.js';

type Keyword = 'allOf' | 'anyOf' | 'oneOf';

function branchRules(keyword: Keyword) {
  const upper = keyword.toUpperCase().replace('OF', 'OF');
  const word = keyword === 'allOf' ? 'constraint' : 'alternative';
  const addedImpact = keyword === 'allOf' ? 'narrows' : 'widens';
  const removedImpact = keyword === 'allOf' ? 'widens' : 'narrows';
  const describe = (pair: SchemaPair, side: 'old' | 'new', index: number) => {
    const plan = pair.branches(keyword)!;
    const node = (side === 'old' ? plan.oldNodes : plan.newNodes)[index]!;
    return `${keyword}[${index}] (${describeAtoms(effectiveAtoms(node))})`;
  };
  const added: SchemaRule = {
    id: `SCHEMA_${upper}_BRANCH_ADDED`,
    kind: 'schema',
    category: 'schema',
    severity: 'directional',
    purpose:
      keyword === 'allOf'
        ? 'An `allOf` gained a branch: values must satisfy one more schema.'
        : `A \`${keyword}\` gained a branch: one more alternative is accepted${keyword === 'oneOf' ? ' (breaking both ways when branches may overlap)' : ''}.`,
    message: (a) => `${a.subject} gained the ${word} ${a.branch} in ${a.container}`,
    check(pair) {
      const plan = pair.branches(keyword);
      if (!plan) return;
      for (const index of plan.added) {
        const impact = keyword === 'oneOf' && !plan.exclusive ? 'both' : addedImpact;
        pair.report(added, impact, { branch: describe(pair, 'new', index) }, { oldAt: [keyword], newAt: [keyword, index] });
      }
    },
  };
  const removed: SchemaRule = {
    id: `SCHEMA_${upper}_BRANCH_REMOVED`,
    kind: 'schema',
    category: 'schema',
    severity: 'directional',
    purpose: keyword === 'allOf' ? 'An `allOf` lost a branch: values need satisfy one schema less.' : `A \`${keyword}\` lost a branch: an alternative is no longer accepted.`,
    message: (a) => `${a.subject} lost the ${word} ${a.branch} in ${a.container}`,
    check(pair) {
      const plan = pair.branches(keyword);
      if (!plan) return;
      for (const index of plan.removed) {
        const impact = keyword === 'oneOf' && !plan.exclusive ? 'both' : removedImpact;
        pair.report(removed, impact, { branch: describe(pair, 'old', index) }, { oldAt: [keyword, index], newAt: [keyword] });
      }
    },
  };
  const introduced: SchemaRule = {
    id: `SCHEMA_${upper}_ADDED`,
    kind: 'schema',
    category: 'schema',
    severity: 'directional',
    purpose: `A value is now constrained by a \`${keyword}\` it did not have.`,
    message: (a) => `${a.subject} is now constrained by ${keyword} in ${a.container}`,
    check(pair) {
      if (!has(pair.old.schema, keyword) && has(pair.new.schema, keyword)) pair.report(introduced, 'narrows', {}, { newAt: [keyword] });
    },
  };
  const dropped: SchemaRule = {
    id: `SCHEMA_${upper}_REMOVED`,
    kind: 'schema',
    category: 'schema',
    severity: 'directional',
    purpose: `A value is no longer constrained by its \`${keyword}\`.`,
    message: (a) => `${a.subject} is no longer constrained by ${keyword} in ${a.container}`,
    check(pair) {
      if (has(pair.old.schema, keyword) && !has(pair.new.schema, keyword)) pair.report(dropped, 'widens', {}, { oldAt: [keyword] });
    },
  };
  return [added, removed, introduced, dropped];
}

export const [SCHEMA_ALLOF_BRANCH_ADDED, SCHEMA_ALLOF_BRANCH_REMOVED, SCHEMA_ALLOF_ADDED, SCHEMA_ALLOF_REMOVED] = branchRules('allOf');
export const [SCHEMA_ANYOF_BRANCH_ADDED, SCHEMA_ANYOF_BRANCH_REMOVED, SCHEMA_ANYOF_ADDED, SCHEMA_ANYOF_REMOVED] = branchRules('anyOf');
export const [SCHEMA_ONEOF_BRANCH_ADDED, SCHEMA_ONEOF_BRANCH_REMOVED, SCHEMA_ONEOF_ADDED, SCHEMA_ONEOF_REMOVED] = branchRules('oneOf');

export const SCHEMA_ONEOF_NOT_EXCLUSIVE: SchemaRule = {
  id: 'SCHEMA_ONEOF_NOT_EXCLUSIVE',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A `oneOf` whose branches may overlap changed: a value matching two branches is rejected, so any change may break either way.',
  message: (a) => `the oneOf of ${a.subject} changed in ${a.container}, and its branches are not provably exclusive`,
  consequence: { both: 'a value that matched exactly one branch before may now match two (or none), and be rejected' },
  check(pair) {
    const plan = pair.branches('oneOf');
    if (!plan || plan.exclusive) return;
    const changed =
      plan.added.length > 0 || plan.removed.length > 0 || plan.pairs.some(([o, n]) => !pair.equal(plan.oldNodes[o]!, plan.newNodes[n]!));
    if (changed) pair.report(SCHEMA_ONEOF_NOT_EXCLUSIVE, 'both', {}, { oldAt: ['oneOf'], newAt: ['oneOf'] });
  },
};

export const SCHEMA_NOT_ADDED: SchemaRule = {
  id: 'SCHEMA_NOT_ADDED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A value must now not match a schema (`not`).',
  message: (a) => `${a.subject} gained a \`not\` constraint in ${a.container}`,
  check(pair) {
    if (!has(pair.old.schema, 'not') && has(pair.new.schema, 'not')) pair.report(SCHEMA_NOT_ADDED, 'narrows', {}, { newAt: ['not'] });
  },
};

export const SCHEMA_NOT_REMOVED: SchemaRule = {
  id: 'SCHEMA_NOT_REMOVED',
  kind: 'schema',
  category: 'schema',
  severity: 'directional',
  purpose: 'A `not` constraint was removed.',
  message: (a) => `${a.subject} lost its \`not\` constraint in ${a.container}`,
  check(pair) {
    if (has(pair.old.schema, 'not') && !has(pair.new.schema, 'not')) pair.report(SCHEMA_NOT_REMOVED, 'widens', {}, { oldAt: ['not'] });
  },
};

export const compositionRules = [
  SCHEMA_ALLOF_BRANCH_ADDED!,
  SCHEMA_ALLOF_BRANCH_REMOVED!,
  SCHEMA_ALLOF_ADDED!,
  SCHEMA_ALLOF_REMOVED!,
  SCHEMA_ANYOF_BRANCH_ADDED!,
  SCHEMA_ANYOF_BRANCH_REMOVED!,
  SCHEMA_ANYOF_ADDED!,
  SCHEMA_ANYOF_REMOVED!,
  SCHEMA_ONEOF_BRANCH_ADDED!,
  SCHEMA_ONEOF_BRANCH_REMOVED!,
  SCHEMA_ONEOF_ADDED!,
  SCHEMA_ONEOF_REMOVED!,
  SCHEMA_ONEOF_NOT_EXCLUSIVE,
  SCHEMA_NOT_ADDED,
  SCHEMA_NOT_REMOVED,
];
