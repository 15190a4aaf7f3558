import type { ApiModel } from '../model/types.js';
import { messageSubsumption, SchemaComparisons } from './comparisons.js';
import { dedupe, locator, mergeSharedChanges, sortFindings } from './findings.js';
import { judge } from './judge.js';
import { STRUCTURE_RULES, VERDICT_RULES } from './registry.js';
import type { Change } from './rule.js';
import { formatFamily } from './rules/messages.js';
import { StructureContext } from './structure/context.js';
import type { DiffRun, Finding } from './types.js';

export type { AvscModule, DiffRun, DiffSide } from './types.js';
export { findingKey, sortFindings } from './findings.js';
export { compareJsonSchemas } from './comparisons.js';

/**
 * Compares two versions of a document: pairs their elements once, runs every rule of the
 * registry over the pairs and the schemas, judges each change for the direction it is used in
 * (or the --mode), runs the verdict rules (the version check), then de-duplicates and sorts.
 */
export function diffDocuments(run: DiffRun): Finding[] {
  const options = run.options ?? {};
  const changes: Change[] = [];
  const sink = (change: Change) => changes.push(change);
  const ctx = new StructureContext(run.old.model, run.new.model, sink, messageSubsumption(run));
  for (const rule of STRUCTURE_RULES) rule.check(ctx);
  new SchemaComparisons(run, ctx, sink).run();

  const findings: Finding[] = mergeSharedChanges(changes).flatMap((change) => judge(change, options));
  for (const rule of VERDICT_RULES) findings.push(...rule.check({ old: run.old.model, new: run.new.model, findings }));
  const locate = locator(run);
  for (const finding of findings) {
    if (finding.old) finding.old = locate('old', finding.old);
    if (finding.new) finding.new = locate('new', finding.new);
  }
  return sortFindings(dedupe(findings));
}

export function usesAvro(model: ApiModel): boolean {
  return model.messages.some((m) => formatFamily(m.schemaFormat) === 'Avro');
}
