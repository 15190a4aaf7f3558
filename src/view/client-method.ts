import type { OperationView } from './core-view.js';
import { callStatement, Code, declaration, literalNode, methodSignature, type Parameter } from './code-layout.js';
import type { OperationKindFlags } from './operation-kind.js';

/**
 * The client methods of the NATS and MQTT targets, whose run-time names differ by their prefix only
 * (`NatsHandler`, `MqttHandler`, ...): each method's signature and transport call, and the reply
 * spec of request and respond operations, laid out as prettier prints them (./code-layout.ts).
 */
export type BrokerPrefix = 'Nats' | 'Mqtt';

export interface ClientMethodView {
  /** `export const <replyConstName>: <Prefix>ReplySpec<...> = {...};` (request and respond only). */
  replyDeclaration: string;
  /** The client method's signature up to its body's `{`, indented for the class. */
  signature: string;
  /** The method's body: the `return` of the transport's call. */
  call: string;
}

export function clientMethod(prefix: BrokerPrefix, core: OperationView, flags: OperationKindFlags, constName: string, replyConstName: string): ClientMethodView {
  return {
    replyDeclaration: core.reply ? replyDeclaration(prefix, core, replyConstName) : '',
    signature: methodSignature('  ', core.methodName, ...signatureOf(prefix, core, flags)),
    call: transportCall(core, flags, constName, replyConstName),
  };
}

/** The reply's spec: what a request's reply carries and how it is checked. */
function replyDeclaration(prefix: BrokerPrefix, core: OperationView, replyConstName: string): string {
  const reply = core.reply!;
  const spec = {
    operation: new Code(core.idLiteral),
    eventType: new Code(reply.eventTypeExpression),
    contentType: new Code(reply.contentTypeLiteral),
    validatePayload: new Code(reply.payloadValidatorExpression),
  };
  return declaration(`export const ${replyConstName}`, `${prefix}ReplySpec<${reply.payloadTypeQualified}>`, literalNode(spec), true);
}

/** A client method's parameters and return type: publish, request, subscribe or respond. */
function signatureOf(prefix: BrokerPrefix, core: OperationView, flags: OperationKindFlags): [Parameter[], string] {
  const types = `${core.payloadTypeQualified}, ${core.headersTypeQualified}, ${core.parametersTypeQualified}`;
  const consumerOptions = { name: 'options', type: `${prefix}ConsumerOptions`, defaultValue: '{}' };
  if (flags.isSubscribe) return [[{ name: 'handler', type: `${prefix}Handler<${types}>` }, consumerOptions], `Promise<${prefix}Subscription>`];
  if (flags.isRespond) return [[{ name: 'handler', type: `${prefix}Responder<${types}, ${core.reply!.payloadTypeQualified}>` }, consumerOptions], `Promise<${prefix}Subscription>`];
  const extras = [core.channel.hasParameters ? ` & { parameters: ${core.parametersTypeQualified} }` : '', core.headersRequired ? ` & { headers: ${core.headersTypeQualified} }` : ''].join('');
  const options = { name: core.optionsRequired ? 'options' : 'options?', type: `${prefix}${flags.isRequest ? 'RequestOptions' : 'PublishOptions'}<${core.headersTypeQualified}>${extras}` };
  return [[{ name: 'payload', type: core.payloadTypeQualified }, options], flags.isRequest ? `Promise<${prefix}Reply<${core.reply!.payloadTypeQualified}>>` : `Promise<${prefix}PublishResult>`];
}

/** `return this.#transport.<verb>(...)`: what a client method does. */
function transportCall(core: OperationView, flags: OperationKindFlags, constName: string, replyConstName: string): string {
  const options = core.channel.hasParameters ? 'options' : 'options ?? {}';
  if (flags.isSubscribe) return callStatement('    ', 'return this.#transport.subscribe', [constName, 'handler', 'options'], ';');
  if (flags.isRespond) return callStatement('    ', 'return this.#transport.respond', [constName, replyConstName, 'handler', 'options'], ';');
  if (flags.isRequest) return callStatement('    ', 'return this.#transport.request', [constName, replyConstName, 'payload', options], ';');
  return callStatement('    ', 'return this.#transport.publish', [constName, 'payload', options], ';');
}

