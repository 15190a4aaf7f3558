/**
 * The intermediate model: one shape for AsyncAPI 2.x and 3.x, independent of any broker.
 * Every node keeps where it came from (file + JSON pointer), so errors and diff findings can point there.
 * Identifiers (`name`, `typeName`, ...) are already valid, unique TypeScript names: templates only place them.
 */
import type { SourceLocation } from '../errors.js';

import type { Diagnostic } from '../errors.js';

export type JsonSchema = Record<string, unknown> | boolean;

/** Where a model node is written (file and JSON pointer; line and column when they were looked up). */
export type Origin = SourceLocation;

export type Action = 'send' | 'receive';

/** Raw binding objects per protocol (`amqp`, `kafka`, `nats`, ...), traits already applied. */
export type Bindings = Record<string, Record<string, unknown>>;

export interface ApiModel {
  /** The `asyncapi` field as written, e.g. "2.6.0". */
  asyncapiVersion: string;
  info: { title: string; version: string; description?: string };
  defaultContentType: string;
  servers: ServerModel[];
  channels: ChannelModel[];
  operations: OperationModel[];
  messages: MessageModel[];
  /**
   * Every named JSON Schema used by payloads, headers and parameters. Schemas refer to each other
   * with `{ "$ref": "#/definitions/<typeName>" }`, so recursion stays finite.
   */
  schemas: Record<string, JsonSchema>;
  /** Where each entry of `schemas` came from. */
  schemaOrigins: Record<string, Origin>;
  /** The `title` of schema objects in `schemas` (not part of the copies: names come from the model). */
  schemaTitles?: WeakMap<object, string>;
  origin: Origin;
  /** What the model left out of the schemas that looks like a mistake (an unknown keyword holding a schema). */
  warnings: Diagnostic[];
}

export interface ServerModel {
  id: string;
  /** host[:port] (3.x `host`, or the 2.x `url` without protocol). */
  host: string;
  protocol: string;
  protocolVersion?: string;
  pathname?: string;
  description?: string;
  bindings: Bindings;
  origin: Origin;
}

export interface ParameterModel {
  /** Name as in the address: `{region}` → `region`. */
  name: string;
  /** Property name in the generated parameters type (same as `name`, quoted when needed). */
  propertyName: string;
  description?: string;
  /** A JSON Schema for the value; 3.x parameters are strings with optional enum/default. */
  schema: JsonSchema;
  /** Literal values when the parameter is an enum. */
  enum?: string[];
  default?: string;
  origin: Origin;
}

export interface ChannelModel {
  /** Key in the document (3.x) or the address (2.x). */
  id: string;
  /** Identifier stem, unique among channels: `lightingMeasured`. */
  name: string;
  /** The address with `{param}` placeholders; null when the document leaves it unknown. */
  address: string | null;
  parameters: ParameterModel[];
  /** Type name of the channel-parameter set, when there are parameters. */
  parametersTypeName?: string;
  /** Ids of the messages that may travel on this channel. */
  messageIds: string[];
  description?: string;
  bindings: Bindings;
  servers: string[];
  origin: Origin;
}

export interface ReplyModel {
  /** Channel the reply travels on, when the document fixes it. */
  channelId?: string;
  /** Address of the reply channel (may be null: dynamic, via replyTo). */
  address: string | null;
  /** Runtime expression for a dynamic reply address (`$message.header#/replyTo`). */
  addressLocation?: string;
  messageIds: string[];
  origin: Origin;
}

export interface OperationModel {
  /** Key (3.x) or operationId (2.x), or a derived name. */
  id: string;
  /** Identifier stem, unique among operations: `receiveLightMeasurement`. */
  name: string;
  /** From the application's point of view. */
  action: Action;
  channelId: string;
  messageIds: string[];
  reply?: ReplyModel;
  summary?: string;
  description?: string;
  bindings: Bindings;
  origin: Origin;
}

export interface CorrelationIdModel {
  /** Runtime expression, e.g. `$message.header#/correlationId`. */
  location: string;
  description?: string;
}

export interface MessageExample {
  name?: string;
  payload?: unknown;
  headers?: Record<string, unknown>;
}

export interface MessageModel {
  /** Key in components.messages, messageId, or name: unique. */
  id: string;
  /** Identifier stem, unique among messages: `lightMeasured`. */
  name: string;
  /** The `name` field of the message, as written (used as the CloudEvents `type` default). */
  messageName?: string;
  /** The CloudEvents `type` pinned by the `x-cloudevents-type` extension (wins over `name` and the key). */
  cloudEventsType?: string;
  title?: string;
  summary?: string;
  description?: string;
  contentType: string;
  /** schemaFormat of the payload (AsyncAPI/JSON Schema, or Avro...). */
  schemaFormat: string;
  /** Type name in `schemas` for the payload (always present: `unknown` payloads get `{}`). */
  payloadTypeName: string;
  /**
   * The payload schema as written (`$ref` to it followed), when its `schemaFormat` is not JSON Schema
   * (Avro, ...): `schemas[payloadTypeName]` is then `{}`. Used by `diff` to compare Avro payloads.
   */
  payloadRaw?: unknown;
  /** Where `payloadRaw` is written (the `schema` of a 3.x multi-format schema, or `payload`). */
  payloadOrigin?: Origin;
  /** An Avro payload's schema as JSON text (what is registered and what the run-time codec reads). */
  avroSchema?: string;
  /** A Protobuf payload's descriptor, `.proto` text and message indexes as JSON text (what the run-time codec reads). */
  protobufSchema?: string;
  /** Type name in `schemas` for the headers, when the message defines headers. */
  headersTypeName?: string;
  correlationId?: CorrelationIdModel;
  examples: MessageExample[];
  bindings: Bindings;
  deprecated?: boolean;
  origin: Origin;
}
