import { camelCase, cloudEventsTypeOf, codeStringLiteral, commentText, pascalCase, stringLiteral, UniqueNames } from '../model/names.js';
import { breaksTypeArgumentsFirst } from './code-layout.js';
import { arrowConcatenation, listLayout, typedObjectDeclaration } from './prettier-form.js';
import type { ApiModel, ChannelModel, JsonSchema, MessageModel, OperationModel } from '../model/types.js';

/**
 * What templates see: every identifier, literal and comment already made safe here.
 * Broker targets extend these views with their own data (see src/targets/<name>/view.ts).
 */
export interface CoreView {
  title: string;
  /** Comment-safe header lines. */
  headerComment: string;
  /** String literal of the document title. */
  titleLiteral: string;
  versionLiteral: string;
  /** Default CloudEvents `source` for producers (a string literal). */
  sourceLiteral: string;
  /** The same, as comment text. */
  sourceComment: string;
  /** `true` or `false`: the client option `validate` when left out. */
  validateByDefault: string;
  generatorVersion: string;
  messages: MessageView[];
  channels: ChannelView[];
  operations: OperationView[];
  /** Some message is Avro: operations.ts imports the Avro codec. */
  usesAvro: boolean;
  /** Some message is Protobuf: operations.ts imports the Protobuf codec. */
  usesProtobuf: boolean;
  /** All type names that `types.ts` exports, for the index. */
  typeNames: string[];
}

export interface MessageView {
  id: string;
  name: string;
  pascalName: string;
  payloadType: string;
  headersType?: string;
  /** Name of the payload validator function exported by validators.ts. */
  payloadValidator: string;
  headersValidator?: string;
  /** The message's header schema requires a property. */
  headersRequired: boolean;
  /** CloudEvents `type` for this message (string literal). */
  eventTypeLiteral: string;
  contentTypeLiteral: string;
  /** A message that is not JSON on the wire: its schema language and the expression of its codec factory. */
  payloadCodec?: { format: 'Avro' | 'Protobuf'; expression: string };
  comment: string;
  /** `$message.header#/x` → the header name holding the correlation id (literal), when the document says so. */
  correlationHeaderLiteral?: string;
}

export interface ParameterView {
  /** Property key in the parameters object (quoted when needed). */
  key: string;
  /** String literal of the parameter name. */
  nameLiteral: string;
  comment: string;
}

export interface ChannelView {
  id: string;
  name: string;
  pascalName: string;
  /** The address as a string literal (with `{param}` placeholders), or `null`. */
  addressLiteral: string;
  hasParameters: boolean;
  parametersType: string;
  parameters: ParameterView[];
  /** Literal parts and parameter names of the address in order, for targets that build addresses. */
  addressParts: AddressPart[];
  /** TypeScript expression that builds the address from `parameters` (each value checked by `segment`). */
  addressExpression: string;
  /** The same expression's operands. */
  addressOperands: string[];
  /** The builder's parameter list: `parameters`, or nothing when the address has no parameter (no unused parameter). */
  addressBuilderParameter: string;
  /** String literal of a regular expression matching a concrete address, one group per parameter. */
  addressPatternLiteral: string;
  /** Array literal of the parameter names, in address order. */
  parameterNamesLiteral: string;
  /** Validator of the parameter set, when there are parameters. */
  parametersValidator?: string;
  comment: string;
}

export type AddressPart = { kind: 'literal'; text: string } | { kind: 'parameter'; name: string };

