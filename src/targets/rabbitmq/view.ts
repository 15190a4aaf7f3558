import { commentText, words } from '../../model/names.js';
import type { ApiModel, ChannelModel, JsonSchema, MessageModel, OperationModel, ServerModel } from '../../model/types.js';
import { callStatement, callWithLastObject, Code, commentAt, declaration, literalNode, methodSignature, typedMember, type Parameter } from '../../view/code-layout.js';
import { parseAddress, type CoreView, type OperationView } from '../../view/core-view.js';
import {
  readChannelBinding,
  readMessageBinding,
  readOperationBinding,
  type ChannelBinding,
  type ExchangeBinding,
  type ExchangeType,
  type QueueBinding,
  type QueueType,
} from './bindings.js';

/**
 * What the rabbitmq templates see: the core view plus, per operation, a route (where it publishes or
 * consumes, and the AMQP properties its bindings fix) and the typed signature of its client method.
 * Every value is a finished TypeScript literal, type or comment.
 */
export interface RabbitView extends CoreView {
  rabbit: {
    /** `export const topology: DocumentTopology = ...;`: service name, default URLs, exchanges and queues to declare. */
    topologyDeclaration: string;
    routes: RouteView[];
    /** Whether any operation receives: the dead-letter queues interface has members. */
    hasDeadLetters: boolean;
    /** `createClient`'s connect statement, laid out as prettier prints it. */
    connectStatement: string;
    /** Markdown-ish lines describing each operation's destination, for the generated module comment. */
    routingTable: string;
  };
}

export type RouteKind = 'send' | 'request' | 'receive' | 'respond';

export interface RouteView {
  constName: string;
  /** `const <constName>: SendRoute<...> = { ... };` (or another route type), laid out as prettier prints it. */
  declaration: string;
  methodName: string;
  /** The method's signature up to its body's `{`, indented for the class. */
  signature: string;
  /** The `deadLetters` interface member of a receive operation, indented for the interface. */
  deadLettersMember: string;
  isSend: boolean;
  isRequest: boolean;
  isReceive: boolean;
  isRespond: boolean;
  /** The operation's summary and description (comment-safe, indented for the class; may be empty). */
  summary: string;
  /** Where the method publishes or consumes (comment-safe). */
  targetComment: string;
  /** The method's body: the `return` of the transport's call. */
  call: string;
}

/** A route's address: where it goes, as data the run-time code reads. */
type Template = Array<string | { parameter: string }>;

interface Exchange {
  name: string;
  type: ExchangeType;
  durable: boolean;
  autoDelete: boolean;
}

interface Queue {
  name: Template;
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  type?: QueueType;
}

/** `queueType`: the type of the queues consumers bind to the exchange (left out when the binding names none). */
type Destination = { kind: 'exchange'; exchange: Exchange; routingKey: Template; queueType?: QueueType } | { kind: 'queue'; queue: Queue };

const QUEUE_DEFAULTS = { durable: true, exclusive: false, autoDelete: false };

export function buildRabbitView(model: ApiModel, core: CoreView): RabbitView {
  const serviceName = serviceNameOf(model.info.title);
  const channels = new Map(model.channels.map((channel) => [channel.id, channel]));
  const messages = new Map(model.messages.map((message) => [message.id, message]));
  const addressing = new Addressing(serviceName, channels);
  const routes = core.operations.map((view, index) => routeView(view, model.operations[index]!, addressing, messages, model));
  return {
    ...core,
    rabbit: {
      topologyDeclaration: declaration(
        'export const topology',
        'DocumentTopology',
        literalNode({
          serviceName,
          defaultUrls: defaultUrls(model.servers, bindingVhost(model)),
          exchanges: addressing.exchanges(),
          queues: addressing.fixedQueues(),
        }),
      ),
      routes,
      hasDeadLetters: routes.some((route) => route.isReceive),
      connectStatement: callWithLastObject(
        '  ',
        'const transport = await RabbitTransport.connect',
        ['topology', 'options'],
        literalNode({ source: new Code(core.sourceLiteral), validate: new Code(core.validateByDefault) }),
        ';',
      ),
      routingTable: commentText(routingTable(core.operations, model.operations, addressing)),
    },
  };
}

/** `Order Processing` → `order-processing`: the default exchange and the stem of default queue names. */
function serviceNameOf(title: string): string {
  return words(title).join('-').toLowerCase() || 'service';
}

