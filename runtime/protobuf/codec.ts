/**
 * The Protobuf binary encoding, driven by a descriptor that the generator wrote from the document's
 * `.proto` (no `.proto` is parsed at run time, no library is needed). Values are plain objects as the
 * generated types describe them: field names in lowerCamelCase, 64-bit integers as numbers in
 * JavaScript's safe range, enums as their names, bytes as Uint8Array, maps as objects.
 */

/** One field of a message, as the generator describes it. */
export interface ProtobufField {
  name: string;
  id: number;
  /** A scalar type name (`int32`, `string`...), or the full name of a message or enum of the descriptor. */
  type: string;
  repeated?: true;
  /** A repeated scalar written as one length-delimited run. */
  packed?: true;
  /** A map field: the key's scalar type (`type` is the value's). */
  keyType?: string;
  /** Presence is tracked (proto3 `optional`, a oneof member, proto2 optional, a message): absent stays absent. */
  presence?: true;
  /** The oneof this field belongs to: setting it clears the group's other members. */
  oneof?: string;
}

/** The messages and enums a payload reaches, by full name (`.package.Message`). */
export interface ProtobufDescriptor {
  /** The payload's message. */
  message: string;
  messages: Record<string, ProtobufField[]>;
  /** Each enum's value names and numbers; the first is the default. */
  enums: Record<string, Record<string, number>>;
}

/** A value the encoder cannot write (only reached with validation off: the validators refuse it first). */
export class ProtobufError extends Error {
  constructor(
    readonly pointer: string,
    readonly reason: string,
  ) {
    super(`${pointer || '/'} ${reason}`);
    this.name = 'ProtobufError';
  }
}

/** A body that cannot be read: truncated, an overlong varint, invalid UTF-8, a value out of range. */
export class ProtobufReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufReadError';
  }
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;
/** Deeper nesting than this in a received body is refused, not followed (stack exhaustion guard). */
const MAX_DEPTH = 100;

const WIRE_TYPES: Record<string, number> = {
  double: FIXED64,
  float: FIXED32,
  int32: VARINT,
  int64: VARINT,
  uint32: VARINT,
  uint64: VARINT,
  sint32: VARINT,
  sint64: VARINT,
  fixed32: FIXED32,
  fixed64: FIXED64,
  sfixed32: FIXED32,
  sfixed64: FIXED64,
  bool: VARINT,
  string: LENGTH_DELIMITED,
  bytes: LENGTH_DELIMITED,
};

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A descriptor with each enum's names by number, ready to encode and decode. */
export interface ProtobufType {
  descriptor: ProtobufDescriptor;
  enumNames: Map<string, Map<number, string>>;
}

export function protobufType(descriptor: ProtobufDescriptor): ProtobufType {
  const enumNames = new Map<string, Map<number, string>>();
  for (const [name, values] of Object.entries(descriptor.enums)) {
    const byNumber = new Map<number, string>();
    // With allow_alias, several names share a number: the first is the one read back.
    for (const [symbol, number] of Object.entries(values)) if (!byNumber.has(number)) byNumber.set(number, symbol);
    enumNames.set(name, byNumber);
  }
  return { descriptor, enumNames };
}

// ---------------------------------------------------------------------------------------------
// Encoding