export interface OperationView {
  id: string;
  name: string;
  /**
   * The client method for this operation, the same on every broker: `publishX` for a send,
   * `requestX` for a send with a reply, `onX` for a receive (the verb is not doubled: `publishOrder` stays).
   */
  methodName: string;
  pascalName: string;
  action: 'send' | 'receive';
  isSend: boolean;
  isReceive: boolean;
  channel: ChannelView;
  messages: MessageView[];
  /** Union of payload types (`A | B`). */
  payloadType: string;
  /** The same types, qualified by the `types` namespace import (`types.A | types.B`). */
  payloadTypeQualified: string;
  headersTypeQualified: string;
  parametersTypeQualified: string;
  /** Union of header types, or `Record<string, string>` when none is declared. */
  headersType: string;
  hasDeclaredHeaders: boolean;
  /**
   * Every message of the operation has a header with a required property: the options type then
   * requires `headers`, on every broker, as the run-time check does (it validates absent headers too).
   */
  headersRequired: boolean;
  /** A publish must pass options: the channel has parameters, or `headers` are required. */
  optionsRequired: boolean;
  /** Payload validator: a single function, or a dispatcher over several messages. */
  comment: string;
  reply?: ReplyView;
  /** The operation's own id as a string literal. */
  idLiteral: string;
  /** Expressions (over the `validators` namespace) that validate this operation's payload and headers. */
  payloadValidatorExpression: string;
  headersValidatorExpression: string;
  parametersValidatorExpression: string;
  /** Expression of a function `(payload) => CloudEvents type`. */
  eventTypeExpression: string;
  contentTypeLiteral: string;
  /** Expression of the operation's payload codec factory, when its message is not JSON (Avro). */
  payloadCodecExpression?: string;
  /** This operation's lines of operations.ts whose breaks depend on the document, laid out as prettier prints them. */
  layout: OperationLayout;
}

export interface OperationLayout {
  /** `const xAddressPattern = new RegExp(...);` */
  addressPattern: string;
  /** `export const xSpec: OperationSpec<...> = {`, or up to `=` when the object starts on the next line. */
  specHead: string;
  /** The spec object starts on the next line, one level deeper (templates/partials/operation-spec.hbs placed indented). */
  specOnNextLine: boolean;
  /** `  buildAddress: (parameters) => ...,`, laid out at the depth the object is placed at, written relative to it. */
  buildAddress: string;
}

export interface ReplyView {
  channel?: ChannelView;
  messages: MessageView[];
  payloadType: string;
  /** The reply's payload types qualified by the `types` namespace import (`unknown` when none is declared). */
  payloadTypeQualified: string;
  /** Expression (over the `validators` namespace) that validates a reply payload. */
  payloadValidatorExpression: string;
  /** Expression of a function `(payload) => CloudEvents type` for a reply. */
  eventTypeExpression: string;
  contentTypeLiteral: string;
  /** Expression of the reply's payload codec factory, when its message is not JSON (Avro). */
  payloadCodecExpression?: string;
}

export interface CoreViewOptions {
  /** CloudEvents `source` for producers; defaults to a path derived from the document title. */
  eventSource?: string;
  /** Whether generated clients validate when neither the client nor the call says. */
  validateByDefault?: boolean;
}

export function buildCoreView(model: ApiModel, generatorVersion: string, { eventSource, validateByDefault = true }: CoreViewOptions = {}): CoreView {
  const messages = new Map(model.messages.map((m) => [m.id, messageView(m, model)]));
  const channels = new Map(model.channels.map((c) => [c.id, channelView(c)]));
  const methodNames = new UniqueNames();
  const operations = model.operations.map((operation) => operationView(operation, channels, messages, methodNames));
  const title = model.info.title || 'AsyncAPI document';
  return {
    title,
    headerComment: commentText(`Generated by codegen ${generatorVersion} from "${title}" version ${model.info.version}. Do not edit.`),
    titleLiteral: codeStringLiteral(title),
    versionLiteral: codeStringLiteral(model.info.version),
    sourceLiteral: codeStringLiteral(eventSource ?? `/${camelCase(title, 'service')}`),
    sourceComment: commentText(stringLiteral(eventSource ?? `/${camelCase(title, 'service')}`)),
    validateByDefault: String(validateByDefault),
    generatorVersion,
    messages: [...messages.values()],
    channels: [...channels.values()],
    operations,
    usesAvro: model.messages.some((m) => m.avroSchema !== undefined),
    usesProtobuf: model.messages.some((m) => m.protobufSchema !== undefined),
    typeNames: Object.keys(model.schemas),
  };
}

