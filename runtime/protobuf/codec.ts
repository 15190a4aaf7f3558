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

  /** The same error one level up: its pointer prefixed with the segment (escaped as JSON pointers say). */
  under(segment: string): ProtobufError {
    return new ProtobufError(`/${segment.replace(/~/g, '~0').replace(/\//g, '~1')}${this.pointer}`, this.reason);
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

/** A descriptor made ready to encode and decode: fields by number, enum names by number, enum defaults. */
export interface ProtobufType {
  descriptor: ProtobufDescriptor;
  fieldsById: Map<string, Map<number, ProtobufField>>;
  enumNames: Map<string, Map<number, string>>;
  enumDefaults: Map<string, string>;
}

export function protobufType(descriptor: ProtobufDescriptor): ProtobufType {
  const fieldsById = new Map<string, Map<number, ProtobufField>>();
  for (const [name, fields] of Object.entries(descriptor.messages)) {
    fieldsById.set(name, new Map(fields.map((field) => [field.id, field])));
  }
  const enumNames = new Map<string, Map<number, string>>();
  const enumDefaults = new Map<string, string>();
  for (const [name, values] of Object.entries(descriptor.enums)) {
    const byNumber = new Map<number, string>();
    // With allow_alias, several names share a number: the first is the one read back.
    for (const [symbol, number] of Object.entries(values)) if (!byNumber.has(number)) byNumber.set(number, symbol);
    enumNames.set(name, byNumber);
    enumDefaults.set(name, Object.keys(values)[0]!);
  }
  return { descriptor, fieldsById, enumNames, enumDefaults };
}

/** A 64-bit two's-complement integer as its low and high 32 bits (unsigned), from a safe integer. */
function split(n: number): [number, number] {
  const magnitude = Math.abs(n);
  let lo = magnitude >>> 0;
  let hi = Math.floor(magnitude / 4294967296) >>> 0;
  if (n < 0) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
    if (++lo > 0xffffffff) {
      lo = 0;
      hi = (hi + 1) >>> 0;
    }
  }
  return [lo, hi];
}

// ---------------------------------------------------------------------------------------------
// Encoding

