import { appendPointer } from '../../load/pointer.js';
import { cloudEventsTypeOf } from '../../model/names.js';
import type { MessageModel } from '../../model/types.js';
import type { MessagePair, StructureRule } from '../structure/context.js';

const at = (m: MessageModel, ...segments: string[]) => ({ file: m.origin.file, pointer: appendPointer(m.origin.pointer, ...segments) });
const operationsOf = (pair: MessagePair) => pair.uses.flatMap((u) => u.operations);

/** The family of a schemaFormat: JSON Schema (any AsyncAPI or JSON Schema version), Avro, or the format itself. */
export function formatFamily(format: string): string {
  let family = families.get(format);
  if (family === undefined) {
    if (format === '' || /^application\/(vnd\.aai\.asyncapi|schema)(\+(json|yaml))?(;.*)?$/.test(format)) family = 'JSON Schema';
    else if (/^application\/vnd\.apache\.avro(\+(json|yaml))?(;.*)?$/.test(format)) family = 'Avro';
    else family = format.replace(/;.*$/, '');
    families.set(format, family);
  }
  return family;
}

const families = new Map<string, string>();

/** "`OrderPlaced` to `OrderSubmitted`", "name `order.placed` to `order.submitted`": what was renamed. */
function renaming(pair: MessagePair): string {
  const parts: string[] = [];
  if (pair.old.id !== pair.new.id) parts.push(`\`${pair.old.id}\` was renamed to \`${pair.new.id}\``);
  if (pair.old.messageName !== pair.new.messageName) parts.push(`its name went from ${quoted(pair.old.messageName)} to ${quoted(pair.new.messageName)}`);
  return parts.join(' and ');
}

const quoted = (name: string | undefined) => (name ? `\`${name}\`` : '(none)');

export const MESSAGE_RENAMED: StructureRule = {
  id: 'MESSAGE_RENAMED',
  kind: 'structure',
  category: 'message',
  severity: 'info',
  purpose:
    'A message got another key or `name` while what is on the wire stays (same payload, same CloudEvents `type`: unchanged derivation or pinned with `x-cloudevents-type`); generated type names change.',
  message: (a) => `message ${a.renaming}; the CloudEvents type stays \`${a.type}\`, generated type names change`,
  check(ctx) {
    for (const pair of ctx.messages) {
      if (pair.old.id === pair.new.id && pair.old.messageName === pair.new.messageName) continue;
      if (cloudEventsTypeOf(pair.old) !== cloudEventsTypeOf(pair.new)) continue; // MESSAGE_NAME_CHANGED says it, once
      ctx.report(MESSAGE_RENAMED, { args: { renaming: renaming(pair), type: cloudEventsTypeOf(pair.new) }, old: pair.old.origin, new: pair.new.origin, operations: operationsOf(pair), messageId: pair.new.id });
    }
  },
};

export const MESSAGE_NAME_CHANGED: StructureRule = {
  id: 'MESSAGE_NAME_CHANGED',
  kind: 'structure',
  category: 'message',
  severity: 'breaking',
  purpose:
    "The CloudEvents `type` codegen's envelope puts on the wire changed (it comes from `x-cloudevents-type`, else the message's `name`, else its key): consumers dispatch on it. Pin it with `x-cloudevents-type` to rename a message harmlessly.",
  message: (a) =>
    `the CloudEvents type of message ${a.id} changes from \`${a.from}\` to \`${a.to}\`${a.renaming ? ` (${a.renaming})` : ''}: consumers dispatching on the type no longer recognise it; pin the old type with \`x-cloudevents-type\` to keep it`,
  check(ctx) {
    for (const pair of ctx.messages) {
      const before = cloudEventsTypeOf(pair.old);
      const after = cloudEventsTypeOf(pair.new);
      if (before === after) continue;
      const pinned = pair.new.cloudEventsType !== undefined || pair.old.cloudEventsType !== undefined;
      const field = pinned ? 'x-cloudevents-type' : pair.new.messageName !== undefined || pair.old.messageName !== undefined ? 'name' : undefined;
      ctx.report(MESSAGE_NAME_CHANGED, {
        args: { id: pair.new.id, from: before, to: after, renaming: renaming(pair) },
        old: field ? at(pair.old, field) : pair.old.origin,
        new: field ? at(pair.new, field) : pair.new.origin,
        operations: operationsOf(pair),
        messageId: pair.new.id,
      });
    }
  },
};

export const MESSAGE_CONTENT_TYPE_CHANGED: StructureRule = {
  id: 'MESSAGE_CONTENT_TYPE_CHANGED',
  kind: 'structure',
  category: 'message',
  severity: 'breaking',
  purpose: 'The content type of a message changed (directly or through defaultContentType): the bytes are encoded differently.',
  message: (a) => `the content type of ${a.id} changed from ${a.from} to ${a.to}: the other version cannot decode it`,
  check(ctx) {
    for (const pair of ctx.messages) {
      if (pair.old.contentType.toLowerCase() === pair.new.contentType.toLowerCase()) continue;
      ctx.report(MESSAGE_CONTENT_TYPE_CHANGED, {
        args: { id: pair.new.id, from: pair.old.contentType, to: pair.new.contentType },
        old: at(pair.old, 'contentType'),
        new: at(pair.new, 'contentType'),
        operations: operationsOf(pair),
        messageId: pair.new.id,
      });
    }
  },
};

