import { appendPointer } from '../../load/pointer.js';
import type { Origin } from '../../model/types.js';
import type { Change, MessageArgs, Rule } from '../rule.js';
import type { SchemaTarget } from '../schema/walk.js';
import { joinProperty } from '../schema/walk.js';
import type { Impact } from '../types.js';
import { branchKey, type AvroField, type AvroRef, type AvroSchema } from './schema.js';

/**
 * Walks two Avro schemas in parallel (record fields by name or alias, union branches by type,
 * array items, map values, named types once) and runs every Avro rule on each matched pair.
 * Impacts follow resolution: a change that stops the NEW schema reading data written with the OLD
 * one "narrows" (breaks BACKWARD); one that stops the OLD schema reading NEW data "widens" (breaks FORWARD).
 */
/** A rule over one matched pair of Avro schema nodes. */
export interface AvroRule<A extends MessageArgs = MessageArgs> extends Rule<A> {
  kind: 'avro';
  check(pair: AvroPair): void;
}

export class AvroWalk {
  private readonly seen = new Set<string>();
  private counter = 0;
  private readonly keys = new WeakMap<object, string>();

  constructor(
    private readonly rules: readonly AvroRule[],
    private readonly sink: (change: Change) => void,
    readonly target: SchemaTarget,
    readonly oldOrigin: Origin,
    readonly newOrigin: Origin,
  ) {}

  compare(oldRoot: AvroRef, newRoot: AvroRef): void {
    this.visit(oldRoot, newRoot, '');
  }

  /** @internal */
  visit(oldRef: AvroRef, newRef: AvroRef, path: string): void {
    const key = `${this.key(oldRef.schema)}|${this.key(newRef.schema)}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const pair = new AvroPair(this, oldRef, newRef, path);
    for (const rule of this.rules) rule.check(pair);
    const o = oldRef.schema;
    const n = newRef.schema;
    if (o.kind === 'union' || n.kind === 'union') {
      for (const [a, b] of pair.unionPlan().pairs) this.visit(a, b, path);
      return;
    }
    if (o.kind !== n.kind) return;
    if (o.kind === 'record' && n.kind === 'record') {
      for (const { old, new: next } of pair.fieldPlan().pairs) this.visit(old.type, next.type, joinProperty(path, next.name));
    } else if (o.kind === 'array' && n.kind === 'array') {
      this.visit(o.items, n.items, `${path}[]`);
    } else if (o.kind === 'map' && n.kind === 'map') {
      this.visit(o.values, n.values, `${path}${path ? '.' : ''}*`);
    }
  }

  /** Identity of a schema node, so named (possibly recursive) types are compared once. */
  private key(schema: AvroSchema): string {
    let key = this.keys.get(schema);
    if (!key) this.keys.set(schema, (key = String(++this.counter)));
    return key;
  }

  /** @internal */
  emit(change: Change): void {
    this.sink(change);
  }
}

export interface AvroReportOptions {
  below?: string;
  oldAt?: Array<string | number>;
  newAt?: Array<string | number>;
  noOld?: boolean;
  noNew?: boolean;
}

export class AvroPair {
  private fields?: { pairs: Array<{ old: AvroField; new: AvroField; renamed: boolean }>; added: AvroField[]; removed: AvroField[] };
  private union?: { pairs: Array<[AvroRef, AvroRef]>; added: AvroRef[]; removed: AvroRef[] };

  readonly new: AvroRef;

  constructor(
    private readonly walk: AvroWalk,
    readonly old: AvroRef,
    next: AvroRef,
    readonly path: string,
  ) {
    this.new = next;
  }

  subject(below?: string): string {
    const path = below === undefined ? this.path : joinProperty(this.path, below);
    return path === '' ? this.walk.target.rootSubject : `\`${path}\``;
  }

  report(rule: AvroRule, impact: Impact, args: Record<string, string> = {}, options: AvroReportOptions = {}): void {
    const full = { subject: this.subject(options.below), container: this.walk.target.container, ...args };
    const locate = (origin: Origin, ref: AvroRef, extra: Array<string | number> | undefined): Origin => ({
      file: origin.file,
      pointer: appendPointer(origin.pointer, ...ref.at, ...(extra ?? [])),
    });
    this.walk.emit({
      rule,
      impact,
      text: rule.message(full),
      args: full,
      old: options.noOld ? undefined : locate(this.walk.oldOrigin, this.old, options.oldAt),
      new: options.noNew ? undefined : locate(this.walk.newOrigin, this.new, options.newAt),
      uses: this.walk.target.uses,
      messageId: this.walk.target.messageId,
    });
  }

  /** Record fields matched by name, then by the new field's aliases (a rename). */
  fieldPlan() {
    if (this.fields) return this.fields;
    const o = this.old.schema;
    const n = this.new.schema;
    const pairs: Array<{ old: AvroField; new: AvroField; renamed: boolean }> = [];
    const added: AvroField[] = [];
    const removed: AvroField[] = [];
    if (o.kind === 'record' && n.kind === 'record') {
      const used = new Set<AvroField>();
      for (const field of n.fields) {
        const same = o.fields.find((f) => f.name === field.name && !used.has(f));
        const aliased = same ?? o.fields.find((f) => (field.aliases.includes(f.name) || f.aliases.includes(field.name)) && !used.has(f));
        if (aliased) {
          used.add(aliased);
          pairs.push({ old: aliased, new: field, renamed: !same });
        } else added.push(field);
      }
      for (const field of o.fields) if (!used.has(field)) removed.push(field);
    }
    return (this.fields = { pairs, added, removed });
  }

  /** Union branches matched by type (a non-union side counts as a one-branch union). */
  unionPlan() {
    if (this.union) return this.union;
    const branches = (ref: AvroRef): AvroRef[] => (ref.schema.kind === 'union' ? ref.schema.branches : [ref]);
    const oldBranches = branches(this.old);
    const newBranches = branches(this.new);
    const pairs: Array<[AvroRef, AvroRef]> = [];
    const matched = new Set<AvroRef>();
    const removed: AvroRef[] = [];
    for (const branch of oldBranches) {
      const partner = newBranches.find((b) => !matched.has(b) && branchKey(b.schema) === branchKey(branch.schema));
      if (partner) {
        matched.add(partner);
        pairs.push([branch, partner]);
      } else removed.push(branch);
    }
    const added = newBranches.filter((b) => !matched.has(b));
    return (this.union = { pairs, added, removed });
  }
}