/** Whether a schema (followed through `#/definitions/` references) requires a property. */
function hasRequiredFields(schemas: Record<string, JsonSchema>, schema: JsonSchema | undefined, depth = 0): boolean {
  if (typeof schema !== 'object' || schema === null || depth > 8) return false;
  const ref = typeof schema.$ref === 'string' ? /^#\/definitions\/(.+)$/.exec(schema.$ref)?.[1] : undefined;
  if (ref !== undefined) return hasRequiredFields(schemas, schemas[ref], depth + 1);
  return Array.isArray(schema.required) && schema.required.length > 0;
}

function messageView(message: MessageModel, model: ApiModel): MessageView {
  const eventType = cloudEventsTypeOf(message);
  const correlationHeader = /^\$message\.header#\/(.+)$/.exec(message.correlationId?.location ?? '')?.[1];
  return {
    id: message.id,
    name: message.name,
    pascalName: pascalCase(message.name),
    payloadType: message.payloadTypeName,
    headersType: message.headersTypeName,
    payloadValidator: `validate${message.payloadTypeName}`,
    headersValidator: message.headersTypeName ? `validate${message.headersTypeName}` : undefined,
    headersRequired: message.headersTypeName !== undefined && hasRequiredFields(model.schemas, model.schemas[message.headersTypeName]),
    eventTypeLiteral: codeStringLiteral(eventType),
    contentTypeLiteral: codeStringLiteral(message.contentType || model.defaultContentType),
    payloadCodec: payloadCodecOf(message),
    comment: commentText([message.title, message.summary, message.description].filter(Boolean).join('\n\n')),
    correlationHeaderLiteral: correlationHeader ? codeStringLiteral(correlationHeader.replace(/~1/g, '/').replace(/~0/g, '~')) : undefined,
  };
}

export function parseAddress(address: string | null): AddressPart[] {
  if (address === null) return [];
  const parts: AddressPart[] = [];
  const pattern = /\{([^{}]+)\}/g;
  let last = 0;
  for (let match = pattern.exec(address); match; match = pattern.exec(address)) {
    if (match.index > last) parts.push({ kind: 'literal', text: address.slice(last, match.index) });
    parts.push({ kind: 'parameter', name: match[1]! });
    last = match.index + match[0].length;
  }
  if (last < address.length) parts.push({ kind: 'literal', text: address.slice(last) });
  return parts;
}

const SEGMENT_PATTERN = '([^/.*>#+\\s]+)';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The operands of the expression that builds an address (joined with ` + `). */
function addressOperands(parts: AddressPart[]): string[] {
  if (parts.length === 0) return ["''"];
  return parts.map((part) => (part.kind === 'literal' ? codeStringLiteral(part.text) : `segment(parameters?.[${codeStringLiteral(part.name)}], ${codeStringLiteral(part.name)})`));
}

function channelView(channel: ChannelModel): ChannelView {
  const parts = parseAddress(channel.address);
  const addressOrder = parts.filter((p): p is { kind: 'parameter'; name: string } => p.kind === 'parameter').map((p) => p.name);
  return {
    addressExpression: addressOperands(parts).join(' + '),
    addressOperands: addressOperands(parts),
    addressBuilderParameter: addressOrder.length > 0 ? 'parameters' : '',
    addressPatternLiteral: codeStringLiteral('^' + parts.map((p) => (p.kind === 'literal' ? escapeRegExp(p.text) : SEGMENT_PATTERN)).join('') + '$'),
    parameterNamesLiteral: `[${addressOrder.map((name) => codeStringLiteral(name)).join(', ')}]`,
    parametersValidator: channel.parametersTypeName ? `validate${channel.parametersTypeName}` : undefined,
    id: channel.id,
    name: channel.name,
    pascalName: pascalCase(channel.name),
    addressLiteral: channel.address === null ? 'null' : codeStringLiteral(channel.address),
    hasParameters: channel.parameters.length > 0,
    parametersType: channel.parametersTypeName ?? 'Record<string, never>',
    parameters: channel.parameters.map((p) => ({ key: p.propertyName, nameLiteral: codeStringLiteral(p.name), comment: commentText(p.description) })),
    addressParts: parts,
    comment: commentText(channel.description),
  };
}

