import { createRequire } from 'node:module';
import type * as protobuf from 'protobufjs';
import { documentError } from '../errors.js';
import { BYTES_KEYWORD } from './avro.js';
import { pascalCase, schemaDescription } from './names.js';
import type { SchemaRegistry } from './schemas.js';
import type { JsonSchema, Origin } from './types.js';

/**
 * The descriptor the run-time codec reads (runtime/protobuf/codec.ts declares the same shape: the
 * run-time is copied into the output and cannot import the generator).
 */
interface ProtobufDescriptor {
  message: string;
  messages: Record<string, Array<Record<string, unknown>>>;
  enums: Record<string, Record<string, number>>;
}

// protobufjs is loaded only when a document has a Protobuf payload.
const require = createRequire(import.meta.url);
let protobufModule: typeof protobuf | undefined;
function pb(): typeof protobuf {
  protobufModule ??= require('protobufjs') as typeof protobuf;
  return protobufModule;
}

/** `application/vnd.google.protobuf`, with or without parameters (`;version=3`). */
export function isProtobufFormat(format: string): boolean {
  return /^application\/vnd\.google\.protobuf(\s*;.*)?$/i.test(format.trim());
}

/** The message extension that names the payload's message when it is not the file's first. */
export const MESSAGE_EXTENSION = 'x-protobuf-message';

/** What the run-time codec of one Protobuf message is given (runtime/protobuf/payload.ts `ProtobufMessageSchema`). */
export interface ProtobufPayload {
  /** The payload's type name in the model's schemas. */
  typeName: string;
  /** The descriptor, the `.proto` text and the message indexes, as JSON text. */
  schema: string;
}

const INT32 = { type: 'integer', minimum: -2147483648, maximum: 2147483647 };
const UINT32 = { type: 'integer', minimum: 0, maximum: 4294967295 };
/** 64-bit integers are numbers: a JavaScript number holds integers exactly up to 2^53 - 1. */
const INT64 = { type: 'integer', minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER };
const UINT64 = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER };

const SCALARS: Record<string, JsonSchema> = {
  double: { type: 'number' },
  float: { type: 'number' },
  int32: INT32,
  sint32: INT32,
  sfixed32: INT32,
  uint32: UINT32,
  fixed32: UINT32,
  int64: INT64,
  sint64: INT64,
  sfixed64: INT64,
  uint64: UINT64,
  fixed64: UINT64,
  bool: { type: 'boolean' },
  string: { type: 'string' },
  bytes: { tsType: 'Uint8Array', [BYTES_KEYWORD]: true },
};

/** Map keys are object keys (text): an integer key is its decimal text, a bool key `true` or `false`. */
function mapKeys(keyType: string): JsonSchema | undefined {
  if (keyType === 'string') return undefined;
  if (keyType === 'bool') return { enum: ['true', 'false'] };
  return { pattern: keyType.startsWith('u') || keyType.startsWith('fixed') ? '^[0-9]+$' : '^-?[0-9]+$' };
}

/**
 * Protobuf payloads as JSON Schema definitions, so types.ts and the validators come from the same
 * generators as JSON Schema payloads: a message is a closed object whose fields without presence
 * (proto3 scalars, repeated, maps) are required and whose fields with presence (messages, oneof
 * members, `optional`) are optional; enums are unions of their value names; 64-bit integers are
 * numbers in JavaScript's safe range. The `.proto` is parsed here, once, by protobufjs; the run time
 * gets a descriptor of the messages the payload reaches (no parser, no library at run time).
 */
export class ProtobufTypes {
  /** Full name → definition name and the descriptor text it was made from. */
  private readonly named = new Map<string, { name: string; text: string }>();
  private readonly shortNames = new Map<string, string>();

  constructor(private readonly schemas: SchemaRegistry) {}

  addPayload(raw: unknown, schemaFormat: string, messageName: string | undefined, origin: Origin): ProtobufPayload {
    if (typeof raw !== 'string') {
      throw documentError('E_PROTOBUF_SCHEMA', 'a Protobuf payload must be the .proto source: a string, or a $ref to a .proto file', origin);
    }
    const proto = withSyntax(raw, schemaFormat);
    const file = parseProto(proto, origin);
    const message = payloadMessage(file, messageName, origin);
    const descriptor: ProtobufDescriptor = { message: message.fullName, messages: {}, enums: {} };
    collect(message, descriptor);
    const typeName = this.messageType(message, descriptor, origin);
    const messageIndexes = [file.indexOf(message)];
    return { typeName, schema: JSON.stringify({ descriptor, proto, messageIndexes }) };
  }

