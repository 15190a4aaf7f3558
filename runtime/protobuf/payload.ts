import type { EncodedPayload, PayloadCodec, PayloadCodecFactory, PayloadDecodeResult } from '../codec.js';
import { EventValidationError } from '../errors.js';
import type { SchemaRegistryClient } from '../schema-registry/client.js';
import {
  codecPerRegistry,
  dataschemaOf,
  frame,
  HEADER_BYTES,
  RegistryUnavailableError,
  schemaIdOf,
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

  constructor(
    private readonly schema: ProtobufMessageSchema,
    private readonly registry?: SchemaRegistryClient,
  ) {
    this.type = protobufType(schema.descriptor);
    this.indexes = encodeMessageIndexes(schema.messageIndexes);
  }

  async encode(payload: unknown, topic: string, operation: string): Promise<EncodedPayload> {
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
    if (!this.registry) return { body, datacontenttype: PROTOBUF_CONTENT_TYPE };
    const subject = this.registry.subject(topic, this.schema.descriptor.message.replace(/^\./, ''));
    const id = await this.registry.idOf(subject, this.schema.proto, 'PROTOBUF');
    return {
      body: frame(id, body, this.indexes),
      datacontenttype: PROTOBUF_CONTENT_TYPE,
      dataschema: dataschemaOf(this.registry, id),
    };
  }

  async decode(body: Uint8Array): Promise<PayloadDecodeResult> {
    let content = body;
    if (this.registry) {
      const framed = schemaIdOf(body);
      if (!framed.ok) return framed;
      try {
        await this.knownId(framed.id);
      } catch (error) {
        if (error instanceof RegistryUnavailableError) throw error;
        return { ok: false, reason: 'unknown-schema', error: (error as Error).message };
      }
      try {
        content = body.subarray(HEADER_BYTES + messageIndexesLength(body.subarray(HEADER_BYTES)));
      } catch (error) {
        if (error instanceof ProtobufReadError) return { ok: false, reason: 'not-protobuf', error: error.message };
        throw error;
      }
    }
    try {
      return { ok: true, value: decodeProtobuf(this.type, content) };
    } catch (error) {
      if (error instanceof ProtobufReadError) return { ok: false, reason: 'not-protobuf', error: error.message };
      throw error;
    }
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
