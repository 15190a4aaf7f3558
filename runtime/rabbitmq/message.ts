// CloudEvents on AMQP 0-9-1 messages, binary content mode (after the CloudEvents AMQP protocol binding):
//
//   CloudEvents attribute        AMQP 0-9-1
//   datacontenttype          →   content-type property
//   every other attribute    →   header `cloudEvents:<name>` (`cloudEvents_<name>` is read too)
//   id                       →   also the message-id property
//   type                     →   also the type property, unless the message binding sets `messageType`
//   correlationid            →   also the correlation-id property (requests use their event id instead)
//   time                     →   also the timestamp property (seconds), when the operation binding asks for it
//
// The payload is the message body, encoded as the content type says. Routing keys and queue names are
// channel addresses with the parameters filled in (`formatAddress`) and read back (`parameterReader`).
import type { Message, Options } from 'amqplib';
import type { InboundEvent } from '../consumer.js';
import type { HeaderMapping } from '../envelope.js';
import { matchAddress, segment, type OperationSpec } from '../operation.js';
import type { OutboundEvent } from '../producer.js';
import type { ValidationResult } from '../validation.js';

/** `cloudEvents:` is the prefix of the AMQP binding; its later revisions prefer `cloudEvents_` (JMS-safe). */
export type CloudEventsPrefix = 'cloudEvents:' | 'cloudEvents_';

const PRIMARY_PREFIX = 'cloudEvents:';
const ALTERNATE_PREFIX = 'cloudEvents_';
/** Key of the content-type property among the headers handed to the shared pipeline. */
const CONTENT_TYPE = 'content-type';

export function outboundMapping(prefix: CloudEventsPrefix): HeaderMapping {
  return { prefix, contentTypeHeader: CONTENT_TYPE };
}

/** Received headers are normalised to this mapping, whichever prefix the producer used. */
export const INBOUND_MAPPING: HeaderMapping = { prefix: PRIMARY_PREFIX, contentTypeHeader: CONTENT_TYPE };

/** AMQP message properties an operation's bindings fix. */
export interface FixedProperties {
  deliveryMode?: 1 | 2;
  priority?: number;
  expiration?: number;
  mandatory?: boolean;
  cc?: readonly string[];
  bcc?: readonly string[];
  userId?: string;
  replyTo?: string;
  timestamp?: boolean;
  messageType?: string;
  contentEncoding?: string;
}

/** One AMQP message ready to go. */
export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  body: Buffer;
  options: Options.Publish;
}

/** An encoded event as an AMQP message to `target`. */
export function outgoingMessage(
  target: { exchange: string; routingKey: string },
  body: Uint8Array,
  options: Options.Publish,
): OutgoingMessage {
  return { exchange: target.exchange, routingKey: target.routingKey, body: toBuffer(body), options };
}

/** amqplib wants a Buffer; this one shares the encoded bytes instead of copying them. */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Per-publish choices; each one wins over the document's bindings. */
export interface AmqpPublishOptions {
  /** 0-255; the queue must be declared with `x-max-priority` for it to matter. */
  priority?: number;
  /** Per-message TTL in milliseconds. */
  expiration?: number | string;
  /** Persistent (delivery mode 2) unless the binding says `deliveryMode: 1`. */
  persistent?: boolean;
  /** Fail the publish when no queue is bound for the routing key. */
  mandatory?: boolean;
}

/** The AMQP publish options of an event: its envelope in headers and properties, the bindings, the overrides. */
export function publishOptions(
  event: OutboundEvent,
  fixed: FixedProperties,
  overrides: AmqpPublishOptions & { replyTo?: string; correlationId?: string },
): Options.Publish {
  const { envelope, headers } = event;
  // The content type travels in its own property, not among the headers. amqplib skips undefined
  // header values; assigning undefined (rather than `delete`) keeps the object fast to encode.
  headers[CONTENT_TYPE] = undefined as unknown as string;
  const options: Options.Publish = {
    headers,
    contentType: envelope.datacontenttype,
    messageId: envelope.id,
    type: fixed.messageType ?? envelope.type,
    persistent: overrides.persistent ?? fixed.deliveryMode !== 1,
    mandatory: overrides.mandatory ?? fixed.mandatory ?? false,
  };
  const correlationId = overrides.correlationId ?? envelope.correlationid;
  if (correlationId !== undefined) options.correlationId = correlationId;
  const replyTo = overrides.replyTo ?? fixed.replyTo;
  if (replyTo !== undefined) options.replyTo = replyTo;
  const priority = overrides.priority ?? fixed.priority;
  if (priority !== undefined) options.priority = priority;
  const expiration = overrides.expiration ?? fixed.expiration;
  if (expiration !== undefined) options.expiration = String(expiration);
  if (fixed.contentEncoding !== undefined) options.contentEncoding = fixed.contentEncoding;
  if (fixed.userId !== undefined) options.userId = fixed.userId;
  if (fixed.cc !== undefined) options.CC = [...fixed.cc];
  if (fixed.bcc !== undefined) options.BCC = [...fixed.bcc];
  if (fixed.timestamp === true && envelope.time !== undefined)
    options.timestamp = Math.floor(Date.parse(envelope.time) / 1000);
  return options;
}

