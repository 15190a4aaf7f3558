import { encodeJson, type EncodedPayload, type PayloadCodec } from './codec.js';
import { createEnvelope, writeEnvelopeHeaders, type CloudEventAttributes, type HeaderMapping } from './envelope.js';
import { EventValidationError } from './errors.js';
import { setOwn, type ValidationResult } from './validation.js';

/** Options every publish takes, on every broker. */
export interface PublishOptions<H> {
  /** Application headers, typed from the document. */
  headers?: H;
  /** Event id; a random UUID when absent. Also the de-duplication key for consumers. */
  id?: string;
  time?: string | Date;
  subject?: string;
  correlationId?: string;
  /** W3C trace context to continue; filled from the active span when OpenTelemetry is present. */
  traceparent?: string;
  tracestate?: string;
  /** Overrides the client's CloudEvents `source`. */
  source?: string;
  /** Validate payload and headers before sending (default: the client's setting, itself true by default). */
  validate?: boolean;
}

/** What a generated producer knows about the message it sends. */
export interface OutboundSpec<T, H> {
  operation: string;
  type: string;
  contentType: string;
  mapping: HeaderMapping;
  validatePayload(data: unknown): ValidationResult<T>;
  validateHeaders(data: unknown): ValidationResult<H>;
  /** The payload's encoding when it is not JSON (Avro). */
  codec?: PayloadCodec;
}

export interface OutboundEvent {
  body: Uint8Array;
  /** Envelope and application headers, all strings. */
  headers: Record<string, string>;
  envelope: CloudEventAttributes;
}

/** Validates, fills in the envelope and encodes as JSON: everything a publish does before the broker call. */
export function prepareOutbound<T, H>(
  spec: OutboundSpec<T, H>,
  payload: T,
  options: PublishOptions<H>,
  defaults: { source: string; validate: boolean },
): OutboundEvent {
  checkOutbound(spec, payload, options, defaults.validate);
  return outboundEvent(spec, options, defaults, { body: encodeJson(payload), datacontenttype: spec.contentType });
}

/**
 * Prepares an event in its payload's encoding (JSON, or the spec's codec: Avro), validated before
 * anything is encoded or registered. Every broker sends through here. At once when the encoding can
 * answer at once (JSON; Avro once its schema id is known); a promise while a codec asks a schema
 * registry. `address`: the destination as the broker names it (topic, subject), which names the
 * registry subject.
 */
export function prepareEvent<T, H>(
  spec: OutboundSpec<T, H>,
  payload: T,
  options: PublishOptions<H>,
  defaults: { source: string; validate: boolean },
  address: string,
): OutboundEvent | Promise<OutboundEvent> {
  if (!spec.codec) return prepareOutbound(spec, payload, options, defaults);
  checkOutbound(spec, payload, options, defaults.validate);
  const encoded = spec.codec.encode(payload, address, spec.operation);
  return encoded instanceof Promise
    ? encoded.then((ready) => outboundEvent(spec, options, defaults, ready))
    : outboundEvent(spec, options, defaults, encoded);
}

/**
 * Runs `next` on what `prepareEvent` made: at once when it is ready (JSON), once the promise resolves
 * when it is not (a schema registry was asked), so a JSON publish keeps its single promise.
 */
export function afterPrepared<E, R>(event: E | Promise<E>, next: (event: E) => Promise<R>): Promise<R> {
  return event instanceof Promise ? event.then(next) : next(event);
}

function checkOutbound<T, H>(
  spec: OutboundSpec<T, H>,
  payload: T,
  options: PublishOptions<H>,
  validate: boolean,
): void {
  if (options.validate ?? validate) {
    const checked = spec.validatePayload(payload);
    if (!checked.ok) throw new EventValidationError('invalid-payload', `payload of ${spec.operation}`, checked.issues);
    // Absent headers are validated too (as an empty set), so a required header is never left out.
    // A copy: header validators coerce types in place, and the caller's object must stay as given.
    const headers = spec.validateHeaders(options.headers === undefined ? {} : copyOf(options.headers));
    if (!headers.ok) throw new EventValidationError('invalid-headers', `headers of ${spec.operation}`, headers.issues);
  }
}

function outboundEvent<T, H>(
  spec: OutboundSpec<T, H>,
  options: PublishOptions<H>,
  defaults: { source: string },
  encoded: EncodedPayload,
): OutboundEvent {
  const envelope = createEnvelope({
    type: spec.type,
    source: options.source ?? defaults.source,
    id: options.id,
    time: options.time,
    subject: options.subject,
    datacontenttype: encoded.datacontenttype,
    dataschema: encoded.dataschema,
    traceparent: options.traceparent,
    tracestate: options.tracestate,
    correlationid: options.correlationId,
  });
  // One object: the application's headers, then the envelope's over them (an envelope header always wins).
  const headers: Record<string, string> = {};
  const appHeaders = options.headers as Record<string, unknown> | undefined;
  if (appHeaders !== undefined && appHeaders !== null) {
    for (const key of Object.keys(appHeaders)) {
      const value = appHeaders[key];
      if (value === undefined || value === null) continue;
      setOwn(headers, key, typeof value === 'string' ? value : JSON.stringify(value));
    }
  }
  writeEnvelopeHeaders(envelope, spec.mapping, headers);
  return { body: encoded.body, headers, envelope };
}

/** A copy to validate: shallow when every value is a scalar (the usual headers: 10× cheaper), else deep. */
function copyOf<V>(value: V): V {
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const item = record[key];
    if (item !== null && typeof item === 'object') return structuredClone(value);
  }
  return { ...record } as V;
}
