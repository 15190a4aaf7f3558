import { documentError } from '../errors.js';
import type { DocumentSet } from '../load/document-set.js';
import { parsePointer } from '../load/pointer.js';
import { camelCase, pascalCase, propertyKey, schemaDescription, UniqueNames } from './names.js';
import { isRecord } from '../load/json.js';
import { DocumentReader, stringField, type Located } from '../load/reader.js';
import { SchemaRegistry } from './schemas.js';
import { avroSchemaOf, AvroTypes, isAvroFormat } from './avro.js';
import { isProtobufFormat, MESSAGE_EXTENSION, ProtobufTypes } from './protobuf.js';
import type {
  Action,
  ApiModel,
  Bindings,
  ChannelModel,
  CorrelationIdModel,
  JsonSchema,
  MessageExample,
  MessageModel,
  OperationModel,
  ParameterModel,
  ReplyModel,
  ServerModel,
} from './types.js';

/**
 * Builds the version-independent model from a loaded (and already validated) document set.
 * 2.x and 3.x differ only in how channels, operations and messages are found; both feed the same registries.
 */
export function buildModel(set: DocumentSet): ApiModel {
  return new ModelBuilder(set).build();
}

/**
 * operations.ts exports `<operation>Spec` next to validators.ts's `validate<Type>` (both re-exported by
 * the index): an operation named `validateFoo` would clash with the validator of a type `FooSpec`. Such
 * a name gets a trailing `_` (`validateFoo_Spec`); client methods drop it (`publishValidateFoo`).
 */
function operationStem(name: string): string {
  return /^validate[A-Z0-9_]/.test(name) ? `${name}_` : name;
}

/**
 * Most channels, operations or messages in one document. The memory generation needs grows with the
 * code it writes: the 2,000-channel synthetic document (4,000 operations, 3 targets) peaks at 2.0 GB,
 * and Node's default heap is about 4 GB. Past this, a document is refused rather than crashing out of
 * memory (bench/hostile/RESULTS.md).
 */
export const MAX_MODEL_ITEMS = 5_000;

const DEFAULT_CONTENT_TYPE = 'application/json';
const JSON_SCHEMA_FORMAT = 'application/vnd.aai.asyncapi+json';

class ModelBuilder {
  private readonly reader: DocumentReader;
  private readonly typeNames = new UniqueNames();
  private readonly schemas: SchemaRegistry;
  private readonly avro: AvroTypes;
  private readonly protobuf: ProtobufTypes;
  private readonly channelNames = new UniqueNames();
  private readonly operationNames = new UniqueNames();
  private readonly messageNames = new UniqueNames();
  private readonly messageIds = new Set<string>();
  private readonly messagesByLocation = new Map<string, MessageModel>();
  private readonly channelsByLocation = new Map<string, ChannelModel>();
  private readonly channels: ChannelModel[] = [];
  private readonly parameterSets = new Map<string, string>();
  private readonly operations: OperationModel[] = [];
  private readonly messages: MessageModel[] = [];
  /** Where each operation and reply is written, for errors found once every message is known. */
  private readonly nodes = new WeakMap<OperationModel | ReplyModel, Located>();
  private readonly major: number;
  private defaultContentType = DEFAULT_CONTENT_TYPE;

  constructor(set: DocumentSet) {
    this.reader = new DocumentReader(set);
    this.schemas = new SchemaRegistry(this.reader, this.typeNames);
    this.avro = new AvroTypes(this.schemas);
    this.protobuf = new ProtobufTypes(this.schemas);
    const version = stringField(set.root.data, 'asyncapi') ?? '';
    this.major = Number(version.split('.')[0]);
  }

