import { appendPointer } from '../../load/pointer.js';
import type { Bindings, Origin } from '../../model/types.js';
import { stableStringify } from '../schema/canonical.js';
import { channelName, refOf, type StructureContext, type StructureRule } from '../structure/context.js';
import { wireAddress } from '../structure/match.js';
import type { OperationRef } from '../types.js';

type Level = 'server' | 'channel' | 'operation' | 'message';

/** One leaf of a binding object that differs between versions. */
interface BindingDiff {
  level: Level;
  /** "channel `orders.created`", "operation `onOrder`", ... */
  element: string;
  protocol: string;
  /** Path inside the protocol's binding object, e.g. ["exchange", "name"]. */
  path: string[];
  before: unknown;
  after: unknown;
  old?: Origin;
  new?: Origin;
  operations: OperationRef[];
}

/** Binding fields whose value is a JSON Schema: compared by the schema rules, not as text. */
export const BINDING_SCHEMAS: ReadonlyArray<{ level: 'channel' | 'message'; protocol: string; field: string; subject: string }> = [
  { level: 'message', protocol: 'kafka', field: 'key', subject: 'the Kafka key' },
  { level: 'channel', protocol: 'ws', field: 'query', subject: 'the WebSocket query' },
  { level: 'channel', protocol: 'ws', field: 'headers', subject: 'the WebSocket headers' },
];
export type BindingSchema = (typeof BINDING_SCHEMAS)[number];

/** Leaves of binding objects that specific rules own: [level, protocol, first path segment]. */
const OWNED: Array<[Level, string, string, string]> = [
  ['channel', 'kafka', 'topic', 'KAFKA_TOPIC_CHANGED'],
  ['channel', 'kafka', 'partitions', 'KAFKA_PARTITIONS_CHANGED'],
  ['channel', 'amqp', 'is', 'AMQP_CHANNEL_TYPE_CHANGED'],
  ['channel', 'amqp', 'exchange', 'AMQP_EXCHANGE_CHANGED'],
  ['channel', 'amqp', 'queue', 'AMQP_QUEUE_CHANGED'],
  ['operation', 'amqp', 'cc', 'AMQP_ROUTING_KEY_CHANGED'],
  ['operation', 'amqp', 'bcc', 'AMQP_ROUTING_KEY_CHANGED'],
  ['operation', 'amqp', 'deliveryMode', 'AMQP_DELIVERY_MODE_CHANGED'],
  ['operation', 'kafka', 'groupId', 'KAFKA_GROUP_ID_CHANGED'],
  ['operation', 'nats', 'queue', 'NATS_QUEUE_CHANGED'],
  ['message', 'amqp', 'contentEncoding', 'AMQP_CONTENT_ENCODING_CHANGED'],
  ['message', 'amqp', 'messageType', 'AMQP_MESSAGE_TYPE_CHANGED'],
  // Schemas: compared by the schema rules (src/diff/comparisons.ts), judged by direction.
  ...BINDING_SCHEMAS.map((b): [Level, string, string, string] => [b.level, b.protocol, b.field, 'SCHEMA_*']),
];

function ownerOf(diff: BindingDiff): string | undefined {
  return OWNED.find(([level, protocol, field]) => level === diff.level && protocol === diff.protocol && diff.path[0] === field)?.[3];
}

const cache = new WeakMap<StructureContext, BindingDiff[]>();

/** Every differing binding leaf of every matched element, computed once per comparison. */
export function bindingDiffs(ctx: StructureContext): BindingDiff[] {
  const known = cache.get(ctx);
  if (known) return known;
  const diffs: BindingDiff[] = [];
  const compare = (level: Level, element: string, before: Bindings, after: Bindings, oldOrigin: Origin, newOrigin: Origin, operations: OperationRef[]) => {
    for (const protocol of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
      const a = leaves(before[protocol]);
      const b = leaves(after[protocol]);
      for (const key of [...new Set([...a.keys(), ...b.keys()])].sort()) {
        const x = a.get(key);
        const y = b.get(key);
        if (x?.text === y?.text) continue;
        const path = (x ?? y)!.path;
        diffs.push({
          level,
          element,
          protocol,
          path,
          before: x?.value,
          after: y?.value,
          old: { file: oldOrigin.file, pointer: appendPointer(oldOrigin.pointer, 'bindings', protocol, ...(x ? path : [])) },
          new: { file: newOrigin.file, pointer: appendPointer(newOrigin.pointer, 'bindings', protocol, ...(y ? path : [])) },
          operations,
        });
      }
    }
  };
  for (const { old, new: next } of ctx.servers.pairs) compare('server', `server \`${next.id}\``, old.bindings, next.bindings, old.origin, next.origin, []);
  for (const { old, new: next } of ctx.channels.pairs) compare('channel', `channel ${channelName(next)}`, old.bindings, next.bindings, old.origin, next.origin, ctx.operationsOn('new', next.id));
  for (const { old, new: next } of ctx.operations.pairs) compare('operation', `operation \`${next.id}\``, old.bindings, next.bindings, old.origin, next.origin, [refOf(next)]);
  for (const pair of ctx.messages) compare('message', `message ${pair.new.id}`, pair.old.bindings, pair.new.bindings, pair.old.origin, pair.new.origin, pair.uses.flatMap((u) => u.operations));
  cache.set(ctx, diffs);
  return diffs;
}

