import { appendPointer } from '../../load/pointer.js';
import type { Origin } from '../../model/types.js';
import type { Change, MessageArgs, Rule, Use } from '../rule.js';
import type { Impact } from '../types.js';
import { Canonicalizer } from './canonical.js';
import { acceptsEverything, alignComposition, childNode, has, isRecord, resolveNode, trueNode, type SchemaNode } from './node.js';
import { pairBranches, type BranchPlan } from './branches.js';
import { effective, type Effective } from './effective.js';
import { effectiveAtoms } from './relations.js';

export type { Effective } from './effective.js';

/** A rule over one matched pair of JSON Schema nodes (the walker pairs them, at any depth). */
export interface SchemaRule<A extends MessageArgs = MessageArgs> extends Rule<A> {
  kind: 'schema';
  /** Called only for pairs where one side is the `false` schema (and then no other rule is). */
  onFalse?: boolean;
  /**
   * A type rule: runs first; when the two sides share no type and a type rule reported it, that
   * finding says everything (no value is valid under both) and no other rule runs below or beside it.
   */
  decidesType?: boolean;
  check(pair: SchemaPair): void;
}

/** What a schema comparison is about, for the sentences and the findings. */
export interface SchemaTarget {
  /** "OrderPlaced", "the headers of OrderPlaced", "channel parameter `region` of `orders.{region}`". */
  container: string;
  /** How the root value is named: "the payload", "the headers", "parameter `region`". */
  rootSubject: string;
  /** The container named with the root value (default: `container`): "OrderPlaced" for "the headers of OrderPlaced". */
  rootContainer?: string;
  uses: Use[];
  messageId?: string;
}

export interface PropertyEntry {
  name: string;
  old: Effective;
  new: Effective;
}

export interface ItemsPlan {
  /** Positions compared one by one (tuples). */
  positions: Array<{ index: number; old: SchemaNode; new: SchemaNode }>;
  /** The schema for every other element (`items`, or `additionalItems` after a tuple). */
  rest?: { old: SchemaNode; new: SchemaNode; keyword: 'items' | 'additionalItems' };
}

/**
 * Walks two schemas in parallel, pairing nodes once (properties by name, items by position,
 * `allOf`/`anyOf`/`oneOf` branches by content, `$ref`s resolved, recursion cut on revisits),
 * and runs every schema rule on every matched pair. Rules only compare keywords of their pair.
 */
export class SchemaWalk {
  private readonly active = new Map<object, Set<object>>();
  private readonly done = [new Map<object, Set<object>>(), new Map<object, Set<object>>()];

  constructor(
    private readonly rules: readonly SchemaRule[],
    readonly canon: Canonicalizer,
    private readonly sink: (change: Change) => void,
    readonly target: SchemaTarget,
  ) {}

  compare(oldNode: SchemaNode, newNode: SchemaNode): void {
    this.visit(resolveNode(oldNode), resolveNode(newNode), '', 1);
  }

  /** @internal */
  visit(oldNode: SchemaNode, newNode: SchemaNode, path: string, polarity: 1 | -1): void {
    const oldKey = oldNode.schema;
    const newKey = newNode.schema;
    // A pair on the way (a recursive schema): assume equal on the way back (coinductive).
    // A pair already compared (a shared definition): its findings are already reported.
    if (this.active.get(oldKey)?.has(newKey) || this.done[polarity === 1 ? 0 : 1]!.get(oldKey)?.has(newKey)) return;
    // Written identically (refs followed): nothing to report below. Anything else is walked: rules
    // compare meanings, so a reordered enum or a retargeted $ref reports nothing either.
    if (this.canon.same(oldNode, newNode)) return;
    addTo(this.active, oldKey, newKey);
    try {
      const [alignedOld, alignedNew] = alignComposition(oldNode, newNode);
      const pair = new SchemaPair(this, alignedOld, alignedNew, path, polarity);
      const falseCase = oldNode.isFalse || newNode.isFalse;
      const before = this.emitted;
      for (const rule of this.rules) if (rule.decidesType && Boolean(rule.onFalse) === falseCase) rule.check(pair);
      if (this.emitted > before && !falseCase && typesDisjoint(alignedOld, alignedNew)) return;
      for (const rule of this.rules) {
        if (!rule.decidesType && Boolean(rule.onFalse) === falseCase) rule.check(pair);
      }
      if (!falseCase) this.children(pair);
    } finally {
      this.active.get(oldKey)!.delete(newKey);
      addTo(this.done[polarity === 1 ? 0 : 1]!, oldKey, newKey);
    }
  }

