import type { AnyRule, AvroRule, EngineRule, SchemaRule, StructureRule } from './rule.js';
import { avroRules, AVRO_RESOLUTION_FAILED } from './rules/avro.js';
import { bindingRules } from './rules/bindings.js';
import { channelRules } from './rules/channels.js';
import { documentRules, VERSION_NOT_BUMPED } from './rules/document.js';
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

/**
 * Every rule of `codegen diff`, in documentation order. Ids are permanent: a retired rule stays
 * here with `deprecated: { replacedBy }` and no longer reports.
 */
export const RULES: readonly AnyRule[] = [
  ...documentRules,
  VERSION_NOT_BUMPED,
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
export const ENGINE_RULES = active.filter((r): r is EngineRule => r.kind === 'engine');

const byId = new Map(RULES.map((rule) => [rule.id, rule]));

export function ruleById(id: string): AnyRule | undefined {
  return byId.get(id);
}
