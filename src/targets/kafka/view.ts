import { camelCase, codeStringLiteral, commentText, stringLiteral } from '../../model/names.js';
import type { ApiModel, ChannelModel, MessageModel, OperationModel } from '../../model/types.js';
import { callStatement, Code, commentAt, declaration, literalNode, methodSignature, objectBody, typeAlias, typedMember, unionAlias, type LiteralNode, type Parameter } from '../../view/code-layout.js';
import type { AddressPart, ChannelView, CoreView, OperationView } from '../../view/core-view.js';

/**
 * What the kafka templates see: the core view plus, per channel and operation, what the document's
 * Kafka bindings (0.1.0 to 0.5.0) say. Every value is a finished TypeScript literal or type.
 */
export interface KafkaView extends CoreView {
  kafka: {
    channels: KafkaChannelView[];
    /** Every operation, for the operation table. */
    operations: KafkaOperationView[];
    /** Send operations without a reply (also the methods of a transaction). */
    sends: KafkaOperationView[];
    receives: KafkaOperationView[];
    requests: KafkaOperationView[];
    /** `export const DEFAULT_BROKERS ... = [...];`: broker addresses of the document's kafka servers. */
    defaultBrokersDeclaration: string;
    /** Whether any receive operation has dead letters (one without a reply). */
    hasDeadLetters: boolean;
    /** Whether any operation has a reply (a request, or a receive that answers). */
    hasReplies: boolean;
    /** kafkajs `clientId` default (string literal). */
    clientIdLiteral: string;
    /** The default client id as comment text. */
    clientIdComment: string;
    /** `export type KafkaChannelName = ...;`: the union of channel names, for the `topics` override option. */
    channelNamesAlias: string;
    /** The document title, safe in a comment. */
    titleComment: string;
  };
}

export interface KafkaChannelView {
  name: string;
  nameLiteral: string;
  /** True when the topic is the address with its parameters filled in. */
  fromAddress: boolean;
  hasParameters: boolean;
  /**
   * The properties of the channel's `KafkaChannel` entry, laid out: name, fixed topic (or
   * `undefined` when it comes from the address or is unknown), partitions, replicas, config entries
   * of the binding's topicConfiguration (Apache Kafka keys only), and the concrete topics of an
   * address with enum-only parameters, for declareTopology().
   */
  body: string;
}

export interface KafkaOperationView {
  operation: OperationView;
  /** Identifier of the channel entry in the generated channel table. */
  channelName: string;
  hasParameters: boolean;
  /** The topic is the address with its parameters filled in (consumers may pick parameter sets). */
  fromAddress: boolean;
  /** Pascal form of the client method, for the operation's option and handler types. */
  typeStem: string;
  /** The properties of the operation's `operation({...})` entry, laid out. */
  body: string;
  /** The client method's signature up to its body's `{`, indented for the class. */
  signature: string;
  /** The method's body: the `return` of the transport's call. */
  call: string;
  /** `export type <stem>Handler = KafkaHandler<...>;` for receive operations. */
  handlerAlias: string;
  /** `export type <stem>Options = ...;` for send and request operations. */
  optionsAlias: string;
  /** The `deadLetters` interface member of a receive operation without a reply. */
  deadLettersMember: string;
  /** TypeScript type of the key a producer passes. */
  keyType: string;
  /** TypeScript type of the key a handler receives (decoded). */
  contextKeyType: string;
  keyRequired: boolean;
  /** The publish/request options object must be given (a required key or channel parameters). */
  optionsRequired: boolean;
  /** Parameters type in the handler context: `P | undefined`, or `Record<string, never>` without parameters. */
  contextParametersType: string;
  reply?: KafkaReplyView;
  /** The operation's comment, indented for the class. */
  comment: string;
}

export interface KafkaReplyView {
  payloadTypeQualified: string;
  /**
   * The properties of the reply's spec, laid out: event type, content type, validator, the header
   * naming the reply topic (`$message.header#/replyTo` → `replyTo`), the reply channel's own topic
   * (or `undefined`), and the reply channel's address template when its parameters are among the
   * request's, so the reply topic is filled from the request's parameters (else `undefined`).
   * Without either, replies go to `<request topic>.reply`.
   */
  body: string;
}

/** Header that carries the reply topic when the document does not name one. */
const DEFAULT_REPLY_TO_HEADER = 'x-codegen-reply-to';
/** Most concrete topics declareTopology() enumerates for one parameterised address. */
const MAX_ENUMERATED_TOPICS = 64;
const KAFKA_TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

type KeyKind = 'string' | 'number' | 'bytes';

interface KeySpec {
  kind: KeyKind;
  values?: string[];
}