  private children(pair: SchemaPair): void {
    const { path, polarity } = pair;
    for (const entry of pair.properties()) {
      const oldNode = entry.old.kind === 'declared' || entry.old.kind === 'schema' ? entry.old.node : undefined;
      const newNode = entry.new.kind === 'declared' || entry.new.kind === 'schema' ? entry.new.node : undefined;
      if (oldNode && newNode) this.visit(oldNode, newNode, joinProperty(path, entry.name), polarity);
    }
    const ap = pair.additionalProperties();
    if (ap) this.visit(ap.old, ap.new, `${path}${path ? '.' : ''}*`, polarity);
    const items = pair.items();
    if (items) {
      for (const position of items.positions) this.visit(position.old, position.new, `${path}[${position.index}]`, polarity);
      if (items.rest) this.visit(items.rest.old, items.rest.new, `${path}[]`, polarity);
    }
    for (const keyword of ['allOf', 'anyOf', 'oneOf'] as const) {
      const plan = pair.branches(keyword);
      if (!plan) continue;
      for (const [o, n] of plan.pairs) {
        this.visit(childNode(pair.old, (pair.old.schema[keyword] as unknown[])[o], keyword, o), childNode(pair.new, (pair.new.schema[keyword] as unknown[])[n], keyword, n), `${path}${path ? '.' : ''}${keyword}[${n}]`, polarity);
      }
    }
    if (has(pair.old.schema, 'not') && has(pair.new.schema, 'not')) {
      this.visit(childNode(pair.old, pair.old.schema.not, 'not'), childNode(pair.new, pair.new.schema.not, 'not'), `${path}${path ? '.' : ''}not`, polarity === 1 ? -1 : 1);
    }
  }

  private emitted = 0;

  /** @internal */
  emit(change: Change): void {
    this.emitted++;
    this.sink(change);
  }

  /**
   * Subsumption: true when every value valid under `inner` is provably valid under `outer`, decided
   * by the schema rules themselves (a walk from `inner` to `outer` that finds nothing narrowing).
   * The oracle test holds those rules to that promise.
   */
  accepts(outer: SchemaNode, inner: SchemaNode): boolean {
    let narrows = false;
    const probe = new SchemaWalk(this.rules, this.canon, (change) => {
      if (change.impact === 'narrows' || change.impact === 'both') narrows = true;
    }, this.target);
    probe.compare(inner, outer);
    return !narrows;
  }
}

export interface ReportOptions {
  /** Pointer segments below the old node (default: the node itself). */
  oldAt?: Array<string | number>;
  newAt?: Array<string | number>;
  /** A property (or other step) below this node the finding is about, for the subject. */
  below?: string;
  /** Report no old (or new) location: the element does not exist on that side. */
  noOld?: boolean;
  noNew?: boolean;
}

/** One matched pair of schema nodes, as rules see it. */
export class SchemaPair {
  private propertyPlan?: PropertyEntry[];
  private readonly branchPlans = new Map<string, BranchPlan | undefined>();
  private readonly memos = new Map<string, unknown>();

  readonly new: SchemaNode;

  constructor(
    private readonly walk: SchemaWalk,
    readonly old: SchemaNode,
    next: SchemaNode,
    /** Human path from the root ("items[].sku"); "" at the root. */
    readonly path: string,
    /** -1 under `not`: what narrows here widens the whole. */
    readonly polarity: 1 | -1,
  ) {
    this.new = next;
  }

  get canon(): Canonicalizer {
    return this.walk.canon;
  }

  /** "`items[].sku`", or the root's name ("the payload"). */
  subject(below?: string): string {
    const path = below === undefined ? this.path : below.startsWith('[') ? `${this.path}${below}` : joinProperty(this.path, below);
    return path === '' ? this.walk.target.rootSubject : `\`${path}\``;
  }

  report(rule: SchemaRule, impact: Impact, args: Record<string, string> = {}, options: ReportOptions = {}): void {
    const effective: Impact = this.polarity === -1 && impact === 'narrows' ? 'widens' : this.polarity === -1 && impact === 'widens' ? 'narrows' : impact;
    const atRoot = (options.below === undefined ? this.path : 'x') === '';
    const container = atRoot ? (this.walk.target.rootContainer ?? this.walk.target.container) : this.walk.target.container;
    const full = { subject: this.subject(options.below), container, ...args };
    this.walk.emit({
      rule,
      impact: effective,
      text: rule.message(full),
      args: full,
      old: options.noOld ? undefined : locationIn(this.old, options.oldAt),
      new: options.noNew ? undefined : locationIn(this.new, options.newAt),
      uses: this.walk.target.uses,
      messageId: this.walk.target.messageId,
    });
  }

  /** A value computed once per pair and shared by the rules that need it (type and value comparisons). */
  memo<T>(key: string, compute: () => T): T {
    if (!this.memos.has(key)) this.memos.set(key, compute());
    return this.memos.get(key) as T;
  }

  /** Every value valid under `inner` is valid under `outer` (see SchemaWalk.accepts). */
  accepts(outer: SchemaNode, inner: SchemaNode): boolean {
    return this.walk.accepts(outer, inner);
  }

  equal(a: SchemaNode, b: SchemaNode): boolean {
    return a.isFalse === b.isFalse && this.walk.canon.of(a) === this.walk.canon.of(b);
  }

