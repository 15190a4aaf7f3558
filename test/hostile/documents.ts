import fc from 'fast-check';
import { stringify } from 'yaml';
import { CANARY, componentKey, hostileText, parameterName, templateLiteral, templateVariable } from './strings.js';

/**
 * Random VALID AsyncAPI 3.0 and 2.6 documents whose every name and text is hostile. fast-check draws
 * the raw material (`RawDocument`); `buildDocument` assembles it into a document that satisfies the
 * AsyncAPI schema and the parser's semantic rules (references resolve, operation messages belong to
 * their channel, address parameters are declared, ids are unique), so the generator must accept it.
 */

export type AsyncApiVersion = '3.0.0' | '2.6.0';

export interface HostileDocument {
  version: AsyncApiVersion;
  /** How many independent cases (fragments) the document merges. */
  cases: number;
  format: 'json' | 'yaml';
  /** The document as written to disk. */
  text: string;
  /** Every string the document provides (map keys and values), for the output scan. */
  strings: Set<string>;
  /** What the generated code must reproduce exactly (checked at run time of the emitted JS). */
  expect: Expectations;
  /** Other files of the document (path relative to the document's folder → text), which it references. */
  files?: Record<string, string>;
}

export interface Expectations {
  title: string;
  version: string;
  /** Per operation id: the channel address (with `{param}` placeholders) and its parameter names. */
  operations: Array<{ id: string; address: string | null; parameters: string[] }>;
}

// ---- raw material ----------------------------------------------------------------------------

export type RawSchema =
  | { kind: 'string'; description?: string; default?: string; pattern?: string; maxLength?: number; keywords?: ExtraKeywords }
  | { kind: 'enum'; values: Array<string | number | boolean | null>; description?: string }
  | { kind: 'const'; value: string }
  | { kind: 'number'; integer: boolean; description?: string }
  | { kind: 'boolean' }
  | { kind: 'null' }
  | { kind: 'ref'; index: number }
  /** A schema written as it is (ref-placement.ts): its strings are plain names, not hostile text. */
  | { kind: 'json'; value: Json }
  | { kind: 'array'; items: RawSchema; description?: string }
  | { kind: 'object'; properties: Array<[string, RawSchema]>; required: boolean[]; additional?: boolean; description?: string; keywords?: ExtraKeywords };

/**
 * Keywords that are no JSON Schema validation keywords but that tools act on: json-schema-to-typescript
 * writes `tsType` as a type and `tsEnumNames` as enum members; ajv compiles `$async` schemas into
 * promise-returning validators; titles and comments are free text.
 */
interface ExtraKeywords {
  title?: string;
  comment?: string;
  tsType?: string;
  async?: boolean;
  extension?: string;
  deprecated?: boolean;
  examples?: string[];
}

interface RawMessage {
  key: string;
  /** Defined in components.messages (and referenced) rather than inline. */
  component?: string;
  name?: string;
  messageId?: string;
  title?: string;
  summary?: string;
  description?: string;
  contentType?: string;
  payload: RawSchema;
  headers?: Array<[string, RawSchema]>;
  correlationHeader?: string;
  kafkaKeys?: string[];
  amqpMessageType?: string;
}

interface RawAddressPart {
  literal?: string;
  parameter?: string;
}

interface RawChannel {
  key: string;
  address: RawAddressPart[] | null;
  description?: string;
  title?: string;
  parameterTexts: Array<{ description?: string; enum?: string[]; default?: boolean }>;
  messages: RawMessage[];
  amqp?: { queue: boolean; name: string; type: 'topic' | 'direct' | 'fanout' | 'headers' };
  kafkaTopic?: string;
}

interface RawOperation {
  key: string;
  send: boolean;
  channel: number;
  /** Subset of the channel's messages (by index), or all when empty. */
  messages: number[];
  summary?: string;
  description?: string;
  reply?: { channel: number; header?: string };
  natsQueue?: string;
  kafkaGroup?: string;
  kafkaClientId?: string;
  amqpCc?: string[];
  amqpUserId?: string;
}

export interface RawDocument {
  title: string;
  version: string;
  description?: string;
  servers: Array<{ key: string; host: string; protocol: 'amqp' | 'kafka' | 'nats'; description?: string }>;
  schemas: Array<{ key: string; schema: RawSchema }>;
  channels: RawChannel[];
  operations: RawOperation[];
  format: 'json' | 'yaml';
}

function optional<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arbitrary, { nil: undefined, freq: 2 });
}

