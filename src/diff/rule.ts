import type { Origin } from '../model/types.js';
import type { SchemaPair } from './schema/walk.js';
import type { AvroPair } from './avro/walk.js';
import type { StructureContext } from './structure/context.js';
import type { Direction, Impact, OperationRef, RuleMeta } from './types.js';

/** The arguments every rule message gets; rules add their own. */
export type MessageArgs = Record<string, string>;

interface RuleCommon<A extends MessageArgs = MessageArgs> extends RuleMeta {
  /** The first part of the finding's sentence ("`amount` became optional in OrderPlaced"). */
  message(args: A): string;
  /**
   * What breaks, for a directional rule whose change breaks the mode in force; replaces the generic
   * consequence ("consumers validating against the old schema will reject new events").
   */
  consequence?: Partial<Record<'narrows' | 'widens' | 'both', string>>;
}

/** A rule over the matched document elements (servers, channels, operations, messages, bindings). */
export interface StructureRule<A extends MessageArgs = MessageArgs> extends RuleCommon<A> {
  kind: 'structure';
  check(context: StructureContext): void;
}

/** A rule over one matched pair of JSON Schema nodes (the walker pairs them, at any depth). */
export interface SchemaRule<A extends MessageArgs = MessageArgs> extends RuleCommon<A> {
  kind: 'schema';
  /** Called only for pairs where one side is the `false` schema (and then no other rule is). */
  onFalse?: boolean;
  check(pair: SchemaPair): void;
}

/** A rule over one matched pair of Avro schema nodes. */
export interface AvroRule<A extends MessageArgs = MessageArgs> extends RuleCommon<A> {
  kind: 'avro';
  check(pair: AvroPair): void;
}

/** Rules computed by the engine itself after all others ran (the version check). */
export interface EngineRule<A extends MessageArgs = MessageArgs> extends RuleCommon<A> {
  kind: 'engine';
  check?: undefined;
}

/** Any rule (methods are bivariant, so rules with their own argument types fit). */
export type AnyRule = StructureRule | SchemaRule | AvroRule | EngineRule;

/** A change one rule found, before it is judged for a direction and a mode. */
export interface Change {
  rule: AnyRule;
  impact: Impact;
  /** `rule.message(args)`. */
  text: string;
  /** The arguments of the text, when it can be rendered again (schema changes shared by several messages). */
  args?: Record<string, string>;
  old?: Origin;
  new?: Origin;
  /**
   * How the changed element is used: per direction, the operations concerned. A directional rule's
   * change is judged once per use; no use means no operation says (judged FULL).
   */
  uses: Use[];
  messageId?: string;
}

/** One way the application uses an element: the direction and the operations that use it so. */
export interface Use {
  direction: Direction;
  operations: OperationRef[];
}

export function defineRules<T extends AnyRule[]>(...rules: T): T {
  return rules;
}