export function buildKafkaView(model: ApiModel, core: CoreView): KafkaView {
  const channelModels = new Map(model.channels.map((c) => [c.id, c]));
  const operationModels = new Map(model.operations.map((o) => [o.id, o]));
  const messageModels = new Map(model.messages.map((m) => [m.id, m]));
  const usedChannels = new Set(core.operations.map((o) => o.channel.id));
  const channels = core.channels.filter((c) => usedChannels.has(c.id)).map((c) => channelView(c, channelModels.get(c.id)!));
  const byName = new Map(channels.map((c) => [c.name, c]));
  const operations = core.operations.map((operation) =>
    operationView(operation, operationModels.get(operation.id)!, byName.get(operation.channel.name)!, messageModels, channelModels),
  );
  return {
    ...core,
    kafka: {
      channels,
      operations,
      sends: operations.filter((o) => o.operation.isSend && !o.reply),
      receives: operations.filter((o) => o.operation.isReceive),
      requests: operations.filter((o) => o.operation.isSend && o.reply),
      defaultBrokersDeclaration: declaration('export const DEFAULT_BROKERS', 'readonly string[]', literalNode(kafkaServers(model))),
      hasDeadLetters: operations.some((o) => o.operation.isReceive && !o.reply),
      hasReplies: operations.some((o) => o.reply !== undefined),
      clientIdLiteral: codeStringLiteral(clientIdOf(model)),
      clientIdComment: commentText(stringLiteral(clientIdOf(model))),
      channelNamesAlias: unionAlias('export type KafkaChannelName', channels.length === 0 ? ['never'] : channels.map((c) => c.nameLiteral)),
      titleComment: commentText(core.title),
    },
  };
}