  build(): ApiModel {
    const root = this.reader.root();
    const info = this.reader.child(root, 'info');
    this.defaultContentType = stringField(root.value, 'defaultContentType') ?? DEFAULT_CONTENT_TYPE;
    const servers = this.reader.entries(this.reader.child(root, 'servers')).map(([id, node]) => this.server(id, node));
    if (this.major >= 3) this.buildV3(root);
    else this.buildV2(root);
    // Messages declared in components but used by no channel still get types and validators.
    const components = this.reader.child(root, 'components');
    for (const [key, node] of this.reader.entries(components && this.reader.child(components, 'messages'))) this.message(node, key);
    this.checkSize(root);
    this.checkBinaryOperations();
    return {
      asyncapiVersion: stringField(root.value, 'asyncapi') ?? '',
      info: {
        title: stringField(info?.value, 'title') ?? '',
        version: stringField(info?.value, 'version') ?? '',
        description: stringField(info?.value, 'description'),
      },
      defaultContentType: this.defaultContentType,
      servers,
      channels: this.channels,
      operations: this.operations,
      messages: this.messages,
      schemas: this.schemas.definitions,
      schemaOrigins: this.schemas.origins,
      schemaTitles: this.schemas.titles,
      origin: this.reader.origin(root),
      warnings: this.schemas.warnings,
    };
  }

  /** Refuses a document with more channels, operations or messages than generation can hold in memory. */
  private checkSize(root: Located): void {
    for (const [what, count] of [['channels', this.channels.length], ['operations', this.operations.length], ['messages', this.messages.length]] as const) {
      if (count > MAX_MODEL_ITEMS) {
        throw documentError('E_TOO_MANY', `refused: the document has ${count} ${what}, over the limit of ${MAX_MODEL_ITEMS} (resource exhaustion guard: generation needs about 0.6 GB of memory per 1,000 operations)`, this.reader.origin(root));
      }
    }
  }

  /**
   * An Avro or Protobuf body does not say which of several messages it is (without a registry it
   * cannot), so an operation or reply with several messages of which one is binary is refused, at its
   * place in the file (E_AVRO_SEVERAL_MESSAGES, E_PROTOBUF_SEVERAL_MESSAGES).
   */
  private checkBinaryOperations(): void {
    const formats = new Map<string, 'Avro' | 'Protobuf'>();
    for (const m of this.messages) {
      if (m.avroSchema !== undefined) formats.set(m.id, 'Avro');
      else if (m.protobufSchema !== undefined) formats.set(m.id, 'Protobuf');
    }
    for (const operation of this.operations) {
      for (const [part, what] of [[operation, 'operation'], [operation.reply, 'reply']] as const) {
        if (!part || part.messageIds.length < 2) continue;
        const ids = part.messageIds.filter((id) => formats.has(id));
        if (ids.length === 0) continue;
        const format = formats.get(ids[0]!)!;
        throw documentError(
          `E_${format.toUpperCase()}_SEVERAL_MESSAGES`,
          `the ${what} of "${operation.id}" has ${part.messageIds.length} messages and ${ids.join(', ')} ${ids.length > 1 ? 'are' : 'is'} ${format}: a body does not say which schema wrote it, so give each ${format} message an operation (channel) of its own`,
          this.reader.origin(this.nodes.get(part)!, true),
        );
      }
    }
  }

  // ---- 3.x -------------------------------------------------------------------------------