/**
 * The connection URLs when the application gives none: the document's AMQP servers, in the virtual
 * host the server's path names, else the one the channel bindings name (`exchange.vhost`,
 * `queue.vhost`), else the broker's default.
 */
function defaultUrls(servers: ServerModel[], vhost: string | undefined): string[] {
  const inVhost = vhost === undefined || vhost === '/' ? '' : `/${encodeURIComponent(vhost)}`;
  const urls = servers
    .filter((server) => /^amqps?$/.test(server.protocol) && !/[{}]/.test(server.host))
    .map((server) => `${server.protocol}://${server.host}${server.pathname && server.pathname !== '/' ? server.pathname : inVhost}`);
  return urls.length > 0 ? urls : [`amqp://localhost:5672${inVhost}`];
}

/**
 * The one virtual host the channel bindings name. A client holds one connection, and a connection is
 * in one vhost: when the bindings name several, none is chosen (the application passes `urls`, one
 * client per vhost; docs/targets/rabbitmq.md).
 */
function bindingVhost(model: ApiModel): string | undefined {
  const named = new Set<string>();
  for (const channel of model.channels) {
    const binding = readChannelBinding(channel.bindings, channel.origin);
    for (const vhost of [binding?.exchange?.vhost, binding?.queue?.vhost]) if (vhost !== undefined) named.add(vhost);
  }
  return named.size === 1 ? [...named][0] : undefined;
}

/**
 * Turns channels and their bindings into destinations: where senders publish, and what receivers consume
 * (the queue itself, or a queue of their own bound to the exchange with the routing key).
 * Without bindings a channel is a routing key on the document's own topic exchange.
 */
class Addressing {
  private readonly used = new Map<string, Exchange>();
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly serviceName: string,
    private readonly channels: Map<string, ChannelModel>,
  ) {}

  destination(channelId: string): Destination {
    const { channel, binding } = this.channel(channelId);
    if (binding?.is === 'queue' || binding?.exchange?.name === '') return { kind: 'queue', queue: this.queue(channel, binding) };
    const exchange = this.exchange(binding?.exchange);
    return { kind: 'exchange', exchange, routingKey: routingKeyTemplate(channel, exchange.type), queueType: binding?.queueType };
  }

  /** Every exchange an operation uses, once. */
  exchanges(): Exchange[] {
    return [...this.used.values()];
  }

  /** The queues of `is: queue` channels whose names hold no parameter: declared up front like exchanges. */
  fixedQueues(): Queue[] {
    return [...this.queues.values()].filter((queue) => queue.name.every((part) => typeof part === 'string'));
  }

  private channel(channelId: string): { channel: ChannelModel; binding: ChannelBinding | undefined } {
    const channel = this.channels.get(channelId)!;
    return { channel, binding: readChannelBinding(channel.bindings, channel.origin) };
  }

  private exchange(binding: ExchangeBinding | undefined): Exchange {
    const exchange: Exchange = {
      name: binding?.name ?? this.serviceName,
      type: binding?.type ?? 'topic',
      durable: binding?.durable ?? true,
      autoDelete: binding?.autoDelete ?? false,
    };
    if (!this.used.has(exchange.name)) this.used.set(exchange.name, exchange);
    return exchange;
  }

  private queue(channel: ChannelModel, binding: ChannelBinding | undefined): Queue {
    const declared = binding?.queue;
    const queue: Queue = { ...queueFlags(declared), name: declared?.name ? [declared.name] : addressTemplate(channel, false), type: binding?.queueType };
    const key = JSON.stringify(queue.name);
    if (!this.queues.has(key)) this.queues.set(key, queue);
    return queue;
  }
}

function queueFlags(binding: QueueBinding | undefined) {
  return binding ? { durable: binding.durable, exclusive: binding.exclusive, autoDelete: binding.autoDelete } : QUEUE_DEFAULTS;
}

/**
 * Topic exchanges match routing keys word by word, words split by dots. An address written with slashes
 * (`orders/{region}/created`) becomes `orders.{region}.created` there, as RabbitMQ's MQTT plugin maps
 * topics, so a consumer can bind `orders.*.created`. Other exchanges take the address as written.
 */
function routingKeyTemplate(channel: ChannelModel, type: ExchangeType): Template {
  return addressTemplate(channel, type === 'topic');
}