class Writer {
  private buffer = new Uint8Array(256);
  length = 0;

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + bytes));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  /** An unsigned varint of at most 32 bits. */
  varint32(value: number): void {
    let v = value >>> 0;
    while (v > 0x7f) {
      this.byte((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    this.byte(v);
  }

  /** An unsigned varint of up to 64 bits. */
  varint64(value: bigint): void {
    let v = BigInt.asUintN(64, value);
    while (v > 0x7fn) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  fixed(bytes: number, write: (view: DataView) => void): void {
    this.reserve(bytes);
    write(new DataView(this.buffer.buffer, this.buffer.byteOffset + this.length, bytes));
    this.length += bytes;
  }

  bytes(value: Uint8Array): void {
    this.varint32(value.length);
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  tag(id: number, wireType: number): void {
    this.varint32(((id << 3) | wireType) >>> 0);
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

/** Writes a payload as the descriptor's message. Throws ProtobufError for a value of the wrong type. */
export function encodeProtobuf(type: ProtobufType, value: unknown): Uint8Array {
  const writer = new Writer();
  writeMessage(type, type.descriptor.message, value, '', writer);
  return writer.finish();
}

function writeMessage(type: ProtobufType, name: string, value: unknown, pointer: string, writer: Writer): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ProtobufError(pointer, 'must be an object');
  const record = value as Record<string, unknown>;
  for (const field of type.descriptor.messages[name] ?? []) {
    const item = Object.prototype.hasOwnProperty.call(record, field.name) ? record[field.name] : undefined;
    const at = `${pointer}/${field.name}`;
    if (field.keyType !== undefined) writeMap(type, field, item, at, writer);
    else if (field.repeated) writeRepeated(type, field, item, at, writer);
    else if (item !== undefined && (field.presence || !isDefault(type, field, item))) {
      writeValue(type, field, field.type, item, at, writer);
    }
  }
}

function writeRepeated(
  type: ProtobufType,
  field: ProtobufField,
  items: unknown,
  pointer: string,
  writer: Writer,
): void {
  if (items === undefined) return;
  if (!Array.isArray(items)) throw new ProtobufError(pointer, 'must be an array');
  if (field.packed && items.length > 0) {
    const run = new Writer();
    items.forEach((item, i) => writeBare(type, field.type, item, `${pointer}/${i}`, run));
    writer.tag(field.id, LENGTH_DELIMITED);
    writer.bytes(run.finish());
    return;
  }
  items.forEach((item, i) => writeValue(type, field, field.type, item, `${pointer}/${i}`, writer));
}

function writeMap(type: ProtobufType, field: ProtobufField, entries: unknown, pointer: string, writer: Writer): void {
  if (entries === undefined) return;
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries))
    throw new ProtobufError(pointer, 'must be an object');
  for (const [key, item] of Object.entries(entries)) {
    const at = `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const entry = new Writer();
    writeValue(
      type,
      { name: 'key', id: 1, type: field.keyType! },
      field.keyType!,
      mapKey(field.keyType!, key, at),
      at,
      entry,
    );
    writeValue(type, { name: 'value', id: 2, type: field.type }, field.type, item, at, entry);
    writer.tag(field.id, LENGTH_DELIMITED);
    writer.bytes(entry.finish());
  }
}

/** A map key as its type: object keys are text, an integer or bool key is parsed back. */
function mapKey(keyType: string, key: string, pointer: string): unknown {
  if (keyType === 'string') return key;
  if (keyType === 'bool') {
    if (key !== 'true' && key !== 'false') throw new ProtobufError(pointer, 'map key must be "true" or "false"');
    return key === 'true';
  }
  if (!/^-?[0-9]+$/.test(key)) throw new ProtobufError(pointer, `map key must be an integer (${keyType})`);
  return Number(key);
}

function writeValue(
  type: ProtobufType,
  field: ProtobufField,
  typeName: string,
  value: unknown,
  pointer: string,
  writer: Writer,
): void {
  if (type.descriptor.messages[typeName]) {
    const body = new Writer();
    writeMessage(type, typeName, value, pointer, body);
    writer.tag(field.id, LENGTH_DELIMITED);
    writer.bytes(body.finish());
    return;
  }
  writer.tag(field.id, type.descriptor.enums[typeName] ? VARINT : WIRE_TYPES[typeName]!);
  writeBare(type, typeName, value, pointer, writer);
}

/** A scalar or an enum without its tag (also each item of a packed run). */
function writeBare(type: ProtobufType, typeName: string, value: unknown, pointer: string, writer: Writer): void {
  const values = type.descriptor.enums[typeName];
  if (values) {
    if (typeof value !== 'string' || !Object.prototype.hasOwnProperty.call(values, value))
      throw new ProtobufError(pointer, `must be one of ${Object.keys(values).join(', ')}`);
    return writer.varint64(BigInt(values[value]!));
  }
  switch (typeName) {
    case 'string':
      if (typeof value !== 'string') throw new ProtobufError(pointer, 'must be a string');
      return writer.bytes(utf8.encode(value));
    case 'bytes':
      if (!(value instanceof Uint8Array)) throw new ProtobufError(pointer, 'must be a Uint8Array');
      return writer.bytes(value);
    case 'bool':
      if (typeof value !== 'boolean') throw new ProtobufError(pointer, 'must be a boolean');
      return writer.byte(value ? 1 : 0);
    case 'double':
      return writer.fixed(8, (view) => view.setFloat64(0, number(value, pointer), true));
    case 'float':
      return writer.fixed(4, (view) => view.setFloat32(0, number(value, pointer), true));
    case 'fixed32':
      return writer.fixed(4, (view) => view.setUint32(0, integer(value, pointer, 0, 0xffffffff), true));
    case 'sfixed32':
      return writer.fixed(4, (view) => view.setInt32(0, integer(value, pointer, -0x80000000, 0x7fffffff), true));
    case 'fixed64':
      return writer.fixed(8, (view) => view.setBigUint64(0, BigInt(integer(value, pointer, 0)), true));
    case 'sfixed64':
      return writer.fixed(8, (view) => view.setBigInt64(0, BigInt(integer(value, pointer)), true));
    case 'int32':
      // A negative int32 is written sign-extended to 64 bits (ten bytes), as every implementation does.
      return writer.varint64(BigInt(integer(value, pointer, -0x80000000, 0x7fffffff)));
    case 'uint32':
      return writer.varint32(integer(value, pointer, 0, 0xffffffff));
    case 'sint32': {
      const n = integer(value, pointer, -0x80000000, 0x7fffffff);
      return writer.varint32(((n << 1) ^ (n >> 31)) >>> 0);
    }
    case 'int64':
      return writer.varint64(BigInt(integer(value, pointer)));
    case 'uint64':
      return writer.varint64(BigInt(integer(value, pointer, 0)));
    case 'sint64': {
      const n = BigInt(integer(value, pointer));
      return writer.varint64((n << 1n) ^ (n >> 63n));
    }
    default:
      throw new ProtobufError(pointer, `has a type the descriptor does not define: ${typeName}`);
  }
}

function number(value: unknown, pointer: string): number {
  if (typeof value !== 'number') throw new ProtobufError(pointer, 'must be a number');
  return value;
}

/** An integer in range; 64-bit integers are numbers in JavaScript's safe range. */
function integer(
  value: unknown,
  pointer: string,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new ProtobufError(pointer, `must be an integer from ${min} to ${max}`);
  return value;
}

/** Whether a field without presence holds its default, which proto3 does not write. */
function isDefault(type: ProtobufType, field: ProtobufField, value: unknown): boolean {
  const values = type.descriptor.enums[field.type];
  if (values) return typeof value === 'string' && values[value] === 0;
  if (field.type === 'bytes') return value instanceof Uint8Array && value.length === 0;
  return value === 0 || value === '' || value === false;
}

// ---------------------------------------------------------------------------------------------
// Decoding

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    readonly end = bytes.length,
    public offset = 0,
  ) {}

  /** The length-delimited value at the offset, as a reader of its own; this reader moves past it. */
  sub(): Reader {
    const length = this.varint32();
    if (length > this.end - this.offset)
      throw new ProtobufReadError(`a length of ${length} runs past the end of the body`);
    const inner = new Reader(this.bytes, this.offset + length, this.offset);
    this.offset += length;
    return inner;
  }

  get done(): boolean {
    return this.offset >= this.end;
  }

  /** A varint as a 64-bit unsigned bigint (at most ten bytes). */
  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.offset >= this.end) throw new ProtobufReadError('truncated varint');
      const b = this.bytes[this.offset++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
    }
    throw new ProtobufReadError('varint longer than ten bytes');
  }

  /** The low 32 bits of a varint, unsigned (the common case, without bigint). */
  varint32(): number {
    let result = 0;
    for (let i = 0; i < 5; i++) {
      if (this.offset >= this.end) throw new ProtobufReadError('truncated varint');
      const b = this.bytes[this.offset++]!;
      result |= (b & 0x7f) << (7 * i);
      if (b < 0x80) return result >>> 0;
    }
    // A longer varint (a sign-extended int32): the bytes past 32 bits are read and dropped.
    for (let i = 5; i < 10; i++) {
      if (this.offset >= this.end) throw new ProtobufReadError('truncated varint');
      if (this.bytes[this.offset++]! < 0x80) return result >>> 0;
    }
    throw new ProtobufReadError('varint longer than ten bytes');
  }

  take(length: number): Uint8Array {
    if (length > this.end - this.offset)
      throw new ProtobufReadError(`a length of ${length} runs past the end of the body`);
    const start = this.offset;
    this.offset += length;
    return this.bytes.subarray(start, this.offset);
  }

  view(length: number): DataView {
    const bytes = this.take(length);
    return new DataView(bytes.buffer, bytes.byteOffset, length);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.varint();
        return;
      case FIXED64:
        this.take(8);
        return;
      case LENGTH_DELIMITED:
        this.take(this.varint32());
        return;
      case FIXED32:
        this.take(4);
        return;
      default:
        throw new ProtobufReadError(`wire type ${wireType} is not supported (groups are deprecated)`);
    }
  }
}

/** Reads a body as the descriptor's message. Throws ProtobufReadError for bytes it cannot read. */
export function decodeProtobuf(type: ProtobufType, body: Uint8Array): Record<string, unknown> {
  return readMessage(type, type.descriptor.message, new Reader(body), 0);
}

function readMessage(type: ProtobufType, name: string, reader: Reader, depth: number): Record<string, unknown> {
  if (depth > MAX_DEPTH) throw new ProtobufReadError(`messages nested deeper than ${MAX_DEPTH}`);
  const fields = type.descriptor.messages[name] ?? [];
  const result: Record<string, unknown> = {};
  for (const field of fields) {
    if (field.keyType !== undefined) set(result, field.name, {});
    else if (field.repeated) set(result, field.name, []);
    else if (!field.presence) set(result, field.name, defaultOf(type, field.type));
  }
  while (!reader.done) {
    const tag = reader.varint32();
    const id = tag >>> 3;
    const wireType = tag & 7;
    if (id === 0) throw new ProtobufReadError('field number 0');
    const field = fields.find((f) => f.id === id);
    if (!field) {
      reader.skip(wireType); // an unknown field: a newer writer's, skipped
      continue;
    }
    readField(type, fields, field, wireType, reader, result, depth);
  }
  return result;
}

function readField(
  type: ProtobufType,
  fields: ProtobufField[],
  field: ProtobufField,
  wireType: number,
  reader: Reader,
  result: Record<string, unknown>,
  depth: number,
): void {
  if (field.keyType !== undefined) {
    expectWireType(field, wireType, LENGTH_DELIMITED);
    const [key, value] = readMapEntry(type, field, reader.sub(), depth);
    set(result[field.name] as Record<string, unknown>, key, value);
    return;
  }
  const isScalarRun =
    field.repeated &&
    wireType === LENGTH_DELIMITED &&
    !type.descriptor.messages[field.type] &&
    field.type !== 'string' &&
    field.type !== 'bytes';
  if (isScalarRun) {
    const run = reader.sub();
    while (!run.done) pushValue(result[field.name] as unknown[], readBare(type, field.type, run));
    return;
  }
  const value = readValue(type, field, field.type, wireType, reader, depth);
  if (field.repeated) return pushValue(result[field.name] as unknown[], value);
  // The last member of a oneof read wins: the group's others are cleared.
  if (field.oneof !== undefined)
    for (const other of fields) if (other.oneof === field.oneof && other !== field) delete result[other.name];
  set(result, field.name, value);
}

/** An enum number the reader does not know is dropped from a repeated field (proto2's rule). */
function pushValue(items: unknown[], value: unknown): void {
  if (value !== UNKNOWN_ENUM) items.push(value);
}

const UNKNOWN_ENUM = Symbol('unknown enum value');

function readMapEntry(type: ProtobufType, field: ProtobufField, entry: Reader, depth: number): [string, unknown] {
  let key: unknown = defaultOf(type, field.keyType!);
  let value: unknown = type.descriptor.messages[field.type] ? {} : defaultOf(type, field.type);
  while (!entry.done) {
    const tag = entry.varint32();
    const id = tag >>> 3;
    if (id === 1)
      key = readValue(type, { name: 'key', id: 1, type: field.keyType! }, field.keyType!, tag & 7, entry, depth);
    else if (id === 2)
      value = readValue(type, { name: 'value', id: 2, type: field.type }, field.type, tag & 7, entry, depth);
    else entry.skip(tag & 7);
  }
  if (value === UNKNOWN_ENUM) value = defaultOf(type, field.type);
  return [String(key), value];
}

function readValue(
  type: ProtobufType,
  field: ProtobufField,
  typeName: string,
  wireType: number,
  reader: Reader,
  depth: number,
): unknown {
  if (type.descriptor.messages[typeName]) {
    expectWireType(field, wireType, LENGTH_DELIMITED);
    return readMessage(type, typeName, reader.sub(), depth + 1);
  }
  expectWireType(field, wireType, type.descriptor.enums[typeName] ? VARINT : WIRE_TYPES[typeName]!);
  const value = readBare(type, typeName, reader);
  // A singular enum number the reader does not know reads as the enum's default (its first value).
  return value === UNKNOWN_ENUM && !field.repeated ? defaultOf(type, typeName) : value;
}

function readBare(type: ProtobufType, typeName: string, reader: Reader): unknown {
  const names = type.enumNames.get(typeName);
  if (names) return names.get(Number(BigInt.asIntN(32, reader.varint()))) ?? UNKNOWN_ENUM;
  switch (typeName) {
    case 'string':
      try {
        return strictUtf8.decode(reader.take(reader.varint32()));
      } catch (error) {
        if (error instanceof ProtobufReadError) throw error;
        throw new ProtobufReadError('a string is not valid UTF-8');
      }
    case 'bytes':
      // A copy, a plain Uint8Array: the body (often a Buffer from a pool) is not kept alive by the value.
      return new Uint8Array(reader.take(reader.varint32()));
    case 'bool':
      return reader.varint() !== 0n;
    case 'double':
      return reader.view(8).getFloat64(0, true);
    case 'float':
      return reader.view(4).getFloat32(0, true);
    case 'fixed32':
      return reader.view(4).getUint32(0, true);
    case 'sfixed32':
      return reader.view(4).getInt32(0, true);
    case 'fixed64':
      return safe(reader.view(8).getBigUint64(0, true));
    case 'sfixed64':
      return safe(reader.view(8).getBigInt64(0, true));
    case 'int32':
      return reader.varint32() | 0;
    case 'uint32':
      return reader.varint32();
    case 'sint32': {
      const n = reader.varint32();
      return (n >>> 1) ^ -(n & 1);
    }
    case 'int64':
      return safe(BigInt.asIntN(64, reader.varint()));
    case 'uint64':
      return safe(reader.varint());
    case 'sint64': {
      const n = reader.varint();
      return safe((n >> 1n) ^ -(n & 1n));
    }
    default:
      throw new ProtobufReadError(`the descriptor does not define type ${typeName}`);
  }
}

/** A 64-bit integer as a number, refused when a number cannot hold it exactly. */
function safe(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER))
    throw new ProtobufReadError(`the 64-bit integer ${value} is outside JavaScript's safe integer range`);
  return Number(value);
}

function expectWireType(field: ProtobufField, actual: number, expected: number): void {
  if (actual !== expected)
    throw new ProtobufReadError(`field ${field.name} (${field.id}) has wire type ${actual}, expected ${expected}`);
}

function defaultOf(type: ProtobufType, typeName: string): unknown {
  const values = type.descriptor.enums[typeName];
  if (values) return Object.keys(values)[0];
  switch (typeName) {
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array(0);
    case 'bool':
      return false;
    default:
      return 0;
  }
}

/** Sets a key as data (a map key `__proto__` must not reach the prototype). */
function set(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
