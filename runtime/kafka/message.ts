// The CloudEvents ↔ Kafka record mapping: envelope headers, the channel address header, record keys.
import type { IHeaders } from 'kafkajs';
import type { CloudEventAttributes, HeaderMapping } from '../envelope.js';
import { EventValidationError } from '../errors.js';
import type { KeySpec } from './options.js';

/**
 * CloudEvents Kafka protocol binding, binary content mode: every attribute is a header `ce_<name>`,
 * `datacontenttype` travels as `content-type`, the data is the record value.
 */
export const KAFKA_HEADER_MAPPING: HeaderMapping = { prefix: 'ce_', contentTypeHeader: 'content-type' };

/**
 * The concrete channel address, for channels whose topic is fixed by the binding while the address
 * has parameters: consumers read the typed parameters back from it.
 */
export const ADDRESS_HEADER = 'x-codegen-address';

/** The CloudEvents `correlationid` attribute's header: how a reply finds its request. */
export const CORRELATION_HEADER = `${KAFKA_HEADER_MAPPING.prefix}correlationid`;

/** Header values as text (the last value when a header repeats). */
export function headersFromKafka(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const name of Object.keys(headers)) {
    const raw = headers[name];
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value === undefined) continue;
    const text = typeof value === 'string' ? value : value.toString('utf8');
    // A header named __proto__ becomes an own property, never the object's prototype.
    if (name === '__proto__')
      Object.defineProperty(out, name, { value: text, enumerable: true, writable: true, configurable: true });
    else out[name] = text;
  }
  return out;
}

/** The body of a record without a value. */
export const EMPTY_BODY = new Uint8Array(0);

/** Encoded bytes as kafkajs sends them, without a copy. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A key as kafkajs sends it; checked against the document's key schema when validation is on. */
export function encodeKey(key: unknown, spec: KeySpec, validate: boolean, operation: string): string | Buffer | null {
  if (key === undefined || key === null) {
    // A key binding with a type makes the key part of the contract: the options type requires it too.
    if (validate && spec.kind !== 'bytes') throw invalidKey(operation, 'is required by the document (key binding)');
    return null;
  }
  if (Buffer.isBuffer(key)) return key;
  if (validate) {
    const ok =
      spec.kind === 'number'
        ? typeof key === 'number' && Number.isFinite(key)
        : spec.kind === 'string'
          ? typeof key === 'string' && (spec.values === undefined || spec.values.includes(key))
          : typeof key === 'string';
    if (!ok)
      throw invalidKey(
        operation,
        `must be ${spec.values ? `one of ${JSON.stringify(spec.values)}` : `a ${spec.kind === 'bytes' ? 'string or Buffer' : spec.kind}`}, got ${JSON.stringify(key)}`,
      );
  }
  return String(key);
}

function invalidKey(operation: string, message: string): EventValidationError {
  return new EventValidationError('invalid-key', `key of ${operation}`, [{ pointer: '', rule: 'key', message }]);
}

/** A received key, decoded as the document declares it. */
export function decodeKey(raw: Buffer | null, spec: KeySpec): string | number | null {
  if (raw === null) return null;
  const text = raw.toString('utf8');
  if (spec.kind !== 'number') return text;
  const value = Number(text);
  return text.trim() !== '' && Number.isFinite(value) ? value : null;
}

/** A record key as a trace attribute: text and numbers as given, bytes left out. */
export function keyAttribute(key: unknown): string | undefined {
  return typeof key === 'string' || typeof key === 'number' ? String(key) : undefined;
}

/** The envelope attributes a CONSUMER span is made from, read from a record's headers. */
export function traceContextOf(headers: Record<string, string>): Partial<CloudEventAttributes> {
  const prefix = KAFKA_HEADER_MAPPING.prefix;
  return {
    id: headers[`${prefix}id`],
    traceparent: headers[`${prefix}traceparent`],
    tracestate: headers[`${prefix}tracestate`],
    correlationid: headers[`${prefix}correlationid`],
  };
}
