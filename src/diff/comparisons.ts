import { CodegenError, ExitCode } from '../errors.js';
import type { DocumentSet } from '../load/document-set.js';
import type { SourceFile } from '../load/source-file.js';
import { appendPointer } from '../load/pointer.js';
import { UniqueNames } from '../model/names.js';
import { DocumentReader } from '../load/reader.js';
import { SchemaRegistry } from '../model/schemas.js';
import type { ApiModel, Bindings, ChannelModel, JsonSchema, MessageModel, Origin, ParameterModel } from '../model/types.js';
import { readAvro, type AvroRef } from './avro/schema.js';
import { AvroWalk } from './avro/walk.js';
import { AVRO_RESOLUTION_RULES, AVRO_RULES, SCHEMA_RULES } from './registry.js';
import type { Change, MessageArgs } from './rule.js';
import type { AvroResolutionRule } from './rules/avro-resolution.js';
import { BINDING_SCHEMAS, type BindingSchema } from './rules/bindings.js';
import { formatFamily } from './rules/messages.js';
import { Canonicalizer } from './schema/canonical.js';
import { nodeOf, trueNode, type SchemaNode, type SchemaSpace } from './schema/node.js';
import { SchemaWalk, type SchemaTarget } from './schema/walk.js';
import { channelName, type MessagePair, type Pair, type StructureContext } from './structure/context.js';
import type { DiffRun, Impact } from './types.js';

function majorOf(model: ApiModel): string {
  return model.asyncapiVersion.split('.')[0] ?? '';
}

/**
 * A channel parameter as both AsyncAPI majors can state it: a string, optionally one of an enum.
 * 3.x parameters have no schema (no pattern, no length), so a 2.x schema's other constraints are
 * not compared across a 2.x → 3.x migration: the wire (the address) is the same.
 */
export function parameterNormalForm(parameter: ParameterModel): JsonSchema {
  return parameter.enum ? { type: 'string', enum: [...parameter.enum] } : { type: 'string' };
}

/** An element that carries bindings. */
type Bound = { id: string; bindings: Bindings; origin: Origin };


/**
 * Subsumption between messages of the two versions: `accepts(general, specific)` is true when every
 * message valid under `specific` (old version) is valid under `general` (new version): same content
 * type, JSON Schema payloads and headers, and a schema walk from one to the other that finds
 * nothing narrowing.
 */
export function messageSubsumption(run: DiffRun): (general: MessageModel, specific: MessageModel) => boolean {
  const canon = new Canonicalizer();
  const oldSpace: SchemaSpace = { defs: run.old.model.schemas, origins: run.old.model.schemaOrigins };
  const newSpace: SchemaSpace = { defs: run.new.model.schemas, origins: run.new.model.schemaOrigins };
  const narrows = (older: SchemaNode, newer: SchemaNode) => {
    let found = false;
    new SchemaWalk(SCHEMA_RULES, canon, (change) => (found ||= change.impact === 'narrows' || change.impact === 'both'), { uses: [], container: '', rootSubject: '' }).compare(older, newer);
    return found;
  };
  const node = (name: string | undefined, space: SchemaSpace) => (name ? nodeOf({ $ref: `#/definitions/${name}` }, space) : trueNode(space));
  return (general, specific) => {
    if (formatFamily(general.schemaFormat) !== 'JSON Schema' || formatFamily(specific.schemaFormat) !== 'JSON Schema') return false;
    if (general.contentType.toLowerCase() !== specific.contentType.toLowerCase()) return false;
    if (narrows(node(specific.payloadTypeName, oldSpace), node(general.payloadTypeName, newSpace))) return false;
    return !narrows(node(specific.headersTypeName, oldSpace), node(general.headersTypeName, newSpace));
  };
}

/**
 * The schemas of every matched message (payload, headers, Kafka key) and channel parameter,
 * walked with the schema rules (or the Avro rules) in the direction each is used.
 */
export class SchemaComparisons {
  private readonly canon = new Canonicalizer();
  private readonly oldSpace: SchemaSpace;
  private readonly newSpace: SchemaSpace;
  private readonly extraSpaces = new Map<'old' | 'new', { registry: SchemaRegistry; space: SchemaSpace }>();

  constructor(
    private readonly input: DiffRun,
    private readonly ctx: StructureContext,
    private readonly sink: (change: Change) => void,
  ) {
    this.oldSpace = { defs: input.old.model.schemas, origins: input.old.model.schemaOrigins, titles: input.old.model.schemaTitles };
    this.newSpace = { defs: input.new.model.schemas, origins: input.new.model.schemaOrigins, titles: input.new.model.schemaTitles };
  }