export const MESSAGE_SCHEMA_FORMAT_CHANGED: StructureRule = {
  id: 'MESSAGE_SCHEMA_FORMAT_CHANGED',
  kind: 'structure',
  category: 'message',
  severity: 'breaking',
  purpose: 'The payload moved to another schema language (JSON Schema ↔ Avro ...): the encoding on the wire changes.',
  message: (a) => `the payload of ${a.id} moved from ${a.from} to ${a.to}`,
  check(ctx) {
    for (const pair of ctx.messages) {
      const before = formatFamily(pair.old.schemaFormat);
      const after = formatFamily(pair.new.schemaFormat);
      if (before === after) continue;
      ctx.report(MESSAGE_SCHEMA_FORMAT_CHANGED, { args: { id: pair.new.id, from: before, to: after }, old: at(pair.old, 'payload'), new: at(pair.new, 'payload'), operations: operationsOf(pair), messageId: pair.new.id });
    }
  },
};

export const MESSAGE_PAYLOAD_NOT_COMPARED: StructureRule = {
  id: 'MESSAGE_PAYLOAD_NOT_COMPARED',
  kind: 'structure',
  category: 'message',
  severity: 'warning',
  purpose: 'The payload schema, in a format codegen does not compare (Protobuf, RAML, ...), changed: review it by hand.',
  message: (a) => `the ${a.format} payload of ${a.id} changed; codegen does not compare ${a.format} schemas, review it by hand`,
  check(ctx) {
    for (const pair of ctx.messages) {
      const family = formatFamily(pair.new.schemaFormat);
      if (family === 'JSON Schema' || family === 'Avro' || family !== formatFamily(pair.old.schemaFormat)) continue;
      if (JSON.stringify(pair.old.payloadRaw) === JSON.stringify(pair.new.payloadRaw)) continue;
      ctx.report(MESSAGE_PAYLOAD_NOT_COMPARED, { args: { id: pair.new.id, format: family }, old: pair.old.payloadOrigin ?? at(pair.old, 'payload'), new: pair.new.payloadOrigin ?? at(pair.new, 'payload'), operations: operationsOf(pair), messageId: pair.new.id });
    }
  },
};

export const MESSAGE_CORRELATION_ID_CHANGED: StructureRule = {
  id: 'MESSAGE_CORRELATION_ID_CHANGED',
  kind: 'structure',
  category: 'message',
  severity: 'breaking',
  purpose: 'The correlation id of a message moved to another location: replies and traces no longer correlate.',
  message: (a) => `the correlation id of ${a.id} moved from \`${a.from}\` to \`${a.to}\`: the other version looks for it in the wrong place`,
  check(ctx) {
    for (const pair of ctx.messages) {
      const before = pair.old.correlationId?.location;
      const after = pair.new.correlationId?.location;
      if (!before || !after || before === after) continue;
      ctx.report(MESSAGE_CORRELATION_ID_CHANGED, { args: { id: pair.new.id, from: before, to: after }, old: at(pair.old, 'correlationId'), new: at(pair.new, 'correlationId'), operations: operationsOf(pair), messageId: pair.new.id });
    }
  },
};

export const MESSAGE_CORRELATION_ID_REMOVED: StructureRule = {
  id: 'MESSAGE_CORRELATION_ID_REMOVED',
  kind: 'structure',
  category: 'message',
  severity: 'warning',
  purpose: 'A message no longer declares its correlation id.',
  message: (a) => `${a.id} no longer declares a correlation id (it was \`${a.from}\`)`,
  check(ctx) {
    for (const pair of ctx.messages) {
      if (pair.old.correlationId && !pair.new.correlationId) {
        ctx.report(MESSAGE_CORRELATION_ID_REMOVED, { args: { id: pair.new.id, from: pair.old.correlationId.location }, old: at(pair.old, 'correlationId'), new: pair.new.origin, operations: operationsOf(pair), messageId: pair.new.id });
      }
    }
  },
};

export const MESSAGE_CORRELATION_ID_ADDED: StructureRule = {
  id: 'MESSAGE_CORRELATION_ID_ADDED',
  kind: 'structure',
  category: 'message',
  severity: 'info',
  purpose: 'A message now declares a correlation id.',
  message: (a) => `${a.id} now declares a correlation id at \`${a.to}\``,
  check(ctx) {
    for (const pair of ctx.messages) {
      if (!pair.old.correlationId && pair.new.correlationId) {
        ctx.report(MESSAGE_CORRELATION_ID_ADDED, { args: { id: pair.new.id, to: pair.new.correlationId.location }, old: pair.old.origin, new: at(pair.new, 'correlationId'), operations: operationsOf(pair), messageId: pair.new.id });
      }
    }
  },
};

export const MESSAGE_DEPRECATED: StructureRule = {
  id: 'MESSAGE_DEPRECATED',
  kind: 'structure',
  category: 'message',
  severity: 'warning',
  purpose: 'A message was marked deprecated: it is likely to be removed in a later version.',
  message: (a) => `message ${a.id} is now deprecated`,
  check(ctx) {
    for (const pair of ctx.messages) {
      if (pair.new.deprecated && !pair.old.deprecated) ctx.report(MESSAGE_DEPRECATED, { args: { id: pair.new.id }, old: pair.old.origin, new: at(pair.new, 'deprecated'), operations: operationsOf(pair), messageId: pair.new.id });
    }
  },
};

export const messageRules = [
  MESSAGE_RENAMED,
  MESSAGE_NAME_CHANGED,
  MESSAGE_CONTENT_TYPE_CHANGED,
  MESSAGE_SCHEMA_FORMAT_CHANGED,
  MESSAGE_PAYLOAD_NOT_COMPARED,
  MESSAGE_CORRELATION_ID_CHANGED,
  MESSAGE_CORRELATION_ID_REMOVED,
  MESSAGE_CORRELATION_ID_ADDED,
  MESSAGE_DEPRECATED,
];
