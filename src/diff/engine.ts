import { CodegenError, ExitCode } from '../errors.js';
import type { DocumentSet } from '../load/document-set.js';
import type { SourceFile } from '../load/source-file.js';
import { appendPointer } from '../load/pointer.js';
import { UniqueNames } from '../model/names.js';
import { DocumentReader } from '../load/reader.js';
import { SchemaRegistry } from '../model/schemas.js';
import type { ApiModel, ChannelModel, MessageModel, Origin } from '../model/types.js';
import { readAvro, type AvroRef } from './avro/schema.js';
import { PositionIndex } from './locate.js';
import { AvroWalk } from './avro/walk.js';
import { AVRO_RULES, SCHEMA_RULES, STRUCTURE_RULES } from './registry.js';
import type { Change, Use } from './rule.js';
import { AVRO_RESOLUTION_FAILED } from './rules/avro.js';
import { VERSION_NOT_BUMPED } from './rules/document.js';
import { formatFamily } from './rules/messages.js';
import { Canonicalizer } from './schema/canonical.js';
import { nodeOf, trueNode, type SchemaSpace } from './schema/node.js';
import { SchemaWalk, type SchemaTarget } from './schema/walk.js';
import { channelName, StructureContext, type MessagePair, type Pair } from './structure/context.js';
import { SEVERITY_RANK, type Direction, type DiffOptions, type Finding, type FindingLocation, type Impact, type Mode, type OperationRef, type Severity } from './types.js';

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

/**
 * Compares two versions of a document: pairs their elements once, runs every rule of the
 * registry over the pairs and the schemas, judges each change for the direction it is used in
 * (or the --mode), adds the version check, then de-duplicates and sorts the findings.
 */
export function diffDocuments(run: DiffRun): Finding[] {
  const options = run.options ?? {};
  const changes: Change[] = [];
  const sink = (change: Change) => changes.push(change);
  const ctx = new StructureContext(run.old.model, run.new.model, sink);
  for (const rule of STRUCTURE_RULES) rule.check(ctx);
  new SchemaComparisons(run, ctx, sink).run();
  const merged = mergeSharedChanges(changes);

  const locate = locator(run);
  let findings: Finding[] = merged.flatMap((change) => judge(change, options));
  const version = versionCheck(run.old.model, run.new.model, findings);
  if (version) findings.push(version);
  for (const finding of findings) {
    if (finding.old) finding.old = locate('old', finding.old);
    if (finding.new) finding.new = locate('new', finding.new);
  }
  findings = dedupe(findings);
  return sortFindings(findings);
}

export function usesAvro(model: ApiModel): boolean {
  return model.messages.some((m) => formatFamily(m.schemaFormat) === 'Avro');
}

/**
 * A change inside a schema several messages share (a common definition) is one change: the walker
 * finds it once per message, with the same locations. Merged, it lists every operation concerned
 * and names the first message "and N other messages".
 */
function mergeSharedChanges(changes: Change[]): Change[] {
  const out: Change[] = [];
  const groups = new Map<string, { change: Change; containers: string[] }>();
  for (const change of changes) {
    const container = change.args?.container;
    if (container === undefined || !change.old || !change.new) {
      out.push(change);
      continue;
    }
    const key = [change.rule.id, change.impact, change.old.file, change.old.pointer, change.new.file, change.new.pointer].join('\u0000');
    const group = groups.get(key);
    if (!group) {
      const copy: Change = { ...change, uses: change.uses.map((u) => ({ direction: u.direction, operations: [...u.operations] })) };
      groups.set(key, { change: copy, containers: [container] });
      out.push(copy);
      continue;
    }
    if (!group.containers.includes(container)) group.containers.push(container);
    for (const use of change.uses) {
      const known = group.change.uses.find((u) => u.direction === use.direction);
      if (known) known.operations.push(...use.operations);
      else group.change.uses.push({ direction: use.direction, operations: [...use.operations] });
    }
  }
  for (const { change, containers } of groups.values()) {
    if (containers.length < 2) continue;
    const others = containers.length - 1;
    change.text = change.rule.message({ ...change.args!, container: `${containers[0]} and ${others} other message${others === 1 ? '' : 's'}` });
  }
  return out;
}

// ---- judging ---------------------------------------------------------------------------------