function rawSchema(text: fc.Arbitrary<string>): fc.Arbitrary<RawSchema> {
  const keywords: fc.Arbitrary<ExtraKeywords> = fc.record(
    {
      title: text,
      comment: text,
      tsType: fc.constantFrom('string; PWNED()', 'any } declare function PWNED(): void; interface X {', '"/* PWNED */"'),
      async: fc.constant(true),
      extension: text,
      deprecated: fc.boolean(),
      examples: fc.array(text, { maxLength: 2 }),
    },
    { requiredKeys: [] },
  );
  const { schema } = fc.letrec<{ schema: RawSchema; leaf: RawSchema; object: RawSchema; array: RawSchema }>((tie) => ({
    schema: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('object'), tie('array')),
    leaf: fc.oneof(
      fc.record({ kind: fc.constant('string' as const), description: optional(text), default: optional(text), pattern: optional(text), maxLength: optional(fc.integer({ min: 0, max: 500 })), keywords: optional(keywords) }, { requiredKeys: ['kind'] }),
      fc.record({
        kind: fc.constant('enum' as const),
        values: fc.uniqueArray(fc.oneof(text, fc.constantFrom(0, -1, 1.5, 1e21, 9007199254740993, true, false, null)), { minLength: 1, maxLength: 4, selector: (v) => JSON.stringify(v) }),
        description: optional(text),
      }, { requiredKeys: ['kind', 'values'] }),
      fc.record({ kind: fc.constant('const' as const), value: text }),
      fc.record({ kind: fc.constant('number' as const), integer: fc.boolean(), description: optional(text) }, { requiredKeys: ['kind', 'integer'] }),
      fc.constant({ kind: 'boolean' as const }),
      fc.constant({ kind: 'null' as const }),
      fc.record({ kind: fc.constant('ref' as const), index: fc.nat(7) }),
    ),
    object: fc.record({
      kind: fc.constant('object' as const),
      properties: fc.array(fc.tuple(text, tie('schema')), { maxLength: 4 }),
      required: fc.array(fc.boolean(), { maxLength: 5 }),
      additional: optional(fc.boolean()),
      description: optional(text),
      keywords: optional(keywords),
    }, { requiredKeys: ['kind', 'properties', 'required'] }),
    array: fc.record({ kind: fc.constant('array' as const), items: tie('schema'), description: optional(text) }, { requiredKeys: ['kind', 'items'] }),
  }));
  return schema;
}

