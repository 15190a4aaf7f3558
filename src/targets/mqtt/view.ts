import { documentError } from '../../errors.js';
import { commentText } from '../../model/names.js';
import type { ApiModel, OperationModel, ServerModel } from '../../model/types.js';
import { clientMethod, type ClientMethodView } from '../../view/client-method.js';
import { Code, commentAt, literalNode, objectBody } from '../../view/code-layout.js';
import type { AddressPart, CoreView, OperationView } from '../../view/core-view.js';
import { operationKindFlags, type OperationKindFlags } from '../../view/operation-kind.js';

/**
 * What the MQTT templates see: the core view plus, per operation, where it lives on MQTT (topic filter,
 * topic mapping, the mqtt operation binding's qos, retain and message expiry), and the document's MQTT
 * servers and server binding (client id, sessions, keep-alive, last will) as the client's defaults.
 * Every value is a ready-to-place TypeScript literal or expression.
 */
export interface MqttView extends CoreView {
  mqttOperations: MqttOperationView[];
  /**
   * The properties of `createClient`'s defaults, laid out: the document's MQTT brokers
   * (`mqtt://host:port`), source, name, validation, the first MQTT server's protocol version
   * (`'5.0'` or `'3.1.1'`, default 5.0) and its binding (SessionDefaults).
   */
  connectBody: string;
  /** The document's title and version, safe inside a comment. */
  documentComment: string;
}

export interface MqttOperationView extends OperationKindFlags, ClientMethodView {
  operation: OperationView;
  /** Name of the constant holding the operation's MQTT description in the generated client. */
  constName: string;
  /** Name of the constant holding the reply description (request and respond only). */
  replyConstName: string;
  /**
   * The properties of the operation's MQTT description, laid out: its kind, the topic filter of the
   * channel (each level holding a parameter as `+`, or `null`), the TopicCodec that maps the
   * document's address to an MQTT topic and back, and the binding's qos (`0`, `1`, `2`), retain and
   * message expiry, each `undefined` when not given (the client's default).
   */
  body: string;
  /** The operation's comment, indented for the class. */
  comment: string;
  /** Documentation placed in comments. */
  topicComment: string;
}

const MQTT_PROTOCOLS = /^(mqtt|mqtts|secure-mqtt|mqtt5)$/i;

export function buildMqttView(model: ApiModel, view: CoreView): MqttView {
  const servers = model.servers.filter((server) => MQTT_PROTOCOLS.test(server.protocol));
  // A host with a `{variable}` cannot be used as it is written: such servers are left out.
  const urls = servers.filter((server) => !server.host.includes('{')).map(brokerUrl);
  const first = servers[0];
  const defaults = {
    servers: [...new Set(urls)],
    source: new Code(view.sourceLiteral),
    name: new Code(view.titleLiteral),
    validate: new Code(view.validateByDefault),
    mqttVersion: first ? versionOf(first) : '5.0',
    session: first ? sessionDefaults(first) : {},
  };
  return {
    ...view,
    mqttOperations: model.operations.map((operation, index) => operationView(operation, view.operations[index]!)),
    connectBody: objectBody('    ', Object.entries(defaults).map(([key, value]) => [key, literalNode(value)])),
    documentComment: commentText(`"${view.title}" ${model.info.version}`),
  };
}

function brokerUrl(server: ServerModel): string {
  const secure = /^(mqtts|secure-mqtt)$/i.test(server.protocol);
  return `${secure ? 'mqtts' : 'mqtt'}://${server.host.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')}`;
}

function versionOf(server: ServerModel): '5.0' | '3.1.1' {
  const version = server.protocolVersion ?? (/^mqtt5$/i.test(server.protocol) ? '5' : undefined);
  return version !== undefined && /^(3|3\.1\.1|4)$/.test(version.trim()) ? '3.1.1' : '5.0';
}

