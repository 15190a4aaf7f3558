/**
 * Avro binary encoding (Avro 1.11 specification) for the generated clients: writing with the
 * document's schema, and reading data written with another version of it (schema resolution: a
 * field added with a default, a field removed, a promoted type, an enum symbol the reader lacks
 * falling back to its default). The schema is interpreted, never compiled into code: the same
 * functions serve every message. Values are what the generated types say: records are plain
 * objects, unions are their branch's value (the first branch that fits is written), bytes and
 * fixed are Uint8Array, longs are numbers (integers up to 2^53), decimals are decimal text.
 */

/** A parsed schema node; named types are resolved, so records may be recursive. */
export type AvroType =
  | { type: 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'string'; logicalType?: string }
  | { type: 'bytes'; logicalType?: string; scale: number }
  | { type: 'fixed'; name: string; aliases: string[]; size: number; logicalType?: string; scale: number }
  | { type: 'enum'; name: string; aliases: string[]; symbols: string[]; default?: string }
  | { type: 'array'; items: AvroType }
  | { type: 'map'; values: AvroType }
  | { type: 'union'; branches: AvroType[] }
  | { type: 'record'; name: string; aliases: string[]; fields: AvroFieldType[] };

export interface AvroFieldType {
  name: string;
  aliases: string[];
  type: AvroType;
  hasDefault: boolean;
  default?: unknown;
}

/** Data that cannot be written or read with a schema: where (a JSON pointer) and why. */
export class AvroError extends Error {
  constructor(
    public pointer: string,
    readonly reason: string,
  ) {
    super(`${pointer || '/'} ${reason}`);
    this.name = 'AvroError';
  }

  /** The same error one level up: the pointer is built while unwinding, so a valid value costs nothing. */
  within(segment: string | number): AvroError {
    this.pointer = `/${String(segment).replace(/~/g, '~0').replace(/\//g, '~1')}${this.pointer}`;
    this.message = `${this.pointer} ${this.reason}`;
    return this;
  }
}

function within(error: unknown, segment: string | number): unknown {
  return error instanceof AvroError ? error.within(segment) : error;
}

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