  run(): void {
    for (const pair of this.ctx.messages) this.message(pair);
    for (const pair of this.ctx.channels.pairs) {
      this.parameters(pair);
      const uses = this.ctx.channelUses(pair);
      for (const binding of BINDING_SCHEMAS.filter((b) => b.level === 'channel')) {
        const container = `channel ${channelName(pair.new)}`;
        this.bindingPair(binding, { uses, container: `${binding.subject} of ${container}`, rootSubject: binding.subject, rootContainer: container }, pair.old, pair.new);
      }
    }
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
    for (const binding of BINDING_SCHEMAS.filter((b) => b.level === 'message')) {
      this.bindingPair(binding, { ...base, container: `${binding.subject} of ${next.id}`, rootSubject: binding.subject, rootContainer: next.id }, old, next);
    }
  }

  /**
   * A schema written inside a binding (the Kafka key, WebSocket query and headers), `$ref`s
   * followed, judged by the schema rules in the direction the element is used.
   */
  private bindingPair(binding: BindingSchema, target: SchemaTarget, old: Bound, next: Bound): void {
    const before = old.bindings[binding.protocol]?.[binding.field];
    const after = next.bindings[binding.protocol]?.[binding.field];
    if (before === undefined && after === undefined) return;
    this.walk(target).compare(this.bindingSchema('old', old, binding, before), this.bindingSchema('new', next, binding, after));
  }

  /** A binding's schema, registered in a space of its own (the model does not hold binding schemas). */
  private bindingSchema(side: 'old' | 'new', element: Bound, binding: BindingSchema, value: unknown) {
    const origin: Origin = { file: element.origin.file, pointer: appendPointer(element.origin.pointer, 'bindings', binding.protocol, binding.field) };
    let extra = this.extraSpaces.get(side);
    if (!extra) {
      const registry = new SchemaRegistry(new DocumentReader(this.input[side].set), new UniqueNames());
      extra = { registry, space: { defs: registry.definitions, origins: registry.origins } };
      this.extraSpaces.set(side, extra);
    }
    if (value === undefined) return trueNode(extra.space, origin);
    const file = fileByDisplay(this.input[side].set, element.origin.file) ?? this.input[side].set.root;
    const name = extra.registry.add({ value, at: { file, pointer: origin.pointer } }, `${element.id}${binding.protocol}${binding.field}`);
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
    // Across AsyncAPI majors, compare what both can say (the normal form); within one, the schemas.
    const across = majorOf(this.input.old.model) !== majorOf(this.input.new.model);
    const schemaOf = (p: ParameterModel) => (across ? parameterNormalForm(p) : p.schema);
    // A 2.x parameter's constraints are written under its `schema`.
    const originOf = (p: ParameterModel, model: ApiModel): Origin => (across && majorOf(model) === '2' ? { file: p.origin.file, pointer: appendPointer(p.origin.pointer, 'schema') } : p.origin);
    newNames.forEach((name, index) => {
      const oldName = oldNames[index]!;
      const before = old.parameters.find((p) => p.name === oldName);
      const after = next.parameters.find((p) => p.name === name);
      const oldNode = before ? nodeOf(schemaOf(before), this.oldSpace, originOf(before, this.input.old.model)) : trueNode(this.oldSpace, old.origin);
      const newNode = after ? nodeOf(schemaOf(after), this.newSpace, originOf(after, this.input.new.model)) : trueNode(this.newSpace, next.origin);
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
    const avsc = this.input.avsc;
    if (!avsc) return;
    const report = (rule: AvroResolutionRule, impact: Impact, args: MessageArgs) =>
      this.sink({ rule, impact, text: rule.message(args), old: oldOrigin, new: newOrigin, uses: pair.uses, messageId: next.id });
    for (const rule of AVRO_RESOLUTION_RULES) {
      try {
        rule.check({ oldSchema: avroJson(old.payloadRaw), newSchema: avroJson(next.payloadRaw), found, avsc, container: next.id, report: (impact, args) => report(rule, impact, args) });
      } catch (error) {
        throw new CodegenError(ExitCode.usage, { code: 'E_AVRO_SCHEMA', severity: 'error', message: `an Avro payload of message ${next.id} is not a valid Avro schema: ${(error as Error).message}`, location: next.payloadOrigin });
      }
    }
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