class Writer {
  private buffer = new Uint8Array(256);
  private view = new DataView(this.buffer.buffer);
  length = 0;

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + bytes));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  /** An unsigned varint of at most 32 bits. */
  varint32(value: number): void {
    this.reserve(5);
    let v = value >>> 0;
    while (v > 0x7f) {
      this.buffer[this.length++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buffer[this.length++] = v;
  }

  /** A varint of 64 bits given as its low and high halves. */
  varint64(lo: number, hi: number): void {
    this.reserve(10);
    while (hi > 0) {
      this.buffer[this.length++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.varint32(lo);
  }

  /** A signed 32-bit or 64-bit integer as a varint: a negative one is sign-extended to ten bytes, as every implementation does. */
  signedVarint(n: number): void {
    if (n >= 0 && n <= 0xffffffff) this.varint32(n);
    else this.varint64(...split(n));
  }

  fixed32(value: number, signed: boolean): void {
    this.reserve(4);
    if (signed) this.view.setInt32(this.length, value, true);
    else this.view.setUint32(this.length, value, true);
    this.length += 4;
  }

  fixed64(lo: number, hi: number): void {
    this.reserve(8);
    this.view.setUint32(this.length, lo, true);
    this.view.setUint32(this.length + 4, hi, true);
    this.length += 8;
  }

  float(value: number, bytes: 4 | 8): void {
    this.reserve(bytes);
    if (bytes === 4) this.view.setFloat32(this.length, value, true);
    else this.view.setFloat64(this.length, value, true);
    this.length += bytes;
  }

  bytes(value: Uint8Array): void {
    this.varint32(value.length);
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  string(value: string): void {
    // Short text (at most 42 UTF-16 units: at most 126 UTF-8 bytes) is encoded in place after a one-byte length.
    if (value.length <= 42) {
      this.reserve(1 + value.length * 3);
      const { written } = utf8.encodeInto(value, this.buffer.subarray(this.length + 1));
      this.buffer[this.length] = written;
      this.length += 1 + written;
      return;
    }
    this.bytes(utf8.encode(value));
  }

  tag(id: number, wireType: number): void {
    this.varint32(((id << 3) | wireType) >>> 0);
  }

  /** Starts a length-delimited value written in place: `end(start)` puts its length before it. */
  begin(): number {
    return this.length;
  }

  end(start: number): void {
    const length = this.length - start;
    let size = 1;
    while (length >>> (7 * size) !== 0 && size < 5) size++;
    this.reserve(size);
    this.buffer.copyWithin(start + size, start, this.length);
    const end = this.length + size;
    this.length = start;
    this.varint32(length);
    this.length = end;
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

/** Writes a payload as the descriptor's message. Throws ProtobufError for a value of the wrong type. */
export function encodeProtobuf(type: ProtobufType, value: unknown): Uint8Array {
  const writer = new Writer();
  writeMessage(type, type.descriptor.message, value, writer);
  return writer.finish();
}

/** Runs a write and, when it fails, names where: the JSON pointer is built only on failure. */
function at<T>(segment: string | number, write: () => T): T {
  try {
    return write();
  } catch (error) {
    if (error instanceof ProtobufError) throw error.under(String(segment));
    throw error;
  }
}

function writeMessage(type: ProtobufType, name: string, value: unknown, writer: Writer): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ProtobufError('', 'must be an object');
  const record = value as Record<string, unknown>;
  for (const field of type.descriptor.messages[name] ?? []) {
    const item = Object.prototype.hasOwnProperty.call(record, field.name) ? record[field.name] : undefined;
    if (item === undefined) continue;
    try {
      if (field.keyType !== undefined) writeMap(type, field, item, writer);
      else if (field.repeated) writeRepeated(type, field, item, writer);
      else if (field.presence || !isDefault(type, field, item)) writeValue(type, field.id, field.type, item, writer);
    } catch (error) {
      if (error instanceof ProtobufError) throw error.under(field.name);
      throw error;
    }
  }
}

function writeRepeated(type: ProtobufType, field: ProtobufField, items: unknown, writer: Writer): void {
  if (!Array.isArray(items)) throw new ProtobufError('', 'must be an array');
  if (field.packed) {
    if (items.length === 0) return;
    writer.tag(field.id, LENGTH_DELIMITED);
    const start = writer.begin();
    for (let i = 0; i < items.length; i++) at(i, () => writeBare(type, field.type, items[i], writer));
    writer.end(start);
    return;
  }
  for (let i = 0; i < items.length; i++) at(i, () => writeValue(type, field.id, field.type, items[i], writer));
}

function writeMap(type: ProtobufType, field: ProtobufField, entries: unknown, writer: Writer): void {
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries))
    throw new ProtobufError('', 'must be an object');
  for (const [key, item] of Object.entries(entries)) {
    at(key, () => {
      writer.tag(field.id, LENGTH_DELIMITED);
      const start = writer.begin();
      writeValue(type, 1, field.keyType!, mapKey(field.keyType!, key), writer);
      writeValue(type, 2, field.type, item, writer);
      writer.end(start);
    });
  }
}

/** A map key as its type: object keys are text, an integer or bool key is parsed back. */
function mapKey(keyType: string, key: string): unknown {
  if (keyType === 'string') return key;
  if (keyType === 'bool') {
    if (key !== 'true' && key !== 'false') throw new ProtobufError('', 'map key must be "true" or "false"');
    return key === 'true';
  }
  if (!/^-?[0-9]+$/.test(key)) throw new ProtobufError('', `map key must be an integer (${keyType})`);
  return Number(key);
}

function writeValue(type: ProtobufType, id: number, typeName: string, value: unknown, writer: Writer): void {
  if (type.descriptor.messages[typeName]) {
    writer.tag(id, LENGTH_DELIMITED);
    const start = writer.begin();
    writeMessage(type, typeName, value, writer);
    writer.end(start);
    return;
  }
  writer.tag(id, type.descriptor.enums[typeName] ? VARINT : WIRE_TYPES[typeName]!);
  writeBare(type, typeName, value, writer);
}

/** A scalar or an enum without its tag (also each item of a packed run). */
function writeBare(type: ProtobufType, typeName: string, value: unknown, writer: Writer): void {
  const values = type.descriptor.enums[typeName];
  if (values) {
    if (typeof value !== 'string' || !Object.prototype.hasOwnProperty.call(values, value))
      throw new ProtobufError('', `must be one of ${Object.keys(values).join(', ')}`);
    return writer.signedVarint(values[value]!);
  }
  switch (typeName) {
    case 'string':
      if (typeof value !== 'string') throw new ProtobufError('', 'must be a string');
      return writer.string(value);
    case 'bytes':
      if (!(value instanceof Uint8Array)) throw new ProtobufError('', 'must be a Uint8Array');
      return writer.bytes(value);
    case 'bool':
      if (typeof value !== 'boolean') throw new ProtobufError('', 'must be a boolean');
      return writer.byte(value ? 1 : 0);
    case 'double':
      return writer.float(number(value), 8);
    case 'float':
      return writer.float(number(value), 4);
    case 'fixed32':
      return writer.fixed32(integer(value, 0, 0xffffffff), false);
    case 'sfixed32':
      return writer.fixed32(integer(value, -0x80000000, 0x7fffffff), true);
    case 'fixed64':
      return writer.fixed64(...split(integer(value, 0)));
    case 'sfixed64':
      return writer.fixed64(...split(integer(value)));
    case 'int32':
      return writer.signedVarint(integer(value, -0x80000000, 0x7fffffff));
    case 'uint32':
      return writer.varint32(integer(value, 0, 0xffffffff));
    case 'sint32': {
      const n = integer(value, -0x80000000, 0x7fffffff);
      return writer.varint32(((n << 1) ^ (n >> 31)) >>> 0);
    }
    case 'int64':
      return writer.signedVarint(integer(value));
    case 'uint64':
      return writer.varint64(...split(integer(value, 0)));
    case 'sint64': {
      // ZigZag on the two halves: (n << 1) ^ (n >> 63).
      const [lo, hi] = split(integer(value));
      const sign = hi >> 31;
      return writer.varint64(((lo << 1) ^ sign) >>> 0, (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0);
    }
    default:
      throw new ProtobufError('', `has a type the descriptor does not define: ${typeName}`);
  }
}

function number(value: unknown): number {
  if (typeof value !== 'number') throw new ProtobufError('', 'must be a number');
  return value;
}

/** An integer in range; 64-bit integers are numbers in JavaScript's safe range. */
function integer(value: unknown, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new ProtobufError('', `must be an integer from ${min} to ${max}`);
  return value;
}

/** Whether a field without presence holds its default, which proto3 does not write. */
function isDefault(type: ProtobufType, field: ProtobufField, value: unknown): boolean {
  const values = type.descriptor.enums[field.type];
  if (values) return typeof value === 'string' && values[value] === 0;
  if (field.type === 'bytes') return value instanceof Uint8Array && value.length === 0;
  // -0.0 is not the default of a float or double: it is written (as protoc does).
  if (field.type === 'double' || field.type === 'float') return Object.is(value, 0);
  return value === 0 || value === '' || value === false;
}

// ---------------------------------------------------------------------------------------------
// Decoding

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    readonly view: DataView,
    readonly end: number,
    public offset = 0,
  ) {}

  /** The length-delimited value at the offset, as a reader of its own; this reader moves past it. */
  sub(): Reader {
    const length = this.varint32();
    if (length > this.end - this.offset)
      throw new ProtobufReadError(`a length of ${length} runs past the end of the body`);
    const inner = new Reader(this.bytes, this.view, this.offset + length, this.offset);
    this.offset += length;
    return inner;
  }

  get done(): boolean {
    return this.offset >= this.end;
  }

  private next(): number {
    if (this.offset >= this.end) throw new ProtobufReadError('truncated varint');
    return this.bytes[this.offset++]!;
  }

  /** The low 32 bits of a varint, unsigned; the bytes past 32 bits (a sign-extended int32) are read and dropped. */
  varint32(): number {
    let result = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.next();
      result |= (b & 0x7f) << (7 * i);
      if (b < 0x80) return result >>> 0;
    }
    for (let i = 5; i < 10; i++) if (this.next() < 0x80) return result >>> 0;
    throw new ProtobufReadError('varint longer than ten bytes');
  }

  /** A 64-bit varint as its low and high 32 bits, unsigned. */
  varint64(): [number, number] {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      const b = this.next();
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (b < 0x80) return [lo >>> 0, hi >>> 0];
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

  /** The offset of the next `length` fixed bytes, checked against the end. */
  fixed(length: number): number {
    if (length > this.end - this.offset) throw new ProtobufReadError('truncated fixed-width value');
    const start = this.offset;
    this.offset += length;
    return start;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.varint64();
        return;
      case FIXED64:
        this.fixed(8);
        return;
      case LENGTH_DELIMITED:
        this.take(this.varint32());
        return;
      case FIXED32:
        this.fixed(4);
        return;
      default:
        throw new ProtobufReadError(`wire type ${wireType} is not supported (groups are deprecated)`);
    }
  }
}

/** Reads a body as the descriptor's message. Throws ProtobufReadError for bytes it cannot read. */
export function decodeProtobuf(type: ProtobufType, body: Uint8Array): Record<string, unknown> {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return readMessage(type, type.descriptor.message, new Reader(body, view, body.length), 0);
}

function readMessage(type: ProtobufType, name: string, reader: Reader, depth: number): Record<string, unknown> {
  if (depth > MAX_DEPTH) throw new ProtobufReadError(`messages nested deeper than ${MAX_DEPTH}`);
  const fields = type.descriptor.messages[name] ?? [];
  const byId = type.fieldsById.get(name);
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
    const field = byId?.get(id);
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
  if (names) return names.get(reader.varint32() | 0) ?? UNKNOWN_ENUM;
  switch (typeName) {
    case 'string':
      return readString(reader.take(reader.varint32()));
    case 'bytes':
      // A copy, a plain Uint8Array: the body (often a Buffer from a pool) is not kept alive by the value.
      return new Uint8Array(reader.take(reader.varint32()));
    case 'bool': {
      const [lo, hi] = reader.varint64();
      return lo !== 0 || hi !== 0;
    }
    case 'double':
      return reader.view.getFloat64(reader.fixed(8), true);
    case 'float':
      return reader.view.getFloat32(reader.fixed(4), true);
    case 'fixed32':
      return reader.view.getUint32(reader.fixed(4), true);
    case 'sfixed32':
      return reader.view.getInt32(reader.fixed(4), true);
    case 'fixed64': {
      const at = reader.fixed(8);
      return unsigned(reader.view.getUint32(at, true), reader.view.getUint32(at + 4, true));
    }
    case 'sfixed64': {
      const at = reader.fixed(8);
      return signed(reader.view.getUint32(at, true), reader.view.getUint32(at + 4, true));
    }
    case 'int32':
      return reader.varint32() | 0;
    case 'uint32':
      return reader.varint32();
    case 'sint32': {
      const n = reader.varint32();
      return (n >>> 1) ^ -(n & 1);
    }
    case 'int64':
      return signed(...reader.varint64());
    case 'uint64':
      return unsigned(...reader.varint64());
    case 'sint64': {
      // ZigZag decoded on the two halves: (n >>> 1) ^ -(n & 1).
      const [lo, hi] = reader.varint64();
      const sign = -(lo & 1);
      return signed((((lo >>> 1) | (hi << 31)) ^ sign) >>> 0, ((hi >>> 1) ^ sign) >>> 0);
    }
    default:
      throw new ProtobufReadError(`the descriptor does not define type ${typeName}`);
  }
}

/** Short ASCII text is read without TextDecoder (a call costs more than the loop); anything else is checked UTF-8. */
function readString(bytes: Uint8Array): string {
  if (bytes.length <= 64) {
    let ascii = '';
    let i = 0;
    for (; i < bytes.length && bytes[i]! < 0x80; i++) ascii += String.fromCharCode(bytes[i]!);
    if (i === bytes.length) return ascii;
  }
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new ProtobufReadError('a string is not valid UTF-8');
  }
}

