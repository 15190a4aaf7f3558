import type { DeadLetterReason } from './errors.js';

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

export type DecodeResult = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * Parses an event body as JSON. A body with a `__proto__` key is refused: JSON.parse keeps it as plain
 * data, but a handler that later merges the payload with Object.assign would pollute a prototype.
 */
export function decodeJson(body: Uint8Array | string): DecodeResult {
  let text: string;
  try {
    text = typeof body === 'string' ? body : decoder.decode(body);
  } catch {
    return { ok: false, error: 'body is not UTF-8 text' };
  }
  // The reviver costs ~5x a plain parse; it is needed only when a key could spell __proto__ (directly or escaped).
  if (!text.includes('__proto__') && !text.includes('\\u')) {
    try {
      return { ok: true, value: JSON.parse(text) as unknown };
    } catch (error) {
      return { ok: false, error: `body is not JSON: ${error instanceof Error ? error.message : 'parse error'}` };
    }
  }
  let pollution = false;
  try {
    const value: unknown = JSON.parse(text, function (key, child) {
      if (key === '__proto__') pollution = true;
      return child;
    });
    if (pollution) return { ok: false, error: 'body contains a "__proto__" key (refused: prototype pollution guard)' };
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error: `body is not JSON: ${error instanceof Error ? error.message : 'parse error'}` };
  }
}

/** A Buffer (a Uint8Array): Node's UTF-8 encoder is several times faster than TextEncoder on small bodies. */
export function encodeJson(value: unknown): Uint8Array {
  // JSON.stringify(undefined) is undefined: an empty body, as TextEncoder made it.
  return Buffer.from((JSON.stringify(value) as string | undefined) ?? '', 'utf8');
}

export function encodeText(text: string): Uint8Array {
  return encoder.encode(text);
}

export function decodeText(bytes: Uint8Array | string): string {
  return typeof bytes === 'string' ? bytes : new TextDecoder('utf-8').decode(bytes);
}

/** A body as encoded for the wire, with the CloudEvents attributes that say what it is. */
export interface EncodedPayload {
  body: Uint8Array;
  datacontenttype: string;
  dataschema?: string;
}

export type PayloadDecodeResult = { ok: true; value: unknown } | { ok: false; reason: DeadLetterReason; error: string };

/**
 * How one message's payload travels when it is not JSON (Avro: runtime/avro/; Protobuf plugs in the
 * same way). Either direction may have to ask a schema registry first (once per subject and schema,
 * once per writer schema id) and then answers with a promise; once it knows what it needs it should
 * answer at once, so the hot path makes no promise per event. `decode` gives a body it cannot read a
 * dead-letter reason, and fails (throws or rejects) only when the fault is not the event's (the
 * registry is unreachable): the event is then tried again. `encode` throws EventValidationError for
 * a payload it cannot write.
 */
export interface PayloadCodec {
  encode(payload: unknown, address: string, operation: string): EncodedPayload | Promise<EncodedPayload>;
  decode(body: Uint8Array): PayloadDecodeResult | Promise<PayloadDecodeResult>;
}

/**
 * How a subject is named (Confluent's strategies): `topic` (the default) `<topic>-value`;
 * `record` the record's full name; `topic-record` `<topic>-<record full name>`.
 */
export type SubjectNameStrategy = 'topic' | 'record' | 'topic-record';

/** The schema registry a client's Avro messages use (the Confluent REST API). */
export interface SchemaRegistryOptions {
  /** Base URL of the Confluent-compatible API (Confluent, Redpanda, Karapace; Apicurio: `<host>/apis/ccompat/v7`). */
  url: string;
  subjectNameStrategy?: SubjectNameStrategy;
  /**
   * `true` (the default): a schema the registry does not hold yet is registered on its first publish.
   * `false`: only looked up (production, where CI registers): publishing a schema the registry lacks fails.
   */
  autoRegister?: boolean;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  auth?: { username: string; password: string };
  /** TLS for an https URL: a private CA, a client certificate (mutual TLS). */
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; rejectUnauthorized?: boolean };
}

/** Makes an operation's payload codec for a client (with the client's schema registry, if any). */
export type PayloadCodecFactory = (registry: SchemaRegistryOptions | undefined) => PayloadCodec;
