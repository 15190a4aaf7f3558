// The CloudEvents ↔ NATS message mapping: envelope attributes in `ce-*` headers (percent-encoded per the
// NATS protocol binding, 3.1.3.2), and channel addresses ↔ subjects (with the client's subject prefix).
import { MsgHdrsImpl, type MsgHdrs } from '@nats-io/transport-node';
import type { HeaderMapping } from '../envelope.js';
import { concreteAddress } from '../operation.js';
import type { AnyNatsOperation, NatsOperation } from './options.js';

/**
 * The CloudEvents NATS protocol binding, binary content mode: every attribute travels as its own header
 * named `ce-<attribute>` (`datacontenttype` included), its value percent-encoded; the data is the body.
 */
export const NATS_HEADER_MAPPING: HeaderMapping = { prefix: 'ce-' };

// ---------------------------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------------------------

const utf8 = new TextEncoder();
const UNRESERVED = /^[\x21\x23\x24\x26-\x7e]*$/;
const UNRESERVED_CHAR = /^[\x21\x23\x24\x26-\x7e]$/;

/** Percent-encodes space, `"`, `%` and everything outside printable ASCII. */
export function encodeHeaderValue(value: string): string {
  if (UNRESERVED.test(value)) return value;
  let out = '';
  for (const char of value) {
    if (UNRESERVED_CHAR.test(char)) out += char;
    else for (const byte of utf8.encode(char)) out += '%' + (byte < 16 ? '0' : '') + byte.toString(16).toUpperCase();
  }
  return out;
}

/** Undoes `encodeHeaderValue` (and RFC 7230 double quotes); undefined when the value is not valid UTF-8. */
export function decodeHeaderValue(value: string): string | undefined {
  let text = value;
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1).replace(/\\(.)/g, '$1');
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
const LINE_BREAK = /[\r\n]/;

/** NATS headers from envelope and application headers: `ce-*` values percent-encoded, others as they are. */
export function toNatsHeaders(values: Record<string, string>): MsgHdrs {
  const record: Record<string, string[]> = Object.create(null);
  for (const key of Object.keys(values)) {
    let value = values[key]!;
    if (!HEADER_NAME.test(key))
      throw new TypeError(`${JSON.stringify(key)} is not a valid NATS header name (printable ASCII without ':')`);
    if (key.startsWith(NATS_HEADER_MAPPING.prefix)) value = encodeHeaderValue(value);
    else if (LINE_BREAK.test(value)) throw new TypeError(`the value of header ${key} holds a line break`);
    record[key] = [value];
  }
  // Names and values are checked above; building the headers directly skips the library's per-header lookups.
  return MsgHdrsImpl.fromRecord(record);
}

/** Headers of a received message, read: the record, and what made the envelope unreadable, if anything. */
export interface ReadHeaders {
  headers: Record<string, string>;
  error?: string;
}

/**
 * Headers of a received message as a record: the first value of each header; `ce-*` names lower-cased
 * (NATS header names are case-insensitive) and their values decoded; `Nats-*` headers (the server's own) left out.
 */
export function fromNatsHeaders(headers: MsgHdrs | undefined): ReadHeaders {
  const out: Record<string, string> = {};
  if (!headers) return { headers: out };
  let error: string | undefined;
  for (const [name, values] of headers) {
    if (values.length === 0 || name === '__proto__' || hasPrefix(name, 'nats-')) continue;
    if (hasPrefix(name, NATS_HEADER_MAPPING.prefix)) {
      const key = name.toLowerCase();
      const decoded = decodeHeaderValue(values[0]!);
      if (decoded === undefined) error ??= `header ${key} is not valid percent-encoded UTF-8`;
      else out[key] = decoded;
    } else {
      out[name] = values[0]!;
    }
  }
  return { headers: out, error };
}

/** `text` starts with `lowerPrefix` (letters and `-`), in any case. */
function hasPrefix(text: string, lowerPrefix: string): boolean {
  if (text.length < lowerPrefix.length) return false;
  for (let i = 0; i < lowerPrefix.length; i++)
    if ((text.charCodeAt(i) | 0x20) !== lowerPrefix.charCodeAt(i)) return false;
  return true;
}

/** NATS headers from values that may hold line breaks (error texts): the breaks become spaces. */
export function toSafeNatsHeaders(values: Record<string, string>): MsgHdrs {
  const out: Record<string, string> = {};
  for (const key of Object.keys(values)) out[key] = values[key]!.replace(/[\r\n]+/g, ' ');
  return toNatsHeaders(out);
}

/** The headers without the client's own `x-codegen-*` ones (dead-letter reasons, failures). */
export function withoutCodegenHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(headers)) if (!key.startsWith('x-codegen-')) out[key] = headers[key]!;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Subjects
// ---------------------------------------------------------------------------------------------

/** Maps the document's channel address to a NATS subject and back. */
export interface SubjectCodec {
  toSubject(address: string): string;
  toAddress(subject: string): string;
}

/** Addresses already written as NATS subjects (`orders.{region}.created`). */
export const dotSubjects: SubjectCodec = { toSubject: (address) => address, toAddress: (subject) => subject };

/** MQTT-style addresses (`devices/{id}/readings`): `/` separates tokens and becomes `.`. */
export function slashSubjects(leading: boolean, trailing: boolean): SubjectCodec {
  return {
    toSubject: (address) => address.slice(leading ? 1 : 0, trailing ? -1 : undefined).replace(/\//g, '.'),
    toAddress: (subject) => (leading ? '/' : '') + subject.replace(/\./g, '/') + (trailing ? '/' : ''),
  };
}

/** The subjects of one client: its operations' subjects and filters behind the subject prefix, and their dead-letter subjects. */
export class Subjects {
  constructor(
    readonly prefix: string,
    private readonly deadLetterPrefix: string,
  ) {}

  /** The subject of an outgoing event. */
  of<P>(
    operation: NatsOperation<unknown, unknown, P>,
    parameters: P | undefined,
    override: string | undefined,
    validate: boolean,
  ): string {
    if (override !== undefined) return override;
    if (operation.wildcard === null) throw noAddress(operation);
    return this.prefix + operation.subjects.toSubject(concreteAddress(operation.spec, parameters, validate));
  }

  /** The subject a consumer listens to. */
  filterOf(operation: AnyNatsOperation, override: string | undefined): string {
    if (override !== undefined) return override;
    if (operation.wildcard === null) throw noAddress(operation);
    return this.prefix + operation.wildcard;
  }

  /** Channel parameters of a received subject; undefined when the subject does not match the channel. */
  parametersOf<P>(operation: NatsOperation<unknown, unknown, P>, subject: string): P | undefined {
    if (operation.spec.parameterNames.length === 0) return {} as P;
    if (!subject.startsWith(this.prefix)) return undefined;
    return operation.spec.parseAddress(operation.subjects.toAddress(subject.slice(this.prefix.length)));
  }

  deadLetterOf(subject: string): string {
    const local = subject.startsWith(this.prefix) ? subject.slice(this.prefix.length) : subject;
    return this.prefix + this.deadLetterPrefix + local;
  }

  /** Span and metric name of an operation's destination: its subject filter (low cardinality), or the channel name. */
  destinationOf(operation: AnyNatsOperation): string {
    return operation.wildcard === null ? operation.spec.operation : this.prefix + operation.wildcard;
  }
}

function noAddress(operation: AnyNatsOperation): TypeError {
  return new TypeError(
    `${operation.spec.operation}: the document gives no address for this channel; pass the natsSubject option`,
  );
}