function addressTemplate(channel: ChannelModel, slashesToDots: boolean): Template {
  // A channel without an address is known by its id.
  if (channel.address === null) return [channel.id];
  return parseAddress(channel.address).map((part) => (part.kind === 'parameter' ? { parameter: part.name } : slashesToDots ? part.text.replace(/\//g, '.') : part.text));
}

function routeView(view: OperationView, operation: OperationModel, addressing: Addressing, messages: Map<string, MessageModel>, model: ApiModel): RouteView {
  const kind: RouteKind = view.isSend ? (view.reply ? 'request' : 'send') : view.reply ? 'respond' : 'receive';
  const operationMessages = messagesOf(operation.messageIds, messages);
  const target = addressing.destination(operation.channelId);
  const types = signatureTypes(view, operationMessages, model);
  const constName = `${view.name}Route`;
  const options = optionsSignature(kind, types);
  return {
    constName,
    declaration: declaration(`const ${constName}`, routeType(kind, types), literalNode(routeLiteral(view, operation, target, addressing, messages))),
    methodName: view.methodName,
    signature: methodSignature('  ', view.methodName, [firstParameter(kind, types), options.parameter], returnType(kind, types)),
    deadLettersMember: typedMember('  ', `readonly ${view.methodName}`, `DeadLetters<${types.payload}, ${types.headers}, RabbitDeadLetterOrigin>`),
    isSend: kind === 'send',
    isRequest: kind === 'request',
    isReceive: kind === 'receive',
    isRespond: kind === 'respond',
    summary: commentAt('  ', view.comment),
    targetComment: commentAt('  ', commentText(describeTarget(view, target))),
    call: callStatement('    ', `return this.#transport.${TRANSPORT_METHODS[kind]}`, [constName, kind === 'send' || kind === 'request' ? 'payload' : 'handler', options.argument], ';'),
  };
}

const TRANSPORT_METHODS: Record<RouteKind, string> = { send: 'publish', request: 'request', receive: 'subscribe', respond: 'respond' };

/** The payload a send or request method takes, or the handler a receive or respond method takes. */
function firstParameter(kind: RouteKind, types: SignatureTypes): Parameter {
  if (kind === 'send' || kind === 'request') return { name: 'payload', type: types.payload };
  const handler = kind === 'respond' ? `RequestHandler<${types.payload}, ${types.headers}, ${types.parameters}, ${types.reply}>` : `EventHandler<${types.payload}, ${types.headers}, ${types.parameters}>`;
  return { name: 'handler', type: handler };
}

function returnType(kind: RouteKind, types: SignatureTypes): string {
  if (kind === 'send') return 'Promise<Published>';
  if (kind === 'request') return `Promise<RabbitReply<${types.reply}>>`;
  return 'Promise<Subscription>';
}

/** The route object: the operation's spec, where it publishes or consumes, its fixed AMQP properties, its reply. */
function routeLiteral(view: OperationView, operation: OperationModel, target: Destination, addressing: Addressing, messages: Map<string, MessageModel>): Record<string, unknown> {
  const binding = readOperationBinding(operation.bindings, operation.origin);
  const route: Record<string, unknown> = { spec: new Code(`operations.${view.name}Spec`) };
  if (view.isSend) {
    route.destination = target;
    route.properties = { ...publishProperties(binding), ...messageProperties(messagesOf(operation.messageIds, messages)) };
  } else {
    route.source = target;
    route.ack = binding.ack ?? true;
  }
  if (view.reply) route.reply = replyLiteral(view, operation, addressing, messagesOf(operation.reply?.messageIds ?? [], messages));
  return route;
}

function messagesOf(ids: string[], messages: Map<string, MessageModel>): MessageModel[] {
  return ids.map((id) => messages.get(id)).filter((message): message is MessageModel => message !== undefined);
}

interface SignatureTypes {
  payload: string;
  headers: string;
  parameters: string;
  reply: string;
  hasParameters: boolean;
  headersRequired: boolean;
}

function signatureTypes(view: OperationView, messages: MessageModel[], model: ApiModel): SignatureTypes {
  return {
    payload: view.payloadTypeQualified,
    headers: view.headersTypeQualified,
    parameters: view.parametersTypeQualified,
    reply: view.reply?.payloadTypeQualified ?? 'void',
    hasParameters: view.channel.hasParameters,
    headersRequired: view.headersRequired,
  };
}

function routeType(kind: RouteKind, types: SignatureTypes): string {
  const base = `${types.payload}, ${types.headers}, ${types.parameters}`;
  switch (kind) {
    case 'send':
      return `SendRoute<${base}>`;
    case 'request':
      return `RequestRoute<${base}, ${types.reply}>`;
    case 'receive':
      return `ReceiveRoute<${base}>`;
    case 'respond':
      return `RespondRoute<${base}, ${types.reply}>`;
  }
}

/** The options parameter: required when channel parameters or required headers must be given. */
function optionsSignature(kind: RouteKind, types: SignatureTypes): { parameter: Parameter; argument: string } {
  if (kind === 'receive' || kind === 'respond') return { parameter: { name: 'options', type: `SubscribeOptions<${types.parameters}>`, defaultValue: '{}' }, argument: 'options' };
  const extras = [types.hasParameters ? `parameters: ${types.parameters}` : '', types.headersRequired ? `headers: ${types.headers}` : ''].filter(Boolean);
  const base = `${kind === 'request' ? 'RequestOptions' : 'SendOptions'}<${types.headers}>`;
  if (extras.length === 0) return { parameter: { name: 'options', type: base, defaultValue: '{}' }, argument: 'options' };
  return { parameter: { name: 'options', type: `${base} & { ${extras.join('; ')} }` }, argument: 'options' };
}

function publishProperties(binding: ReturnType<typeof readOperationBinding>): Record<string, unknown> {
  const { ack: _ack, ...properties } = binding;
  return properties;
}

/** Message bindings apply when every message of the operation agrees on them. */
function messageProperties(messages: MessageModel[]): Record<string, unknown> {
  const bindings = messages.map((message) => readMessageBinding(message.bindings, message.origin));
  const agreed = (key: 'messageType' | 'contentEncoding') => {
    const values = new Set(bindings.map((binding) => binding[key]));
    return values.size === 1 ? [...values][0] : undefined;
  };
  return { messageType: agreed('messageType'), contentEncoding: agreed('contentEncoding') };
}

function replyLiteral(view: OperationView, operation: OperationModel, addressing: Addressing, replyMessages: MessageModel[]): Record<string, unknown> {
  const reply = view.reply!;
  const channelId = operation.reply?.channelId;
  // A reply channel with an address of its own is where replies go when a request names no reply-to.
  const destination = channelId && reply.channel && reply.channel.addressLiteral !== 'null' && !reply.channel.hasParameters ? addressing.destination(channelId) : undefined;
  // `$message.header#/replyTo`: a responder also reads that header when a request has no reply-to property.
  const replyToHeader = /^\$message\.header#\/(.+)$/.exec(operation.reply?.addressLocation ?? '')?.[1]?.replace(/~1/g, '/').replace(/~0/g, '~');
  return {
    operation: new Code(view.idLiteral),
    eventType: new Code(reply.eventTypeExpression),
    contentType: new Code(reply.contentTypeLiteral),
    validatePayload: new Code(reply.payloadValidatorExpression),
    properties: messageProperties(replyMessages),
    destination,
    replyToHeader,
  };
}

function describeTarget(view: OperationView, target: Destination): string {
  const where =
    target.kind === 'queue'
      ? `queue "${templateText(target.queue.name)}"`
      : `exchange "${target.exchange.name}" (${target.exchange.type}), routing key "${templateText(target.routingKey)}"`;
  const replies = view.reply ? ' The handler returns the typed reply, sent to the request\'s reply-to.' : '';
  if (view.isSend && view.reply) return `Sends a request to ${where} and resolves with the typed reply (direct reply-to).`;
  if (view.isSend) return `Publishes to ${where}; resolves once RabbitMQ confirms the event.`;
  if (target.kind === 'queue') return `Consumes ${where}.${replies}`;
  return `Consumes a queue of its own (\`<serviceName>.<operation>\`) bound to ${where}.${replies}`;
}

function routingTable(views: OperationView[], operations: OperationModel[], addressing: Addressing): string {
  return views
    .map((view, index) => {
      const operation = operations[index]!;
      const target = addressing.destination(operation.channelId);
      const where = target.kind === 'queue' ? `queue ${templateText(target.queue.name)}` : `${target.exchange.name} (${target.exchange.type}) ${templateText(target.routingKey)}`;
      return `${view.methodName}: ${where}`;
    })
    .join('\n');
}

function templateText(template: Template): string {
  return template.map((part) => (typeof part === 'string' ? part : `{${part.parameter}}`)).join('');
}