/** Parses an Avro schema (JSON text or value); throws AvroError on a schema it cannot read. */
export function parseAvroSchema(schema: unknown): AvroType {
  const named = new Map<string, AvroType>();
  const pending: Array<() => void> = [];
  const root = parseNode(
    typeof schema === 'string' && /^\s*[[{"]/.test(schema) ? JSON.parse(schema) : schema,
    undefined,
    named,
    pending,
  );
  for (const resolve of pending) resolve();
  return root;
}

function parseNode(
  raw: unknown,
  namespace: string | undefined,
  named: Map<string, AvroType>,
  pending: Array<() => void>,
): AvroType {
  if (typeof raw === 'string') {
    if (PRIMITIVES.has(raw)) return primitiveType(raw, {});
    const fullName = qualify(raw, namespace);
    const known = named.get(fullName) ?? named.get(raw);
    if (known) return known;
    // A name used before its definition ends (a recursive record): filled in once all are known.
    const placeholder = {} as AvroType;
    pending.push(() => {
      const target = named.get(fullName) ?? named.get(raw);
      if (!target) throw new AvroError('', `unknown Avro type ${JSON.stringify(raw)}`);
      Object.assign(placeholder, target);
    });
    return placeholder;
  }
  if (Array.isArray(raw)) return { type: 'union', branches: raw.map((b) => parseNode(b, namespace, named, pending)) };
  if (raw === null || typeof raw !== 'object') throw new AvroError('', 'not an Avro schema');
  const node = raw as Record<string, unknown>;
  if (typeof node.type === 'object' && node.type !== null) return parseNode(node.type, namespace, named, pending);
  const type = String(node.type);
  if (PRIMITIVES.has(type)) return primitiveType(type, node);
  if (type === 'array') return { type: 'array', items: parseNode(node.items, namespace, named, pending) };
  if (type === 'map') return { type: 'map', values: parseNode(node.values, namespace, named, pending) };
  if (type !== 'record' && type !== 'error' && type !== 'enum' && type !== 'fixed')
    return parseNode(type, namespace, named, pending);
  const fullName = qualify(String(node.name), typeof node.namespace === 'string' ? node.namespace : namespace);
  const inner = fullName.includes('.') ? fullName.slice(0, fullName.lastIndexOf('.')) : undefined;
  const aliases = Array.isArray(node.aliases) ? node.aliases.map((a) => qualify(String(a), inner)) : [];
  let result: AvroType;
  if (type === 'enum') {
    const symbols = Array.isArray(node.symbols) ? node.symbols.map(String) : [];
    result = {
      type: 'enum',
      name: fullName,
      aliases,
      symbols,
      default: typeof node.default === 'string' ? node.default : undefined,
    };
  } else if (type === 'fixed') {
    result = {
      type: 'fixed',
      name: fullName,
      aliases,
      size: Number(node.size),
      logicalType: logicalOf(node),
      scale: scaleOf(node),
    };
  } else {
    const record: Extract<AvroType, { type: 'record' }> = { type: 'record', name: fullName, aliases, fields: [] };
    named.set(fullName, record); // before the fields: they may refer to the record itself
    const fields = Array.isArray(node.fields) ? (node.fields as Array<Record<string, unknown>>) : [];
    record.fields = fields.map((field) => ({
      name: String(field.name),
      aliases: Array.isArray(field.aliases) ? field.aliases.map(String) : [],
      type: parseNode(field.type, inner, named, pending),
      hasDefault: Object.prototype.hasOwnProperty.call(field, 'default'),
      default: field.default,
    }));
    return record;
  }
  named.set(fullName, result);
  return result;
}

function primitiveType(type: string, node: Record<string, unknown>): AvroType {
  if (type === 'bytes') return { type: 'bytes', logicalType: logicalOf(node), scale: scaleOf(node) };
  return { type: type as 'null', logicalType: logicalOf(node) };
}

function logicalOf(node: Record<string, unknown>): string | undefined {
  return typeof node.logicalType === 'string' ? node.logicalType : undefined;
}

function scaleOf(node: Record<string, unknown>): number {
  return typeof node.scale === 'number' ? node.scale : 0;
}

function qualify(name: string, namespace: string | undefined): string {
  return name.includes('.') || !namespace ? name : `${namespace}.${name}`;
}

// ---- writing ------------------------------------------------------------------------------------

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** A growing byte buffer. */
class Writer {
  private bytes = new Uint8Array(256);
  private view = new DataView(this.bytes.buffer);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }

  byte(b: number): void {
    this.room(1);
    this.bytes[this.length++] = b;
  }

  raw(data: Uint8Array): void {
    this.room(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  /** UTF-8 text, length first; ASCII (most text) is copied byte by byte without an encoder call. */
  text(value: string): void {
    if (value.length < 64 && /^[\x00-\x7f]*$/.test(value)) {
      this.long(value.length);
      this.room(value.length);
      for (let i = 0; i < value.length; i++) this.bytes[this.length++] = value.charCodeAt(i);
      return;
    }
    const bytes = utf8.encode(value);
    this.long(bytes.length);
    this.raw(bytes);
  }

  /** Zig-zag variable-length integer; exact up to 2^53 (numbers are doubles). */
  long(n: number): void {
    let z = n >= 0 ? n * 2 : -n * 2 - 1;
    this.room(10);
    while (z >= 0x80) {
      this.bytes[this.length++] = (z % 0x80) | 0x80;
      z = Math.floor(z / 0x80);
    }
    this.bytes[this.length++] = z;
  }

  float(n: number, size: 4 | 8): void {
    this.room(size);
    if (size === 4) this.view.setFloat32(this.length, n, true);
    else this.view.setFloat64(this.length, n, true);
    this.length += size;
  }

  result(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

/** Writes a value with a schema; throws AvroError naming the field that does not fit. */
export function encodeAvro(type: AvroType, value: unknown): Uint8Array {
  const writer = new Writer();
  write(type, value, writer);
  return writer.result();
}

function write(type: AvroType, value: unknown, out: Writer): void {
  switch (type.type) {
    case 'null':
      if (value !== null) throw new AvroError('', 'must be null');
      return;
    case 'boolean':
      if (typeof value !== 'boolean') throw new AvroError('', 'must be a boolean');
      return out.byte(value ? 1 : 0);
    case 'int':
    case 'long':
      if (!fitsInteger(type.type, value)) throw new AvroError('', `must be an Avro ${type.type}`);
      return out.long(value as number);
    case 'float':
    case 'double':
      if (typeof value !== 'number') throw new AvroError('', 'must be a number');
      return out.float(value, type.type === 'float' ? 4 : 8);
    case 'string':
      if (typeof value !== 'string') throw new AvroError('', 'must be a string');
      return out.text(value);
    case 'bytes':
      return writeBytes(bytesOf(type, value), out);
    case 'fixed': {
      const bytes = bytesOf(type, value);
      if (bytes.length !== type.size) throw new AvroError('', `must be ${type.size} bytes`);
      return out.raw(bytes);
    }
    case 'enum': {
      const index = typeof value === 'string' ? type.symbols.indexOf(value) : -1;
      if (index < 0) throw new AvroError('', `must be one of ${type.symbols.join(', ')}`);
      return out.long(index);
    }
    case 'array':
      if (!Array.isArray(value)) throw new AvroError('', 'must be an array');
      if (value.length > 0) {
        out.long(value.length);
        for (let i = 0; i < value.length; i++) {
          try {
            write(type.items, value[i], out);
          } catch (error) {
            throw within(error, i);
          }
        }
      }
      return out.byte(0);
    case 'map': {
      if (!isPlainObject(value)) throw new AvroError('', 'must be an object');
      const keys = Object.keys(value);
      if (keys.length > 0) {
        out.long(keys.length);
        for (const key of keys) {
          out.text(key);
          try {
            write(type.values, value[key], out);
          } catch (error) {
            throw within(error, key);
          }
        }
      }
      return out.byte(0);
    }
    case 'union': {
      const index = type.branches.findIndex((branch) => fits(branch, value));
      if (index < 0) throw new AvroError('', 'matches no branch of the union');
      out.long(index);
      return write(type.branches[index]!, value, out);
    }
    case 'record': {
      if (!isPlainObject(value)) throw new AvroError('', 'must be an object');
      for (const field of type.fields) {
        const given = value[field.name];
        const fieldValue = given === undefined && field.hasDefault ? defaultValue(field.type, field.default) : given;
        try {
          write(field.type, fieldValue, out);
        } catch (error) {
          throw within(error, field.name);
        }
      }
      return;
    }
  }
}

function writeBytes(bytes: Uint8Array, out: Writer): void {
  out.long(bytes.length);
  out.raw(bytes);
}

function bytesOf(type: Extract<AvroType, { scale: number }>, value: unknown): Uint8Array {
  if (type.logicalType === 'decimal') {
    if (typeof value !== 'string' || !/^-?[0-9]+(\.[0-9]+)?$/.test(value))
      throw new AvroError('', 'must be decimal text');
    const size = type.type === 'fixed' ? type.size : undefined;
    return decimalBytes(value, type.scale, size);
  }
  if (!(value instanceof Uint8Array)) throw new AvroError('', 'must be a Uint8Array');
  return value;
}

/** Whether a value can be written with a branch (the first that can is chosen). */
function fits(type: AvroType, value: unknown): boolean {
  switch (type.type) {
    case 'null':
      return value === null;
    case 'boolean':
      return typeof value === 'boolean';
    case 'int':
    case 'long':
      return fitsInteger(type.type, value);
    case 'float':
    case 'double':
      return typeof value === 'number';
    case 'string':
      return typeof value === 'string';
    case 'enum':
      return typeof value === 'string' && type.symbols.includes(value);
    case 'bytes':
    case 'fixed':
      return type.logicalType === 'decimal'
        ? typeof value === 'string'
        : value instanceof Uint8Array && (type.type === 'bytes' || value.length === type.size);
    case 'array':
      return Array.isArray(value);
    case 'map':
      return isPlainObject(value);
    case 'record':
      return (
        isPlainObject(value) &&
        type.fields.every((f) => (value[f.name] === undefined ? f.hasDefault : fits(f.type, value[f.name])))
      );
    case 'union':
      return type.branches.some((b) => fits(b, value));
  }
}

function fitsInteger(type: 'int' | 'long', value: unknown): boolean {
  if (typeof value !== 'number' || !Number.isInteger(value)) return false;
  return type === 'int' ? value >= -2147483648 && value <= 2147483647 : Number.isSafeInteger(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** A field's default (JSON, as the schema writes it) as a value of the field's type. */
function defaultValue(type: AvroType, value: unknown): unknown {
  switch (type.type) {
    case 'union':
      return defaultValue(type.branches[0]!, value); // a union's default is of its first branch
    case 'bytes':
    case 'fixed':
      if (type.logicalType === 'decimal') return value;
      return typeof value === 'string' ? Uint8Array.from(value, (c) => c.charCodeAt(0) & 0xff) : value;
    case 'array':
      return Array.isArray(value) ? value.map((item) => defaultValue(type.items, item)) : value;
    case 'map':
      return isPlainObject(value) ? mapValues(value, (v) => defaultValue(type.values, v)) : value;
    case 'record': {
      if (!isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      for (const field of type.fields) {
        const given = value[field.name] === undefined ? field.default : value[field.name];
        setOwn(out, field.name, defaultValue(field.type, given));
      }
      return out;
    }
    default:
      return value;
  }
}

function mapValues(value: Record<string, unknown>, map: (v: unknown) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) setOwn(out, key, map(value[key]));
  return out;
}

/** Sets a property even when its name is `__proto__` (a map key may be anything). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

// ---- decimals -----------------------------------------------------------------------------------

function decimalBytes(text: string, scale: number, size: number | undefined): Uint8Array {
  const [whole, fraction = ''] = text.replace('-', '').split('.');
  if (fraction.length > scale) throw new AvroError('', `has more than ${scale} digits after the point`);
  let unscaled = BigInt(whole + fraction.padEnd(scale, '0'));
  if (text.startsWith('-')) unscaled = -unscaled;
  // Two's complement, big-endian, as few bytes as hold the sign (or exactly `size`).
  const bytes: number[] = [];
  let rest = unscaled;
  do {
    bytes.unshift(Number(rest & 0xffn));
    rest >>= 8n;
  } while (!(rest === 0n && (bytes[0]! & 0x80) === 0) && !(rest === -1n && (bytes[0]! & 0x80) !== 0));
  if (size !== undefined) {
    if (bytes.length > size) throw new AvroError('', `does not fit in ${size} bytes`);
    while (bytes.length < size) bytes.unshift(unscaled < 0n ? 0xff : 0);
  }
  return Uint8Array.from(bytes);
}

function decimalText(bytes: Uint8Array, scale: number): string {
  let unscaled = 0n;
  for (const b of bytes) unscaled = (unscaled << 8n) | BigInt(b);
  if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) unscaled -= 1n << BigInt(bytes.length * 8);
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return negative ? `-${text}` : text;
}

// ---- reading, with schema resolution -------------------------------------------------------------

/** A body that cannot be read: cut short, or holding something the schema does not allow. */
export class AvroReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AvroReadError';
  }
}

class Reader {
  offset = 0;
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): void {
    if (n < 0 || this.offset + n > this.bytes.length) throw new AvroReadError('the body is truncated');
  }

  byte(): number {
    this.need(1);
    return this.bytes[this.offset++]!;
  }

  take(n: number): Uint8Array {
    this.need(n);
    const slice = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return slice;
  }

  long(): number {
    let result = 0;
    let factor = 1;
    for (let shift = 0; shift < 64; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * factor;
      if ((b & 0x80) === 0) {
        const value = result % 2 === 0 ? result / 2 : -(result + 1) / 2;
        if (!Number.isSafeInteger(value)) throw new AvroReadError('a long beyond 2^53 cannot be read exactly');
        return value;
      }
      factor *= 0x80;
    }
    throw new AvroReadError('a variable-length integer is longer than 10 bytes');
  }

  float(size: 4 | 8): number {
    this.need(size);
    const value = size === 4 ? this.view.getFloat32(this.offset, true) : this.view.getFloat64(this.offset, true);
    this.offset += size;
    return value;
  }

  /** A length-prefixed byte string; its length is checked before anything is allocated. */
  bytes_(): Uint8Array {
    return this.take(this.long());
  }
}

/**
 * Reads a body written with `writer` as a value of `reader` (Avro schema resolution). Throws
 * AvroReadError on a truncated body, trailing bytes, or data the reader cannot take.
 */
export function decodeAvro(writer: AvroType, reader: AvroType, body: Uint8Array): unknown {
  const input = new Reader(body);
  const value = read(writer, reader, input);
  if (input.offset !== body.length) throw new AvroReadError(`${body.length - input.offset} bytes left after the value`);
  return value;
}

function read(writer: AvroType, reader: AvroType, input: Reader): unknown {
  if (writer.type === 'union') {
    const index = input.long();
    const branch = writer.branches[index];
    if (!branch) throw new AvroReadError(`union branch ${index} does not exist`);
    return read(branch, reader, input);
  }
  if (reader.type === 'union') {
    const branch =
      reader.branches.find((b) => matches(writer, b, true)) ?? reader.branches.find((b) => matches(writer, b, false));
    if (!branch) throw new AvroReadError(`the reader's union has no branch for the writer's ${writer.type}`);
    return read(writer, branch, input);
  }
  if (!matches(writer, reader, false))
    throw new AvroReadError(`the writer's ${writer.type} cannot be read as ${reader.type}`);
  switch (writer.type) {
    case 'null':
      return null;
    case 'boolean': {
      const b = input.byte();
      if (b !== 0 && b !== 1) throw new AvroReadError('a boolean byte is neither 0 nor 1');
      return b === 1;
    }
    case 'int':
    case 'long':
      return input.long();
    case 'float':
    case 'double':
      return input.float(writer.type === 'float' ? 4 : 8);
    case 'string':
    case 'bytes':
      return bytesAs(reader, input.bytes_());
    case 'fixed':
      return bytesAs(reader, input.take(writer.size));
    case 'enum': {
      const symbol = writer.symbols[input.long()];
      if (symbol === undefined) throw new AvroReadError('an enum index is out of range');
      const symbols = (reader as typeof writer).symbols;
      if (symbols.includes(symbol)) return symbol;
      const fallback = (reader as typeof writer).default;
      if (fallback === undefined) throw new AvroReadError(`enum symbol ${symbol} is unknown to the reader`);
      return fallback;
    }
    case 'array': {
      const items: unknown[] = [];
      forEachBlock(input, () => items.push(read(writer.items, (reader as typeof writer).items, input)));
      return items;
    }
    case 'map': {
      const out: Record<string, unknown> = {};
      forEachBlock(input, () => {
        const key = text(input.bytes_());
        setOwn(out, key, read(writer.values, (reader as typeof writer).values, input));
      });
      return out;
    }
    case 'record':
      return readRecord(writer, reader as typeof writer, input);
  }
}

type RecordType = Extract<AvroType, { type: 'record' }>;

/** How a writer's record maps onto a reader's: worked out once per pair of schemas. */
interface RecordPlan {
  /** Per writer field: the reader's field it fills, or undefined (skipped). */
  targets: Array<AvroFieldType | undefined>;
  /** Reader fields the writer does not have: filled from their defaults. */
  defaults: AvroFieldType[];
}

const plans = new WeakMap<RecordType, WeakMap<RecordType, RecordPlan>>();

function planOf(writer: RecordType, reader: RecordType): RecordPlan {
  let byReader = plans.get(writer);
  if (!byReader) plans.set(writer, (byReader = new WeakMap()));
  let plan = byReader.get(reader);
  if (!plan) {
    const targets = writer.fields.map((field) =>
      reader.fields.find((f) => f.name === field.name || f.aliases.includes(field.name)),
    );
    const defaults = reader.fields.filter((field) => !targets.includes(field));
    for (const field of defaults) {
      if (!field.hasDefault) throw new AvroReadError(`field ${field.name} is not written and has no default`);
    }
    plan = { targets, defaults };
    byReader.set(reader, plan);
  }
  return plan;
}

function readRecord(writer: RecordType, reader: RecordType, input: Reader): Record<string, unknown> {
  const plan = planOf(writer, reader);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < writer.fields.length; i++) {
    const field = writer.fields[i]!;
    const target = plan.targets[i];
    if (target) setOwn(out, target.name, read(field.type, target.type, input));
    else skip(field.type, input);
  }
  for (const field of plan.defaults) setOwn(out, field.name, defaultValue(field.type, field.default));
  return out;
}

/** Reads past a value the reader has no field for. */
function skip(type: AvroType, input: Reader): void {
  read(type, type, input);
}

const MAX_EMPTY_ITEMS = 65_536;

function forEachBlock(input: Reader, each: () => void): void {
  for (let count = input.long(); count !== 0; count = input.long()) {
    if (count < 0) {
      count = -count;
      input.long(); // the block's size in bytes, for skipping: read item by item instead
    }
    // A hostile count must not spin: every item but a null takes a byte, so more items than bytes
    // left (plus a margin for arrays of nulls) cannot be real.
    if (count > input.bytes.length - input.offset + MAX_EMPTY_ITEMS)
      throw new AvroReadError('a block count is larger than the body');
    for (let i = 0; i < count; i++) each();
  }
}

function bytesAs(reader: AvroType, bytes: Uint8Array): unknown {
  if (reader.type === 'string') return text(bytes);
  if ((reader.type === 'bytes' || reader.type === 'fixed') && reader.logicalType === 'decimal')
    return decimalText(bytes, reader.scale);
  // A copy, and a plain Uint8Array even when the body is a Buffer (whose slice() is a view).
  return new Uint8Array(bytes);
}

function text(bytes: Uint8Array): string {
  // Short ASCII text (most keys and values) without a decoder call.
  if (bytes.length < 64) {
    let ascii = '';
    let i = 0;
    for (; i < bytes.length && bytes[i]! < 0x80; i++) ascii += String.fromCharCode(bytes[i]!);
    if (i === bytes.length) return ascii;
  }
  try {
    return utf8Strict.decode(bytes);
  } catch {
    throw new AvroReadError('a string is not UTF-8');
  }
}

const PROMOTIONS: Record<string, string[]> = {
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  string: ['bytes'],
  bytes: ['string'],
};

/** Whether a reader type takes the writer's (same kind and name, or a promotion); `exact`: no promotion. */
function matches(writer: AvroType, reader: AvroType, exact: boolean): boolean {
  if (writer.type === reader.type) {
    if ('name' in writer && 'name' in reader) return sameName(writer, reader);
    return true;
  }
  return !exact && (PROMOTIONS[writer.type] ?? []).includes(reader.type);
}

function sameName(writer: { name: string }, reader: { name: string; aliases: string[] }): boolean {
  const short = (n: string) => n.slice(n.lastIndexOf('.') + 1);
  return (
    writer.name === reader.name || short(writer.name) === short(reader.name) || reader.aliases.includes(writer.name)
  );
}
