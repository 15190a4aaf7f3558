import type { EncodedPayload, PayloadCodec, PayloadCodecFactory, PayloadDecodeResult } from '../codec.js';
import { EventValidationError } from '../errors.js';
import type { SchemaRegistryClient } from '../schema-registry/client.js';
import {
  codecPerRegistry,
  dataschemaOf,
  frame,
  HEADER_BYTES,
  schemaIdOf,
  SubjectIds,
  unknownSchema,
  writerSchemaText,
} from '../schema-registry/wire.js';
import {
  decodeProtobuf,
  encodeProtobuf,
  ProtobufError,
  ProtobufReadError,
  protobufType,
  type ProtobufDescriptor,
  type ProtobufType,
} from './codec.js';

export const PROTOBUF_CONTENT_TYPE = 'application/protobuf';

/** What the generator knows of a Protobuf message: its descriptor, its `.proto` text, where it is in that file. */
export interface ProtobufMessageSchema {
  descriptor: ProtobufDescriptor;
  /** The `.proto` source, registered as is (`schemaType: PROTOBUF`). */
  proto: string;
  /** The message's path among the file's messages (top-level index, then nested indexes): Confluent's message indexes. */
  messageIndexes: number[];
}

/**
 * Protobuf binary for one message. With a registry, bodies are in the Confluent wire format for
 * Protobuf: magic byte 0, the schema id, the message indexes (zigzag varints; `[0]`, the first
 * message of the file, as the single byte 0), the body. Protobuf needs no writer schema to read a body
 * (fields are matched by number), so a consumer only checks that the registry knows the id (once per id).
 */
export class ProtobufPayloadCodec implements PayloadCodec {
  private readonly type: ProtobufType;
  private readonly indexes: Uint8Array;
  private readonly knownIds = new Map<number, Promise<string>>();
  /** Ids the registry confirmed: later bodies with them are read without a promise. */
  private readonly checkedIds = new Set<number>();
  private readonly subjectIds?: SubjectIds;

  constructor(
    private readonly schema: ProtobufMessageSchema,
    private readonly registry?: SchemaRegistryClient,
  ) {
    this.type = protobufType(schema.descriptor);
    this.indexes = encodeMessageIndexes(schema.messageIndexes);
    this.subjectIds = registry && new SubjectIds(registry, schema.proto, 'PROTOBUF');
  }

  encode(payload: unknown, topic: string, operation: string): EncodedPayload | Promise<EncodedPayload> {
    let body: Uint8Array;
    try {
      body = encodeProtobuf(this.type, payload);
    } catch (error) {
      if (!(error instanceof ProtobufError)) throw error;
      // Only reached with validation off: the validators refuse what Protobuf cannot write.
      throw new EventValidationError('invalid-payload', `payload of ${operation}`, [
        { pointer: error.pointer, rule: 'protobuf', message: error.reason },
      ]);
    }
    const registry = this.registry;
    if (!registry) return { body, datacontenttype: PROTOBUF_CONTENT_TYPE };
    const subject = registry.subject(topic, this.schema.descriptor.message.replace(/^\./, ''));
    const id = this.subjectIds!.of(subject);
    return typeof id === 'number'
      ? this.framed(body, id, registry)
      : id.then((known) => this.framed(body, known, registry));
  }

  decode(body: Uint8Array): PayloadDecodeResult | Promise<PayloadDecodeResult> {
    if (!this.registry) return read(this.type, body);
    const header = schemaIdOf(body);
    if (!header.ok) return header;
    if (this.checkedIds.has(header.id)) return this.readFramed(body);
    return this.knownId(header.id).then(() => {
      this.checkedIds.add(header.id);
      return this.readFramed(body);
    }, unknownSchema);
  }

  /** A framed body whose id the registry knows: past the header and the message indexes, the body. */
  private readFramed(body: Uint8Array): PayloadDecodeResult {
    let content: Uint8Array;
    try {
      content = body.subarray(HEADER_BYTES + messageIndexesLength(body.subarray(HEADER_BYTES)));
    } catch (error) {
      if (error instanceof ProtobufReadError) return { ok: false, reason: 'not-protobuf', error: error.message };
      throw error;
    }
    return read(this.type, content);
  }

  /** The Confluent wire format of a Protobuf body written with schema `id`, and the attributes that say so. */
  private framed(body: Uint8Array, id: number, registry: SchemaRegistryClient): EncodedPayload {
    return {
      body: frame(id, body, this.indexes),
      datacontenttype: PROTOBUF_CONTENT_TYPE,
      dataschema: dataschemaOf(registry, id),
    };
  }

  /** Asks the registry once per id (a failure is asked again with the next event). */
  private knownId(id: number): Promise<string> {
    let known = this.knownIds.get(id);
    if (!known) {
      known = writerSchemaText(this.registry!, id);
      this.knownIds.set(id, known);
      known.catch(() => this.knownIds.delete(id));
    }
    return known;
  }
}

/** A Protobuf body read with the document's message; what cannot be read is `not-protobuf`. */
function read(type: ProtobufType, content: Uint8Array): PayloadDecodeResult {
  try {
    return { ok: true, value: decodeProtobuf(type, content) };
  } catch (error) {
    if (error instanceof ProtobufReadError) return { ok: false, reason: 'not-protobuf', error: error.message };
    throw error;
  }
}

/** Confluent's message indexes: their count then each index, zigzag varints; `[0]` is the single byte 0. */
export function encodeMessageIndexes(indexes: number[]): Uint8Array {
  if (indexes.length === 1 && indexes[0] === 0) return new Uint8Array([0]);
  const bytes: number[] = [];
  for (const n of [indexes.length, ...indexes]) {
    let v = ((n << 1) ^ (n >> 31)) >>> 0;
    while (v > 0x7f) {
      bytes.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    bytes.push(v);
  }
  return new Uint8Array(bytes);
}

/** How many bytes the message indexes take at the start of `bytes`. */
function messageIndexesLength(bytes: Uint8Array): number {
  let offset = 0;
  const varint = (): number => {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (offset >= bytes.length) throw new ProtobufReadError('truncated message indexes');
      const b = bytes[offset++]!;
      result |= (b & 0x7f) << shift;
      if (b < 0x80) return ((result >>> 1) ^ -(result & 1)) | 0;
    }
    throw new ProtobufReadError('a message index longer than five bytes');
  };
  const count = varint();
  if (count < 0 || count > bytes.length) throw new ProtobufReadError(`a message index count of ${count}`);
  for (let i = 0; i < count; i++) varint();
  return offset;
}

/**
 * The codec factory of a message with a Protobuf schema (what operations.ts declares): one codec per
 * registry settings object (and one without), so the descriptor is prepared once and ids are looked
 * up once for every consumer and publisher of a client.
 */
export function protobufCodec(schema: string): PayloadCodecFactory {
  const parsed = JSON.parse(schema) as ProtobufMessageSchema;
  return codecPerRegistry((registry) => new ProtobufPayloadCodec(parsed, registry));
}
