import type { Diagnostic } from '../errors.js';
import type { ApiModel, Origin } from '../model/types.js';
import type { Direction, Finding, Impact, OperationRef, RuleMeta } from './types.js';

/**
 * What every rule is, whatever it compares. A leaf module: the walkers and contexts define the
 * rule kinds that check their own pairs (StructureRule, SchemaRule, AvroRule, ...) on top of it,
 * and the registry lists them all.
 */

/** The arguments every rule message gets; rules add their own. */
export type MessageArgs = Record<string, string>;

export interface Rule<A extends MessageArgs = MessageArgs> extends RuleMeta {
  /** Which walker runs the rule: `structure`, `schema`, `avro`, `avro-resolution`, `verdict`. */
  kind: string;
  /** The first part of the finding's sentence ("`amount` became optional in OrderPlaced"). */
  message(args: A): string;
  /**
   * What breaks, for a directional rule whose change breaks the mode in force; replaces the generic
   * consequence ("consumers validating against the old schema will reject new events").
   */
  consequence?: Partial<Record<'narrows' | 'widens' | 'both', string>>;
}

/** A change one rule found, before it is judged for a direction and a mode. */
export interface Change {
  rule: Rule;
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

/** A rule over the judged findings of the whole comparison (the version check), run last. */
export interface VerdictRule<A extends MessageArgs = MessageArgs> extends Rule<A> {
  kind: 'verdict';
  check(input: { old: ApiModel; new: ApiModel; findings: readonly Finding[] }): Finding[];
}

/** A rule over one version's validation errors (the gate when history is imperfect). */
export interface ValidationRule<A extends MessageArgs = MessageArgs> extends Rule<A> {
  kind: 'validation';
  check(input: { side: 'old' | 'new'; errors: readonly Diagnostic[]; revision?: string }): Finding[];
}