  private buildV3(root: Located): void {
    for (const [key, node] of this.reader.entries(this.reader.child(root, 'channels'))) {
      const address = isRecord(node.value) && 'address' in node.value ? (node.value.address as string | null) : key;
      const channel = this.channel(key, node, address ?? null);
      for (const [messageKey, messageNode] of this.reader.entries(this.reader.child(node, 'messages'))) {
        channel.messageIds.push(this.message(messageNode, messageKey).id);
      }
    }
    for (const [key, node] of this.reader.entries(this.reader.child(root, 'operations'))) {
      const merged = this.withTraits(node, 'traits', false);
      const channelNode = this.reader.child(node, 'channel');
      const channel = channelNode ? this.channelsByLocation.get(this.reader.key(channelNode)) : undefined;
      if (!channel) throw documentError('E_OPERATION_CHANNEL', `operation "${key}" does not reference a channel of this document`, this.reader.origin(node, true));
      const listed = this.reader.items(this.reader.child(node, 'messages')).map((m) => this.message(m).id);
      const reply = this.replyV3(this.reader.child(node, 'reply'));
      const built: OperationModel = {
        id: key,
        name: this.operationNames.claim(operationStem(camelCase(key, 'operation'))),
        action: stringField(node.value, 'action') === 'send' ? 'send' : 'receive',
        channelId: channel.id,
        messageIds: listed.length > 0 ? listed : [...channel.messageIds],
        reply,
        summary: stringField(merged, 'summary'),
        description: stringField(merged, 'description'),
        bindings: bindingsOf(isRecord(merged) ? merged.bindings : undefined, this.reader, node),
        origin: this.reader.origin(node),
      };
      this.nodes.set(built, node);
      this.operations.push(built);
    }
  }

  private replyV3(node: Located | undefined): ReplyModel | undefined {
    if (!node) return undefined;
    const channelNode = this.reader.child(node, 'channel');
    const channel = channelNode ? this.channelsByLocation.get(this.reader.key(channelNode)) : undefined;
    const addressNode = this.reader.child(node, 'address');
    const listed = this.reader.items(this.reader.child(node, 'messages')).map((m) => this.message(m).id);
    const reply: ReplyModel = {
      channelId: channel?.id,
      address: channel?.address ?? null,
      addressLocation: stringField(addressNode?.value, 'location'),
      messageIds: listed.length > 0 ? listed : [...(channel?.messageIds ?? [])],
      origin: this.reader.origin(node),
    };
    this.nodes.set(reply, node);
    return reply;
  }

  // ---- 2.x -------------------------------------------------------------------------------

  private buildV2(root: Located): void {
    for (const [address, node] of this.reader.entries(this.reader.child(root, 'channels'))) {
      const channel = this.channel(address, node, address);
      // 2.x names operations from the application's side: `subscribe` = the application sends.
      for (const [verb, action] of [['subscribe', 'send'], ['publish', 'receive']] as Array<[string, Action]>) {
        const operation = this.reader.child(node, verb);
        if (!operation) continue;
        const merged = this.withTraits(operation, 'traits', true);
        const messageIds = this.messagesV2(operation);
        for (const id of messageIds) if (!channel.messageIds.includes(id)) channel.messageIds.push(id);
        const id = stringField(merged, 'operationId') ?? `${action}${pascalCase(channel.name)}`;
        const built: OperationModel = {
          id,
          name: this.operationNames.claim(operationStem(camelCase(id, 'operation'))),
          action,
          channelId: channel.id,
          messageIds,
          summary: stringField(merged, 'summary'),
          description: stringField(merged, 'description'),
          bindings: bindingsOf(isRecord(merged) ? merged.bindings : undefined, this.reader, operation),
          origin: this.reader.origin(operation),
        };
        this.nodes.set(built, operation);
        this.operations.push(built);
      }
    }
  }

  private messagesV2(operation: Located): string[] {
    const message = this.reader.child(operation, 'message');
    if (!message) return [];
    const oneOf = this.reader.child(message, 'oneOf');
    if (oneOf && Array.isArray(oneOf.value)) return this.reader.items(oneOf).map((m) => this.message(m).id);
    return [this.message(message).id];
  }

  // ---- shared ----------------------------------------------------------------------------

  private server(id: string, node: Located): ServerModel {
    const value = isRecord(node.value) ? node.value : {};
    const url = typeof value.url === 'string' ? value.url : undefined;
    const host = typeof value.host === 'string' ? value.host : (url ?? '').replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
    return {
      id,
      host,
      protocol: typeof value.protocol === 'string' ? value.protocol : '',
      protocolVersion: typeof value.protocolVersion === 'string' ? value.protocolVersion : undefined,
      pathname: typeof value.pathname === 'string' ? value.pathname : undefined,
      description: typeof value.description === 'string' ? value.description : undefined,
      bindings: bindingsOf(value.bindings, this.reader, node),
      origin: this.reader.origin(node),
    };
  }