/** Leaves of a binding object by pointer; arrays are leaves (compared whole); bindingVersion is ignored. */
function leaves(binding: unknown): Map<string, { path: string[]; value: unknown; text: string }> {
  const out = new Map<string, { path: string[]; value: unknown; text: string }>();
  if (binding === undefined) return out;
  const walk = (value: unknown, path: string[]) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && path.length < 2) {
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        if (path.length === 0 && key === 'bindingVersion') continue;
        walk(record[key], [...path, key]);
      }
      if (path.length === 0 && Object.keys(record).length === 0) out.set('', { path: [], value: {}, text: '{}' });
      return;
    }
    out.set(path.join('/'), { path, value, text: stableStringify(value) });
  };
  walk(binding, []);
  if (out.size === 0) out.set('', { path: [], value: binding, text: stableStringify(binding) });
  return out;
}

const show = (value: unknown) => (value === undefined ? '(none)' : JSON.stringify(value));

function ownedRule(id: string, severity: 'breaking' | 'warning', purpose: string, effect: string): StructureRule {
  const rule: StructureRule = {
    id,
    kind: 'structure',
    category: 'binding',
    severity,
    purpose,
    message: (a) => `the ${a.protocol} binding of ${a.element} changed: ${a.changes}${effect ? `; ${effect}` : ''}`,
    check(ctx) {
      const mine = bindingDiffs(ctx).filter((d) => ownerOf(d) === id);
      // One finding per element and protocol, listing its changed fields.
      const groups = new Map<string, BindingDiff[]>();
      for (const d of mine) {
        const key = `${d.level}|${d.element}|${d.protocol}`;
        groups.set(key, [...(groups.get(key) ?? []), d]);
      }
      for (const group of groups.values()) {
        const first = group[0]!;
        const changes = group.map((d) => `${d.path.join('.')} ${show(d.before)} → ${show(d.after)}`).join(', ');
        ctx.report(rule, { args: { protocol: first.protocol, element: first.element, changes }, old: first.old, new: first.new, operations: first.operations });
      }
    },
  };
  return rule;
}

export const KAFKA_TOPIC_CHANGED: StructureRule = {
  id: 'KAFKA_TOPIC_CHANGED',
  kind: 'structure',
  category: 'binding',
  severity: 'breaking',
  purpose: 'The Kafka topic of a channel changed (its `kafka.topic` binding, which overrides the address).',
  message: (a) => `the Kafka topic of channel ${a.channel} changed from \`${a.from}\` to \`${a.to}\`: producers and consumers on different versions no longer meet`,
  check(ctx) {
    for (const { old, new: next } of ctx.channels.pairs) {
      if (wireAddress(old.address) !== wireAddress(next.address)) continue; // CHANNEL_ADDRESS_CHANGED
      const topic = (binding: Record<string, unknown> | undefined, address: string | null) => (typeof binding?.topic === 'string' ? binding.topic : address ?? '');
      const before = topic(old.bindings.kafka, old.address);
      const after = topic(next.bindings.kafka, next.address);
      if (before === after || (!old.bindings.kafka && !next.bindings.kafka)) continue;
      ctx.report(KAFKA_TOPIC_CHANGED, {
        args: { channel: channelName(next), from: before, to: after },
        old: { file: old.origin.file, pointer: appendPointer(old.origin.pointer, 'bindings', 'kafka', 'topic') },
        new: { file: next.origin.file, pointer: appendPointer(next.origin.pointer, 'bindings', 'kafka', 'topic') },
        operations: ctx.operationsOn('new', next.id),
      });
    }
  },
};

