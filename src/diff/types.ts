import type { DocumentSet } from '../load/document-set.js';
import type { ApiModel } from '../model/types.js';

/**
 * The vocabulary of `codegen diff`: findings are data (rule id, severity, locations in both
 * versions, the operations they affect, one sentence), produced by rules from a registry.
 */
import type { SourceLocation } from '../errors.js';

export type Severity = 'breaking' | 'warning' | 'info';
export const SEVERITIES: readonly Severity[] = ['breaking', 'warning', 'info'];

/** What a change does to the set of messages a schema (or an operation) accepts. */
export type Impact =
  /** The new version accepts less: data valid under the old version may be rejected by the new one. */
  | 'narrows'
  /** The new version accepts more: data valid under the new version may be rejected by the old one. */
  | 'widens'
  /** Both at once (or not decidable): data may be rejected in either direction. */
  | 'both'
  /** Changes nothing any producer or consumer can observe (documentation, defaults). */
  | 'none';

/**
 * Compatibility modes, as in schema registries.
 * backward: old messages must stay valid under the new schema (consumers upgraded first; what a receiver needs).
 * forward: new messages must be valid under the old schema (producers upgraded first; what a sender's consumers need).
 * full: both. none: report only, nothing is breaking.
 */
export type Mode = 'backward' | 'forward' | 'full' | 'none';
export const MODES: readonly Mode[] = ['backward', 'forward', 'full', 'none'];

/** How the application uses a message: it sends it, receives it, or no operation says (judged FULL). */
export type Direction = 'send' | 'receive' | 'unspecified';

export type Category = 'document' | 'server' | 'channel' | 'operation' | 'message' | 'schema' | 'avro' | 'binding';
export const CATEGORIES: readonly Category[] = ['document', 'server', 'channel', 'operation', 'message', 'schema', 'avro', 'binding'];

/** Where a finding is, in the new or the old document (with the revision read, for `--against`). */
export type FindingLocation = SourceLocation;

export interface OperationRef {
  id: string;
  action: 'send' | 'receive';
}

export interface Finding {
  ruleId: string;
  severity: Severity;
  category: Category;
  /** One sentence a developer understands. */
  message: string;
  impact: Impact;
  /** The direction the finding was judged in (for message, schema and operation changes). */
  direction?: Direction;
  /** The compatibility mode the finding was judged by. */
  mode?: Mode;
  /** Operations affected (in the new version when present there, else the old one). */
  operations: OperationRef[];
  /** The message the finding is about, when it is about one. */
  messageId?: string;
  old?: FindingLocation;
  new?: FindingLocation;
  /** The old versions (file or `ref:file`) that produced it (several with --transitive). */
  against: string[];
  /** Present when an ignore-file entry accepts the finding. */
  ignored?: { reason: string; expires?: string };
}

/** Where a rule is defined and what it says about itself. */
export interface RuleMeta {
  /** UPPER_SNAKE, permanent. */
  id: string;
  category: Category;
  /** One sentence: what the rule detects. */
  purpose: string;
  /**
   * The severity when the rule's finding does not depend on direction, or `directional`:
   * breaking when the change's impact breaks the compatibility mode in force, info otherwise.
   */
  severity: Severity | 'directional';
  /** A retired rule stays in the registry, pointing to its replacement. */
  deprecated?: { replacedBy: string };
}

export interface DiffOptions {
  /** Overrides the direction-derived mode for every message. */
  mode?: Mode;
}

export const SEVERITY_RANK: Record<Severity, number> = { breaking: 3, warning: 2, info: 1 };

/** One version of the document, loaded and validated. */
export interface DiffSide {
  model: ApiModel;
  set: DocumentSet;
  /** The git revision it was read from (`--against`). */
  revision?: string;
}

/** avsc, loaded by the caller only when a payload is Avro. */
export interface AvscModule {
  Type: { forSchema(schema: unknown): { createResolver(writer: unknown): unknown } };
}

export interface DiffRun {
  old: DiffSide;
  new: DiffSide;
  options?: DiffOptions;
  avsc?: AvscModule;
}