  private channel(id: string, node: Located, address: string | null): ChannelModel {
    const name = this.channelNames.claim(camelCase(id, 'channel'));
    const parameters = this.reader.entries(this.reader.child(node, 'parameters')).map(([key, p]) => this.parameter(key, p));
    // A placeholder the document forgot to declare is still a parameter (a string), so the address can be built.
    for (const name of placeholders(address)) {
      if (!parameters.some((p) => p.name === name)) {
        parameters.push({ name, propertyName: propertyKey(name), schema: { type: 'string' }, origin: this.reader.origin(node) });
      }
    }
    const channel: ChannelModel = {
      id,
      name,
      address,
      parameters,
      messageIds: [],
      description: stringField(node.value, 'description'),
      bindings: bindingsOf(isRecord(node.value) ? node.value.bindings : undefined, this.reader, node),
      servers: this.serverNames(node),
      origin: this.reader.origin(node),
    };
    if (parameters.length > 0) channel.parametersTypeName = this.parameterSet(parameters, node);
    this.channels.push(channel);
    this.channelsByLocation.set(this.reader.key(node), channel);
    return channel;
  }

  /**
   * The type of a channel's parameter set, named after its parameters (`{region}` → `RegionParameters`)
   * rather than after the channel: 2.x channels have no name but their address, and channels with the
   * same parameters share one type.
   */
  private parameterSet(parameters: ParameterModel[], channel: Located): string {
    const schema: JsonSchema = {
      type: 'object',
      properties: Object.fromEntries(parameters.map((p) => [p.name, p.schema])),
      required: parameters.map((p) => p.name),
      additionalProperties: false,
    };
    const key = JSON.stringify(schema);
    const known = this.parameterSets.get(key);
    if (known) return known;
    const stem = parameters.map((p) => pascalCase(p.name, 'Parameter')).join('');
    const name = this.schemas.addSynthetic(`${stem}Parameters`, schema, this.reader.origin(this.reader.child(channel, 'parameters') ?? channel));
    this.parameterSets.set(key, name);
    return name;
  }

  private serverNames(node: Located): string[] {
    return this.reader.items(this.reader.rawChild(node, 'servers')).map((server) => {
      if (typeof server.value === 'string') return server.value;
      const segments = parsePointer(server.at.pointer);
      return segments[segments.length - 1] ?? '';
    });
  }

  private parameter(name: string, node: Located): ParameterModel {
    const value = isRecord(node.value) ? node.value : {};
    const schemaNode = this.reader.child(node, 'schema');
    let schema: JsonSchema;
    if (schemaNode) {
      schema = this.schemas.inline(this.reader.rawChild(node, 'schema')!);
    } else {
      // 3.x parameters are strings, optionally limited to an enum.
      schema = { type: 'string' };
      if (Array.isArray(value.enum)) schema.enum = value.enum.map(String);
    }
    if (typeof value.description === 'string' && typeof schema === 'object' && schema.$ref === undefined) schema.description = schemaDescription(value.description);
    const enumValues = Array.isArray(value.enum) ? value.enum.map(String) : enumOf(schemaNode?.value);
    return {
      name,
      propertyName: propertyKey(name),
      description: typeof value.description === 'string' ? value.description : undefined,
      schema,
      enum: enumValues,
      default: value.default !== undefined ? String(value.default) : undefined,
      origin: this.reader.origin(node),
    };
  }