function kafkaServers(model: ApiModel): string[] {
  return model.servers.filter((s) => /^kafka(-secure)?$/i.test(s.protocol) && s.host !== '').map((s) => s.host.replace(/\/+$/, ''));
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function kafkaBinding(bindings: Record<string, Record<string, unknown>>): Record<string, unknown> {
  return record(bindings.kafka) ?? {};
}

function positiveInteger(value: unknown): string {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? String(value) : 'undefined';
}

function channelView(core: ChannelView, channel: ChannelModel): KafkaChannelView {
  const binding = kafkaBinding(channel.bindings);
  const boundTopic = typeof binding.topic === 'string' && binding.topic !== '' ? binding.topic : undefined;
  const fromAddress = boundTopic === undefined && channel.address !== null && core.hasParameters;
  const fixedTopic = boundTopic ?? (channel.address !== null && !core.hasParameters ? channel.address : undefined);
  return {
    name: core.name,
    nameLiteral: codeStringLiteral(core.name),
    fromAddress,
    hasParameters: core.hasParameters,
    body: objectBody('    ', [
      ['name', literalNode(core.name)],
      ['topic', orUndefined(fixedTopic)],
      ['fromAddress', literalNode(fromAddress)],
      ['hasParameters', literalNode(core.hasParameters)],
      ['partitions', literalNode(new Code(positiveInteger(binding.partitions)))],
      ['replicas', literalNode(new Code(positiveInteger(binding.replicas)))],
      ['configEntries', literalNode(configEntries(record(binding.topicConfiguration)))],
      ['enumeratedTopics', literalNode(fromAddress ? enumerateTopics(core.addressParts, channel) : [])],
    ]),
  };
}

/** A string, or `undefined` written out (a property the run-time code reads). */
function orUndefined(value: string | undefined): LiteralNode {
  return literalNode(value ?? new Code('undefined'));
}

/**
 * The binding's `topicConfiguration` as kafkajs config entries. `confluent.*` keys are left out:
 * Apache Kafka refuses unknown topic configs, and those only mean something to Confluent Server.
 */
function configEntries(config: Record<string, unknown> | undefined): Array<{ name: string; value: string }> {
  if (!config) return [];
  const entries: Array<{ name: string; value: string }> = [];
  for (const name of Object.keys(config).sort()) {
    if (name.startsWith('confluent.')) continue;
    const raw = config[name];
    const value = Array.isArray(raw) ? raw.map(String).join(',') : typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : undefined;
    if (value !== undefined) entries.push({ name, value });
  }
  return entries;
}

/** Every concrete topic of an address whose parameters are all enums (none when one is open-ended). */
function enumerateTopics(parts: AddressPart[], channel: ChannelModel): string[] {
  const enums = new Map(channel.parameters.map((p) => [p.name, p.enum]));
  let topics = [''];
  for (const part of parts) {
    if (part.kind === 'literal') {
      topics = topics.map((t) => t + part.text);
      continue;
    }
    const values = (enums.get(part.name) ?? []).filter((v) => /^[A-Za-z0-9_-]+$/.test(v));
    if (values.length === 0) return [];
    topics = topics.flatMap((t) => values.map((v) => t + v));
    if (topics.length > MAX_ENUMERATED_TOPICS) return [];
  }
  return topics.filter((t) => KAFKA_TOPIC.test(t));
}

function keySpecOf(schema: unknown): KeySpec {
  const s = record(schema);
  if (!s || typeof s.$ref === 'string') return { kind: 'bytes' };
  if (typeof s.const === 'string') return { kind: 'string', values: [s.const] };
  if (Array.isArray(s.enum) && s.enum.length > 0 && s.enum.every((v) => typeof v === 'string')) return { kind: 'string', values: s.enum as string[] };
  if (s.type === 'string') return { kind: 'string' };
  if (s.type === 'integer' || s.type === 'number') return { kind: 'number' };
  return { kind: 'bytes' };
}

function sameKey(a: KeySpec, b: KeySpec): boolean {
  return a.kind === b.kind && JSON.stringify(a.values ?? null) === JSON.stringify(b.values ?? null);
}

/** The key the operation's messages declare (kafka message binding `key`); one spec when they agree. */
function operationKey(messageIds: string[], messages: Map<string, MessageModel>): KeySpec | undefined {
  const specs = messageIds.map((id) => {
    const key = kafkaBinding(messages.get(id)?.bindings ?? {}).key;
    return key === undefined ? undefined : keySpecOf(key);
  });
  if (specs.length === 0 || specs.some((s) => s === undefined)) return undefined;
  const first = specs[0]!;
  return specs.every((s) => sameKey(s!, first)) ? first : { kind: 'bytes' };
}

function keyTypes(key: KeySpec | undefined): { keyType: string; contextKeyType: string } {
  if (!key || key.kind === 'bytes') return { keyType: 'string | Buffer', contextKeyType: 'string' };
  if (key.kind === 'number') return { keyType: 'number', contextKeyType: 'number' };
  const type = key.values ? key.values.map((v) => codeStringLiteral(v)).join(' | ') : 'string';
  return { keyType: type, contextKeyType: type };
}

/** A string a binding field gives as a schema (`groupId`, `clientId`): its const, first enum value or default. */
function schemaValue(value: unknown): string | undefined {
  const schema = record(value);
  if (!schema) return undefined;
  const candidate = schema.const ?? (Array.isArray(schema.enum) ? schema.enum[0] : undefined) ?? schema.default;
  return typeof candidate === 'string' && candidate !== '' ? candidate : undefined;
}

function groupIdOf(operation: OperationModel): string | undefined {
  return schemaValue(kafkaBinding(operation.bindings).groupId);
}

/** The operations' `clientId` binding when they agree on one; else the document title. */
function clientIdOf(model: ApiModel): string {
  const ids = new Set(model.operations.map((o) => schemaValue(kafkaBinding(o.bindings).clientId)).filter((id): id is string => id !== undefined));
  return ids.size === 1 ? [...ids][0]! : camelCase(model.info.title, 'codegen');
}

function pascal(identifier: string): string {
  return identifier.charAt(0).toUpperCase() + identifier.slice(1);
}

function operationView(
  operation: OperationView,
  model: OperationModel,
  channel: KafkaChannelView,
  messages: Map<string, MessageModel>,
  channels: Map<string, ChannelModel>,
): KafkaOperationView {
  const key = operationKey(model.messageIds, messages);
  const keyRequired = key !== undefined && key.kind !== 'bytes';
  const { keyType, contextKeyType } = keyTypes(key);
  const typeStem = pascal(operation.methodName);
  const optionsRequired = keyRequired || channel.hasParameters || operation.headersRequired;
  const reply = operation.reply && model.reply ? replyView(operation, model, channels) : undefined;
  const contextParametersType = channel.hasParameters ? `${operation.parametersTypeQualified} | undefined` : 'Record<string, never>';
  return {
    operation,
    channelName: channel.name,
    hasParameters: channel.hasParameters,
    fromAddress: channel.fromAddress,
    typeStem,
    body: objectBody('    ', [
      ['spec', literalNode(new Code(`specs.${operation.name}Spec`))],
      ['channel', literalNode(new Code(`channels.${channel.name}`))],
      ['key', literalNode(key?.values ? { kind: key.kind, values: key.values } : { kind: key?.kind ?? 'bytes' })],
      ['groupId', orUndefined(groupIdOf(model))],
      ['reply', literalNode(new Code(reply ? `replies.${operation.name}` : 'undefined'))],
    ]),
    signature: methodSignature('  ', operation.methodName, ...signatureOf(operation, typeStem, optionsRequired, reply)),
    call: transportCall(operation, reply !== undefined),
    handlerAlias: typeAlias(
      `export type ${typeStem}Handler`,
      `KafkaHandler<${operation.payloadTypeQualified}, ${operation.headersTypeQualified}, ${contextKeyType}, ${contextParametersType}, ${reply?.payloadTypeQualified ?? 'void'}>`,
    ),
    optionsAlias: typeAlias(
      `export type ${typeStem}Options`,
      [
        `${operation.isSend && reply ? 'KafkaRequestOptions' : 'KafkaPublishOptions'}<${operation.headersTypeQualified}, ${keyType}>`,
        ...(keyRequired ? [`{ key: ${keyType} }`] : []),
        ...(channel.hasParameters ? [`{ parameters: ${operation.parametersTypeQualified} }`] : []),
        ...(operation.headersRequired ? [`{ headers: ${operation.headersTypeQualified} }`] : []),
      ].join(' & '),
    ),
    deadLettersMember: typedMember('  ', `readonly ${operation.methodName}`, `DeadLetters<${operation.payloadTypeQualified}, ${operation.headersTypeQualified}, KafkaDeadLetterOrigin>`),
    keyType,
    contextKeyType,
    keyRequired,
    optionsRequired,
    contextParametersType,
    reply,
    comment: commentAt('  ', operation.comment),
  };
}

/** `return this.#transport.<verb>(...)`: what a client method does. */
function transportCall(operation: OperationView, hasReply: boolean): string {
  const definition = `operations.${operation.name}`;
  const replies = hasReply ? [`replies.${operation.name}`] : [];
  if (operation.isReceive) return callStatement('    ', `return this.#transport.${hasReply ? 'respond' : 'subscribe'}`, [definition, ...replies, 'handler', 'options'], ';');
  if (hasReply) return callStatement('    ', 'return this.#transport.request', [definition, ...replies, 'payload', 'options'], ';');
  return callStatement('    ', 'return this.#send', [definition, 'payload', 'options'], ';');
}

/** A client method's parameters and return type: publish, request or consume. */
function signatureOf(operation: OperationView, typeStem: string, optionsRequired: boolean, reply: KafkaReplyView | undefined): [Parameter[], string] {
  if (operation.isReceive) return [[{ name: 'handler', type: `${typeStem}Handler` }, { name: 'options', type: `${typeStem}Options`, defaultValue: '{}' }], 'Promise<KafkaSubscription>'];
  const parameters = [{ name: 'payload', type: operation.payloadTypeQualified }, { name: 'options', type: `${typeStem}Options`, defaultValue: optionsRequired ? undefined : '{}' }];
  return [parameters, reply ? `Promise<KafkaReply<${reply.payloadTypeQualified}>>` : 'Promise<PublishedEvent>'];
}

function replyView(operation: OperationView, model: OperationModel, channels: Map<string, ChannelModel>): KafkaReplyView {
  const requestParameters = new Set(channels.get(model.channelId)?.parameters.map((p) => p.name) ?? []);
  const reply = operation.reply!;
  const headerName = /^\$message\.header#\/(.+)$/.exec(model.reply?.addressLocation ?? '')?.[1]?.replace(/~1/g, '/').replace(/~0/g, '~');
  const replyChannel = model.reply?.channelId ? channels.get(model.reply.channelId) : undefined;
  const boundTopic = replyChannel ? kafkaBinding(replyChannel.bindings).topic : undefined;
  const staticTopic =
    typeof boundTopic === 'string' && boundTopic !== ''
      ? boundTopic
      : replyChannel && replyChannel.address !== null && replyChannel.parameters.length === 0
        ? replyChannel.address
        : undefined;
  const templated =
    staticTopic === undefined && replyChannel && replyChannel.address !== null && replyChannel.parameters.every((p) => requestParameters.has(p.name))
      ? replyChannel.address
      : undefined;
  return {
    payloadTypeQualified: reply.payloadTypeQualified,
    body: objectBody('    ', [
      ['eventType', literalNode(new Code(reply.eventTypeExpression))],
      ['contentType', literalNode(new Code(reply.contentTypeLiteral))],
      ['validatePayload', literalNode(new Code(reply.payloadValidatorExpression))],
      ['replyToHeader', literalNode(headerName ?? DEFAULT_REPLY_TO_HEADER)],
      ['topic', orUndefined(staticTopic)],
      ['address', orUndefined(templated)],
    ]),
  };
}
