import { documentError } from '../errors.js';
import { isRecord } from '../load/json.js';
import { readAvro, type AvroField, type AvroRef, type AvroSchema } from '../diff/avro/schema.js';
import { pascalCase, schemaDescription } from './names.js';
import type { SchemaRegistry } from './schemas.js';
import type { JsonSchema, Origin } from './types.js';

/** `application/vnd.apache.avro`, with or without `+json`/`+yaml` and parameters (`;version=1.9.0`). */
export function isAvroFormat(format: string): boolean {
  return /^application\/vnd\.apache\.avro(\+(json|yaml))?(\s*;.*)?$/i.test(format.trim());
}

/**
 * The keyword that marks a JSON Schema node as Avro `bytes` (`true`) or `fixed` (its size): the value
 * is a Uint8Array. Only the model writes it; document schemas lose it (DROPPED_KEYWORDS).
 */
export const BYTES_KEYWORD = 'x-codegen-bytes';

const INT32 = { minimum: -2147483648, maximum: 2147483647 };
/** Avro `long` is 64-bit; a JavaScript number holds integers exactly up to 2^53 - 1. */
const SAFE_LONG = { minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER };

/** What each logical type is in TypeScript, said in the type's comment. */
const LOGICAL_DOCS: Record<string, string> = {
  'timestamp-millis': 'Avro timestamp-millis: milliseconds since 1970-01-01T00:00:00Z.',
  'timestamp-micros': 'Avro timestamp-micros: microseconds since 1970-01-01T00:00:00Z.',
  'local-timestamp-millis': 'Avro local-timestamp-millis: milliseconds since 1970-01-01T00:00:00, local time.',
  'local-timestamp-micros': 'Avro local-timestamp-micros: microseconds since 1970-01-01T00:00:00, local time.',
  date: 'Avro date: days since 1970-01-01.',
  'time-millis': 'Avro time-millis: milliseconds after midnight.',
  'time-micros': 'Avro time-micros: microseconds after midnight.',
  uuid: 'Avro uuid: an RFC 4122 UUID as text.',
};

/**
 * Avro payloads as JSON Schema definitions, so types.ts and the validators come from the same
 * generators as JSON Schema payloads: records become closed objects (every field required), enums
 * string enums, unions `anyOf`, maps objects of values, bytes and fixed Uint8Array, `long` an
 * integer in JavaScript's safe range. Each named type (record, enum, fixed) is one definition,
 * shared by every message that uses the same full name; two types with the same short name in
 * different namespaces get names of their own.
 */
export class AvroTypes {
  /** Full Avro name → definition name and the schema text it was made from. */
  private readonly named = new Map<string, { name: string; text: string }>();
  private readonly shortNames = new Map<string, string>();

  constructor(private readonly schemas: SchemaRegistry) {}

  /** Registers the types of one Avro payload and returns the payload's type name. */
  addPayload(raw: unknown, suggested: string, origin: Origin): string {
    let root: AvroRef;
    try {
      root = readAvro(avroSchemaOf(raw, suggested)).root;
    } catch (error) {
      throw documentError('E_AVRO_SCHEMA', `the Avro payload cannot be read: ${(error as Error).message}`, origin);
    }
    if (isNamed(root.schema)) return this.namedType(root.schema, origin);
    return this.schemas.addSynthetic(suggested, this.schemaOf(root.schema, origin), origin);
  }

  private schemaOf(schema: AvroSchema, origin: Origin): JsonSchema {
    switch (schema.kind) {
      case 'primitive':
        return primitive(schema.name, schema.logicalType, schema.raw);
      case 'array':
        return { type: 'array', items: this.schemaOf(schema.items.schema, origin) };
      case 'map':
        return { type: 'object', additionalProperties: this.schemaOf(schema.values.schema, origin) };
      case 'union':
        return { anyOf: schema.branches.map((branch) => this.schemaOf(branch.schema, origin)) };
      default:
        return { $ref: `#/definitions/${this.namedType(schema, origin)}` };
    }
  }

  private namedType(schema: Extract<AvroSchema, { fullName: string }>, origin: Origin): string {
    const text = JSON.stringify(schema.raw);
    const known = this.named.get(schema.fullName);
    if (known && known.text === text) return known.name;
    // Another namespace already took the short name: this one is named after its full name.
    const owner = this.shortNames.get(schema.name);
    const suggested = owner === undefined || owner === schema.fullName ? schema.name : schema.fullName;
    this.shortNames.set(schema.name, owner ?? schema.fullName);
    const name = this.schemas.addSynthetic(pascalCase(suggested, 'AvroType'), true, origin);
    if (!known) this.named.set(schema.fullName, { name, text });
    this.schemas.definitions[name] = this.definition(schema, origin);
    return name;
  }

