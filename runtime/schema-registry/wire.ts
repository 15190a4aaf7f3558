import type { PayloadCodec, PayloadCodecFactory, PayloadDecodeResult, SchemaRegistryOptions } from '../codec.js';
import { SchemaRegistryClient, SchemaRegistryError, type SchemaType } from './client.js';

/** The Confluent wire format's header: magic byte 0, then the schema id (4 bytes, big-endian). */
const MAGIC_BYTE = 0;
export const HEADER_BYTES = 5;

/** A body in the Confluent wire format: the header, what the schema language adds (Protobuf's message indexes), the body. */
export function frame(id: number, body: Uint8Array, prefix: Uint8Array = new Uint8Array(0)): Uint8Array {
  const framed = new Uint8Array(HEADER_BYTES + prefix.length + body.length);
  framed[0] = MAGIC_BYTE;
  new DataView(framed.buffer).setUint32(1, id, false);
  framed.set(prefix, HEADER_BYTES);
  framed.set(body, HEADER_BYTES + prefix.length);
  return framed;
}

/** The schema id of a framed body, or the dead-letter answer for a body without the header. */
export function schemaIdOf(body: Uint8Array): { ok: true; id: number } | Extract<PayloadDecodeResult, { ok: false }> {
  if (body.length < HEADER_BYTES || body[0] !== MAGIC_BYTE) {
    return {
      ok: false,
      reason: 'not-schema-framed',
      error: 'the body does not start with the schema registry wire format (magic byte 0 and a 4-byte schema id)',
    };
  }
  return { ok: true, id: new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(1, false) };
}

/** The `dataschema` attribute of an event written with a registered schema. */
export function dataschemaOf(registry: SchemaRegistryClient, id: number): string {
  return `${registry.options.url.replace(/\/+$/, '')}/schemas/ids/${id}`;
}

/**
 * The writer's schema text by id. An id the registry does not know throws UnknownSchemaError (the
 * event is dead-lettered); a registry that cannot be reached throws RegistryUnavailableError (the
 * event is not at fault: it is handled again later).
 */
export async function writerSchemaText(registry: SchemaRegistryClient, id: number): Promise<string> {
  try {
    return await registry.schemaById(id);
  } catch (error) {
    if (error instanceof SchemaRegistryError && error.status === 404) throw new UnknownSchemaError(id);
    throw new RegistryUnavailableError(error);
  }
}

/**
 * The id of one schema under each subject it is published to, registered or looked up on the first
 * publish and then answered from memory, so later publishes frame their body without a promise.
 */
export class SubjectIds {
  private readonly ids = new Map<string, number>();

  constructor(
    private readonly registry: SchemaRegistryClient,
    private readonly schema: string,
    private readonly schemaType?: SchemaType,
  ) {}

  of(subject: string): number | Promise<number> {
    const known = this.ids.get(subject);
    if (known !== undefined) return known;
    return this.registry.idOf(subject, this.schema, this.schemaType).then((id) => {
      this.ids.set(subject, id);
      return id;
    });
  }
}

/** A failed writer-schema look-up: an unreachable registry is thrown (retried later), an unknown id is the event's fault. */
export function unknownSchema(error: unknown): PayloadDecodeResult {
  if (error instanceof RegistryUnavailableError) throw error;
  return { ok: false, reason: 'unknown-schema', error: (error as Error).message };
}

export class UnknownSchemaError extends Error {
  constructor(id: number) {
    super(`writer schema ${id}: unknown to the schema registry`);
    this.name = 'UnknownSchemaError';
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

export function registryFor(options: SchemaRegistryOptions | undefined): SchemaRegistryClient | undefined {
  if (!options) return undefined;
  let registry = registries.get(options);
  if (!registry) registries.set(options, (registry = new SchemaRegistryClient(options)));
  return registry;
}

/**
 * A codec factory that makes one codec per registry settings object (and one without), so a schema
 * is prepared once and what the registry answered is cached for every operation of a client.
 */
export function codecPerRegistry(make: (registry?: SchemaRegistryClient) => PayloadCodec): PayloadCodecFactory {
  const byRegistry = new WeakMap<SchemaRegistryOptions, PayloadCodec>();
  let bare: PayloadCodec | undefined;
  return (options) => {
    if (!options) return (bare ??= make());
    let codec = byRegistry.get(options);
    if (!codec) byRegistry.set(options, (codec = make(registryFor(options))));
    return codec;
  };
}
