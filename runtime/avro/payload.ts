import type { EncodedPayload, PayloadCodec, PayloadCodecFactory, PayloadDecodeResult } from '../codec.js';
import { EventValidationError } from '../errors.js';
import { AvroError, AvroReadError, decodeAvro, encodeAvro, parseAvroSchema, type AvroType } from './codec.js';
import type { SchemaRegistryClient } from '../schema-registry/client.js';
import {
  dataschemaOf,
  frame,
  HEADER_BYTES,
  RegistryUnavailableError,
  registryFor,
  schemaIdOf,
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

  /** `schema`: the message's Avro schema as JSON text (what is registered). */
  constructor(
    private readonly schema: string,
    private readonly registry?: SchemaRegistryClient,
  ) {
    this.type = parseAvroSchema(schema);
  }

  async encode(payload: unknown, topic: string, operation: string): Promise<EncodedPayload> {
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
    if (!this.registry) return { body, datacontenttype: AVRO_CONTENT_TYPE };
    const recordName = 'name' in this.type ? this.type.name : undefined;
    const id = await this.registry.idOf(this.registry.subject(topic, recordName), this.schema);
    return { body: frame(id, body), datacontenttype: AVRO_CONTENT_TYPE, dataschema: dataschemaOf(this.registry, id) };
  }

  async decode(body: Uint8Array): Promise<PayloadDecodeResult> {
    let writer = this.type;
    let content = body;
    if (this.registry) {
      const framed = schemaIdOf(body);
      if (!framed.ok) return framed;
      try {
        writer = await this.writerSchema(framed.id);
      } catch (error) {
        if (error instanceof RegistryUnavailableError) throw error;
        return { ok: false, reason: 'unknown-schema', error: (error as Error).message };
      }
      content = body.subarray(HEADER_BYTES);
    }
    try {
      return { ok: true, value: decodeAvro(writer, this.type, content) };
    } catch (error) {
      if (error instanceof AvroReadError || error instanceof AvroError)
        return { ok: false, reason: 'not-avro', error: error.message };
      throw error;
    }
  }

  /** The writer's schema by id, parsed once. A registry that cannot be reached is retried later, not dead-lettered. */
  private async writerSchema(id: number): Promise<AvroType> {
    const known = this.writers.get(id);
    if (known) return known;
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

/** The codec factory of a message with an Avro schema (what operations.ts declares). */
export function avroCodec(schema: string): PayloadCodecFactory {
  return (options) => new AvroPayloadCodec(schema, registryFor(options));
}