function rawDocument(version: AsyncApiVersion, extraNames: readonly string[]): fc.Arbitrary<RawDocument> {
  const text = hostileText(extraNames);
  const schema = rawSchema(text);
  const headerLeaf = fc.oneof(
    fc.constant<RawSchema>({ kind: 'string' }),
    fc.constant<RawSchema>({ kind: 'number', integer: true }),
    fc.constant<RawSchema>({ kind: 'boolean' }),
    text.map<RawSchema>((value) => ({ kind: 'enum', values: [value] })),
  );
  const v3 = version === '3.0.0';
  const addressPart: fc.Arbitrary<RawAddressPart> = v3
    ? fc.oneof(text.map((literal) => ({ literal: literal.replace(/[{}]/g, '') })), parameterName(extraNames).map((parameter) => ({ parameter })))
    : fc.oneof(templateLiteral().map((literal) => ({ literal })), templateVariable(extraNames).map((parameter) => ({ parameter })));
  const message: fc.Arbitrary<RawMessage> = fc.record(
    {
      key: text,
      component: optional(componentKey(extraNames)),
      name: optional(text),
      messageId: optional(text),
      title: optional(text),
      summary: optional(text),
      description: optional(text),
      contentType: optional(fc.constantFrom('application/json', 'application/cloudevents+json', 'application/vnd.x"y+json', 'text/plain; charset="utf-8"')),
      payload: schema,
      headers: optional(fc.array(fc.tuple(text, headerLeaf), { maxLength: 4 })),
      correlationHeader: optional(text),
      kafkaKeys: optional(fc.array(text, { minLength: 1, maxLength: 3 })),
      amqpMessageType: optional(text),
    },
    { requiredKeys: ['key', 'payload'] },
  );
  const channel: fc.Arbitrary<RawChannel> = fc.record(
    {
      key: text,
      address: fc.option(fc.array(addressPart, { minLength: 1, maxLength: 5 }), { nil: null, freq: 8 }),
      description: optional(text),
      title: optional(text),
      parameterTexts: fc.array(fc.record({ description: optional(text), enum: optional(fc.uniqueArray(text, { minLength: 1, maxLength: 3 })), default: optional(fc.boolean()) }), { maxLength: 5 }),
      messages: fc.array(message, { minLength: 1, maxLength: 2 }),
      amqp: optional(fc.record({ queue: fc.boolean(), name: text.map((t) => t.slice(0, 200)), type: fc.constantFrom('topic' as const, 'direct' as const, 'fanout' as const, 'headers' as const) })),
      kafkaTopic: optional(text),
    },
    { requiredKeys: ['key', 'address', 'parameterTexts', 'messages'] },
  );
  const operation: fc.Arbitrary<RawOperation> = fc.record(
    {
      key: text,
      send: fc.boolean(),
      channel: fc.nat(),
      messages: fc.array(fc.nat(3), { maxLength: 2 }),
      summary: optional(text),
      description: optional(text),
      reply: optional(fc.record({ channel: fc.nat(), header: optional(text) }, { requiredKeys: ['channel'] })),
      natsQueue: optional(text.map((t) => t.slice(0, 200))),
      kafkaGroup: optional(text),
      kafkaClientId: optional(text),
      amqpCc: optional(fc.array(text, { maxLength: 2 })),
      amqpUserId: optional(text),
    },
    { requiredKeys: ['key', 'send', 'channel', 'messages'] },
  );
  return fc.record(
    {
      title: text,
      version: text,
      description: optional(text),
      servers: fc.array(fc.record({ key: componentKey(extraNames), host: text, protocol: fc.constantFrom('amqp' as const, 'kafka' as const, 'nats' as const), description: optional(text) }, { requiredKeys: ['key', 'host', 'protocol'] }), { maxLength: 3 }),
      schemas: fc.array(fc.record({ key: componentKey(extraNames), schema }), { maxLength: 2 }),
      channels: fc.array(channel, { minLength: 1, maxLength: 1 }),
      operations: fc.array(operation, { minLength: 1, maxLength: 2 }),
      format: fc.constantFrom('json' as const, 'json' as const, 'yaml' as const),
    },
    { requiredKeys: ['title', 'version', 'servers', 'schemas', 'channels', 'operations', 'format'] },
  );
}

/** A random hostile document of one AsyncAPI version. `extraNames` adds names the generated code already uses. */
export function hostileDocument(version: AsyncApiVersion, extraNames: readonly string[] = []): fc.Arbitrary<HostileDocument> {
  return rawDocument(version, extraNames).map((raw) => buildDocument(raw, version));
}

/**
 * `cases` independent hostile fragments (each its own channels, operations, messages and schemas)
 * merged into ONE document, so that one generation and one compilation check many cases at once,
 * and names of different cases collide with each other too. Schema references may cross cases.
 */
export function hostileDocumentOfCases(version: AsyncApiVersion, cases: number, extraNames: readonly string[] = []): fc.Arbitrary<HostileDocument> {
  return fc.array(rawDocument(version, extraNames), { minLength: cases, maxLength: cases }).map((fragments) => buildDocument(mergeFragments(fragments), version, fragments.length));
}

function mergeFragments(fragments: RawDocument[]): RawDocument {
  const first = fragments[0]!;
  const merged: RawDocument = { ...first, servers: [], schemas: [], channels: [], operations: [] };
  for (const fragment of fragments) {
    const offset = merged.channels.length;
    const local = (index: number) => offset + (index % fragment.channels.length);
    merged.servers.push(...fragment.servers.slice(0, 1));
    merged.schemas.push(...fragment.schemas);
    merged.channels.push(...fragment.channels);
    merged.operations.push(...fragment.operations.map((o) => ({ ...o, channel: local(o.channel), reply: o.reply && { ...o.reply, channel: local(o.reply.channel) } })));
  }
  return merged;
}