export const KAFKA_PARTITIONS_CHANGED = ownedRule('KAFKA_PARTITIONS_CHANGED', 'warning', 'The partition count of a Kafka topic changed: keys map to other partitions, so per-key ordering breaks across the change.', 'per-key ordering is not kept across the repartitioning');
export const KAFKA_GROUP_ID_CHANGED = ownedRule('KAFKA_GROUP_ID_CHANGED', 'warning', 'The Kafka consumer group of an operation changed: the new group starts from its own offsets (reprocessing or skipping events).', 'the new group starts from its own offsets');
export const AMQP_CHANNEL_TYPE_CHANGED = ownedRule('AMQP_CHANNEL_TYPE_CHANGED', 'breaking', 'An AMQP channel switched between a routing key on an exchange and a queue (`is`).', 'publishers and consumers of the other version address the wrong kind of destination');
export const AMQP_EXCHANGE_CHANGED = ownedRule('AMQP_EXCHANGE_CHANGED', 'breaking', 'The AMQP exchange of a channel changed (name, type, durable, auto-delete, vhost): messages go elsewhere, or redeclaring it fails with PRECONDITION_FAILED.', 'declaring it against a broker set up by the other version fails or routes elsewhere');
export const AMQP_QUEUE_CHANGED = ownedRule('AMQP_QUEUE_CHANGED', 'breaking', 'The AMQP queue of a channel changed (name, durable, exclusive, auto-delete, vhost): consumers read elsewhere, or redeclaring it fails.', 'declaring it against a broker set up by the other version fails or reads elsewhere');
export const AMQP_ROUTING_KEY_CHANGED = ownedRule('AMQP_ROUTING_KEY_CHANGED', 'breaking', 'The AMQP routing keys of an operation (`cc`/`bcc`) changed: bindings set up for the other version no longer match.', 'queues bound for the other version no longer receive these messages');
export const AMQP_DELIVERY_MODE_CHANGED = ownedRule('AMQP_DELIVERY_MODE_CHANGED', 'warning', 'The AMQP delivery mode of an operation changed (persistent ↔ transient).', 'messages survive (or no longer survive) a broker restart');
export const AMQP_CONTENT_ENCODING_CHANGED = ownedRule('AMQP_CONTENT_ENCODING_CHANGED', 'breaking', 'The AMQP content encoding of a message changed: consumers of the other version decode the body wrongly.', 'consumers of the other version decode the body wrongly');
export const AMQP_MESSAGE_TYPE_CHANGED = ownedRule('AMQP_MESSAGE_TYPE_CHANGED', 'warning', 'The AMQP `type` property of a message changed: consumers that dispatch on it no longer recognise it.', 'consumers that dispatch on it no longer recognise it');
export const NATS_QUEUE_CHANGED = ownedRule('NATS_QUEUE_CHANGED', 'warning', 'The NATS queue group of an operation changed: during a rolling deployment both groups receive every message.', 'during a rolling deployment both queue groups receive every message');

export const BINDING_CHANGED: StructureRule = {
  id: 'BINDING_CHANGED',
  kind: 'structure',
  category: 'binding',
  severity: 'info',
  purpose: 'Any other binding field was added, removed or changed (bindingVersion is ignored).',
  message: (a) => `the ${a.protocol} binding of ${a.element} changed: ${a.field} ${a.from} → ${a.to}`,
  check(ctx) {
    for (const d of bindingDiffs(ctx)) {
      if (ownerOf(d)) continue;
      ctx.report(BINDING_CHANGED, {
        args: { protocol: d.protocol, element: d.element, field: d.path.length > 0 ? d.path.join('.') : '(binding)', from: show(d.before), to: show(d.after) },
        old: d.old,
        new: d.new,
        operations: d.operations,
      });
    }
  },
};

export const bindingRules = [
  KAFKA_TOPIC_CHANGED,
  KAFKA_PARTITIONS_CHANGED,
  KAFKA_GROUP_ID_CHANGED,
  AMQP_CHANNEL_TYPE_CHANGED,
  AMQP_EXCHANGE_CHANGED,
  AMQP_QUEUE_CHANGED,
  AMQP_ROUTING_KEY_CHANGED,
  AMQP_DELIVERY_MODE_CHANGED,
  AMQP_CONTENT_ENCODING_CHANGED,
  AMQP_MESSAGE_TYPE_CHANGED,
  NATS_QUEUE_CHANGED,
  BINDING_CHANGED,
];
