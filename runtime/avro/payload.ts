import type {
  EncodedPayload,
  PayloadCodec,
  PayloadCodecFactory,
  PayloadDecodeResult,
  SchemaRegistryOptions,
} from '../codec.js';
import { EventValidationError } from '../errors.js';
import { AvroError, AvroReadError, decodeAvro, encodeAvro, parseAvroSchema, type AvroType } from './codec.js';
import { SchemaRegistryClient, SchemaRegistryError } from './registry.js';

/** The Confluent wire format: magic byte 0, the schema id (4 bytes, big-endian), the Avro body. */
const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;

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
    const framed = new Uint8Array(HEADER_BYTES + body.length);
    framed[0] = MAGIC_BYTE;
    new DataView(framed.buffer).setUint32(1, id, false);
    framed.set(body, HEADER_BYTES);
    return {
      body: framed,
      datacontenttype: AVRO_CONTENT_TYPE,
      dataschema: `${this.registry.options.url.replace(/\/+$/, '')}/schemas/ids/${id}`,
    };
  }

  async decode(body: Uint8Array): Promise<PayloadDecodeResult> {
    let writer = this.type;
    let content = body;
    if (this.registry) {
      if (body.length < HEADER_BYTES || body[0] !== MAGIC_BYTE) {
        return {
          ok: false,
          reason: 'not-schema-framed',
          error: 'the body does not start with the schema registry wire format (magic byte 0 and a 4-byte schema id)',
        };
      }
      const id = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(1, false);
      try {
        writer = await this.writerSchema(id);
      } catch (error) {
        if (error instanceof RegistryUnavailableError) throw error;
        return { ok: false, reason: 'unknown-schema', error: `writer schema ${id}: ${(error as Error).message}` };
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
    let text: string;
    try {
      text = await this.registry!.schemaById(id);
    } catch (error) {
      if (error instanceof SchemaRegistryError && error.status === 404)
        throw new Error('unknown to the schema registry');
      throw new RegistryUnavailableError(error);
    }
    const parsed = parseAvroSchema(text);
    this.writers.set(id, parsed);
    return parsed;
  }
}

/** The registry did not answer: the event is not at fault, it is handled again later. */
export class RegistryUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the schema registry is unavailable: ${(cause as Error)?.message ?? cause}`, { cause });
    this.name = 'RegistryUnavailableError';
  }
}

/** One registry client per registry settings object: every operation of a client shares its caches. */
const registries = new WeakMap<SchemaRegistryOptions, SchemaRegistryClient>();

/**
 * The codec factory of a message with an Avro schema (what operations.ts declares): one codec per
 * registry settings object (and one without), so the schema is parsed once and writer schemas are
 * cached for every consumer, publisher and reply of a client.
 */
export function avroCodec(schema: string): PayloadCodecFactory {
  const byRegistry = new WeakMap<SchemaRegistryOptions, AvroPayloadCodec>();
  let bare: AvroPayloadCodec | undefined;
  return (options) => {
    if (!options) return (bare ??= new AvroPayloadCodec(schema));
    let codec = byRegistry.get(options);
    if (!codec) {
      let registry = registries.get(options);
      if (!registry) registries.set(options, (registry = new SchemaRegistryClient(options)));
      byRegistry.set(options, (codec = new AvroPayloadCodec(schema, registry)));
    }
    return codec;
  };
}