// ---- assembly --------------------------------------------------------------------------------

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Sets a key without ever invoking the `__proto__` setter. */
function put(target: Record<string, Json>, key: string, value: Json | undefined): void {
  if (value === undefined) return;
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function object(entries: Array<[string, Json | undefined]>): { [key: string]: Json } {
  const out: Record<string, Json> = {};
  for (const [key, value] of entries) put(out, key, value);
  return out;
}

/**
 * A plain identifier holding the canary would be placed bare (as it may be): the canary stays for
 * text with punctuation only.
 */
function defuse(text: string): string {
  // Lone surrogates are refused by the loader (tested on their own): documents here are valid Unicode.
  const valid = wellFormed(text);
  return /^[A-Za-z_$][\w$]*$/.test(valid) ? valid.replace(new RegExp(CANARY, 'g'), 'pwned') : valid;
}

/** Replaces lone surrogates (which cannot be URI-encoded) with U+FFFD. */
function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/**
 * A key that appears inside a `$ref`: well-formed Unicode, without NUL (the reference parser loses
 * track of such keys) and never empty (it crashes on an empty message key).
 */
function refSafe(text: string): string {
  return defuse(text).replace(/\u0000/g, '') || '_';
}

/** Text allowed as the literal part of an RFC 6570 URI template (2.x channel addresses). */
function uriLiteral(text: string): string {
  return wellFormed(text).replace(/[\u0000-\u0020"'<>%\\^`{|}\u007f\ufffd?#]/g, '');
}

/** A JSON pointer segment written into a `$ref` (RFC 6901 escaped, then URI-encoded). */
function refSegment(key: string): string {
  return encodeURIComponent(key.replace(/~/g, '~0').replace(/\//g, '~1'));
}

/** Escapes text so it matches itself as a `u`-mode regular expression. */
function literalPattern(text: string): string {
  return wellFormed(text).replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

class Assembler {
  readonly strings = new Set<string>();
  private readonly schemaKeys: string[];

  constructor(
    private readonly raw: RawDocument,
    private readonly version: AsyncApiVersion,
  ) {
    this.schemaKeys = unique(raw.schemas.map((s) => defuse(s.key)));
  }

  /** Records a document string and returns it. */
  s(text: string | undefined): string | undefined {
    if (text === undefined) return undefined;
    const value = defuse(text);
    this.strings.add(value);
    return value;
  }

  schema(raw: RawSchema, depth = 0): Json {
    switch (raw.kind) {
      case 'string': {
        const pattern = raw.pattern === undefined ? undefined : literalPattern(this.s(raw.pattern)!);
        if (pattern !== undefined) this.strings.add(pattern);
        // A default must satisfy the schema (the parser checks): only without pattern and length.
        const fallback = pattern === undefined && raw.maxLength === undefined ? this.s(raw.default) : undefined;
        return object([['type', 'string'], ['description', this.s(raw.description)], ['pattern', pattern], ['maxLength', raw.maxLength], ['default', fallback], ...this.keywords(raw.keywords, pattern === undefined && raw.maxLength === undefined)]);
      }
      case 'enum':
        return object([['enum', raw.values.map((v) => (typeof v === 'string' ? this.s(v)! : v))], ['description', this.s(raw.description)]]);
      case 'const':
        return object([['const', this.s(raw.value)]]);
      case 'number':
        return object([['type', raw.integer ? 'integer' : 'number'], ['description', this.s(raw.description)]]);
      case 'boolean':
        return { type: 'boolean' };
      case 'null':
        return { type: 'null' };
      case 'json':
        return raw.value;
      case 'ref':
        if (this.schemaKeys.length === 0) return { type: 'string' };
        return { $ref: `#/components/schemas/${refSegment(this.schemaKeys[raw.index % this.schemaKeys.length]!)}` };
      case 'array':
        return object([['type', 'array'], ['items', depth > 6 ? {} : this.schema(raw.items, depth + 1)], ['description', this.s(raw.description)]]);
      case 'object': {
        const properties: Array<[string, Json]> = [];
        const seen = new Set<string>();
        for (const [key, value] of raw.properties) {
          const name = this.s(key)!;
          if (seen.has(name)) continue;
          seen.add(name);
          properties.push([name, depth > 6 ? {} : this.schema(value, depth + 1)]);
        }
        const required = properties.filter((_, i) => raw.required[i]).map(([name]) => name);
        return object([
          ['type', 'object'],
          ['description', this.s(raw.description)],
          ['properties', object(properties)],
          ['required', required.length > 0 ? required : undefined],
          ['additionalProperties', raw.additional],
          ...this.keywords(raw.keywords, false),
        ]);
      }
    }
  }

  keywords(raw: ExtraKeywords | undefined, examplesFit: boolean): Array<[string, Json | undefined]> {
    if (!raw) return [];
    return [
      ['title', this.s(raw.title)],
      ['$comment', this.s(raw.comment)],
      ['tsType', this.s(raw.tsType)],
      ['$async', raw.async],
      ['x-note', this.s(raw.extension)],
      ['deprecated', raw.deprecated],
      // Examples must satisfy the schema (the parser checks): only where any string does.
      ['examples', examplesFit && raw.examples ? raw.examples.map((e) => this.s(e)!) : undefined],
    ];
  }

  headers(raw: Array<[string, RawSchema]> | undefined): Json | undefined {
    if (!raw) return undefined;
    const seen = new Set<string>();
    const properties: Array<[string, Json]> = [];
    for (const [key, value] of raw) {
      const name = this.s(key)!;
      if (seen.has(name)) continue;
      seen.add(name);
      properties.push([name, this.schema(value)]);
    }
    return object([['type', 'object'], ['properties', object(properties)]]);
  }

  message(raw: RawMessage, messageIds: Set<string>): Json {
    const v3 = this.version === '3.0.0';
    let messageId: string | undefined;
    if (!v3 && raw.messageId !== undefined) {
      messageId = this.s(raw.messageId)!;
      if (messageIds.has(messageId)) messageId = undefined;
      else messageIds.add(messageId);
    }
    const correlation = raw.correlationHeader === undefined ? undefined : this.s(raw.correlationHeader)!;
    const bindings = object([
      ['kafka', raw.kafkaKeys ? object([['key', object([['type', 'string'], ['enum', unique(raw.kafkaKeys.map((k) => this.s(k)!))]])], ['bindingVersion', v3 ? '0.5.0' : '0.4.0']]) : undefined],
      ['amqp', raw.amqpMessageType !== undefined ? object([['messageType', this.s(raw.amqpMessageType)], ['bindingVersion', v3 ? '0.3.0' : '0.2.0']]) : undefined],
    ]);
    return object([
      ['messageId', messageId],
      ['name', this.s(raw.name)],
      ['title', this.s(raw.title)],
      ['summary', this.s(raw.summary)],
      ['description', this.s(raw.description)],
      ['contentType', raw.contentType],
      ['payload', this.schema(raw.payload)],
      ['headers', this.headers(raw.headers)],
      ['correlationId', correlation === undefined ? undefined : { location: `$message.header#/${correlation.replace(/~/g, '~0').replace(/\//g, '~1')}` }],
      ['bindings', Object.keys(bindings).length > 0 ? bindings : undefined],
    ]);
  }

  /** The address text and its parameter names (unique, in order). */
  address(parts: RawAddressPart[] | null): { address: string | null; parameters: string[] } {
    if (parts === null) return { address: null, parameters: [] };
    const parameters: string[] = [];
    let address = '';
    for (const part of parts) {
      if (part.parameter !== undefined) {
        const name = defuse(part.parameter);
        if (parameters.includes(name)) continue;
        parameters.push(name);
        this.strings.add(name);
        address += `{${name}}`;
      } else {
        address += defuse(part.literal ?? '');
      }
    }
    this.strings.add(address);
    return { address, parameters };
  }

  components(messages: Array<[string, Json]>): Json {
    // A component that is only a reference could form a loop of references with no schema in it.
    const top = (raw: RawSchema): RawSchema => (raw.kind === 'ref' ? { kind: 'array', items: raw } : raw);
    const schemas = object(this.raw.schemas.filter((s, i, all) => all.findIndex((o) => defuse(o.key) === defuse(s.key)) === i).map((s) => [this.s(s.key)!, this.schema(top(s.schema))]));
    return object([
      ['schemas', Object.keys(schemas).length > 0 ? schemas : undefined],
      ['messages', messages.length > 0 ? object(messages) : undefined],
    ]);
  }

  servers(): Json | undefined {
    const v3 = this.version === '3.0.0';
    const entries: Array<[string, Json]> = [];
    const seen = new Set<string>();
    for (const server of this.raw.servers) {
      const key = defuse(server.key);
      if (seen.has(key)) continue;
      seen.add(key);
      this.strings.add(key);
      entries.push([key, object([[v3 ? 'host' : 'url', this.s(server.host)], ['protocol', server.protocol], ['description', this.s(server.description)]])]);
    }
    return entries.length > 0 ? object(entries) : undefined;
  }
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

export function buildDocument(raw: RawDocument, version: AsyncApiVersion, cases = 1): HostileDocument {
  const build = version === '3.0.0' ? buildV3 : buildV2;
  const { data, strings, expect } = build(raw);
  const text = raw.format === 'json' ? JSON.stringify(data, null, 1) : stringify(data, { lineWidth: 0 });
  return { version, cases, format: raw.format, text, strings, expect };
}

function info(a: Assembler, raw: RawDocument): Json {
  return object([['title', a.s(raw.title)], ['version', a.s(raw.version)], ['description', a.s(raw.description)]]);
}

function buildV3(raw: RawDocument): { data: Json; strings: Set<string>; expect: Expectations } {
  const a = new Assembler(raw, '3.0.0');
  const componentMessages: Array<[string, Json]> = [];
  const componentKeys = new Set<string>();
  const channels: Array<[string, Json]> = [];
  const channelInfo: Array<{ key: string; messageKeys: string[]; address: string | null; parameters: string[] }> = [];
  const channelKeys = new Set<string>();
  for (const channel of raw.channels) {
    // The parser's rule asyncapi3-channel-no-query-nor-fragment: no `?` or `#` in a channel key.
    const key = refSafe(channel.key).replace(/[?#]/g, '') || 'channel';
    if (channelKeys.has(key)) continue;
    channelKeys.add(key);
    a.strings.add(key);
    const { address, parameters } = a.address(channel.address);
    const messages: Array<[string, Json]> = [];
    for (const message of channel.messages) {
      const messageKey = refSafe(message.key);
      if (messages.some(([k]) => k === messageKey)) continue;
      a.strings.add(messageKey);
      const body = a.message(message, new Set());
      if (message.component !== undefined && !componentKeys.has(defuse(message.component))) {
        const component = defuse(message.component);
        componentKeys.add(component);
        a.strings.add(component);
        componentMessages.push([component, body]);
        messages.push([messageKey, { $ref: `#/components/messages/${refSegment(component)}` }]);
      } else {
        messages.push([messageKey, body]);
      }
    }
    const parameterObjects = parameters.map((name, i): [string, Json] => {
      const texts = channel.parameterTexts[i] ?? {};
      const values = texts.enum ? unique(texts.enum.map((v) => a.s(v)!)) : undefined;
      return [name, object([['description', a.s(texts.description)], ['enum', values], ['default', values && texts.default ? values[0] : undefined]])];
    });
    const bindings = object([
      ['amqp', channel.amqp ? object(channel.amqp.queue
        ? [['is', 'queue'], ['queue', object([['name', a.s(channel.amqp.name)], ['durable', true], ['exclusive', false], ['autoDelete', false]])], ['bindingVersion', '0.3.0']]
        : [['is', 'routingKey'], ['exchange', object([['name', a.s(channel.amqp.name)], ['type', channel.amqp.type], ['durable', true], ['autoDelete', false]])], ['bindingVersion', '0.3.0']]) : undefined],
      ['kafka', channel.kafkaTopic !== undefined ? object([['topic', a.s(channel.kafkaTopic)], ['partitions', 1], ['bindingVersion', '0.5.0']]) : undefined],
    ]);
    channels.push([key, object([
      ['address', address],
      ['title', a.s(channel.title)],
      ['description', a.s(channel.description)],
      ['parameters', parameterObjects.length > 0 ? object(parameterObjects) : undefined],
      ['messages', object(messages)],
      ['bindings', Object.keys(bindings).length > 0 ? bindings : undefined],
    ])]);
    channelInfo.push({ key, messageKeys: messages.map(([k]) => k), address, parameters });
  }
  const operations: Array<[string, Json]> = [];
  const expectations: Expectations['operations'] = [];
  for (const operation of raw.operations) {
    const key = refSafe(operation.key);
    if (operations.some(([k]) => k === key)) continue;
    a.strings.add(key);
    const channel = channelInfo[operation.channel % channelInfo.length]!;
    const chosen = unique(operation.messages.map((i) => channel.messageKeys[i % channel.messageKeys.length]!));
    const channelRef = `#/channels/${refSegment(channel.key)}`;
    let reply: Json | undefined;
    if (operation.reply && operation.send) {
      const replyChannel = channelInfo[operation.reply.channel % channelInfo.length]!;
      const header = operation.reply.header === undefined ? undefined : a.s(operation.reply.header)!;
      reply = object([
        ['channel', { $ref: `#/channels/${refSegment(replyChannel.key)}` }],
        ['address', header === undefined ? undefined : { location: `$message.header#/${header.replace(/~/g, '~0').replace(/\//g, '~1')}` }],
      ]);
    }
    const bindings = object([
      ['nats', operation.natsQueue !== undefined ? object([['queue', a.s(operation.natsQueue)], ['bindingVersion', '0.1.0']]) : undefined],
      ['kafka', (operation.kafkaGroup !== undefined && !operation.send) || operation.kafkaClientId !== undefined ? object([
        ['groupId', operation.kafkaGroup !== undefined && !operation.send ? object([['type', 'string'], ['enum', [a.s(operation.kafkaGroup)!]]]) : undefined],
        ['clientId', operation.kafkaClientId !== undefined ? object([['type', 'string'], ['enum', [a.s(operation.kafkaClientId)!]]]) : undefined],
        ['bindingVersion', '0.5.0'],
      ]) : undefined],
      ['amqp', operation.amqpCc || operation.amqpUserId !== undefined ? object([['cc', operation.amqpCc && operation.send ? operation.amqpCc.map((c) => a.s(c)!) : undefined], ['userId', operation.send ? a.s(operation.amqpUserId) : undefined], ['ack', true], ['bindingVersion', '0.3.0']]) : undefined],
    ]);
    operations.push([key, object([
      ['action', operation.send ? 'send' : 'receive'],
      ['channel', { $ref: channelRef }],
      ['summary', a.s(operation.summary)],
      ['description', a.s(operation.description)],
      ['messages', chosen.length > 0 ? chosen.map((m) => ({ $ref: `${channelRef}/messages/${refSegment(m)}` })) : undefined],
      ['reply', reply],
      ['bindings', Object.keys(bindings).length > 0 ? bindings : undefined],
    ])]);
    expectations.push({ id: key, address: channel.address, parameters: channel.parameters });
  }
  const components = a.components(componentMessages);
  const data = object([
    ['asyncapi', '3.0.0'],
    ['info', info(a, raw)],
    ['servers', a.servers()],
    ['channels', object(channels)],
    ['operations', object(operations)],
    ['components', Object.keys(components as object).length > 0 ? components : undefined],
  ]);
  return { data, strings: a.strings, expect: { title: defuse(raw.title), version: defuse(raw.version), operations: expectations } };
}

function buildV2(raw: RawDocument): { data: Json; strings: Set<string>; expect: Expectations } {
  const a = new Assembler(raw, '2.6.0');
  const componentMessages: Array<[string, Json]> = [];
  const componentKeys = new Set<string>();
  const messageIds = new Set<string>();
  const operationIds = new Set<string>();
  const channels: Array<[string, Json]> = [];
  const expectations: Expectations['operations'] = [];
  // 2.x: a channel is keyed by its address and holds at most one operation per direction.
  const byAddress = new Map<string, { parameters: string[]; operations: Array<[string, Json]>; channel: RawChannel }>();
  for (const [index, operation] of raw.operations.entries()) {
    const channel = raw.channels[operation.channel % raw.channels.length]!;
    let { address, parameters } = a.address(channel.address ?? [{ literal: uriLiteral(channel.key) }]);
    address = address || `channel${index}`;
    if (address.replace(/\{[^{}]*\}/g, '') === '' && parameters.length > 0) address = `x/${address}`;
    const verb = operation.send ? 'subscribe' : 'publish';
    let entry = byAddress.get(address);
    if (!entry) {
      entry = { parameters, operations: [], channel };
      byAddress.set(address, entry);
    }
    if (entry.operations.some(([v]) => v === verb)) continue;
    let operationId = a.s(operation.key)!;
    if (operationIds.has(operationId)) operationId = `${operationId}${operationIds.size}`;
    operationIds.add(operationId);
    a.strings.add(operationId);
    const messages = channel.messages.map((message) => {
      const body = a.message(message, messageIds);
      const component = message.component === undefined ? undefined : defuse(message.component);
      if (component !== undefined && !componentKeys.has(component)) {
        componentKeys.add(component);
        a.strings.add(component);
        componentMessages.push([component, body]);
        return { $ref: `#/components/messages/${refSegment(component)}` } as Json;
      }
      return body;
    });
    const bindings = object([
      ['nats', operation.natsQueue !== undefined ? object([['queue', a.s(operation.natsQueue)], ['bindingVersion', '0.1.0']]) : undefined],
      ['kafka', operation.kafkaGroup !== undefined && !operation.send ? object([['groupId', object([['type', 'string'], ['enum', [a.s(operation.kafkaGroup)!]]])], ['bindingVersion', '0.4.0']]) : undefined],
    ]);
    entry.operations.push([verb, object([
      ['operationId', operationId],
      ['summary', a.s(operation.summary)],
      ['description', a.s(operation.description)],
      ['message', messages.length === 1 ? messages[0]! : { oneOf: messages }],
      ['bindings', Object.keys(bindings).length > 0 ? bindings : undefined],
    ])]);
    expectations.push({ id: operationId, address, parameters });
  }
  for (const [address, entry] of byAddress) {
    if (entry.operations.length === 0) continue;
    a.strings.add(address);
    const parameters = entry.parameters.map((name, i): [string, Json] => {
      const texts = entry.channel.parameterTexts[i] ?? {};
      const values = texts.enum ? unique(texts.enum.map((v) => a.s(v)!)) : undefined;
      return [name, object([['description', a.s(texts.description)], ['schema', object([['type', 'string'], ['enum', values]])]])];
    });
    const bindings = object([
      ['amqp', entry.channel.amqp ? object(entry.channel.amqp.queue
        ? [['is', 'queue'], ['queue', object([['name', a.s(entry.channel.amqp.name)], ['durable', true], ['exclusive', false], ['autoDelete', false]])], ['bindingVersion', '0.2.0']]
        : [['is', 'routingKey'], ['exchange', object([['name', a.s(entry.channel.amqp.name)], ['type', entry.channel.amqp.type], ['durable', true], ['autoDelete', false]])], ['bindingVersion', '0.2.0']]) : undefined],
      ['kafka', entry.channel.kafkaTopic !== undefined ? object([['topic', a.s(entry.channel.kafkaTopic)], ['partitions', 1], ['bindingVersion', '0.4.0']]) : undefined],
    ]);
    channels.push([address, object([
      ['description', a.s(entry.channel.description)],
      ['parameters', parameters.length > 0 ? object(parameters) : undefined],
      ...entry.operations,
      ['bindings', Object.keys(bindings).length > 0 ? bindings : undefined],
    ])]);
  }
  const components = a.components(componentMessages);
  const data = object([
    ['asyncapi', '2.6.0'],
    ['info', info(a, raw)],
    ['servers', a.servers()],
    ['channels', object(channels)],
    ['components', Object.keys(components as object).length > 0 ? components : undefined],
  ]);
  return { data, strings: a.strings, expect: { title: defuse(raw.title), version: defuse(raw.version), operations: expectations } };
}

// ---- hand-written documents ------------------------------------------------------------------

/** Strings and expectations of a parsed document written by hand (fixtures/hostile/). */
export function describeDocument(data: Record<string, unknown>, text: string, format: 'json' | 'yaml'): HostileDocument {
  const strings = new Set<string>();
  const stack: unknown[] = [data];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node === 'string') strings.add(node);
    else if (node !== null && typeof node === 'object') {
      for (const key of Object.keys(node)) {
        strings.add(key);
        stack.push((node as Record<string, unknown>)[key]);
      }
    }
  }
  const own = (object: unknown, key: string): unknown => (object !== null && typeof object === 'object' && Object.prototype.hasOwnProperty.call(object, key) ? (object as Record<string, unknown>)[key] : undefined);
  const parametersOf = (address: string | null) => [...new Set([...(address ?? '').matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!))];
  const operations: Expectations['operations'] = [];
  const version = String(data.asyncapi);
  if (version.startsWith('3.')) {
    for (const [id, operation] of Object.entries(own(data, 'operations') as Record<string, unknown>)) {
      const ref = String(own(own(operation, 'channel'), '$ref'));
      const key = decodeURIComponent(ref.replace('#/channels/', '')).replace(/~1/g, '/').replace(/~0/g, '~');
      const channel = own(own(data, 'channels'), key);
      const address = own(channel, 'address') === undefined ? key : (own(channel, 'address') as string | null);
      operations.push({ id, address, parameters: parametersOf(address) });
    }
  } else {
    for (const [address, item] of Object.entries(own(data, 'channels') as Record<string, unknown>)) {
      for (const verb of ['subscribe', 'publish']) {
        const id = own(own(item, verb), 'operationId');
        if (typeof id === 'string') operations.push({ id, address, parameters: parametersOf(address) });
      }
    }
  }
  const info = own(data, 'info');
  return {
    version: version.startsWith('3.') ? '3.0.0' : '2.6.0',
    cases: 1,
    format,
    text,
    strings,
    expect: { title: String(own(info, 'title') ?? ''), version: String(own(info, 'version') ?? ''), operations },
  };
}
