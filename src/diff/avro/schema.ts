/**
 * A small reading of Avro schemas (JSON form) for comparison: names resolved, nodes located,
 * and the reader/writer resolution rules of the Avro specification ("Schema Resolution").
 */

export const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

export type AvroSchema =
  | { kind: 'primitive'; name: string; logicalType?: string; raw: unknown }
  | { kind: 'record'; name: string; fullName: string; aliases: string[]; fields: AvroField[]; doc?: string; raw: Record<string, unknown> }
  | { kind: 'enum'; name: string; fullName: string; aliases: string[]; symbols: string[]; default?: string; doc?: string; raw: Record<string, unknown> }
  | { kind: 'fixed'; name: string; fullName: string; aliases: string[]; size: number; logicalType?: string; raw: Record<string, unknown> }
  | { kind: 'array'; items: AvroRef; raw: Record<string, unknown> }
  | { kind: 'map'; values: AvroRef; raw: Record<string, unknown> }
  | { kind: 'union'; branches: AvroRef[]; raw: unknown[] };

export interface AvroField {
  name: string;
  aliases: string[];
  type: AvroRef;
  hasDefault: boolean;
  default?: unknown;
  doc?: string;
  /** Index in `fields`, for pointers. */
  index: number;
}

/** A schema and where it is written (pointer segments from the payload's root). */
export interface AvroRef {
  schema: AvroSchema;
  at: Array<string | number>;
}

/** All named types of one payload schema, by full name. */
export class AvroNames {
  readonly byFullName = new Map<string, AvroRef>();

  lookup(name: string, namespace: string | undefined): AvroRef | undefined {
    const qualified = name.includes('.') || !namespace ? name : `${namespace}.${name}`;
    return this.byFullName.get(qualified) ?? this.byFullName.get(name) ?? [...this.byFullName.values()].find((r) => 'name' in r.schema && r.schema.name === name);
  }
}

/** Parses raw Avro JSON; throws an Error with a readable message on a schema it cannot read. */
export function readAvro(raw: unknown): { root: AvroRef; names: AvroNames } {
  const names = new AvroNames();
  const pending: Array<() => void> = [];
  const root = parse(raw, [], undefined, names, pending);
  for (const resolve of pending) resolve();
  return { root, names };
}

function parse(raw: unknown, at: Array<string | number>, namespace: string | undefined, names: AvroNames, pending: Array<() => void>): AvroRef {
  if (typeof raw === 'string') {
    if (PRIMITIVES.has(raw)) return { schema: { kind: 'primitive', name: raw, raw }, at };
    // A reference to a named type: resolved once every name is known.
    const ref: AvroRef = { schema: { kind: 'primitive', name: 'null', raw }, at };
    pending.push(() => {
      const target = names.lookup(raw, namespace);
      if (!target) throw new Error(`unknown Avro type "${raw}" at ${pointerOf(at)}`);
      ref.schema = target.schema;
      ref.at = target.at;
    });
    return ref;
  }
  if (Array.isArray(raw)) {
    return { schema: { kind: 'union', branches: raw.map((branch, i) => parse(branch, [...at, i], namespace, names, pending)), raw }, at };
  }
  if (raw === null || typeof raw !== 'object') throw new Error(`not an Avro schema at ${pointerOf(at)}`);
  const record = raw as Record<string, unknown>;
  const type = record.type;
  if (typeof type === 'object' && type !== null) return parse(type, [...at, 'type'], namespace, names, pending);
  if (typeof type !== 'string') throw new Error(`Avro schema without a "type" at ${pointerOf(at)}`);
  const logicalType = typeof record.logicalType === 'string' ? record.logicalType : undefined;
  if (PRIMITIVES.has(type)) return { schema: { kind: 'primitive', name: type, logicalType, raw }, at };
  const named = (): { name: string; fullName: string; aliases: string[]; ns: string | undefined } => {
    if (typeof record.name !== 'string') throw new Error(`Avro ${type} without a name at ${pointerOf(at)}`);
    const ns = typeof record.namespace === 'string' ? record.namespace : namespace;
    const fullName = record.name.includes('.') || !ns ? record.name : `${ns}.${record.name}`;
    const short = fullName.split('.').pop()!;
    const aliases = Array.isArray(record.aliases) ? record.aliases.filter((a): a is string => typeof a === 'string') : [];
    return { name: short, fullName, aliases, ns: fullName.includes('.') ? fullName.slice(0, fullName.lastIndexOf('.')) : undefined };
  };
  switch (type) {
    case 'record':
    case 'error': {
      const { name, fullName, aliases, ns } = named();
      const ref: AvroRef = { schema: { kind: 'record', name, fullName, aliases, fields: [], doc: docOf(record), raw: record }, at };
      names.byFullName.set(fullName, ref);
      if (!Array.isArray(record.fields)) throw new Error(`Avro record ${fullName} without a "fields" list at ${pointerOf(at)}`);
      const fields = record.fields.map((field, index): AvroField => {
        if (field === null || typeof field !== 'object' || typeof (field as Record<string, unknown>).name !== 'string') {
          throw new Error(`Avro record ${fullName} has a field without a name at ${pointerOf([...at, 'fields', index])}`);
        }
        const f = field as Record<string, unknown>;
        return {
          name: f.name as string,
          aliases: Array.isArray(f.aliases) ? f.aliases.filter((a): a is string => typeof a === 'string') : [],
          type: parse(f.type, [...at, 'fields', index, 'type'], ns, names, pending),
          hasDefault: Object.prototype.hasOwnProperty.call(f, 'default'),
          default: f.default,
          doc: docOf(f),
          index,
        };
      });
      (ref.schema as { fields: AvroField[] }).fields = fields;
      return ref;
    }
    case 'enum': {
      const { name, fullName, aliases } = named();
      const symbols = Array.isArray(record.symbols) ? record.symbols.filter((s): s is string => typeof s === 'string') : [];
      const ref: AvroRef = { schema: { kind: 'enum', name, fullName, aliases, symbols, default: typeof record.default === 'string' ? record.default : undefined, doc: docOf(record), raw: record }, at };
      names.byFullName.set(fullName, ref);
      return ref;
    }
    case 'fixed': {
      const { name, fullName, aliases } = named();
      const ref: AvroRef = { schema: { kind: 'fixed', name, fullName, aliases, size: Number(record.size), logicalType, raw: record }, at };
      names.byFullName.set(fullName, ref);
      return ref;
    }
    case 'array':
      return { schema: { kind: 'array', items: parse(record.items, [...at, 'items'], namespace, names, pending), raw: record }, at };
    case 'map':
      return { schema: { kind: 'map', values: parse(record.values, [...at, 'values'], namespace, names, pending), raw: record }, at };
    default: {
      // A reference written as { "type": "com.example.Name" }.
      const ref: AvroRef = { schema: { kind: 'primitive', name: 'null', raw }, at };
      pending.push(() => {
        const target = names.lookup(type, namespace);
        if (!target) throw new Error(`unknown Avro type "${type}" at ${pointerOf(at)}`);
        ref.schema = target.schema;
      });
      return ref;
    }
  }
}