const TWO_32 = 4294967296;
/** The high half of 2^53 - 1: a larger unsigned value does not fit a number exactly. */
const SAFE_HIGH = 0x1fffff;

/** An unsigned 64-bit integer as a number, refused when a number cannot hold it exactly. */
function unsigned(lo: number, hi: number): number {
  if (hi > SAFE_HIGH)
    throw new ProtobufReadError(`a 64-bit integer (high bits ${hi}) is outside JavaScript's safe integer range`);
  return hi * TWO_32 + lo;
}

/** A two's-complement 64-bit integer as a number, refused when a number cannot hold it exactly. */
function signed(lo: number, hi: number): number {
  if (hi >>> 31 === 0) return unsigned(lo, hi);
  // Negative: the magnitude is the two's complement of the bits.
  let mlo = ~lo >>> 0;
  let mhi = ~hi >>> 0;
  if (++mlo > 0xffffffff) {
    mlo = 0;
    mhi = (mhi + 1) >>> 0;
  }
  return -unsigned(mlo, mhi);
}

function expectWireType(field: ProtobufField, actual: number, expected: number): void {
  if (actual !== expected)
    throw new ProtobufReadError(`field ${field.name} (${field.id}) has wire type ${actual}, expected ${expected}`);
}

function defaultOf(type: ProtobufType, typeName: string): unknown {
  const enumDefault = type.enumDefaults.get(typeName);
  if (enumDefault !== undefined) return enumDefault;
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

/** Sets a key as data: a map key (or a field) named `__proto__` must not reach the prototype. */
function set(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