  /** Registers a message once per location and returns its model. */
  private message(node: Located, key?: string): MessageModel {
    const location = this.reader.key(node);
    const known = this.messagesByLocation.get(location);
    if (known) return known;
    const merged = this.withTraits(node, 'traits', this.major < 3);
    const value = isRecord(merged) ? merged : {};
    const id = this.uniqueMessageId(messageKey(node) ?? stringField(value, 'messageId') ?? stringField(value, 'name') ?? key ?? 'message');
    const name = this.messageNames.claim(camelCase(id, 'message'));
    const payload = this.payloadNode(node, merged);
    const headersNode = this.traitAwareChild(node, 'headers');
    const protobuf = payload.raw && isProtobufFormat(payload.schemaFormat) ? this.protobuf.addPayload(payload.raw.value, payload.schemaFormat, stringField(value, MESSAGE_EXTENSION), this.reader.origin(payload.raw)) : undefined;
    const model: MessageModel = {
      id,
      name,
      messageName: stringField(value, 'name'),
      cloudEventsType: stringField(value, 'x-cloudevents-type'),
      title: stringField(value, 'title'),
      summary: stringField(value, 'summary'),
      description: stringField(value, 'description'),
      contentType: stringField(value, 'contentType') ?? this.defaultContentType,
      schemaFormat: payload.schemaFormat,
      ...(!payload.node && payload.raw ? { payloadRaw: payload.raw.value, payloadOrigin: this.reader.origin(payload.raw) } : {}),
      ...(payload.raw && isAvroFormat(payload.schemaFormat) ? { avroSchema: JSON.stringify(avroSchemaOf(payload.raw.value, `${pascalCase(name)}Payload`)) } : {}),
      ...(protobuf ? { protobufSchema: protobuf.schema } : {}),
      payloadTypeName: protobuf?.typeName ?? this.payloadType(payload, `${pascalCase(name)}Payload`, node),
      headersTypeName: headersNode ? this.schemas.add(headersNode, `${pascalCase(name)}Headers`) : undefined,
      correlationId: this.correlationId(merged, node),
      examples: examplesOf(value.examples),
      bindings: bindingsOf(value.bindings, this.reader, node),
      deprecated: value.deprecated === true ? true : undefined,
      origin: this.reader.origin(node),
    };
    this.messagesByLocation.set(location, model);
    this.messages.push(model);
    return model;
  }

  /** The payload's type: a JSON Schema as written, Avro turned into JSON Schema (Protobuf: ProtobufTypes), anything else `unknown` ({}). */
  private payloadType(payload: { node?: Located; schemaFormat: string; raw?: Located }, suggested: string, message: Located): string {
    if (payload.node) return this.schemas.add(payload.node, suggested);
    if (payload.raw && isAvroFormat(payload.schemaFormat)) return this.avro.addPayload(payload.raw.value, suggested, this.reader.origin(payload.raw));
    return this.schemas.addSynthetic(suggested, {}, this.reader.origin(message));
  }

  private uniqueMessageId(base: string): string {
    let id = base;
    for (let n = 2; this.messageIds.has(id); n++) id = `${base}${n}`;
    this.messageIds.add(id);
    return id;
  }

  private payloadNode(node: Located, merged: unknown): { node?: Located; schemaFormat: string; raw?: Located } {
    const payload = this.traitAwareChild(node, 'payload');
    const messageFormat = stringField(merged, 'schemaFormat');
    if (!payload) return { schemaFormat: messageFormat ?? JSON_SCHEMA_FORMAT };
    // 3.x multi-format schema: { schemaFormat, schema }.
    if (this.major >= 3 && isRecord(payload.value) && typeof payload.value.schemaFormat === 'string' && 'schema' in payload.value) {
      const format = payload.value.schemaFormat;
      const schema = this.reader.child(payload, 'schema');
      return { node: isJsonSchemaFormat(format) ? schema : undefined, schemaFormat: format, raw: schema };
    }
    const format = messageFormat ?? JSON_SCHEMA_FORMAT;
    return { node: isJsonSchemaFormat(format) ? payload : undefined, schemaFormat: format, raw: payload };
  }