function docOf(record: Record<string, unknown>): string | undefined {
  return typeof record.doc === 'string' ? record.doc : undefined;
}

function pointerOf(at: Array<string | number>): string {
  return '#/' + at.join('/');
}

/** "int", "record Order", "array", "union". */
export function describeAvro(schema: AvroSchema): string {
  switch (schema.kind) {
    case 'primitive':
      return schema.logicalType ? `${schema.name} (${schema.logicalType})` : schema.name;
    case 'record':
    case 'enum':
    case 'fixed':
      return `${schema.kind} ${schema.name}`;
    case 'union':
      return `union of ${schema.branches.map((b) => describeAvro(b.schema)).join(', ')}`;
    default:
      return schema.kind;
  }
}

/** The key under which union branches are matched: a union holds at most one branch per key. */
export function branchKey(schema: AvroSchema): string {
  switch (schema.kind) {
    case 'primitive':
      return schema.name;
    case 'record':
    case 'enum':
    case 'fixed':
      return `${schema.kind}:${schema.name}`;
    default:
      return schema.kind;
  }
}

const PROMOTIONS: Record<string, string[]> = {
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  string: ['bytes'],
  bytes: ['string'],
};

function namesMatch(reader: { name: string; aliases: string[] }, writer: { name: string; fullName: string }): boolean {
  const unqualified = (n: string) => n.split('.').pop()!;
  return reader.name === writer.name || reader.aliases.some((alias) => alias === writer.fullName || unqualified(alias) === writer.name);
}

/** Whether data written with `writer` can be read with `reader` (Avro schema resolution). */
export function canRead(reader: AvroSchema, writer: AvroSchema, seen = new Set<string>()): boolean {
  if (writer.kind === 'union') return writer.branches.every((branch) => canRead(reader, branch.schema, seen));
  if (reader.kind === 'union') return reader.branches.some((branch) => canRead(branch.schema, writer, seen));
  if (reader.kind === 'primitive' && writer.kind === 'primitive') {
    return reader.name === writer.name || (PROMOTIONS[writer.name] ?? []).includes(reader.name);
  }
  if (reader.kind !== writer.kind) return false;
  switch (reader.kind) {
    case 'array':
      return canRead(reader.items.schema, (writer as typeof reader).items.schema, seen);
    case 'map':
      return canRead(reader.values.schema, (writer as typeof reader).values.schema, seen);
    case 'fixed': {
      const w = writer as typeof reader;
      return namesMatch(reader, w) && reader.size === w.size;
    }
    case 'enum': {
      const w = writer as typeof reader;
      if (!namesMatch(reader, w)) return false;
      return reader.default !== undefined || w.symbols.every((symbol) => reader.symbols.includes(symbol));
    }
    case 'record': {
      const w = writer as typeof reader;
      if (!namesMatch(reader, w)) return false;
      const key = `${w.fullName}→${reader.fullName}`;
      if (seen.has(key)) return true;
      seen.add(key);
      for (const field of reader.fields) {
        const written = w.fields.find((f) => f.name === field.name || field.aliases.includes(f.name));
        if (written) {
          if (!canRead(field.type.schema, written.type.schema, seen)) return false;
        } else if (!field.hasDefault) return false;
      }
      return true;
    }
    default:
      return false;
  }
}