function methodName(operation: OperationModel): string {
  const verb = operation.action === 'receive' ? 'on' : operation.reply ? 'request' : 'publish';
  const name = operation.name.replace(/_+$/, '');
  if (name.startsWith(verb) && /^[A-Z0-9_]/.test(name.slice(verb.length))) return name;
  return verb + pascalCase(name);
}

function operationView(
  operation: OperationModel,
  channels: Map<string, ChannelView>,
  messages: Map<string, MessageView>,
  methodNames: UniqueNames,
): OperationView {
  const channel = channels.get(operation.channelId)!;
  const operationMessages = operation.messageIds.map((id) => messages.get(id)!).filter(Boolean);
  const headerTypes = operationMessages.map((m) => m.headersType).filter((t): t is string => t !== undefined);
  const reply = operation.reply;
  const headersRequired = operationMessages.length > 0 && operationMessages.every((m) => m.headersRequired);
  const payloadTypeQualified = unionOf(operationMessages.map((m) => `types.${m.payloadType}`));
  // A message that declares no headers may carry any: then the validator accepts any header set, and the type says so.
  const headersTypeQualified = headerTypes.length > 0 ? unionOf([...headerTypes.map((t) => `types.${t}`), ...(headerTypes.length < operationMessages.length ? ['Record<string, string>'] : [])]) : 'Record<string, string>';
  const parametersTypeQualified = channel.hasParameters ? `types.${channel.parametersType}` : 'Record<string, never>';
  return {
    id: operation.id,
    name: operation.name,
    methodName: methodNames.claim(methodName(operation)),
    pascalName: pascalCase(operation.name),
    action: operation.action,
    isSend: operation.action === 'send',
    isReceive: operation.action === 'receive',
    channel,
    messages: operationMessages,
    payloadType: unionOf(operationMessages.map((m) => m.payloadType)),
    payloadTypeQualified,
    headersTypeQualified,
    parametersTypeQualified,
    headersType: headerTypes.length > 0 ? unionOf([...headerTypes, ...(headerTypes.length < operationMessages.length ? ['Record<string, string>'] : [])]) : 'Record<string, string>',
    hasDeclaredHeaders: headerTypes.length > 0,
    headersRequired,
    optionsRequired: channel.hasParameters || headersRequired,
    comment: commentText([operation.summary, operation.description].filter(Boolean).join('\n\n')),
    idLiteral: codeStringLiteral(operation.id),
    ...validationExpressions(operationMessages, channel),
    reply: reply ? replyView(reply.channelId, reply.messageIds, channels, messages) : undefined,
    layout: operationLayout(operation.name, channel, [payloadTypeQualified, headersTypeQualified, parametersTypeQualified]),
  };
}

function operationLayout(name: string, channel: ChannelView, specTypes: string[]): OperationLayout {
  const spec = typedObjectDeclaration(`export const ${name}Spec: OperationSpec<`, specTypes, breaksTypeArgumentsFirst(`OperationSpec<${specTypes.join(', ')}>`));
  // The partial is placed two spaces deeper when the object starts on the next line, and Handlebars
  // indents every line it writes: the arrow is laid out at its real depth, then written without those two spaces.
  const depth = spec.objectOnNextLine ? '    ' : '  ';
  const buildAddress = arrowConcatenation(depth, `buildAddress: (${channel.addressBuilderParameter}) =>`, channel.addressOperands, ',');
  return {
    addressPattern: listLayout('', { open: `const ${name}AddressPattern = new RegExp(`, items: [channel.addressPatternLiteral], close: ');', padded: false, trailingComma: true }),
    specHead: spec.head,
    specOnNextLine: spec.objectOnNextLine,
    buildAddress: spec.objectOnNextLine ? buildAddress.replace(/^ {2}/gm, '') : buildAddress,
  };
}