  private definition(schema: Extract<AvroSchema, { fullName: string }>, origin: Origin): JsonSchema {
    const description = describe(schema.kind === 'fixed' ? undefined : schema.doc, undefined);
    switch (schema.kind) {
      case 'enum':
        return { type: 'string', enum: [...schema.symbols], ...description };
      case 'fixed':
        return fixed(schema.size, schema.logicalType, schema.raw);
      case 'record': {
        const properties: Record<string, JsonSchema> = {};
        for (const field of schema.fields) {
          Object.defineProperty(properties, field.name, { value: this.field(field, origin), enumerable: true, writable: true, configurable: true });
        }
        return { type: 'object', properties, required: schema.fields.map((f) => f.name), additionalProperties: false, ...description };
      }
    }
  }

  private field(field: AvroField, origin: Origin): JsonSchema {
    const schema = this.schemaOf(field.type.schema, origin);
    const note = field.hasDefault ? `Default: ${JSON.stringify(field.default)}.` : undefined;
    const text = [field.doc, ...logicalNotes(field.type.schema), note].filter(Boolean).join('\n\n');
    if (!text) return schema;
    // A reference takes no sibling keywords in every draft: the comment goes on a wrapper.
    return typeof schema === 'object' && schema.$ref !== undefined ? { allOf: [schema], description: schemaDescription(text) } : { ...(schema as object), description: schemaDescription(text) };
  }
}

function primitive(name: string, logicalType: string | undefined, raw: unknown): JsonSchema {
  const logical = logicalType ? describe(undefined, logicalType) : {};
  switch (name) {
    case 'null':
      return { type: 'null' };
    case 'boolean':
      return { type: 'boolean' };
    case 'int':
      return { type: 'integer', ...INT32, ...logical };
    case 'long':
      return { type: 'integer', ...SAFE_LONG, ...logical };
    case 'float':
    case 'double':
      return { type: 'number' };
    case 'string':
      return logicalType === 'uuid' ? { type: 'string', format: 'uuid', ...logical } : { type: 'string' };
    default:
      return logicalType === 'decimal' ? decimal(raw) : { tsType: 'Uint8Array', [BYTES_KEYWORD]: true };
  }
}

function fixed(size: number, logicalType: string | undefined, raw: unknown): JsonSchema {
  if (logicalType === 'decimal') return decimal(raw);
  return { tsType: 'Uint8Array', [BYTES_KEYWORD]: size, description: `Avro fixed: exactly ${size} bytes.` };
}

/** Avro decimal: decimal text ("-12.50"), at most `scale` digits after the point, encoded as the unscaled integer. */
function decimal(raw: unknown): JsonSchema {
  const scale = isRecord(raw) && typeof raw.scale === 'number' ? raw.scale : 0;
  const precision = isRecord(raw) && typeof raw.precision === 'number' ? raw.precision : undefined;
  const fraction = scale > 0 ? `(\\.[0-9]{1,${scale}})?` : '';
  return {
    type: 'string',
    pattern: `^-?[0-9]+${fraction}$`,
    description: `Avro decimal (scale ${scale}${precision ? `, precision ${precision}` : ''}) as decimal text, e.g. "${scale > 0 ? `12.${'5'.padEnd(scale, '0')}` : '12'}".`,
  };
}

function describe(doc: string | undefined, logicalType: string | undefined): { description?: string } {
  const text = [doc, logicalType ? LOGICAL_DOCS[logicalType] : undefined].filter(Boolean).join('\n\n');
  return text ? { description: schemaDescription(text) } : {};
}

/** What the logical types of a field's type (or of its union's branches) mean. */
function logicalNotes(schema: AvroSchema): string[] {
  const branches = schema.kind === 'union' ? schema.branches.map((b) => b.schema) : [schema];
  return branches.flatMap((b) => (b.kind === 'primitive' && b.logicalType && LOGICAL_DOCS[b.logicalType] ? [LOGICAL_DOCS[b.logicalType]!] : []));
}

function isNamed(schema: AvroSchema): schema is Extract<AvroSchema, { fullName: string }> {
  return schema.kind === 'record' || schema.kind === 'enum' || schema.kind === 'fixed';
}

/**
 * The payload's Avro schema as the run-time uses it: a root record without a name (seen in
 * published examples) is named after the message.
 */
export function avroSchemaOf(raw: unknown, suggested: string): unknown {
  if (isRecord(raw) && raw.type === 'record' && raw.name === undefined) return { ...raw, name: suggested };
  return raw;
}