const DEFAULT_MODE: Record<Direction, Mode> = { send: 'forward', receive: 'backward', unspecified: 'full' };

function breaks(impact: Impact, mode: Mode): boolean {
  if (impact === 'none' || mode === 'none') return false;
  if (impact === 'both') return true;
  return impact === 'narrows' ? mode === 'backward' || mode === 'full' : mode === 'forward' || mode === 'full';
}

/** Turns one change into findings: one per use for a directional rule, one otherwise. */
function judge(change: Change, options: DiffOptions): Finding[] {
  const rule = change.rule;
  const base = {
    ruleId: rule.id,
    category: rule.category,
    impact: change.impact,
    messageId: change.messageId,
    old: change.old,
    new: change.new,
    against: [] as string[],
  };
  if (rule.severity !== 'directional') {
    const severity: Severity = options.mode === 'none' && rule.severity === 'breaking' ? 'warning' : rule.severity;
    const operations = uniqueOperations(change.uses.flatMap((u) => u.operations));
    const direction = change.uses.length === 1 ? change.uses[0]!.direction : undefined;
    const suffix = options.mode === 'none' && rule.severity === 'breaking' ? ' (not enforced: --mode none)' : '';
    return [{ ...base, severity, message: `${capitalise(change.text)}${suffix}.`, operations, direction, mode: options.mode }];
  }
  const uses: Use[] = change.uses.length > 0 ? change.uses : [{ direction: 'unspecified', operations: [] }];
  return uses.map((use) => {
    const mode = options.mode ?? DEFAULT_MODE[use.direction];
    let severity: Severity = breaks(change.impact, mode) ? 'breaking' : 'info';
    if (mode === 'none' && breaks(change.impact, DEFAULT_MODE[use.direction])) severity = 'warning';
    return {
      ...base,
      severity,
      message: sentence(change, use.direction, mode, options.mode !== undefined, severity === 'breaking'),
      operations: uniqueOperations(use.operations),
      direction: use.direction,
      mode,
    };
  });
}

function sentence(change: Change, direction: Direction, mode: Mode, forced: boolean, breaking: boolean): string {
  const rule = change.rule;
  const inSchema = rule.category === 'schema' || rule.category === 'avro';
  let role: string;
  if (direction === 'unspecified') role = inSchema ? ', which no operation sends or receives (judged FULL)' : ' (no operation sends or receives it; judged FULL)';
  else if (inSchema) role = `, which this service ${direction === 'send' ? 'sends' : 'receives'}`;
  else role = ` (this service ${direction === 'send' ? 'sends' : 'receives'} it)`;
  if (forced) role += ` (judged ${mode.toUpperCase()} by --mode)`;
  let tail: string;
  if (change.impact === 'none') return `${capitalise(change.text)}${role}.`;
  if (breaking) {
    const impact = change.impact as 'narrows' | 'widens' | 'both';
    tail = rule.consequence?.[impact] ?? genericConsequence(impact, direction);
  } else if (mode === 'none') tail = 'not enforced (--mode none)';
  else if (!forced && direction === 'send') tail = 'compatible, consumers of the old version still accept every new event';
  else if (!forced && direction === 'receive') tail = 'compatible, events from producers of the old version are still accepted';
  else tail = `compatible under ${mode.toUpperCase()}`;
  return `${capitalise(change.text)}${role}: ${tail}.`;
}

function genericConsequence(impact: 'narrows' | 'widens' | 'both', direction: Direction): string {
  if (impact === 'both') return 'data valid under one version may be rejected under the other';
  if (impact === 'narrows') return direction === 'receive' ? 'events from producers still using the old schema will be rejected' : 'data valid under the old version is rejected by the new one';
  return direction === 'send' ? 'consumers validating against the old schema will reject new events' : 'data valid under the new version is rejected by readers of the old one';
}

function capitalise(text: string): string {
  return text.length > 0 && text[0] !== '`' ? text[0]!.toUpperCase() + text.slice(1) : text;
}

