import type { AvroRule } from './avro/walk.js';
import type { ValidationRule, VerdictRule } from './rule.js';
import { avroRules } from './rules/avro.js';
import { AVRO_RESOLUTION_FAILED, type AvroResolutionRule } from './rules/avro-resolution.js';
import { bindingRules } from './rules/bindings.js';
import { channelRules } from './rules/channels.js';
import { documentRules } from './rules/document.js';
import { messageRules } from './rules/messages.js';
import { operationRules } from './rules/operations.js';
import { boundRules } from './rules/schema/bounds.js';
import { compositionRules } from './rules/schema/composition.js';
import { otherRules } from './rules/schema/other.js';
import { propertyRules } from './rules/schema/properties.js';
import { stringRules } from './rules/schema/strings.js';
import { typeRules } from './rules/schema/type.js';
import { valueRules } from './rules/schema/values.js';
import { serverRules } from './rules/servers.js';
import { validationRules } from './rules/validation.js';
import { VERSION_NOT_BUMPED } from './rules/version.js';
import type { SchemaRule } from './schema/walk.js';
import type { StructureRule } from './structure/context.js';

/** Any rule, of any kind (methods are bivariant, so rules with their own argument types fit). */
export type AnyRule = StructureRule | SchemaRule | AvroRule | AvroResolutionRule | VerdictRule | ValidationRule;

/**
 * Every rule of `codegen diff`, in documentation order. Ids are permanent: a retired rule stays
 * here with `deprecated: { replacedBy }` and no longer reports.
 */
export const RULES: readonly AnyRule[] = [
  ...documentRules,
  VERSION_NOT_BUMPED,
  ...validationRules,
  ...serverRules,
  ...channelRules,
  ...operationRules,
  ...messageRules,
  ...typeRules,
  ...valueRules,
  ...propertyRules,
  ...boundRules,
  ...stringRules,
  ...compositionRules,
  ...otherRules,
  ...avroRules,
  AVRO_RESOLUTION_FAILED,
  ...bindingRules,
];

const active = RULES.filter((rule) => !rule.deprecated);
export const STRUCTURE_RULES = active.filter((r): r is StructureRule => r.kind === 'structure');
export const SCHEMA_RULES = active.filter((r): r is SchemaRule => r.kind === 'schema');
export const AVRO_RULES = active.filter((r): r is AvroRule => r.kind === 'avro');
export const AVRO_RESOLUTION_RULES = active.filter((r): r is AvroResolutionRule => r.kind === 'avro-resolution');
export const VERDICT_RULES = active.filter((r): r is VerdictRule => r.kind === 'verdict');

const byId = new Map(RULES.map((rule) => [rule.id, rule]));

export function ruleById(id: string): AnyRule | undefined {
  return byId.get(id);
}
