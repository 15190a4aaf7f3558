// The CloudEvents ↔ MQTT message mapping (the CloudEvents MQTT protocol binding). MQTT 5, binary content
// mode: every attribute is a user property named as the attribute, `datacontenttype` is the Content Type
// property, the data is the payload. MQTT 3.1.1 has no properties: structured content mode, the whole event
// one JSON document (`application/cloudevents+json`), application headers in its `codegenheaders` member.
import type { IClientPublishOptions, IPublishPacket } from 'mqtt';
import { decodeJson, decodeText, encodeText } from '../codec.js';
import { isEnvelopeHeader, type HeaderMapping } from '../envelope.js';
import type { DeadLetterReason } from '../errors.js';
import type { MqttVersion } from './options.js';

/** Attributes as user properties named as the attribute; `datacontenttype` as the Content Type property. */
export const MQTT_HEADER_MAPPING: HeaderMapping = { prefix: '', contentTypeHeader: 'content-type' };

/** The structured mode's member holding the application headers (a JSON object of strings). */
export const STRUCTURED_HEADERS = 'codegenheaders';

/** 3.1.1: where the response topic and correlation data of a request travel (MQTT 5 has properties for them). */
const RESPONSE_TOPIC_HEADER = 'x-codegen-response-topic';
const CORRELATION_DATA_HEADER = 'x-codegen-correlation-data';

/** An event as the client sends it, before it becomes an MQTT message. */
export interface OutgoingMessage {
  body: Uint8Array;
  /** Envelope and application headers, all strings. */
  headers: Record<string, string>;
  responseTopic?: string;
  correlationData?: string;
  messageExpirySeconds?: number;
}

/** A received MQTT message, read: what the consumer pipeline takes, and the request/reply properties. */
export interface ReadMessage {
  body: Uint8Array;
  headers: Record<string, string>;
  responseTopic?: string;
  correlationData?: string;
  /** Why the message could not be read as an event (a structured event that is not JSON, or not an event). */
  error?: { reason: DeadLetterReason; message: string };
}

/** The payload and publish properties of an event in the client's protocol version. */
export function toMqttMessage(
  message: OutgoingMessage,
  version: MqttVersion,
): { payload: Buffer; properties?: IClientPublishOptions['properties'] } {
  if (version === '3.1.1') return { payload: structured(message) };
  const userProperties: Record<string, string> = {};
  for (const key of Object.keys(message.headers))
    if (key !== MQTT_HEADER_MAPPING.contentTypeHeader) userProperties[key] = message.headers[key]!;
  const properties: NonNullable<IClientPublishOptions['properties']> = { userProperties };
  const contentType = message.headers[MQTT_HEADER_MAPPING.contentTypeHeader!];
  if (contentType !== undefined) properties.contentType = contentType;
  if (message.responseTopic !== undefined) properties.responseTopic = message.responseTopic;
  if (message.correlationData !== undefined) properties.correlationData = Buffer.from(message.correlationData);
  if (message.messageExpirySeconds !== undefined) properties.messageExpiryInterval = message.messageExpirySeconds;
  return { payload: toBuffer(message.body), properties };
}

/** The structured event: envelope attributes as members, `data` the payload, application headers in `codegenheaders`. */
function structured(message: OutgoingMessage): Buffer {
  const attributes: Record<string, string> = {};
  const headers: Record<string, string> = {};
  for (const key of Object.keys(message.headers)) {
    const value = message.headers[key]!;
    if (key === MQTT_HEADER_MAPPING.contentTypeHeader) attributes.datacontenttype = value;
    else if (isEnvelopeHeader(key, MQTT_HEADER_MAPPING)) attributes[key] = value;
    else defineOwn(headers, key, value);
  }
  if (message.responseTopic !== undefined) headers[RESPONSE_TOPIC_HEADER] = message.responseTopic;
  if (message.correlationData !== undefined) headers[CORRELATION_DATA_HEADER] = message.correlationData;
  // A binary payload (Avro) is `data_base64`, as the CloudEvents JSON format has it.
  if (isBinary(attributes.datacontenttype))
    return Buffer.from(
      JSON.stringify({
        ...attributes,
        [STRUCTURED_HEADERS]: headers,
        data_base64: toBuffer(message.body).toString('base64'),
      }),
    );
  const head = JSON.stringify({ ...attributes, [STRUCTURED_HEADERS]: headers });
  // The payload is already JSON: placed as `data` without parsing it again.
  const data = message.body.length === 0 ? 'null' : decodeText(message.body);
  return Buffer.from(`${head.slice(0, -1)},"data":${data}}`);
}