function uniqueOperations(operations: OperationRef[]): OperationRef[] {
  const seen = new Set<string>();
  return operations.filter((op) => {
    const key = `${op.action}:${op.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ---- schema comparisons ----------------------------------------------------------------------

class SchemaComparisons {
  private readonly canon = new Canonicalizer();
  private readonly oldSpace: SchemaSpace;
  private readonly newSpace: SchemaSpace;
  private readonly extraSpaces = new Map<'old' | 'new', { registry: SchemaRegistry; space: SchemaSpace }>();

  constructor(
    private readonly input: DiffRun,
    private readonly ctx: StructureContext,
    private readonly sink: (change: Change) => void,
  ) {
    this.oldSpace = { defs: input.old.model.schemas, origins: input.old.model.schemaOrigins };
    this.newSpace = { defs: input.new.model.schemas, origins: input.new.model.schemaOrigins };
  }

  run(): void {
    for (const pair of this.ctx.messages) this.message(pair);
    for (const pair of this.ctx.channels.pairs) this.parameters(pair);
  }

  private walk(target: SchemaTarget): SchemaWalk {
    return new SchemaWalk(SCHEMA_RULES, this.canon, this.sink, target);
  }

  private message(pair: MessagePair): void {
    const { old, new: next } = pair;
    const base = { uses: pair.uses, messageId: next.id };
    const oldFamily = formatFamily(old.schemaFormat);
    const newFamily = formatFamily(next.schemaFormat);
    if (oldFamily === 'JSON Schema' && newFamily === 'JSON Schema') {
      this.walk({ ...base, container: next.id, rootSubject: 'the payload' }).compare(
        nodeOf({ $ref: `#/definitions/${old.payloadTypeName}` }, this.oldSpace, this.oldSpace.origins[old.payloadTypeName]),
        nodeOf({ $ref: `#/definitions/${next.payloadTypeName}` }, this.newSpace, this.newSpace.origins[next.payloadTypeName]),
      );
    } else if (oldFamily === 'Avro' && newFamily === 'Avro') {
      this.avro(pair);
    }
    const headers = (m: MessageModel, space: SchemaSpace) =>
      m.headersTypeName ? nodeOf({ $ref: `#/definitions/${m.headersTypeName}` }, space, space.origins[m.headersTypeName]) : trueNode(space, { file: m.origin.file, pointer: appendPointer(m.origin.pointer, 'headers') });
    this.walk({ ...base, container: `the headers of ${next.id}`, rootSubject: 'the headers', rootContainer: next.id }).compare(headers(old, this.oldSpace), headers(next, this.newSpace));
    // The Kafka message key is a schema on the wire too.
    const oldKey = old.bindings.kafka?.key;
    const newKey = next.bindings.kafka?.key;
    if (oldKey !== undefined || newKey !== undefined) {
      this.walk({ ...base, container: `the Kafka key of ${next.id}`, rootSubject: 'the Kafka key', rootContainer: next.id }).compare(this.bindingSchema('old', old, oldKey), this.bindingSchema('new', next, newKey));
    }
  }

  /** A schema written inside a binding (the Kafka key), registered in a space of its own. */
  private bindingSchema(side: 'old' | 'new', message: MessageModel, value: unknown) {
    const origin: Origin = { file: message.origin.file, pointer: appendPointer(message.origin.pointer, 'bindings', 'kafka', 'key') };
    let extra = this.extraSpaces.get(side);
    if (!extra) {
      const registry = new SchemaRegistry(new DocumentReader(this.input[side].set), new UniqueNames());
      extra = { registry, space: { defs: registry.definitions, origins: registry.origins } };
      this.extraSpaces.set(side, extra);
    }
    if (value === undefined) return trueNode(extra.space, origin);
    const file = fileByDisplay(this.input[side].set, message.origin.file) ?? this.input[side].set.root;
    const name = extra.registry.add({ value, at: { file, pointer: origin.pointer } }, `${message.name}KafkaKey`);
    return nodeOf({ $ref: `#/definitions/${name}` }, extra.space, origin);
  }

  private parameters(channel: Pair<ChannelModel>): void {
    const { old, new: next } = channel;
    if (old.address === null || next.address === null) return;
    const names = (address: string) => [...address.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!);
    const oldNames = names(old.address);
    const newNames = names(next.address);
    if (oldNames.length !== newNames.length) return; // the address changed: CHANNEL_ADDRESS_CHANGED
    const uses = this.ctx.channelUses(channel);
    newNames.forEach((name, index) => {
      const oldName = oldNames[index]!;
      const before = old.parameters.find((p) => p.name === oldName);
      const after = next.parameters.find((p) => p.name === name);
      const oldNode = before ? nodeOf(before.schema, this.oldSpace, before.origin) : trueNode(this.oldSpace, old.origin);
      const newNode = after ? nodeOf(after.schema, this.newSpace, after.origin) : trueNode(this.newSpace, next.origin);
      this.walk({ uses, container: `parameter \`${name}\` of channel ${channelName(next)}`, rootSubject: `parameter \`${name}\``, rootContainer: `channel ${channelName(next)}` }).compare(oldNode, newNode);
    });
  }

  private avro(pair: MessagePair): void {
    const { old, new: next } = pair;
    const read = (m: MessageModel, side: 'old' | 'new'): AvroRef => {
      try {
        return readAvro(avroJson(m.payloadRaw)).root;
      } catch (error) {
        throw new CodegenError(ExitCode.usage, {
          code: 'E_AVRO_SCHEMA',
          severity: 'error',
          message: `the Avro payload of message ${m.id} (${side} version) cannot be read: ${(error as Error).message}`,
          location: m.payloadOrigin,
        });
      }
    };
    const oldRoot = read(old, 'old');
    const newRoot = read(next, 'new');
    const oldOrigin = old.payloadOrigin ?? old.origin;
    const newOrigin = next.payloadOrigin ?? next.origin;
    const target: SchemaTarget = { uses: pair.uses, messageId: next.id, container: next.id, rootSubject: 'the payload' };
    const found: Change[] = [];
    new AvroWalk(AVRO_RULES, (c) => {
      found.push(c);
      this.sink(c);
    }, target, oldOrigin, newOrigin).compare(oldRoot, newRoot);
    // Safety net: avsc's own resolver, both ways.
    const avsc = this.input.avsc;
    if (!avsc) return;
    let oldType: { createResolver(writer: unknown): unknown };
    let newType: { createResolver(writer: unknown): unknown };
    try {
      oldType = avsc.Type.forSchema(avroJson(old.payloadRaw));
      newType = avsc.Type.forSchema(avroJson(next.payloadRaw));
    } catch (error) {
      throw new CodegenError(ExitCode.usage, { code: 'E_AVRO_SCHEMA', severity: 'error', message: `an Avro payload of message ${next.id} is not a valid Avro schema: ${(error as Error).message}`, location: next.payloadOrigin });
    }
    const failure = (reader: typeof oldType, writer: typeof oldType): string | undefined => {
      try {
        reader.createResolver(writer);
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    };
    const covered = (impact: 'narrows' | 'widens') => found.some((c) => c.impact === impact || c.impact === 'both');
    const backward = failure(newType, oldType);
    const forward = failure(oldType, newType);
    const report = (impact: Impact, how: string, reason: string) =>
      this.sink({
        rule: AVRO_RESOLUTION_FAILED,
        impact,
        text: AVRO_RESOLUTION_FAILED.message({ subject: 'the payload', container: next.id, how, reason }),
        old: oldOrigin,
        new: newOrigin,
        uses: pair.uses,
        messageId: next.id,
      });
    const unexplainedBackward = backward !== undefined && !covered('narrows');
    const unexplainedForward = forward !== undefined && !covered('widens');
    if (unexplainedBackward && unexplainedForward) report('both', 'either way', backward === forward ? backward! : `${backward}; ${forward}`);
    else if (unexplainedBackward) report('narrows', 'with the new schema reading old data', backward!);
    else if (unexplainedForward) report('widens', 'with the old schema reading new data', forward!);
  }
}

