import type { EncodedPayload, PayloadCodec, PayloadCodecFactory, PayloadDecodeResult } from '../codec.js';
import { EventValidationError } from '../errors.js';
import { AvroError, AvroReadError, decodeAvro, encodeAvro, parseAvroSchema, type AvroType } from './codec.js';
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

export const AVRO_CONTENT_TYPE = 'application/avro';

/**
 * Avro binary for one message. With a registry, bodies are in the Confluent wire format and a
 * consumer reads each body with the writer's schema (fetched by id, once) resolved to its own;
 * without one, the body is plain Avro binary written and read with the document's schema.
 */
export class AvroPayloadCodec implements PayloadCodec {
  private readonly type: AvroType;
  private readonly writers = new Map<number, AvroType>();
  private readonly subjectIds?: SubjectIds;

  /** `schema`: the message's Avro schema as JSON text (what is registered). */
  constructor(
    private readonly schema: string,
    private readonly registry?: SchemaRegistryClient,
  ) {
    this.type = parseAvroSchema(schema);
    this.subjectIds = registry && new SubjectIds(registry, schema);
  }

  encode(payload: unknown, topic: string, operation: string): EncodedPayload | Promise<EncodedPayload> {
    let body: Uint8Array;
    try {
      body = encodeAvro(this.type, payload);
    } catch (error) {
      if (!(error instanceof AvroError)) throw error;
      // Only reached with validation off: the validators refuse what Avro cannot write.
      throw new EventValidationError('invalid-payload', `payload of ${operation}`, [
        { pointer: error.pointer, rule: 'avro', message: error.message },
      ]);
    }
    const registry = this.registry;
    if (!registry) return { body, datacontenttype: AVRO_CONTENT_TYPE };
    const subject = registry.subject(topic, 'name' in this.type ? this.type.name : undefined);
    const id = this.subjectIds!.of(subject);
    return typeof id === 'number' ? framed(body, id, registry) : id.then((known) => framed(body, known, registry));
  }

  decode(body: Uint8Array): PayloadDecodeResult | Promise<PayloadDecodeResult> {
    if (!this.registry) return read(this.type, this.type, body);
    const header = schemaIdOf(body);
    if (!header.ok) return header;
    const content = body.subarray(HEADER_BYTES);
    const writer = this.writers.get(header.id);
    if (writer) return read(writer, this.type, content);
    return this.writerSchema(header.id).then((fetched) => read(fetched, this.type, content), unknownSchema);
  }

  /** The writer's schema by id, parsed once. A registry that cannot be reached is retried later, not dead-lettered. */
  private async writerSchema(id: number): Promise<AvroType> {
    const text = await writerSchemaText(this.registry!, id);
    let parsed: AvroType;
    try {
      parsed = parseAvroSchema(text);
    } catch (error) {
      throw new Error(`writer schema ${id}: ${(error as Error).message}`);
    }
    this.writers.set(id, parsed);
    return parsed;
  }
}

/** The Confluent wire format of an Avro body written with schema `id`, and the attributes that say so. */
function framed(body: Uint8Array, id: number, registry: SchemaRegistryClient): EncodedPayload {
  return { body: frame(id, body), datacontenttype: AVRO_CONTENT_TYPE, dataschema: dataschemaOf(registry, id) };
}

/** An Avro body read with the writer's schema into the reader's; what cannot be read is `not-avro`. */
function read(writer: AvroType, reader: AvroType, content: Uint8Array): PayloadDecodeResult {
  try {
    return { ok: true, value: decodeAvro(writer, reader, content) };
  } catch (error) {
    if (error instanceof AvroReadError || error instanceof AvroError)
      return { ok: false, reason: 'not-avro', error: error.message };
    throw error;
  }
}

/**
 * The codec factory of a message with an Avro schema (what operations.ts declares): one codec per
 * registry settings object (and one without), so the schema is parsed once and writer schemas are
 * cached for every consumer, publisher and reply of a client.
 */
export function avroCodec(schema: string): PayloadCodecFactory {
  return codecPerRegistry((registry) => new AvroPayloadCodec(schema, registry));
}