/** Reads a received message in the client's protocol version. */
export function fromMqttMessage(packet: IPublishPacket, version: MqttVersion): ReadMessage {
  const payload = typeof packet.payload === 'string' ? encodeText(packet.payload) : packet.payload;
  if (version === '3.1.1') return fromStructured(payload);
  const properties = packet.properties ?? {};
  const headers: Record<string, string> = {};
  const user = properties.userProperties ?? {};
  for (const key of Object.keys(user)) {
    const value = user[key];
    const text = Array.isArray(value) ? value[value.length - 1] : value;
    if (typeof text === 'string') defineOwn(headers, key, text);
  }
  if (properties.contentType !== undefined) headers[MQTT_HEADER_MAPPING.contentTypeHeader!] = properties.contentType;
  return {
    body: payload,
    headers,
    responseTopic: properties.responseTopic,
    correlationData: properties.correlationData?.toString('utf8'),
  };
}

function fromStructured(payload: Uint8Array): ReadMessage {
  const decoded = decodeJson(payload);
  if (!decoded.ok) return unreadable(payload, 'not-json', decoded.error);
  const event = decoded.value;
  if (event === null || typeof event !== 'object' || Array.isArray(event))
    return unreadable(payload, 'invalid-envelope', 'not a JSON object');
  const headers: Record<string, string> = {};
  const members = event as Record<string, unknown>;
  for (const key of Object.keys(members)) {
    const value = members[key];
    if (key === 'data' || key === 'data_base64' || key === STRUCTURED_HEADERS) continue;
    if (typeof value !== 'string') return unreadable(payload, 'invalid-envelope', `attribute ${key} is not a string`);
    if (key === 'datacontenttype') headers[MQTT_HEADER_MAPPING.contentTypeHeader!] = value;
    else defineOwn(headers, key, value);
  }
  const application = members[STRUCTURED_HEADERS];
  if (application !== null && typeof application === 'object')
    for (const [key, value] of Object.entries(application))
      if (typeof value === 'string' && !isEnvelopeHeader(key, MQTT_HEADER_MAPPING)) defineOwn(headers, key, value);
  const { [RESPONSE_TOPIC_HEADER]: responseTopic, [CORRELATION_DATA_HEADER]: correlationData } = headers;
  const body =
    typeof members.data_base64 === 'string'
      ? new Uint8Array(Buffer.from(members.data_base64, 'base64'))
      : members.data === undefined
        ? new Uint8Array(0)
        : encodeText(JSON.stringify(members.data));
  return { body, headers, responseTopic, correlationData };
}

/**
 * The content types of bodies a payload codec writes as bytes (runtime/avro: `application/avro`; a
 * Protobuf codec's `application/…protobuf`): carried base64-encoded in the structured event. Every
 * other body is the JSON text codegen writes, whatever `contentType` the document declares.
 */
function isBinary(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/(avro|(x-|vnd\.google\.)?protobuf)\b/i.test(contentType);
}

function unreadable(body: Uint8Array, reason: DeadLetterReason, message: string): ReadMessage {
  return { body, headers: {}, error: { reason, message: `structured event: ${message}` } };
}

/** A key set as an own property, even `__proto__`. */
function defineOwn(record: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Encoded bytes as MQTT.js sends them, without a copy. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The envelope attributes a CONSUMER span is made from, read from a message's headers. */
export function traceContextOf(headers: Record<string, string>): {
  id?: string;
  traceparent?: string;
  tracestate?: string;
  correlationid?: string;
} {
  return {
    id: headers.id,
    traceparent: headers.traceparent,
    tracestate: headers.tracestate,
    correlationid: headers.correlationid,
  };
}