  private messageType(type: protobuf.Type, descriptor: ProtobufDescriptor, origin: Origin): string {
    const text = JSON.stringify(descriptor.messages[type.fullName]);
    const known = this.named.get(type.fullName);
    if (known && known.text === text) return known.name;
    const name = this.claim(type, known, text, origin);
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const field of type.fieldsArray) {
      Object.defineProperty(properties, field.name, { value: this.field(field, descriptor, origin), enumerable: true, writable: true, configurable: true });
      if (!hasPresence(field) || field.required) required.push(field.name);
    }
    this.schemas.definitions[name] = {
      type: 'object',
      properties,
      required,
      additionalProperties: false,
      ...oneofRule(type),
      ...comment(type.comment),
    };
    return name;
  }

  private enumType(type: protobuf.Enum, origin: Origin): string {
    const text = JSON.stringify(type.values);
    const known = this.named.get(type.fullName);
    if (known && known.text === text) return known.name;
    const name = this.claim(type, known, text, origin);
    this.schemas.definitions[name] = { type: 'string', enum: Object.keys(type.values), ...comment(type.comment) };
    return name;
  }

  /** A definition name: the short name, or the full name when another package took the short one. */
  private claim(type: protobuf.ReflectionObject, known: { name: string } | undefined, text: string, origin: Origin): string {
    const fullName = type.fullName.replace(/^\./, '');
    const owner = this.shortNames.get(type.name);
    const suggested = owner === undefined || owner === fullName ? type.name : fullName;
    this.shortNames.set(type.name, owner ?? fullName);
    const name = this.schemas.addSynthetic(pascalCase(suggested, 'ProtobufType'), true, origin);
    if (!known) this.named.set(type.fullName, { name, text });
    return name;
  }

  private field(field: protobuf.Field, descriptor: ProtobufDescriptor, origin: Origin): JsonSchema {
    const value = this.valueSchema(field.resolvedType, field.type, descriptor, origin);
    let schema: JsonSchema;
    if (field instanceof pb().MapField) {
      const keys = mapKeys(field.keyType);
      schema = { type: 'object', additionalProperties: value, ...(keys ? { propertyNames: keys } : {}) };
    } else if (field.repeated) schema = { type: 'array', items: value };
    else schema = value;
    const text = [field.comment, defaultNote(field)].filter(Boolean).join('\n\n');
    if (!text) return schema;
    // A reference takes no sibling keywords in every draft: the comment goes on a wrapper.
    return typeof schema === 'object' && schema.$ref !== undefined ? { allOf: [schema], description: schemaDescription(text) } : { ...(schema as object), description: schemaDescription(text) };
  }

  private valueSchema(resolved: protobuf.Type | protobuf.Enum | null, scalar: string, descriptor: ProtobufDescriptor, origin: Origin): JsonSchema {
    if (resolved instanceof pb().Type) return { $ref: `#/definitions/${this.messageType(resolved, descriptor, origin)}` };
    if (resolved instanceof pb().Enum) return { $ref: `#/definitions/${this.enumType(resolved, origin)}` };
    return SCALARS[scalar] ?? {};
  }
}

/**
 * A `.proto` without a `syntax` statement is proto2 to every parser; when the schemaFormat says
 * `version=3`, the statement is put in front (on the first line, so error lines stay right), and
 * that text is what is registered.
 */
function withSyntax(text: string, schemaFormat: string): string {
  if (/^\s*(syntax|edition)\s*=/m.test(text) || !/;\s*version\s*=\s*3\b/i.test(schemaFormat)) return text;
  return `syntax = "proto3"; ${text}`;
}