/** Headers the broker adds on its own (dead-lettering, quorum queues): never part of the application's headers. */
const BROKER_HEADERS = /^(x-death|x-first-death-.*|x-last-death-.*|x-delivery-count|CC|BCC)$/;

/** A received message as the shared consumer pipeline takes it. */
export function inboundEvent(message: Message): InboundEvent {
  return { body: message.content, headers: inboundHeaders(message), deliveryAttempt: deliveryAttempt(message) };
}

/**
 * The message's headers with the CloudEvents attributes under one prefix and the content type added,
 * so the shared pipeline reads the envelope the same way whichever prefix the producer chose.
 */
export function inboundHeaders(message: Message): Record<string, unknown> {
  // A copy (spread defines `__proto__` as a plain key, never a prototype): the amqplib message stays as received.
  const headers: Record<string, unknown> = { ...message.properties.headers };
  for (const key of Object.keys(headers)) {
    if (BROKER_HEADERS.test(key)) delete headers[key];
    else if (key.startsWith(ALTERNATE_PREFIX)) renameAlternate(headers, key);
  }
  const contentType: unknown = message.properties.contentType;
  if (typeof contentType === 'string') headers[CONTENT_TYPE] = contentType;
  return headers;
}

/** `cloudEvents_id` → `cloudEvents:id`; when a producer sent both spellings, the binding's own prefix wins. */
function renameAlternate(headers: Record<string, unknown>, key: string): void {
  const name = PRIMARY_PREFIX + key.slice(ALTERNATE_PREFIX.length);
  if (!Object.prototype.hasOwnProperty.call(headers, name)) headers[name] = headers[key];
  delete headers[key];
}

/**
 * 1 on the first delivery. Quorum queues count deliveries (`x-delivery-count`); classic queues only say
 * "redelivered", which counts as the second attempt.
 */
export function deliveryAttempt(message: Message): number {
  if (!message.fields.redelivered) return 1;
  const count = Number(message.properties.headers?.['x-delivery-count']);
  return Number.isInteger(count) && count >= 1 ? count + 1 : 2;
}

/**
 * An address with its parameters left open: literal text and `{ parameter }` slots, in order.
 * `['orders.', { parameter: 'region' }, '.created']` is the routing key `orders.{region}.created`.
 */
export type AddressTemplate = ReadonlyArray<string | { parameter: string }>;

/** Fills in an address: every parameter value is checked, so no value can widen or redirect it. */
export function formatAddress(template: AddressTemplate, parameters: unknown): string {
  const values = (parameters ?? {}) as Record<string, unknown>;
  let text = '';
  for (const part of template)
    text += typeof part === 'string' ? part : segment(values[part.parameter], part.parameter);
  return text;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Reads parameter values back from a concrete routing key or queue name; undefined when it does not match. */
export function addressReader(template: AddressTemplate): (address: string) => Record<string, string> | undefined {
  const names = template
    .filter((part): part is { parameter: string } => typeof part !== 'string')
    .map((part) => part.parameter);
  if (names.length === 0) return () => ({});
  const pattern = new RegExp(
    '^' + template.map((part) => (typeof part === 'string' ? escapeRegExp(part) : '([^./*#\\s]+)')).join('') + '$',
  );
  return (address) => matchAddress(pattern, names, address);
}

/**
 * Reads typed channel parameters from a routing key (or queue name); validated unless validation is off.
 * A consumer sees few distinct routing keys, so results are remembered (a bounded number of them) and
 * each message gets its own copy.
 */
export function parameterReader<P>(
  spec: OperationSpec<unknown, unknown, P>,
  template: AddressTemplate,
  validate: boolean,
): (address: string) => ValidationResult<P> {
  const read = addressReader(template);
  const known = new Map<string, ValidationResult<P>>();
  const parse = (address: string): ValidationResult<P> => {
    const values = read(address);
    if (values === undefined)
      return {
        ok: false,
        issues: [{ pointer: '', rule: 'pattern', message: `"${address}" does not match the channel address` }],
      };
    return validate ? spec.validateParameters(values) : { ok: true, value: values as P };
  };
  return (address) => {
    let result = known.get(address);
    if (result === undefined) {
      if (known.size >= 1024) known.clear();
      result = parse(address);
      known.set(address, result);
    }
    return result.ok ? { ok: true, value: { ...result.value } } : result;
  };
}