function replyView(channelId: string | undefined, messageIds: string[], channels: Map<string, ChannelView>, messages: Map<string, MessageView>): ReplyView {
  const replyMessages = messageIds.map((id) => messages.get(id)!).filter(Boolean);
  const expressions = validationExpressions(replyMessages, undefined);
  return {
    channel: channelId ? channels.get(channelId) : undefined,
    messages: replyMessages,
    payloadType: unionOf(replyMessages.map((m) => m.payloadType)),
    payloadTypeQualified: unionOf(replyMessages.map((m) => `types.${m.payloadType}`)),
    payloadValidatorExpression: expressions.payloadValidatorExpression,
    eventTypeExpression: expressions.eventTypeExpression,
    contentTypeLiteral: expressions.contentTypeLiteral,
    payloadCodecExpression: expressions.payloadCodecExpression,
  };
}

function validationExpressions(messages: MessageView[], channel: ChannelView | undefined) {
  const payloadValidators = messages.map((m) => `validators.${m.payloadValidator}`);
  const headerValidators = messages.map((m) => (m.headersValidator ? `validators.${m.headersValidator}` : undefined));
  const allHaveHeaders = headerValidators.length > 0 && headerValidators.every((v) => v !== undefined);
  return {
    payloadValidatorExpression:
      payloadValidators.length === 0 ? 'acceptAny' : payloadValidators.length === 1 ? payloadValidators[0]! : `(data: unknown) => firstValid(data, [${payloadValidators.join(', ')}])`,
    headersValidatorExpression: !allHaveHeaders
      ? 'validators.acceptAnyHeaders'
      : headerValidators.length === 1
        ? headerValidators[0]!
        : `(data: unknown) => firstValid(data, [${headerValidators.join(', ')}])`,
    parametersValidatorExpression: channel?.parametersValidator ? `validators.${channel.parametersValidator}` : 'acceptAny',
    eventTypeExpression:
      messages.length <= 1
        ? `() => ${messages[0]?.eventTypeLiteral ?? codeStringLiteral('event')}`
        : `(payload: unknown) => eventTypeOf(payload, [${messages.map((m) => `[validators.${m.payloadValidator}, ${m.eventTypeLiteral}]`).join(', ')}])`,
    contentTypeLiteral: messages[0]?.contentTypeLiteral ?? codeStringLiteral('application/json'),
    payloadCodecExpression: payloadCodecExpression(messages),
  };
}

function payloadCodecOf(message: MessageModel): MessageView['payloadCodec'] {
  if (message.avroSchema !== undefined) return { format: 'Avro', expression: `avroCodec(${codeStringLiteral(message.avroSchema)})` };
  if (message.protobufSchema !== undefined) return { format: 'Protobuf', expression: `protobufCodec(${codeStringLiteral(message.protobufSchema)})` };
  return undefined;
}

/**
 * An operation (or reply) of one Avro or Protobuf message encodes it with that message's schema. One
 * with several messages of which one is binary never reaches here: the model refuses it
 * (E_AVRO_SEVERAL_MESSAGES, E_PROTOBUF_SEVERAL_MESSAGES).
 */
function payloadCodecExpression(messages: MessageView[]): string | undefined {
  return messages.find((m) => m.payloadCodec)?.payloadCodec!.expression;
}

function unionOf(types: string[]): string {
  const unique = [...new Set(types)];
  return unique.length === 0 ? 'unknown' : unique.join(' | ');
}
