// Exchanges, queues and routing keys: the AMQP shape of the document, where each operation publishes or
// consumes in it, and how it is declared.
import type { Channel, ChannelModel } from 'amqplib';
import { segment } from '../operation.js';
import { formatAddress, type AddressTemplate } from './message.js';

export type ExchangeType = 'topic' | 'direct' | 'fanout' | 'headers';

export interface ExchangeSpec {
  /** As in the document; '' is the default exchange. */
  name: string;
  type: ExchangeType;
  durable: boolean;
  autoDelete: boolean;
}

/**
 * A queue's `x-queue-type`: `quorum` is replicated over the cluster's nodes (Raft) and survives a node's
 * loss; `classic` lives on one node. Stream queues are not offered: they keep events instead of
 * removing acknowledged ones, and take neither requeues nor dead-lettering, which the consumer relies on.
 */
export type QueueType = 'classic' | 'quorum';

export interface QueueSpec {
  /** The queue name, which may hold channel parameters (`is: queue` channels). */
  name: AddressTemplate;
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  /** The channel binding's `x-queue-type`; undefined: the virtual host's default type. */
  type?: QueueType;
}

/** Where a send operation publishes. */
export type SendDestination =
  /**
   * `is: routingKey`: to an exchange, with the channel address as routing key; `queueType` is the channel
   * binding's `x-queue-type`, the type of the queues consumers bind to it.
   */
  | { kind: 'exchange'; exchange: ExchangeSpec; routingKey: AddressTemplate; queueType?: QueueType }
  /** `is: queue`: straight to a queue, through the default exchange. */
  | { kind: 'queue'; queue: QueueSpec };

/**
 * Where a receive operation consumes: the channel's queue itself (`is: queue`), or a queue of its own
 * (`<serviceName>.<operation>`) bound to the exchange with the routing key (`is: routingKey`).
 */
export type ReceiveSource = SendDestination;

/** The document's AMQP shape, generated. */
export interface DocumentTopology {
  serviceName: string;
  defaultUrls: readonly string[];
  /** Every exchange the document's operations use. */
  exchanges: readonly ExchangeSpec[];
  /** Queues of `is: queue` channels with fixed names. */
  queues: readonly QueueSpec[];
}

/** Where one publish goes. */
export interface Target {
  exchange: string;
  routingKey: string;
}

/** Exchange and queue names as the client uses them: the document's names behind an optional prefix. */
export class Naming {
  constructor(private readonly prefix: string) {}

  /** The default exchange ('') and the broker's own `amq.*` names are never prefixed. */
  of(name: string): string {
    return name === '' || name.startsWith('amq.') ? name : this.prefix + name;
  }
}

/** The exchange and routing key of a publish to `destination`, its parameters (already checked) filled in. */
export function targetOf(naming: Naming, destination: SendDestination, parameters: unknown): Target {
  if (destination.kind === 'queue')
    return { exchange: '', routingKey: naming.of(formatAddress(destination.queue.name, parameters)) };
  return {
    exchange: naming.of(destination.exchange.name),
    routingKey: formatAddress(destination.routingKey, parameters),
  };
}

/**
 * The binding key a consumer binds its queue with: parameters given by the consumer are filled in,
 * the others become `*` (topic exchanges). Fanout and headers exchanges ignore the key.
 */
export function bindingKey(
  type: ExchangeType,
  template: AddressTemplate,
  parameters: Record<string, unknown> | undefined,
): string {
  if (type === 'fanout' || type === 'headers') return '';
  let key = '';
  for (const part of template) {
    if (typeof part === 'string') key += part;
    else if (parameters?.[part.parameter] !== undefined) key += segment(parameters[part.parameter], part.parameter);
    else if (type === 'topic') key += '*';
    else
      throw new TypeError(
        `a ${type} exchange cannot match any value of parameter "${part.parameter}": give it in the consumer's \`parameters\``,
      );
  }
  return key;
}

/** Declares an exchange unless it is the default one or a broker's predeclared `amq.*` exchange. */
export async function declareExchange(channel: Channel, spec: ExchangeSpec, name: string): Promise<void> {
  if (name === '' || name.startsWith('amq.')) return;
  await channel.assertExchange(name, spec.type, { durable: spec.durable, autoDelete: spec.autoDelete });
}

export async function declareQueue(channel: Channel, spec: Omit<QueueSpec, 'name'>, name: string): Promise<string> {
  const reply = await channel.assertQueue(name, {
    durable: spec.durable,
    exclusive: spec.exclusive,
    autoDelete: spec.autoDelete,
    ...(spec.type === undefined ? {} : { arguments: { 'x-queue-type': spec.type } }),
  });
  return reply.queue;
}

/**
 * The type a queue is declared with: the client's `queueType` option, else the document's. A quorum queue
 * must be durable, not exclusive and not auto-deleted (RabbitMQ refuses it otherwise, with a channel
 * error on the first declaration): a queue that is not is refused here, before anything connects.
 */
export function queueTypeOf(
  spec: Omit<QueueSpec, 'name'>,
  option: QueueType | undefined,
  name: string,
): QueueType | undefined {
  const type = option ?? spec.type;
  if (type === 'quorum' && (!spec.durable || spec.exclusive || spec.autoDelete)) {
    const flags = [!spec.durable && 'not durable', spec.exclusive && 'exclusive', spec.autoDelete && 'auto-deleted'];
    throw new TypeError(
      `rabbitmq client: queue ${name} cannot be a quorum queue: the document makes it ${flags.filter(Boolean).join(', ')} (a quorum queue is durable, not exclusive, not auto-deleted)${option ? '; leave out the `queueType` option or change the queue binding' : ''}`,
    );
  }
  return type;
}

/** Where dead letters of one consumer go: an exchange shared by the client, a queue per consuming queue. */
export interface DeadLetterRoute {
  exchange: string;
  queue: string;
  /** The consuming queue's name, which routes its dead letters to its own dead-letter queue. */
  routingKey: string;
  /** The consuming queue's type: dead letters are kept as safely as the events they were. */
  queueType: QueueType | undefined;
}

export async function declareDeadLetterRoute(channel: Channel, route: DeadLetterRoute): Promise<void> {
  await channel.assertExchange(route.exchange, 'direct', { durable: true, autoDelete: false });
  const queue = { durable: true, exclusive: false, autoDelete: false, type: route.queueType };
  await declareQueue(channel, queue, route.queue);
  await channel.bindQueue(route.queue, route.exchange, route.routingKey);
}

/** The document's `is: queue` queues with fixed names, each with the type it is declared with (checked). */
export function fixedQueues(
  document: DocumentTopology,
  naming: Naming,
  queueType: QueueType | undefined,
): Array<Omit<QueueSpec, 'name'> & { name: string }> {
  return document.queues.map((queue) => {
    const name = naming.of(formatAddress(queue.name, {}));
    return { ...queue, name, type: queueTypeOf(queue, queueType, name) };
  });
}

/** Declares the document's exchanges and `is: queue` queues, on a channel of its own. Idempotent. */
export async function declareDocument(
  connection: ChannelModel,
  document: DocumentTopology,
  naming: Naming,
  queueType: QueueType | undefined,
): Promise<void> {
  const channel = await connection.createChannel();
  // A failed declaration closes the channel with an 'error' event; the failure itself rejects below.
  channel.on('error', () => undefined);
  try {
    for (const exchange of document.exchanges) await declareExchange(channel, exchange, naming.of(exchange.name));
    for (const queue of fixedQueues(document, naming, queueType)) await declareQueue(channel, queue, queue.name);
  } finally {
    await channel.close().catch(() => undefined);
  }
}