/** An Avro schema may be written as JSON text inside the document (`schema: '{"type": "record", ...}'`). */
function avroJson(raw: unknown): unknown {
  if (typeof raw === 'string' && /^\s*[[{]/.test(raw)) return JSON.parse(raw);
  return raw;
}

function fileByDisplay(set: DocumentSet, display: string): SourceFile | undefined {
  for (const file of set.files.values()) if (file.displayPath === display) return file;
  return undefined;
}

// ---- locations, version check, ordering ------------------------------------------------------

function locator(run: DiffRun) {
  const files = { old: new Map<string, PositionIndex>(), new: new Map<string, PositionIndex>() };
  for (const side of ['old', 'new'] as const) for (const file of run[side].set.files.values()) files[side].set(file.displayPath, new PositionIndex(file));
  return (side: 'old' | 'new', origin: Origin | FindingLocation): FindingLocation => {
    const location: FindingLocation = { file: origin.file, pointer: origin.pointer };
    const file = files[side].get(origin.file);
    const position = file?.locate(origin.pointer);
    if (position) Object.assign(location, position);
    if (run[side].revision) location.revision = run[side].revision;
    return location;
  };
}

interface Semver {
  major: number;
  minor: number;
  patch: number;
}

function parseVersion(version: string): Semver | undefined {
  const match = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(version.trim());
  return match ? { major: Number(match[1]), minor: Number(match[2] ?? 0), patch: Number(match[3] ?? 0) } : undefined;
}

/** Breaking findings need a major bump (a minor one for 0.x): otherwise VERSION_NOT_BUMPED. */
function versionCheck(oldModel: ApiModel, newModel: ApiModel, findings: Finding[]): Finding | undefined {
  const count = findings.filter((f) => f.severity === 'breaking').length;
  if (count === 0) return undefined;
  const before = oldModel.info.version;
  const after = newModel.info.version;
  const a = parseVersion(before);
  const b = parseVersion(after);
  let bumped: boolean;
  if (a && b) bumped = b.major > a.major || (a.major === 0 && b.major === 0 && b.minor > a.minor);
  else bumped = before !== after; // not semver: any change counts
  if (bumped) return undefined;
  const suggestion = a ? (a.major === 0 ? `0.${a.minor + 1}.0` : `${a.major + 1}.0.0`) : '';
  return {
    ruleId: VERSION_NOT_BUMPED.id,
    severity: VERSION_NOT_BUMPED.severity as Severity,
    category: VERSION_NOT_BUMPED.category,
    impact: 'none',
    message: `${capitalise(VERSION_NOT_BUMPED.message({ count: String(count), version: before === after ? `is still ${after || '(none)'}` : `went from ${before || '(none)'} to ${after || '(none)'}`, suggestion }))}.`,
    operations: [],
    old: { file: oldModel.origin.file, pointer: '/info/version' },
    new: { file: newModel.origin.file, pointer: '/info/version' },
    against: [],
  };
}

export function findingKey(f: Finding): string {
  return [f.ruleId, f.severity, f.direction ?? '', f.old?.file ?? '', f.old?.pointer ?? '', f.new?.file ?? '', f.new?.pointer ?? '', f.message].join('\u0000');
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Map<string, Finding>();
  for (const finding of findings) {
    const key = findingKey(finding);
    const known = seen.get(key);
    if (known) known.operations = uniqueOperations([...known.operations, ...finding.operations]);
    else seen.set(key, finding);
  }
  return [...seen.values()];
}

export function sortFindings(findings: Finding[]): Finding[] {
  const text = (l?: FindingLocation) => (l ? `${l.file}\u0000${l.pointer}` : '\uffff');
  return findings.sort(
    (a, b) =>
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
      compare(text(a.new ?? a.old), text(b.new ?? b.old)) ||
      compare(a.ruleId, b.ruleId) ||
      compare(a.direction ?? '', b.direction ?? '') ||
      compare(a.message, b.message),
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}


/**
 * Compares two standalone JSON Schemas (with their own `definitions` maps) and returns the raw
 * changes with their impact: what the oracle test checks against sampled instances.
 */
export function compareJsonSchemas(
  oldSchema: unknown,
  newSchema: unknown,
  oldDefinitions: Record<string, unknown> = {},
  newDefinitions: Record<string, unknown> = {},
): Array<{ ruleId: string; impact: Impact; text: string }> {
  const changes: Change[] = [];
  const target: SchemaTarget = { uses: [], container: 'the schema', rootSubject: 'the value' };
  const oldSpace: SchemaSpace = { defs: oldDefinitions as SchemaSpace['defs'], origins: {} };
  const newSpace: SchemaSpace = { defs: newDefinitions as SchemaSpace['defs'], origins: {} };
  new SchemaWalk(SCHEMA_RULES, new Canonicalizer(), (c) => changes.push(c), target).compare(
    nodeOf(oldSchema as SchemaSpace['defs'][string], oldSpace, { file: 'old', pointer: '' }),
    nodeOf(newSchema as SchemaSpace['defs'][string], newSpace, { file: 'new', pointer: '' }),
  );
  return changes.map((c) => ({ ruleId: c.rule.id, impact: c.impact, text: c.text }));
}