/** The file's top-level messages in order, every type they use resolved (the well-known types it imports included). */
function parseProto(text: string, origin: Origin): protobuf.Type[] {
  let parsed: protobuf.IParserResult;
  try {
    parsed = pb().parse(text, { keepCase: false, alternateCommentMode: true });
  } catch (error) {
    throw documentError('E_PROTOBUF_SCHEMA', `the Protobuf payload cannot be read: ${(error as Error).message}`, origin);
  }
  const { root } = parsed;
  const namespace = parsed.package ? root.lookup(parsed.package) : root;
  // The file's own messages, before the imports add theirs.
  const file = (namespace instanceof pb().Namespace ? namespace.nestedArray : []).filter((n): n is protobuf.Type => n instanceof pb().Type);
  for (const name of [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]) {
    const wellKnown = pb().common.get(name);
    if (!wellKnown) {
      throw documentError('E_PROTOBUF_IMPORT', `the Protobuf payload imports "${name}": only the well-known types (google/protobuf/*.proto) can be imported; put the messages it needs in the same .proto`, origin);
    }
    root.addJSON(wellKnown.nested ?? {});
  }
  try {
    root.resolveAll();
  } catch (error) {
    throw documentError('E_PROTOBUF_SCHEMA', `the Protobuf payload cannot be read: ${(error as Error).message}`, origin);
  }
  return file;
}

/** The payload's message: the one `x-protobuf-message` names (short or full name), else the file's first. */
function payloadMessage(file: protobuf.Type[], name: string | undefined, origin: Origin): protobuf.Type {
  if (file.length === 0) throw documentError('E_PROTOBUF_MESSAGE', 'the Protobuf payload declares no message', origin);
  if (name === undefined) return file[0]!;
  const wanted = name.replace(/^\./, '');
  const found = file.find((t) => t.name === wanted || t.fullName === `.${wanted}`);
  if (!found) {
    throw documentError('E_PROTOBUF_MESSAGE', `${MESSAGE_EXTENSION} names "${name}", which is not a top-level message of the .proto (it has ${file.map((t) => t.name).join(', ')})`, origin);
  }
  return found;
}

/** Fills the descriptor with a message and every message and enum it reaches. */
function collect(type: protobuf.Type, descriptor: ProtobufDescriptor): void {
  if (descriptor.messages[type.fullName]) return;
  const fields: Array<Record<string, unknown>> = [];
  descriptor.messages[type.fullName] = fields;
  for (const field of type.fieldsArray) {
    const resolved = field.resolvedType;
    fields.push({
      name: field.name,
      id: field.id,
      type: resolved ? resolved.fullName : field.type,
      ...(field.repeated ? { repeated: true as const } : {}),
      ...(field.repeated && field.packed && !(resolved instanceof pb().Type) && field.type !== 'string' && field.type !== 'bytes' ? { packed: true as const } : {}),
      ...(field instanceof pb().MapField ? { keyType: field.keyType } : {}),
      ...(hasPresence(field) ? { presence: true as const } : {}),
      ...(field.partOf && !isSyntheticOneof(field.partOf) ? { oneof: field.partOf.name } : {}),
    });
    if (resolved instanceof pb().Type) collect(resolved, descriptor);
    else if (resolved instanceof pb().Enum) descriptor.enums[resolved.fullName] = { ...resolved.values };
  }
}

/** Messages, oneof members, proto3 `optional` and proto2 optional/required fields track presence. */
function hasPresence(field: protobuf.Field): boolean {
  if (field.repeated || field instanceof pb().MapField) return false;
  if (field.resolvedType instanceof pb().Type || field.partOf) return true;
  const features = (field as unknown as { _features?: { field_presence?: string } })._features;
  return features?.field_presence !== 'IMPLICIT';
}

/** proto3 `optional` is a oneof of one field that protobufjs names `_<field>`. */
function isSyntheticOneof(oneof: protobuf.OneOf): boolean {
  return oneof.fieldsArray.length === 1 && oneof.fieldsArray[0]!.options?.proto3_optional === true;
}

/** At most one member of each oneof is set: each member forbids the others. */
function oneofRule(type: protobuf.Type): { dependencies?: Record<string, JsonSchema> } {
  const rules: Record<string, JsonSchema> = {};
  for (const oneof of type.oneofsArray) {
    if (isSyntheticOneof(oneof)) continue;
    const members = oneof.fieldsArray.map((f) => f.name);
    for (const member of members) {
      const others = members.filter((m) => m !== member);
      if (others.length > 0) rules[member] = { not: { anyOf: others.map((other) => ({ required: [other] })) }, description: `oneof ${oneof.name}: at most one of ${members.join(', ')}` };
    }
  }
  return Object.keys(rules).length > 0 ? { dependencies: rules } : {};
}

function defaultNote(field: protobuf.Field): string | undefined {
  const declared = field.options?.default;
  return declared === undefined ? undefined : `Default: ${JSON.stringify(declared)} (proto2; an absent field stays absent).`;
}

function comment(text: string | null | undefined): { description?: string } {
  return text ? { description: schemaDescription(text) } : {};
}