function operationView(operation: OperationModel, core: OperationView): MqttOperationView {
  const binding = operation.bindings.mqtt ?? {};
  const at = (field: string) => ({ file: operation.origin.file, pointer: `${operation.origin.pointer}/bindings/mqtt/${field}` });
  const flags = operationKindFlags(operation);
  const qos = binding.qos;
  if (qos !== undefined && qos !== 0 && qos !== 1 && qos !== 2)
    throw documentError('E_MQTT_QOS', `the mqtt binding's qos of operation "${operation.id}" must be 0, 1 or 2`, at('qos'));
  const retain = binding.retain;
  if (retain !== undefined && typeof retain !== 'boolean')
    throw documentError('E_MQTT_BINDING', `the mqtt binding's retain of operation "${operation.id}" must be true or false`, at('retain'));
  const expiry = binding.messageExpiryInterval;
  if (expiry !== undefined && !isNonNegativeInteger(expiry))
    throw documentError('E_MQTT_BINDING', `the mqtt binding's messageExpiryInterval of operation "${operation.id}" must be a whole number of seconds`, at('messageExpiryInterval'));
  const topic = topicOf(core.channel.addressParts, core.channel.addressLiteral === 'null', operation);
  const constName = `${core.name}Mqtt`;
  const replyConstName = `${core.name}Reply`;
  const orUndefined = (value: unknown) => value ?? new Code('undefined');
  const description = {
    kind: flags.kind,
    filter: topic.filter,
    topics: new Code(topic.codec),
    qos: orUndefined(qos),
    retain: orUndefined(retain),
    messageExpirySeconds: orUndefined(expiry),
  };
  return {
    operation: core,
    ...flags,
    constName,
    replyConstName,
    body: objectBody('  ', Object.entries(description).map(([key, value]) => [key, literalNode(value)])),
    ...clientMethod('Mqtt', core, flags, constName, replyConstName),
    comment: commentAt('  ', core.comment),
    topicComment: topic.filter === null ? 'no topic in the document (pass `mqttTopic`)' : commentText(`topic \`${topic.filter}\``),
  };
}

/**
 * The MQTT form of a channel address. Levels are separated by `/`; a parameter becomes one level, and
 * `+` in the topic filter. Addresses written with `.` and no `/` (`orders.{region}.created`) map `.` to
 * `/`, so their parameters become levels too; the mapping is reversed on receipt. A wildcard in the
 * document's own text is refused: it would widen every subscription.
 */
function topicOf(parts: AddressPart[], isNull: boolean, operation: OperationModel): { filter: string | null; codec: string } {
  if (isNull) return { filter: null, codec: 'slashTopics' };
  // Parameters stand as NUL here (they cannot hold one) so that levels can be told apart.
  const address = parts.map((p) => (p.kind === 'literal' ? p.text : '\u0000')).join('');
  if (/[+#]/.test(address))
    throw documentError('E_MQTT_ADDRESS', `the address of operation "${operation.id}" holds an MQTT wildcard (+ or #); parameters are written {name}`, {
      file: operation.origin.file,
      pointer: `${operation.origin.pointer}/channel`,
    });
  const dots = address.includes('.') && !address.includes('/');
  const topic = dots ? address.replace(/\./g, '/') : address;
  // A level that holds a parameter (whole or in part) becomes `+`; the exact match is checked on receipt.
  const filter = topic
    .split('/')
    .map((level) => (level.includes('\u0000') ? '+' : level))
    .join('/');
  return { filter, codec: dots ? 'dotTopics' : 'slashTopics' };
}

/** The server binding as SessionDefaults (client id, clean session, session expiry, keep-alive, last will). */
function sessionDefaults(server: ServerModel): Record<string, unknown> {
  const binding = server.bindings.mqtt ?? {};
  const at = (field: string) => ({ file: server.origin.file, pointer: `${server.origin.pointer}/bindings/mqtt/${field}` });
  const fields: Record<string, unknown> = {};
  const text = (name: string, value: unknown, field: string) => {
    if (value === undefined) return;
    if (typeof value !== 'string') throw documentError('E_MQTT_BINDING', `the mqtt server binding's ${field} must be text`, at(field));
    fields[name] = value;
  };
  const seconds = (name: string, value: unknown, field: string) => {
    if (value === undefined) return;
    if (!isNonNegativeInteger(value)) throw documentError('E_MQTT_BINDING', `the mqtt server binding's ${field} must be a whole number of seconds`, at(field));
    fields[name] = value;
  };
  text('clientId', binding.clientId, 'clientId');
  if (binding.cleanSession !== undefined) {
    if (typeof binding.cleanSession !== 'boolean') throw documentError('E_MQTT_BINDING', `the mqtt server binding's cleanSession must be true or false`, at('cleanSession'));
    fields.cleanSession = binding.cleanSession;
  }
  seconds('sessionExpirySeconds', binding.sessionExpiryInterval, 'sessionExpiryInterval');
  seconds('keepAliveSeconds', binding.keepAlive, 'keepAlive');
  const will = binding.lastWill as Record<string, unknown> | undefined;
  if (will !== undefined) {
    if (typeof will !== 'object' || will === null || typeof will.topic !== 'string')
      throw documentError('E_MQTT_BINDING', `the mqtt server binding's lastWill needs a topic`, at('lastWill'));
    const qos = will.qos === 0 || will.qos === 1 || will.qos === 2 ? will.qos : 1;
    const payload = typeof will.message === 'string' ? will.message : '';
    fields.lastWill = { topic: will.topic, payload, qos, retain: will.retain === true };
  }
  return fields;
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}