  /** Every property name either side declares, with how each side constrains it. */
  properties(): PropertyEntry[] {
    if (this.propertyPlan) return this.propertyPlan;
    const oldProps = isRecord(this.old.schema.properties) ? this.old.schema.properties : {};
    const newProps = isRecord(this.new.schema.properties) ? this.new.schema.properties : {};
    const names = [...new Set([...Object.keys(oldProps), ...Object.keys(newProps)])];
    this.propertyPlan = names.map((name) => ({
      name,
      old: effective(this.old, oldProps, name),
      new: effective(this.new, newProps, name),
    }));
    return this.propertyPlan;
  }

  /** The pair of `additionalProperties` schemas to compare recursively, when both constrain with a schema. */
  additionalProperties(): { old: SchemaNode; new: SchemaNode } | undefined {
    const o = this.old.schema.additionalProperties;
    const n = this.new.schema.additionalProperties;
    if (o === undefined && n === undefined) return undefined;
    if (o === false || n === false) return undefined; // the closed/opened rules decide
    if (!isRecord(o) && !isRecord(n)) return undefined;
    const oldNode = isRecord(o) ? childNode(this.old, o, 'additionalProperties') : trueNode(this.old.space, this.old.origin);
    const newNode = isRecord(n) ? childNode(this.new, n, 'additionalProperties') : trueNode(this.new.space, this.new.origin);
    return { old: oldNode, new: newNode };
  }

  items(): ItemsPlan | undefined {
    const oldItems = this.old.schema.items;
    const newItems = this.new.schema.items;
    if (oldItems === undefined && newItems === undefined) return undefined;
    const oldTuple = Array.isArray(oldItems);
    const newTuple = Array.isArray(newItems);
    if (!oldTuple && !newTuple) {
      return {
        positions: [],
        rest: {
          old: oldItems === undefined ? trueNode(this.old.space, this.old.origin) : childNode(this.old, oldItems, 'items'),
          new: newItems === undefined ? trueNode(this.new.space, this.new.origin) : childNode(this.new, newItems, 'items'),
          keyword: 'items',
        },
      };
    }
    const length = Math.max(oldTuple ? (oldItems as unknown[]).length : 0, newTuple ? (newItems as unknown[]).length : 0);
    const positions: ItemsPlan['positions'] = [];
    for (let index = 0; index < length; index++) {
      positions.push({ index, old: itemAt(this.old, index), new: itemAt(this.new, index) });
    }
    return { positions, rest: { old: restOf(this.old), new: restOf(this.new), keyword: 'additionalItems' } };
  }

  branches(keyword: 'allOf' | 'anyOf' | 'oneOf'): BranchPlan | undefined {
    if (this.branchPlans.has(keyword)) return this.branchPlans.get(keyword);
    const o = this.old.schema[keyword];
    const n = this.new.schema[keyword];
    const plan = Array.isArray(o) && Array.isArray(n) ? pairBranches(this, keyword, o, n) : undefined;
    this.branchPlans.set(keyword, plan);
    return plan;
  }
}

function itemAt(side: SchemaNode, index: number): SchemaNode {
  const items = side.schema.items;
  if (Array.isArray(items)) return index < items.length ? childNode(side, items[index], 'items', index) : restOf(side);
  return items === undefined ? trueNode(side.space, side.origin) : childNode(side, items, 'items');
}

function restOf(side: SchemaNode): SchemaNode {
  const items = side.schema.items;
  if (!Array.isArray(items)) return items === undefined ? trueNode(side.space, side.origin) : childNode(side, items, 'items');
  const additional = side.schema.additionalItems;
  return additional === undefined ? trueNode(side.space, side.origin) : childNode(side, additional, 'additionalItems');
}

function typesDisjoint(a: SchemaNode, b: SchemaNode): boolean {
  const before = effectiveAtoms(a);
  const after = effectiveAtoms(b);
  return before.size > 0 && after.size > 0 && ![...before].some((atom) => after.has(atom));
}

function addTo(map: Map<object, Set<object>>, key: object, value: object): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

export function joinProperty(path: string, name: string): string {
  const step = /^[A-Za-z_$][\w$-]*$/.test(name) ? name : JSON.stringify(name);
  return path === '' ? step : `${path}.${step}`;
}

/** Where `segments` below a node are written; a composition the walker only imagined (a wrapped node) is the node itself. */
function locationIn(node: SchemaNode, segments: Array<string | number> | undefined): Origin | undefined {
  if (node.wrappedIn !== undefined && segments?.[0] === node.wrappedIn && !node.wrappedReal) return node.branchOrigin;
  return at(node.origin, segments);
}

function at(origin: Origin | undefined, segments: Array<string | number> | undefined): Origin | undefined {
  if (!origin) return undefined;
  return segments && segments.length > 0 ? { file: origin.file, pointer: appendPointer(origin.pointer, ...segments) } : origin;
}