  /** A message field that may come from the message itself or from one of its traits. */
  private traitAwareChild(node: Located, key: string): Located | undefined {
    const own = this.reader.child(node, key);
    if (own && this.major >= 3) return own;
    for (const trait of this.reader.items(this.reader.child(node, 'traits')).reverse()) {
      const fromTrait = this.reader.child(trait, key);
      if (fromTrait && (this.major < 3 || !own)) return fromTrait;
    }
    return own;
  }

  private correlationId(merged: unknown, node: Located): CorrelationIdModel | undefined {
    const field = isRecord(merged) ? merged.correlationId : undefined;
    if (!isRecord(field)) return undefined;
    const resolved = isRecord(field) && typeof field.$ref === 'string' ? this.reader.resolve({ value: field, at: node.at }).value : field;
    if (!isRecord(resolved) || typeof resolved.location !== 'string') return undefined;
    return { location: resolved.location, description: typeof resolved.description === 'string' ? resolved.description : undefined };
  }

  /**
   * Applies traits with JSON merge semantics. 2.x: traits are merged over the object;
   * 3.x: the object's own fields take precedence over its traits.
   */
  private withTraits(node: Located, key: string, traitsWin: boolean): unknown {
    const traits = this.reader.items(this.reader.child(node, key)).map((t) => derefShallow(this.reader, t));
    if (traits.length === 0) return derefShallow(this.reader, node);
    let result: Record<string, unknown> = {};
    const own = derefShallow(this.reader, node) as Record<string, unknown>;
    if (!traitsWin) {
      for (const trait of traits) result = mergePatch(result, trait);
      result = mergePatch(result, own);
    } else {
      result = { ...own };
      for (const trait of traits) result = mergePatch(result, trait);
    }
    delete result.traits;
    return result;
  }
}

/** The object with each direct child `$ref` resolved (one level), for reading plain fields. */
function derefShallow(reader: DocumentReader, node: Located): Record<string, unknown> {
  if (!isRecord(node.value)) return {};
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(node.value)) {
    const child = reader.child(node, key);
    if (child) out[key] = child.value;
  }
  return out;
}

function mergePatch(target: Record<string, unknown>, patch: unknown): Record<string, unknown> {
  if (!isRecord(patch)) return target;
  const out: Record<string, unknown> = { ...target };
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) delete out[key];
    else if (isRecord(value) && isRecord(out[key]) && typeof value.$ref !== 'string') out[key] = mergePatch(out[key] as Record<string, unknown>, value);
    else out[key] = value;
  }
  return out;
}

function bindingsOf(value: unknown, reader: DocumentReader, node: Located): Bindings {
  let resolved = value;
  if (isRecord(value) && typeof value.$ref === 'string') resolved = reader.resolve({ value, at: node.at }).value;
  if (!isRecord(resolved)) return {};
  const out: Bindings = {};
  for (const protocol of Object.keys(resolved).sort()) {
    const binding = resolved[protocol];
    if (isRecord(binding)) out[protocol] = binding;
  }
  return out;
}

function placeholders(address: string | null): string[] {
  return address === null ? [] : [...address.matchAll(/\{([^{}]+)\}/g)].map((match) => match[1]!);
}

function messageKey(node: Located): string | undefined {
  const segments = parsePointer(node.at.pointer);
  if (segments.length === 3 && segments[0] === 'components' && segments[1] === 'messages') return segments[2];
  return undefined;
}

function isJsonSchemaFormat(format: string): boolean {
  return /^application\/(vnd\.aai\.asyncapi|schema)(\+(json|yaml))?(;.*)?$/.test(format) || format === '';
}

function enumOf(value: unknown): string[] | undefined {
  return isRecord(value) && Array.isArray(value.enum) ? value.enum.map(String) : undefined;
}

function examplesOf(value: unknown): MessageExample[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isRecord).map((example) => ({
    name: typeof example.name === 'string' ? example.name : undefined,
    payload: example.payload,
    headers: isRecord(example.headers) ? example.headers : undefined,
  }));
}
